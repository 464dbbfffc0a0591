'use strict';
// pbx-call `wait` (SPEC section 9) in a real Node-RED runtime against the loopback simulator, for
// every provider: the result of makecall / doublecall is held until the call's events give its
// outcome. The simulator chooses the outcome by the destination's last digits (0000: no answer,
// 0486: busy). Asserts outcomes and the number of requests sent, never durations.
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper, load, webhookApp, collect, statusOf, pbxConfig, actionNodes, text } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const SECRET = 'wait-hook-secret-0123456789';
const PATH = '/pbx/test-wait';

/** Each provider variant: how its account is set up, a call it places, how its makecall requests are counted. */
const VARIANTS = [
  {
    title: '3cx-webapi (k2m: matched by extension and destination)',
    provider: '3cx-webapi',
    base: '/webapi',
    creds: DEFAULT_CREDENTIALS['3cx-webapi'],
    extension: '117',
    number: (suffix) => `0555123${suffix}`,
    // The add-on's webhooks say Ok or Missed: a busy destination is a missed call.
    busy: 'missed',
    makecalls: (sim) => sim.received('3cx-webapi', '/makecall'),
  },
  {
    title: '3cx-webapi (creomate: matched by the chid makecall answers)',
    provider: '3cx-webapi',
    base: '/webapi',
    creds: DEFAULT_CREDENTIALS['3cx-webapi'],
    simOptions: { threeCxEdition: 'creomate' },
    config: { edition: 'creomate' },
    extension: '117',
    number: (suffix) => `38162975${suffix}`,
    busy: 'missed',
    byId: true,
    makecalls: (sim) => sim.received('3cx-webapi', '/makecall'),
  },
  {
    title: 'voipnow (matched by the PhoneCall id)',
    provider: 'voipnow',
    base: '/voipnow',
    creds: DEFAULT_CREDENTIALS.voipnow,
    scheme: 'get',
    extension: '0003*210',
    number: (suffix) => `0555123${suffix}`,
    busy: 'busy',
    byId: true,
    makecalls: (sim) => sim.received('voipnow', '/uapi/phoneCalls/@me/simple'),
    fault: { pathPrefix: '/voipnow/uapi/phoneCalls' },
  },
  {
    title: 'cloud-callcenter (matched by the uuid MakeCall answers)',
    provider: 'cloud-callcenter',
    base: '/callcenter',
    creds: DEFAULT_CREDENTIALS['cloud-callcenter'],
    extension: '90240001',
    number: (suffix) => `1380013${suffix}`,
    // The callbacks carry no busy signal: a busy destination is a missed call.
    busy: 'missed',
    byId: true,
    makecalls: (sim) => sim.received('cloud-callcenter').filter((r) => r.body.includes('App.Sip_Call.MakeCall')),
    fault: { bodyIncludes: 'App.Sip_Call.MakeCall' },
  },
  {
    title: 'cloud-callcenter (MakeCall without uuid: matched by reference / customuuid)',
    provider: 'cloud-callcenter',
    base: '/callcenter',
    creds: DEFAULT_CREDENTIALS['cloud-callcenter'],
    simOptions: { callCenterModes: { makeCallUuid: false } },
    params: { reference: 'crm-4711' },
    extension: '90240001',
    number: (suffix) => `1380013${suffix}`,
    busy: 'missed',
    makecalls: (sim) => sim.received('cloud-callcenter').filter((r) => r.body.includes('App.Sip_Call.MakeCall')),
    fault: { bodyIncludes: 'App.Sip_Call.MakeCall' },
  },
];

