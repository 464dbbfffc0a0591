'use strict';
// Seeded webhook fuzzing at every provider's endpoint: mutations of real payloads (truncated
// JSON, deep nesting, huge strings, wrong types, unicode, prototype keys, repeated query keys,
// bodies that used to be slow to parse) and plain garbage. Twice: in node-red-node-test-helper
// (raw bodies, this process: crash listeners and prototypes checked directly) and in a real
// Node-RED process under default settings (admin root "/": Node-RED parses bodies first).
// Fixed seed and count; a failure names the seed and request so it can be replayed.
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper, load, webhookApp, collect } = require('../helpers/red');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { Collector } = require('../helpers/collector');
const { createRandom, hostileRequest, sendHostile, prototypeSnapshot, SEEDS } = require('../helpers/fuzz');
const { LABELS, PROVIDER_IDS, distinctiveSecrets, providerFlows } = require('../helpers/hardening');

const SEED = 20260301;
const PER_PROVIDER = 250;
const ALLOWED = new Set([200, 400, 401, 413]);
const EVENT_NAMES = ['ringing', 'answered', 'hangup', 'recording'];
const secrets = distinctiveSecrets('FUZZ');
const pathOf = (provider) => `/pbx/hd-${LABELS[provider]}`;

/** The fixed request list of one provider: same seed, same requests, every run. */
function corpus(provider) {
  const rand = createRandom(SEED + PROVIDER_IDS.indexOf(provider));
  return Array.from({ length: PER_PROVIDER }, (_, n) => hostileRequest(rand, provider, n));
}

/**
 * Sends the corpus with 8 requests in flight; returns a list of problems (empty when all is well).
 * `strict`: each request gets exactly the status it deserves. Under Node-RED's default settings
 * Node-RED parses JSON and form bodies before the endpoint sees them and answers malformed ones
 * itself (400, see README), so there only the set of statuses is checked, and that a request
 * without the right secret or past the limit is never accepted.
 */
async function fuzz(baseUrl, provider, strict) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const requests = corpus(provider);
  const problems = [];
  const labels = {};
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const n = next++;
      const req = requests[n];
      const status = await sendHostile(baseUrl, pathOf(provider), secrets[provider].webhookSecret, req, agent);
      labels[req.label] = (labels[req.label] ?? 0) + 1;
      const accepted = status === 200 && !req.expect.includes(200);
      if (!ALLOWED.has(status) || accepted || (strict && !req.expect.includes(status))) {
        problems.push(
          `seed ${SEED} ${provider} #${n} (${req.label}, ${req.method}, ${req.contentType}): HTTP ${status}, expected ${req.expect}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  agent.destroy();
  return { problems, labels };
}

/** A valid event no fuzz request could have sent before (the endpoint still works), and its call id. */
function freshEvent(provider) {
  const callId = provider === '3cx-webapi' ? `260301120000_${Date.now() % 100000}` : `after-fuzz-${Date.now()}`;
  const seed = SEEDS[provider][0](callId);
  const req =
    seed.kind === 'json'
      ? { method: 'POST', secret: 'path', query: '', contentType: 'application/json', body: Buffer.from(JSON.stringify(seed.fields)) }
      : { method: 'GET', secret: 'path', query: new URLSearchParams(seed.fields).toString() };
  return { req, callId };
}

/** What every emitted event must look like, however hostile its webhook was. */
function assertWellFormed(provider, msg) {
  const e = msg.payload;
  assert.equal(msg.topic, e.event);
  assert.ok(EVENT_NAMES.includes(e.event), e.event);
  assert.equal(e.provider, provider);
  assert.equal(typeof e.callId, 'string');
  assert.ok(e.callId.length > 0);
  assert.ok(['inbound', 'outbound', 'internal', 'unknown'].includes(e.direction));
  assert.ok(!Number.isNaN(Date.parse(e.timestamp)));
  for (const k of ['legId', 'extension', 'from', 'to', 'did', 'hangupCause', 'providerEvent']) {
    if (e[k] !== undefined) assert.equal(typeof e[k], 'string', `${k} of ${JSON.stringify(e).slice(0, 300)}`);
  }
  if (e.durationSeconds !== undefined) assert.ok(Number.isFinite(e.durationSeconds));
  if (e.recordingUrls !== undefined) assert.ok(e.recordingUrls.every((u) => typeof u === 'string' && u.length > 0));
  if (e.recordingUrls !== undefined && provider === '3cx-webapi') assert.ok(e.recordingUrls.every((u) => /^https?:\/\/\S+$/.test(u)));
  if (e.call) assert.equal(e.call.callId, e.callId);
}

describe('hardening: webhook fuzzing in node-red-node-test-helper (raw bodies)', function () {
  this.timeout(60000);
  const crashes = [];
  const onRejection = (err) => crashes.push(`unhandledRejection: ${err?.stack ?? err}`);
  const onException = (err) => crashes.push(`uncaughtException: ${err?.stack ?? err}`);
  const emitted = Object.fromEntries(PROVIDER_IDS.map((p) => [p, []]));
  let before0;
  let server;
  let baseUrl;

  before(async () => {
    before0 = prototypeSnapshot();
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    const nodes = [];
    const credentials = {};
    for (const provider of PROVIDER_IDS) {
      const l = LABELS[provider];
      const { webhookSecret, ...creds } = secrets[provider];
      nodes.push(
        { id: `cfg-${l}`, type: 'pbx-config', provider, baseUrl: 'http://127.0.0.1:9', webhookPath: pathOf(provider), timeout: 500 },
        { id: `ev-${l}`, type: 'pbx-event', pbx: `cfg-${l}`, events: [], direction: 'any', outputs: 1, wires: [[`out-${l}`]] },
        { id: `out-${l}`, type: 'helper' },
      );
      credentials[`cfg-${l}`] = { ...creds, webhookSecret };
    }
    await load(nodes, credentials);
    for (const provider of PROVIDER_IDS) helper.getNode(`out-${LABELS[provider]}`).on('input', (msg) => emitted[provider].push(msg));
    const app = webhookApp();
    server = http.createServer((req, res) => app(req, res));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${server.address().port}`;
  });

  after(async () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    await helper.unload();
    await new Promise((r) => server.close(r));
  });

  for (const provider of PROVIDER_IDS) {
    it(`${provider}: ${PER_PROVIDER} seeded hostile requests, every reply 200/400/401/413`, async () => {
      const { problems, labels } = await fuzz(baseUrl, provider, true);
      assert.deepEqual(problems, []);
      assert.ok(Object.keys(labels).length >= 12, `the corpus covers the mutations: ${JSON.stringify(labels)}`);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(emitted[provider].length > 10, 'valid and mutated-but-valid deliveries became events');
      for (const msg of emitted[provider]) assertWellFormed(provider, msg);
    });
  }

  it('raised no unhandled rejection or uncaught exception', () => {
    assert.deepEqual(crashes, []);
  });

  it('polluted no prototype', () => {
    assert.equal({}.polluted, undefined);
    assert.equal([].polluted, undefined);
    assert.equal(Object.prototype.constructor, Object);
    assert.deepEqual(prototypeSnapshot(), before0);
  });

  for (const provider of PROVIDER_IDS) {
    it(`${provider}: the endpoint still delivers a valid event afterwards`, async () => {
      const got = collect(`out-${LABELS[provider]}`, 1);
      const { req, callId } = freshEvent(provider);
      assert.equal(await sendHostile(baseUrl, pathOf(provider), secrets[provider].webhookSecret, req), 200);
      const [msg] = await got;
      assertWellFormed(provider, msg);
      assert.equal(msg.payload.callId, callId);
    });
  }
});

