'use strict';
// Closing stale and reconciled calls in cluster mode (SPEC section 9): the shared index of open
// calls (a sorted set) and SharedCalls' atomic close, on the in-process MemoryStore and on a real
// redis-server with two stores standing for two instances. A clock of the test's own drives
// staleness: no timed assertions.
const assert = require('node:assert/strict');
const { randomBytes } = require('node:crypto');
const { MemoryStore, RedisStore } = require('../../dist/core/state');
const { SharedCalls } = require('../../dist/core/shared-calls');
const { DuplicateFilter } = require('../../dist/core/duplicate-filter');
const { CallTracker } = require('../../dist/core/call-tracker');
const { startRedis } = require('../helpers/redis-server');

const AT = '2026-03-01T10:00:00.000Z';
const event = (callId, name, extra = {}) => ({
  event: name,
  provider: 'voipnow',
  providerEvent: name,
  callId,
  direction: 'inbound',
  extension: '0003*210',
  extensionType: 'extension',
  timestamp: AT,
  ...extra,
});

let server;

const harnesses = [
  {
    name: 'MemoryStore',
    async stores() {
      const store = new MemoryStore({ configId: 'cfg-index' });
      return { a: store, b: store, close: () => store.close() };
    },
  },
  {
    name: 'RedisStore (two instances)',
    async stores() {
      const configId = `cfg-${randomBytes(4).toString('hex')}`;
      const make = () => new RedisStore({ url: server.url, configId, commandTimeoutMs: 3000 });
      const a = make();
      const b = make();
      return {
        a,
        b,
        close: async () => {
          await a.close();
          await b.close();
        },
      };
    },
  },
];

describe('open calls in the shared state (cluster mode)', function () {
  this.timeout(20000);

  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });

  for (const harness of harnesses) {
    describe(harness.name, () => {
      let stores;
      let clock;
      const instance = (store) =>
        new SharedCalls({
          store,
          redisDown: 'local',
          local: { duplicates: new DuplicateFilter(), tracker: new CallTracker() },
          now: () => clock,
        });
      let seq = 0;
      const deliver = (shared, events) => shared.take(`POST\n\n${seq++}-${JSON.stringify(events)}`, events);

      beforeEach(async () => {
        stores = await harness.stores();
        clock = 1_000_000;
      });
      afterEach(async () => {
        await stores.close();
      });

      it('index: set, range by score (lowest first, limited), remove, and the bound keeps the highest scores', async () => {
        const { a, b } = stores;
        await a.indexSet('idx', 'c3', 30, 60000, 100);
        await a.indexSet('idx', 'c1', 10, 60000, 100);
        await b.indexSet('idx', 'c2', 20, 60000, 100);
        assert.deepEqual(await b.indexRange('idx', Infinity, 10), ['c1', 'c2', 'c3']);
        assert.deepEqual(await a.indexRange('idx', 20, 10), ['c1', 'c2']);
        assert.deepEqual(await a.indexRange('idx', Infinity, 2), ['c1', 'c2']);
        await b.indexSet('idx', 'c1', 40, 60000, 100);
        assert.deepEqual(await a.indexRange('idx', Infinity, 10), ['c2', 'c3', 'c1'], 'a new score moves the member');
        await a.indexRemove('idx', 'c3');
        assert.deepEqual(await b.indexRange('idx', Infinity, 10), ['c2', 'c1']);
        await a.indexSet('idx', 'c4', 50, 60000, 2);
        assert.deepEqual(await a.indexRange('idx', Infinity, 10), ['c1', 'c4'], 'past the bound the lowest scores go');
        assert.deepEqual(await a.indexRange('constructor', Infinity, 10), []);
      });

      it('a call opened on one instance is open for the other; its hangup takes it out', async () => {
        const [one, two] = [instance(stores.a), instance(stores.b)];
        await deliver(one, [event('call-1', 'ringing')]);
        await deliver(two, [event('call-2', 'ringing')]);
        assert.deepEqual((await two.openCalls(10)).sort(), ['call-1', 'call-2']);
        await deliver(two, [event('call-1', 'answered')]);
        await deliver(two, [event('call-1', 'hangup')]);
        assert.deepEqual(await one.openCalls(10), ['call-2']);
      });

      it('idle calls: only those with no event for the period; one with a newer event is not, and is re-scored', async () => {
        const [one, two] = [instance(stores.a), instance(stores.b)];
        await deliver(one, [event('quiet', 'ringing')]);
        await deliver(one, [event('busy', 'ringing')]);
        clock += 50_000;
        await deliver(two, [event('busy', 'answered')]);
        clock += 20_000;
        assert.deepEqual(await two.idleCalls(60_000, 10), ['quiet']);
        clock += 50_000;
        assert.deepEqual((await one.idleCalls(60_000, 10)).sort(), ['busy', 'quiet']);
      });

      it('close: exactly one of two instances closing at once emits; the late real hangup is dropped', async () => {
        const [one, two] = [instance(stores.a), instance(stores.b)];
        await deliver(one, [event('lost', 'ringing')]);
        await deliver(two, [event('lost', 'answered')]);
        clock += 10_000;
        const closed = await Promise.all([
          one.close('lost', 'stale', 'voipnow', clock - 5000),
          two.close('lost', 'stale', 'voipnow', clock - 5000),
        ]);
        const events = closed.filter(Boolean);
        assert.equal(events.length, 1);
        const [synthetic] = events;
        assert.equal(synthetic.event, 'hangup');
        assert.equal(synthetic.providerEvent, 'stale');
        assert.equal(synthetic.synthetic, true);
        assert.equal(synthetic.outcome, 'unknown');
        assert.equal(synthetic.call.outcome, 'answered');
        assert.deepEqual(await one.openCalls(10), [], 'the closed call left the index');
        const [late] = await deliver(two, [event('lost', 'hangup', { outcome: 'answered', durationSeconds: 30 })]);
        assert.equal(late, undefined, 'the real hangup after the close is not emitted');
        const state = await stores.a.get('call:lost');
        assert.equal(state.ended, true);
        assert.equal(state.closedBy, 'stale');
      });

      it('close: a real event after quietSince wins, the call stays open', async () => {
        const one = instance(stores.a);
        await deliver(one, [event('alive', 'ringing')]);
        const quietSince = clock;
        clock += 1000;
        await deliver(one, [event('alive', 'answered')]);
        assert.equal(await one.close('alive', 'reconciled', 'voipnow', quietSince), undefined);
        assert.deepEqual(await one.openCalls(10), ['alive']);
        assert.equal(await one.close('gone-call', 'reconciled', 'voipnow', clock), undefined, 'a call never seen');
      });
    });
  }
});
