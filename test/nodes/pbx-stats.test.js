'use strict';
// pbx-stats in a real Node-RED runtime against the simulator's queue load of each provider, all
// three at once: a first load, a pause, a second load (with transfers between queues where the
// provider's webhooks show them), then the figures asked at a moment when the window holds the
// second load only. They must equal the figures computed from the simulator's own log (its ground
// truth): counts and percentages exactly, seconds to the webhook's delivery time (≤ 0.15 s).
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper, load, webhookApp, collect } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS, queueLoadFigures } = require('../../dist/simulator');

const SECRET = 'hook-secret-stats-4f1a';
/** 0.2 minutes: a window short enough to leave the first load out within the test. */
const WINDOW_MINUTES = 0.2;
const WINDOW_MS = WINDOW_MINUTES * 60_000;
const SERVICE_LEVEL_SECONDS = 1;
/** Time waits and talks may differ by: the webhook's way from the simulator into Node-RED. */
const SECONDS_SLACK = 0.15;
/** No entry may lie this close to the window's start (per-second counters, delivery time). */
const EDGE_CLEAR_MS = 1300;

/** Seeds 1 and 24 plan no answer within 150 ms of the service level, and (24) a transfer between queues. */
const LOAD = { ratePerSecond: 4, answerRatio: 0.7, waitMs: [300, 1500], abandonMs: [300, 1500], talkMs: [200, 800] };

