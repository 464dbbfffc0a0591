'use strict';
// What stands between a PBX and the webhooks, through a real Node-RED process with the default
// roots (admin root '/'): Node-RED's httpNodeAuth answers 401 before the router sees a request,
// so the package says so in the log, once per start; behind a reverse proxy (here: 127.0.0.1, the
// test itself) allowFrom is checked against the X-Forwarded-For client only when the proxy is in
// trustedProxies, and the rejection log names that client. Time bounds are mocha hang guards only.
const assert = require('node:assert/strict');
const http = require('node:http');
const bcrypt = require('bcryptjs');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { Collector } = require('../helpers/collector');
const { fn, post, wrapOutput } = require('../helpers/flows');

const NODE_USER = 'pbx-hook';
const NODE_PASSWORD = 'reachability-node-password-5d1e';
const HTTP_NODE_AUTH_WARNING = /\[warn\] \[pbx-config:[^\]]+\] Node-RED's httpNodeAuth is set/;
const ADMIN_ROOT_WARNING = /httpAdminRoot '\/'/;

/** A 3CX ringing event for call `n`. */
const ringing = (n) =>
  JSON.stringify({ Event: 'ringing', Callerid: '05551239988', User: '202', Usertype: 'ext', Id: `2611290${n}_1-1`, Did: '0211' });

/** Config `cfg-<label>` at /pbx/reach-<label>, senders 192.0.2.0/24, its events posted to `/events/<label>`. */
function configFlow(label, { trustedProxies = '', name = 'reach' } = {}, collector) {
  const z = 'tab-reach';
  return [
    {
      id: `cfg-${label}`,
      type: 'pbx-config',
      name: `${name} ${label}`,
      provider: '3cx-webapi',
      baseUrl: 'http://127.0.0.1:9/webapi',
      webhookPath: `/pbx/reach-${label}`,
      timeout: 1000,
      rejectUnauthorized: true,
      allowFrom: '192.0.2.0/24',
      trustedProxies,
      publicUrl: 'https://hooks.example.com',
      credentials: { accessKey: 'reachability-access-key' },
    },
    {
      id: `ev-${label}`,
      type: 'pbx-event',
      z,
      pbx: `cfg-${label}`,
      events: [],
      extension: '',
      direction: 'any',
      outputs: 1,
      wires: [[`w-${label}`]],
    },
    fn(`w-${label}`, wrapOutput, [`p-${label}`], z),
    post(`p-${label}`, `${collector}/events/${label}`, z),
  ];
}

function flows(collector, name) {
  const nodes = [...configFlow('proxied', { trustedProxies: '127.0.0.1', name }, collector), ...configFlow('direct', { name }, collector)];
  // Flow nodes have a position (without one Node-RED takes them for config nodes).
  return [{ id: 'tab-reach', type: 'tab', label: 'reachability' }, ...nodes.map((n, i) => (n.z ? { x: 100, y: 40 + i * 40, ...n } : n))];
}

describe('hardening: webhook reachability in a real Node-RED process (default roots, httpNodeAuth set)', function () {
  this.timeout(60000);
  let nr;
  let collector;

  before(async () => {
    collector = await new Collector().start();
    nr = await new NodeRedProcess({
      adminRoot: '/',
      settings: { httpNodeAuth: { user: NODE_USER, pass: bcrypt.hashSync(NODE_PASSWORD, 4) } },
    }).start();
    await nr.deploy(flows(collector.url, 'first'));
  });

  after(async () => {
    await nr?.stop();
    nr?.cleanup();
    await collector?.close();
  });

  /**
   * A webhook POST from 127.0.0.1, credentials in the URL as a PBX is given them
   * (`http://user:password@host/...`; Node's http client sends them as Basic auth).
   */
  function send(label, body, { forwardedFor, auth = true } = {}) {
    const url = new URL(`/pbx/reach-${label}`, nr.url);
    if (auth) {
      url.username = NODE_USER;
      url.password = NODE_PASSWORD;
    }
    const headers = { 'Content-Type': 'application/json' };
    if (forwardedFor) headers['X-Forwarded-For'] = forwardedFor;
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  const linesMatching = (re) => nr.logs.filter((l) => re.test(l));

  /** The log lines matching `re` once there are `count` (the log reaches the test through a pipe). */
  async function logged(re, count) {
    for (let i = 0; i < 100 && linesMatching(re).length < count; i++) await new Promise((r) => setTimeout(r, 50));
    return linesMatching(re);
  }

  it('httpNodeAuth: a request without its credentials gets 401 from Node-RED; the log said why, once, and still once after a redeploy', async () => {
    assert.equal(await send('proxied', ringing(1), { forwardedFor: '192.0.2.10', auth: false }), 401);
    await nr.deploy(flows(collector.url, 'second'));
    const warnings = linesMatching(HTTP_NODE_AUTH_WARNING);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /https:\/\/user:password@host\//);
    assert.ok(!nr.logs.some((l) => l.includes(NODE_PASSWORD)), 'the password is never logged');
    // The router claims the webhooks on Node-RED's server: no admin-root warning under the default roots.
    assert.deepEqual(linesMatching(ADMIN_ROOT_WARNING), []);
    const setup = await (await fetch(nr.adminUrl('/pbx-config/webhook-setup'))).json();
    assert.deepEqual(setup, { bodiesParsedByNodeRed: false, httpNodeAuth: true });
  });

  it('trustedProxies: from the trusted proxy, allowFrom checks the forwarded client; the rejection names it', async () => {
    assert.equal(await send('proxied', ringing(2), { forwardedFor: '192.0.2.10' }), 200);
    const [event] = await collector.waitFor('/events/proxied', 1);
    assert.equal(event.payload.callId, '26112902_1');
    // A client-made entry left of what the proxy appended is not believed.
    assert.equal(await send('proxied', ringing(3), { forwardedFor: '192.0.2.10, 198.51.100.7' }), 401);
    const rejected = await logged(/\[pbx-config:second proxied\] webhook request rejected:/, 1);
    assert.equal(rejected.length, 1, rejected.join('\n'));
    assert.match(rejected[0], / 401 \(address not allowed\) from 198\.51\.100\.7$/);
    assert.equal(collector.on('/events/proxied').length, 1);
  });

  it('without trustedProxies X-Forwarded-For is ignored: the proxy itself is checked and named', async () => {
    assert.equal(await send('direct', ringing(4), { forwardedFor: '192.0.2.10' }), 401);
    const rejected = await logged(/\[pbx-config:second direct\] webhook request rejected:/, 1);
    assert.equal(rejected.length, 1, rejected.join('\n'));
    assert.match(rejected[0], / 401 \(address not allowed\) from (::ffff:)?127\.0\.0\.1$/);
    assert.deepEqual(collector.on('/events/direct'), []);
  });
});
