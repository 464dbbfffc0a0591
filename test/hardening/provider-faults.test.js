'use strict';
// Faults of all three providers, injected in the simulator, against a real Node-RED process with
// the packed package: provider down, slow past the timeout, 5xx bursts, connections cut before and
// in the middle of a response, invalid JSON, and the token endpoints (VoipNow OAuth, call-center
// login) failing. Status queries recover by retry; state-changing calls are sent once (counted at
// the simulator); every failure reaches the Catch node with its code; the nodes work again once the
// provider is back. Every credential, webhook secret and issued token is a long distinctive value,
// and after every fault Node-RED's debug log, status texts, errors, messages and the editor's admin
// answers are scanned for them: none may appear.
const assert = require('node:assert/strict');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { Collector } = require('../helpers/collector');
const {
  LABELS,
  PROVIDER_IDS,
  distinctiveSecrets,
  startSecretSimulator,
  providerFlows,
  action,
  findSecrets,
  SIM_PREFIX,
  secretValues,
} = require('../helpers/hardening');

const secrets = distinctiveSecrets('LEAKCHECK');
const TIMEOUT_MS = 400;
const SLOW_MS = 900;
const KEY = secrets['3cx-webapi'].accessKey;

/** Per provider: one status query and one makecall, and how to aim a fault at each of them. */
const PLAN = {
  '3cx-webapi': {
    status: { query: 'extension-state', params: { extension: '117' } },
    makecall: { operation: 'makecall', params: { extension: '117', destination: '0555123988' } },
    statusFault: { pathPrefix: `/webapi/${KEY}/ext.state` },
    makecallFault: { pathPrefix: `/webapi/${KEY}/makecall` },
    isStatus: (r) => r.path.endsWith('/ext.state'),
    isMakecall: (r) => r.path.endsWith('/makecall'),
  },
  voipnow: {
    status: { query: 'extension-state', params: { extension: '0003*201' } },
    makecall: { operation: 'makecall', params: { extension: '0003*210', destination: '0555123988' } },
    statusFault: { pathPrefix: '/voipnow/uapi/extensions' },
    makecallFault: { pathPrefix: '/voipnow/uapi/phoneCalls' },
    tokenFault: { pathPrefix: '/voipnow/oauth/token.php' },
    isStatus: (r) => r.path.endsWith('/presence'),
    isMakecall: (r) => r.path.endsWith('/phoneCalls/@me/simple'),
    isToken: (r) => r.path.endsWith('/oauth/token.php'),
    dropTokens: (sim) => sim.provider('voipnow').revokeTokens(),
  },
  'cloud-callcenter': {
    status: { query: 'extension-state', params: { extension: '90240001' } },
    makecall: { operation: 'makecall', params: { extension: '90240001', destination: '13800138000' } },
    statusFault: { pathPrefix: '/callcenter', bodyIncludes: 'App.Sip_Extgroup.GetGroupExt' },
    makecallFault: { pathPrefix: '/callcenter', bodyIncludes: 'App.Sip_Call.MakeCall' },
    tokenFault: { pathPrefix: '/callcenter', bodyIncludes: 'App.Sip_Auth.Login' },
    isStatus: (r) => r.body.includes('App.Sip_Extgroup.GetGroupExt'),
    isMakecall: (r) => r.body.includes('App.Sip_Call.MakeCall'),
    isToken: (r) => r.body.includes('App.Sip_Auth.Login'),
    dropTokens: (sim) => sim.provider('cloud-callcenter').invalidateTokens(),
  },
};

