'use strict';
// The rules of closing calls whose hangup never came (SPEC section 9), with a clock of the test's
// own: the tracker's open calls (bounded with it), the synthetic hangup and the late real one,
// and CallCloser's decisions (stale after staleAfter; reconciled only when listed before and
// missing for the grace period; a failed check closes nothing).
const assert = require('node:assert/strict');
const { CallTracker } = require('../../dist/core/call-tracker');
const { CallCloser, MAX_CLOSES_PER_SWEEP } = require('../../dist/core/call-closer');

const quiet = { debug: () => undefined, warn: () => undefined };
const event = (callId, name, at = '2026-03-01T10:00:00.000Z', extra = {}) => ({
  event: name,
  provider: 'voipnow',
  providerEvent: name,
  callId,
  direction: 'inbound',
  extension: '0003*210',
  extensionType: 'extension',
  timestamp: at,
  ...extra,
});

describe('closing calls whose hangup never came', () => {
  describe('CallTracker', () => {
    let clock;
    const tracker = (options = {}) => new CallTracker({ now: () => clock, ...options });
    beforeEach(() => {
      clock = 1_000_000;
    });

    it('knows its open calls: added on the first event, gone at the hangup and when evicted', () => {
      const t = tracker({ maxCalls: 2 });
      t.apply(event('a', 'ringing'));
      t.apply(event('b', 'ringing'));
      assert.deepEqual(t.openCalls(10), ['a', 'b']);
      t.apply(event('b', 'hangup'));
      assert.deepEqual(t.openCalls(10), ['a']);
      t.apply(event('c', 'ringing'));
      t.apply(event('d', 'ringing'));
      assert.equal(t.openCount, 2, 'the evicted call left the open calls too');
      assert.deepEqual(t.openCalls(10).sort(), ['c', 'd']);
    });

    it('open calls outlive ended ones under pressure: a call whose hangup was lost is still closed after heavy traffic', () => {
      const t = tracker({ maxCalls: 3 });
      t.apply(event('lost', 'ringing'));
      t.apply(event('lost', 'answered'));
      for (let i = 0; i < 1000; i++) {
        clock += 10;
        t.apply(event(`c${i}`, 'ringing'));
        t.apply(event(`c${i}`, 'hangup'));
      }
      assert.equal(t.size, 3, 'still bounded');
      assert.deepEqual(t.openCalls(10), ['lost']);
      assert.deepEqual(t.idleCalls(5000, 10), ['lost']);
      const closed = t.close('lost', 'stale', 'voipnow', clock - 5000);
      assert.equal(closed.call.answeredBy, '0003*210', 'the summary was kept, not started over');
      assert.deepEqual(t.openCalls(10), []);
      // Only open calls left: then the least recently active open call goes.
      for (const id of ['p', 'q', 'r', 's']) t.apply(event(id, 'ringing'));
      assert.deepEqual(t.openCalls(10), ['q', 'r', 's']);
    });

    it('idle calls: open ones with no event for the period, at most max', () => {
      const t = tracker();
      t.apply(event('old', 'ringing'));
      t.apply(event('ended', 'ringing'));
      t.apply(event('ended', 'hangup'));
      clock += 5000;
      t.apply(event('new', 'ringing'));
      assert.deepEqual(t.idleCalls(5000, 10), ['old']);
      clock += 5000;
      assert.deepEqual(t.idleCalls(5000, 10), ['old', 'new']);
      assert.deepEqual(t.idleCalls(5000, 1), ['old']);
    });

    it('close: a synthetic hangup with the summary; the late real hangup is dropped, a recording is not', () => {
      const t = tracker();
      t.apply(event('x', 'ringing'));
      t.apply(event('x', 'answered', '2026-03-01T10:00:05.000Z'));
      clock += 60_000;
      const closed = t.close('x', 'reconciled', 'voipnow', clock);
      const { call, timestamp, ...rest } = closed;
      assert.deepEqual(rest, {
        event: 'hangup',
        provider: 'voipnow',
        providerEvent: 'reconciled',
        callId: 'x',
        direction: 'inbound',
        outcome: 'unknown',
        synthetic: true,
        extension: '0003*210',
        extensionType: 'extension',
      });
      assert.equal(timestamp, new Date(clock).toISOString());
      assert.equal(call.outcome, 'answered');
      assert.equal(call.endedAt, timestamp);
      assert.equal(t.openCount, 0);
      assert.equal(t.close('x', 'stale', 'voipnow', clock), undefined, 'closed once');
      assert.equal(t.apply(event('x', 'hangup', '2026-03-01T10:02:00.000Z', { outcome: 'answered', durationSeconds: 90 })), undefined);
      assert.equal(t.summaryOf('x').endedAt, timestamp, 'the late hangup changed nothing');
      const recording = t.apply(event('x', 'recording', '2026-03-01T10:02:01.000Z', { recordingUrls: ['https://pbx.example/r.wav'] }));
      assert.equal(recording.event, 'recording');
    });

    it('close: the synthetic hangup names the parties as the first events of the call did', () => {
      const t = tracker();
      t.apply(event('p', 'ringing', undefined, { from: '02079460000', to: '0003*210' }));
      t.apply(event('p', 'answered', '2026-03-01T10:00:05.000Z', { from: '02079460000', to: '0003*211' }));
      const closed = t.close('p', 'stale', 'voipnow', clock + 60_000);
      assert.equal(closed.from, '02079460000');
      assert.equal(closed.to, '0003*210');
      // A call whose events named no party: none invented.
      t.apply(event('q', 'ringing'));
      const bare = t.close('q', 'stale', 'voipnow', clock + 60_000);
      assert.equal('from' in bare, false);
      assert.equal('to' in bare, false);
    });

    it('close: not when the call had an event after quietSince, nor a call never seen', () => {
      const t = tracker();
      t.apply(event('y', 'ringing'));
      const quietSince = clock;
      clock += 1;
      t.apply(event('y', 'answered'));
      assert.equal(t.close('y', 'stale', 'voipnow', quietSince), undefined);
      assert.equal(t.openCount, 1);
      assert.equal(t.close('constructor', 'stale', 'voipnow', clock), undefined);
    });
  });

  describe('CallCloser', () => {
    let clock;
    /** Open calls and the PBX's list, as the test sets them; records what was closed. */
    function fakeCalls({ canReconcile = true } = {}) {
      return {
        canReconcile,
        open: [],
        idle: [],
        listed: new Set(),
        listFails: false,
        listRequests: 0,
        closed: [],
        async idleCalls(_idleMs, max) {
          return this.idle.slice(0, max);
        },
        async openCalls(max) {
          return this.open.slice(0, max);
        },
        async closeCall(id, reason, quietSince) {
          this.closed.push([id, reason, quietSince]);
          this.open = this.open.filter((o) => o !== id);
          return true;
        },
        async activeCallIds() {
          this.listRequests++;
          if (this.listFails) throw new Error('unreachable');
          return new Set(this.listed);
        },
        async holdsCloserLease() {
          return true;
        },
      };
    }
    const closer = (calls, options = {}) =>
      new CallCloser(calls, { staleAfterSeconds: 0, reconcile: true, reconcileEveryMs: 60_000, log: quiet, now: () => clock, ...options });

    beforeEach(() => {
      clock = 5_000_000;
    });

    it('reconcile: a call listed, then missing for 30 s, is closed; one never listed is not', async () => {
      const calls = fakeCalls();
      const c = closer(calls);
      calls.open = ['listed', 'never'];
      calls.listed = new Set(['listed']);
      assert.equal(await c.check(), 0);
      calls.listed = new Set();
      clock += 10_000;
      assert.equal(await c.check(), 0, 'missing since this check');
      clock += 29_999;
      assert.equal(await c.check(), 0, 'not yet 30 s');
      clock += 1;
      assert.equal(await c.check(), 1);
      assert.deepEqual(calls.closed, [['listed', 'reconciled', clock]]);
      clock += 120_000;
      assert.equal(await c.check(), 0, 'the call never listed stays open');
      assert.deepEqual(calls.open, ['never']);
    });

    it('reconcile: listed again before the grace ends, the call stays; no open call, no request', async () => {
      const calls = fakeCalls();
      const c = closer(calls);
      assert.equal(await c.check(), 0);
      assert.equal(calls.listRequests, 0, 'nothing open: the PBX is not asked');
      calls.open = ['flaky'];
      calls.listed = new Set(['flaky']);
      await c.check();
      calls.listed = new Set();
      clock += 20_000;
      await c.check();
      calls.listed = new Set(['flaky']);
      clock += 20_000;
      await c.check();
      calls.listed = new Set();
      clock += 20_000;
      assert.equal(await c.check(), 0, 'missing again: the grace starts again');
      assert.deepEqual(calls.closed, []);
    });

    it('reconcile: a failed list closes nothing; off, or a provider without a matchable list: never asked', async () => {
      const calls = fakeCalls();
      const c = closer(calls);
      calls.open = ['z'];
      calls.listed = new Set(['z']);
      await c.check();
      calls.listFails = true;
      clock += 60_000;
      assert.equal(await c.check(), 0);
      clock += 60_000;
      assert.equal(await c.check(), 0);
      assert.equal(c.counters.failedChecks, 2);
      assert.deepEqual(calls.closed, []);

      for (const [calls2, options] of [
        [fakeCalls(), { reconcile: false }],
        [fakeCalls({ canReconcile: false }), {}],
      ]) {
        calls2.open = ['q'];
        const off = closer(calls2, options);
        assert.equal(off.reconciles, false);
        assert.equal(await off.check(), 0);
        assert.equal(calls2.listRequests, 0);
      }
    });

    it('stale: idle calls closed with quietSince = now - staleAfter, at most MAX_CLOSES_PER_SWEEP a sweep; 0 = never', async () => {
      const calls = fakeCalls();
      calls.idle = Array.from({ length: MAX_CLOSES_PER_SWEEP + 5 }, (_, i) => `s${i}`);
      const c = closer(calls, { staleAfterSeconds: 60, reconcile: false });
      assert.equal(await c.sweep(), MAX_CLOSES_PER_SWEEP);
      assert.deepEqual(calls.closed[0], ['s0', 'stale', clock - 60_000]);
      const never = closer(fakeCalls(), { staleAfterSeconds: 0 });
      assert.equal(never.staleAfterMs, 0);
      assert.equal(await never.sweep(), 0);
    });
  });
});
