'use strict';
// Every VoipNow operation through the adapter against the loopback simulator: OAuth token
// caching and refresh, paging, vendor error codes, redaction, retry policy and timeouts.
const assert = require('node:assert/strict');
const { failure } = require('../helpers/expect');
const { Account } = require('../../dist/core/account');
const { Redactor } = require('../../dist/core/errors');
const { HttpClient } = require('../../dist/core/http');
const { providerOf } = require('../../dist/providers');
const { UapiClient, uapiPath, SELF } = require('../../dist/providers/voipnow/api');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const CREDS = DEFAULT_CREDENTIALS.voipnow;
const quiet = { debug() {}, warn() {} };
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

describe('voipnow adapter against the simulator', function () {
  this.timeout(10000);
  let sim;
  let vn;
  let acct;

  function account(extra = {}) {
    const a = new Account({
      settings: {
        provider: 'voipnow',
        baseUrl: `${sim.url}/voipnow`,
        timeout: extra.timeout ?? 2000,
        rejectUnauthorized: true,
        credentials: { ...CREDS, ...extra.credentials },
      },
      definition: providerOf('voipnow'),
      log: quiet,
      retryDelaysMs: [10, 20],
    });
    return a;
  }
  const run = (node, op, params = {}) => acct.run(node, op, params);
  const payload = (node, op, params) => run(node, op, params).then((r) => r.payload);
  const uapi = (pathPart) => sim.received('voipnow', `/voipnow/uapi/${pathPart}`);
  /** Runs `fn` and returns the PbxError it rejects with. */
  beforeEach(async () => {
    sim = await startSimulator({ stepMs: 30, talkMs: 300 });
    vn = sim.provider('voipnow');
    acct = account();
  });
  afterEach(async () => {
    acct.close();
    await sim.close();
  });

  describe('operations', () => {
    it('testConnection fetches a token and one presence page', async () => {
      assert.equal(await acct.testConnection(), 'connected, 45 extensions');
      assert.equal(vn.tokenRequests, 1);
      const [token] = sim.received('voipnow', '/oauth/token.php');
      const form = Object.fromEntries(new URLSearchParams(token.body));
      assert.deepEqual(form, {
        grant_type: 'client_credentials',
        client_id: CREDS.clientId,
        client_secret: CREDS.clientSecret,
        type: 'unifiedapi',
        redirect_uri: `${sim.url}/voipnow`,
      });
      assert.deepEqual(uapi('extensions')[0].query, { count: '1', startIndex: '0' });
    });

    it('extension-state: presence of one extension, its * sent as is', async () => {
      const out = await run('status', 'extension-state', { extension: '0003*210' });
      assert.deepEqual(
        { ...out.payload, devices: undefined },
        { extension: '0003*210', state: 'idle', registered: true, registration: 'registered', devices: undefined },
      );
      assert.equal(out.raw.entry[0].extension, '0003*210');
      assert.equal(uapi('extensions')[0].path, '/voipnow/uapi/extensions/@me/0003*210/presence');
      const offline = await payload('status', 'extension-state', { extension: '0003*207' });
      assert.deepEqual([offline.state, offline.registered, offline.registration], ['offline', false, 'not-registered']);
      const notNeeded = await payload('status', 'extension-state', { extension: '0003*213' });
      assert.deepEqual([notNeeded.state, notNeeded.registered, notNeeded.registration], ['idle', undefined, 'not-needed']);
    });

    it('extensions: every extension across pages of 20', async () => {
      const out = await run('status', 'extensions');
      assert.equal(out.payload.length, 45);
      assert.deepEqual(
        out.payload.map((e) => e.extension),
        Array.from({ length: 45 }, (_, i) => `0003*${201 + i}`),
      );
      assert.deepEqual(
        uapi('extensions/@me/@self/presence').map((r) => r.query.startIndex),
        ['0', '20', '40'],
      );
      assert.equal(out.raw.length, 3, 'raw = the pages as received');
      const states = out.payload.reduce((m, e) => ({ ...m, [e.state]: (m[e.state] ?? 0) + 1 }), {});
      assert.deepEqual(states, { idle: 34, offline: 10, unknown: 1 });
      assert.equal(vn.tokenRequests, 1);
    });

    it('extensions: a 204 is an empty list', async () => {
      vn.maxPageSize = 20;
      sim.addFault({ pathPrefix: '/voipnow/uapi/extensions', status: 204, rawBody: '', times: 1 });
      assert.deepEqual(await payload('status', 'extensions'), []);
    });

    it('extensions: a 200 that is not JSON (a login page) is provider_error, not an empty list', async () => {
      sim.addFault({ pathPrefix: '/voipnow/uapi/extensions', status: 200, rawBody: '<html>Login</html>' });
      const err = await failure(run('status', 'extensions'));
      assert.equal(err.code, 'provider_error');
      assert.equal(
        err.message,
        'extensions: the answer is not an answer of the VoipNow UnifiedAPI (HTTP 200 with a body that is not JSON); the base URL may not point at it: check it in the pbx-config node',
      );
    });

    it('makecall: POST simple with the documented body; callId from the PhoneCall', async () => {
      const out = await run('call', 'makecall', { extension: '0003*210', destination: '0555123988' });
      const [req] = uapi('phoneCalls/@me/simple');
      assert.equal(req.method, 'POST');
      assert.deepEqual(JSON.parse(req.body), {
        extension: '0003*210',
        phoneCallView: [{ source: ['0003*210'], destination: ['0555123988'] }],
      });
      assert.equal(typeof out.payload.callId, 'string');
      assert.deepEqual(out.payload, {
        ok: true,
        operation: 'makecall',
        extension: '0003*210',
        destination: '0555123988',
        callId: out.payload.callId,
      });
      assert.equal(out.raw[0].id, out.payload.callId);
      const calls = await payload('status', 'active-calls');
      assert.equal(calls.length, 1);
      assert.deepEqual(
        { ...calls[0], status: undefined, answered: undefined, disposition: undefined },
        {
          callId: out.payload.callId,
          extension: '0003*210',
          source: '0003*210',
          destination: '0555123988',
          direction: 'outbound',
          status: undefined,
          answered: undefined,
          disposition: undefined,
        },
      );
      const busy = await payload('status', 'extension-state', { extension: '0003*210' });
      assert.equal(busy.state, 'busy');
    });

    it('active-calls: 204 is an empty list', async () => {
      assert.deepEqual(await payload('status', 'active-calls'), []);
      assert.equal(uapi('phoneCalls/@me/@self').length, 1);
    });

    it('drop: by id, every call of the extension, and 204 as dropped 0', async () => {
      const { callId } = await payload('call', 'makecall', { extension: '0003*210', destination: '0555123988' });
      assert.deepEqual(await payload('call', 'drop', { extension: '0003*210', callId }), {
        ok: true,
        operation: 'drop',
        extension: '0003*210',
        callId,
        dropped: 1,
        callIds: [callId],
      });
      assert.equal(uapi(`phoneCalls/@me/0003*210/${callId}`)[0].method, 'DELETE');
      await payload('call', 'makecall', { extension: '0003*211', destination: '1' });
      await payload('call', 'makecall', { extension: '0003*211', destination: '2' });
      const all = await payload('call', 'drop', { extension: '0003*211' });
      assert.equal(all.dropped, 2);
      assert.equal(all.callIds.length, 2);
      // Nothing left: the PBX answers 204, which is still a success.
      const none = await run('call', 'drop', { extension: '0003*211' });
      assert.deepEqual(none.payload, { ok: true, operation: 'drop', extension: '0003*211', dropped: 0 });
      assert.equal(none.raw, null);
    });

    it('transfer: with a call id, and without one (the call in progress is looked up)', async () => {
      const { callId } = await payload('call', 'makecall', { extension: '0003*210', destination: '0555123988' });
      await wait(80); // answered after stepMs
      const out = await payload('call', 'transfer', { extension: '0003*210', destination: '0003*220' });
      assert.deepEqual(out, { ok: true, operation: 'transfer', extension: '0003*210', destination: '0003*220', callId });
      const puts = uapi(`phoneCalls/@me/0003*210/${callId}`).filter((r) => r.method === 'PUT');
      assert.equal(puts.length, 1);
      assert.deepEqual(JSON.parse(puts[0].body), { action: 'Transfer', sendCallTo: '0003*220', transferNumber: '0003*220' });
      assert.equal(uapi('phoneCalls/@me/0003*210').filter((r) => r.method === 'GET').length, 1, 'one lookup');
      await wait(80);
      const [moved] = await payload('status', 'active-calls');
      assert.deepEqual([moved.extension, moved.source, moved.direction, moved.status], ['0003*220', '0555123988', 'inbound', 'on-call']);
      const named = await payload('call', 'transfer', { extension: '0003*220', destination: '0555000111', callId });
      assert.equal(named.callId, callId);
      assert.equal(uapi('phoneCalls/@me/0003*220').filter((r) => r.method === 'GET').length, 0, 'no lookup with an id');
    });

    it('transfer: no call in progress → not_found, nothing changed', async () => {
      const err = await failure(run('call', 'transfer', { extension: '0003*230', destination: '0003*231' }));
      assert.equal(err.code, 'not_found');
      assert.match(err.message, /0003\*230 has no call in progress/);
      assert.equal(sim.received('voipnow').filter((r) => r.method === 'PUT').length, 0);
      // A call still ringing is not transferred either (a destination ending in 0000 never answers).
      await payload('call', 'makecall', { extension: '0003*230', destination: '05550000' });
      assert.equal((await failure(run('call', 'transfer', { extension: '0003*230', destination: '1' }))).code, 'not_found');
    });

    it('queue login, logout and set-status set the agent status 1 / 0 / 2', async () => {
      const q = { extension: '0003*201', queue: '0003*300' };
      assert.deepEqual(await payload('queue', 'login', q), { ok: true, operation: 'login', ...q });
      assert.equal(vn.state().queues['0003*300']['0003*201'], 1);
      assert.deepEqual(await payload('queue', 'set-status', { ...q, status: 'away' }), {
        ok: true,
        operation: 'set-status',
        ...q,
        status: 'away',
      });
      assert.equal(vn.state().queues['0003*300']['0003*201'], 2);
      await payload('queue', 'set-status', { ...q, status: 'Available' });
      assert.equal(vn.state().queues['0003*300']['0003*201'], 1);
      await payload('queue', 'logout', q);
      assert.equal(vn.state().queues['0003*300']['0003*201'], 0);
      const puts = uapi('extensions/@me/0003*300/queue/agents/0003*201');
      assert.deepEqual(
        puts.map((r) => [r.method, JSON.parse(r.body).status]),
        [
          ['PUT', 1],
          ['PUT', 2],
          ['PUT', 1],
          ['PUT', 0],
        ],
      );
    });

    it('queue operations need the queue; set-status needs available or away', async () => {
      const noQueue = await failure(run('queue', 'login', { extension: '0003*201' }));
      assert.equal(noQueue.code, 'invalid_input');
      assert.match(noQueue.message, /needs queue/);
      const bad = await failure(run('queue', 'set-status', { extension: '0003*201', queue: '0003*300', status: 'lunch' }));
      assert.equal(bad.code, 'invalid_input');
      assert.equal(sim.received('voipnow').length, 0, 'nothing sent');
      const notAgent = await failure(run('queue', 'login', { extension: '0003*240', queue: '0003*300' }));
      assert.deepEqual([notAgent.code, notAgent.providerCode], ['invalid_input', 'agent_invalid']);
    });

    it('every other operation is unsupported, and nothing is sent', async () => {
      const others = [
        ['call', 'answer', { extension: '1' }],
        ['call', 'join', { extension: '1' }],
        ['call', 'doublecall', { extension: '1', from: '2', destination: '3' }],
        ['status', 'extension-info', { extension: '1' }],
        ['status', 'queue-agents', { queue: '1' }],
        ['status', 'list', { kind: 'extensions' }],
        ['status', 'group-members', { group: '1' }],
        ['status', 'usergroup-members', { group: '1' }],
        ['queue', 'set-options', { extension: '1', enabled: 'on', external: 'on', recording: 'all' }],
      ];
      for (const [node, op, params] of others) {
        const err = await failure(run(node, op, params));
        assert.equal(err.code, 'unsupported', op);
        assert.equal(err.provider, 'voipnow');
        assert.equal(err.operation, op);
      }
      assert.equal(sim.received('voipnow').length, 0);
    });
  });

  describe('OAuth token', () => {
    it('20 concurrent status requests share one token request', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => payload('status', 'extension-state', { extension: `0003*${201 + i}` })),
      );
      assert.equal(results.length, 20);
      assert.equal(vn.tokenRequests, 1);
      assert.equal(sim.received('voipnow', '/oauth/token.php').length, 1);
    });

    it('a token is renewed before it expires, exactly once for concurrent callers', async () => {
      vn.tokenLifetimeSec = 1; // renewed after half its life
      await payload('status', 'extension-state', { extension: '0003*210' });
      await payload('status', 'extension-state', { extension: '0003*210' });
      assert.equal(vn.tokenRequests, 1);
      await wait(600);
      // The renewed token lives as long as real ones: under load the 20 callers may take longer
      // than a 1 s token's half life, and a third renewal would then be right, not a bug.
      vn.tokenLifetimeSec = 3600;
      await Promise.all(Array.from({ length: 20 }, () => payload('status', 'extensions')));
      assert.equal(vn.tokenRequests, 2);
      assert.equal(
        sim.requests.filter((r) => r.provider === 'voipnow' && r.path.includes('/uapi/')).length,
        2 + 20 * 3,
        'no request was refused',
      );
    });

    it('a token that expired early on the PBX: one 401 each, one new token, every request succeeds', async () => {
      vn.tokenValidMs = 150; // the PBX states an hour but drops this token early
      await payload('status', 'extension-state', { extension: '0003*210' });
      // The next token lives as stated: under load, 20 requests may take longer than 150 ms.
      vn.tokenValidMs = undefined;
      await wait(200);
      const results = await Promise.all(Array.from({ length: 20 }, () => payload('status', 'extension-state', { extension: '0003*210' })));
      assert.ok(results.every((r) => r.state === 'idle'));
      assert.equal(vn.tokenRequests, 2);
    });

    it('a revoked token: one new token and the request succeeds (call control too)', async () => {
      await payload('status', 'extension-state', { extension: '0003*210' });
      vn.revokeTokens();
      const out = await payload('call', 'makecall', { extension: '0003*210', destination: '0555' });
      assert.equal(out.ok, true);
      assert.equal(vn.tokenRequests, 2);
      assert.equal(uapi('phoneCalls/@me/simple').length, 2, 'refused once with 401, then sent once more');
      assert.equal(vn.state().calls.length, 1, 'one call placed');
    });

    it('a token refused twice is auth_failed, with one retry only', async () => {
      sim.addFault({ pathPrefix: '/voipnow/uapi', status: 401, rawBody: '{"error":{"code":"unauthorized","message":"Token rejected."}}' });
      const err = await failure(run('status', 'extension-state', { extension: '0003*210' }));
      assert.equal(err.code, 'auth_failed');
      assert.equal(err.providerCode, 'unauthorized');
      assert.match(err.message, /HTTP 401 unauthorized: Token rejected\./);
      assert.equal(uapi('extensions').length, 2);
      assert.equal(vn.tokenRequests, 2);
    });

    it('invalid client → auth_failed; neither secret nor token appears in any error message', async () => {
      acct.close();
      const secret = 'wrong-secret-Z9Y8X7';
      acct = account({ credentials: { clientSecret: secret } });
      const messages = [];
      const bad = await failure(run('status', 'extensions'));
      assert.equal(bad.code, 'auth_failed');
      assert.equal(bad.providerCode, 'invalid_client');
      assert.match(bad.message, /refused the client credentials \(HTTP 401, invalid_client/);
      messages.push(bad.message, await failure(acct.testConnection()).then((e) => e.message));
      // A PBX that echoes the secret back is redacted too.
      sim.addFault({
        pathPrefix: '/voipnow/oauth',
        status: 400,
        rawBody: JSON.stringify({ error: 'invalid_client', error_description: `unknown secret ${secret}` }),
        times: 1,
      });
      const echoed = await failure(run('status', 'extensions'));
      assert.match(echoed.message, /unknown secret \*\*\*/);
      messages.push(echoed.message);

      // With good credentials: a server error echoing the bearer token is redacted as well.
      acct.close();
      acct = account();
      await payload('status', 'extension-state', { extension: '0003*210' });
      const token = vn.issuedTokens.at(-1);
      sim.addFault({
        pathPrefix: '/voipnow/uapi',
        status: 500,
        rawBody: JSON.stringify({ error: { code: 'server_error', message: `failed for Bearer ${token}` } }),
      });
      const leak = await failure(run('status', 'extension-state', { extension: '0003*210' }));
      assert.equal(leak.code, 'provider_error');
      assert.equal(leak.providerCode, 'server_error');
      assert.match(leak.message, /failed for Bearer \*\*\*/);
      messages.push(leak.message);
      for (const m of messages) {
        assert.ok(!m.includes(secret) && !m.includes(CREDS.clientSecret), m);
        for (const t of vn.issuedTokens) assert.ok(!m.includes(t), m);
      }
    });

    it('missing credentials are auth_failed before anything is sent', async () => {
      acct.close();
      acct = account({ credentials: { clientSecret: '' } });
      const err = await failure(run('status', 'extensions'));
      assert.equal(err.code, 'auth_failed');
      assert.equal(sim.received('voipnow').length, 0);
    });
  });

  describe('errors and reliability', () => {
    it('an unknown extension is not_found, with extension_invalid and its message', async () => {
      const err = await failure(run('status', 'extension-state', { extension: '0003*999' }));
      assert.equal(err.code, 'not_found');
      assert.equal(err.status, 400);
      assert.equal(err.providerCode, 'extension_invalid');
      assert.equal(
        err.message,
        'extension-state: VoipNow answered HTTP 400 extension_invalid: Value supplied in the URI-Fragment as extension is invalid.',
      );
      const call = await failure(run('call', 'makecall', { extension: '210', destination: '1' }));
      assert.deepEqual([call.code, call.providerCode], ['not_found', 'extension_invalid']);
    });

    it('every documented presence 400 code comes back with its code and message', async () => {
      const redactor = new Redactor(Object.values(CREDS));
      const http = new HttpClient({ baseUrl: `${sim.url}/voipnow`, timeout: 2000, rejectUnauthorized: true, redactor, retryDelaysMs: [] });
      const api = new UapiClient({
        settings: { provider: 'voipnow', baseUrl: `${sim.url}/voipnow`, timeout: 2000, rejectUnauthorized: true, credentials: CREDS },
        http,
        redactor,
        log: quiet,
      });
      const presence = uapiPath('extensions', SELF, 'presence');
      const CASES = [
        ['extension_invalid', uapiPath('extensions', '0003*999', 'presence'), {}],
        ['fields_invalid', presence, { fields: 'extension,colour' }],
        ['count_invalid', presence, { count: 5001 }],
        ['filterby_invalid', presence, { filterBy: 'status', filterValue: '1' }],
        ['filterop_invalid', presence, { filterBy: 'extension', filterOp: 'like', filterValue: '0003' }],
        ['filtervalue_invalid', presence, { filterBy: 'extension', filterOp: 'equals' }],
        ['sortorder_invalid', presence, { sortOrder: 'up' }],
        ['startindex_invalid', presence, { startIndex: 5000 }],
      ];
      try {
        for (const [code, path, query] of CASES) {
          const err = await failure(api.send({ method: 'GET', path, query, operation: 'extensions', stateChanging: false }));
          assert.equal(err.code, code === 'extension_invalid' ? 'not_found' : 'invalid_input', code);
          assert.equal(err.providerCode, code);
          assert.match(err.message, new RegExp(`^extensions: VoipNow answered HTTP 400 ${code}: Value supplied in `));
        }
        // And what the simulator accepts of those parameters works.
        const ok = await api.send({
          method: 'GET',
          path: presence,
          query: {
            filterBy: 'extension',
            filterOp: 'starts with',
            filterValue: '0003*21',
            fields: 'extension,status',
            sortOrder: 'descending',
          },
          operation: 'x',
          stateChanging: false,
        });
        assert.deepEqual(
          ok.data.entry.map((e) => e.extension),
          ['0003*219', '0003*218', '0003*217', '0003*216', '0003*215', '0003*214', '0003*213', '0003*212', '0003*211', '0003*210'],
        );
        assert.deepEqual(Object.keys(ok.data.entry[0]), ['extension', 'status']);
      } finally {
        http.close();
      }
    });

    it('status queries are retried on 503; call control is not', async () => {
      sim.addFault({ pathPrefix: '/voipnow/uapi/extensions', status: 503, times: 1 });
      assert.equal((await payload('status', 'extension-state', { extension: '0003*210' })).state, 'idle');
      assert.equal(uapi('extensions').length, 2);
      sim.addFault({ pathPrefix: '/voipnow/uapi/phoneCalls', status: 503, times: 1 });
      const err = await failure(run('call', 'drop', { extension: '0003*210' }));
      assert.equal(err.code, 'provider_error');
      assert.equal(err.status, 503);
      assert.equal(uapi('phoneCalls').length, 1);
    });

    it('a makecall that times out is outcome_unknown and was sent exactly once', async () => {
      acct.close();
      acct = account({ timeout: 250 });
      await payload('status', 'extension-state', { extension: '0003*210' }); // token first
      sim.addFault({ pathPrefix: '/voipnow/uapi/phoneCalls', delayMs: 700 });
      const err = await failure(run('call', 'makecall', { extension: '0003*210', destination: '0555' }));
      assert.equal(err.code, 'outcome_unknown');
      assert.match(err.message, /may or may not have taken effect/);
      await wait(600);
      assert.equal(uapi('phoneCalls/@me/simple').length, 1);
      assert.equal(vn.state().calls.length, 1, 'the PBX did place it');
    });

    it('a status query that times out is timeout after its retries', async () => {
      acct.close();
      acct = account({ timeout: 150 });
      await payload('status', 'extensions');
      sim.clearFaults();
      sim.addFault({ pathPrefix: '/voipnow/uapi/extensions', delayMs: 400 });
      const err = await failure(run('status', 'extension-state', { extension: '0003*210' }));
      assert.equal(err.code, 'timeout');
      assert.equal(uapi('extensions/@me/0003*210').length, 3);
    });
  });
});
