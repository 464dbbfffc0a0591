'use strict';
const assert = require('node:assert/strict');
const { CallTracker } = require('../../dist/core/call-tracker');
const { DuplicateFilter } = require('../../dist/core/duplicate-filter');
const { Redactor } = require('../../dist/core/errors');
const { TokenCache, withToken } = require('../../dist/core/auth');
const { repairJson } = require('../../dist/core/tolerant-json');
const { joinPath } = require('../../dist/core/http');

const { callEvent: event } = require('../helpers/expect');

describe('core: call tracker', () => {
  it('keeps at most maxCalls, dropping the least recently active', () => {
    const tracker = new CallTracker({ maxCalls: 3 });
    for (const id of ['a', 'b', 'c']) tracker.apply(event(id, 'ringing', { extension: '1' }));
    tracker.apply(event('a', 'ringing', { extension: '2' }));
    tracker.apply(event('d', 'ringing', { extension: '1' }));
    assert.equal(tracker.size, 3);
    const a = tracker.apply(event('a', 'hangup', { outcome: 'missed' }));
    assert.equal(a.call.route.length, 2, 'a survived: it was touched');
    const b = tracker.apply(event('b', 'hangup', { outcome: 'missed' }));
    assert.equal(b.call.route.length, 0, 'b was evicted and starts over');
  });

  it('forgets calls after the TTL', () => {
    let now = 0;
    const tracker = new CallTracker({ ttlMs: 1000, now: () => now });
    tracker.apply(event('a', 'ringing', { extension: '1' }));
    now = 1500;
    const h = tracker.apply(event('a', 'hangup', { outcome: 'missed' }));
    assert.equal(h.call.route.length, 0);
  });

  it('stays bounded under endless distinct calls', () => {
    const tracker = new CallTracker({ maxCalls: 100 });
    for (let i = 0; i < 10000; i++) tracker.apply(event(`c${i}`, 'ringing', { extension: '1' }));
    assert.equal(tracker.size, 100);
  });

  it('decides an unknown hangup outcome from the call: answered after an answer, else missed', () => {
    const tracker = new CallTracker();
    tracker.apply(event('y', 'answered', { extension: '7' }));
    assert.equal(tracker.apply(event('y', 'hangup', { outcome: 'unknown' })).outcome, 'answered');
    assert.equal(tracker.apply(event('z', 'hangup', { outcome: 'unknown' })).outcome, 'missed');
  });

  it('lets a CDR set duration and cause, and keeps answered once answered', () => {
    const tracker = new CallTracker();
    tracker.apply(event('x', 'answered', { extension: '7' }));
    tracker.apply(event('x', 'hangup', { outcome: 'missed', durationSeconds: 3 }));
    const r = tracker.apply(event('x', 'recording', { durationSeconds: 42, hangupCause: '10001' }));
    assert.equal(r.call.outcome, 'answered');
    assert.equal(r.call.durationSeconds, 42);
    assert.equal(r.call.hangupCause, '10001');
    assert.equal(r.call.answeredBy, '7');
  });
});

describe('core: duplicate filter', () => {
  it('drops repeats inside the window only, and stays bounded', () => {
    let now = 0;
    const f = new DuplicateFilter(600000, 50, () => now);
    assert.equal(f.isDuplicate('a'), false);
    assert.equal(f.isDuplicate('a'), true);
    now = 600001;
    assert.equal(f.isDuplicate('a'), false);
    for (let i = 0; i < 500; i++) f.isDuplicate(`k${i}`);
    assert.ok(f.size <= 50);
  });
});

describe('core: redactor', () => {
  it('replaces secrets and their URL-encoded forms', () => {
    const r = new Redactor(['k/ey+1234', undefined, 'ab']);
    assert.equal(r.redact('GET /webapi/k/ey+1234/x and k%2Fey%2B1234'), 'GET /webapi/***/x and ***');
    assert.equal(r.redact('ab stays'), 'ab stays', 'too short to be a credential');
  });
});

describe('core: token cache', () => {
  it('shares one in-flight request among concurrent callers', async () => {
    let issued = 0;
    const cache = new TokenCache(
      async () => {
        issued++;
        await new Promise((r) => setTimeout(r, 20));
        return { token: `t${issued}`, expiresInMs: 3600000 };
      },
      { refreshMarginMs: 300000 },
    );
    const tokens = await Promise.all(Array.from({ length: 20 }, () => cache.get()));
    assert.equal(issued, 1);
    assert.ok(tokens.every((t) => t === 't1'));
  });

  it('renews a short-lived token at half its life, not on every call', async () => {
    let now = 0;
    let issued = 0;
    const cache = new TokenCache(async () => ({ token: `t${++issued}`, expiresInMs: 60000 }), { refreshMarginMs: 300000, now: () => now });
    await cache.get();
    now = 29999;
    assert.equal(await cache.get(), 't1');
    now = 30000;
    assert.equal(await cache.get(), 't2');
  });

  it('renews before expiry and retries a rejected token exactly once', async () => {
    let now = 0;
    let issued = 0;
    const cache = new TokenCache(async () => ({ token: `t${++issued}`, expiresInMs: 3600000 }), {
      refreshMarginMs: 300000,
      now: () => now,
    });
    assert.equal(await cache.get(), 't1');
    now = 3600000 - 299999;
    assert.equal(await cache.get(), 't2');
    const seen = [];
    const result = await withToken(
      cache,
      async (t) => (seen.push(t), t === 't2' ? 'rejected' : 'ok'),
      ({ result }) => result === 'rejected',
    );
    assert.equal(result, 'ok');
    assert.deepEqual(seen, ['t2', 't3']);
    const seen2 = [];
    const again = await withToken(
      cache,
      async (t) => (seen2.push(t), 'rejected'),
      ({ result }) => result === 'rejected',
    );
    assert.equal(again, 'rejected', 'no second retry');
    assert.equal(seen2.length, 2);
  });
});

describe('core: tolerant JSON and paths', () => {
  it('repairs the half-quoted values of the 3CX documentation, nothing else', () => {
    assert.deepEqual(repairJson('{"Callerid": 05551239988", "D":"00:05"}'), { Callerid: '05551239988', D: '00:05' });
    assert.equal(repairJson('{"a": '), undefined);
    assert.equal(repairJson('not json'), undefined);
  });

  it('encodes every path segment', () => {
    assert.equal(joinPath('uapi', 'extensions', '@me', '0003*210', '../x'), '/uapi/extensions/%40me/0003*210/..%2Fx');
  });
});

describe('core: rate-limited log', () => {
  it('writes once per window and counts what it held back', () => {
    const { rateLimited } = require('../../dist/core/rate-limit');
    let now = 0;
    const lines = [];
    const warn = rateLimited(
      (m) => lines.push(m),
      10000,
      () => now,
    );
    for (let i = 0; i < 50; i++) warn('bad payload');
    now = 10000;
    warn('bad payload');
    assert.deepEqual(lines, ['bad payload', 'bad payload (+49 more not shown)']);
  });
});
