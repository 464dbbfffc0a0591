'use strict';
// Every cloud-callcenter operation through the adapter over loopback HTTP: against the simulator
// (tokens, state changes, business errors really happen), then against a scripted server for
// each envelope and business error the vendor documents.
const assert = require('node:assert/strict');
const http = require('node:http');
const { Account } = require('../../dist/core/account');
const { providerOf } = require('../../dist/providers');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');
const { parseFormBody } = require('../../dist/simulator/cloud-callcenter');
const { transferTypeOf } = require('../../dist/providers/cloud-callcenter/operations');

const CREDS = DEFAULT_CREDENTIALS['cloud-callcenter'];
const quiet = { debug() {}, warn() {} };
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

function account(baseUrl, credentials = CREDS, timeout = 2000) {
  return new Account({
    settings: { provider: 'cloud-callcenter', baseUrl, timeout, rejectUnauthorized: true, credentials },
    definition: providerOf('cloud-callcenter'),
    log: quiet,
    retryDelaysMs: [10, 20],
  });
}

/** The form fields of a request the simulator logged (its body starts with the boundary line). */
function formOf(logged) {
  const boundary = logged.body.split('\r\n')[0].slice(2);
  return parseFormBody(Buffer.from(logged.body), `multipart/form-data; boundary=${boundary}`);
}

async function until(check, timeoutMs = 3000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error('condition not reached');
    await wait(20);
  }
}

