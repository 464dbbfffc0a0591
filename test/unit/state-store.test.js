'use strict';
// The cluster state store's contract (SPEC section 8), run against both implementations: the
// in-process MemoryStore and the RedisStore on a real redis-server of the test's own. "a" and "b"
// are two replicas of one config (for Redis: two clients; in memory: the one store twice).
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { createClient } = require('@redis/client');
const { MemoryStore, RedisStore, Sealer, createStateStore, isStoreError } = require('../../dist/core/state');
const { startRedis } = require('../helpers/redis-server');
const { failure } = require('../helpers/expect');

const ROOT = path.resolve(__dirname, '../..');
const MINUTE = 60000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];

/** Resolves when `store` reports up (bounded by mocha's timeout). */
async function upOf(store) {
  while (!store.isUp) await sleep(10);
  return store;
}

/** A promise and the function that resolves it. */
function gate() {
  let open;
  const opened = new Promise((r) => (open = r));
  return { opened, open };
}

const memoryHarness = {
  name: 'MemoryStore',
  shared: false,
  async replicas() {
    let clock = 1_000_000;
    const configId = `cfg-${randomBytes(4).toString('hex')}`;
    const store = new MemoryStore({ configId, now: () => clock });
    return {
      a: store,
      b: store,
      configId,
      advance: async (ms) => {
        clock += ms;
      },
      /** Every stored [key, text, msLeft]. */
      raw: async () => [...store['entries']['entries'].values()].map((e) => [e.key, e.value.text, e.value.expiresAt - clock]),
      close: () => store.close(),
    };
  },
};

let server;
let rawClient;
const redisHarness = {
  name: 'RedisStore',
  shared: true,
  async replicas() {
    const configId = `cfg-${randomBytes(4).toString('hex')}`;
    // A roomy deadline: this suite checks results, redis-faults.test.js checks the deadline.
    const make = () => new RedisStore({ url: server.url, configId, commandTimeoutMs: 3000 });
    const a = await upOf(make());
    const b = await upOf(make());
    return {
      a,
      b,
      configId,
      advance: (ms) => sleep(ms),
      raw: async () => {
        const keys = await rawClient.keys(`pbx:${configId}*`);
        return Promise.all(keys.map(async (k) => [k, await rawClient.get(k), await rawClient.pTTL(k)]));
      },
      close: async () => {
        await a.close();
        await b.close();
      },
    };
  },
};

