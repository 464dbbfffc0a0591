'use strict';
// Redeploy and shutdown, measured rather than assumed: load/unload cycles with requests in flight
// leave no timer, socket or listener behind (process.getActiveResourcesInfo(), the HTTP agents,
// the router's endpoint map, Express's middleware stack); 50 full redeploys leave one route per
// config node; a real Node-RED process keeps its file descriptors and simulator connections flat
// over 50 redeploys, delivers each event once and stops quickly. Time bounds are hang guards only.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { helper, load, webhook, wait } = require('../helpers/red');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { Collector } = require('../helpers/collector');
const { routerFor } = require('../../dist/core/webhook-router');
const {
  LABELS,
  PROVIDER_IDS,
  SIM_PREFIX,
  distinctiveSecrets,
  startSecretSimulator,
  providerFlows,
  action,
} = require('../helpers/hardening');

const secrets = distinctiveSecrets('LIFECYCLE');
const CLOSE_GUARD_MS = 2000;
const STATUS = {
  '3cx-webapi': { query: 'extension-state', params: { extension: '117' } },
  voipnow: { query: 'extension-state', params: { extension: '0003*201' } },
  'cloud-callcenter': { query: 'extension-state', params: { extension: '90240001' } },
};
const EVENT = {
  '3cx-webapi': (id) => ({ json: { Event: 'ringing', Id: `${id}-0`, User: '202', Usertype: 'ext' } }),
  voipnow: (id) => ({ query: `event=dial-in&CallID=${id}&CallStatus=CALLING&CallFlow=IN&CalledExtension=0003*202` }),
  'cloud-callcenter': (id) => ({ json: { type: 'call', status: 'ring', uuid: id, direction: 'callin', extnumber: '90240002' } }),
};

/** Active handles and requests of this process by type, e.g. `{ Timeout: 2, TCPSocketWrap: 1 }`. */
function resources() {
  const out = {};
  for (const type of process.getActiveResourcesInfo()) out[type] = (out[type] ?? 0) + 1;
  return out;
}

function listenerCounts(emitter) {
  return Object.fromEntries(emitter.eventNames().map((name) => [String(name), emitter.listenerCount(name)]));
}

/** Per provider: config, a pbx-status answering inputs, a pbx-status in watch mode (a timer), a pbx-event. */
function helperFlow(simUrl, variant = 0) {
  const nodes = [];
  for (const provider of PROVIDER_IDS) {
    const l = LABELS[provider];
    nodes.push(
      {
        id: `cfg-${l}`,
        type: 'pbx-config',
        name: `v${variant}`,
        provider,
        baseUrl: `${simUrl}${SIM_PREFIX[provider]}`,
        webhookPath: `/pbx/life-${l}`,
        timeout: 1000,
      },
      { id: `st-${l}`, type: 'pbx-status', pbx: `cfg-${l}`, query: STATUS[provider].query, wires: [[`out-${l}`]] },
      { id: `out-${l}`, type: 'helper' },
      { id: `watch-${l}`, type: 'pbx-status', pbx: `cfg-${l}`, watch: true, interval: 2, wires: [[]] },
      { id: `ev-${l}`, type: 'pbx-event', pbx: `cfg-${l}`, events: [], direction: 'any', outputs: 1, wires: [[`evout-${l}`]] },
      { id: `evout-${l}`, type: 'helper' },
    );
  }
  return nodes;
}
const helperCredentials = () =>
  Object.fromEntries(
    PROVIDER_IDS.map((p) => {
      const { webhookSecret: _w, ...creds } = secrets[p];
      return [`cfg-${LABELS[p]}`, creds];
    }),
  );

/** One status query per provider through its pbx-status node; resolves when all three answered. */
function queryAll() {
  return Promise.all(
    PROVIDER_IDS.map(
      (provider) =>
        new Promise((resolve, reject) => {
          const l = LABELS[provider];
          const timer = setTimeout(() => reject(new Error(`${provider}: no answer`)), 5000);
          helper.getNode(`out-${l}`).once('input', (msg) => {
            clearTimeout(timer);
            resolve(msg);
          });
          helper.getNode(`st-${l}`).receive({ payload: STATUS[provider].params });
        }),
    ),
  );
}

