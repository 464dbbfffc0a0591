'use strict';
// In cluster mode the account tells its config's log when the shared store goes down (with the
// store's reason, which names a refused password but never holds one) and when it answers again;
// the first connection is no recovery and is not told.
const assert = require('node:assert/strict');
const { Account } = require('../../dist/core/account');
const { MemoryStore } = require('../../dist/core/state');
const { providerOf } = require('../../dist/providers');

/** A MemoryStore whose health the test sets, as a RedisStore reports it. */
class HealthStore extends MemoryStore {
  constructor() {
    super({ configId: 'cfg' });
    this.listeners = new Set();
    this.up = false;
    this.reason = undefined;
  }
  get isUp() {
    return this.up;
  }
  get lastError() {
    return this.up ? undefined : this.reason;
  }
  onHealth(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  report(up, reason) {
    this.up = up;
    this.reason = reason;
    for (const l of this.listeners) l(up);
  }
}

function accountOn(store, redisDown) {
  const warnings = [];
  const account = new Account({
    settings: {
      provider: '3cx-webapi',
      baseUrl: 'http://127.0.0.1:9',
      timeout: 1000,
      rejectUnauthorized: true,
      credentials: { accessKey: 'k-123456' },
    },
    definition: providerOf('3cx-webapi'),
    log: { debug() {}, warn: (m) => warnings.push(m) },
    cluster: { store, redisDown, namespace: 'pbx:cfg' },
  });
  return { account, warnings };
}

describe('account: cluster store health in the log', () => {
  it('first connection: nothing; down: the reason and what webhooks get; up again: told once', () => {
    const store = new HealthStore();
    const { account, warnings } = accountOn(store, 'local');
    store.report(true);
    assert.deepEqual(warnings, []);
    store.report(false, 'Redis refused the password (check the Redis password)');
    store.report(true);
    assert.deepEqual(warnings, [
      "Redis down: Redis refused the password (check the Redis password); webhooks are handled with this instance's own state",
      'Redis answers again; state is shared again',
    ]);
    account.close();
  });

  it('redisDown reject: the log says webhooks are answered 503', () => {
    const store = new HealthStore();
    const { account, warnings } = accountOn(store, 'reject');
    store.report(false, 'connect ECONNREFUSED 127.0.0.1:6390');
    assert.deepEqual(warnings, ['Redis down: connect ECONNREFUSED 127.0.0.1:6390; webhooks are answered 503']);
    account.close();
  });
});
