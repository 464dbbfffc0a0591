'use strict';
// Test connection in the pbx-config dialog with a Redis URL (SPEC section 8, issue 13): the answer
// has the PBX part and the Redis part, checked against a real redis-server with a password. A
// stored Redis password is only sent to the deployed node's own Redis URL; no answer holds a password.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { helper, load } = require('../helpers/red');
const { startRedis } = require('../helpers/redis-server');
const { freePort } = require('../helpers/node-red-process');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;
const PASSWORD = 'redis-pw-Zq81-secret';
const CATALOG = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../nodes/locales/en-US/pbx-config.json'), 'utf8'));

describe('pbx-config Test connection with Redis', function () {
  this.timeout(20000);
  let sim;
  let redis;
  /** A TCP port that records every connection: where a stored password must never go. */
  let trap;
  let trapped;

  before(async () => {
    redis = await startRedis({ password: PASSWORD });
    trapped = 0;
    trap = net.createServer((socket) => {
      trapped++;
      socket.destroy();
    });
    await new Promise((r) => trap.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    await redis?.stop();
    await new Promise((r) => trap.close(r));
  });
  beforeEach(async () => {
    sim = await startSimulator({ stepMs: 20, talkMs: 200 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
    delete process.env.PBX_TEST_REDIS_URL;
  });

  const config = (extra = {}) => ({
    id: 'cfg',
    type: 'pbx-config',
    name: 'sim',
    provider: '3cx-webapi',
    baseUrl: `${sim.url}/webapi`,
    webhookPath: '/pbx/redis-dialog',
    timeout: 2000,
    rejectUnauthorized: true,
    allowFrom: '',
    ...extra,
  });
  const dialog = (extra = {}, credentials = {}) => ({
    id: 'cfg',
    provider: '3cx-webapi',
    baseUrl: `${sim.url}/webapi`,
    timeout: 2000,
    ...extra,
    credentials: { accessKey: KEY, ...credentials },
  });
  const test = (body) => helper.request().post('/pbx-config/test').send(body);
  const noPassword = (res) => assert.ok(!JSON.stringify(res.body).includes(PASSWORD), JSON.stringify(res.body));

  it('answers both parts: the PBX and Redis, with the URL and key prefix', async () => {
    await load([config()], { cfg: { accessKey: KEY } });
    const plain = await test(dialog());
    assert.equal(plain.body.ok, true, JSON.stringify(plain.body));
    assert.equal(plain.body.redis, undefined, 'no Redis URL, no Redis part');
    const res = await test(dialog({ redisUrl: redis.url, keyPrefix: 'ops:', redisDown: 'local' }, { redisPassword: PASSWORD }));
    assert.deepEqual(res.body, {
      ok: true,
      message: `${plain.body.message}; Redis: connected (${redis.url}, prefix ops:)`,
      redis: { ok: true, message: `connected (${redis.url}, prefix ops:)` },
    });
    const defaultPrefix = await test(dialog({ redisUrl: redis.url, keyPrefix: '' }, { redisPassword: PASSWORD }));
    assert.equal(defaultPrefix.body.redis.message, `connected (${redis.url}, prefix pbx:)`);
  });

  it('a wrong or missing password: refused, naming Redis, without the password', async () => {
    await load([config()], { cfg: { accessKey: KEY } });
    const wrong = await test(dialog({ redisUrl: redis.url }, { redisPassword: `${PASSWORD}-typo` }));
    assert.equal(wrong.body.ok, false);
    assert.equal(wrong.body.code, 'auth_failed');
    assert.deepEqual(wrong.body.redis, {
      ok: false,
      code: 'auth_failed',
      message: `password refused (${redis.url}): check the Redis password`,
    });
    assert.match(wrong.body.message, /^connected.*; Redis: password refused \(redis:\/\/127\.0\.0\.1:\d+\): check the Redis password$/);
    noPassword(wrong);
    const missing = await test(dialog({ redisUrl: redis.url }));
    assert.equal(missing.body.redis.code, 'auth_failed');
  });

  it('an unreachable port, or a server that is not Redis: says which', async () => {
    await load([config()], { cfg: { accessKey: KEY } });
    const port = await freePort();
    const down = await test(dialog({ redisUrl: `redis://127.0.0.1:${port}` }, { redisPassword: PASSWORD }));
    assert.equal(down.body.ok, false);
    assert.equal(down.body.code, 'unreachable');
    assert.equal(down.body.redis.message, `unreachable (redis://127.0.0.1:${port}): connect ECONNREFUSED 127.0.0.1:${port}`);
    noPassword(down);
    // The simulator's HTTP port answers in HTTP.
    const http = await test(dialog({ redisUrl: sim.url.replace(/^http:/, 'redis:') }, { redisPassword: PASSWORD }));
    assert.equal(http.body.redis.code, 'provider_error');
    assert.match(http.body.redis.message, /^not Redis \(redis:\/\/127\.0\.0\.1:\d+\): /);
    noPassword(http);
    // Accepts the connection and never answers: the deadline, not a hang.
    const silent = net.createServer(() => undefined);
    await new Promise((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const mute = await test(dialog({ redisUrl: `redis://127.0.0.1:${silent.address().port}` }, { redisPassword: PASSWORD }));
      assert.deepEqual(mute.body.redis, {
        ok: false,
        code: 'timeout',
        message: `no answer within 3000 ms (redis://127.0.0.1:${silent.address().port}): not a Redis server, or one too busy to answer`,
      });
    } finally {
      silent.close();
    }
  });

  it('the PBX failing and Redis answering: both said, the PBX code first', async () => {
    await load([config()], { cfg: { accessKey: KEY } });
    const res = await test(dialog({ redisUrl: redis.url }, { accessKey: 'wrong-key-1234', redisPassword: PASSWORD }));
    assert.equal(res.body.ok, false);
    assert.equal(res.body.code, 'auth_failed');
    assert.match(res.body.message, /^auth_failed: .*; Redis: connected \(redis:\/\/127\.0\.0\.1:\d+, prefix pbx:\)$/);
    assert.ok(!res.body.message.includes('wrong-key-1234'));
  });

  it('uses the stored password only for the deployed node with the same Redis URL', async () => {
    await load([config({ redisUrl: redis.url, keyPrefix: 'it:' })], { cfg: { accessKey: KEY, redisPassword: PASSWORD } });
    const stored = await test(dialog({ redisUrl: redis.url, keyPrefix: 'it:' }, { accessKey: '__PWRD__', redisPassword: '__PWRD__' }));
    assert.equal(stored.body.ok, true, JSON.stringify(stored.body));
    assert.equal(stored.body.redis.message, `connected (${redis.url}, prefix it:)`);
    const elsewhere = `redis://127.0.0.1:${trap.address().port}`;
    for (const body of [
      dialog({ redisUrl: elsewhere }, { redisPassword: '__PWRD__' }),
      dialog({ id: 'not-deployed', redisUrl: redis.url }, { redisPassword: '__PWRD__' }),
    ]) {
      const res = await test(body);
      assert.equal(res.body.ok, false);
      assert.equal(res.body.code, 'invalid_input');
      assert.deepEqual(res.body.redis, { ok: false, code: 'invalid_input', message: CATALOG['redis-test']['stored-password'] });
      noPassword(res);
    }
    assert.equal(trapped, 0, 'nothing connected to the other URL');
    // Typed again, the other URL is tried.
    await test(dialog({ redisUrl: elsewhere }, { redisPassword: 'typed' }));
    assert.ok(trapped > 0);
  });

  it('resolves a ${VAR} Redis URL as Node-RED does, the stored password included', async () => {
    process.env.PBX_TEST_REDIS_URL = redis.url;
    await load([config({ redisUrl: '${PBX_TEST_REDIS_URL}' })], { cfg: { accessKey: KEY, redisPassword: PASSWORD } });
    const res = await test(dialog({ redisUrl: '${PBX_TEST_REDIS_URL}' }, { redisPassword: '__PWRD__' }));
    assert.equal(res.body.ok, true, JSON.stringify(res.body));
    assert.equal(res.body.redis.message, `connected (${redis.url}, prefix pbx:)`);
    const unset = await test(dialog({ redisUrl: '${PBX_TEST_NO_SUCH_VAR}' }, { redisPassword: PASSWORD }));
    assert.deepEqual(unset.body.redis, {
      ok: false,
      code: 'invalid_input',
      message: CATALOG['redis-test']['env-unset'].replace('__name__', 'PBX_TEST_NO_SUCH_VAR'),
    });
  });

  it('a Redis URL that is not one, or a bad key prefix: invalid_input, nothing opened', async () => {
    await load([config()], { cfg: { accessKey: KEY } });
    const url = await test(dialog({ redisUrl: 'http://127.0.0.1:6379' }, { redisPassword: PASSWORD }));
    assert.equal(url.body.redis.code, 'invalid_input');
    assert.match(url.body.redis.message, /Redis URL "http:\/\/127\.0\.0\.1:6379" is not redis:\/\//);
    const prefix = await test(dialog({ redisUrl: redis.url, keyPrefix: 'has space' }, { redisPassword: PASSWORD }));
    assert.equal(prefix.body.redis.code, 'invalid_input');
    const secretInUrl = await test(dialog({ redisUrl: `redis://:${PASSWORD}@127.0.0.1:${redis.port}` }));
    assert.equal(secretInUrl.body.ok, true, JSON.stringify(secretInUrl.body));
    assert.equal(secretInUrl.body.redis.message, `connected (redis://***@127.0.0.1:${redis.port}, prefix pbx:)`);
    noPassword(secretInUrl);
  });
});
