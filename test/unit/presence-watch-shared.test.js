'use strict';
// `pbx-status` `watch` in cluster mode (SPEC section 8), on PresenceWatch itself: two watches of
// one node are two replicas (for Redis: two RedisStores on a redis-server of the test's own; in
// memory: one MemoryStore twice, with a clock of the test's own). They poll one fake PBX whose
// extension states the test changes between ticks. Ticks are driven by hand: the interval is a
// minute, so no timer fires during a test (one test runs on short timers and counts ticks).
const assert = require('node:assert/strict');
const { randomBytes } = require('node:crypto');
const { createClient } = require('@redis/client');
const { MemoryStore, RedisStore, StoreUnavailableError } = require('../../dist/core/state');
const { PresenceWatch } = require('../../dist/nodes/presence-watch');
const { startRedis } = require('../helpers/redis-server');

const INTERVAL = 60000;
const NODE_ID = 'watch-node-7f3a';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `condition()` holds (bounded by mocha's timeout). */
async function until(condition) {
  while (!condition()) await sleep(5);
}

/** A promise and the function that resolves it. */
function gate() {
  let open;
  const opened = new Promise((r) => (open = r));
  return { opened, open };
}

/** The PBX both replicas poll: extension states the test sets, and who polled how often. */
class FakePbx {
  constructor() {
    this.states = new Map([
      ['101', 'idle'],
      ['102', 'idle'],
      ['103', 'idle'],
      ['104', 'offline'],
    ]);
    this.polls = { A: 0, B: 0 };
    this.held = new Map();
  }

  set(extension, state) {
    this.states.set(extension, state);
  }

  /** The next poll by `owner` waits (after taking its snapshot) until `release()`. */
  holdNextPoll(owner) {
    const started = gate();
    const released = gate();
    this.held.set(owner, { started, released });
    return { started: started.opened, release: released.open };
  }

  async poll(owner) {
    this.polls[owner]++;
    if (this.pollMs) await sleep(this.pollMs);
    const snapshot = [...this.states].map(([extension, state]) => ({ extension, state }));
    const held = this.held.get(owner);
    if (held) {
      this.held.delete(owner);
      held.started.open();
      await held.released.opened;
    }
    return snapshot;
  }
}

/**
 * A replica's view of the store, with the faults the tests need: `down` (every call fails as an
 * unreachable store does), `crashed` (the lease is never released: the process died), and hooks
 * around `update`.
 */
function controlledStore(store) {
  const ctl = { down: false, crashed: false, beforeUpdate: null, afterUpdate: null };
  const call =
    (name) =>
    async (...args) => {
      if (ctl.down) throw new StoreUnavailableError('test: the store is down');
      return store[name](...args);
    };
  const wrapped = {
    kind: store.kind,
    get isUp() {
      return !ctl.down && store.isUp;
    },
    get lastError() {
      return store.lastError;
    },
    onHealth: (listener) => store.onHealth(listener),
    claim: call('claim'),
    get: call('get'),
    set: call('set'),
    delete: call('delete'),
    acquireLease: call('acquireLease'),
    renewLease: call('renewLease'),
    isCurrent: call('isCurrent'),
    withLock: call('withLock'),
    async releaseLease(...args) {
      if (!ctl.crashed) await call('releaseLease')(...args);
    },
    async update(...args) {
      if (ctl.beforeUpdate) await ctl.beforeUpdate();
      const value = await call('update')(...args);
      if (ctl.afterUpdate) await ctl.afterUpdate();
      return value;
    },
    close: async () => undefined,
  };
  return { store: wrapped, ctl };
}

/** One replica of the watch node: its PresenceWatch, its poll outcomes, the changes it reported. */
function replica(owner, store, pbx, reported, intervalMs = INTERVAL) {
  const outcomes = [];
  const watch = new PresenceWatch({
    intervalMs,
    poll: () => pbx.poll(owner),
    onChange: (change) => reported.push({ by: owner, ...change }),
    onPoll: (outcome) => outcomes.push(outcome),
    shared: { store, name: NODE_ID, owner },
  });
  const last = () => outcomes[outcomes.length - 1];
  return { owner, watch, outcomes, last, standby: () => last()?.standby === true, tick: () => watch.tick() };
}

const memoryHarness = {
  name: 'MemoryStore (one store, two replicas)',
  async open({ realClock = false } = {}) {
    let clock = 1_000_000;
    const store = new MemoryStore({ configId: `cfg-${randomBytes(4).toString('hex')}`, ...(realClock ? {} : { now: () => clock }) });
    const a = controlledStore(store);
    const b = controlledStore(store);
    return {
      a,
      b,
      /** The lease runs out, as it does when its holder is paused for longer than its TTL. */
      expireLease: async () => {
        clock += 2 * INTERVAL + 1;
      },
      /** Lease and stored states gone between two polls, as when Redis restarts empty unnoticed. */
      loseEverything: async () => {
        clock += 2 * INTERVAL + 1;
        await store.delete(`watch:${NODE_ID}:states`);
      },
      storeDown: async () => {
        a.ctl.down = true;
        b.ctl.down = true;
      },
      storeUp: async () => {
        a.ctl.down = false;
        b.ctl.down = false;
      },
      close: () => store.close(),
    };
  },
};

let server;
let rawClient;
const redisHarness = {
  name: 'RedisStore (two clients on a real redis-server)',
  async open() {
    const configId = `cfg-${randomBytes(4).toString('hex')}`;
    const make = async () => {
      const store = new RedisStore({ url: server.url, configId, commandTimeoutMs: 3000 });
      await until(() => store.isUp);
      return store;
    };
    const stores = [await make(), await make()];
    const [a, b] = stores.map(controlledStore);
    return {
      a,
      b,
      expireLease: async () => {
        assert.equal(await rawClient.del(`pbx:${configId}#lease:watch:${NODE_ID}`), 1, 'the lease was held');
      },
      /** Restarted empty between two polls (no command failed meanwhile). */
      loseEverything: async () => {
        await server.restart();
        await until(() => stores.every((s) => s.isUp));
      },
      /** The server dies: every command of both replicas fails. */
      storeDown: async () => {
        await server.kill();
        await until(() => stores.every((s) => !s.isUp));
      },
      /** It comes back empty (no persistence): no lease, no stored states. */
      storeUp: async () => {
        await server.restart();
        await until(() => stores.every((s) => s.isUp));
      },
      close: async () => {
        for (const s of stores) await s.close();
      },
    };
  },
};

describe('PresenceWatch in cluster mode (pbx-status watch, SPEC section 8)', function () {
  this.timeout(20000);

  before(async function () {
    this.timeout(20 * 60 * 1000); // a first run may install redis-server
    server = await startRedis();
    rawClient = createClient({ url: server.url });
    rawClient.on('error', () => undefined);
    await rawClient.connect();
  });

  after(async () => {
    await rawClient?.quit().catch(() => undefined);
    await server?.stop();
  });

  for (const harness of [memoryHarness, redisHarness]) {
    describe(harness.name, () => {
      let h;
      let pbx;
      let reported;
      let A;
      let B;

      beforeEach(async () => {
        h = await harness.open();
        pbx = new FakePbx();
        reported = [];
        A = replica('A', h.a.store, pbx, reported);
        B = replica('B', h.b.store, pbx, reported);
      });

      afterEach(async () => {
        h.a.ctl.crashed = true; // no release on a store the test may have closed
        h.b.ctl.crashed = true;
        await A.watch.stop();
        await B.watch.stop();
        await h.close();
      });

      /** A then B, as both instances' timers do. */
      const tickBoth = async () => {
        await A.tick();
        await B.tick();
      };

      it('exactly one replica polls, and each change is reported once in total', async () => {
        await tickBoth();
        assert.deepEqual(pbx.polls, { A: 1, B: 0 });
        assert.deepEqual(A.last(), { ok: true, count: 4 });
        assert.deepEqual(B.last(), { ok: true, standby: true });
        assert.deepEqual(reported, [], 'the first poll is the baseline');

        pbx.set('101', 'busy');
        await tickBoth();
        // The other order too: the holder keeps its lease, whoever ticks first.
        await B.tick();
        await A.tick();
        pbx.set('101', 'idle');
        pbx.set('104', 'idle');
        await tickBoth();
        await tickBoth();

        assert.deepEqual(pbx.polls, { A: 5, B: 0 });
        assert.ok(
          B.outcomes.every((o) => o.standby === true),
          'B stayed on standby',
        );
        assert.deepEqual(reported, [
          { by: 'A', extension: '101', state: 'busy', previous: 'idle' },
          { by: 'A', extension: '101', state: 'idle', previous: 'busy' },
          { by: 'A', extension: '104', state: 'idle', previous: 'offline' },
        ]);
      });

      it('the leader stops (its lease released): the other polls at its next tick, from the stored states', async () => {
        await tickBoth();
        pbx.set('101', 'busy');
        await tickBoth();
        // Changed after the leader's last poll: the next leader must report it, once.
        pbx.set('102', 'ringing');
        await A.watch.stop();
        await B.tick();
        assert.deepEqual(B.last(), { ok: true, count: 4 });
        pbx.set('102', 'busy');
        await B.tick();
        await A.tick(); // stopped: nothing
        await B.tick();

        assert.deepEqual(pbx.polls, { A: 2, B: 3 });
        assert.deepEqual(reported, [
          { by: 'A', extension: '101', state: 'busy', previous: 'idle' },
          { by: 'B', extension: '102', state: 'ringing', previous: 'idle' },
          { by: 'B', extension: '102', state: 'busy', previous: 'ringing' },
        ]);
      });

      it('stopped while its poll is under way: the leader stores nothing, the next reports the change', async () => {
        await tickBoth();
        const held = pbx.holdNextPoll('A');
        const polling = A.tick();
        await held.started;
        pbx.set('103', 'busy');
        await A.watch.stop();
        held.release();
        await polling;
        await B.tick();
        assert.deepEqual(reported, [{ by: 'B', extension: '103', state: 'busy', previous: 'idle' }]);
      });

      it('stopped after it stored the new states: the stopping leader reports what it stored (else nobody would)', async () => {
        await tickBoth();
        const stored = gate();
        const finish = gate();
        h.a.ctl.afterUpdate = async () => {
          stored.open();
          await finish.opened;
        };
        pbx.set('103', 'busy');
        const polling = A.tick();
        await stored.opened;
        await A.watch.stop();
        finish.open();
        await polling;
        await B.tick();
        await B.tick();
        assert.deepEqual(reported, [{ by: 'A', extension: '103', state: 'busy', previous: 'idle' }]);
      });

      it('stopped before it could store the new states: nothing stored (lease_lost), the next leader reports it', async () => {
        await tickBoth();
        const reached = gate();
        const go = gate();
        h.a.ctl.beforeUpdate = async () => {
          reached.open();
          await go.opened;
        };
        pbx.set('103', 'busy');
        const polling = A.tick();
        await reached.opened;
        await A.watch.stop();
        go.open();
        await polling;
        await B.tick();
        assert.deepEqual(reported, [{ by: 'B', extension: '103', state: 'busy', previous: 'idle' }]);
      });

      it('a paused leader whose lease another replica took reports nothing (fencing: lease_lost) and stands by', async () => {
        await tickBoth();
        const held = pbx.holdNextPoll('A');
        const paused = A.tick();
        await held.started;
        pbx.set('101', 'ringing');
        await h.expireLease();
        await B.tick();
        assert.deepEqual(B.last(), { ok: true, count: 4 }, 'B took over');
        held.release();
        await paused;
        assert.deepEqual(A.last(), { ok: true, standby: true }, 'A found out it lost the lease');
        pbx.set('101', 'busy');
        await tickBoth();
        await tickBoth();

        assert.deepEqual(pbx.polls, { A: 2, B: 3 });
        assert.deepEqual(reported, [
          { by: 'B', extension: '101', state: 'ringing', previous: 'idle' },
          { by: 'B', extension: '101', state: 'busy', previous: 'ringing' },
        ]);
      });

      it('store down: each replica polls on its own from its own last poll (a former leader repeats nothing); back up: no repeat, nothing lost', async () => {
        // B leads first, then pauses: A takes over. B's own last poll is now out of date.
        await B.tick();
        await A.tick();
        pbx.set('101', 'busy');
        await B.tick();
        await h.expireLease();
        await A.tick();
        await B.tick();
        pbx.set('102', 'ringing');
        await tickBoth();
        assert.deepEqual(reported, [
          { by: 'B', extension: '101', state: 'busy', previous: 'idle' },
          { by: 'A', extension: '102', state: 'ringing', previous: 'idle' },
        ]);

        await h.storeDown();
        pbx.set('103', 'busy');
        const before = { ...pbx.polls };
        await tickBoth();
        assert.deepEqual(pbx.polls, { A: before.A + 1, B: before.B + 1 }, 'both poll while the store is down');
        assert.deepEqual(A.last(), { ok: true, count: 4 });
        assert.deepEqual(B.last(), { ok: true, count: 4 });
        pbx.set('104', 'idle');
        await tickBoth();

        // The store answers again; changed meanwhile: reported once, by the replica that leads now.
        await h.storeUp();
        pbx.set('101', 'idle');
        await tickBoth();
        await tickBoth();
        assert.deepEqual(B.last(), { ok: true, standby: true });

        assert.deepEqual(reported.slice(2), [
          // A, polling on its own, goes on from its own last poll.
          { by: 'A', extension: '103', state: 'busy', previous: 'idle' },
          // B's first poll on its own is a baseline (its last poll as leader is out of date).
          // Then both report (SPEC section 8: while the store is down, each polls on its own).
          { by: 'A', extension: '104', state: 'idle', previous: 'offline' },
          { by: 'B', extension: '104', state: 'idle', previous: 'offline' },
          { by: 'A', extension: '101', state: 'idle', previous: 'busy' },
        ]);
      });

      it('lease and stored states lost between two polls (Redis restarted empty): the leader goes on from its own last poll', async () => {
        await tickBoth();
        pbx.set('101', 'busy');
        await tickBoth();
        await h.loseEverything();
        pbx.set('102', 'ringing');
        await tickBoth();
        await tickBoth();
        assert.deepEqual(pbx.polls, { A: 4, B: 0 });
        assert.deepEqual(reported, [
          { by: 'A', extension: '101', state: 'busy', previous: 'idle' },
          { by: 'A', extension: '102', state: 'ringing', previous: 'idle' },
        ]);
      });

      it('a poll that takes longer than the lease: the leader keeps its lease meanwhile, the other never polls', async () => {
        const live = await harness.open({ realClock: true });
        const intervalMs = 200;
        const got = [];
        const X = replica('A', live.a.store, pbx, got, intervalMs);
        const Y = replica('B', live.b.store, pbx, got, intervalMs);
        pbx.pollMs = 3.5 * intervalMs; // the lease lasts 2 intervals
        try {
          X.watch.start();
          await until(() => pbx.polls.A === 1);
          Y.watch.start();
          await until(() => X.outcomes.length >= 1);
          pbx.set('101', 'busy');
          await until(() => X.outcomes.length >= 3);
          assert.equal(pbx.polls.B, 0, 'B polled while A was polling');
          assert.ok(Y.outcomes.length >= 3 && Y.outcomes.every((o) => o.standby));
          assert.deepEqual(got, [{ by: 'A', extension: '101', state: 'busy', previous: 'idle' }]);
        } finally {
          await X.watch.stop();
          await Y.watch.stop();
          await live.close();
        }
      });

      it('a leader that dies without releasing: the other takes over after the lease runs out, within 3 of its ticks', async () => {
        const live = await harness.open({ realClock: true });
        const intervalMs = 150;
        const got = [];
        const a = controlledStore(live.a.store);
        const b = controlledStore(live.b.store);
        const X = replica('A', a.store, pbx, got, intervalMs);
        const Y = replica('B', b.store, pbx, got, intervalMs);
        try {
          X.watch.start();
          await until(() => X.outcomes.some((o) => o.count === 4));
          Y.watch.start();
          await until(() => Y.outcomes.length >= 2 && X.outcomes.length >= 4);
          pbx.set('101', 'busy');
          await until(() => got.length === 1);
          a.ctl.crashed = true; // SIGKILL: its lease is not released
          await X.watch.stop();
          const tickOfDeath = Y.outcomes.length;
          pbx.set('102', 'busy');
          await until(() => got.length === 2);
          const standbyTicks = Y.outcomes.slice(tickOfDeath).filter((o) => o.standby).length;
          assert.ok(standbyTicks <= 3, `${standbyTicks} standby ticks after the leader died`);
          assert.deepEqual(got, [
            { by: 'A', extension: '101', state: 'busy', previous: 'idle' },
            { by: 'B', extension: '102', state: 'busy', previous: 'idle' },
          ]);
          assert.ok(
            Y.outcomes.slice(0, tickOfDeath).every((o) => o.standby),
            'B stood by while A lived',
          );
        } finally {
          b.ctl.crashed = true;
          await X.watch.stop();
          await Y.watch.stop();
          await live.close();
        }
      });
    });
  }
});
