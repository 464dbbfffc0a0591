'use strict';
// The decision rules of pbx-call `wait` (src/nodes/call-outcome.ts), table-driven: which events
// belong to the placed call, what they say of its outcome, and that events arriving before the
// request's answer are not lost.
const assert = require('node:assert/strict');
const {
  waitSecondsOf,
  isCallTo,
  numberKey,
  CallMatcher,
  OutcomeWait,
  outcomeOfState,
  MAX_WAIT_SECONDS,
  shareDials,
  dialKey,
} = require('../../dist/nodes/call-outcome');

const target = { operation: 'makecall', extension: '117', destination: '+44 20 7946-0958' };
const ev = (event, extra = {}) => ({
  event,
  provider: 'test',
  providerEvent: event,
  callId: 'c1',
  direction: 'outbound',
  extension: '117',
  from: '117',
  to: '442079460958',
  timestamp: '2026-01-01T00:00:00.000Z',
  ...extra,
});

describe('pbx-call wait: decision rules', () => {
  it('wait is 0 (off) for anything but a positive number, and at most 600 s', () => {
    const cases = [
      [undefined, 0],
      ['', 0],
      [0, 0],
      [-5, 0],
      ['abc', 0],
      [Number.NaN, 0],
      [Infinity, 0],
      [30, 30],
      ['45', 45],
      [1.5, 1.5],
      [600, 600],
      [601, MAX_WAIT_SECONDS],
      [1e9, 600],
      [{}, 0],
    ];
    for (const [input, expected] of cases) assert.equal(waitSecondsOf(input), expected, String(input));
  });

  it('numbers compare on their digits', () => {
    assert.equal(numberKey('+44 20 7946-0958'), '442079460958');
    assert.equal(numberKey(' (030) 12 34 '), '0301234');
    assert.equal(numberKey('sip:alice@example.com'), 'sip:alice@example.com');
    assert.equal(numberKey(undefined), '');
  });

  it('without id or reference: an outbound ringing, answered or hangup of the extension to the destination', () => {
    const cases = [
      [ev('ringing'), true],
      [ev('answered'), true],
      [ev('hangup', { outcome: 'missed' }), true],
      [ev('ringing', { extension: undefined }), true, 'from names the extension'],
      [ev('ringing', { from: undefined }), true, 'extension names it'],
      [ev('ringing', { direction: 'unknown' }), true],
      [ev('ringing', { direction: 'internal' }), true],
      [ev('ringing', { direction: 'inbound' }), false, 'an inbound call is never the one placed'],
      [ev('recording'), false],
      [ev('ringing', { extension: '118', from: '118' }), false, 'another extension'],
      [ev('ringing', { to: '442079460959' }), false, 'another destination'],
      [ev('ringing', { to: undefined }), false, 'no destination named (3CX MAKECALL answer)'],
      [ev('ringing', { to: '' }), false],
      [ev('ringing', { extension: 'constructor', from: '__proto__' }), false],
    ];
    for (const [event, expected, why] of cases) assert.equal(isCallTo(event, target), expected, why ?? JSON.stringify(event));
  });

  it('by numbers the first matching event names the call; another call to the same number is not followed', () => {
    const m = new CallMatcher(target);
    m.identify({ ok: true, operation: 'makecall', extension: '117', destination: target.destination });
    assert.equal(m.offer(ev('ringing', { callId: 'first' })), undefined);
    assert.equal(m.call, 'first');
    assert.equal(m.offer(ev('answered', { callId: 'second' })), undefined, 'a second call to the same number');
    // The 3CX makecall answer names no destination (Callerid MAKECALL): it is followed by its call id.
    assert.equal(m.offer(ev('answered', { callId: 'first', to: undefined })), 'answered');
  });

  it('with an id from the provider only that call counts, whatever its numbers', () => {
    const m = new CallMatcher(target);
    m.identify({ callId: 'id-9' });
    assert.equal(m.offer(ev('answered', { callId: 'other' })), undefined);
    assert.equal(m.offer(ev('hangup', { callId: 'id-9', to: '999', outcome: 'busy' })), 'busy');
  });

  it('with a reference (customuuid round trip) the event carrying it names the call', () => {
    const m = new CallMatcher(target);
    m.identify({ reference: 'crm-1' });
    assert.equal(m.offer(ev('ringing', { callId: 'u1', reference: 'other' })), undefined);
    assert.equal(m.offer(ev('ringing', { callId: 'u2', reference: 'crm-1' })), undefined);
    assert.equal(m.call, 'u2');
    // Later events of that call may come without the reference.
    assert.equal(m.offer(ev('hangup', { callId: 'u2', outcome: 'missed' })), 'missed');
  });

  it('hangup outcomes: the PBX word, except an answer of the first side of a double call', () => {
    const hangup = (outcome, call) => ev('hangup', { outcome, call });
    const route = (...events) => ({ route: events.map((event) => ({ event, at: 'x' })) });
    const cases = [
      ['makecall', [], hangup('missed'), 'missed'],
      ['makecall', [], hangup('busy'), 'busy'],
      ['makecall', [], hangup('failed'), 'failed'],
      ['makecall', [], hangup('answered'), 'answered', 'answer webhook lost: the hangup says answered'],
      ['doublecall', [ev('answered')], hangup('answered'), 'missed', 'only the first side answered'],
      ['doublecall', [], hangup('answered', route('ringing', 'answered', 'ringing')), 'missed', 'first side answered elsewhere'],
      ['doublecall', [], hangup('answered'), 'answered', 'no answer seen at all'],
      ['doublecall', [ev('answered')], ev('answered'), 'answered', 'the second answer is the destination'],
    ];
    for (const [operation, before, last, expected, why] of cases) {
      const m = new CallMatcher({ ...target, operation });
      m.identify({ callId: 'c1' });
      for (const e of before) assert.equal(m.offer(e), undefined);
      assert.equal(m.offer(last), expected, why ?? `${operation} ${last.outcome}`);
    }
  });

  it('shared state: undecided while ringing, answered at the destination answer, the end outcome once ended', () => {
    const state = (ended, outcome, ...hops) => ({ ended, summary: { outcome, route: hops.map((event) => ({ event, at: 'x' })) } });
    assert.equal(outcomeOfState(state(false, 'unknown', 'ringing'), 'makecall'), undefined);
    assert.equal(outcomeOfState(state(false, 'answered', 'ringing', 'answered'), 'makecall'), 'answered');
    assert.equal(outcomeOfState(state(false, 'answered', 'ringing', 'answered'), 'doublecall'), undefined);
    assert.equal(outcomeOfState(state(false, 'answered', 'ringing', 'answered', 'ringing', 'answered'), 'doublecall'), 'answered');
    assert.equal(outcomeOfState(state(true, 'busy', 'ringing'), 'makecall'), 'busy');
    assert.equal(outcomeOfState(state(true, 'answered', 'ringing', 'answered', 'ringing'), 'doublecall'), 'missed');
  });

  describe('OutcomeWait', () => {
    function source(extra = {}) {
      const listeners = new Set();
      return {
        listeners,
        emit: (e) => [...listeners].forEach((l) => l(e)),
        subscribe: (l) => {
          listeners.add(l);
          return () => listeners.delete(l);
        },
        summaryOf: (callId) => ({ callId, startedAt: 'x', outcome: 'answered', route: [], transfers: 0 }),
        ...extra,
      };
    }

    it('keeps the events that arrive before the request is answered, and matches them then', async () => {
      const s = source();
      const w = new OutcomeWait(s, target, 30000);
      // Subscribed before the request: its ringing and answer arrive before its answer does.
      s.emit(ev('ringing', { callId: 'early' }));
      s.emit(ev('answered', { callId: 'early' }));
      const result = await w.start({ callId: 'early' });
      assert.deepEqual(result, {
        outcome: 'answered',
        callId: 'early',
        call: { callId: 'early', startedAt: 'x', outcome: 'answered', route: [], transfers: 0 },
      });
      assert.equal(s.listeners.size, 0, 'unsubscribed once decided');
    });

    it('unknown when the wait passes, with the call matched so far', async () => {
      const s = source({ summaryOf: () => undefined });
      const w = new OutcomeWait(s, target, 20);
      s.emit(ev('ringing', { callId: 'c7' }));
      assert.deepEqual(await w.start({}), { outcome: 'unknown', callId: 'c7' });
      assert.equal(s.listeners.size, 0);
    });

    it('cancel (request failed, node closed) unsubscribes and stops every timer', async () => {
      const s = source();
      const w = new OutcomeWait(s, target, 60000);
      w.start({ callId: 'c1' });
      w.cancel();
      assert.equal(s.listeners.size, 0);
      s.emit(ev('answered'));
    });

    it('cluster mode, matched by numbers: the dial another instance saw names the call, then its shared state decides', async () => {
      const values = new Map();
      const store = {
        async set(key, value) {
          values.set(key, value);
        },
        async get(key) {
          return values.get(key);
        },
      };
      // The instance that receives the webhooks shares its outbound dials.
      const other = source({ store });
      const stop = shareDials(other);
      other.emit(ev('ringing', { direction: 'inbound', callId: 'in-1' }));
      other.emit(ev('recording', { callId: 'rec-1' }));
      assert.equal(values.size, 0, 'inbound calls and recordings are not dials');
      const waiting = source({ store });
      const w = new OutcomeWait(waiting, target, 60000);
      const result = w.start({ ok: true });
      other.emit(ev('ringing', { callId: '3cx-1' }));
      assert.deepEqual([...values.keys()].sort(), [dialKey('117', '+44 (20) 7946 0958')], 'one key: extension and from are the same');
      assert.equal(values.get(dialKey('117', '442079460958')).callId, '3cx-1');
      values.set('call:3cx-1', {
        ended: false,
        summary: {
          callId: '3cx-1',
          startedAt: 'x',
          outcome: 'answered',
          route: [{ event: 'ringing' }, { event: 'answered' }],
          transfers: 0,
        },
      });
      assert.deepEqual(await result, { outcome: 'answered', callId: '3cx-1', call: values.get('call:3cx-1').summary });
      stop();
      assert.equal(other.listeners.size, 0);
    });

    it('cluster mode: a shared dial from before the request is not the placed call', async () => {
      const store = {
        async get(key) {
          return key === dialKey('117', '442079460958') ? { callId: 'old', at: Date.now() - 60000 } : undefined;
        },
      };
      const w = new OutcomeWait(source({ store }), target, 600);
      assert.deepEqual(await w.start({ ok: true }), { outcome: 'unknown' });
    });

    it('cluster mode: reads the call from the shared store when the deciding webhook reached another instance', async () => {
      const reads = [];
      const store = {
        async get(key) {
          reads.push(key);
          if (reads.length < 2) throw Object.assign(new Error('store down'), { code: 'store_unavailable' });
          return {
            ended: true,
            summary: { callId: 'c9', startedAt: 'x', outcome: 'busy', route: [{ event: 'ringing', at: 'x' }], transfers: 0 },
          };
        },
      };
      const s = source({ store });
      const w = new OutcomeWait(s, target, 60000);
      const result = await w.start({ callId: 'c9' });
      assert.equal(result.outcome, 'busy');
      assert.equal(result.call.outcome, 'busy');
      assert.ok(reads.every((k) => k === 'call:c9'));
      assert.equal(s.listeners.size, 0);
    });
  });
});
