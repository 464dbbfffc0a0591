'use strict';
// The simulator as users of the published package get it: `npm pack`, installed into an empty
// directory, run as `node_modules/.bin/pbx-simulator`. Its webhooks reach a loopback collector.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Collector } = require('../helpers/collector');
const { prepareUserDir, freePort } = require('../helpers/node-red-process');

const PROVIDERS = { '3cx-webapi': '/webapi', voipnow: '/voipnow', 'cloud-callcenter': '/callcenter' };
const SECRET = 'cli-test-webhook-secret';

/** A running `pbx-simulator`: its output so far, and a way to wait for a line of it. */
class SimulatorCommand {
  constructor(bin, args) {
    this.out = '';
    this.err = '';
    this.child = spawn(bin, args, { env: envWithNode(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (c) => (this.out += c.toString('utf8')));
    this.child.stderr.on('data', (c) => (this.err += c.toString('utf8')));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
      this.child.once('error', (error) => resolve({ error }));
    });
  }

  async ready() {
    const deadline = Date.now() + 15000;
    while (!/Ctrl-C stops it/.test(this.out)) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`pbx-simulator did not start:\n${this.out}\n${this.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this;
  }

  async stop(signal = 'SIGINT') {
    if (this.child.exitCode === null && this.child.pid) this.child.kill(signal);
    return this.exited;
  }
}

function envWithNode() {
  return { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}` };
}