function contract(harness) {
  describe(`state store contract: ${harness.name}`, function () {
    let r;
    beforeEach(async () => {
      r = await harness.replicas();
    });
    afterEach(() => r.close());

    it('claim: true for the first claimer only, across replicas and under concurrency', async () => {
      assert.equal(await r.a.claim('delivery-1', MINUTE), true);
      assert.equal(await r.b.claim('delivery-1', MINUTE), false);
      assert.equal(await r.a.claim('delivery-1', MINUTE), false);
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? r.a : r.b).claim('delivery-2', MINUTE)));
      assert.equal(results.filter(Boolean).length, 1);
    });

    it('get / set / delete JSON values, shared by the replicas', async () => {
      assert.equal(await r.a.get('call-1'), undefined);
      const value = { callId: 'call-1', route: [{ event: 'ringing', extension: '101' }], transfers: 0, note: 'ü€' };
      await r.a.set('call-1', value, MINUTE);
      assert.deepEqual(await r.b.get('call-1'), value);
      const copy = await r.b.get('call-1');
      copy.transfers = 9;
      assert.deepEqual(await r.a.get('call-1'), value, 'a read value is a copy, not the stored one');
      await r.b.delete('call-1');
      assert.equal(await r.a.get('call-1'), undefined);
    });

    it('every key has a TTL, and a key is gone once it expires', async () => {
      await r.a.claim('c', MINUTE);
      await r.a.set('s', { n: 1 }, MINUTE);
      await r.a.update('u', MINUTE, () => ({ n: 1 }));
      const lease = await r.a.acquireLease('watch', 'A', MINUTE);
      assert.equal(lease.fence, 1);
      const raw = await r.raw();
      assert.equal(raw.length, 5, `claim, value, update, lease, fencing counter: ${raw.map((e) => e[0]).join(' ')}`);
      for (const [key, , msLeft] of raw) {
        assert.ok(msLeft > 0, `${key} has a TTL`);
        assert.ok(key.startsWith(`pbx:${r.configId}`), `${key} is under the config's prefix`);
      }
      await r.a.set('short', 'x', 150);
      assert.equal(await r.b.get('short'), 'x');
      await r.advance(400);
      assert.equal(await r.b.get('short'), undefined);
      assert.equal(await r.b.claim('short', MINUTE), true);
    });

    it('update is atomic: 2 replicas x 100 concurrent increments = 200', async () => {
      let calls = 0;
      const inc = (cur) => {
        calls++;
        return { n: (cur?.n ?? 0) + 1 };
      };
      const all = [];
      for (let i = 0; i < 100; i++) all.push(r.a.update('counter', MINUTE, inc), r.b.update('counter', MINUTE, inc));
      await Promise.all(all);
      assert.deepEqual(await r.a.get('counter'), { n: 200 });
      assert.ok(calls >= 200);
      assert.equal(await r.a.update('counter', MINUTE, () => undefined), undefined, 'undefined deletes');
      assert.equal(await r.b.get('counter'), undefined);
    });

    if (harness.shared) {
      it('update calls the reducer again when another replica wrote in between', async () => {
        await r.a.set('call', { n: 1 }, MINUTE);
        const seen = [];
        const exec = r.a.exec.bind(r.a);
        let injected = false;
        r.a.exec = async (args) => {
          if (!injected && args[0] === 'EVALSHA') {
            injected = true;
            await r.b.set('call', { n: 100 }, MINUTE);
          }
          return exec(args);
        };
        const written = await r.a.update('call', MINUTE, (cur) => {
          seen.push(cur.n);
          return { n: cur.n + 1 };
        });
        assert.deepEqual(seen, [1, 100]);
        assert.deepEqual(written, { n: 101 });
        assert.deepEqual(await r.b.get('call'), { n: 101 });
      });
    }

    it('lease with fencing: one holder; after a takeover the old fence is rejected', async () => {
      const lease = await r.a.acquireLease('watch:1', 'replica-A', 200);
      assert.deepEqual(lease, { fence: 1 });
      assert.equal(await r.b.acquireLease('watch:1', 'replica-B', 200), null);
      assert.deepEqual(await r.a.acquireLease('watch:1', 'replica-A', 200), { fence: 1 }, 'its own lease again');
      assert.equal(await r.a.renewLease('watch:1', 'replica-A', 1, 200), true);
      assert.equal(await r.b.renewLease('watch:1', 'replica-B', 1, 200), false);
      assert.equal(await r.a.isCurrent('watch:1', 1), true);
      await r.a.update('states', MINUTE, () => ({ 101: 'idle' }), { fence: { lease: 'watch:1', fence: 1 } });

      // A pauses: no renewal; its lease expires and B takes over.
      await r.advance(400);
      const taken = await r.b.acquireLease('watch:1', 'replica-B', MINUTE);
      assert.deepEqual(taken, { fence: 2 });
      assert.equal(await r.a.renewLease('watch:1', 'replica-A', 1, MINUTE), false);
      assert.equal(await r.a.isCurrent('watch:1', 1), false);
      const err = await failure(r.a.update('states', MINUTE, () => ({ 101: 'busy' }), { fence: { lease: 'watch:1', fence: 1 } }));
      assert.ok(isStoreError(err, 'lease_lost'), String(err));
      assert.deepEqual(await r.b.get('states'), { 101: 'idle' }, 'the paused leader wrote nothing');
      await r.b.update('states', MINUTE, () => ({ 101: 'ringing' }), { fence: { lease: 'watch:1', fence: 2 } });
      assert.deepEqual(await r.a.get('states'), { 101: 'ringing' });

      await r.a.releaseLease('watch:1', 'replica-A', 1);
      assert.equal(await r.b.isCurrent('watch:1', 2), true, "an old holder's release does not end the new lease");
      await r.b.releaseLease('watch:1', 'replica-B', 2);
      assert.deepEqual(await r.a.acquireLease('watch:1', 'replica-A', MINUTE), { fence: 3 });
    });

    it('lock: one winner runs, the others wait for it; past waitMs they time out', async () => {
      const held = gate();
      let ranA = 0;
      let ranB = 0;
      const winner = r.a.withLock(
        'token',
        MINUTE,
        async () => {
          ranA++;
          await held.opened;
          await r.a.set('token', { value: 'shared' }, MINUTE);
          return 'fresh';
        },
        { waitMs: 5000 },
      );
      await sleep(50);
      const waiting = [1, 2, 3].map(() =>
        r.b.withLock(
          'token',
          MINUTE,
          async () => {
            ranB++;
          },
          { waitMs: 10000 },
        ),
      );
      const impatient = await r.b.withLock('token', MINUTE, async () => ranB++, { waitMs: 100 });
      assert.deepEqual(impatient, { status: 'timeout' });
      held.open();
      assert.deepEqual(await winner, { status: 'ran', value: 'fresh' });
      assert.deepEqual(await Promise.all(waiting), [{ status: 'released' }, { status: 'released' }, { status: 'released' }]);
      assert.equal(ranA, 1);
      assert.equal(ranB, 0);
      assert.deepEqual(await r.b.get('token'), { value: 'shared' });
      const again = await r.b.withLock('token', MINUTE, async () => 'second', { waitMs: 100 });
      assert.deepEqual(again, { status: 'ran', value: 'second' }, 'the lock was released');
      const err = await failure(r.a.withLock('token', MINUTE, async () => Promise.reject(new Error('refresh failed')), { waitMs: 0 }));
      assert.equal(err.message, 'refresh failed');
      assert.equal((await r.b.withLock('token', MINUTE, async () => 3, { waitMs: 0 })).status, 'ran', 'released after a failure too');
    });

    it('sealed values: no token or credential in plain text; the wrong key opens nothing', async () => {
      const token = 'tok-0123456789-SECRET';
      const credentials = ['client-id-1', 'client-secret-XYZ'];
      const sealer = new Sealer(credentials, `pbx:${r.configId}`);
      await r.a.set('token', await sealer.seal({ token, expiresAt: 123 }, 'token'), MINUTE);
      for (const [key, text] of await r.raw()) {
        for (const secret of [token, ...credentials]) assert.ok(!text.includes(secret) && !key.includes(secret), `${secret} in ${key}`);
      }
      const stored = await r.b.get('token');
      assert.deepEqual(await new Sealer(credentials, `pbx:${r.configId}`).open(stored, 'token'), { token, expiresAt: 123 });
      assert.equal(await new Sealer(['client-id-1', 'other-secret'], `pbx:${r.configId}`).open(stored, 'token'), undefined);
      assert.equal(await new Sealer(credentials, 'pbx:another-config').open(stored, 'token'), undefined);
      assert.equal(await sealer.open(stored, 'another-key'), undefined);
      const tampered = stored.slice(0, -2) + (stored.endsWith('A') ? 'BB' : 'AA');
      assert.equal(await sealer.open(tampered, 'token'), undefined);
      for (const junk of ['', 's1.', 's1.!!!', 42, null, 'plain']) assert.equal(await sealer.open(junk, 'token'), undefined);
    });

    it('prototype-named keys are ordinary keys', async () => {
      for (const name of PROTOTYPE_NAMES) {
        assert.equal(await r.a.get(name), undefined, name);
        assert.equal(await r.a.claim(`claim:${name}`, MINUTE), true, name);
        assert.equal(await r.b.claim(`claim:${name}`, MINUTE), false, name);
        assert.equal(await r.a.claim(name, MINUTE), true, name);
        await r.a.set(`v:${name}`, { name }, MINUTE);
        assert.deepEqual(await r.b.get(`v:${name}`), { name });
        assert.deepEqual(await r.b.update(`u:${name}`, MINUTE, (cur) => ({ n: (cur?.n ?? 0) + 1 })), { n: 1 });
        assert.deepEqual(await r.a.acquireLease(name, 'A', MINUTE), { fence: 1 });
        assert.equal((await r.a.withLock(name, MINUTE, async () => name, { waitMs: 0 })).status, 'ran');
      }
    });

    it('a key longer than 200 characters, or starting with #, is stored under its digest', async () => {
      const long = 'x'.repeat(5000);
      await r.a.set(long, 1, MINUTE);
      assert.equal(await r.b.get(long), 1);
      assert.equal(await r.b.get('x'.repeat(4999)), undefined);
      await r.a.set('#lease:x', 2, MINUTE);
      assert.equal(await r.b.get('#lease:x'), 2);
      for (const [key] of await r.raw()) {
        assert.ok(key.length < 120, key);
        assert.ok(!key.includes('#lease'), `${key}: a key given cannot reach the store's own keys`);
      }
    });

    it('a closed store rejects with store_unavailable', async () => {
      await r.a.close();
      for (const op of [() => r.a.get('k'), () => r.a.claim('k', MINUTE), () => r.a.update('k', MINUTE, () => 1)]) {
        const err = await failure(op());
        assert.ok(isStoreError(err, 'store_unavailable'), String(err));
      }
    });
  });
}

