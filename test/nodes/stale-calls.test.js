'use strict';
// Stale and reconciled calls (SPEC section 9) in a real Node-RED runtime against the loopback
// simulator: a call whose hangup webhook is lost is closed with a synthetic hangup, after
// `staleAfter` seconds without an event, or (VoipNow, which lists its active calls with the
// events' CallID) once the PBX no longer lists it; the real hangup arriving later is not emitted.
// Short periods keep the tests quick; assertions are on messages and requests, never on durations.
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper, load, webhookApp, collect, pbxConfig, actionNodes, eventNodes, wait } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const SECRET = 'stale-hook-secret-0123456789';
const PATH = '/pbx/test-stale';
const EXTENSION = '0003*210';
const ACTIVE_CALLS = '/uapi/phoneCalls/@me/@self';

describe('stale and reconciled calls: a lost hangup closed by a synthetic one', function () {
  this.timeout(20000);
  let sim;
  let relay;

  /** Starts the simulator and a flow: config `cfg` (with `config` settings), pbx-call `n1`, pbx-event `ev`. */
  async function start(config, { provider = 'voipnow', simOptions = {} } = {}) {
    sim = await startSimulator({ stepMs: 20, talkMs: 300, ...simOptions });
    const base = provider === 'voipnow' ? '/voipnow' : '/webapi';
    await load(
      [
        pbxConfig({ provider, baseUrl: `${sim.url}${base}`, webhookPath: PATH, ...config }),
        ...actionNodes('pbx-call', { operation: 'makecall' }),
        ...eventNodes(),
      ],
      { cfg: { ...DEFAULT_CREDENTIALS[provider], webhookSecret: SECRET } },
    );
    relay = http.createServer((req, res) => webhookApp()(req, res));
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
    sim.setWebhook(provider, `http://127.0.0.1:${relay.address().port}${PATH}/${SECRET}`, provider === 'voipnow' ? 'get' : undefined);
    return sim.provider(provider);
  }

  afterEach(async () => {
    await helper.unload();
    if (sim) {
      sim.providers.forEach((p) => p.reset());
      await sim.close();
    }
    if (relay) await new Promise((r) => relay.close(r));
    sim = undefined;
    relay = undefined;
  });

  /** Places a call from EXTENSION through pbx-call; resolves with its PhoneCall id once it is answered. */
  async function placeAnsweredCall() {
    const answered = collect('answered', 1, 10000);
    const placed = collect('out', 1);
    helper.getNode('n1').receive({ payload: { extension: EXTENSION, destination: '0555123988' } });
    const [[made], [ans]] = await Promise.all([placed, answered]);
    assert.equal(ans.payload.callId, made.payload.callId);
    return made.payload.callId;
  }

  /** Resolves once the simulator has answered `count` more active-calls requests (bounded by mocha's timeout). */
  async function activeCallChecks(count) {
    const target = sim.received('voipnow', ACTIVE_CALLS).length + count;
    while (sim.received('voipnow', ACTIVE_CALLS).length < target) await wait(20);
  }

  /** Plays a VoipNow scenario whose hangup is not lost, and resolves with its hangup message. */
  async function ordinaryHangup(vn) {
    const hangups = collect('hangup', 1, 10000);
    const { callId } = await vn.play('inbound-missed', { extension: EXTENSION });
    const [msg] = await hangups;
    assert.equal(msg.payload.callId, callId);
    return msg;
  }

  it('stale: an answered call with no event for staleAfter is closed; its late real hangup is not emitted again', async () => {
    const vn = await start({ staleAfter: 1, reconcile: false });
    vn.loseHangups(true);
    const hangup = collect('hangup', 1, 10000);
    const callId = await placeAnsweredCall();
    const [msg] = await hangup;
    assert.equal(msg.topic, 'hangup');
    const { call, timestamp, ...payload } = msg.payload;
    assert.deepEqual(payload, {
      event: 'hangup',
      provider: 'voipnow',
      providerEvent: 'stale',
      callId,
      direction: 'outbound',
      // The parties as the call's first events named them: the extension called the destination.
      from: EXTENSION,
      to: '0555123988',
      outcome: 'unknown',
      synthetic: true,
      extension: EXTENSION,
      extensionType: 'extension',
    });
    assert.equal(call.callId, callId);
    assert.equal(call.outcome, 'answered', 'the summary keeps what the call had: it was answered');
    assert.equal(call.endedAt, timestamp);
    assert.deepEqual(
      call.route.map((h) => h.event),
      ['ringing', 'answered'],
    );
    assert.equal(msg.raw, null, 'nothing was received from the PBX');
    assert.equal(helper.getNode('cfg').closer.counters.stale, 1);

    // The real hangup arrives late: accepted, not emitted. The next call's hangup is the next message.
    const account = helper.getNode('cfg').account;
    const before = { ...account.counters };
    const nextHangup = collect('hangup', 1, 10000);
    await vn.sendLostHangups();
    assert.equal(account.counters.delivered, before.delivered + 1);
    assert.equal(account.counters.events, before.events, 'the late hangup emitted nothing');
    const other = await ordinaryHangup(vn);
    const [next] = await nextHangup;
    assert.equal(next.payload.callId, other.payload.callId, 'the next hangup emitted is the other call’s');
  });

  it('stale: an unanswered call closed as stale has outcome unknown in its summary too', async () => {
    const vn = await start({ staleAfter: 1, reconcile: false });
    const ringing = collect('ringing', 1, 10000);
    const hangup = collect('hangup', 1, 10000);
    const { callId } = await vn.play('inbound-missed', { extension: EXTENSION, dropHangup: true });
    const [[ring], [msg]] = await Promise.all([ringing, hangup]);
    assert.equal(ring.payload.callId, callId);
    assert.equal(msg.payload.callId, callId);
    assert.equal(msg.payload.providerEvent, 'stale');
    assert.equal(msg.payload.synthetic, true);
    assert.equal(msg.payload.outcome, 'unknown');
    assert.equal(msg.payload.direction, 'inbound');
    assert.equal(msg.payload.call.outcome, 'unknown');
    assert.equal(msg.payload.call.answeredAt, undefined);
  });

  it('reconcile: a call the PBX listed and no longer lists is closed; its late real hangup is not emitted again', async () => {
    // The call talks until the test hangs it up; staleAfter 0: only reconciliation can close it.
    const vn = await start({ staleAfter: 0, reconcile: true, reconcileEvery: 0.1 }, { simOptions: { talkMs: 60000 } });
    const callId = await placeAnsweredCall();
    // Two checks after the answer: the PBX has listed the open call.
    await activeCallChecks(2);
    vn.loseHangups(true);
    const hangup = collect('hangup', 1, 10000);
    assert.equal(await vn.hangUp(callId), true);
    const [msg] = await hangup;
    assert.equal(msg.payload.providerEvent, 'reconciled');
    assert.equal(msg.payload.callId, callId);
    assert.equal(msg.payload.synthetic, true);
    assert.equal(msg.payload.outcome, 'unknown');
    assert.equal(msg.payload.call.outcome, 'answered');
    assert.ok(msg.payload.call.endedAt);
    const closer = helper.getNode('cfg').closer;
    assert.equal(closer.counters.reconciled, 1);
    assert.equal(closer.counters.stale, 0);
    assert.equal(helper.getNode('cfg').account.tracker.openCount, 0);

    const account = helper.getNode('cfg').account;
    const events = account.counters.events;
    const all = collect('hangup', 1, 10000);
    await vn.sendLostHangups();
    assert.equal(account.counters.events, events, 'the late hangup emitted nothing');
    // A scenario call is never in the PhoneCalls list: it is not reconciled, its own hangup comes through.
    const other = await ordinaryHangup(vn);
    const [next] = await all;
    assert.equal(next.payload.callId, other.payload.callId, 'the next hangup emitted is the other call’s');
    assert.equal(other.payload.providerEvent, 'hangup');
    assert.equal(other.payload.synthetic, undefined);
  });

  it('staleAfter 0 and reconcile off: a call whose hangup was lost stays open', async () => {
    const vn = await start({ staleAfter: 0, reconcile: false, reconcileEvery: 0.1 }, { simOptions: { talkMs: 60000 } });
    const callId = await placeAnsweredCall();
    vn.loseHangups(true);
    assert.equal(await vn.hangUp(callId), true);
    const node = helper.getNode('cfg');
    assert.equal(node.closer.reconciles, false);
    assert.equal(await node.closer.sweep(), 0);
    assert.equal(await node.closer.check(), 0);
    assert.equal(await node.closer.check(), 0);
    assert.equal(sim.received('voipnow', ACTIVE_CALLS).length, 0, 'the PBX was never asked for its active calls');
    assert.deepEqual(await node.account.openCalls(10), [callId]);
    assert.deepEqual(node.closer.counters, { sweeps: 0, checks: 0, stale: 0, reconciled: 0, failedChecks: 0 });
  });

  it('defaults: staleAfter 14400 s and reconcile on when the saved config has neither', async () => {
    await start({});
    const closer = helper.getNode('cfg').closer;
    assert.equal(closer.staleAfterMs, 14400 * 1000);
    assert.equal(closer.reconciles, true);
  });

  it('3cx-webapi is not reconciled (its active-call ids are not the webhooks’ ids); stale still closes', async () => {
    const cx = await start({ staleAfter: 1, reconcile: true, reconcileEvery: 0.1 }, { provider: '3cx-webapi' });
    const closer = helper.getNode('cfg').closer;
    assert.equal(closer.reconciles, false);
    const hangup = collect('hangup', 1, 10000);
    const ringing = collect('ringing', 1, 10000);
    await cx.play('incoming-missed', { dropHangup: true });
    const [[ring], [msg]] = await Promise.all([ringing, hangup]);
    assert.equal(msg.payload.callId, ring.payload.callId);
    assert.equal(msg.payload.providerEvent, 'stale');
    assert.equal(await closer.check(), 0);
    assert.equal(sim.received('3cx-webapi', 'pbx.callsinfo').length, 0);
  });
});