describe('hardening: webhook fuzzing in a real Node-RED process (default settings)', function () {
  this.timeout(120000);
  let nr;
  let collector;
  let probeBefore;
  const probe = async () => (await fetch(`${nr.url}/h/probe`)).json();

  before(async () => {
    collector = await new Collector().start();
    nr = await new NodeRedProcess({ adminRoot: '/' }).start();
    await nr.deploy(providerFlows({ collector: collector.url, simUrl: 'http://127.0.0.1:9', secrets }));
    probeBefore = await probe();
  });

  after(async () => {
    await nr?.stop();
    nr?.cleanup();
    await collector?.close();
  });

  for (const provider of PROVIDER_IDS) {
    it(`${provider}: the same ${PER_PROVIDER} requests, every reply 200/400/401/413, Node-RED still up`, async () => {
      const { problems } = await fuzz(nr.url, provider, false);
      assert.deepEqual(problems, []);
      assert.equal(nr.child.exitCode, null, 'the process is alive');
      assert.equal((await fetch(`${nr.url}/settings`)).status, 200);
    });
  }

  it('logged no crash, uncaught exception or unhandled rejection', () => {
    const bad = nr.logs.filter((l) => /uncaught|unhandled|exception|RangeError|TypeError/i.test(l));
    assert.deepEqual(bad, []);
  });

  it("polluted no prototype of Node-RED's realm", async () => {
    const after = await probe();
    assert.equal(after.polluted, null);
    assert.ok(after.objectNames.includes('hasOwnProperty'), 'the probe sees the real Object.prototype');
    assert.deepEqual(after.objectNames, probeBefore.objectNames);
  });

  for (const provider of PROVIDER_IDS) {
    it(`${provider}: the endpoint still delivers a valid event afterwards, and every event was well formed`, async () => {
      const { req, callId } = freshEvent(provider);
      assert.equal(await sendHostile(nr.url, pathOf(provider), secrets[provider].webhookSecret, req), 200);
      await collector.waitFor(`/events/${LABELS[provider]}`, 1, { filter: (m) => m.payload.callId === callId });
      const all = collector.on(`/events/${LABELS[provider]}`);
      assert.ok(all.length > 10, 'fuzzed deliveries became events too');
      for (const msg of all) assertWellFormed(provider, msg);
    });
  }
});