describe('state store', function () {
  this.timeout(30000);

  before(async () => {
    server = await startRedis();
    rawClient = createClient({ url: server.url });
    rawClient.on('error', () => undefined);
    await rawClient.connect();
  });
  after(async () => {
    await rawClient?.destroy();
    await server?.stop();
  });

  contract(memoryHarness);
  contract(redisHarness);

  describe('MemoryStore bounds', () => {
    it('keeps at most maxEntries and maxBytes, the least recently written going first', async () => {
      const store = new MemoryStore({ configId: 'c', maxEntries: 100, maxBytes: 1e9 });
      for (let i = 0; i < 1000; i++) await store.set(`k${i}`, i, MINUTE);
      assert.equal(store.size, 100);
      assert.equal(await store.get('k899'), undefined);
      assert.equal(await store.get('k900'), 900);
      const small = new MemoryStore({ configId: 'c', maxBytes: 64 * 1024 });
      for (let i = 0; i < 200; i++) await small.set(`k${i}`, 'y'.repeat(1000), MINUTE);
      assert.ok(small.bytes <= 64 * 1024, `${small.bytes}`);
      assert.ok(small.size < 40 && small.size > 20, `${small.size}`);
    });

    it('refuses TTLs that are not positive and values over 1 MiB', async () => {
      const store = new MemoryStore({ configId: 'c' });
      for (const ttl of [0, -1, NaN]) assert.ok((await failure(store.set('k', 1, ttl))) instanceof RangeError);
      assert.ok((await failure(store.set('k', 'z'.repeat(1024 * 1024 + 1), MINUTE))) instanceof RangeError);
    });
  });

  describe('createStateStore', () => {
    it('memory without a Redis URL, Redis with one; @redis/client is loaded only then', async () => {
      const script = `
        const { createStateStore } = require('./dist/core/state');
        const loaded = () => Object.keys(require.cache).some((k) => k.includes('@redis'));
        const memory = createStateStore({ configId: 'c', redisUrl: '  ' });
        const before = loaded();
        const redis = createStateStore({ configId: 'c', redisUrl: '${server.url}' });
        console.log(JSON.stringify([memory.kind, before, redis.kind, loaded()]));
        redis.close();`;
      const out = execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
      assert.deepEqual(JSON.parse(out), ['memory', false, 'redis', true]);
      const store = createStateStore({ configId: 'c', redisUrl: server.url, keyPrefix: 'other:' });
      try {
        await upOf(store);
        await store.set('k', 1, MINUTE);
        assert.deepEqual(await rawClient.keys('other:c*'), ['other:c:k']);
      } finally {
        await store.close();
      }
    });

    it('a URL that is not redis:// or rediss:// is refused without echoing it', () => {
      assert.throws(
        () => createStateStore({ configId: 'c', redisUrl: 'http://user:pa55word-xyz@host' }),
        (err) => isStoreError(err, 'store_unavailable') && !err.message.includes('pa55word-xyz'),
      );
    });
  });
});
