'use strict';
// Deadlines, answer sizes and path segments of actions, through a real Node-RED process with the
// packed package. A hostile provider sits in front of the simulator: requests it picks get headers
// and then one byte per second, or a 200 MB answer generated on the fly; everything else passes
// to the simulator. With `timeout: 2000`, a status query must end with `timeout` and a makecall
// with `outcome_unknown` (sent once) long before the 60 s drip ends; a huge answer must end with
// `provider_error` / `outcome_unknown` while the Node-RED process stays small (peak RSS, read from
// /proc: a memory bound, not a timing); a VoipNow drop with callId `..` never reaches the provider.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { Collector } = require('../helpers/collector');
const { HostileProvider } = require('../helpers/hostile-provider');
const { LABELS, PROVIDER_IDS, distinctiveSecrets, startSecretSimulator, providerFlows, action } = require('../helpers/hardening');

const secrets = distinctiveSecrets('DEADLINE');
const TIMEOUT_MS = 2000;
/** Peak RSS the Node-RED process may reach while six 200 MB answers are refused. */
const MAX_PEAK_RSS = 400 * 1024 * 1024;

/** Per provider: one status query and one makecall, and how to recognise each on the wire. */
const PLAN = {
  '3cx-webapi': {
    status: { query: 'extension-state', params: { extension: '117' } },
    makecall: { operation: 'makecall', params: { extension: '117', destination: '0555123988' } },
    isStatus: (r) => r.path.startsWith('/webapi/') && r.path.endsWith('/ext.state'),
    isMakecall: (r) => r.path.startsWith('/webapi/') && r.path.endsWith('/makecall'),
  },
  voipnow: {
    status: { query: 'extension-state', params: { extension: '0003*201' } },
    makecall: { operation: 'makecall', params: { extension: '0003*210', destination: '0555123988' } },
    isStatus: (r) => r.path.startsWith('/voipnow/') && r.path.endsWith('/presence'),
    isMakecall: (r) => r.path.startsWith('/voipnow/') && r.path.endsWith('/phoneCalls/@me/simple'),
  },
  'cloud-callcenter': {
    status: { query: 'extension-state', params: { extension: '90240001' } },
    makecall: { operation: 'makecall', params: { extension: '90240001', destination: '13800138000' } },
    isStatus: (r) => r.path === '/callcenter' && r.body.includes('App.Sip_Extgroup.GetGroupExt'),
    isMakecall: (r) => r.path === '/callcenter' && r.body.includes('App.Sip_Call.MakeCall'),
  },
};

/** Peak resident set size of process `pid`, in bytes (Linux /proc). */
function peakRss(pid) {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(line.match(/(\d+)\s*kB/)[1]) * 1024;
}

describe('hardening: deadlines, answer sizes and path segments of actions (real Node-RED process)', function () {
  // Hang guard only: a drip lasts 60 s; every expected failure comes within a few deadlines.
  this.timeout(45000);
  let nr;
  let sim;
  let hostile;
  let collector;

  async function expectFailure(provider, request, code) {
    const kind = request.query ? 'status' : 'call';
    const r = await action(nr.url, provider, kind, request);
    assert.equal(r.status, 500, `${request.query ?? request.operation} should fail: ${r.text.slice(0, 300)}`);
    assert.equal(r.body.error.code, code, r.body.error.message);
    assert.equal(r.body.pbx.error.provider, provider);
    const caught = await collector.waitFor('/errors', 1, {
      filter: (m) => m.error?.code === code && m.error.source?.id === `act-${LABELS[provider]}-${kind}`,
      timeoutMs: 5000,
    });
    return caught[caught.length - 1].error;
  }

  const eachProvider = (fn) =>
    Promise.all(
      PROVIDER_IDS.map((provider) =>
        fn(provider, PLAN[provider]).catch((err) => {
          err.message = `${provider}: ${err.message}`;
          throw err;
        }),
      ),
    );

  before(async function () {
    this.timeout(120000);
    collector = await new Collector().start();
    sim = await startSecretSimulator(secrets);
    hostile = await new HostileProvider({ upstream: sim.url }).listen();
    nr = await new NodeRedProcess({ adminRoot: '/admin' }).start();
    await nr.deploy(providerFlows({ collector: collector.url, simUrl: hostile.url, secrets, timeout: TIMEOUT_MS }));
  });

  after(async () => {
    await nr?.stop();
    nr?.cleanup();
    await hostile?.close();
    await sim?.close();
    await collector?.close();
  });

  afterEach(() => {
    hostile.clearRules();
    collector.clear();
  });

  it('headers then 1 byte/s: the Catch node gets timeout for a status query and outcome_unknown for a makecall sent once', async () => {
    await eachProvider(async (provider, plan) => {
      hostile.addRule({ match: (r) => plan.isStatus(r) || plan.isMakecall(r), behave: 'drip' });
      const status = await expectFailure(provider, plan.status, 'timeout');
      assert.match(status.message, /no complete answer in time \(timeout 2000 ms/);
      assert.equal(hostile.seen(plan.isStatus).length, 3, 'a status query is tried three times');
      const call = await expectFailure(provider, plan.makecall, 'outcome_unknown');
      assert.match(call.message, /not repeated/);
      assert.equal(hostile.seen(plan.isMakecall).length, 1, 'makecall sent exactly once');
    });
  });

  it('a 200 MB answer: provider_error for a status query, outcome_unknown for a makecall; Node-RED stays small', async () => {
    // One provider after the other: the bound is on the peak of the whole process.
    for (const provider of PROVIDER_IDS) {
      const plan = PLAN[provider];
      const mark = hostile.requests.length;
      hostile.addRule({ match: (r) => plan.isStatus(r) || plan.isMakecall(r), behave: 'huge', text: true });
      const status = await expectFailure(provider, plan.status, 'provider_error');
      assert.match(status.message, /answer larger than \d+ bytes/);
      const call = await expectFailure(provider, plan.makecall, 'outcome_unknown');
      assert.match(call.message, /answer larger than \d+ bytes/);
      assert.equal(hostile.seen(plan.isStatus, mark).length, 1, `${provider}: a too large answer is not retried`);
      assert.equal(hostile.seen(plan.isMakecall, mark).length, 1, `${provider}: makecall sent once`);
      hostile.clearRules();
    }
    const peak = peakRss(nr.child.pid);
    assert.ok(peak < MAX_PEAK_RSS, `Node-RED peak RSS ${Math.round(peak / 1048576)} MB`);
    assert.ok(
      hostile.hugeAnswers.every((h) => !h.finished),
      'every huge answer was cut off by the client',
    );
  });

  it('voipnow drop with callId "..", "%2E%2e" or "." is invalid_input and sends nothing', async () => {
    for (const callId of ['..', '%2E%2e', '.']) {
      const mark = hostile.requests.length;
      const r = await action(nr.url, 'voipnow', 'call', { operation: 'drop', params: { extension: '0003*210', callId } });
      assert.equal(r.status, 500, r.text);
      assert.equal(r.body.error.code, 'invalid_input');
      assert.match(r.body.error.message, /callId must not be/);
      await collector.waitFor('/errors', 1, { filter: (m) => m.error?.code === 'invalid_input' && /callId/.test(m.error.message) });
      assert.deepEqual(
        hostile.seen(() => true, mark),
        [],
        `${callId}: no request reached the provider`,
      );
      collector.clear();
    }
  });
});
