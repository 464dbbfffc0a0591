'use strict';
// Stale and reconciled calls in cluster mode (SPEC sections 8 and 9) with real parts: a
// redis-server of the test's own, two Node-RED processes with the same flows, the VoipNow
// simulator sending its Call Events through the round-robin proxy (so a call's events land on
// both instances). A call whose hangup is lost is closed once for the cluster (one instance holds
// the closer lease; the close is atomic in Redis), and its real hangup arriving later is not
// emitted by either instance.
const assert = require('node:assert/strict');
const { startCluster } = require('../helpers/replicas');
const { fn, post, wrapOutput, actionEndpoint, laidOut } = require('../helpers/flows');
const { DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const SECRET = 'cluster-stale-secret-4d2a9e11';
const EXTENSION = '0003*210';
/** Two configs: one closes stale calls only (after 1 s), one reconciles only (checking every 0.2 s). */
const CONFIGS = {
  stale: { staleAfter: 1, reconcile: false },
  reconcile: { staleAfter: 0, reconcile: true, reconcileEvery: 0.2 },
};
const hookPath = (name) => `/pbx/cluster-${name}`;

function staleFlows({ collectorUrl }) {
  const z = 'tab-stale';
  const nodes = [{ id: z, type: 'tab', label: 'stale' }];
  for (const [name, settings] of Object.entries(CONFIGS)) {
    const cfg = `cfg-${name}`;
    nodes.push(
      {
        id: cfg,
        type: 'pbx-config',
        name: `stale ${name}`,
        provider: 'voipnow',
        baseUrl: '${PBX_SIM_VOIPNOW}',
        webhookPath: hookPath(name),
        timeout: 3000,
        rejectUnauthorized: true,
        allowFrom: '',
        redisUrl: '${PBX_REDIS_URL}',
        keyPrefix: 'stale:',
        redisDown: 'local',
        ...settings,
        credentials: { ...DEFAULT_CREDENTIALS.voipnow, webhookSecret: SECRET },
      },
      {
        id: `ev-${name}`,
        type: 'pbx-event',
        z,
        pbx: cfg,
        events: [],
        extension: '',
        direction: 'any',
        outputs: 1,
        wires: [[`ev-wrap-${name}`]],
      },
      fn(`ev-wrap-${name}`, wrapOutput, [`ev-post-${name}`], z),
      post(`ev-post-${name}`, `${collectorUrl}/events/${name}`, z),
      ...actionEndpoint({
        name: name,
        url: `/it/${name}/call`,
        action: { id: `call-${name}`, type: 'pbx-call', pbx: cfg, operation: '' },
        z,
      }),
    );
  }
  return laidOut(nodes);
}

describe('integration: stale and reconciled calls in cluster mode, closed once for the cluster', function () {
  this.timeout(60000);
  let cluster;
  let sim;
  let replicas;
  let vn;

  before(async function () {
    this.timeout(20 * 60 * 1000); // a first run may install redis-server with apt-get
    cluster = await startCluster({
      // Placed calls talk until the test hangs them up.
      simulator: { stepMs: 20, talkMs: 60000, providers: ['voipnow'] },
      env: (s) => ({ PBX_SIM_VOIPNOW: `${s.url}/voipnow` }),
      count: 2,
      flows: staleFlows,
    });
    ({ sim, replicas } = cluster);
    vn = sim.provider('voipnow');
  });

  after(() => cluster?.stop());

  const events = (name, callId) => replicas.collected(`/events/${name}`, (b) => b.payload.callId === callId).map((m) => m.body.payload);
  /** The first event on `name`'s collector path matching `predicate`, with the instance that emitted it. */
  const waitEvent = async (name, predicate, timeoutMs = 15000) => {
    const [message] = await replicas.waitFor(`/events/${name}`, 1, { timeoutMs, filter: (b) => predicate(b.payload) });
    return { ...message.body, instance: message.instance };
  };

  /** Plays a scenario whose hangup is not lost and waits until its hangup was emitted. */
  async function ordinaryCall(name) {
    const { callId } = await vn.play('inbound-missed', { extension: EXTENSION });
    await waitEvent(name, (p) => p.callId === callId && p.event === 'hangup');
    return callId;
  }

  it('stale: the call is closed by one instance, once', async () => {
    sim.setWebhook('voipnow', replicas.webhookUrl(`${hookPath('stale')}/${SECRET}`), 'get');
    const { callId } = await vn.play('inbound-answered', { extension: EXTENSION, dropHangup: true });
    const closed = await waitEvent('stale', (p) => p.callId === callId && p.event === 'hangup');
    assert.equal(closed.payload.providerEvent, 'stale');
    assert.equal(closed.payload.synthetic, true);
    assert.equal(closed.payload.outcome, 'unknown');
    assert.equal(closed.payload.call.outcome, 'answered');
    // Each instance's events came through the proxy: the summary has both.
    assert.deepEqual(
      closed.payload.call.route.map((h) => h.event),
      ['ringing', 'answered'],
    );
    // A later call's hangup, then: still one hangup for the stale call across both instances.
    await ordinaryCall('stale');
    assert.deepEqual(
      events('stale', callId).map((p) => `${p.event}:${p.providerEvent}`),
      ['ringing:dial-in', 'answered:answer-incoming', 'hangup:stale'],
    );
  });

  it('reconcile: a placed call the PBX stops listing is closed once; its late real hangup is emitted by neither instance', async () => {
    sim.setWebhook('voipnow', replicas.webhookUrl(`${hookPath('reconcile')}/${SECRET}`), 'get');
    const res = await fetch(replicas.directUrl(0, '/it/reconcile/call'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ operation: 'makecall', params: { extension: EXTENSION, destination: '0555123988' } }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const callId = (await res.json()).payload.callId;
    await waitEvent('reconcile', (p) => p.callId === callId && p.event === 'answered');
    // Two active-call checks after the answer: the PBX has listed the open call.
    const listed = sim.received('voipnow', '/uapi/phoneCalls/@me/@self').length + 2;
    while (sim.received('voipnow', '/uapi/phoneCalls/@me/@self').length < listed) await new Promise((r) => setTimeout(r, 20));
    vn.loseHangups(true);
    assert.equal(await vn.hangUp(callId), true);
    const closed = await waitEvent('reconcile', (p) => p.callId === callId && p.event === 'hangup');
    assert.equal(closed.payload.providerEvent, 'reconciled');
    assert.equal(closed.payload.synthetic, true);
    assert.equal(closed.payload.call.outcome, 'answered');
    vn.loseHangups(false);
    // The late hangup, then a later call through the proxy: the stale call still has one hangup.
    await vn.sendLostHangups();
    await ordinaryCall('reconcile');
    const hangups = events('reconcile', callId).filter((p) => p.event === 'hangup');
    assert.deepEqual(
      hangups.map((p) => p.providerEvent),
      ['reconciled'],
    );
  });
});