describe('pbx-call wait: the result held until the call is answered or ends', function () {
  this.timeout(20000);
  let sim;
  let relay;

  async function start(variant, nodeProps, simOptions = {}) {
    sim = await startSimulator({ stepMs: 20, talkMs: 300, ...variant.simOptions, ...simOptions });
    const config = pbxConfig({
      name: 'wait',
      provider: variant.provider,
      baseUrl: `${sim.url}${variant.base}`,
      webhookPath: PATH,
      ...variant.config,
    });
    await load([config, ...actionNodes('pbx-call', { operation: 'makecall', ...nodeProps })], {
      cfg: { ...variant.creds, webhookSecret: SECRET },
    });
    relay = http.createServer((req, res) => webhookApp()(req, res));
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
    sim.setWebhook(variant.provider, `http://127.0.0.1:${relay.address().port}${PATH}/${SECRET}`, variant.scheme);
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

  /** Sends one input with the variant's extension and `destination`; resolves with the output message. */
  async function place(variant, destination, extra = {}) {
    const out = collect('out', 1, 15000);
    helper.getNode('n1').receive({ payload: { extension: variant.extension, destination, ...variant.params, ...extra }, keep: 'me' });
    const [msg] = await out;
    return msg;
  }

  for (const variant of VARIANTS) {
    describe(variant.title, () => {
      it('answered: sent once the destination answers, with outcome and the call so far; one makecall', async () => {
        await start(variant, { wait: 30 });
        const node = helper.getNode('n1');
        const waiting = statusOf(node, (s) => s.text === text('status.waiting-answer'));
        const answered = statusOf(node, (s) => s.text === text('status.outcome.answered'));
        const destination = variant.number('1122');
        const msg = await place(variant, destination);
        assert.equal(msg.payload.outcome, 'answered');
        assert.equal(msg.payload.ok, true);
        assert.equal(msg.payload.destination, destination);
        assert.equal(msg.keep, 'me');
        const call = msg.payload.call;
        assert.equal(call.outcome, 'answered');
        assert.ok(call.answeredAt, 'the summary has the answer');
        assert.equal(call.endedAt, undefined, 'sent at the answer, before the call ended');
        assert.deepEqual(
          call.route.map((h) => h.event),
          ['ringing', 'answered'],
        );
        if (variant.byId) assert.equal(call.callId, msg.payload.callId);
        assert.deepEqual(msg.pbx, { provider: variant.provider, operation: 'makecall' });
        assert.equal(variant.makecalls(sim).length, 1);
        await waiting;
        assert.deepEqual(await answered, { fill: 'green', shape: 'dot', text: text('status.outcome.answered') });
      });

      it('no answer: sent at the hangup, outcome missed', async () => {
        await start(variant, { wait: 30 });
        const missed = statusOf(helper.getNode('n1'), (s) => s.text === text('status.outcome.missed'));
        const msg = await place(variant, variant.number('0000'));
        assert.equal(msg.payload.outcome, 'missed');
        assert.equal(msg.payload.call.outcome, 'missed');
        assert.ok(msg.payload.call.endedAt, 'the summary has the end');
        assert.equal(msg.payload.call.answeredAt, undefined);
        assert.equal(variant.makecalls(sim).length, 1);
        assert.equal((await missed).fill, 'yellow');
      });

      it(`busy destination: sent at the hangup, outcome ${variant.busy}`, async () => {
        await start(variant, { wait: 30 });
        const msg = await place(variant, variant.number('0486'));
        assert.equal(msg.payload.outcome, variant.busy);
        assert.equal(msg.payload.call.outcome, variant.busy);
        assert.equal(variant.makecalls(sim).length, 1);
      });

      it('wait elapsed before the answer: outcome unknown, exactly one makecall sent', async () => {
        // The destination takes far longer to answer than the 1 s wait.
        await start(variant, { wait: 1 }, { stepMs: 60000 });
        const unknown = statusOf(helper.getNode('n1'), (s) => s.text === text('status.outcome.unknown'));
        const msg = await place(variant, variant.number('1122'));
        assert.equal(msg.payload.outcome, 'unknown');
        // The ringing is matched when it arrived in time; the call has no outcome yet either way.
        if (msg.payload.call) assert.equal(msg.payload.call.outcome, 'unknown');
        assert.equal(variant.makecalls(sim).length, 1);
        assert.equal((await unknown).fill, 'grey');
      });

      it('request error: done(err) as without wait, nothing sent, one request', async () => {
        await start(variant, { wait: 30 });
        // On the makecall itself, not on the token request before it.
        sim.addFault({ pathPrefix: variant.base, ...variant.fault, status: 500 });
        const caught = collect('caught', 1);
        const out = collect('out', 1, 1500);
        helper.getNode('n1').receive({ payload: { extension: variant.extension, destination: variant.number('1122'), ...variant.params } });
        const [err] = await caught;
        assert.equal(err.pbx.operation, 'makecall');
        assert.ok(['provider_error', 'unreachable'].includes(err.error.code), err.error.code);
        await assert.rejects(out, /got 0 of 1/);
        assert.equal(variant.makecalls(sim).length, 1, 'a state-changing request is never retried');
      });

      it('wait 0: the result is sent as soon as the request succeeds, without outcome', async () => {
        await start(variant, { wait: 0 });
        const destination = variant.number('1122');
        const msg = await place(variant, destination);
        assert.equal(msg.payload.ok, true);
        assert.equal('outcome' in msg.payload, false);
        assert.equal('call' in msg.payload, false);
        assert.equal(variant.makecalls(sim).length, 1);
      });
    });
  }

  it('a redeploy while a result is held ends the wait: the message is dropped, done() called, no error', async () => {
    const variant = VARIANTS[2];
    await start(variant, { wait: 30 }, { stepMs: 60000 });
    const node = helper.getNode('n1');
    const waiting = statusOf(node, (s) => s.text === text('status.waiting-answer'));
    let done = 0;
    const errors = [];
    const out = collect('out', 1, 1000);
    const caught = collect('caught', 1, 1000);
    node.receive({ payload: { extension: variant.extension, destination: variant.number('1122') } });
    await waiting;
    // Node-RED reports each done() as the metric "done": count it.
    const original = node.metric;
    node.metric = (event, ...rest) => {
      if (event === 'done') done++;
      return original.call(node, event, ...rest);
    };
    const unhandled = (err) => errors.push(err);
    process.on('unhandledRejection', unhandled);
    await helper.unload();
    process.off('unhandledRejection', unhandled);
    await Promise.allSettled([out, caught]).then(([o, c]) => {
      assert.equal(o.status, 'rejected', 'nothing sent');
      assert.equal(c.status, 'rejected', 'no error');
    });
    assert.deepEqual(errors, []);
    assert.equal(done, 1, 'the held message was done');
  });

  describe('cloud-callcenter doublecall: the destination answers after the first side', () => {
    const variant = VARIANTS[3];
    const doublecall = { operation: 'doublecall', wait: 30 };

    it('answered once the destination (second side) answers', async () => {
      await start(variant, doublecall);
      const msg = await place(variant, variant.number('1122'), { from: '13900139000' });
      assert.equal(msg.payload.outcome, 'answered');
      assert.equal(msg.payload.operation, 'doublecall');
      assert.deepEqual(
        msg.payload.call.route.map((h) => h.event),
        ['ringing', 'answered', 'ringing', 'answered'],
      );
    });

    it('missed when only the first side answered and the destination never did', async () => {
      await start(variant, doublecall);
      const msg = await place(variant, variant.number('0000'), { from: '13900139000' });
      assert.equal(msg.payload.outcome, 'missed');
      // The PBX's own summary counts the first side's answer; the destination still never answered.
      assert.deepEqual(
        msg.payload.call.route.map((h) => h.event),
        ['ringing', 'answered', 'ringing'],
      );
    });
  });
});
