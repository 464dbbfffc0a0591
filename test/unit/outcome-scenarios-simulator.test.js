'use strict';
// The outcome scenarios every simulated provider plays under the same names (SPEC section 9):
// a missed call followed by a callback that is answered, not answered, or busy, and an answered
// call whose hangup webhook is lost while the call leaves the simulator's state.
const assert = require('node:assert/strict');
const http = require('node:http');
const { providerOf } = require('../../dist/providers');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');
const { parseForm, parseWebhookBody } = require('../../dist/core/webhook-router');

const NEW_SCENARIOS = ['missed-callback-answered', 'missed-callback-unanswered', 'missed-callback-busy', 'lost-hangup'];

/** Per provider: the caller number played, and the normalized events each scenario must give (event direction outcome). */
const EXPECTED = {
  '3cx-webapi': {
    caller: '0555700111',
    'missed-callback-answered': [
      'ringing inbound',
      'ringing inbound',
      'ringing inbound',
      'hangup inbound missed',
      'ringing outbound',
      'answered outbound',
      'hangup outbound answered',
      'recording',
    ],
    'missed-callback-unanswered': [
      'ringing inbound',
      'ringing inbound',
      'ringing inbound',
      'hangup inbound missed',
      'ringing outbound',
      'hangup outbound missed',
    ],
    'missed-callback-busy': [
      'ringing inbound',
      'ringing inbound',
      'ringing inbound',
      'hangup inbound missed',
      'ringing outbound',
      'hangup outbound missed',
    ],
    'lost-hangup': ['ringing inbound', 'ringing inbound', 'ringing inbound', 'answered inbound'],
  },
  voipnow: {
    caller: '0555700222',
    'missed-callback-answered': [
      'ringing inbound',
      'hangup inbound missed',
      'ringing outbound',
      'answered outbound',
      'hangup outbound answered',
    ],
    'missed-callback-unanswered': ['ringing inbound', 'hangup inbound missed', 'ringing outbound', 'hangup outbound missed'],
    'missed-callback-busy': ['ringing inbound', 'hangup inbound missed', 'ringing outbound', 'hangup outbound busy'],
    'lost-hangup': ['ringing inbound', 'answered inbound'],
  },
  'cloud-callcenter': {
    caller: '13800700333',
    'missed-callback-answered': [
      'ringing inbound',
      'hangup inbound unknown',
      'ringing outbound',
      'answered outbound',
      'hangup outbound unknown',
      'recording',
    ],
    'missed-callback-unanswered': ['ringing inbound', 'hangup inbound unknown', 'ringing outbound', 'hangup outbound unknown'],
    'missed-callback-busy': ['ringing inbound', 'hangup inbound unknown', 'ringing outbound', 'hangup outbound unknown'],
    'lost-hangup': ['ringing inbound', 'answered inbound'],
  },
};

/** An event as `event direction outcome` (a recording's direction is not known from it alone). */
const summary = (e) =>
  e.event === 'recording' ? 'recording' : [e.event, e.direction, e.event === 'hangup' ? e.outcome : ''].join(' ').trim();

/** The number of the call's other party: `from` of an inbound event, `to` of an outbound one. */
const otherParty = (e) => (e.direction === 'inbound' ? e.from : e.to);

