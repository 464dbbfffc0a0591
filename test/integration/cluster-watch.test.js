'use strict';
// `pbx-status` `watch` in cluster mode (SPEC section 8) with real parts: a redis-server of the
// test's own, two Node-RED processes running the same flow (a 3CX config in cluster mode and a
// watch node polling the simulator every 2 s, its changes and statuses posted to the collector),
// and calls placed and dropped through the simulator's WebAPI to change extension 100's state. A
// call to a number ending in 0000 is never answered: 100 rings until the test drops the call.
const assert = require('node:assert/strict');
const { startCluster } = require('../helpers/replicas');
const { fn, post, wrapOutput } = require('../helpers/flows');
const { DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const SECRET = 'cluster-watch-secret-4e8a1d07c9';
const ACCESS_KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;
const WATCH_ID = 'watch-100';
/** Long enough that the unanswered call rings until the test drops it. */
const NEVER_MS = 10 * 60 * 1000;

function watchFlows({ collectorUrl }) {
  const z = 'tab-cluster-watch';
  const nodes = [
    { id: z, type: 'tab', label: 'cluster watch' },
    {
      id: 'cfg-watch',
      type: 'pbx-config',
      name: 'cluster watch 3cx',
      provider: '3cx-webapi',
      baseUrl: '${PBX_WATCH_SIM}',
      webhookPath: '/pbx/cluster-watch',
      timeout: 1500,
      rejectUnauthorized: true,
      allowFrom: '',
      redisUrl: '${PBX_REDIS_URL}',
      keyPrefix: 'cw:',
      redisDown: 'local',
      credentials: { accessKey: ACCESS_KEY, webhookSecret: SECRET },
    },
    { id: WATCH_ID, type: 'pbx-status', z, pbx: 'cfg-watch', query: '', watch: true, interval: 2, wires: [['changes-wrap']] },
    fn('changes-wrap', wrapOutput, ['changes-post'], z),
    post('changes-post', `${collectorUrl}/changes`, z),
    { id: 'st', type: 'status', z, scope: [WATCH_ID], wires: [['st-wrap']] },
    fn('st-wrap', wrapOutput, ['st-post'], z),
    post('st-post', `${collectorUrl}/status`, z),
  ];
  return nodes.map((n, i) => (n.type === 'tab' || n.type === 'pbx-config' ? n : { x: 120 + i * 40, y: 60 + i * 40, ...n }));
}

const isPolled = (body) => body.status?.fill === 'green';
const isStandby = (body) => body.status?.fill === 'grey' && body.status?.text === 'standby';

describe('integration: cluster mode, pbx-status watch on two Node-RED instances', function () {
  this.timeout(120000);
  let cluster;
  let sim;
  let replicas;

  /** Status messages of instance `i` so far matching `filter`. */
  const statusesOf = (i, filter) => replicas.collected('/status', filter).filter((m) => m.instance === i);
  const changes = () => replicas.collected('/changes').map((m) => ({ by: m.instance, ...m.body.payload }));
  /** Resolves after `count` more polls by instance `i` (each poll sets its green status). */
  const polls = async (i, count) => {
    const target = statusesOf(i, isPolled).length + count;
    while (statusesOf(i, isPolled).length < target) await new Promise((r) => setTimeout(r, 50));
  };
  const presenceQueries = () => sim.received('3cx-webapi').filter((r) => r.path.endsWith('/all.ext')).length;
  const webapi = async (method, query) => {
    const res = await fetch(`${sim.url}/webapi/${ACCESS_KEY}/${method}?${new URLSearchParams(query)}`);
    assert.equal(res.status, 200, `${method}: ${await res.text()}`);
  };

  before(async function () {
    this.timeout(20 * 60 * 1000); // a first run may install redis-server
    cluster = await startCluster({
      simulator: { stepMs: NEVER_MS, talkMs: NEVER_MS },
      env: (s) => ({ PBX_WATCH_SIM: `${s.url}/webapi` }),
      count: 2,
      flows: watchFlows,
    });
    ({ sim, replicas } = cluster);
    // The call events go to the collector; this test looks at presence only.
    sim.setWebhook('3cx-webapi', `${replicas.collectorUrl}/sim-webhooks`, 'post');
  });

  after(async () => {
    sim?.provider('3cx-webapi').reset(); // ends the call's timers
    await cluster?.stop();
  });

  it('one instance polls, each change is reported once; after SIGKILL the other takes over from the stored states', async () => {
    // Hang guards only (mocha's timeout and these): nothing here asserts how long anything took.
    const [first] = await replicas.waitFor('/status', 1, { filter: isPolled, timeoutMs: 30000 });
    const leader = first.instance;
    const other = 1 - leader;
    await replicas.waitFor('/status', 1, { filter: isStandby, timeoutMs: 30000 });
    assert.equal(statusesOf(leader, isStandby).length, 0, 'the leader never stood by');

    // One instance's worth of presence queries: one per poll of the leader.
    const queriesBefore = presenceQueries();
    const pollsBefore = statusesOf(leader, isPolled).length;
    await polls(leader, 3);
    const queries = presenceQueries() - queriesBefore;
    const leaderPolls = statusesOf(leader, isPolled).length - pollsBefore;
    assert.ok(Math.abs(queries - leaderPolls) <= 1, `${queries} presence queries for ${leaderPolls} polls of the leader`);
    assert.equal(statusesOf(other, isPolled).length, 0, 'the other instance did not poll');
    assert.ok(statusesOf(other, isStandby).length >= 1);
    assert.deepEqual(changes(), [], 'the first poll is the baseline');

    // 100 rings: reported once, by the leader.
    await webapi('makecall', { firstnum: '100', secondnum: '05550000' });
    await replicas.waitFor('/changes', 1, { timeoutMs: 30000 });
    await polls(leader, 2);
    assert.deepEqual(changes(), [{ by: leader, extension: '100', state: 'ringing', previous: 'idle' }]);

    // The leader dies without releasing its lease; the call is dropped before anyone polls again.
    const standbyBefore = statusesOf(other, isStandby).length;
    await replicas.killInstance(leader);
    await webapi('drop', { num: '100' });
    await replicas.waitFor('/changes', 2, { timeoutMs: 30000 });
    const standbyTicks = statusesOf(other, isStandby).length - standbyBefore;
    assert.ok(standbyTicks <= 3, `${standbyTicks} standby polls of the other instance before it took over`);

    // And a change after the takeover.
    await webapi('makecall', { firstnum: '100', secondnum: '05550000' });
    await replicas.waitFor('/changes', 3, { timeoutMs: 30000 });
    await polls(other, 2);
    assert.deepEqual(changes(), [
      { by: leader, extension: '100', state: 'ringing', previous: 'idle' },
      { by: other, extension: '100', state: 'idle', previous: 'ringing' },
      { by: other, extension: '100', state: 'ringing', previous: 'idle' },
    ]);
    await webapi('drop', { num: '100' });
  });
});
