'use strict';
// Per-event cost of the two bounded caches on the webhook path (duplicate filter: 20,000
// fingerprints; call tracker: 10,000 calls) when full against the same work with 1,000 entries.
// They used a Map as a queue, deleting its oldest entries and iterating it from the start: V8
// skips deleted slots one by one until it rehashes, so a full cache cost ~10× more per event
// (13 µs instead of 1.3 µs). Ratios of the same work in the same run; each figure is the best of
// three runs of OPS operations. Run as a child process (`node test/bench/caches.js`); prints one
// JSON line.
const { DuplicateFilter } = require('../../dist/core/duplicate-filter');
const { CallTracker } = require('../../dist/core/call-tracker');

const OPS = 100_000;
const RUNS = 3;

/** Best of RUNS runs of `fn(ops)`, in µs per operation. */
function perOp(fn) {
  let best = Infinity;
  for (let run = 0; run < RUNS; run++) {
    const start = process.hrtime.bigint();
    fn(OPS);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e3 / OPS);
  }
  return best;
}

/** µs per delivery of a duplicate filter holding `max` fingerprints, every delivery a new one. */
function filterCost(max) {
  const keys = Array.from({ length: OPS }, (_, i) => `POST\n\n{"Event":"ringing","Id":"${i}_1-0","Callerid":"05551239988"}`);
  return perOp((n) => {
    const filter = new DuplicateFilter(10 * 60 * 1000, max);
    for (let i = 0; i < n; i++) filter.isDuplicate(keys[i]);
    if (filter.size !== max) throw new Error(`duplicate filter holds ${filter.size}, expected ${max}`);
  });
}

/**
 * µs per event of a call tracker holding `maxCalls` calls. Call ids cycle over twice its size:
 * every event finds its call evicted and starts a new one, so both sizes do the same work and
 * only the size of the cache differs.
 */
function trackerCost(maxCalls) {
  const events = Array.from({ length: OPS }, (_, i) => ({
    event: i % 10 === 9 ? 'hangup' : 'ringing',
    provider: '3cx-webapi',
    providerEvent: 'ringing',
    callId: `call-${i % (2 * maxCalls)}`,
    direction: 'inbound',
    extension: '202',
    timestamp: '2026-03-01T10:00:00.000Z',
  }));
  return perOp((n) => {
    const tracker = new CallTracker({ maxCalls });
    for (let i = 0; i < n; i++) tracker.apply(events[i]);
    if (tracker.size !== maxCalls) throw new Error(`call tracker holds ${tracker.size}, expected ${maxCalls}`);
  });
}

function main() {
  return {
    ops: OPS,
    runs: RUNS,
    filter: { small: 1000, full: 20000, smallUs: filterCost(1000), fullUs: filterCost(20000) },
    tracker: { small: 1000, full: 10000, smallUs: trackerCost(1000), fullUs: trackerCost(10000) },
  };
}

process.stdout.write(`${JSON.stringify(main())}\n`);
