'use strict';
// The cluster properties of a pbx-config (SPEC section 8), as the runtime reads them.
const assert = require('node:assert/strict');
const { clusterSettingsOf, withoutUserInfo, DEFAULT_KEY_PREFIX, MAX_KEY_PREFIX_LENGTH } = require('../../dist/core/cluster-settings');

describe('cluster settings of a pbx-config', () => {
  it('without a Redis URL: a single instance, default prefix, redisDown local', () => {
    assert.deepEqual(clusterSettingsOf({}), { keyPrefix: 'pbx:', redisDown: 'local' });
    assert.deepEqual(clusterSettingsOf({ redisUrl: '  ', keyPrefix: '', redisDown: '' }), { keyPrefix: 'pbx:', redisDown: 'local' });
    assert.equal(DEFAULT_KEY_PREFIX, 'pbx:');
  });

  it('takes redis:// and rediss:// URLs with a port and a database, the password and the modes', () => {
    for (const url of ['redis://127.0.0.1:6379', 'rediss://cache.example.com:6380/2', 'redis://[::1]:6379/0', 'REDIS://h']) {
      assert.equal(clusterSettingsOf({ redisUrl: ` ${url} ` }).redisUrl, url, url);
    }
    const s = clusterSettingsOf({ redisUrl: 'redis://h:1', keyPrefix: 'acme:pbx:', redisDown: 'reject' }, 'pw');
    assert.deepEqual(s, { redisUrl: 'redis://h:1', redisPassword: 'pw', keyPrefix: 'acme:pbx:', redisDown: 'reject' });
  });

  it('an unknown redisDown (also a prototype name) is local', () => {
    for (const redisDown of ['constructor', '__proto__', 'REJECT', 'drop', 1]) {
      assert.equal(clusterSettingsOf({ redisDown }).redisDown, 'local', String(redisDown));
    }
  });

  it('refuses URLs that are not Redis, naming the property, without the password written in them', () => {
    for (const url of ['http://h:6379', 'redis://', 'redis://h:1/x', 'redis://h 1', 'unix:///tmp/r.sock', 'redis://h:1?x=1']) {
      assert.throws(() => clusterSettingsOf({ redisUrl: url }), /Redis URL/, url);
    }
    assert.throws(
      () => clusterSettingsOf({ redisUrl: 'redis://user:s3cret@h:1?db=2' }),
      (err) => !err.message.includes('s3cret') && err.message.includes('redis://***@h:1'),
    );
    assert.equal(withoutUserInfo('rediss://:pw@host:6380/1'), 'rediss://***@host:6380/1');
  });

  it('refuses key prefixes with spaces, control characters or over the length limit', () => {
    for (const keyPrefix of ['a b', 'a\nb', 'é:', 'x'.repeat(MAX_KEY_PREFIX_LENGTH + 1)]) {
      assert.throws(() => clusterSettingsOf({ keyPrefix }), /key prefix/, JSON.stringify(keyPrefix));
    }
    assert.equal(clusterSettingsOf({ keyPrefix: 'x'.repeat(MAX_KEY_PREFIX_LENGTH) }).keyPrefix.length, MAX_KEY_PREFIX_LENGTH);
  });
});