const PROVIDERS = {
  '3cx-webapi': {
    id: 'c3',
    config: (sim) => ({ provider: '3cx-webapi', baseUrl: `${sim.url}/webapi` }),
    credentials: { accessKey: DEFAULT_CREDENTIALS['3cx-webapi'].accessKey },
    // 3CX types its queue hops: every queue seen is reported.
    queues: '',
    transferRatio: 0.4,
    agents: true,
  },
  voipnow: {
    id: 'cv',
    config: (sim) => ({ provider: 'voipnow', baseUrl: `${sim.url}/voipnow` }),
    credentials: { clientId: DEFAULT_CREDENTIALS.voipnow.clientId, clientSecret: DEFAULT_CREDENTIALS.voipnow.clientSecret },
    queues: '0003*300, 0003*301',
    transferRatio: 0.4,
    agents: false,
  },
  'cloud-callcenter': {
    id: 'cc',
    config: (sim) => ({ provider: 'cloud-callcenter', baseUrl: `${sim.url}/callcenter` }),
    credentials: { appId: DEFAULT_CREDENTIALS['cloud-callcenter'].appId, appKey: DEFAULT_CREDENTIALS['cloud-callcenter'].appKey },
    queues: '4008009001,4008009002',
    // Its callbacks name no queue: no move between queues can be shown.
    transferRatio: 0,
    agents: undefined,
  },
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function statsFlow(sim) {
  const nodes = [];
  for (const [provider, p] of Object.entries(PROVIDERS)) {
    nodes.push(
      {
        id: `cfg-${p.id}`,
        type: 'pbx-config',
        name: provider,
        timeout: 2000,
        rejectUnauthorized: true,
        allowFrom: '',
        webhookPath: `/pbx/stats-${p.id}`,
        ...p.config(sim),
      },
      {
        id: `stats-${p.id}`,
        type: 'pbx-stats',
        pbx: `cfg-${p.id}`,
        queues: p.queues,
        window: WINDOW_MINUTES,
        serviceLevel: SERVICE_LEVEL_SECONDS,
        interval: 0,
        wires: [[`out-${p.id}`]],
      },
      { id: `out-${p.id}`, type: 'helper' },
    );
  }
  return nodes;
}

/** Sends an input to the stats node of `p` and resolves with its figures by queue. */
async function figuresOf(p, queues) {
  const got = collect(`out-${p.id}`, queues, 5000);
  helper.getNode(`stats-${p.id}`).receive({ payload: 'now' });
  return Object.fromEntries((await got).map((m) => [m.topic, m.payload]));
}

function assertSameFigures(got, truth, where) {
  for (const key of ['offered', 'answered', 'abandoned', 'abandonRate', 'serviceLevelPercent', 'waitingNow']) {
    assert.equal(got[key], truth[key], `${where}: ${key}`);
  }
  for (const key of ['averageWaitSeconds', 'longestWaitSeconds', 'averageTalkSeconds', 'longestWaitingNowSeconds']) {
    if (truth[key] === null) assert.equal(got[key], null, `${where}: ${key}`);
    else assert.ok(Math.abs(got[key] - truth[key]) <= SECONDS_SLACK, `${where}: ${key} ${got[key]} vs ${truth[key]}`);
  }
}

describe('pbx-stats: the figures equal the simulator’s ground truth', function () {
  this.timeout(60000);
  let sim;
  let relay;

  before(async () => {
    sim = await startSimulator({ stepMs: 0, talkMs: 50 });
    relay = http.createServer((req, res) => webhookApp()(req, res));
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
    const credentials = {};
    for (const [provider, p] of Object.entries(PROVIDERS)) {
      sim.setWebhook(provider, `http://127.0.0.1:${relay.address().port}/pbx/stats-${p.id}/${SECRET}`);
      credentials[`cfg-${p.id}`] = { ...p.credentials, webhookSecret: SECRET };
    }
    await load(statsFlow(sim), credentials);
  });

  after(async () => {
    await helper.unload();
    await new Promise((r) => relay.close(r));
    await sim.close();
  });

  it('every provider: a load that entered before the window is left out; the one within it matches, transfers included', async () => {
    /** Both loads of one provider, the pause between them making room for the window's start. */
    async function play(provider, p) {
      const first = await sim.provider(provider).playQueueLoad({ ...LOAD, seed: 1, calls: 4, transferRatio: 0 });
      const lastEntry = Math.max(...first.calls.flatMap((c) => c.visits.map((v) => v.enteredAt)));
      await sleep(Math.max(0, lastEntry + 2 * EDGE_CLEAR_MS - Date.now()));
      const second = await sim.provider(provider).playQueueLoad({ ...LOAD, seed: 24, calls: 8, transferRatio: p.transferRatio });
      return { calls: [...first.calls, ...second.calls], lastEntry };
    }
    const providers = Object.entries(PROVIDERS);
    const logs = await Promise.all(providers.map(([provider, p]) => play(provider, p)));

    // Ask when the window starts after the first load's entries and before the second's, and all calls ended.
    const secondEntries = logs.map((log) => Math.min(...log.calls.slice(4).flatMap((c) => c.visits.map((v) => v.enteredAt))));
    const askAt = Math.max(Date.now(), ...logs.map((l) => l.lastEntry + WINDOW_MS + EDGE_CLEAR_MS));
    for (const first of secondEntries) {
      // Counters are per second of entry: the second load's first second must start inside the window.
      assert.ok(askAt - WINDOW_MS <= first - 1100, 'the window’s start falls between the two loads (the loads ran too slowly)');
    }
    await sleep(askAt - Date.now());

    for (const [i, [provider, p]] of providers.entries()) {
      const log = logs[i];
      const now = Date.now();
      const truth = queueLoadFigures(log, { since: now - WINDOW_MS, now, serviceLevelSeconds: SERVICE_LEVEL_SECONDS });
      const visits = log.calls.flatMap((c) => c.visits);
      // A wait within the slack of the service level may fall on either side of it in Node-RED.
      const slack = (s) => queueLoadFigures(log, { since: now - WINDOW_MS, now, serviceLevelSeconds: s });
      const [strict, lenient] = [slack(SERVICE_LEVEL_SECONDS - SECONDS_SLACK), slack(SERVICE_LEVEL_SECONDS + SECONDS_SLACK)];
      const got = await figuresOf(p, truth.length);
      assert.deepEqual(Object.keys(got).sort(), truth.map((t) => t.queue).sort(), `${provider}: the queues`);
      const offered = truth.reduce((n, t) => n + t.offered, 0);
      assert.ok(offered >= 8, `${provider}: the second load is in the window (${offered} offered)`);
      assert.ok(offered < visits.length, `${provider}: the first load is not`);
      if (p.transferRatio > 0)
        assert.ok(
          log.calls.some((c) => c.visits.length > 1),
          `${provider}: a call moved between queues`,
        );
      for (const [q, t] of truth.entries()) {
        const sl = got[t.queue].serviceLevelPercent;
        const [low, high] = [strict[q].serviceLevelPercent, lenient[q].serviceLevelPercent];
        assert.ok(sl >= low && sl <= high, `${provider} ${t.queue}: service level ${sl} outside [${low}, ${high}]`);
        t.serviceLevelPercent = low === high ? low : sl;
        assertSameFigures(got[t.queue], t, `${provider} ${t.queue}`);
        assert.equal(got[t.queue].window, WINDOW_MINUTES);
        if (p.agents === true) {
          assert.deepEqual(Object.keys(got[t.queue].agents).sort(), ['available', 'busy', 'loggedIn']);
          assert.ok(got[t.queue].agents.loggedIn >= 1, `${provider}: agents logged in`);
        }
        if (p.agents === false) assert.equal(got[t.queue].agents, undefined, `${provider}: no queue-agents`);
      }
    }
  });
});

describe('pbx-stats: the bad cases', function () {
  this.timeout(20000);
  afterEach(() => helper.unload());

  /** pbx-stats `bad` with `config` (none: a missing config), a catch node → helper `caught`. */
  async function loadWith(config) {
    await load(
      [
        ...(config ? [config] : []),
        { id: 'bad', type: 'pbx-stats', pbx: 'cfg', queues: '', window: 15, serviceLevel: 20, interval: 0, wires: [['out']] },
        { id: 'out', type: 'helper' },
        { id: 'c1', type: 'catch', scope: ['bad'], uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
      ],
      config ? { cfg: { accessKey: 'k', webhookSecret: SECRET } } : {},
    );
  }

  it('without its config: every input fails with invalid_input', async () => {
    await loadWith(undefined);
    const caught = collect('caught', 1);
    helper.getNode('bad').receive({ payload: 'now' });
    const [msg] = await caught;
    assert.equal(msg.error.code, 'invalid_input');
  });

  it('Redis unreachable (cluster mode): an input fails with unreachable and msg.pbx.error, nothing is sent, Node-RED goes on', async () => {
    const closed = await new Promise((resolve) => {
      const s = http.createServer();
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
    await loadWith({
      id: 'cfg',
      type: 'pbx-config',
      provider: '3cx-webapi',
      baseUrl: 'http://127.0.0.1:9/webapi',
      webhookPath: '/pbx/stats-bad',
      timeout: 2000,
      rejectUnauthorized: true,
      allowFrom: '',
      redisUrl: `redis://127.0.0.1:${closed}`,
      redisDown: 'local',
    });
    const sent = [];
    helper.getNode('out').on('input', (m) => sent.push(m));
    const caught = collect('caught', 1, 8000);
    helper.getNode('bad').receive({ payload: 'now' });
    const [msg] = await caught;
    assert.equal(msg.error.code, 'unreachable');
    assert.equal(msg.pbx.error.code, 'unreachable');
    assert.deepEqual(sent, []);
  });
});
