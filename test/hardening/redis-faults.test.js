'use strict';
// The Redis state store when Redis fails (SPEC section 8), against a real redis-server of the
// test's own: killed mid-load then restarted, stopped (SIGSTOP) then continued, a wrong password,
// nothing listening. Each time the store reports down and then up again, every command fails with
// `store_unavailable` instead of hanging (a guard of several deadlines catches a hang), and the
// process sees no unhandled rejection or uncaught exception. A claim abandoned at its deadline
// (`undoIfUnsure`) is undone once Redis answers again, so a redelivery can still be claimed.
const assert = require('node:assert/strict');
const { RedisStore, isStoreError } = require('../../dist/core/state');
const { startRedis } = require('../helpers/redis-server');
const net = require('node:net');
const { createClient } = require('@redis/client');
const { freePort } = require('../helpers/node-red-process');

const DEADLINE_MS = 500;
/** A command that has not settled after this is hung: far beyond its deadline, not a timing check. */
const HANG_GUARD_MS = 4000;
const MINUTE = 60000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The error `promise` rejects with; fails when it resolves or hangs past the guard. */
async function failureOf(promise) {
  let guard;
  const hung = new Promise((_, reject) => {
    guard = setTimeout(() => reject(new Error(`still pending after ${HANG_GUARD_MS} ms`)), HANG_GUARD_MS);
  });
  try {
    await Promise.race([promise, hung]);
  } catch (err) {
    if (/still pending/.test(err.message)) throw err;
    return err;
  } finally {
    clearTimeout(guard);
  }
  return assert.fail('expected a failure');
}

function assertUnavailable(err) {
  assert.ok(isStoreError(err, 'store_unavailable'), `store_unavailable expected, got ${err && err.stack}`);
}

/** Health transitions of `store`, and a way to wait for the next one equal to `up`. */
function watchHealth(store) {
  const seen = [];
  const waiters = [];
  store.onHealth((up) => {
    seen.push(up);
    for (const w of waiters.splice(0)) w(up);
  });
  const next = (up) =>
    store.isUp === up && seen.length && seen[seen.length - 1] === up
      ? Promise.resolve()
      : new Promise((resolve) => {
          const wait = (value) => (value === up ? resolve() : waiters.push(wait));
          waiters.push(wait);
        });
  return { seen, next };
}

