'use strict';
// The two bounded caches on the webhook path (duplicate filter: 20,000 fingerprints; call
// tracker: 10,000 calls) stay at their size however much passes through, and forget the least
// recent first. What a full cache costs per event is measured by `npm run bench` (section c).
const assert = require('node:assert/strict');
const { DuplicateFilter } = require('../../dist/core/duplicate-filter');
const { CallTracker } = require('../../dist/core/call-tracker');

/** A ringing (or hangup) event of `callId`, as the normalizers hand it to the tracker. */
const callEvent = (callId, event = 'ringing') => ({
  event,
  provider: '3cx-webapi',
  providerEvent: event,
  callId,
  direction: 'inbound',
  extension: '202',
  timestamp: '2026-03-01T10:00:00.000Z',
});

describe('hardening: bounded caches keep their size and forget the oldest first', function () {
  this.timeout(60000);

  it('duplicate filter: after 100,000 distinct deliveries it holds the last 20,000', () => {
    const filter = new DuplicateFilter();
    const key = (i) => `POST\n\n{"Event":"ringing","Id":"${i}_1-0","Callerid":"05551239988"}`;
    for (let i = 0; i < 100000; i++) assert.equal(filter.isDuplicate(key(i)), false);
    assert.equal(filter.size, 20000);
    assert.equal(filter.isDuplicate(key(99999)), true, 'the newest is remembered');
    assert.equal(filter.isDuplicate(key(80000)), true, 'the oldest of the 20,000 kept is remembered');
    assert.equal(filter.size, 20000);
    assert.equal(filter.isDuplicate(key(79999)), false, 'the one before was forgotten');
    assert.equal(filter.size, 20000, 'and taking it back evicts the oldest again');
    assert.equal(filter.isDuplicate(key(80000)), false, 'a duplicate does not renew its entry: 80,000, still the oldest, went next');
  });

  it('call tracker: after 100,000 calls it holds the last 10,000', () => {
    const tracker = new CallTracker();
    for (let i = 0; i < 100000; i++) tracker.apply(callEvent(`call-${i}`));
    assert.equal(tracker.size, 10000);
    const routeOf = (callId) => tracker.apply(callEvent(callId, 'hangup')).call.route.length;
    assert.equal(routeOf('call-99999'), 1, 'the newest call is tracked with its ringing hop');
    assert.equal(routeOf('call-90000'), 1, 'the oldest of the 10,000 kept is tracked');
    assert.equal(routeOf('call-89999'), 0, 'the one before was forgotten: its hangup starts an empty call');
    assert.equal(tracker.size, 10000);
  });

  it('both forget the oldest first, and re-seen entries count as new', () => {
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
    const ev = (callId, event = 'ringing') => ({ ...callEvent(callId, event), extension: '1' });
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
