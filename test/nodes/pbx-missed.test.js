'use strict';
// pbx-missed in a real Node-RED runtime, fed by the simulator of each provider: a missed inbound
// call opens an entry (output 1), which a callback (makecall to the caller, answered), an answered
// inbound call, a `resolve` input or expiry resolves (output 2); `list` answers from the state the
// entries are kept in, which outlives a redeploy of the node and of its config.
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper, load, webhookApp, collect, wait, pbxConfig } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const SECRET = 'hook-secret-missed-0123';
const PATH = '/pbx/test-missed';

/** Per provider: the config, how its simulator plays a missed and an answered inbound call, and a makecall. */
const PROVIDERS = {
  '3cx-webapi': {
    config: (sim) => ({ provider: '3cx-webapi', baseUrl: `${sim.url}/webapi` }),
    credentials: { accessKey: DEFAULT_CREDENTIALS['3cx-webapi'].accessKey },
    missed: 'incoming-missed',
    answered: 'incoming-answered',
    /** The last hop that rang in `incoming-missed` (IVR 800 → queue 820 → 202; the hangup is on the queue). */
    rang: '202',
    answeredBy: '202',
    extension: '117',
  },
  voipnow: {
    config: (sim) => ({ provider: 'voipnow', baseUrl: `${sim.url}/voipnow` }),
    credentials: { clientId: DEFAULT_CREDENTIALS.voipnow.clientId, clientSecret: DEFAULT_CREDENTIALS.voipnow.clientSecret },
    missed: 'inbound-missed',
    answered: 'inbound-answered',
    rang: '0003*210',
    answeredBy: '0003*210',
    extension: '0003*210',
  },
  'cloud-callcenter': {
    config: (sim) => ({ provider: 'cloud-callcenter', baseUrl: `${sim.url}/callcenter` }),
    credentials: { appId: DEFAULT_CREDENTIALS['cloud-callcenter'].appId, appKey: DEFAULT_CREDENTIALS['cloud-callcenter'].appKey },
    missed: 'inbound-missed',
    answered: 'inbound-answered',
    rang: '90240001',
    answeredBy: '90240001',
    extension: '90240002',
  },
};