describe('Redis faults: the state store', function () {
  this.timeout(30000);
  const trapped = [];
  const trap = (kind) => (err) => trapped.push(`${kind}: ${err && err.stack}`);
  const onRejection = trap('unhandledRejection');
  const onException = trap('uncaughtException');
  const stores = [];
  const servers = [];
  const store = (options) => {
    const s = new RedisStore({ configId: 'faults', commandTimeoutMs: DEADLINE_MS, ...options });
    stores.push(s);
    return s;
  };
  const server = async (options) => {
    const s = await startRedis(options);
    servers.push(s);
    return s;
  };

  before(() => {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const s of servers.splice(0)) await s.stop();
  });
  after(async () => {
    // Late rejections (commands that outlived their deadline, reconnection attempts) surface here.
    await sleep(300);
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    assert.deepEqual(trapped, []);
  });

  it('SIGKILL mid-load: down, commands fail fast with store_unavailable; after a restart up and working', async () => {
    const redis = await server();
    const s = store({ url: redis.url });
    const health = watchHealth(s);
    await health.next(true);

    const outcomes = { ok: 0, unavailable: 0, other: [] };
    let killed = false;
    const worker = async (w) => {
      for (let i = 0; i < 300; i++) {
        if (i === 100 && w === 0) {
          killed = true;
          await redis.kill('SIGKILL');
        }
        try {
          await s.claim(`d:${w}:${i}`, MINUTE);
          await s.update(`call:${i % 10}`, MINUTE, (cur) => ({ n: (cur?.n ?? 0) + 1 }));
          outcomes.ok++;
        } catch (err) {
          if (isStoreError(err, 'store_unavailable')) outcomes.unavailable++;
          else outcomes.other.push(String(err));
        }
        if (killed && outcomes.unavailable > 50) break;
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    assert.deepEqual(outcomes.other, []);
    assert.ok(outcomes.ok >= 100, `${outcomes.ok} succeeded before the kill`);
    assert.ok(outcomes.unavailable > 0);
    await health.next(false);
    assert.equal(s.isUp, false);
    assert.match(s.lastError, /\S/);
    for (const op of [() => s.get('k'), () => s.set('k', 1, MINUTE), () => s.acquireLease('w', 'A', MINUTE)]) {
      assertUnavailable(await failureOf(op()));
    }

    await redis.restart();
    await health.next(true);
    assert.deepEqual(health.seen, [true, false, true]);
    await s.set('after', { ok: true }, MINUTE);
    assert.deepEqual(await s.get('after'), { ok: true });
    assert.equal(await s.claim('d:0:0', MINUTE), true, 'the restarted Redis is empty (persistence off)');
  });

  it('SIGSTOP: a command ends at its deadline, not in a hang; after SIGCONT the store is up again', async () => {
    const redis = await server();
    const s = store({ url: redis.url });
    const health = watchHealth(s);
    await health.next(true);
    await s.set('k', 1, MINUTE);

    redis.pause();
    // Sent, then abandoned at the deadline: the SET reaches Redis once it continues, and is undone.
    const err = await failureOf(s.claim('delivery-1', MINUTE, { undoIfUnsure: true }));
    assertUnavailable(err);
    assert.match(err.message, /did not answer within 500 ms/);
    assert.equal(s.isUp, false);
    // Down: further commands fail at once instead of queueing behind the stopped server.
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => failureOf(s.claim(`c${i}`, MINUTE))));
    many.forEach(assertUnavailable);

    redis.resume();
    await health.next(true);
    assert.deepEqual(health.seen, [true, false, true]);
    assert.equal(await s.get('k'), 1);
    const other = store({ url: redis.url });
    await watchHealth(other).next(true);
    let claimed = false;
    for (let i = 0; i < 200 && !claimed; i++) {
      claimed = await other.claim('delivery-1', MINUTE);
      if (!claimed) await sleep(20);
    }
    assert.ok(claimed, 'the abandoned claim was undone');
    assert.equal(await s.claim('delivery-1', MINUTE), false);
  });

  it('wrong password: down with a clear reason that holds no credential', async () => {
    const right = 'right-pass-7b1f9c';
    const wrong = 'wrong-pass-4e2d8a';
    const redis = await server({ password: right });
    const port = redis.port;
    for (const options of [{ url: redis.url, password: wrong }, { url: `redis://:${wrong}@127.0.0.1:${port}` }, { url: redis.url }]) {
      const s = store(options);
      const health = watchHealth(s);
      await health.next(false);
      assert.match(s.lastError, options.password || options.url.includes('@') ? /refused the password/ : /NOAUTH|password/i);
      const err = await failureOf(s.get('k'));
      assertUnavailable(err);
      for (const text of [err.message, err.stack, s.lastError]) {
        assert.ok(!text.includes(wrong) && !text.includes(right), text);
      }
    }
    const good = store({ url: redis.url, password: right });
    await watchHealth(good).next(true);
    await good.set('k', 'v', MINUTE);
    assert.equal(await good.get('k'), 'v');
  });

  it('unreachable URL: down at once, commands fail with store_unavailable, close ends the retries', async () => {
    const port = await freePort();
    const s = store({ url: `redis://127.0.0.1:${port}` });
    const health = watchHealth(s);
    // Sent while connecting: it fails with the connection's failure, not at its deadline.
    const early = await failureOf(s.get('early'));
    assertUnavailable(early);
    assert.match(early.message, /ECONNREFUSED/);
    await health.next(false);
    assert.match(s.lastError, /ECONNREFUSED/);
    assertUnavailable(await failureOf(s.claim('k', MINUTE)));
    assertUnavailable(await failureOf(s.withLock('token', MINUTE, async () => 1, { waitMs: 100 })));
    await s.close();
    assertUnavailable(await failureOf(s.get('k')));
    assert.deepEqual(health.seen, [false]);
  });
  it('close leaves no socket open: while connecting, while the handshake hangs, and when up', async () => {
    // A server that accepts and never answers: the client's handshake (HELLO) hangs.
    const sockets = new Set();
    const mute = net.createServer((socket) => {
      sockets.add(socket);
      // Read (and drop) what the client sends, or its end is never seen.
      socket.resume();
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const url = `redis://127.0.0.1:${mute.address().port}`;
    const allClosed = async () => {
      for (let waited = 0; sockets.size > 0 && waited < HANG_GUARD_MS; waited += 20) await sleep(20);
      assert.equal(sockets.size, 0, 'a socket is still open');
    };
    try {
      // Closed before the TCP connection is up (it is asynchronous even on loopback).
      const early = new RedisStore({ configId: 'faults', url, commandTimeoutMs: DEADLINE_MS });
      await early.close();
      await sleep(100);
      await allClosed();
      // Closed while the handshake waits for an answer that never comes.
      const hung = new RedisStore({ configId: 'faults', url, commandTimeoutMs: DEADLINE_MS });
      for (let waited = 0; sockets.size === 0 && waited < HANG_GUARD_MS; waited += 20) await sleep(20);
      assert.equal(sockets.size, 1, 'the handshake connection');
      await hung.close();
      await allClosed();
      await sleep(300);
      assert.equal(sockets.size, 0, 'no reconnection after close');
    } finally {
      mute.close();
    }
    // Closed when up: the real server sees the client go.
    const redis = await server();
    const up = new RedisStore({ configId: 'faults', url: redis.url, commandTimeoutMs: DEADLINE_MS });
    await watchHealth(up).next(true);
    const observer = createClient({ url: redis.url });
    observer.on('error', () => undefined);
    await observer.connect();
    try {
      const clients = async () => (await observer.sendCommand(['CLIENT', 'LIST'])).trim().split('\n').length;
      assert.equal(await clients(), 2, 'the store and the observer');
      await up.close();
      for (let waited = 0; (await clients()) > 1 && waited < HANG_GUARD_MS; waited += 20) await sleep(20);
      assert.equal(await clients(), 1);
    } finally {
      observer.destroy();
    }
  });
});
