'use strict';
// The HTTP client's total deadline per attempt and its answer size limit, against a loopback
// provider that sends headers and then one byte per second, or 200 MB generated on the fly; and
// path segments that could resolve to another resource (`.`, `..`, their percent-encoded forms).
const assert = require('node:assert/strict');
const { failure } = require('../helpers/expect');
const { Account } = require('../../dist/core/account');
const { Redactor } = require('../../dist/core/errors');
const { HttpClient, joinPath, pathParam, MAX_ANSWER_BYTES } = require('../../dist/core/http');
const { providerOf } = require('../../dist/providers');
const { uapiPath } = require('../../dist/providers/voipnow/api');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');
const { HostileProvider } = require('../helpers/hostile-provider');

const quiet = { debug() {}, warn() {} };
/**
 * Bytes a server can hand to a loopback socket after the client stopped reading: what sits in the
 * kernel's send and receive buffers (about 4 MB seen here), well below the 200 MB on offer.
 */
const SOCKET_BUFFER_MARGIN = 16 * 1024 * 1024;
const DEADLINE_MS = 300;
/**
 * A byte every 100 ms: far slower than any real answer, and never idle for as long as the
 * deadline, so only a total deadline ends it (the Node-RED test drips 1 byte/s against 2000 ms).
 */
const DRIP = { behave: 'drip', everyMs: 100 };

/** Per provider: how its status query and makecall look on the wire, and how to call them. */
const PLAN = {
  '3cx-webapi': {
    prefix: '/webapi',
    status: ['status', 'extension-state', { extension: '117' }],
    makecall: ['call', 'makecall', { extension: '117', destination: '0555123988' }],
    isStatus: (r) => r.path.endsWith('/ext.state'),
    isMakecall: (r) => r.path.endsWith('/makecall'),
  },
  voipnow: {
    prefix: '/voipnow',
    status: ['status', 'extension-state', { extension: '0003*201' }],
    makecall: ['call', 'makecall', { extension: '0003*210', destination: '0555123988' }],
    isStatus: (r) => r.path.endsWith('/presence'),
    isMakecall: (r) => r.path.endsWith('/phoneCalls/@me/simple'),
    isToken: (r) => r.path.endsWith('/oauth/token.php'),
  },
  'cloud-callcenter': {
    prefix: '/callcenter',
    status: ['status', 'extension-state', { extension: '90240001' }],
    makecall: ['call', 'makecall', { extension: '90240001', destination: '13800138000' }],
    isStatus: (r) => r.body.includes('App.Sip_Extgroup.GetGroupExt'),
    isMakecall: (r) => r.body.includes('App.Sip_Call.MakeCall'),
    isToken: (r) => r.body.includes('App.Sip_Auth.Login'),
  },
};
const PROVIDERS = Object.keys(PLAN);

function account(provider, baseUrl, credentials = DEFAULT_CREDENTIALS[provider]) {
  return new Account({
    settings: { provider, baseUrl, timeout: DEADLINE_MS, rejectUnauthorized: true, credentials },
    definition: providerOf(provider),
    log: quiet,
    retryDelaysMs: [10, 20],
  });
}

