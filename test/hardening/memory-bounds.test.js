'use strict';
// Memory bounds through a real Node-RED process with a small heap. Distinct ~60 KiB webhooks used
// to stay in the duplicate filter whole (its key was method + query + body text, capped only by
// count: 20,000 × 60 KiB = 1.2 GB), so a few thousand of them killed Node-RED with "JavaScript heap
// out of memory"; and one call with hundreds of 20 KB legs kept every hop with its 20 KB extension
// and copied that route into every hangup. Node-RED must survive both, keep each summary within
// its limits and still emit a normal webhook at the end. Time bounds are hang guards only.
const assert = require('node:assert/strict');
const http = require('node:http');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { Collector } = require('../helpers/collector');
const { fn, post, wrapOutput } = require('../helpers/flows');
const { EVENT_LIMITS } = require('../../dist/core/event-limits');
const { MAX_ROUTE_HOPS, MAX_LEGS_PER_CALL } = require('../../dist/core/call-tracker');

const SECRET = 'memory-bounds-secret-4e1d';
const HEAP_MB = 128;
const DISTINCT = 3000;
const CONNECTIONS = 4;
const LEGS = 300;
const KB20 = 20 * 1024;
const FINAL_CALL = '260301999999_1';

/** Events of the last leg of the big call and of the final call go to the collector; the rest is dropped. */
const keep = `const p = msg.payload; return p.callId === '${FINAL_CALL}' || (p.event === 'hangup' && p.legId === '260301000001_1-${LEGS - 1}') ? msg : null;`;

function flows(collector) {
  const z = 'tab-mem';
  return [
    { id: z, type: 'tab', label: 'memory' },
    {
      id: 'cfg',
      type: 'pbx-config',
      provider: '3cx-webapi',
      baseUrl: 'http://127.0.0.1:9/webapi',
      webhookPath: '/pbx/mem',
      timeout: 1000,
      rejectUnauthorized: true,
      allowFrom: '',
      credentials: { accessKey: 'memory-bounds-access-key', webhookSecret: SECRET },
    },
    {
      id: 'ev',
      type: 'pbx-event',
      z,
      pbx: 'cfg',
      events: [],
      extension: '',
      direction: 'any',
      outputs: 1,
      wires: [['keep']],
      x: 100,
      y: 40,
    },
    { ...fn('keep', keep, ['wrap'], z), x: 300, y: 40 },
    { ...fn('wrap', wrapOutput, ['post'], z), x: 500, y: 40 },
    { ...post('post', `${collector}/events`, z), x: 700, y: 40 },
  ];
}

/**
 * POSTs `count` JSON webhooks (`body(i)`) over `connections` keep-alive connections; resolves with
 * how many were answered 200, stopping at the first failure (a dead Node-RED refuses connections).
 */
async function sendAll(nr, count, body, connections = CONNECTIONS) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let next = 0;
  let ok = 0;
  let failure;
  const one = (i) =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify(body(i));
      const req = http.request(
        `${nr.url}/pbx/mem`,
        {
          method: 'POST',
          agent,
          headers: { 'Content-Type': 'application/json', 'X-Webhook-Secret': SECRET, 'Content-Length': Buffer.byteLength(data) },
        },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`webhook ${i} answered ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  const worker = async () => {
    while (!failure && next < count) {
      const i = next++;
      try {
        await one(i);
        ok++;
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  agent.destroy();
  return { ok, failure };
}

describe(`hardening: memory bounds in a real Node-RED with a ${HEAP_MB} MB heap`, function () {
  this.timeout(120000);
  let nr;
  let collector;

  before(async () => {
    collector = await new Collector().start();
    nr = new NodeRedProcess({ nodeArgs: [`--max-old-space-size=${HEAP_MB}`] });
    await nr.start();
    await nr.deploy(flows(collector.url));
  });

  after(async () => {
    await nr?.stop();
    nr?.cleanup();
    await collector?.close();
  });

  /** Whether Node-RED is still running, and its last error lines. */
  async function report(sent) {
    await Promise.race([nr.exited, new Promise((r) => setTimeout(r, 3000))]);
    const state =
      nr.child.exitCode === null && nr.child.signalCode === null ? 'still runs' : `exited (${nr.child.exitCode ?? nr.child.signalCode})`;
    const errors = nr.logs.filter((l) => /heap|memory|FATAL|Error/i.test(l)).slice(-4);
    return `Node-RED ${state} after ${sent} webhooks answered 200:\n${errors.join('\n')}`;
  }

  it(`one call with ${LEGS} legs of 20 KB fields: the final hangup's summary stays within the limits`, async () => {
    const big = (tag, n) => `${tag}${n}-${'z'.repeat(KB20)}`;
    const legs = await sendAll(
      nr,
      2 * LEGS,
      (i) => {
        const n = Math.floor(i / 2);
        const common = { Id: `260301000001_1-${n}`, User: big('ext', n), Callerid: big('caller', n), Did: big('did', n) };
        if (i % 2 === 0) return { Event: 'ringing', Usertype: 'ext', ...common };
        return { Event: 'incoming', Finishtype: 'Ok', Duration: '00:02', Transfer: n < LEGS - 1 ? 'True' : 'False', ...common };
      },
      1,
    );
    if (legs.failure) assert.fail(`${legs.failure.message}; ${await report(legs.ok)}`);
    const [hangup] = await collector.waitFor('/events', 1, { timeoutMs: 30000 });
    const call = hangup.payload.call;
    assert.equal(call.route.length, MAX_ROUTE_HOPS);
    assert.ok(call.route.every((h) => h.extension.length <= EVENT_LIMITS.textLength));
    assert.equal(call.route[0].extension, `${big('ext', 0).slice(0, EVENT_LIMITS.textLength - 1)}…`, 'the first hop is kept');
    assert.equal(call.route.at(-1).extension, `${big('ext', LEGS - 1).slice(0, EVENT_LIMITS.textLength - 1)}…`, 'and the newest');
    assert.ok(hangup.payload.from.length <= EVENT_LIMITS.textLength && hangup.payload.did.length <= EVENT_LIMITS.textLength);
    assert.ok(LEGS > MAX_LEGS_PER_CALL);
    assert.equal(call.durationSeconds, 2 * MAX_LEGS_PER_CALL, 'the talk time of the legs counted');
    assert.equal(call.outcome, 'answered');
    collector.clear();
  });

  it(`${DISTINCT.toLocaleString('en-US')} distinct ~60 KiB webhooks leave it alive, and the next webhook is still emitted`, async () => {
    const note = 'n'.repeat(60 * 1024);
    const sent = await sendAll(nr, DISTINCT, (i) => ({
      Event: 'ringing',
      Id: `2603010${String(i).padStart(5, '0')}_1-0`,
      User: '202',
      Usertype: 'ext',
      Note: `${i}${note}`,
    }));
    if (sent.failure) assert.fail(`${sent.failure.message}; ${await report(sent.ok)}`);
    assert.equal(sent.ok, DISTINCT);
    const final = await sendAll(nr, 1, () => ({ Event: 'ringing', Id: `${FINAL_CALL}-0`, User: '117', Usertype: 'ext' }));
    if (final.failure) assert.fail(`${final.failure.message}; ${await report(DISTINCT)}`);
    const [event] = await collector.waitFor('/events', 1, { timeoutMs: 30000, filter: (m) => m.payload.callId === FINAL_CALL });
    assert.equal(event.payload.extension, '117');
    assert.equal(event.topic, 'ringing');
    assert.equal(nr.child.exitCode, null);
  });
});
