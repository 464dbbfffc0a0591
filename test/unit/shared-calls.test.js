'use strict';
// SharedCalls' line of deliveries (cluster mode, SPEC section 8): deliveries of one call are taken
// in arrival order, deliveries of other calls do not wait for them (their Redis round trips
// overlap). A MemoryStore whose first claim is held open stands in for a slow Redis answer.
const assert = require('node:assert/strict');
const { MemoryStore } = require('../../dist/core/state');
const { SharedCalls } = require('../../dist/core/shared-calls');
const { DuplicateFilter } = require('../../dist/core/duplicate-filter');
const { CallTracker } = require('../../dist/core/call-tracker');

const AT = '2026-03-01T10:00:00.000Z';
const event = (callId, name, extension = '202') => ({
  event: name,
  provider: '3cx-webapi',
  providerEvent: name,
  callId,
  legId: `${callId}-0`,
  direction: 'inbound',
  extension,
  extensionType: 'extension',
  timestamp: AT,
});

/** SharedCalls over a MemoryStore whose first claim waits until `release()`. */
function heldFirstClaim() {
  const store = new MemoryStore({ configId: 'cfg-line' });
  const claim = store.claim.bind(store);
  let release;
  const released = new Promise((r) => (release = r));
  let claims = 0;
  store.claim = async (...args) => {
    if (claims++ === 0) await released;
    return claim(...args);
  };
  const shared = new SharedCalls({
    store,
    redisDown: 'local',
    local: { duplicates: new DuplicateFilter(), tracker: new CallTracker() },
  });
  return { store, shared, release };
}

/** Lets every pending promise and immediate run (no timer involved). */
async function drain(rounds = 20) {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Enqueues one delivery of `events`; its outcome lands in `done` under `name`. */
function deliver(shared, name, events, done) {
  shared.enqueue(
    events.map((e) => e.callId),
    async () => {
      done.push([name, await shared.take(`POST\n\n${name}`, events)]);
    },
    (err) => done.push([name, err]),
  );
}

describe('SharedCalls: the line of deliveries', () => {
  it('a delivery of another call is taken while an earlier one waits for the store', async () => {
    const { shared, release } = heldFirstClaim();
    const done = [];
    deliver(shared, 'call-1 ringing', [event('call-1', 'ringing')], done);
    deliver(shared, 'call-2 ringing', [event('call-2', 'ringing')], done);
    await drain();
    assert.deepEqual(
      done.map(([name]) => name),
      ['call-2 ringing'],
    );
    release();
    await shared.settled();
    assert.deepEqual(
      done.map(([name]) => name),
      ['call-2 ringing', 'call-1 ringing'],
    );
    assert.deepEqual(
      done.map(([, out]) => out.map((e) => `${e.callId} ${e.event}`)),
      [['call-2 ringing'], ['call-1 ringing']],
    );
  });

  it('deliveries of one call wait for each other and reach the shared state in arrival order', async () => {
    const { shared, store, release } = heldFirstClaim();
    const done = [];
    deliver(shared, 'ringing', [event('call-1', 'ringing')], done);
    deliver(shared, 'answered', [event('call-1', 'answered')], done);
    deliver(shared, 'hangup', [{ ...event('call-1', 'hangup'), outcome: 'answered', durationSeconds: 42 }], done);
    await drain();
    assert.deepEqual(done, []);
    release();
    await shared.settled();
    assert.deepEqual(
      done.map(([name]) => name),
      ['ringing', 'answered', 'hangup'],
    );
    const hangup = done[2][1][0];
    assert.deepEqual(
      hangup.call.route.map((h) => `${h.event}:${h.extension}`),
      ['ringing:202', 'answered:202'],
    );
    assert.equal(hangup.call.outcome, 'answered');
    assert.equal((await store.get('call:call-1')).summary.durationSeconds, 42);
  });

  it('a delivery with events of two calls waits for the earlier deliveries of both', async () => {
    const { shared, release } = heldFirstClaim();
    const done = [];
    deliver(shared, 'call-1 ringing', [event('call-1', 'ringing')], done);
    deliver(shared, 'call-1 and call-3', [event('call-3', 'ringing'), event('call-1', 'answered')], done);
    deliver(shared, 'call-3 answered', [event('call-3', 'answered')], done);
    deliver(shared, 'call-4 ringing', [event('call-4', 'ringing')], done);
    await drain();
    assert.deepEqual(
      done.map(([name]) => name),
      ['call-4 ringing'],
    );
    release();
    await shared.settled();
    assert.deepEqual(
      done.map(([name]) => name),
      ['call-4 ringing', 'call-1 ringing', 'call-1 and call-3', 'call-3 answered'],
    );
  });
});
