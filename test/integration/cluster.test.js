'use strict';
// Cluster mode (SPEC section 8) with real parts: a redis-server of the test's own, two Node-RED
// processes with the same flows behind the round-robin proxy, and the simulator sending every
// documented scenario of every provider through the proxy, so the legs of each call land on
// alternating instances. Each delivery is then replayed straight to both instances. Each event must
// be emitted exactly once in total, and every summary must equal what a single instance (the same
// normalizer and call tracker, in this process) makes of the same deliveries.
const assert = require('node:assert/strict');
const { startRedis } = require('../helpers/redis-server');
const { startReplicas } = require('../helpers/replicas');
const { fn, post, wrapOutput, actionEndpoint, laidOut } = require('../helpers/flows');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');
const { PROVIDERS } = require('../../dist/providers');
const { CallTracker } = require('../../dist/core/call-tracker');
const { parseWebhookBody, parseForm } = require('../../dist/core/webhook-router');
const { createClient } = require('@redis/client');

const SECRET = 'cluster-webhook-secret-9f1c2b7d';
const PROVIDER_IDS = ['3cx-webapi', 'voipnow', 'cloud-callcenter'];
const BASE_PATH = { '3cx-webapi': '/webapi', voipnow: '/voipnow', 'cloud-callcenter': '/callcenter' };
/** Node-RED substitutes `${VAR}` only as a whole value: one variable per base URL. */
const baseUrlVariable = (provider) => `PBX_SIM_${provider.replace(/[^a-z]/g, '_').toUpperCase()}`;
const pathOf = (provider) => `/pbx/cluster-${provider}`;
const settle = (ms = 400) => new Promise((r) => setTimeout(r, ms));

/** One config per provider (cluster mode from the environment), its events posted to the collector; a call and a watch node. */
function clusterFlows({ collectorUrl }) {
  const z = 'tab-cluster';
  const nodes = [{ id: z, type: 'tab', label: 'cluster' }];
  for (const provider of PROVIDER_IDS) {
    const cfg = `cfg-${provider}`;
    nodes.push(
      {
        id: cfg,
        type: 'pbx-config',
        name: `cluster ${provider}`,
        provider,
        baseUrl: `\${${baseUrlVariable(provider)}}`,
        webhookPath: pathOf(provider),
        timeout: 3000,
        rejectUnauthorized: true,
        allowFrom: '',
        redisUrl: '${PBX_REDIS_URL}',
        keyPrefix: 'it:',
        redisDown: provider === 'cloud-callcenter' ? 'reject' : 'local',
        credentials: { ...DEFAULT_CREDENTIALS[provider], webhookSecret: SECRET },
      },
      {
        id: `ev-${provider}`,
        type: 'pbx-event',
        z,
        pbx: cfg,
        events: [],
        extension: '',
        direction: 'any',
        outputs: 1,
        wires: [[`ev-wrap-${provider}`]],
      },
      fn(`ev-wrap-${provider}`, wrapOutput, [`ev-post-${provider}`], z),
      post(`ev-post-${provider}`, `${collectorUrl}/events`, z),
      ...actionEndpoint({
        name: provider,
        url: `/it/${provider}/status`,
        action: { id: `act-${provider}`, type: 'pbx-status', pbx: cfg, query: '' },
        z,
      }),
    );
  }
  nodes.push(
    { id: 'st', type: 'status', z, scope: PROVIDER_IDS.flatMap((p) => [`ev-${p}`, `act-${p}`]), wires: [['st-wrap']] },
    fn('st-wrap', wrapOutput, ['st-post'], z),
    post('st-post', `${collectorUrl}/status`, z),
  );
  return laidOut(nodes);
}

/** The WebhookInput a delivery the simulator sent makes, for the single-instance pipeline. */
function inputOf(delivery) {
  const url = new URL(delivery.url);
  const rawQuery = url.search.slice(1);
  let body;
  if (delivery.body !== undefined) {
    const type = delivery.body.trimStart().startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded';
    const parsed = parseWebhookBody(delivery.body, type);
    assert.ok(parsed.ok, delivery.body);
    body = parsed.body;
  }
  return { method: delivery.method, query: parseForm(rawQuery), rawQuery, body, receivedAt: new Date(delivery.at) };
}

