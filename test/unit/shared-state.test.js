'use strict';
// The cluster halves of the webhook pipeline and of the token cache (SPEC section 8) against a real
// redis-server: two SharedCalls / SharedTokenCache on two RedisStores are two instances of one
// config. What one instance took, the other sees; a failing store falls back as `redisDown` says.
const assert = require('node:assert/strict');
const { RedisStore, Sealer } = require('../../dist/core/state');
const { SharedCalls } = require('../../dist/core/shared-calls');
const { SharedTokenCache } = require('../../dist/core/shared-tokens');
const { CallTracker } = require('../../dist/core/call-tracker');
const { DuplicateFilter } = require('../../dist/core/duplicate-filter');
const { startRedis } = require('../helpers/redis-server');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let configN = 0;

async function up(store) {
  while (!store.isUp) await sleep(10);
  return store;
}

const event = (name, callId, extra = {}) => ({
  event: name,
  provider: 'test',
  providerEvent: name,
  callId,
  direction: 'inbound',
  extension: '201',
  from: '0555',
  timestamp: new Date(Date.UTC(2026, 10, 29, 8, 0, 0) + (extra.at ?? 0)).toISOString(),
  ...extra,
});

describe('cluster state: SharedCalls and SharedTokenCache on a real redis-server', function () {
  this.timeout(20000);
  let redis;
  const stores = [];

  before(async function () {
    this.timeout(20 * 60 * 1000); // a first run may install redis-server with apt-get
    redis = await startRedis();
  });

  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await redis?.stop();
  });

  /** Two instances of one config, each with its own store client and own local state. */
  async function twoInstances(redisDown = 'local') {
    const configId = `cfg-${++configN}`;
    const make = async () => {
      const store = await up(new RedisStore({ url: redis.url, configId, commandTimeoutMs: 2000 }));
      stores.push(store);
      const local = { duplicates: new DuplicateFilter(), tracker: new CallTracker() };
      return { store, local, calls: new SharedCalls({ store, redisDown, local }) };
    };
    return [await make(), await make()];
  }

  it('a delivery taken by one instance is a duplicate on the other; a different one is not', async () => {
    const [a, b] = await twoInstances();
    const ringing = event('ringing', 'c1');
    const first = await a.calls.take('POST body-1', [ringing]);
    assert.equal(first.length, 1);
    assert.equal(first[0].event, 'ringing');
    assert.equal(await b.calls.take('POST body-1', [ringing]), 'duplicate');
    assert.equal(await a.calls.take('POST body-1', [ringing]), 'duplicate');
    assert.notEqual(await b.calls.take('POST body-2', [event('answered', 'c1', { at: 1000 })]), 'duplicate');
  });

  it('a call whose legs land on alternating instances gets one complete summary', async () => {
    const [a, b] = await twoInstances();
    const steps = [
      [a, event('ringing', 'c2', { extension: '800', extensionType: 'ivr' })],
      [b, event('ringing', 'c2', { extension: '820', extensionType: 'queue', at: 1000 })],
      [a, event('ringing', 'c2', { extension: '117', extensionType: 'extension', at: 2000 })],
      [b, event('answered', 'c2', { extension: '117', at: 3000 })],
      [a, event('answered', 'c2', { extension: '204', transfer: 'attended', at: 4000 })],
      [
        b,
        event('hangup', 'c2', {
          extension: '117',
          legId: 'c2-1',
          durationSeconds: 14,
          outcome: 'answered',
          legTransferred: true,
          at: 5000,
        }),
      ],
      [a, event('hangup', 'c2', { extension: '204', legId: 'c2-2', durationSeconds: 6, outcome: 'answered', at: 6000 })],
    ];
    const emitted = [];
    for (const [n, [instance, e]] of steps.entries()) emitted.push(...(await instance.calls.take(`delivery-${n}`, [e])));
    const last = emitted[emitted.length - 1];
    assert.equal(last.event, 'hangup');
    assert.deepEqual(
      last.call.route.map((h) => `${h.event}:${h.extension}`),
      ['ringing:800', 'ringing:820', 'ringing:117', 'answered:117', 'transfer:204', 'answered:204'],
    );
    assert.equal(last.call.durationSeconds, 20);
    assert.equal(last.call.transfers, 1);
    assert.equal(last.call.answeredBy, '204');
    assert.equal(emitted[5].transfer, 'attended', 'the transferred leg names the transfer, learned on the other instance');
    // Each instance's own tracker follows the shared state, for the route filter and a later fallback.
    assert.equal(a.local.tracker.routeOf('c2').length, 6);
    assert.equal(b.local.tracker.routeOf('c2').length, 6, 'b saw the state after the first hangup: every hop');
  });

  it('concurrent events of one call on both instances: none is lost from the summary', async () => {
    const [a, b] = await twoInstances();
    const takes = [];
    for (let i = 0; i < 40; i++) {
      const instance = i % 2 ? b : a;
      takes.push(instance.calls.take(`ring-${i}`, [event('ringing', 'c3', { extension: String(100 + i), at: i })]));
    }
    await Promise.all(takes);
    const [hangup] = await a.calls.take('end', [event('hangup', 'c3', { at: 100000 })]);
    assert.equal(hangup.call.route.length, 40);
    assert.deepEqual(new Set(hangup.call.route.map((h) => h.extension)).size, 40);
  });

  it('redisDown local: with Redis gone the instance goes on with its own state; reject: refused, nothing kept', async () => {
    const [local] = await twoInstances('local');
    const [reject] = await twoInstances('reject');
    await local.calls.take('before', [event('ringing', 'c4')]);
    await redis.pause();
    try {
      const taken = await local.calls.take('while-down', [event('hangup', 'c4', { at: 1000 })]);
      assert.equal(taken.length, 1);
      assert.deepEqual(
        taken[0].call.route.map((h) => h.event),
        ['ringing'],
        'the fallback tracker continues from the shared state it saw last',
      );
      assert.equal(await local.calls.take('while-down', [event('hangup', 'c4', { at: 1000 })]), 'duplicate', 'own duplicate filter');
      assert.ok(local.calls.fallbacks >= 2);
      assert.equal(await reject.calls.take('refused-1', [event('ringing', 'c5')]), 'refused');
    } finally {
      redis.resume();
    }
    await up(reject.store);
    const retried = await reject.calls.take('refused-1', [event('ringing', 'c5')]);
    assert.equal(Array.isArray(retried) && retried[0].event, 'ringing', "the PBX's retry is taken as new");
  });

  describe('SharedTokenCache', () => {
    async function tokenInstances(issue, n = 2) {
      const configId = `tok-${++configN}`;
      const out = [];
      for (let i = 0; i < n; i++) {
        const store = await up(new RedisStore({ url: redis.url, configId, commandTimeoutMs: 2000 }));
        stores.push(store);
        out.push(
          new SharedTokenCache(issue, { refreshMarginMs: 60000 }, { store, sealer: new Sealer(['client', 'secret'], `pbx:${configId}`) }),
        );
      }
      return out;
    }

    it('20 concurrent users on two instances: one token request; the token is stored sealed', async () => {
      let issued = 0;
      const issue = async () => {
        issued++;
        await sleep(50);
        return { token: `access-token-${issued}-plain`, expiresInMs: 3600000 };
      };
      const caches = await tokenInstances(issue);
      const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => caches[i % 2].get()));
      assert.equal(issued, 1);
      assert.deepEqual(new Set(tokens), new Set(['access-token-1-plain']));
      const { createClient } = require('@redis/client');
      const raw = createClient({ url: redis.url });
      raw.on('error', () => undefined);
      await raw.connect();
      try {
        for (const key of await raw.keys('pbx:tok-*')) assert.doesNotMatch(String(await raw.get(key)), /access-token/, key);
      } finally {
        await raw.quit();
      }
    });

    it('a token the provider refused is renewed once for the cluster, not once per instance', async () => {
      let issued = 0;
      const issue = async () => {
        issued++;
        await sleep(30);
        return { token: `t${issued}`, expiresInMs: 3600000 };
      };
      const [a, b] = await tokenInstances(issue);
      assert.equal(await a.get(), 't1');
      assert.equal(await b.get(), 't1');
      // Both instances were refused with t1 at about the same time.
      await Promise.all([a.invalidate('t1'), b.invalidate('t1')]);
      const [ta, tb] = await Promise.all([a.get(), b.get()]);
      assert.equal(issued, 2);
      assert.deepEqual([ta, tb], ['t2', 't2']);
      // A late refusal of the old token does not drop the new one.
      await a.invalidate('t1');
      assert.equal(await b.get(), 't2');
      assert.equal(issued, 2);
    });

    it('with Redis gone, each instance gets a token of its own (and an issuing error still reaches the caller)', async () => {
      let issued = 0;
      const [a] = await tokenInstances(async () => {
        issued++;
        return { token: `own-${issued}`, expiresInMs: 3600000 };
      }, 1);
      await redis.pause();
      try {
        assert.equal(await a.get(), 'own-1');
      } finally {
        redis.resume();
      }
      const [failing] = await tokenInstances(async () => {
        throw Object.assign(new Error('invalid_client'), { code: 'auth_failed' });
      }, 1);
      await assert.rejects(failing.get(), /invalid_client/);
    });
  });
});