describe('hardening: provider faults and secret leaks (real Node-RED process, all providers)', function () {
  this.timeout(60000);
  let nr;
  let sim;
  let collector;
  /** Everything the editor's admin endpoints answered, scanned with the rest. */
  const adminAnswers = [];
  /** Collector messages of earlier tests (each test starts with an empty collector). */
  const archive = [];

  /** The three providers run each test side by side; faults and request counts are per provider. */
  const eachProvider = (fn, providers = PROVIDER_IDS) =>
    Promise.all(
      providers.map((provider) =>
        fn(provider, PLAN[provider]).catch((err) => {
          err.message = `${provider}: ${err.message}`;
          throw err;
        }),
      ),
    );

  /** Counts `provider`'s requests of one kind received since `since()` was called. */
  function since() {
    const seen = new Set(sim.requests);
    return (provider, which) => sim.requests.filter((r) => !seen.has(r) && r.provider === provider && PLAN[provider][which](r)).length;
  }

  async function expectFailure(provider, request, code) {
    const kind = request.query ? 'status' : 'call';
    const r = await action(nr.url, provider, kind, request);
    assert.equal(r.status, 500, `${request.query ?? request.operation} should fail: ${r.text}`);
    assert.equal(r.body.error.code, code, r.body.error.message);
    assert.equal(r.body.pbx.error.code, code);
    assert.equal(r.body.pbx.error.provider, provider);
    assert.equal(r.body.pbx.error.operation, request.query ?? request.operation);
    await collector.waitFor('/errors', 1, {
      filter: (m) => m.error?.code === code && m.error.source?.id === `act-${LABELS[provider]}-${kind}`,
      timeoutMs: 5000,
    });
    return r.body;
  }

  async function expectSuccess(provider, request) {
    const kind = request.query ? 'status' : 'call';
    const r = await action(nr.url, provider, kind, request);
    assert.equal(r.status, 200, `${request.query ?? request.operation} should work: ${r.text}`);
    assert.equal(r.body.pbx.provider, provider);
    if (request.operation) assert.equal(r.body.payload.ok, true);
    else assert.equal(typeof r.body.payload.state, 'string');
    return r.body;
  }

  /** Waits (bounded) until calls placed by earlier makecalls have ended in the simulator. */
  async function callsEnded(provider) {
    const deadline = Date.now() + 5000;
    while (sim.provider(provider).state().calls.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  /** The nodes work again once the provider is back: a status query, and a makecall sent once. */
  async function expectRecovery(provider) {
    sim.clearFaults(SIM_PREFIX[provider]);
    await callsEnded(provider);
    const count = since();
    await expectSuccess(provider, PLAN[provider].status);
    await expectSuccess(provider, PLAN[provider].makecall);
    assert.equal(count(provider, 'isMakecall'), 1, 'makecall sent once');
    await collector.waitFor('/status', 1, {
      filter: (m) => m.status?.source?.id === `act-${LABELS[provider]}-call` && m.status.text === 'makecall ok',
    });
    return count;
  }

  /** The editor endpoints, asked during the fault: their answers join the leak scan. */
  async function askEditor(provider) {
    const l = LABELS[provider];
    const stored = Object.fromEntries(Object.keys(secrets[provider]).map((k) => [k, '__PWRD__']));
    const body = { id: `cfg-${l}`, provider, baseUrl: `${sim.url}${SIM_PREFIX[provider]}`, timeout: TIMEOUT_MS, credentials: stored };
    const post = (path, extra = {}) =>
      fetch(nr.adminUrl(path), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...body, ...extra }),
      });
    for (const res of [
      await post('/pbx-config/test'),
      await post('/pbx-config/test', { credentials: { ...secrets[provider] } }),
      await post('/pbx-config/directory', { kind: 'extensions' }),
      await fetch(nr.adminUrl(`/pbx-config/cfg-${l}/directory?kind=extensions`)),
      await fetch(nr.adminUrl('/pbx-config/providers')),
    ]) {
      adminAnswers.push(`${res.status} ${await res.text()}`);
    }
    // A webhook with a wrong secret: its rejection is logged (rate-limited) and scanned too.
    const wrong = await fetch(`${nr.url}/pbx/hd-${l}/${secrets[provider].webhookSecret.slice(0, 20)}`, { method: 'POST', body: '{}' });
    assert.equal(wrong.status, 401);
  }

  function assertNoLeak(when) {
    const haystacks = [
      ['Node-RED log', nr.logs.join('\n')],
      ...[...archive, ...collector.messages].map((m) => [`collector ${m.path}`, m.text]),
      ...adminAnswers.map((a, i) => [`admin answer ${i}`, a]),
    ];
    assert.deepEqual(findSecrets(haystacks, secretValues(secrets)), [], `secret leaked ${when}`);
  }

  before(async () => {
    collector = await new Collector().start();
    sim = await startSecretSimulator(secrets);
    nr = await new NodeRedProcess({ adminRoot: '/admin' }).start();
    await nr.deploy(providerFlows({ collector: collector.url, simUrl: sim.url, secrets, timeout: TIMEOUT_MS }));
    // Calls placed by makecall send their webhooks (with the webhook secret) to the flows.
    for (const p of PROVIDER_IDS) sim.setWebhook(p, `${nr.url}/pbx/hd-${LABELS[p]}/${secrets[p].webhookSecret}`);
  });

  after(async () => {
    await nr?.stop();
    nr?.cleanup();
    await sim?.close();
    await collector?.close();
  });

  beforeEach(() => sim.clearFaults());

  afterEach(function () {
    assertNoLeak(`after "${this.currentTest.title}"`);
    archive.push(...collector.messages);
    collector.clear();
  });

  it('provider down: unreachable, makecall not retried; works again once it is back', async () => {
    const port = Number(new URL(sim.url).port);
    await sim.close();
    try {
      await eachProvider(async (provider, plan) => {
        await expectFailure(provider, plan.status, 'unreachable');
        await expectFailure(provider, plan.makecall, 'unreachable');
        await askEditor(provider);
      });
    } finally {
      await sim.listen(port);
    }
    await eachProvider(expectRecovery);
  });

  it('slow past the timeout: a status query times out after its retries, makecall is outcome_unknown and sent once', async () => {
    await eachProvider(async (provider, plan) => {
      const count = since();
      sim.addFault({ ...plan.statusFault, delayMs: SLOW_MS });
      sim.addFault({ ...plan.makecallFault, delayMs: SLOW_MS });
      await expectFailure(provider, plan.status, 'timeout');
      assert.equal(count(provider, 'isStatus'), 3, 'a status query is tried three times');
      const failed = await expectFailure(provider, plan.makecall, 'outcome_unknown');
      assert.match(failed.pbx.error.message, /not repeated/);
      await new Promise((r) => setTimeout(r, SLOW_MS));
      assert.equal(count(provider, 'isMakecall'), 1, 'makecall sent once');
      await askEditor(provider);
      await expectRecovery(provider);
    });
  });

  it('5xx bursts: a status query rides out two 503s; makecall answered 503 or 500 fails once, not retried', async () => {
    await eachProvider(async (provider, plan) => {
      let count = since();
      sim.addFault({ ...plan.statusFault, status: 503, times: 2 });
      await expectSuccess(provider, plan.status);
      assert.equal(count(provider, 'isStatus'), 3);
      count = since();
      sim.addFault({ ...plan.statusFault, status: 500, times: 1 });
      await expectFailure(provider, plan.status, 'provider_error');
      assert.equal(count(provider, 'isStatus'), 1, '500 is not transient: not retried');
      sim.addFault({ ...plan.makecallFault, status: 503, times: 1 });
      await expectFailure(provider, plan.makecall, 'provider_error');
      sim.addFault({ ...plan.makecallFault, status: 500, times: 1 });
      await expectFailure(provider, plan.makecall, 'provider_error');
      assert.equal(count(provider, 'isMakecall'), 2, 'each makecall sent once');
      await askEditor(provider);
      await expectRecovery(provider);
    });
  });

  it('connection reset before and in the middle of the response: status recovers by retry, makecall is outcome_unknown once', async () => {
    await eachProvider(async (provider, plan) => {
      const count = since();
      sim.addFault({ ...plan.statusFault, reset: true, times: 1 });
      await expectSuccess(provider, plan.status);
      sim.addFault({ ...plan.statusFault, resetMidResponse: true, times: 1 });
      await expectSuccess(provider, plan.status);
      assert.equal(count(provider, 'isStatus'), 4);
      sim.addFault({ ...plan.makecallFault, reset: true, times: 1 });
      await expectFailure(provider, plan.makecall, 'outcome_unknown');
      sim.addFault({ ...plan.makecallFault, resetMidResponse: true, times: 1 });
      await expectFailure(provider, plan.makecall, 'outcome_unknown');
      assert.equal(count(provider, 'isMakecall'), 2, 'each makecall sent once');
      await askEditor(provider);
      await expectRecovery(provider);
    });
  });

  it('invalid JSON or HTML answers: provider_error, sent once', async () => {
    await eachProvider(async (provider, plan) => {
      const count = since();
      sim.addFault({ ...plan.statusFault, status: 200, rawBody: '{"num":"117","status":"Avail' });
      sim.addFault({ ...plan.makecallFault, status: 200, rawBody: '<html><body>Login</body>' });
      await expectFailure(provider, plan.status, 'provider_error');
      await expectFailure(provider, plan.makecall, 'provider_error');
      assert.equal(count(provider, 'isStatus'), 1);
      assert.equal(count(provider, 'isMakecall'), 1);
      await askEditor(provider);
      await expectRecovery(provider);
    });
  });

  it('token endpoint failing (VoipNow OAuth, call-center login): a 503 burst is retried; 500, bad body, refusal, timeout are reported; makecall is not sent without a token', async () => {
    await eachProvider(
      async (provider, plan) => {
        plan.dropTokens(sim);
        let count = since();
        sim.addFault({ ...plan.tokenFault, status: 503, times: 2 });
        await expectSuccess(provider, plan.status);
        assert.equal(count(provider, 'isToken'), 3, 'token request retried through the burst');

        const cases = [
          [{ status: 500 }, 'provider_error'],
          [{ status: 200, rawBody: '{"access_tok' }, 'provider_error'],
          [
            provider === 'voipnow'
              ? { status: 401, rawBody: '{"error":"invalid_client","error_description":"Client authentication failed."}' }
              : { status: 200, rawBody: '{"ret":601,"data":null,"msg":"appid is not authorized"}' },
            'auth_failed',
          ],
          [{ delayMs: SLOW_MS }, 'timeout'],
        ];
        for (const [fault, code] of cases) {
          sim.clearFaults(SIM_PREFIX[provider]);
          plan.dropTokens(sim);
          count = since();
          sim.addFault({ ...plan.tokenFault, ...fault });
          await expectFailure(provider, plan.status, code);
          await expectFailure(provider, plan.makecall, code);
          // The status query already found the token refused and could not get a new one, so the
          // makecall waits for a token and is never sent.
          assert.equal(count(provider, 'isMakecall'), 0, `${JSON.stringify(fault)}: makecall not sent without a token`);
        }
        await askEditor(provider);
        count = await expectRecovery(provider);
        assert.equal(count(provider, 'isToken'), 1, 'one new token for the recovery');
      },
      ['voipnow', 'cloud-callcenter'],
    );
  });

  it('the leak scan had something to scan: issued tokens, debug logs, errors, statuses, admin answers', () => {
    const issued = sim.provider('voipnow').issuedTokens;
    assert.ok(issued.length > 3 && issued.every((t) => t.startsWith(secrets.tokenPrefix)));
    assert.ok(sim.provider('cloud-callcenter').loginCount > 3);
    assert.ok(
      nr.logs.some((l) => /\[debug\]/.test(l)),
      'Node-RED logs at debug level',
    );
    for (const path of ['/errors', '/status']) assert.ok(archive.filter((m) => m.path === path).length > 10, path);
    for (const p of PROVIDER_IDS)
      assert.ok(
        archive.some((m) => m.path === `/events/${LABELS[p]}`),
        `${p}: webhooks of placed calls became events`,
      );
    assert.ok(
      nr.logs.some((l) => /401/.test(l) && /secret/.test(l)),
      'a rejected webhook was logged',
    );
    assert.ok(adminAnswers.some((a) => /"ok":false/.test(a)) && adminAnswers.some((a) => /"ok":true/.test(a)));
  });
});