/** What a single instance emits for `deliveries`: each one normalized and tracked, duplicates dropped. */
function singleInstance(provider, deliveries) {
  const tracker = new CallTracker();
  const seen = new Set();
  const out = [];
  for (const d of deliveries) {
    const key = `${d.method} ${d.url} ${d.body}`;
    if (seen.has(key)) continue;
    seen.add(key);
    for (const event of PROVIDERS[provider].normalizeWebhook(inputOf(d))) out.push(tracker.apply(event));
  }
  return out;
}

/** An event as compared: what does not depend on arrival times. */
function comparable(e) {
  const call = e.call && {
    outcome: e.call.outcome,
    durationSeconds: e.call.durationSeconds,
    hangupCause: e.call.hangupCause,
    transfers: e.call.transfers,
    answeredBy: e.call.answeredBy,
    answered: e.call.answeredAt !== undefined,
    route: e.call.route.map((h) => `${h.event}:${h.extension ?? ''}:${h.extensionType ?? ''}`),
  };
  return JSON.stringify({
    event: e.event,
    providerEvent: e.providerEvent,
    callId: e.callId,
    legId: e.legId,
    direction: e.direction,
    extension: e.extension,
    from: e.from,
    to: e.to,
    outcome: e.outcome,
    durationSeconds: e.durationSeconds,
    transfer: e.transfer,
    recordingUrls: e.recordingUrls,
    call,
  });
}