describe('hardening: load / unload cycles in node-red-node-test-helper', function () {
  this.timeout(60000);
  let sim;

  before(async () => {
    sim = await startSecretSimulator(secrets);
  });
  after(async () => {
    await sim.close();
  });

  it('20 cycles with requests in flight at close: fast close, no timer, socket, listener or request left behind', async function () {
    const CYCLES = 20;
    const SLOW_MS = 1200;
    const cycle = async (i) => {
      await load(helperFlow(sim.url), helperCredentials());
      const msgs = await queryAll();
      for (const m of msgs) assert.equal(typeof m.payload.state, 'string');
      const agents = PROVIDER_IDS.map((p) => helper.getNode(`cfg-${LABELS[p]}`).account.http.agents);
      if (i % 2 === 1) {
        // A status query hangs at the provider while the flow is stopped.
        for (const p of PROVIDER_IDS) sim.addFault({ pathPrefix: SIM_PREFIX[p], delayMs: SLOW_MS, times: 1 });
        for (const p of PROVIDER_IDS) helper.getNode(`st-${LABELS[p]}`).receive({ payload: STATUS[p].params });
        await wait(50);
      }
      const start = Date.now();
      await helper.unload();
      const closeMs = Date.now() - start;
      // Requests written before close may still be on their way to the simulator (same process).
      await wait(30);
      const sentAtClose = sim.requests.length;
      for (const a of agents) {
        for (const agent of [a.http, a.https]) {
          const open = [...Object.values(agent.sockets), ...Object.values(agent.freeSockets)].flat().filter((s) => !s.destroyed);
          assert.equal(open.length, 0, `cycle ${i}: the account's HTTP agent has no open socket after close`);
        }
      }
      return { closeMs, sentAtClose };
    };

    await cycle(0); // warm-up: modules, Node-RED's own lazily created state
    await wait(SLOW_MS + 300);
    const baseline = resources();
    const baseProcessListeners = listenerCounts(process);
    const closeTimes = [];
    const lateRequests = [];
    for (let i = 1; i <= CYCLES; i++) {
      const { closeMs, sentAtClose } = await cycle(i);
      closeTimes.push(closeMs);
      // Anything arriving now was started after close: a retry (backoff 250 ms), a token request,
      // the next page of a listing, a watch poll.
      await wait(300);
      lateRequests.push(
        ...sim.requests.slice(sentAtClose).map((r) => `cycle ${i}: ${r.method} ${r.path.replace(/\/webapi\/[^/]+/, '/webapi/***')}`),
      );
    }
    sim.clearFaults();
    await wait(SLOW_MS + 300); // the simulator's own delayed answers finish
    const after = resources();

    assert.deepEqual(lateRequests, [], 'no request (retry, token, poll) is sent after close');
    for (const [type, n] of Object.entries(after)) {
      assert.ok(
        n <= (baseline[type] ?? 0),
        `${type}: ${n} after ${CYCLES} cycles, ${baseline[type] ?? 0} before (${JSON.stringify(after)})`,
      );
    }
    assert.deepEqual(listenerCounts(process), baseProcessListeners, 'process listeners');
    const max = Math.max(...closeTimes);
    assert.ok(max < CLOSE_GUARD_MS, `slowest close ${max} ms`);
    this.test.title += ` [close: max ${max} ms, mean ${(closeTimes.reduce((a, b) => a + b) / CYCLES).toFixed(1)} ms; active resources ${JSON.stringify(baseline)} → ${JSON.stringify(after)}]`;
  });

  it('50 full redeploys on one runtime: one route per config node, one middleware, each event once', async () => {
    await load(helperFlow(sim.url), helperCredentials());
    const app = require('../helpers/red').webhookApp();
    const router = routerFor(app);
    const stack = app._router.stack.length;
    const runtimeEvents = listenerCounts(helper._events);
    for (let i = 1; i <= 50; i++) await helper.setFlows(helperFlow(sim.url, i), 'full', helperCredentials());
    assert.deepEqual(router.paths.sort(), PROVIDER_IDS.map((p) => `/pbx/life-${LABELS[p]}`).sort());
    assert.equal(app._router.stack.length, stack, 'no middleware added by redeploys');
    assert.deepEqual(listenerCounts(helper._events), runtimeEvents, "the runtime's event listeners");
    const got = Object.fromEntries(PROVIDER_IDS.map((p) => [p, []]));
    for (const p of PROVIDER_IDS) helper.getNode(`evout-${LABELS[p]}`).on('input', (m) => got[p].push(m));
    for (const p of PROVIDER_IDS) {
      const d = EVENT[p](p === '3cx-webapi' ? '260301130000_1' : `life-${p}`);
      const url = `/pbx/life-${LABELS[p]}`;
      const res = d.json ? await webhook().post(url).send(d.json) : await webhook().get(`${url}?${d.query}`);
      assert.equal(res.status, 200);
    }
    await wait(200);
    for (const p of PROVIDER_IDS) assert.equal(got[p].length, 1, `${p}: one event`);
    await helper.unload();
  });
});