describe('cloud-callcenter adapter against the simulator', function () {
  this.timeout(10000);
  let sim;
  let cc;
  let acct;

  beforeEach(async () => {
    sim = await startSimulator({ stepMs: 10, talkMs: 300 });
    cc = sim.provider('cloud-callcenter');
    acct = account(`${sim.url}/callcenter`);
  });
  afterEach(async () => {
    acct.close();
    await sim.close();
  });

  const run = (node, op, params) => acct.run(node, op, params);
  /** Service requests (not logins) the simulator received, as form fields without the token. */
  const sent = () =>
    sim
      .received('cloud-callcenter')
      .map(formOf)
      .filter((f) => f.service !== 'App.Sip_Auth.Login')
      .map(({ token: _t, ...f }) => f);
  const callOf = (ext) => cc.state().calls.find((c) => c.ext === ext);

  it('makecall posts MakeCall as multipart form data and returns the call uuid as callId', async () => {
    const { payload, raw } = await run('call', 'makecall', { extension: '90240001', destination: '13800138000' });
    const live = callOf('90240001');
    assert.deepEqual(payload, { ok: true, operation: 'makecall', extension: '90240001', destination: '13800138000', callId: live.uuid });
    assert.equal(raw.ret, 200);
    assert.deepEqual(sent(), [{ service: 'App.Sip_Call.MakeCall', extnumber: '90240001', destnumber: '13800138000' }]);
    const posted = sim.received('cloud-callcenter')[0];
    assert.equal(posted.method, 'POST');
    assert.equal(posted.path, '/callcenter', 'posted to the base URL itself');
  });

  it('makecall hands `reference` over as customuuid, and the callbacks carry it back', async () => {
    const { payload } = await run('call', 'makecall', { extension: '90240001', destination: '13800138000', reference: 'crm-42' });
    assert.equal(payload.reference, 'crm-42');
    assert.equal(sent()[0].customuuid, 'crm-42');
    assert.equal(callOf('90240001').customuuid, 'crm-42');
  });

  it('extension-state follows the call: busy in the call, idle after drop', async () => {
    assert.deepEqual((await run('status', 'extension-state', { extension: '90240002' })).payload, {
      extension: '90240002',
      state: 'idle',
      groups: ['sales'],
    });
    await run('call', 'makecall', { extension: '90240002', destination: '13800138000' });
    await until(() => callOf('90240002')?.state === 'answer');
    assert.equal((await run('status', 'extension-state', { extension: '90240002' })).payload.state, 'busy');
    assert.deepEqual((await run('call', 'drop', { extension: '90240002', callId: 'ignored' })).payload, {
      ok: true,
      operation: 'drop',
      extension: '90240002',
    });
    assert.equal(callOf('90240002'), undefined);
    assert.equal((await run('status', 'extension-state', { extension: '90240002' })).payload.state, 'idle');
    assert.deepEqual(sent().at(-2), { service: 'App.Sip_Call.HangupCall', extnumber: '90240002' });
  });

  it('transfer sends transfertype 1 to an extension and 2 to a queue', async () => {
    await run('call', 'makecall', { extension: '90240001', destination: '13800138000' });
    await until(() => callOf('90240001')?.state === 'answer');
    const { payload } = await run('call', 'transfer', { extension: '90240001', destination: '90240003' });
    assert.deepEqual(payload, { ok: true, operation: 'transfer', extension: '90240001', destination: '90240003' });
    assert.deepEqual(sent().at(-1), {
      service: 'App.Sip_Call.TransferCall',
      anumber: '90240001',
      destnumber: '90240003',
      transfertype: '1',
    });
    await until(() => callOf('90240003'));
    await run('call', 'transfer', { extension: '90240003', destination: 'queue-2' });
    assert.deepEqual(sent().at(-1), {
      service: 'App.Sip_Call.TransferCall',
      anumber: '90240003',
      destnumber: 'queue-2',
      transfertype: '2',
    });
    await until(() => callOf('90240004'), 1000);
  });

  it('transferTypeOf: dialable numbers are extensions, names are queues', () => {
    assert.deepEqual(['90240003', '+4930123', '*97', 'queue-1', 'sales', '8001a'].map(transferTypeOf), ['1', '1', '1', '2', '2', '2']);
  });

  it('doublecall sends extnumber, anumber and bnumber', async () => {
    const { payload } = await run('call', 'doublecall', { extension: '90240005', from: '13900139000', destination: '13800138000' });
    assert.equal(payload.callId, callOf('90240005').uuid);
    assert.deepEqual(payload, {
      ok: true,
      operation: 'doublecall',
      extension: '90240005',
      from: '13900139000',
      destination: '13800138000',
      callId: payload.callId,
    });
    assert.deepEqual(sent(), [
      { service: 'App.Sip_Call.DoubleCall', extnumber: '90240005', anumber: '13900139000', bnumber: '13800138000' },
    ]);
  });

  it('extensions lists every extension once, with its groups', async () => {
    const { payload } = await run('status', 'extensions', {});
    assert.equal(payload.length, 8);
    assert.deepEqual(payload[2], { extension: '90240003', state: 'idle', groups: ['sales', 'support'] });
    assert.ok(payload.every((s) => s.state === 'idle'));
  });

  it('queue login, set-status and logout show in queue-agents', async () => {
    const agents = async () => (await run('status', 'queue-agents', { queue: 'queue-1' })).payload;
    assert.deepEqual(
      (await agents()).map((a) => [a.extension, a.loggedIn, a.state, a.paused]),
      [
        ['90240001', true, 'idle', undefined],
        ['90240002', true, 'idle', undefined],
      ],
    );
    assert.deepEqual((await run('queue', 'login', { extension: '90240003', queue: 'queue-1' })).payload, {
      ok: true,
      operation: 'login',
      extension: '90240003',
      queue: 'queue-1',
    });
    assert.ok((await agents()).some((a) => a.extension === '90240003'));

    assert.deepEqual((await run('queue', 'set-status', { extension: '90240003', status: 'Away', queue: 'queue-1' })).payload, {
      ok: true,
      operation: 'set-status',
      extension: '90240003',
      status: 'away',
      queue: 'queue-1',
    });
    assert.deepEqual(
      (await agents()).find((a) => a.extension === '90240003'),
      {
        extension: '90240003',
        name: '90240003_90240003_queue-1',
        loggedIn: true,
        state: 'idle',
        paused: true,
        queue: 'queue-1',
      },
    );
    await run('queue', 'set-status', { extension: '90240003', status: 'available' });
    assert.equal((await agents()).find((a) => a.extension === '90240003').paused, undefined);

    await run('queue', 'logout', { extension: '90240003', queue: 'queue-1' });
    assert.ok(!(await agents()).some((a) => a.extension === '90240003'));
    assert.deepEqual(
      sent().filter((f) => f.service !== 'App.Sip_Queue.GetQueueSipStatus'),
      [
        { service: 'App.Sip_Queue.SipSignIn', extnumber: '90240003', queuename: 'queue-1' },
        { service: 'App.Sip_Queue.SetSeatsStatus', settype: '1', extnumber: '90240003', queuename: 'queue-1' },
        { service: 'App.Sip_Queue.SetSeatsStatus', settype: '2', extnumber: '90240003' },
        { service: 'App.Sip_Queue.SipSignOut', extnumber: '90240003', queuename: 'queue-1' },
      ],
    );
  });

  it('queue-agents shows an agent in a call as busy', async () => {
    await run('call', 'makecall', { extension: '90240001', destination: '13800138000' });
    await until(() => callOf('90240001')?.state === 'answer');
    const [agent] = (await run('status', 'queue-agents', { queue: 'queue-1' })).payload;
    assert.equal(agent.state, 'busy');
  });

  it('refuses bad input before sending anything', async () => {
    await assert.rejects(run('queue', 'login', { extension: '90240003' }), { code: 'invalid_input', message: /needs queue/ });
    await assert.rejects(run('queue', 'set-status', { extension: '90240003', status: 'lunch' }), { code: 'invalid_input' });
    assert.equal(sim.received('cloud-callcenter').length, 0);
  });

  for (const [node, op] of [
    ['call', 'answer'],
    ['call', 'join'],
    ['status', 'active-calls'],
    ['status', 'extension-info'],
    ['status', 'list'],
    ['queue', 'set-options'],
  ]) {
    it(`${op} is unsupported`, async () => {
      await assert.rejects(run(node, op, { extension: '90240001', kind: 'queues', enabled: 'on', external: 'on', recording: 'all' }), {
        code: 'unsupported',
        provider: 'cloud-callcenter',
        operation: op,
      });
      assert.equal(sim.received('cloud-callcenter').length, 0);
    });
  }

  for (const [ext, code, providerCode] of [
    ['90249999', 'not_found', '1012'],
    ['12345', 'not_found', '1011'],
    ['90240008', 'provider_error', '1013'],
    ['90240007', 'provider_error', '1014'],
  ]) {
    it(`business error ${providerCode} on makecall → ${code}`, async () => {
      const err = await run('call', 'makecall', { extension: ext, destination: '13800138000' }).catch((e) => e);
      assert.equal(err.code, code);
      assert.equal(err.providerCode, providerCode);
      assert.match(err.message, new RegExp(`makecall: App.Sip_Call.MakeCall refused, code ${providerCode}: extension ${ext}`));
    });
  }

  it('drop on an extension not in a call → provider_error 1015', async () => {
    await assert.rejects(run('call', 'drop', { extension: '90240001' }), { code: 'provider_error', providerCode: '1015' });
  });

  it('20 concurrent status requests cause exactly one login', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => run('status', i % 2 ? 'extensions' : 'queue-agents', { queue: 'queue-1' })),
    );
    assert.equal(results.length, 20);
    assert.equal(cc.loginCount, 1);
    assert.equal(sim.received('cloud-callcenter').filter((r) => formOf(r).service === 'App.Sip_Auth.Login').length, 1);
  });

  it('after the tokens are invalidated: exactly one re-login, and the request succeeds', async () => {
    await run('status', 'extensions', {});
    assert.equal(cc.loginCount, 1);
    cc.invalidateTokens();
    const results = await Promise.all([run('status', 'extensions', {}), run('status', 'queue-agents', { queue: 'queue-1' })]);
    assert.equal(results[0].payload.length, 8);
    assert.equal(cc.loginCount, 2);
    // a state-changing request is repeated after ret 600 too: the call center did not run it
    cc.invalidateTokens();
    await run('queue', 'login', { extension: '90240005', queue: 'queue-1' });
    assert.equal(cc.loginCount, 3);
    assert.equal(sent().filter((f) => f.service === 'App.Sip_Queue.SipSignIn').length, 2);
  });

  it('an expired token is replaced by one new login', async () => {
    cc.tokenLifetimeMs = 150;
    await run('status', 'extensions', {});
    await wait(200);
    await Promise.all([run('status', 'extensions', {}), run('status', 'extensions', {})]);
    assert.equal(cc.loginCount, 2);
  });

  it('testConnection logs in afresh and names the company', async () => {
    await run('status', 'extensions', {});
    assert.equal(await acct.testConnection(), 'connected as Demo Call Center');
    assert.equal(cc.loginCount, 2);
  });

  it('a wrong app key is auth_failed with the vendor reason, and no credential in the message', async () => {
    const wrong = account(`${sim.url}/callcenter`, { appId: 'my-app-id-ABCDEF', appKey: 'wrong-app-key-0123456789' });
    try {
      const err = await wrong.run('status', 'extensions', {}).catch((e) => e);
      assert.equal(err.code, 'auth_failed');
      assert.equal(err.providerCode, '601');
      assert.match(err.message, /ret 601 .*appid is not authorized/);
      const everything = JSON.stringify({ ...err.toJSON(), stack: err.stack });
      assert.ok(!everything.includes('wrong-app-key-0123456789'), 'no app key');
      assert.ok(!everything.includes('my-app-id-ABCDEF'), 'no app id');
      await assert.rejects(wrong.testConnection(), { code: 'auth_failed' });
      assert.equal(cc.loginCount, 0);
    } finally {
      wrong.close();
    }
  });

  it('status queries retry a transient failure; state changes are sent once', async () => {
    await run('status', 'extensions', {}); // log in first
    sim.addFault({ pathPrefix: '/callcenter', status: 503, times: 1 });
    assert.equal((await run('status', 'extensions', {})).payload.length, 8);
    sim.addFault({ pathPrefix: '/callcenter', status: 503, times: 1 });
    await assert.rejects(run('call', 'makecall', { extension: '90240001', destination: '13800138000' }), {
      code: 'provider_error',
      status: 503,
    });
    assert.equal(sent().filter((f) => f.service === 'App.Sip_Call.MakeCall').length, 1);
  });

  it('a makecall whose answer never comes is outcome_unknown, sent once', async () => {
    const slow = account(`${sim.url}/callcenter`, CREDS, 300);
    try {
      await slow.run('status', 'extensions', {});
      sim.addFault({ pathPrefix: '/callcenter', delayMs: 800, times: 1 });
      await assert.rejects(slow.run('call', 'makecall', { extension: '90240001', destination: '13800138000' }), {
        code: 'outcome_unknown',
      });
      await wait(900);
      assert.equal(sent().filter((f) => f.service === 'App.Sip_Call.MakeCall').length, 1);
    } finally {
      slow.close();
    }
  });
});

