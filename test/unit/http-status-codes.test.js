'use strict';
// An HTTP error status without a provider's own error body means the same error code whichever
// provider answered it: 400/422 the request was refused as it was sent, 401/403 the credentials,
// 404 the thing asked for, anything else the provider.
const assert = require('node:assert/strict');
const { Account } = require('../../dist/core/account');
const { providerOf } = require('../../dist/providers');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const quiet = { debug() {}, warn() {} };

const EXPECTED = [
  [400, 'invalid_input'],
  [401, 'auth_failed'],
  [403, 'auth_failed'],
  [404, 'not_found'],
  [422, 'invalid_input'],
  [500, 'provider_error'],
  [503, 'provider_error'],
];

/** Where each provider's status query goes: not its token request, which has rules of its own. */
const QUERY_FAULT = {
  '3cx-webapi': (prefix) => ({ pathPrefix: prefix }),
  voipnow: (prefix) => ({ pathPrefix: `${prefix}/uapi` }),
  'cloud-callcenter': (prefix) => ({ pathPrefix: prefix, bodyIncludes: 'App.Sip_Extgroup.GetGroupExt' }),
};

describe('HTTP error status → error code, the same for every provider', () => {
  let sim;
  const accounts = {};

  before(async () => {
    sim = await startSimulator({ stepMs: 5, talkMs: 60000 });
    for (const id of Object.keys(QUERY_FAULT)) {
      accounts[id] = new Account({
        settings: {
          provider: id,
          baseUrl: sim.url + sim.provider(id).prefix,
          timeout: 2000,
          rejectUnauthorized: true,
          credentials: DEFAULT_CREDENTIALS[id],
        },
        definition: providerOf(id),
        log: quiet,
        retryDelaysMs: [1, 2],
      });
    }
  });
  after(async () => {
    for (const account of Object.values(accounts)) account.close();
    await sim?.close();
  });
  afterEach(() => sim.clearFaults());

  for (const id of Object.keys(QUERY_FAULT)) {
    it(`${id}: ${EXPECTED.map(([status, code]) => `${status} ${code}`).join(', ')}`, async () => {
      const seen = [];
      for (const [status] of EXPECTED) {
        sim.clearFaults();
        sim.addFault({ ...QUERY_FAULT[id](sim.provider(id).prefix), status });
        const err = await accounts[id].run('status', 'extensions', {}).then(
          () => assert.fail(`HTTP ${status} did not fail`),
          (e) => e,
        );
        assert.equal(err.status, status, `${id} HTTP ${status}: ${err.message}`);
        seen.push([status, err.code]);
      }
      assert.deepEqual(seen, EXPECTED);
    });
  }
});
