'use strict';
// pbx-missed and pbx-stats in cluster mode (SPEC sections 8, 9 and 10) with real parts: a redis-server of the test's
// own, two Node-RED processes with the same flows behind the round-robin proxy, the 3CX simulator
// sending its webhooks through the proxy (so the calls land on alternating instances). Every
// missed call and every resolution comes out exactly once across the instances, and `list` and
// `resolve` answer the same from either instance; the queue statistics are the same on both.
const assert = require('node:assert/strict');
const { startCluster } = require('../helpers/replicas');
const { fn, post, wrapOutput, laidOut } = require('../helpers/flows');
const { DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const SECRET = 'missed-cluster-secret-5b1e0c9a';
const PATH = '/pbx/missed-cluster';
const KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;
const CALLER = '+44 20 7946 0018';
const OTHER = '+1 212 555 0100';
const settle = (ms = 600) => new Promise((r) => setTimeout(r, ms));

/** Input over HTTP: `{ topic, payload }` → pbx-missed; its two outputs posted to /missed and /resolved. */
const unpackInput = 'msg.topic = msg.payload.topic; msg.payload = msg.payload.payload; return msg;';

function missedFlows({ collectorUrl }) {
  const z = 'tab-missed';
  const nodes = [
    { id: z, type: 'tab', label: 'missed' },
    {
      id: 'cfg',
      type: 'pbx-config',
      name: 'cluster 3cx',
      provider: '3cx-webapi',
      baseUrl: '${PBX_SIM_3CX}',
      webhookPath: PATH,
      timeout: 3000,
      rejectUnauthorized: true,
      allowFrom: '',
      redisUrl: '${PBX_REDIS_URL}',
      keyPrefix: 'missed-it:',
      redisDown: 'local',
      credentials: { accessKey: KEY, webhookSecret: SECRET },
    },
    { id: 'pm', type: 'pbx-missed', z, pbx: 'cfg', keepDays: 7, wires: [['wrap-missed'], ['wrap-resolved']] },
    fn('wrap-missed', wrapOutput, ['post-missed'], z),
    post('post-missed', `${collectorUrl}/missed`, z),
    fn('wrap-resolved', wrapOutput, ['post-resolved'], z),
    post('post-resolved', `${collectorUrl}/resolved`, z),
    { id: 'ps', type: 'pbx-stats', z, pbx: 'cfg', queues: '', window: 15, serviceLevel: 20, interval: 0, wires: [['wrap-stats']] },
    fn('wrap-stats', wrapOutput, ['post-stats'], z),
    post('post-stats', `${collectorUrl}/stats`, z),
    { id: 'stats-in', type: 'http in', z, url: '/it/stats', method: 'post', upload: false, swaggerDoc: '', wires: [['ps', 'stats-ack']] },
    { id: 'stats-ack', type: 'http response', z, statusCode: '200', headers: {}, wires: [] },
    { id: 'in', type: 'http in', z, url: '/it/missed', method: 'post', upload: false, swaggerDoc: '', wires: [['unpack', 'ack']] },
    fn('unpack', unpackInput, ['pm'], z),
    { id: 'ack', type: 'http response', z, statusCode: '200', headers: {}, wires: [] },
  ];
  return laidOut(nodes);
}

describe('integration: pbx-missed and pbx-stats across two Node-RED instances sharing one Redis', function () {
  this.timeout(120000);
  let cluster;
  let sim;
  let replicas;

  before(async function () {
    this.timeout(20 * 60 * 1000); // a first run may install redis-server with apt-get
    cluster = await startCluster({
      simulator: { stepMs: 20, talkMs: 100 },
      env: (s) => ({ PBX_SIM_3CX: `${s.url}/webapi` }),
      count: 2,
      flows: missedFlows,
    });
    ({ sim, replicas } = cluster);
    sim.setWebhook('3cx-webapi', replicas.webhookUrl(`${PATH}/${SECRET}`), 'post');
  });

  after(() => cluster?.stop());

  /** Sends `{ topic, payload }` to pbx-missed on instance `i`. */
  async function input(i, topic, payload) {
    const res = await fetch(replicas.directUrl(i, '/it/missed'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topic, payload }),
    });
    assert.equal(res.status, 200);
  }

  /** `list` on instance `i`: the open entries it answers with. */
  async function list(i) {
    const before = replicas.collected('/missed', (b) => b.topic === 'list').length;
    await input(i, 'list');
    const got = await replicas.waitFor('/missed', before + 1, { filter: (b) => b.topic === 'list' });
    return got[before];
  }

  it('each missed call once, counted across instances; list the same on both; a callback resolves it once', async () => {
    const p = sim.provider('3cx-webapi');
    const first = p.sender.deliveries.length;
    for (let n = 0; n < 3; n++) {
      await p.play('incoming-missed', { caller: CALLER });
      await p.sender.idle();
      // A scenario is 4 deliveries: one more (answered 200, no event) moves the next hangup to the other instance.
      assert.equal((await fetch(replicas.webhookUrl(`${PATH}/${SECRET}?event=x&id=1_1-0`))).status, 200);
    }
    const missed = await replicas.waitFor('/missed', 3, { filter: (b) => b.topic === 'missed' });
    await settle();
    const all = replicas.collected('/missed', (b) => b.topic === 'missed');
    assert.equal(all.length, 3, 'each missed call exactly once in total');
    assert.deepEqual(
      all.map((m) => m.body.payload.count),
      [1, 2, 3],
    );
    assert.deepEqual(new Set(missed.map((m) => m.instance)), new Set([0, 1]), 'emitted by both instances (calls alternate)');

    // Every delivery again, straight to each instance: duplicates, no missed call counted twice.
    for (const d of p.sender.deliveries.slice(first)) {
      for (const i of [0, 1]) {
        const res = await fetch(replicas.directUrl(i, new URL(d.url).pathname), {
          method: d.method,
          headers: { 'Content-Type': 'application/json' },
          body: d.body,
        });
        assert.equal(res.status, 200);
      }
    }
    await settle();
    assert.equal(replicas.collected('/missed', (b) => b.topic === 'missed').length, 3, 'replays are duplicates');

    const [on0, on1] = [await list(0), await list(1)];
    assert.equal(on0.instance, 0);
    assert.equal(on1.instance, 1);
    assert.deepEqual(on0.body.payload, [all[2].body.payload]);
    assert.deepEqual(on1.body.payload, on0.body.payload);

    const res = await fetch(`${sim.url}/webapi/${KEY}/makecall?firstnum=117&secondnum=${encodeURIComponent('02079460018')}`);
    assert.equal(res.status, 200);
    await replicas.waitFor('/resolved', 1);
    await settle();
    const resolved = replicas.collected('/resolved');
    assert.equal(resolved.length, 1, 'resolved exactly once in total');
    assert.equal(resolved[0].body.payload.resolvedBy, 'callback');
    assert.equal(resolved[0].body.payload.count, 3);
    assert.equal(resolved[0].body.payload.extension, '117');
    assert.deepEqual((await list(0)).body.payload, []);
    assert.deepEqual((await list(1)).body.payload, []);
  });

  it('resolved by hand on one instance: gone on the other; resolving again sends nothing', async () => {
    const before = replicas.collected('/resolved').length;
    await sim.provider('3cx-webapi').play('incoming-missed', { caller: OTHER });
    await replicas.waitFor('/missed', 1, { filter: (b) => b.topic === 'missed' && b.payload.caller === OTHER });
    assert.deepEqual(
      (await list(0)).body.payload.map((e) => e.caller),
      [OTHER],
    );
    await input(1, 'resolve', { caller: '212-555-0100' });
    // The HTTP answer comes before pbx-missed has finished: wait for the resolution before the second resolve.
    const [r] = (await replicas.waitFor('/resolved', before + 1)).slice(before);
    await input(0, 'resolve', { caller: '+12125550100' });
    assert.equal(r.instance, 1);
    assert.equal(r.body.payload.resolvedBy, 'manual');
    assert.equal(r.body.payload.caller, OTHER);
    assert.deepEqual((await list(0)).body.payload, []);
    await settle();
    assert.equal(replicas.collected('/resolved').length, before + 1, 'the second resolve found nothing');
  });
  it('pbx-stats: the calls through queue 820 counted once across instances, the same figures from either', async () => {
    /** The figures instance `i` sends for queue 820 when asked. */
    async function statsOf(i) {
      const before = replicas.collected('/stats').length;
      const res = await fetch(replicas.directUrl(i, '/it/stats'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(res.status, 200);
      const got = await replicas.waitFor('/stats', before + 1);
      const mine = got.slice(before).find((m) => m.instance === i && m.body.topic === '820');
      assert.ok(mine, `instance ${i} sent the figures of queue 820`);
      return mine.body.payload;
    }
    const [on0, on1] = [await statsOf(0), await statsOf(1)];
    // Four incoming-missed calls (IVR 800 → queue 820 → 202, hung up unanswered), every delivery also replayed.
    assert.deepEqual(
      [on0.offered, on0.answered, on0.abandoned, on0.abandonRate, on0.serviceLevelPercent, on0.waitingNow],
      [4, 0, 4, 100, 0, 0],
    );
    // The scenario's waits are a few tens of ms: they may round to 0.0, never below, and the average is not above the longest.
    assert.ok(on0.averageWaitSeconds >= 0 && on0.averageWaitSeconds <= on0.longestWaitSeconds);
    assert.deepEqual(on1, on0);
  });
});