describe('integration: cluster mode, two Node-RED instances sharing one Redis', function () {
  this.timeout(240000);
  let redis;
  let sim;
  let replicas;
  /** A client of the test's own, to look at what the instances stored. */
  let raw;

  before(async function () {
    this.timeout(20 * 60 * 1000); // a first run may install redis-server with apt-get
    redis = await startRedis();
    sim = await startSimulator({ stepMs: 20, talkMs: 100 });
    raw = createClient({ url: redis.url });
    raw.on('error', () => undefined);
    await raw.connect();
    replicas = await startReplicas({
      count: 2,
      env: { ...Object.fromEntries(PROVIDER_IDS.map((p) => [baseUrlVariable(p), `${sim.url}${BASE_PATH[p]}`])), PBX_REDIS_URL: redis.url },
      flows: clusterFlows,
    });
    for (const provider of PROVIDER_IDS) sim.setWebhook(provider, replicas.webhookUrl(`${pathOf(provider)}/${SECRET}`), 'post');
  });

  afterEach(function () {
    if (this.currentTest.state === 'failed' && process.env.CLUSTER_LOGS) {
      for (const inst of replicas.instances)
        console.log(
          inst.logs
            .filter((l) => /warn|error/i.test(l))
            .slice(-30)
            .join('\n'),
        );
    }
  });

  after(async () => {
    await replicas?.stop();
    await sim?.close();
    await raw?.quit().catch(() => undefined);
    await redis?.stop();
  });

  for (const provider of PROVIDER_IDS) {
    it(`${provider}: every scenario with legs on alternating instances, replayed to both: each event once, summaries as one instance makes them`, async () => {
      const p = sim.provider(provider);
      const first = p.sender.deliveries.length;
      const before = replicas.collected('/events').length;
      // queue-waiting is a live call whose later webhooks would outlast the loop.
      for (const name of p.scenarios().filter((n) => n !== 'queue-waiting')) {
        await p.play(name, {});
        await p.sender.idle();
      }
      const sent = p.sender.deliveries.slice(first);
      assert.ok(sent.length >= 10, `${provider}: ${sent.length} deliveries`);
      assert.ok(
        sent.every((d) => d.status === 200),
        'every delivery accepted',
      );
      const expected = singleInstance(provider, sent);
      // Each delivery again, straight to each instance: all duplicates now.
      for (const d of sent) {
        for (const i of [0, 1]) {
          const res = await fetch(replicas.directUrl(i, new URL(d.url).pathname + new URL(d.url).search), {
            method: d.method,
            headers:
              d.body === undefined
                ? {}
                : { 'Content-Type': d.body.trimStart().startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded' },
            body: d.body,
          });
          assert.equal(res.status, 200);
        }
      }
      await replicas.waitFor('/events', before + expected.length);
      await settle(1000);
      const emitted = replicas.collected('/events').slice(before);
      const got = emitted.map((m) => comparable(m.body.payload)).sort();
      assert.deepEqual(got, expected.map(comparable).sort());
      const instances = new Set(emitted.map((m) => m.instance));
      assert.deepEqual([...instances].sort(), [0, 1], 'both instances emitted some of them');
    });
  }

  it('voipnow: 20 concurrent actions on two instances need one token request for the cluster', async () => {
    const tokenRequests = () => sim.received('voipnow', 'token').length;
    const before = tokenRequests();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(replicas.webhookUrl('/it/voipnow/status'), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ query: 'extensions', params: {} }),
        }).then((r) => r.status),
      ),
    );
    assert.deepEqual(answers, Array(20).fill(200));
    assert.equal(tokenRequests() - before <= 1, true, `token requests: ${tokenRequests() - before}`);
    const stored = await raw.keys('it:cfg-voipnow:token*');
    assert.equal(stored.length, 1);
    const value = await raw.get(stored[0]);
    assert.doesNotMatch(String(value), /demo-voipnow|access_token|Bearer/);
  });

  it('every key has a TTL', async () => {
    const keys = await raw.keys('it:*');
    assert.ok(keys.length > 10, `${keys.length} keys`);
    for (const key of keys) {
      const ttl = await raw.pTTL(key);
      assert.ok(ttl > 0, `${key}: PTTL ${ttl}`);
    }
  });

  it('redisDown reject: while Redis is paused, the call center webhook answers 503 and nothing is emitted; local (3CX) answers 200 and emits', async () => {
    const own = (b) => b.status && b.status.fill !== 'yellow';
    let ownBefore = 0;
    redis.pause();
    try {
      // Let each instance find out (every command has its deadline).
      await fetch(replicas.directUrl(0, `${pathOf('cloud-callcenter')}/${SECRET}`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"status":"ring","uuid":"probe-0"}',
      });
      await fetch(replicas.directUrl(1, `${pathOf('cloud-callcenter')}/${SECRET}`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"status":"ring","uuid":"probe-1"}',
      });
      await settle(1500);
      const before = replicas.collected('/events').length;
      const cc = await fetch(replicas.directUrl(0, `${pathOf('cloud-callcenter')}/${SECRET}`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          status: 'ring',
          uuid: 'rejected-while-down',
          direction: 'callin',
          extnumber: '8001',
          caller: '13800000000',
        }),
      });
      assert.equal(cc.status, 503);
      const threeCx = await fetch(replicas.directUrl(0, `${pathOf('3cx-webapi')}/${SECRET}`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ Event: 'ringing', Id: '261129120000_7-1', User: '202', Usertype: 'ext', Callerid: '0555' }),
      });
      assert.equal(threeCx.status, 200);
      const [local] = await replicas.waitFor('/events', 1, { filter: (b) => b.raw && b.raw.Id === '261129120000_7-1' });
      assert.equal(local.instance, 0);
      const down = await replicas.waitFor('/status', 1, { filter: (b) => b.status && b.status.text === 'redis down' });
      assert.equal(down[0].body.status.fill, 'yellow');
      assert.equal(replicas.collected('/events', (b) => b.raw && b.raw.uuid === 'rejected-while-down').length, 0);
      assert.ok(replicas.collected('/events').length >= before + 1);
      const said = replicas.instances[0].logs.filter((l) => /Redis down/.test(l));
      assert.ok(
        said.some((l) => /cluster cloud-callcenter.*webhooks are answered 503/.test(l)),
        said.join('\n'),
      );
      assert.ok(
        said.some((l) => /cluster 3cx-webapi.*handled with this instance's own state/.test(l)),
        said.join('\n'),
      );
    } finally {
      ownBefore = replicas.collected('/status', own).length;
      redis.resume();
    }
    // Back to their own status once Redis answers again.
    await replicas.waitFor('/status', ownBefore + 1, { filter: own });
  });
});