describe('cloud-callcenter envelope and business errors (scripted server)', () => {
  let server;
  let acct;
  let script; // service → list of replies ({ status?, body }) used in order; the last one repeats
  let logins;
  let requests;

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const f = parseFormBody(Buffer.concat(chunks), String(req.headers['content-type']));
        requests.push(f);
        let reply;
        if (f.service === 'App.Sip_Auth.Login') {
          logins++;
          reply = {
            body: { ret: 200, data: { status: 0, result: { companyname: 'Scripted', token: `scripted-token-${logins}-abcdef` } }, msg: '' },
          };
        } else {
          const list = script[f.service] ?? [{ body: { ret: 200, data: { status: 0, result: {} }, msg: '' } }];
          reply = list.length > 1 ? list.shift() : list[0];
        }
        const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body).replace(/TOKEN/g, f.token ?? '');
        res.writeHead(reply.status ?? 200, { 'Content-Type': typeof reply.body === 'string' ? 'text/html' : 'application/json' });
        res.end(text);
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
  });
  after(() => server.close());
  beforeEach(() => {
    script = {};
    logins = 0;
    requests = [];
    acct = account(`http://127.0.0.1:${server.address().port}`);
  });
  afterEach(() => acct.close());

  const MAKECALL = 'App.Sip_Call.MakeCall';
  const makecall = () => acct.run('call', 'makecall', { extension: '8001', destination: '13800138000' });
  const envelope = (ret, msg = '') => ({ body: { ret, data: null, msg } });
  const business = (code, codemsg = 'refused') => ({
    body: { ret: 200, data: { status: 1, desc: 'failed', errors: { code, codemsg } }, msg: '' },
  });

  for (const [reply, code, providerCode] of [
    [envelope(400, 'missing parameter destnumber'), 'invalid_input', '400'],
    [envelope(500, 'database down'), 'provider_error', '500'],
    [envelope(601, 'appid not authorized'), 'auth_failed', '601'],
    [envelope(602, 'authorization expired'), 'auth_failed', '602'],
    [envelope(603, 'module not licensed'), 'auth_failed', '603'],
    [envelope(604, 'ip not authorized'), 'auth_failed', '604'],
    [envelope(700, 'odd'), 'provider_error', '700'],
    [business(1001), 'provider_error', '1001'],
    [business(1002), 'provider_error', '1002'],
    [business(1003), 'provider_error', '1003'],
    [business(1011), 'not_found', '1011'],
    [business(1012), 'not_found', '1012'],
    [business(1013), 'provider_error', '1013'],
    [business(1014), 'provider_error', '1014'],
    [business(1015), 'provider_error', '1015'],
    [business(4242), 'provider_error', '4242'],
  ]) {
    it(`${reply.body.ret === 200 ? 'business code ' + reply.body.data.errors.code : 'ret ' + reply.body.ret} → ${code}`, async () => {
      script[MAKECALL] = [reply];
      const err = await makecall().catch((e) => e);
      assert.equal(err.code, code);
      assert.equal(err.providerCode, providerCode);
      if (reply.body.msg) assert.ok(err.message.includes(reply.body.msg), 'the vendor reason is in the message');
      assert.equal(requests.filter((f) => f.service === MAKECALL).length, 1, 'not repeated');
    });
  }

  it('ret 600 twice → exactly one re-login and auth_failed', async () => {
    script[MAKECALL] = [envelope(600, 'token invalid')];
    await assert.rejects(makecall(), { code: 'auth_failed', providerCode: '600' });
    assert.equal(logins, 2);
    assert.equal(requests.filter((f) => f.service === MAKECALL).length, 2);
  });

  it('business code 1010 → a new login and the request once more', async () => {
    script[MAKECALL] = [
      business(1010, 'extension exception'),
      { body: { ret: 200, data: { status: 0, result: { uuid: 'u-1010' } }, msg: '' } },
    ];
    assert.equal((await makecall()).payload.callId, 'u-1010');
    assert.equal(logins, 2);
    const tokens = requests.filter((f) => f.service === MAKECALL).map((f) => f.token);
    assert.deepEqual(tokens, ['scripted-token-1-abcdef', 'scripted-token-2-abcdef']);
  });

  it('a token the vendor echoes in an error never reaches the message', async () => {
    script[MAKECALL] = [envelope(500, 'internal error while serving token TOKEN')];
    const err = await makecall().catch((e) => e);
    assert.equal(err.code, 'provider_error');
    assert.ok(!err.message.includes('scripted-token-'), err.message);
    assert.match(err.message, /serving token \*\*\*/);
  });

  it('a body that is not the envelope is provider_error; an HTML 404 is not_found', async () => {
    script[MAKECALL] = [{ body: '<html>gateway</html>' }];
    await assert.rejects(makecall(), {
      code: 'provider_error',
      message: /without the \{ret, data, msg\} envelope\); the base URL may not point at it/,
    });
    script[MAKECALL] = [{ status: 404, body: '<html>not found</html>' }];
    await assert.rejects(makecall(), { code: 'not_found', status: 404 });
  });

  it('an envelope with HTTP 500 is read by its ret', async () => {
    script[MAKECALL] = [{ status: 500, body: { ret: 500, data: null, msg: 'server exploded' } }];
    await assert.rejects(makecall(), { code: 'provider_error', providerCode: '500', message: /server exploded/ });
  });

  it('a makecall answer without a uuid has no callId', async () => {
    script[MAKECALL] = [{ body: { ret: 200, data: { status: 0, desc: 'ok' }, msg: '' } }];
    assert.deepEqual((await makecall()).payload, { ok: true, operation: 'makecall', extension: '8001', destination: '13800138000' });
  });

  it('missing credentials → auth_failed without a request', async () => {
    const none = account(`http://127.0.0.1:${server.address().port}`, { appId: 'only-the-id' });
    try {
      await assert.rejects(none.run('status', 'extensions', {}), { code: 'auth_failed', message: /app id and app key/ });
      assert.equal(requests.length, 0);
    } finally {
      none.close();
    }
  });
});
