'use strict';
// Failures must say what happened (issue 11, item 2):
// - a base URL that points at some other server answering 2xx JSON is a provider_error that says
//   the URL may not be the API, for every provider and every kind of operation;
// - a TLS handshake that failed sent nothing: unreachable with a hint, never outcome_unknown;
// - an unknown extension (or queue) is not_found on every provider.
const assert = require('node:assert/strict');
const { execFile, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { Account } = require('../../dist/core/account');
const { HttpClient } = require('../../dist/core/http');
const { Redactor } = require('../../dist/core/errors');
const { providerOf } = require('../../dist/providers');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const quiet = { debug() {}, warn() {} };

function account(provider, baseUrl, credentials = DEFAULT_CREDENTIALS[provider]) {
  return new Account({
    settings: { provider, baseUrl, timeout: 2000, rejectUnauthorized: true, credentials },
    definition: providerOf(provider),
    log: quiet,
    retryDelaysMs: [],
  });
}

async function failure(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

/** A loopback server answering every request with `answer(req)` (status 200, JSON). */
async function jsonServer(answer) {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer(req)));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, seen, url: `http://127.0.0.1:${server.address().port}` };
}

/** What each provider calls its API in the hint. */
const API_NAMES = { '3cx-webapi': '3CX WebAPI', voipnow: 'VoipNow UnifiedAPI', 'cloud-callcenter': 'call center API' };
const EXTENSIONS = { '3cx-webapi': '117', voipnow: '0003*201', 'cloud-callcenter': '90240001' };
const notTheApi = (provider) => new RegExp(`not an answer of the ${API_NAMES[provider]}.*base URL may not point at it`);

describe('a base URL that is not the API (any server answering 2xx JSON)', () => {
  // What a web app, a health endpoint or a JSON placeholder service typically answers.
  const GENERIC = [{}, { status: 'ok', data: [] }, []];
  let fake;
  let answer;

  before(async () => {
    fake = await jsonServer(() => answer);
  });
  after(() => fake.server.close());

  for (const provider of Object.keys(API_NAMES)) {
    for (const generic of GENERIC) {
      describe(`${provider}, answered ${JSON.stringify(generic)}`, () => {
        let acct;
        beforeEach(() => {
          answer = generic;
          acct = account(provider, `${fake.url}/api`);
        });
        afterEach(() => acct.close());

        it('Test connection fails with provider_error and the hint', async () => {
          const err = await failure(acct.testConnection());
          assert.equal(err.code, 'provider_error');
          assert.match(err.message, notTheApi(provider));
        });

        it('makecall fails with provider_error and the hint', async () => {
          const err = await failure(acct.run('call', 'makecall', { extension: EXTENSIONS[provider], destination: '200' }));
          assert.equal(err.code, 'provider_error');
          assert.match(err.message, notTheApi(provider));
        });

        it('extension-state fails with provider_error and the hint', async () => {
          const err = await failure(acct.run('status', 'extension-state', { extension: EXTENSIONS[provider] }));
          assert.equal(err.code, 'provider_error');
          assert.match(err.message, notTheApi(provider));
        });
      });
    }
  }

  describe('voipnow behind a server that issues tokens but is not the UnifiedAPI', () => {
    let acct;
    before(() => {
      answer = undefined;
    });
    beforeEach(async () => {
      acct = account('voipnow', `${fake.url}/vn`);
    });
    afterEach(() => acct.close());

    const TOKEN = { access_token: 'tok-0123456789abcdef', expires_in: 3600 };
    const answers = (other) => (req) => (req.url.startsWith('/vn/oauth/') ? TOKEN : other);

    for (const generic of GENERIC.slice(0, 2)) {
      it(`every operation kind fails with the hint when it answers ${JSON.stringify(generic)}`, async () => {
        const local = await jsonServer(answers(generic));
        const a = account('voipnow', `${local.url}/vn`);
        try {
          const runs = [
            () => a.testConnection(),
            () => a.run('call', 'makecall', { extension: '0003*201', destination: '200' }),
            () => a.run('call', 'drop', { extension: '0003*201' }),
            () => a.run('call', 'transfer', { extension: '0003*201', destination: '200', callId: 'c1' }),
            () => a.run('status', 'extension-state', { extension: '0003*201' }),
            () => a.run('status', 'extensions', {}),
            () => a.run('status', 'active-calls', {}),
          ];
          for (const run of runs) {
            const err = await failure(run());
            assert.equal(err.code, 'provider_error', String(run));
            assert.match(err.message, notTheApi('voipnow'), String(run));
          }
        } finally {
          a.close();
          local.server.close();
        }
      });
    }
  });

  it('3cx: every operation kind fails with the hint', async () => {
    answer = { status: 'ok' };
    const acct = account('3cx-webapi', `${fake.url}/webapi`);
    try {
      const cases = [
        ['call', 'answer', { extension: '117' }],
        ['call', 'drop', { extension: '117' }],
        ['call', 'transfer', { extension: '117', destination: '200' }],
        ['status', 'extensions', {}],
        ['status', 'active-calls', {}],
        ['status', 'call-count', {}],
        ['status', 'queue-agents', { queue: '820' }],
        ['status', 'queue-free', { queue: '820' }],
        ['status', 'list', { kind: 'queues' }],
        ['queue', 'login', { extension: '117' }],
        ['queue', 'set-status', { extension: '117', status: 'away' }],
      ];
      for (const [node, op, params] of cases) {
        const err = await failure(acct.run(node, op, params));
        assert.equal(err.code, 'provider_error', op);
        assert.match(err.message, notTheApi('3cx-webapi'), op);
      }
      // A count that is not a number is no count either.
      answer = { result: 'ok' };
      assert.match((await failure(acct.testConnection())).message, notTheApi('3cx-webapi'));
      assert.match((await failure(acct.run('status', 'call-count', {}))).message, notTheApi('3cx-webapi'));
    } finally {
      acct.close();
    }
  });
});