const CALLER = '+44 20 7946 0018';
const CALLER_NATIONAL = '020 7946 0018';
const OTHER = '+44 20 7946 0999';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** pbx-missed `pm` (outputs → helpers `missed`, `resolved`), pbx-call `call` → `placed`, catch → `caught`. */
function missedFlow(p, sim, props = {}) {
  return [
    pbxConfig({ name: 'pbx', webhookPath: PATH, ...p.config(sim) }),
    { id: 'pm', type: 'pbx-missed', pbx: 'cfg', keepDays: 7, wires: [['missed'], ['resolved']], ...props },
    { id: 'missed', type: 'helper' },
    { id: 'resolved', type: 'helper' },
    { id: 'call', type: 'pbx-call', pbx: 'cfg', operation: 'makecall', wires: [['placed']] },
    { id: 'placed', type: 'helper' },
    { id: 'c1', type: 'catch', scope: ['pm'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];
}

/** Every message helper `id` receives from now on. */
function received(id) {
  const got = [];
  helper.getNode(id).on('input', (msg) => got.push(msg));
  return got;
}

/** Sends `msg` to pbx-missed and resolves with the next `count` messages of helper `out`. */
async function ask(msg, out = 'missed', count = 1) {
  const answer = collect(out, count);
  helper.getNode('pm').receive(msg);
  return answer;
}

describe('pbx-missed', function () {
  this.timeout(20000);
  let sim;
  let relay;

  beforeEach(async () => {
    sim = await startSimulator({ stepMs: 0, talkMs: 50 });
    relay = http.createServer((req, res) => webhookApp()(req, res));
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise((r) => relay.close(r));
    await sim.close();
  });

  async function start(provider, props) {
    const p = PROVIDERS[provider];
    sim.setWebhook(provider, `http://127.0.0.1:${relay.address().port}${PATH}/${SECRET}`);
    await load(missedFlow(p, sim, props), { cfg: { ...p.credentials, webhookSecret: SECRET } });
    return p;
  }

  for (const provider of Object.keys(PROVIDERS)) {
    describe(provider, () => {
      it('a missed inbound call opens an entry; a makecall to the caller (national form), answered, resolves it as callback', async () => {
        const p = await start(provider);
        const missed = collect('missed', 1);
        const { callId } = await sim.provider(provider).play(p.missed, { caller: CALLER });
        const [m] = await missed;
        assert.equal(m.topic, 'missed');
        assert.deepEqual(
          Object.keys(m.payload).sort(),
          ['callId', 'caller', 'count', 'extension', 'firstAt', 'lastAt', ...(m.payload.did ? ['did'] : [])].sort(),
        );
        assert.equal(m.payload.caller, CALLER);
        assert.equal(m.payload.count, 1);
        assert.equal(m.payload.callId, callId);
        assert.equal(m.payload.extension, p.rang);
        assert.match(m.payload.firstAt, ISO);
        assert.equal(m.payload.lastAt, m.payload.firstAt);

        const [listed] = await ask({ topic: 'list' });
        assert.deepEqual(listed.payload, [m.payload]);

        const resolved = collect('resolved', 1, 8000);
        helper.getNode('call').receive({ payload: { extension: p.extension, destination: CALLER_NATIONAL } });
        const [placed] = await collect('placed', 1);
        const [r] = await resolved;
        assert.equal(r.topic, 'resolved');
        assert.equal(r.payload.resolvedBy, 'callback');
        assert.match(r.payload.resolvedAt, ISO);
        assert.equal(r.payload.caller, CALLER);
        assert.equal(r.payload.count, 1);
        assert.equal(r.payload.firstAt, m.payload.firstAt);
        assert.equal(r.payload.extension, p.extension, 'the extension that called back');
        assert.notEqual(r.payload.callId, callId, 'the callback call');
        if (placed.payload.callId) assert.equal(r.payload.callId, placed.payload.callId);

        const [after] = await ask({ topic: 'list' });
        assert.deepEqual(after.payload, []);
      });

      it('a second missed call counts; an answered inbound call from the caller resolves it as answered', async () => {
        const p = await start(provider);
        const missed = collect('missed', 2);
        const first = await sim.provider(provider).play(p.missed, { caller: CALLER });
        const second = await sim.provider(provider).play(p.missed, { caller: CALLER_NATIONAL });
        const [m1, m2] = await missed;
        assert.equal(m1.payload.count, 1);
        assert.equal(m2.payload.count, 2);
        assert.equal(m2.payload.callId, second.callId);
        assert.notEqual(m2.payload.callId, first.callId);
        assert.equal(m2.payload.caller, CALLER_NATIONAL, 'as the PBX wrote it on the latest call');
        assert.equal(m2.payload.firstAt, m1.payload.firstAt);
        assert.ok(m2.payload.lastAt >= m1.payload.lastAt);

        const resolved = collect('resolved', 1);
        const answered = await sim.provider(provider).play(p.answered, { caller: CALLER });
        const [r] = await resolved;
        assert.equal(r.payload.resolvedBy, 'answered');
        assert.equal(r.payload.count, 2);
        assert.equal(r.payload.callId, answered.callId);
        assert.equal(r.payload.extension, p.answeredBy);
      });
    });
  }

  describe('inputs (3cx-webapi)', () => {
    it('resolve by hand, in another form of the number; list keeps the others, oldest first', async () => {
      const p = await start('3cx-webapi');
      const missed = collect('missed', 2);
      await sim.provider('3cx-webapi').play(p.missed, { caller: CALLER });
      await sim.provider('3cx-webapi').play(p.missed, { caller: OTHER });
      const [a, b] = await missed;
      const [listed] = await ask({ topic: 'list' });
      assert.deepEqual(
        listed.payload.map((e) => e.caller),
        [CALLER, OTHER],
      );
      assert.deepEqual(listed.payload, [a.payload, b.payload]);

      const [r] = await ask({ topic: 'resolve', payload: { caller: '0044 20 7946 0018' }, keep: 'me' }, 'resolved');
      assert.equal(r.topic, 'resolved');
      assert.equal(r.keep, 'me', 'the input msg is passed on');
      assert.deepEqual(r.payload, { ...a.payload, resolvedAt: r.payload.resolvedAt, resolvedBy: 'manual' });
      const [after] = await ask({ topic: 'list' });
      assert.deepEqual(after.payload, [b.payload]);
    });

    it('resolving a caller with no open entry sends nothing; other inputs fail with invalid_input', async () => {
      await start('3cx-webapi');
      const resolved = received('resolved');
      const caught = collect('caught', 6);
      helper.getNode('pm').receive({ topic: 'resolve', payload: { caller: CALLER } });
      helper.getNode('pm').receive({ topic: 'resolve', payload: { caller: 'anonymous' } });
      helper.getNode('pm').receive({ topic: 'resolve', payload: '__proto__' });
      helper.getNode('pm').receive({ topic: 'constructor' });
      helper.getNode('pm').receive({ payload: 'list' });
      helper.getNode('pm').receive({ topic: { toString: 'list' } });
      helper.getNode('pm').receive({ topic: 'resolve', payload: { caller: 'constructor' } });
      const errors = (await caught).map((m) => [m.error.message, m.error.code, m.pbx.error.code]);
      assert.deepEqual(
        errors.map(([, code, detailed]) => [code, detailed]),
        errors.map(() => ['invalid_input', 'invalid_input']),
      );
      assert.deepEqual(
        errors.map(([message]) => message),
        [
          'resolve: msg.payload.caller must be a phone number (with at least 3 digits)',
          'resolve: msg.payload.caller must be a phone number (with at least 3 digits)',
          'pbx-missed takes msg.topic "list" or "resolve", not "constructor"',
          'pbx-missed takes msg.topic "list" or "resolve", not (none)',
          'pbx-missed takes msg.topic "list" or "resolve", not object',
          'resolve: msg.payload.caller must be a phone number (with at least 3 digits)',
        ],
      );
      const [listed] = await ask({ topic: 'list' });
      assert.deepEqual(listed.payload, []);
      assert.deepEqual(resolved, []);
    });

    it('an anonymous caller is not tracked', async () => {
      const p = await start('3cx-webapi');
      const got = received('missed');
      await sim.provider('3cx-webapi').play(p.missed, { caller: 'anonymous' });
      await sim.provider('3cx-webapi').play(p.missed, { caller: 'constructor' });
      const [listed] = await ask({ topic: 'list' });
      assert.deepEqual(listed.payload, []);
      assert.deepEqual(got, [listed], 'only the list answer');
    });
  });

  it('expired: an entry whose latest missed call is older than keepDays is resolved on the next input', async () => {
    // keepDays may be a fraction: 1e-8 days is under a millisecond.
    const p = await start('3cx-webapi', { keepDays: 1e-8 });
    const missed = collect('missed', 1);
    await sim.provider('3cx-webapi').play(p.missed, { caller: CALLER });
    const [m] = await missed;
    // Not a timed assertion: only lets the clock pass the entry's millisecond.
    while (Date.now() <= Date.parse(m.payload.lastAt) + 1) await wait(2);

    const expired = collect('resolved', 1);
    const [listed] = await ask({ topic: 'list' });
    const [r] = await expired;
    assert.deepEqual(listed.payload, []);
    assert.deepEqual(r.payload, { ...m.payload, resolvedAt: r.payload.resolvedAt, resolvedBy: 'expired' });
    assert.ok(r.payload.resolvedAt > m.payload.lastAt);
  });

  it('open entries survive a redeploy of the node and of its config (changed settings too)', async () => {
    const p = await start('3cx-webapi');
    const missed = collect('missed', 1);
    await sim.provider('3cx-webapi').play(p.missed, { caller: CALLER });
    const [m] = await missed;
    const flows = missedFlow(p, sim);
    const credentials = { cfg: { ...p.credentials, webhookSecret: SECRET } };
    const redeploy = (change) => helper.setFlows(flows.map(change), 'full', credentials);
    // The node alone (another name), then the config with another timeout (a new account).
    await redeploy((n) => (n.id === 'pm' ? { ...n, name: 'renamed' } : n));
    let [listed] = await ask({ topic: 'list' });
    assert.deepEqual(listed.payload, [m.payload]);
    await redeploy((n) => (n.id === 'cfg' ? { ...n, timeout: 3000 } : n.id === 'pm' ? { ...n, name: 'renamed' } : n));
    [listed] = await ask({ topic: 'list' });
    assert.deepEqual(listed.payload, [m.payload]);
    const node = helper.getNode('pm');
    const statuses = helper._NodePrototype.status
      .getCalls()
      .filter((c) => c.thisValue === node)
      .map((c) => c.args[0]);
    assert.deepEqual(statuses.at(-1), { fill: 'green', shape: 'dot', text: '1 open' });
  });

  it('cluster mode with Redis unreachable: list fails with unreachable, the status shows redis down, nothing crashes', async () => {
    const closed = http.createServer();
    await new Promise((r) => closed.listen(0, '127.0.0.1', r));
    const port = closed.address().port;
    await new Promise((r) => closed.close(r));
    const p = PROVIDERS['3cx-webapi'];
    const flow = missedFlow(p, sim);
    flow[0] = { ...flow[0], redisUrl: `redis://127.0.0.1:${port}`, redisDown: 'local' };
    sim.setWebhook('3cx-webapi', `http://127.0.0.1:${relay.address().port}${PATH}/${SECRET}`);
    await load(flow, { cfg: { ...p.credentials, webhookSecret: SECRET, redisPassword: 'redis-secret-never-shown' } });
    const caught = collect('caught', 1);
    helper.getNode('pm').receive({ topic: 'list' });
    const [c] = await caught;
    assert.match(c.error.message, /^the missed-call list could not be read or changed: /);
    assert.equal(c.error.code, 'unreachable');
    assert.equal(c.pbx.error.code, 'unreachable');
    assert.doesNotMatch(JSON.stringify(c.error), /redis-secret-never-shown/);
    // A missed call meanwhile: not recorded (warned), the webhook still answered.
    await sim.provider('3cx-webapi').play(p.missed, { caller: CALLER });
    const node = helper.getNode('pm');
    const statuses = helper._NodePrototype.status
      .getCalls()
      .filter((call) => call.thisValue === node)
      .map((call) => call.args[0].text);
    assert.ok(statuses.includes('redis down'), statuses.join(', '));
  });
});