describe('core: HTTP client deadline and answer size', function () {
  // Hang guard only: every drip lasts 60 s, every failure here is expected within a few seconds.
  this.timeout(20000);
  let sim;
  let hostile;
  const accounts = [];
  const open = (provider, credentials) => {
    const a = account(provider, `${hostile.url}${PLAN[provider].prefix}`, credentials);
    accounts.push(a);
    return a;
  };

  beforeEach(async () => {
    sim = await startSimulator({ stepMs: 10, talkMs: 100 });
    hostile = await new HostileProvider({ upstream: sim.url }).listen();
  });
  afterEach(async () => {
    for (const a of accounts.splice(0)) a.close();
    await hostile.close();
    await sim.close();
  });

  describe('a total deadline per attempt (connect, headers and the whole body)', () => {
    for (const provider of PROVIDERS) {
      it(`${provider}: headers then a byte every 100 ms → status query timeout (retried), makecall outcome_unknown sent once`, async () => {
        const plan = PLAN[provider];
        const acct = open(provider);
        hostile.addRule({ match: (r) => plan.isStatus(r) || plan.isMakecall(r), ...DRIP });

        const status = await failure(acct.run(...plan.status));
        assert.equal(status.code, 'timeout', status.message);
        assert.match(status.message, new RegExp(`no complete answer in time \\(timeout ${DEADLINE_MS} ms`));
        assert.equal(hostile.seen(plan.isStatus).length, 3, 'a status query is tried three times, as before');

        const call = await failure(acct.run(...plan.makecall));
        assert.equal(call.code, 'outcome_unknown', call.message);
        assert.match(call.message, /not repeated/);
        assert.equal(hostile.seen(plan.isMakecall).length, 1, 'makecall sent exactly once');
      });
    }

    for (const provider of ['voipnow', 'cloud-callcenter']) {
      it(`${provider}: a dripping token request hits the same deadline; makecall is never sent`, async () => {
        const plan = PLAN[provider];
        const acct = open(provider);
        hostile.addRule({ match: plan.isToken, ...DRIP });
        const status = await failure(acct.run(...plan.status));
        assert.equal(status.code, 'timeout', status.message);
        const call = await failure(acct.run(...plan.makecall));
        assert.equal(call.code, 'timeout', call.message);
        assert.equal(hostile.seen(plan.isMakecall).length, 0, 'no makecall without a token');
      });
    }

    it('closing the client while a state-changing answer drips is outcome_unknown, not a timeout', async () => {
      const client = new HttpClient({ baseUrl: hostile.url, timeout: 5000, rejectUnauthorized: true, redactor: new Redactor() });
      hostile.addRule({ match: () => true, behave: 'drip' });
      const pending = failure(client.send({ method: 'POST', path: '/call', body: {}, operation: 'makecall', stateChanging: true }));
      await new Promise((r) => setTimeout(r, 200));
      client.close();
      const err = await pending;
      assert.equal(err.code, 'outcome_unknown');
      assert.match(err.message, /closed/);
    });
  });

  describe(`an answer size limit (${MAX_ANSWER_BYTES} bytes) enforced while reading`, () => {
    const client = () =>
      new HttpClient({ baseUrl: hostile.url, timeout: 15000, rejectUnauthorized: true, redactor: new Redactor(), retryDelaysMs: [10, 20] });
    const status = (c) => c.send({ method: 'GET', path: '/status', operation: 'extensions', stateChanging: false });
    const makecall = (c) => c.send({ method: 'POST', path: '/call', body: { a: 1 }, operation: 'makecall', stateChanging: true });
    /** The huge answers' records once the server saw each connection end. */
    async function ended(count) {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && hostile.hugeAnswers.filter((h) => h.closed || h.finished).length < count) {
        await new Promise((r) => setTimeout(r, 20));
      }
      return hostile.hugeAnswers;
    }

    for (const contentLength of [false, true]) {
      it(`200 MB ${contentLength ? 'with' : 'without'} Content-Length: status query provider_error, makecall outcome_unknown; the client hangs up early`, async () => {
        const c = client();
        hostile.addRule({ match: () => true, behave: 'huge', contentLength });
        const s = await failure(status(c));
        assert.equal(s.code, 'provider_error', s.message);
        assert.match(s.message, new RegExp(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
        const m = await failure(makecall(c));
        assert.equal(m.code, 'outcome_unknown', m.message);
        assert.match(m.message, new RegExp(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
        assert.match(m.message, /not repeated/);
        c.close();
        assert.equal(hostile.requests.length, 2, 'neither is retried');
        const answers = await ended(2);
        assert.equal(answers.length, 2);
        for (const a of answers) {
          assert.equal(a.closed, true, 'the client closed the connection');
          assert.equal(a.finished, false, 'before the answer was complete');
          assert.ok(a.bytes <= MAX_ANSWER_BYTES + SOCKET_BUFFER_MARGIN, `server wrote ${a.bytes} bytes before the close`);
        }
      });
    }

    it('a gzip answer is limited by what it inflates to', async () => {
      const c = client();
      hostile.addRule({ match: () => true, behave: 'gzip-bomb', bytes: 64 * 1024 * 1024 });
      const s = await failure(status(c));
      assert.equal(s.code, 'provider_error', s.message);
      assert.match(s.message, /answer larger than/);
      c.close();
    });

    it('an answer just below the limit is read whole', async () => {
      const c = client();
      hostile.addRule({ match: () => true, behave: 'huge', bytes: MAX_ANSWER_BYTES, contentLength: true });
      const res = await status(c);
      assert.equal(res.status, 200);
      assert.equal(res.data.result, true);
      assert.equal(res.data.pad.length, MAX_ANSWER_BYTES - '{"result":true,"pad":""}'.length);
      c.close();
    });
  });
});

describe('core: path segments never resolve to another resource', () => {
  const DOTS = ['.', '..', '%2e', '%2E', '%2e%2e', '%2E%2e', '.%2E', '%2e.', '%252e%252E'];

  it('joinPath rejects empty and dot segments, raw or percent-encoded in any case, naming the parameter', () => {
    for (const bad of ['', ...DOTS]) {
      assert.throws(
        () => joinPath('uapi', pathParam('callId', bad)),
        (e) => e.code === 'invalid_input' && /^callId must not be/.test(e.message),
        JSON.stringify(bad),
      );
      assert.throws(
        () => joinPath('uapi', bad),
        (e) => e.code === 'invalid_input' && /^path segment must not be/.test(e.message),
      );
    }
    assert.equal(joinPath('uapi', pathParam('callId', '...')), '/uapi/...', 'three dots are a plain name');
    assert.equal(joinPath('a', pathParam('callId', '../x'), 'y'), '/a/..%2Fx/y', 'a slash never splits a segment');
    assert.equal(joinPath('a', pathParam('extension', '0003*210')), '/a/0003*210');
  });

  it('voipnow uapiPath goes through the same check', () => {
    assert.throws(() => uapiPath('phoneCalls', pathParam('extension', '0003*210'), pathParam('callId', '..')), /callId must not be/);
  });

  it('the HTTP client refuses a path with an empty or dot segment, whoever built it', async () => {
    const client = new HttpClient({ baseUrl: 'http://127.0.0.1:9/x', timeout: 500, rejectUnauthorized: true, redactor: new Redactor() });
    for (const path of ['/uapi/phoneCalls/@me/..', '/a/./b', '/a//b', '/a/%2E%2e/b', '/a/']) {
      const err = await failure(client.send({ method: 'DELETE', path, operation: 'drop', stateChanging: true }));
      assert.equal(err.code, 'invalid_input', path);
    }
    client.close();
  });

  describe('every path-built operation, with each dot value (no request reaches the provider)', function () {
    this.timeout(20000);
    let sim;
    let hostile;
    let acct;
    before(async () => {
      sim = await startSimulator({ stepMs: 10, talkMs: 100 });
      hostile = await new HostileProvider({ upstream: sim.url }).listen();
    });
    after(async () => {
      await hostile.close();
      await sim.close();
    });
    afterEach(() => acct?.close());

    const E = '0003*210';
    const Q = '0003*250';
    /** voipnow: [node, operation, params with `X` where the dot value goes, the parameter named]. */
    const VOIPNOW = [
      ['call', 'drop', { extension: E, callId: 'X' }, 'callId'],
      ['call', 'drop', { extension: 'X' }, 'extension'],
      ['call', 'drop', { extension: 'X', callId: '12' }, 'extension'],
      ['call', 'transfer', { extension: E, destination: '200', callId: 'X' }, 'callId'],
      ['call', 'transfer', { extension: 'X', destination: '200' }, 'extension'],
      ['status', 'extension-state', { extension: 'X' }, 'extension'],
      ['queue', 'login', { extension: 'X', queue: Q }, 'extension'],
      ['queue', 'login', { extension: E, queue: 'X' }, 'queue'],
      ['queue', 'logout', { extension: E, queue: 'X' }, 'queue'],
      ['queue', 'set-status', { extension: 'X', queue: Q, status: 'away' }, 'extension'],
      ['queue', 'set-status', { extension: E, queue: 'X', status: 'available' }, 'queue'],
    ];
    for (const [node, operation, params, name] of VOIPNOW) {
      const others = Object.keys(params).filter((k) => params[k] !== 'X');
      it(`voipnow ${operation} (with ${others.join(', ')}) and ${name} = each dot value → invalid_input naming ${name}`, async () => {
        acct = account('voipnow', `${hostile.url}/voipnow`);
        for (const dot of DOTS) {
          const mark = hostile.requests.length;
          const filled = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v === 'X' ? dot : v]));
          const err = await failure(acct.run(node, operation, filled));
          assert.equal(err.code, 'invalid_input', `${dot}: ${err.message}`);
          assert.match(err.message, new RegExp(`${name} must not be`));
          assert.deepEqual(
            hostile.seen((r) => !PLAN.voipnow.isToken(r), mark),
            [],
            `${dot}: nothing but a token request was sent`,
          );
        }
      });
    }

    it('3cx-webapi: an access key that is a dot segment is refused; parameters stay in the query', async () => {
      acct = account('3cx-webapi', `${hostile.url}/webapi`, { accessKey: '..' });
      const err = await failure(acct.run('status', 'extension-state', { extension: '117' }));
      assert.equal(err.code, 'invalid_input');
      assert.match(err.message, /accessKey must not be/);
      assert.equal(hostile.requests.length, 0);
      acct.close();

      const key = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;
      acct = account('3cx-webapi', `${hostile.url}/webapi`);
      const hostileValue = '../../x/..?a=1#b';
      // [node, operation, params, WebAPI method, the query value to find intact]
      for (const [node, operation, params, method, value] of [
        ['status', 'extension-state', { extension: hostileValue }, 'ext.state', hostileValue],
        ['status', 'queue-free', { queue: '..' }, 'queue.isfree', '..'],
        ['status', 'usergroup-members', { group: hostileValue }, 'extgroup.members', hostileValue],
        ['call', 'drop', { extension: '..', callId: hostileValue }, 'drop', hostileValue],
        ['call', 'makecall', { extension: '.', destination: hostileValue }, 'makecall', hostileValue],
      ]) {
        const mark = hostile.requests.length;
        await acct.run(node, operation, params).catch(() => undefined);
        const sent = hostile.seen(() => true, mark);
        assert.ok(sent.length >= 1, operation);
        for (const r of sent) {
          assert.equal(r.path, `/webapi/${key}/${method}`, `${operation}: the path is the method's own`);
          assert.ok([...new URLSearchParams(r.search).values()].includes(value), `${operation}: ${value} arrived intact in ${r.search}`);
        }
      }
    });

    it('cloud-callcenter: parameters travel in the form body, the path is always the base URL', async () => {
      acct = account('cloud-callcenter', `${hostile.url}/callcenter`);
      for (const [node, operation, params] of [
        ['status', 'extension-state', { extension: '..' }],
        ['call', 'drop', { extension: '../x', callId: '..' }],
        ['queue', 'login', { extension: '.', queue: '%2e%2e' }],
      ]) {
        const mark = hostile.requests.length;
        await acct.run(node, operation, params).catch(() => undefined);
        const sent = hostile.seen(() => true, mark);
        assert.ok(sent.length >= 1, operation);
        for (const r of sent) assert.equal(r.path, '/callcenter', operation);
      }
    });
  });
});

