'use strict';
// rejectUnauthorized is per config node: a self-signed PBX certificate is accepted by the one
// client that allows it and nowhere else in the process.
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { HttpClient } = require('../../dist/core/http');
const { Redactor } = require('../../dist/core/errors');

describe('core: HTTP client TLS policy', () => {
  let server;
  let base;
  let dir;

  before(async function () {
    this.timeout(20000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbx-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=127.0.0.1'],
      {
        cwd: dir,
        stdio: 'ignore',
      },
    );
    server = https.createServer(
      { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) },
      (req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"result":1}');
      },
    );
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${server.address().port}/webapi`;
  });
  after(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const client = (rejectUnauthorized) =>
    new HttpClient({ baseUrl: base, timeout: 2000, rejectUnauthorized, redactor: new Redactor(['secret-key-123']), retryDelaysMs: [] });
  const get = (c) => c.send({ method: 'GET', path: '/secret-key-123/pbx.calls', operation: 'call-count', stateChanging: false });

  it('refuses a self-signed certificate by default, with a hint and no key in the text', async () => {
    const strict = client(true);
    await assert.rejects(
      get(strict),
      (e) => e.code === 'unreachable' && /\(rejectUnauthorized\) off/.test(e.message) && !e.message.includes('secret-key-123'),
    );
    strict.close();
  });

  it('accepts it for the client that allows it, while others still refuse', async () => {
    const lax = client(false);
    const strict = client(true);
    assert.deepEqual((await get(lax)).data, { result: 1 });
    await assert.rejects(get(strict), { code: 'unreachable' });
    assert.equal(process.env.NODE_TLS_REJECT_UNAUTHORIZED, undefined, 'no process-wide switch');
    lax.close();
    strict.close();
  });

  it('never follows an absolute URL outside the base URL', async () => {
    const c = client(false);
    await assert.rejects(c.send({ method: 'GET', path: 'http://127.0.0.1:1/x', operation: 'x', stateChanging: false }), {
      code: 'invalid_input',
    });
    await assert.rejects(c.send({ method: 'GET', path: '//evil.example/x', operation: 'x', stateChanging: false }), {
      code: 'invalid_input',
    });
    c.close();
  });
});