describe('simulator outcome scenarios, every provider', function () {
  this.timeout(10000);
  let sim;
  let hook;
  /** Normalized events by provider, and the simulator's calls as each delivery arrived. */
  const received = [];

  before(async () => {
    hook = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url, 'http://x');
        const provider = url.pathname.slice(1);
        const parsed = parseWebhookBody(Buffer.concat(chunks).toString('utf8'), String(req.headers['content-type'] ?? ''));
        const input = {
          method: req.method,
          query: parseForm(url.search.slice(1)),
          rawQuery: url.search.slice(1),
          body: parsed.body,
          receivedAt: new Date(),
        };
        const events = providerOf(provider).normalizeWebhook(input);
        received.push(...events.map((event) => ({ provider, event, liveCalls: sim.provider(provider).state().calls.length })));
        res.end('OK');
      });
    });
    await new Promise((r) => hook.listen(0, '127.0.0.1', r));
    sim = await startSimulator({ stepMs: 5, talkMs: 20 });
    for (const provider of Object.keys(EXPECTED)) sim.setWebhook(provider, `http://127.0.0.1:${hook.address().port}/${provider}`);
  });
  after(async () => {
    await sim.close();
    hook.close();
  });
  beforeEach(() => (received.length = 0));

  for (const [provider, expected] of Object.entries(EXPECTED)) {
    it(`${provider}: lists the outcome scenarios after its own, its own unchanged in front`, () => {
      const names = sim.provider(provider).scenarios();
      assert.deepEqual(names.slice(-4), NEW_SCENARIOS);
      assert.equal(new Set(names).size, names.length);
    });

    for (const name of NEW_SCENARIOS.filter((n) => n !== 'lost-hangup')) {
      it(`${provider}: ${name} sends ${expected[name].join(', ')}; the callback dials the number that called`, async () => {
        const { callId } = await sim.provider(provider).play(name, { caller: expected.caller });
        await sim.provider(provider).sender.idle();
        const events = received.map((r) => r.event);
        assert.deepEqual(events.map(summary), expected[name]);
        const missed = events.filter((e) => e.direction === 'inbound');
        const callback = events.filter((e) => e.direction === 'outbound');
        assert.equal(new Set(missed.map((e) => e.callId)).size, 1, 'one missed call');
        assert.equal(new Set(callback.map((e) => e.callId)).size, 1, 'one callback');
        assert.notEqual(missed[0].callId, callback[0].callId);
        assert.equal(callback[0].callId, callId, 'play answers with the callback');
        assert.ok(
          missed.every((e) => e.event === 'recording' || otherParty(e) === expected.caller),
          'the missed call is from the caller',
        );
        assert.ok(
          callback.every((e) => e.event === 'recording' || otherParty(e) === expected.caller),
          'the callback dials the caller',
        );
      });
    }

    it(`${provider}: lost-hangup rings and is answered while the simulator lists the call, then the call is gone and no hangup is sent`, async () => {
      const p = sim.provider(provider);
      const first = p.sender.deliveries.length;
      const { callId } = await p.play('lost-hangup', { caller: expected.caller });
      await p.sender.idle();
      assert.deepEqual(
        received.map((r) => `${r.event.event} ${r.event.direction}`),
        expected['lost-hangup'],
      );
      assert.ok(
        received.every((r) => r.event.callId === callId || r.event.callId.startsWith(callId)),
        'one call',
      );
      assert.equal(otherParty(received[0].event), expected.caller);
      assert.equal(p.sender.deliveries.length - first, received.length, 'nothing else was sent');
      assert.ok(
        received.every((r) => r.liveCalls === 1),
        'listed while it rang and talked',
      );
      assert.equal(p.state().calls?.length ?? 0, 0, 'ended in the simulator');
    });
  }
  describe('3cx-webapi queue-waiting: a live call waiting in queue 820', () => {
    const KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;
    const until = async (done) => {
      for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    const hops = () => received.map((r) => `${r.event.event} ${r.event.extension ?? ''}`.trim());

    it('is listed while it waits, then agent 202 rings and answers, talks and hangs up', async () => {
      const p = sim.provider('3cx-webapi');
      const { callId } = await p.play('queue-waiting', { caller: '0555700444' });
      assert.deepEqual(
        p.state().calls.map((c) => [c.ext, c.state, c.party]),
        [['820', 'Routing', '0555700444']],
      );
      await until(() => received.some((r) => r.event.event === 'recording'));
      assert.deepEqual(hops(), ['ringing 800', 'ringing 820', 'ringing 202', 'answered 202', 'hangup 202', 'recording 202']);
      assert.ok(received.every((r) => r.event.callId.startsWith(callId)));
      assert.equal(received[1].event.extensionType, 'queue');
      assert.equal(received[3].event.from, '0555700444');
    });

    it('transfer with the queue number routes the waiting call to the destination, which answers', async () => {
      const p = sim.provider('3cx-webapi');
      await p.play('queue-waiting', { caller: '0555700555' });
      const res = await fetch(`${sim.url}/webapi/${KEY}/transfer?num=820&dest=117`);
      assert.deepEqual(await res.json(), { result: 'Transfer' });
      await until(() => received.some((r) => r.event.event === 'recording'));
      assert.deepEqual(hops(), ['ringing 800', 'ringing 820', 'ringing 117', 'answered 117', 'hangup 117', 'recording 117']);
    });

    it('transfer with a queue number and no call waiting there is still not found', async () => {
      const res = await fetch(`${sim.url}/webapi/${KEY}/transfer?num=820&dest=117`);
      assert.equal(res.status, 404);
    });
  });
});
