'use strict';
// Failures a user meets in the first hour, through a real Node-RED process with the packed
// package: a base URL that points at some other server answering 2xx JSON, and an https base URL
// on a plain http port. The editor's Test connection (POST /pbx-config/test, as the config dialog
// calls it) and the action nodes must both say what is wrong: provider_error "may not point at
// it" for the first, unreachable "nothing was sent" with the http/https hint for the second,
// never "OK: connected", `ok: true`, `offline` or outcome_unknown.
const assert = require('node:assert/strict');
const http = require('node:http');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { Collector } = require('../helpers/collector');
const { LABELS, PROVIDER_IDS, distinctiveSecrets, providerFlows, action, SIM_PREFIX } = require('../helpers/hardening');

const secrets = distinctiveSecrets('HONEST');
const API_NAMES = { '3cx-webapi': '3CX WebAPI', voipnow: 'VoipNow UnifiedAPI', 'cloud-callcenter': 'call center API' };
const EXTENSIONS = { '3cx-webapi': '117', voipnow: '0003*201', 'cloud-callcenter': '90240001' };

describe('hardening: honest failures (real Node-RED process, all providers)', function () {
  this.timeout(90000);
  let nr;
  let collector;
  let generic;
  let genericUrl;
  const genericSeen = [];

  before(async () => {
    collector = await new Collector().start();
    // Any web app: every request is answered 200 with a JSON object.
    generic = http.createServer((req, res) => {
      genericSeen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"status":"ok"}');
      });
    });
    await new Promise((r) => generic.listen(0, '127.0.0.1', r));
    genericUrl = `http://127.0.0.1:${generic.address().port}`;
    nr = await new NodeRedProcess({ adminRoot: '/admin' }).start();
  });

  after(async () => {
    await nr?.stop();
    nr?.cleanup();
    generic?.close();
    await collector?.close();
  });

  /** POST /pbx-config/test with the dialog's values and typed credentials. */
  async function testConnection(provider, baseUrl) {
    const { webhookSecret: _unused, ...credentials } = secrets[provider];
    const res = await fetch(nr.adminUrl('/pbx-config/test'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        id: `cfg-${LABELS[provider]}`,
        provider,
        baseUrl: `${baseUrl}${SIM_PREFIX[provider]}`,
        timeout: 2000,
        credentials,
      }),
    });
    assert.equal(res.status, 200);
    return res.json();
  }

  async function expectError(provider, request, code, pattern) {
    const kind = request.query ? 'status' : 'call';
    const r = await action(nr.url, provider, kind, request);
    assert.equal(r.status, 500, `${provider} ${request.query ?? request.operation} should fail: ${r.text}`);
    assert.equal(r.body.error.code, code, r.body.error.message);
    assert.match(r.body.error.message, pattern);
    assert.equal(r.body.pbx.error.code, code);
    assert.equal(r.body.pbx.error.provider, provider);
  }

  it('a base URL that is not the API: Test connection, makecall and extension-state fail with the hint', async () => {
    await nr.deploy(providerFlows({ collector: collector.url, simUrl: genericUrl, secrets, timeout: 2000, name: 'generic' }));
    for (const provider of PROVIDER_IDS) {
      const hint = new RegExp(`not an answer of the ${API_NAMES[provider]}.*base URL may not point at it`);
      const tested = await testConnection(provider, genericUrl);
      assert.equal(tested.ok, false, JSON.stringify(tested));
      assert.equal(tested.code, 'provider_error');
      assert.match(tested.message, hint);
      const ext = EXTENSIONS[provider];
      await expectError(provider, { operation: 'makecall', params: { extension: ext, destination: '0555123988' } }, 'provider_error', hint);
      await expectError(provider, { query: 'extension-state', params: { extension: ext } }, 'provider_error', hint);
    }
    assert.ok(genericSeen.length > 0, 'the requests did reach the other server');
  });

  it('https on a plain http port: unreachable, nothing sent, with the http/https hint', async () => {
    const before = genericSeen.length;
    const tlsUrl = genericUrl.replace('http:', 'https:');
    await nr.deploy(providerFlows({ collector: collector.url, simUrl: tlsUrl, secrets, timeout: 2000, name: 'tls' }));
    const hint = /TLS handshake .* failed \(EPROTO: wrong version number\); nothing was sent.*http:\/\/ instead of https:\/\//;
    for (const provider of PROVIDER_IDS) {
      const tested = await testConnection(provider, tlsUrl);
      assert.deepEqual([tested.ok, tested.code], [false, 'unreachable'], JSON.stringify(tested));
      assert.match(tested.message, hint);
      const ext = EXTENSIONS[provider];
      await expectError(provider, { operation: 'makecall', params: { extension: ext, destination: '0555123988' } }, 'unreachable', hint);
    }
    assert.equal(genericSeen.length, before, 'no HTTP request reached the server');
  });
});