async function post(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('integration: the pbx-simulator command from the packed package', function () {
  this.timeout(120000);
  let userDir;
  let bin;
  let collector;
  const running = [];

  const start = async (args) => {
    const sim = new SimulatorCommand(bin, args);
    running.push(sim);
    return sim.ready();
  };

  before(async () => {
    userDir = prepareUserDir();
    bin = path.join(userDir, 'node_modules', '.bin', 'pbx-simulator');
    collector = await new Collector().start();
  });
  after(async () => {
    await Promise.all(running.map((s) => s.stop('SIGKILL')));
    await collector?.close();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });
  beforeEach(() => collector.clear());

  it('is installed as node_modules/.bin/pbx-simulator', () => {
    assert.ok(fs.existsSync(bin), bin);
  });

  it('--help exits 0 and lists the providers, their base URLs and credentials, the control API and how to play a scenario', () => {
    const run = spawnSync(bin, ['--help'], { env: envWithNode(), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const help = run.stdout;
    for (const [id, prefix] of Object.entries(PROVIDERS)) {
      assert.match(help, new RegExp(`^  ${id} +http://127\\.0\\.0\\.1:8089${prefix}$`, 'm'), id);
    }
    for (const credential of ['demo-3cx-access-key', 'demo-voipnow-client', 'demo-voipnow-secret', 'demo-cc-app-id', 'demo-cc-app-key'])
      assert.ok(help.includes(credential), credential);
    for (const option of ['--port <n>', '--host <address>', '--webhook <provider>=<url>', '--webhook <url>', '--provider <id>|all'])
      assert.ok(help.includes(option), option);
    for (const control of [/POST +\/_sim\/scenario /, /POST +\/_sim\/webhook /, /GET +\/_sim\/scenarios /, /GET +\/_sim\/state /])
      assert.match(help, control);
    assert.match(help, /curl -X POST http:\/\/127\.0\.0\.1:8089\/_sim\/scenario .*\n.*"provider":"3cx-webapi","name":"incoming-missed"/);
    for (const scenario of ['incoming-missed', 'inbound-missed', 'api-doublecall']) assert.ok(help.includes(scenario), scenario);
    assert.equal(run.stderr, '');
  });

  it('`node dist/simulator` inside the package is the same command', () => {
    const index = path.join(userDir, 'node_modules', '@callflow', 'node-red-pbx', 'dist', 'simulator');
    const run = spawnSync(process.execPath, [index, '--help'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^Usage: pbx-simulator /m);
  });

  for (const [args, message] of [
    [['--port', 'eighty'], /--port: "eighty" is not a port number/],
    [['--webhook', 'asterisk=http://127.0.0.1:1880/x'], /--webhook: no provider "asterisk" \(3cx-webapi, cloud-callcenter, voipnow\)/],
    [['--webhook', 'http://pbx.example.com/hook'], /--webhook: .*only sends webhooks to loopback/],
    [['--provider', 'asterisk'], /--provider: no provider "asterisk"/],
    [['--host', '0.0.0.0'], /--host: .*loopback/],
    [['--colour'], /Unknown option '--colour'/],
  ]) {
    it(`${args.join(' ')} exits 2 with a message`, () => {
      const run = spawnSync(bin, args, { env: envWithNode(), encoding: 'utf8' });
      assert.equal(run.status, 2, run.stdout + run.stderr);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /pbx-simulator --help/);
    });
  }

  it('sends a scenario played through the control API to its --webhook target, and exits 0 on SIGINT', async () => {
    const port = await freePort();
    const hook = `${collector.url}/pbx/cli-3cx/${SECRET}`;
    const sim = await start(['--port', String(port), '--webhook', `3cx-webapi=${hook}`]);
    for (const [id, prefix] of Object.entries(PROVIDERS)) assert.ok(sim.out.includes(`http://127.0.0.1:${port}${prefix}`), id);
    assert.ok(!sim.out.includes(SECRET), 'the webhook secret (last path segment) is not printed');
    assert.ok(sim.out.includes(`${collector.url}/pbx/cli-3cx/`), sim.out);

    const played = await post(`http://127.0.0.1:${port}/_sim/scenario`, { provider: '3cx-webapi', name: 'incoming-missed' });
    assert.equal(played.status, 200, JSON.stringify(played.body));
    const got = await collector.waitFor(`/pbx/cli-3cx/${SECRET}`, 4);
    assert.deepEqual(
      got.map((w) => `${w.Event}:${w.User}`),
      ['ringing:800', 'ringing:820', 'ringing:202', 'incoming:820'],
    );
    assert.ok(got.every((w) => w.Id.startsWith(played.body.callId)));
    assert.equal(got.at(-1).Finishtype, 'Missed');

    assert.deepEqual(await sim.stop('SIGINT'), { code: 0, signal: null });
  });

  it('a scenario or a makecall with no webhook target is a 409 that says how to set one; POST /_sim/webhook sets it', async () => {
    const port = await freePort();
    const sim = await start(['--port', String(port)]);
    assert.match(sim.out, /3cx-webapi .*no webhook target/);
    const base = `http://127.0.0.1:${port}`;

    const played = await post(`${base}/_sim/scenario`, { provider: '3cx-webapi', name: 'incoming-missed' });
    assert.equal(played.status, 409);
    assert.match(played.body.error, /no webhook target for 3cx-webapi/);
    assert.match(played.body.error, /--webhook 3cx-webapi=<url>/);
    assert.match(played.body.error, /POST \/_sim\/webhook/);

    const makecall = await fetch(`${base}/webapi/demo-3cx-access-key/makecall?firstnum=117&secondnum=05551239988`);
    assert.equal(makecall.status, 409);
    assert.match(await makecall.text(), /no webhook target for 3cx-webapi.*--webhook 3cx-webapi=<url>.*POST \/_sim\/webhook/);

    // The other providers' call placing requests, refused in their own error shape.
    const form = (fields) => ({ method: 'POST', body: new URLSearchParams(fields) });
    const login = await (
      await fetch(`${base}/callcenter`, form({ service: 'App.Sip_Auth.Login', appid: 'demo-cc-app-id', accesskey: 'demo-cc-app-key' }))
    ).json();
    const doubleCall = await fetch(
      `${base}/callcenter`,
      form({ service: 'App.Sip_Call.DoubleCall', token: login.data.result.token, extnumber: '90240001', anumber: '1390', bnumber: '1380' }),
    );
    assert.equal(doubleCall.status, 409);
    const envelope = await doubleCall.json();
    assert.equal(envelope.ret, 409);
    assert.match(envelope.msg, /no webhook target for cloud-callcenter.*--webhook cloud-callcenter=<url>/);
    const token = await (
      await fetch(
        `${base}/voipnow/oauth/token.php`,
        form({
          grant_type: 'client_credentials',
          client_id: 'demo-voipnow-client',
          client_secret: 'demo-voipnow-secret',
          type: 'unifiedapi',
          redirect_uri: 'http://127.0.0.1/',
        }),
      )
    ).json();
    const simple = await fetch(`${base}/voipnow/uapi/phoneCalls/@me/simple`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token.access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ extension: '0003*201', phoneCallView: [{ source: ['0003*201'], destination: ['0555'] }] }),
    });
    assert.equal(simple.status, 409);
    assert.match(await simple.text(), /no webhook target for voipnow.*--webhook voipnow=<url>/);
    const state = await (await fetch(`${base}/_sim/state`)).json();
    for (const id of Object.keys(PROVIDERS)) assert.deepEqual(state[id].calls, [], `${id}: no call was placed`);
    // A status query is no call: it is answered.
    assert.equal((await fetch(`${base}/webapi/demo-3cx-access-key/pbx.calls`)).status, 200);

    const hook = `${collector.url}/pbx/late-3cx`;
    assert.deepEqual(await post(`${base}/_sim/webhook`, { provider: '3cx-webapi', url: hook }), { status: 200, body: { ok: true } });
    const again = await fetch(`${base}/webapi/demo-3cx-access-key/makecall?firstnum=117&secondnum=05551239988`);
    assert.equal(again.status, 200);
    const dialing = await collector.waitFor('/pbx/late-3cx', 1);
    assert.equal(dialing[0].Event, 'dialing');
    assert.equal(dialing[0].User, '117');

    assert.deepEqual(await sim.stop('SIGTERM'), { code: 0, signal: null });
  });

  it('POST /_sim/webhook refuses a target that is not loopback HTTP, a provider that is not running, a body that is not JSON', async () => {
    const port = await freePort();
    const sim = await start(['--port', String(port), '--provider', 'voipnow']);
    const base = `http://127.0.0.1:${port}`;
    const remote = await post(`${base}/_sim/webhook`, { provider: 'voipnow', url: 'http://pbx.example.com/hook' });
    assert.equal(remote.status, 400);
    assert.match(remote.body.error, /only sends webhooks to loopback/);
    const absent = await post(`${base}/_sim/webhook`, { provider: '3cx-webapi', url: `${collector.url}/x` });
    assert.equal(absent.status, 404);
    assert.match(absent.body.error, /no provider 3cx-webapi \(running: voipnow\)/);
    const garbled = await fetch(`${base}/_sim/webhook`, { method: 'POST', body: '{"provider":' });
    assert.equal(garbled.status, 400);
    assert.deepEqual(await garbled.json(), { error: 'the body is not a JSON object' });
    await sim.stop();
  });

  it("--provider runs one provider; --webhook <url> without a provider id is every running provider's target", async () => {
    const port = await freePort();
    const sim = await start(['--port', String(port), '--provider', 'voipnow', '--webhook', `${collector.url}/pbx/all`]);
    const base = `http://127.0.0.1:${port}`;
    assert.ok(sim.out.includes(`${base}/voipnow`));
    assert.ok(!sim.out.includes(`${base}/webapi`), sim.out);
    assert.equal((await fetch(`${base}/webapi/demo-3cx-access-key/pbx.calls`)).status, 404);

    const played = await post(`${base}/_sim/scenario`, { provider: 'voipnow', name: 'inbound-missed', extension: '0003*201' });
    assert.equal(played.status, 200, JSON.stringify(played.body));
    // The answer comes once the last webhook was delivered; VoipNow's GET scheme puts the fields in the query.
    const calls = collector.messages.filter((m) => m.path.startsWith('/pbx/all?')).map((m) => new URLSearchParams(m.path.split('?')[1]));
    assert.deepEqual(
      calls.map((q) => `${q.get('event')}:${q.get('CallStatus')}:${q.get('CalledExtension')}`),
      ['dial-in:CALLING:0003*201', 'hangup:UNKNOWN:0003*201'],
    );
    assert.ok(calls.every((q) => q.get('CallID') === played.body.callId));
    assert.deepEqual(await sim.stop('SIGINT'), { code: 0, signal: null });
  });

  it('a port in use is a clear error, exit 1', async () => {
    const port = await freePort();
    const first = await start(['--port', String(port)]);
    const second = spawnSync(bin, ['--port', String(port)], { env: envWithNode(), encoding: 'utf8', timeout: 15000 });
    assert.equal(second.status, 1, second.stdout + second.stderr);
    assert.match(second.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use: choose another with --port`));
    await first.stop();
  });
});