describe('core: one total deadline per action', () => {
  it('every request of an action ends by its deadline, and none begins after it', async () => {
    const http = require('node:http');
    const { withActionDeadline } = require('../../dist/core/http');
    let received = 0;
    const server = http.createServer((req, res) => {
      received++;
      setTimeout(() => res.end('{"ok":true}'), 150);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const client = new HttpClient({
      baseUrl: `http://127.0.0.1:${server.address().port}`,
      timeout: 300,
      rejectUnauthorized: true,
      redactor: new Redactor([]),
      retryDelaysMs: [],
    });
    const get = () => client.send({ method: 'GET', path: '/page', operation: 'extensions', stateChanging: false });
    try {
      const outcomes = await withActionDeadline(400, async () => {
        const out = [];
        for (let i = 0; i < 5; i++) {
          try {
            await get();
            out.push('ok');
          } catch (err) {
            out.push(err.code);
          }
        }
        return out;
      });
      // 150 ms each: two answered, the third cut at the deadline, the last two never sent.
      assert.deepEqual(outcomes, ['ok', 'ok', 'timeout', 'timeout', 'timeout']);
      assert.equal(received, 3);
      assert.equal(await get().then(() => 'ok'), 'ok', 'outside an action only the per-request timeout applies');
    } finally {
      client.close();
      await new Promise((r) => server.close(r));
    }
  });
});