describe('TLS handshake failures: nothing was sent', function () {
  this.timeout(20000);
  let dir;
  const servers = {};
  const urls = {};
  const hits = { plain: 0, selfSigned: 0, expired: 0 };

  const openssl = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  /** `<name>.key` and a self-signed `<name>.pem` for `subject`, valid 30 days. */
  const selfSigned = (name, subject) =>
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '30',
      '-subj',
      subject,
    ]);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbx-tls-'));
    selfSigned('self', '/CN=127.0.0.1');
    // An expired certificate: `openssl ca` is the one openssl command that takes a start and end date.
    fs.writeFileSync(
      path.join(dir, 'ca.cnf'),
      '[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n',
    );
    fs.writeFileSync(path.join(dir, 'index.txt'), '');
    fs.writeFileSync(path.join(dir, 'serial'), '01\n');
    openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'old.key', '-out', 'old.csr', '-subj', '/CN=127.0.0.1']);
    openssl([
      'ca',
      '-config',
      'ca.cnf',
      '-selfsign',
      '-keyfile',
      'old.key',
      '-in',
      'old.csr',
      '-out',
      'old.pem',
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200102000000Z',
      '-batch',
      '-notext',
    ]);

    const counting = (name) => (req, res) => {
      hits[name]++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"result":1}');
    };
    servers.plain = http.createServer(counting('plain'));
    const read = (f) => fs.readFileSync(path.join(dir, f));
    servers.selfSigned = https.createServer({ key: read('self.key'), cert: read('self.pem') }, counting('selfSigned'));
    servers.expired = https.createServer({ key: read('old.key'), cert: read('old.pem') }, counting('expired'));
    for (const [name, server] of Object.entries(servers)) {
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      urls[name] = `https://127.0.0.1:${server.address().port}/webapi`;
    }
  });
  after(() => {
    for (const server of Object.values(servers)) server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const KEY = 'secret-key-123456';
  const client = (baseUrl, rejectUnauthorized = true) =>
    new HttpClient({ baseUrl, timeout: 2000, rejectUnauthorized, redactor: new Redactor([KEY]), retryDelaysMs: [5] });
  const send = (c, stateChanging) =>
    c.send({ method: 'GET', path: `/${KEY}/makecall`, operation: stateChanging ? 'makecall' : 'call-count', stateChanging });

  for (const stateChanging of [true, false]) {
    const kind = stateChanging ? 'a state-changing request' : 'a status query';

    it(`https on a plain http port: ${kind} is unreachable, with the http/https hint`, async () => {
      const c = client(urls.plain);
      try {
        const err = await failure(send(c, stateChanging));
        assert.equal(err.code, 'unreachable');
        assert.match(err.message, /TLS handshake .* failed \(EPROTO: wrong version number\); nothing was sent/);
        assert.match(err.message, /speaks plain HTTP.*http:\/\/ instead of https:\/\//);
        assert.doesNotMatch(err.message, /may or may not have taken effect/);
        assert.ok(!err.message.includes(KEY), err.message);
      } finally {
        c.close();
      }
      assert.equal(hits.plain, 0, 'the server never saw a request');
    });

    for (const [name, code] of [
      ['selfSigned', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
      ['expired', 'CERT_HAS_EXPIRED'],
    ]) {
      it(`a ${name} certificate: ${kind} is unreachable, with the rejectUnauthorized hint`, async () => {
        const c = client(urls[name]);
        try {
          const err = await failure(send(c, stateChanging));
          assert.equal(err.code, 'unreachable');
          assert.match(err.message, new RegExp(`TLS handshake .* failed \\(${code}\\); nothing was sent`));
          assert.match(err.message, /"Verify the server's TLS certificate" \(rejectUnauthorized\)/);
          assert.ok(!err.message.includes(KEY), err.message);
        } finally {
          c.close();
        }
        assert.equal(hits[name], 0, 'the server never saw a request');
      });
    }
  }

  it('a certificate for another host name: unreachable, with the host name hint', async () => {
    // Only a certificate the process trusts gets as far as the name check: the client runs in a
    // child process that trusts a test CA (NODE_EXTRA_CA_CERTS is read at start only).
    selfSigned('ca', '/CN=pbx test CA');
    openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.csr', '-subj', '/CN=other.example']);
    fs.writeFileSync(path.join(dir, 'other.ext'), 'subjectAltName = DNS:other.example\n');
    openssl([
      'x509',
      '-req',
      '-in',
      'other.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'other.pem',
      '-days',
      '30',
      '-extfile',
      'other.ext',
    ]);
    let hit = 0;
    const read = (f) => fs.readFileSync(path.join(dir, f));
    const server = https.createServer({ key: read('other.key'), cert: read('other.pem') }, (req, res) => {
      hit++;
      res.end('{}');
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const script = `
      const { HttpClient } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/core/http'))});
      const { Redactor } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/core/errors'))});
      const c = new HttpClient({ baseUrl: process.argv[1], timeout: 2000, rejectUnauthorized: true, redactor: new Redactor([]), retryDelaysMs: [] });
      c.send({ method: 'GET', path: '/makecall', operation: 'makecall', stateChanging: true })
        .then(() => console.log('{}'), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })))
        .finally(() => c.close());`;
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, `https://127.0.0.1:${server.address().port}`], {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem') },
        timeout: 15000,
      });
      const err = JSON.parse(stdout);
      assert.equal(err.code, 'unreachable');
      assert.match(err.message, /TLS handshake .* failed \(ERR_TLS_CERT_ALTNAME_INVALID\); nothing was sent/);
      assert.match(err.message, /The certificate names another host: use the host name it was issued for/);
    } finally {
      server.close();
    }
    assert.equal(hit, 0, 'the server never saw a request');
  });

  it('a state-changing request to a self-signed server goes through when verification is off', async () => {
    const c = client(urls.selfSigned, false);
    try {
      assert.deepEqual((await send(c, true)).data, { result: 1 });
    } finally {
      c.close();
    }
  });
});

describe('an unknown extension or queue is not_found on every provider (simulator)', () => {
  let sim;
  const accounts = {};
  before(async () => {
    sim = await startSimulator({ stepMs: 20, talkMs: 200 });
    accounts['3cx-webapi'] = account('3cx-webapi', `${sim.url}/webapi`);
    accounts.voipnow = account('voipnow', `${sim.url}/voipnow`);
    accounts['cloud-callcenter'] = account('cloud-callcenter', `${sim.url}/callcenter`);
  });
  after(async () => {
    for (const a of Object.values(accounts)) a.close();
    await sim.close();
  });

  const UNKNOWN = { '3cx-webapi': '999', voipnow: '0003*999', 'cloud-callcenter': '90249999' };
  const CASES = [
    ['call', 'makecall', (x) => ({ extension: x, destination: '200' })],
    ['call', 'drop', (x) => ({ extension: x })],
    ['status', 'extension-state', (x) => ({ extension: x })],
    ['queue', 'logout', (x, q) => ({ extension: x, queue: q })],
    ['queue', 'set-status', (x, q) => ({ extension: x, status: 'away', queue: q })],
  ];
  const QUEUES = { '3cx-webapi': '820', voipnow: '0003*300', 'cloud-callcenter': 'queue-1' };

  for (const provider of Object.keys(UNKNOWN)) {
    for (const [node, operation, params] of CASES) {
      it(`${provider} ${operation} of an unknown extension is not_found`, async () => {
        const err = await failure(accounts[provider].run(node, operation, params(UNKNOWN[provider], QUEUES[provider])));
        assert.equal(err.code, 'not_found', err.message);
        assert.equal(err.provider, provider);
      });
    }
  }

  it('cloud-callcenter: an extension of another account is not_found too (1011)', async () => {
    const err = await failure(accounts['cloud-callcenter'].run('call', 'makecall', { extension: '12345', destination: '200' }));
    assert.deepEqual([err.code, err.providerCode], ['not_found', '1011']);
  });

  it('voipnow: an unknown queue is not_found', async () => {
    const err = await failure(accounts.voipnow.run('queue', 'login', { extension: '0003*201', queue: '0003*999' }));
    assert.deepEqual([err.code, err.providerCode], ['not_found', 'extension_invalid']);
  });

  it('3cx: an unknown queue or ring group is not_found', async () => {
    for (const [op, params] of [
      ['queue-agents', { queue: '999' }],
      ['group-members', { group: '999' }],
    ]) {
      const err = await failure(accounts['3cx-webapi'].run('status', op, params));
      assert.equal(err.code, 'not_found', op);
    }
    const login = await failure(accounts['3cx-webapi'].run('queue', 'login', { extension: '117', queue: '999' }));
    assert.equal(login.code, 'not_found');
  });
});
