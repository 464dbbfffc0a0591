'use strict';
// SharedCalls under `redisDown: reject`: a delivery's claim is pending until its events are in
// the shared state. Another instance that finds a pending claim answers 503 (the claimer may be
// undoing it after answering 503 itself), and a duplicate only once the claim says "taken".
const assert = require('node:assert/strict');
const { createHash } = require('node:crypto');
const { SharedCalls, SHARED_PENDING_CLAIM_MS, SHARED_DUPLICATE_WINDOW_MS } = require('../../dist/core/shared-calls');
const { MemoryStore } = require('../../dist/core/state');
const { DuplicateFilter } = require('../../dist/core/duplicate-filter');
const { CallTracker } = require('../../dist/core/call-tracker');

const ringing = (callId) => ({
  event: 'ringing',
  provider: 'cloud-callcenter',
  providerEvent: 'ring',
  callId,
  direction: 'inbound',
  extension: '8001',
  from: '13800000000',
  timestamp: '2026-11-29T08:00:00.000Z',
});

/** One instance's SharedCalls on `store` (the store every instance shares). */
const instance = (store, redisDown = 'reject') =>
  new SharedCalls({ store, redisDown, local: { duplicates: new DuplicateFilter(), tracker: new CallTracker() } });

describe('SharedCalls: pending claims under redisDown reject', () => {
  it('a claim left pending by another instance is refused (503), not dropped as a duplicate', async () => {
    const store = new MemoryStore({ configId: 'cfg' });
    const a = instance(store);
    const b = instance(store);
    // What instance A's claim leaves when Redis takes it after A gave up on it.
    const seenKey = `seen:${createHash('sha256').update('fp-1').digest('base64url')}`;
    assert.equal(await store.claim(seenKey, 60000), true);
    assert.equal(await b.take('fp-1', [ringing('c1')]), 'refused');
    // A undoes it: the retry is new.
    await store.delete(seenKey);
    const taken = await b.take('fp-1', [ringing('c1')]);
    assert.equal(Array.isArray(taken) && taken.length, 1);
    assert.equal(taken[0].event, 'ringing');
    // Taken now: a duplicate for every instance.
    assert.equal(await a.take('fp-1', [ringing('c1')]), 'duplicate');
    assert.equal(await b.take('fp-1', [ringing('c1')]), 'duplicate');
    assert.ok(SHARED_PENDING_CLAIM_MS < SHARED_DUPLICATE_WINDOW_MS);
  });

  it('redisDown local keeps one claim per delivery: a duplicate at once', async () => {
    const store = new MemoryStore({ configId: 'cfg' });
    const a = instance(store, 'local');
    const b = instance(store, 'local');
    assert.equal((await a.take('fp-2', [ringing('c2')])).length, 1);
    assert.equal(await b.take('fp-2', [ringing('c2')]), 'duplicate');
  });
});