describe('hardening: 50 redeploys and shutdown of a real Node-RED process', function () {
  this.timeout(120000);
  let nr;
  let sim;
  let collector;

  const fdCount = (pid) => (fs.existsSync(`/proc/${pid}/fd`) ? fs.readdirSync(`/proc/${pid}/fd`).length : undefined);
  const flows = (i, pathSuffix = '') =>
    providerFlows({ collector: collector.url, simUrl: sim.url, secrets, timeout: 1000, name: `redeploy ${i}`, pathSuffix });
  const queryAllProviders = () =>
    Promise.all(
      PROVIDER_IDS.map(async (p) => {
        const r = await action(nr.url, p, 'status', STATUS[p]);
        assert.equal(r.status, 200, `${p}: ${r.text}`);
      }),
    );

  before(async () => {
    collector = await new Collector().start();
    sim = await startSecretSimulator(secrets, { stepMs: 10, talkMs: 50 });
    nr = await new NodeRedProcess({ adminRoot: '/admin' }).start();
    await nr.deploy(flows(0));
  });

  after(async () => {
    await nr?.stop();
    nr?.cleanup();
    await sim?.close();
    await collector?.close();
  });

  it('50 full redeploys: one route per config node (each event once, old paths gone), file descriptors and connections flat', async function () {
    await queryAllProviders();
    await wait(200);
    const fdBefore = fdCount(nr.child.pid);
    const deployTimes = [];
    for (let i = 1; i <= 50; i++) {
      const start = Date.now();
      await nr.deploy(flows(i, i % 2 === 1 ? '-alt' : ''));
      deployTimes.push(Date.now() - start);
      await queryAllProviders();
    }
    await wait(300);
    const fdAfter = fdCount(nr.child.pid);
    if (fdBefore !== undefined) assert.ok(fdAfter - fdBefore <= 6, `file descriptors: ${fdBefore} before, ${fdAfter} after 50 redeploys`);
    assert.ok(sim.sockets.size <= 9, `${sim.sockets.size} connections open at the simulator: old accounts' sockets were closed`);

    for (const p of PROVIDER_IDS) {
      const l = LABELS[p];
      const stale = await fetch(`${nr.url}/pbx/hd-${l}-alt/${secrets[p].webhookSecret}?event=x`, { method: 'POST', body: '{}' });
      assert.equal(stale.status, 404, `${p}: the path of the previous deploy is gone`);
      sim.setWebhook(p, `${nr.url}/pbx/hd-${l}/${secrets[p].webhookSecret}`);
    }
    const played = await Promise.all(
      [
        ['3cx-webapi', 'incoming-answered', 6],
        ['voipnow', 'inbound-answered', 3],
        ['cloud-callcenter', 'inbound-answered', 4],
      ].map(async ([p, scenario, events]) => ({ p, events, ...(await sim.provider(p).play(scenario)) })),
    );
    for (const { p, events, callId } of played) {
      await collector.waitFor(`/events/${LABELS[p]}`, events, { filter: (m) => m.payload.callId === callId });
    }
    await wait(300);
    for (const { p, events, callId } of played) {
      assert.equal(collector.on(`/events/${LABELS[p]}`, (m) => m.payload.callId === callId).length, events, `${p}: each event once`);
    }
    assert.ok(Math.max(...deployTimes) < 10000, `slowest deploy ${Math.max(...deployTimes)} ms`);
    this.test.title += ` [deploy: mean ${(deployTimes.reduce((a, b) => a + b) / deployTimes.length).toFixed(0)} ms; fds ${fdBefore}→${fdAfter}]`;
  });

  it('stops on SIGINT promptly, with requests in flight', async function () {
    sim.addFault({ delayMs: 5000 });
    const pending = PROVIDER_IDS.map((p) => action(nr.url, p, 'status', STATUS[p]).catch(() => undefined));
    await wait(100);
    const start = Date.now();
    await nr.stop();
    const ms = Date.now() - start;
    sim.clearFaults();
    await Promise.all(pending);
    assert.equal(nr.child.signalCode, null, `exited by itself (code ${nr.child.exitCode}), not killed`);
    assert.ok(ms < 5000, `stop took ${ms} ms`);
    this.test.title += ` [${ms} ms]`;
  });
});
