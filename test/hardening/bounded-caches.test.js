'use strict';
// The two bounded caches on the webhook path (duplicate filter: 20,000 fingerprints; call
// tracker: 10,000 calls) must cost the same per event whether they hold a thousand entries or are
// full. They used a Map as a queue, deleting its oldest entries and iterating it from the start:
// V8 skips deleted slots one by one until it rehashes, so a full cache cost ~10× more per event
// (13 µs instead of 1.3 µs) — the largest single cost of a webhook in `npm run bench`. Ratios of
// the same work in the same run, with a wide margin: a guard against going back, not a timing test.
const assert = require('node:assert/strict');
const { DuplicateFilter } = require('../../dist/core/duplicate-filter');
const { CallTracker } = require('../../dist/core/call-tracker');

const OPS = 100000;

/** Best of three runs of `fn(ops)`, in µs per operation. */
function perOp(fn) {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const start = process.hrtime.bigint();
    fn(OPS);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e3 / OPS);
  }
  return best;
}

describe('hardening: bounded caches cost the same per event when full', function () {
  this.timeout(60000);

  it('duplicate filter: 20,000 fingerprints cost about what 1,000 do', () => {
    const keys = Array.from({ length: OPS }, (_, i) => `POST\n\n{"Event":"ringing","Id":"${i}_1-0","Callerid":"05551239988"}`);
    const cost = (max) =>
      perOp((n) => {
        const filter = new DuplicateFilter(10 * 60 * 1000, max);
        for (let i = 0; i < n; i++) filter.isDuplicate(keys[i]);
        assert.equal(filter.size, max);
      });
    const small = cost(1000);
    const full = cost(20000);
    assert.ok(full < small * 4, `${full.toFixed(2)} µs per delivery with 20,000 remembered, ${small.toFixed(2)} µs with 1,000`);
  });

  it('call tracker: 10,000 calls cost about what 1,000 do', () => {
    // Call ids cycle over twice the tracker's size: every event finds its call evicted and starts
    // a new one, so both sizes do the same work and only the size of the cache differs.
    const events = (maxCalls) =>
      Array.from({ length: OPS }, (_, i) => ({
        event: i % 10 === 9 ? 'hangup' : 'ringing',
        provider: '3cx-webapi',
        providerEvent: 'ringing',
        callId: `call-${i % (2 * maxCalls)}`,
        direction: 'inbound',
        extension: '202',
        timestamp: '2026-03-01T10:00:00.000Z',
      }));
    const cost = (maxCalls) => {
      const list = events(maxCalls);
      return perOp((n) => {
        const tracker = new CallTracker({ maxCalls });
        for (let i = 0; i < n; i++) tracker.apply(list[i]);
        assert.equal(tracker.size, maxCalls);
      });
    };
    const small = cost(1000);
    const full = cost(10000);
    assert.ok(full < small * 4, `${full.toFixed(2)} µs per event with 10,000 calls, ${small.toFixed(2)} µs with 1,000`);
  });

  it('both still forget the oldest first, and re-seen entries count as new', () => {
    let now = 0;
    const filter = new DuplicateFilter(1000, 3, () => now);
    for (const k of ['a', 'b', 'c']) assert.equal(filter.isDuplicate(k), false);
    assert.equal(filter.isDuplicate('a'), true);
    assert.equal(filter.isDuplicate('d'), false, 'evicts a, the oldest recorded');
    assert.equal(filter.isDuplicate('a'), false);
    now = 1500;
    assert.equal(filter.isDuplicate('d'), false, 'outside the window');
    assert.equal(filter.size, 1, 'the expired ones are gone');

    const tracker = new CallTracker({ maxCalls: 2, ttlMs: 1000, now: () => now });
    const ev = (callId, event = 'ringing') => ({
      event,
      provider: '3cx-webapi',
      providerEvent: event,
      callId,
      direction: 'inbound',
      extension: '1',
      timestamp: '2026-03-01T10:00:00.000Z',
    });
    tracker.apply(ev('x'));
    tracker.apply(ev('y'));
    tracker.apply(ev('x'));
    tracker.apply(ev('z'));
    assert.equal(tracker.apply(ev('x', 'hangup')).call.route.length, 2, 'x was touched last: kept');
    assert.equal(tracker.apply(ev('y', 'hangup')).call.route.length, 0, 'y was the least recent: forgotten');
    now = 3000;
    assert.equal(tracker.apply(ev('x', 'hangup')).call.route.length, 0, 'past the TTL: forgotten');
    assert.equal(tracker.size, 1);
  });
});
