'use strict';
// pbx-stats under load: the same flow with and without a pbx-stats node, each in a fresh real
// Node-RED process (single instance, no Redis), the same open-loop load at a fixed rate:
// distinct 3CX calls over many queues, each ringing at its queue, then at an agent, then answered
// and hung up (4 in 5) or missed in the queue (1 in 5). Per run: CPU of the Node-RED process over
// the load, RSS and heap at the end, events emitted; for the pbx-stats run its figures, which must
// match what the generator sent (the figures count only when the node kept up).
const { performance } = require('node:perf_hooks');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { eventNode, fn } = require('../helpers/flows');
const { cpuSeconds, memoryOf } = require('./cluster');
const { runRate } = require('./load');

const SECRET = 'bench-stats-secret-8d2c47';
const HOOK = '/pbx/bench-stats';
const KEY = 'demo-3cx-access-key';
/** The node's settings (SPEC section 10 defaults; queues empty: every queue seen). */
const STATS = { queues: '', window: 15, serviceLevel: 20, interval: 10 };
/** Time between the steps of a call (queue ringing, agent ringing, answer or miss, hangup). */
const STEP_GAP_SECONDS = 0.5;
/** One call in this many is missed in its queue; the others are answered. */
const MISSED_EVERY = 5;
const WARMUP_SECONDS = 2;
/** Time given for the last events (and figures) after the load. */
const SETTLE_WAIT_MS = 15000;
/** Idle time after the last event before the CPU is read, the same in both runs. */
const IDLE_MS = 1000;

// Every event counted; and the calls whose end reached Node-RED before their queue ringing
// (webhooks of one call overtaking each other when the process stalls), which no rule can count as
// answered or abandoned in that queue; also those whose answer alone came first.
const count = [
  'const e = msg.payload;',
  'global.set("events", (global.get("events") || 0) + 1);',
  'let calls = context.get("calls");',
  'if (!calls) { calls = new Map(); context.set("calls", calls); }',
  'const s = calls.get(e.callId);',
  'if (e.event === "ringing" && e.extensionType === "queue") {',
  '  if (s !== undefined && s !== "done") {',
  '    const r = global.get("reordered") || { answeredBeforeQueue: 0, endedBeforeQueue: {} };',
  '    if (s === "answered early") r.answeredBeforeQueue++;',
  '    else {',
  '      const q = (r.endedBeforeQueue[e.extension] = r.endedBeforeQueue[e.extension] || { answered: 0, missed: 0 });',
  '      q[s === "ended early answered" ? "answered" : "missed"]++;',
  '    }',
  '    global.set("reordered", r);',
  '  }',
  '  if (s === undefined) calls.set(e.callId, "queued");',
  '  else if (s.startsWith("ended early")) calls.delete(e.callId);',
  '  else calls.set(e.callId, "done");',
  '} else if (e.event === "answered") {',
  '  if (s === undefined) calls.set(e.callId, "answered early");',
  '} else if (e.event === "hangup") {',
  '  if (s === "queued" || s === "done") calls.delete(e.callId);',
  '  else calls.set(e.callId, e.outcome === "answered" ? "ended early answered" : "ended early missed");',
  '}',
  'return null;',
].join('\n');

const counts = [
  'msg.payload = {',
  '  events: global.get("events") || 0,',
  '  figureMessages: global.get("figureMessages") || 0,',
  '  reordered: global.get("reordered") || { answeredBeforeQueue: 0, endedBeforeQueue: {} },',
  '};',
  'return msg;',
].join('\n');

// Every message of pbx-stats counted; those answering a refresh kept by queue.
const figures = [
  'global.set("figureMessages", (global.get("figureMessages") || 0) + 1);',
  'if (msg.refresh) {',
  '  const r = global.get("refreshed");',
  '  if (r && r.id === msg.refresh) r.figures[msg.topic] = msg.payload;',
  '}',
  'return null;',
].join('\n');

const refresh = [
  'const id = (global.get("refreshId") || 0) + 1;',
  'global.set("refreshId", id);',
  'global.set("refreshed", { id, figures: {} });',
  'msg.payload = { refresh: id };',
  'return [{ refresh: id, payload: null }, msg];',
].join('\n');

// Memory after a forced collection (the process runs with --expose-gc).
const memory = [
  'const gc = vm.runInThisContext("typeof gc === \\"function\\" ? gc : undefined");',
  'if (gc) { gc(); gc(); }',
  'msg.payload = proc.memoryUsage();',
  'return msg;',
].join('\n');

function endpoint(id, url, method, wires, y) {
  return { id, type: 'http in', z: 'tab', url, method, upload: false, swaggerDoc: '', wires: [wires], x: 100, y };
}

function flows({ simUrl, withStats }) {
  const nodes = [
    { id: 'tab', type: 'tab', label: 'bench' },
    {
      id: 'cfg',
      type: 'pbx-config',
      provider: '3cx-webapi',
      baseUrl: `${simUrl}/webapi`,
      webhookPath: HOOK,
      timeout: 10000,
      rejectUnauthorized: true,
      allowFrom: '',
      credentials: { accessKey: KEY, webhookSecret: SECRET },
    },
    eventNode('ev', 'count'),
    { ...fn('count', count, [], 'tab'), x: 300, y: 100 },
    endpoint('cin', '/bench/count', 'get', ['cfn'], 200),
    { ...fn('cfn', counts, ['res'], 'tab'), x: 300, y: 200 },
    endpoint('min', '/bench/memory', 'get', ['mfn'], 300),
    {
      ...fn('mfn', memory, ['res'], 'tab'),
      libs: [
        { var: 'vm', module: 'vm' },
        { var: 'proc', module: 'process' },
      ],
      x: 300,
      y: 300,
    },
    { id: 'res', type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [], x: 500, y: 200 },
  ];
  if (withStats) {
    nodes.push(
      { id: 'stats', type: 'pbx-stats', z: 'tab', name: '', pbx: 'cfg', ...STATS, wires: [['figures']], x: 300, y: 400 },
      { ...fn('figures', figures, [], 'tab'), x: 500, y: 400 },
      endpoint('rin', '/bench/refresh', 'post', ['rfn'], 500),
      { ...fn('rfn', refresh, [], 'tab'), outputs: 2, wires: [['stats'], ['res']], x: 300, y: 500 },
      endpoint('fin', '/bench/figures', 'get', ['ffn'], 600),
      { ...fn('ffn', 'msg.payload = global.get("refreshed") || {}; return msg;', ['res'], 'tab'), x: 300, y: 600 },
    );
  }
  return nodes;
}

/** The simulator's two queues (their agents answer `queue-agents`), then numbers it does not know. */
const queueNumbers = (n) => ['820', '807', ...Array.from({ length: Math.max(0, n - 2) }, (_, i) => String(901 + i))].slice(0, n);

/**
 * The load's shape: calls in groups of `group` (a multiple of MISSED_EVERY); each group rings its
 * queues, then its agents, then is answered or missed, then the answered ones hang up, one step of
 * the whole group after the other.
 */
function planOf(rate, queues) {
  const group = MISSED_EVERY * Math.max(1, Math.round((rate * STEP_GAP_SECONDS) / MISSED_EVERY));
  const answeredPerGroup = group - group / MISSED_EVERY;
  return { group, answeredPerGroup, perGroup: 3 * group + answeredPerGroup, queues: queueNumbers(queues) };
}

const isMissed = (call) => call % MISSED_EVERY === MISSED_EVERY - 1;

/** The queue of `call`: each round over the queues shifted by one, so missed calls fall in every queue. */
const queueOf = (call, plan) => plan.queues[(call + Math.floor(call / plan.queues.length)) % plan.queues.length];

/** Whole groups only, about `webhooks` of them: every call sent is complete. */
const wholeGroups = (webhooks, plan) => Math.max(1, Math.round(webhooks / plan.perGroup)) * plan.perGroup;

/** A 3CX call id of run `run`: `YYMMDDhhmmss_n`, as the WebAPI add-on makes them. */
const callIdOf = (run, call) => `261129${String(run).padStart(2, '0')}0000_${call}`;

/** The n-th webhook of run `run`, shaped as the add-on's (test/fixtures/vendor/3cx-webapi-webhook-scenarios.json). */
function webhook(run, n, plan) {
  const { group, perGroup } = plan;
  const within = n % perGroup;
  const first = Math.floor(n / perGroup) * group;
  let step;
  let call;
  if (within < 3 * group) {
    step = Math.floor(within / group);
    call = first + (within % group);
  } else {
    // The answered calls' hangups: of each MISSED_EVERY calls, all but the last.
    const j = within - 3 * group;
    step = 3;
    call = first + Math.floor(j / (MISSED_EVERY - 1)) * MISSED_EVERY + (j % (MISSED_EVERY - 1));
  }
  const id = callIdOf(run, call);
  const queue = queueOf(call, plan);
  const agent = String(200 + (call % 100));
  const common = { Callerid: `+4420794${String(call % 100000).padStart(5, '0')}`, Did: '' };
  let fields;
  if (step === 0) fields = { Event: 'ringing', ...common, User: queue, Usertype: 'queue', Id: `${id}-0` };
  else if (step === 1) fields = { Event: 'ringing', ...common, User: agent, Usertype: 'ext', Id: `${id}-0` };
  else if (step === 2 && isMissed(call))
    fields = { Event: 'incoming', ...common, User: queue, Finishtype: 'Missed', Transfer: 'False', Duration: '', Id: `${id}-0` };
  else if (step === 2) fields = { Event: 'incomingcall_started', ...common, User: agent, Trtype: 'NotDef', Id: `${id}-1` };
  else fields = { Event: 'incoming', ...common, User: agent, Finishtype: 'Ok', Transfer: 'False', Duration: '00:42', Id: `${id}-1` };
  return { path: `${HOOK}/${SECRET}`, body: JSON.stringify(fields) };
}

/** Calls of `webhooks` whole groups, and of them the answered / missed ones, by queue. */
function callsOf(webhooks, plan) {
  const calls = (webhooks / plan.perGroup) * plan.group;
  const byQueue = new Map(plan.queues.map((q) => [q, { offered: 0, answered: 0, abandoned: 0 }]));
  for (let call = 0; call < calls; call++) {
    const q = byQueue.get(queueOf(call, plan));
    q.offered++;
    if (isMissed(call)) q.abandoned++;
    else q.answered++;
  }
  return byQueue;
}

/** Calls whose answer (then queue ringing) or end (then queue ringing) came first, in total. */
function reorderedOf(counted) {
  const ended = Object.values(counted.reordered.endedBeforeQueue);
  return {
    answeredBeforeQueue: counted.reordered.answeredBeforeQueue,
    endedBeforeQueue: ended.reduce((a, q) => a + q.answered + q.missed, 0),
  };
}

const getJson = async (url, init) => (await fetch(url, init)).json();

/** Waits until the flow counted `events` events (or the time is up); returns the count. */
async function eventsWhenDone(nr, events) {
  const until = Date.now() + SETTLE_WAIT_MS;
  let got = (await getJson(`${nr.url}/bench/count`)).events;
  while (got < events && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    got = (await getJson(`${nr.url}/bench/count`)).events;
  }
  return got;
}

/** Asks pbx-stats for its figures now (after every event it has queued); resolves with them by queue. */
async function refreshedFigures(nr, queues) {
  const { refresh: id } = await getJson(`${nr.url}/bench/refresh`, { method: 'POST' });
  const until = Date.now() + SETTLE_WAIT_MS;
  for (;;) {
    const r = await getJson(`${nr.url}/bench/figures`);
    if ((r.id === id && Object.keys(r.figures).length >= queues) || Date.now() > until) return r.id === id ? r.figures : {};
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * The figures against what was sent: offered / answered / abandoned per queue, nobody waiting;
 * except that a call whose end reached Node-RED before its queue ringing waits there (`ended`,
 * by queue: answered / missed such calls).
 */
function checkFigures(got, expected, ended) {
  const sum = (key, source) => [...source].reduce((a, f) => a + (f[key] ?? 0), 0);
  const sent = [...expected.values()];
  const reported = Object.values(got);
  let queuesExact = 0;
  for (const [queue, e] of expected) {
    const f = got[queue];
    const late = ended[queue] ?? { answered: 0, missed: 0 };
    if (
      f &&
      f.offered === e.offered &&
      f.answered === e.answered - late.answered &&
      f.abandoned === e.abandoned - late.missed &&
      f.waitingNow === late.answered + late.missed
    )
      queuesExact++;
  }
  return {
    queues: expected.size,
    queuesReported: reported.length,
    queuesExact,
    offered: sum('offered', reported),
    answered: sum('answered', reported),
    abandoned: sum('abandoned', reported),
    waitingNow: sum('waitingNow', reported),
    expectedOffered: sum('offered', sent),
    expectedAnswered: sum('answered', sent),
    expectedAbandoned: sum('abandoned', sent),
    agentsReported: reported.filter((f) => f.agents).length,
  };
}

/** API requests the simulator logged for 3CX, by method (the last path segment). */
async function simRequests(simUrl) {
  const log = await getJson(`${simUrl}/_sim/requests?provider=3cx-webapi`);
  const byMethod = {};
  for (const r of log) {
    const method = r.path.split('/').pop();
    byMethod[method] = (byMethod[method] ?? 0) + 1;
  }
  return { total: log.length, byMethod };
}

/** One run: a fresh Node-RED, warm-up, the measured load, then memory and (with pbx-stats) figures. */
async function runOnce({ simUrl, withStats, rate, seconds, plan, runId, profileDir, log }) {
  const profile = profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=node-red-${withStats ? 'with' : 'without'}-pbx-stats.cpuprofile`]
    : [];
  const nr = await new NodeRedProcess({ nodeArgs: ['--expose-gc', ...profile] }).start();
  try {
    await nr.deploy(flows({ simUrl, withStats }));
    await fetch(`${simUrl}/_sim/requests`, { method: 'DELETE' });
    const pid = nr.child.pid;
    const warm = wholeGroups(rate * WARMUP_SECONDS, plan);
    log(`    warm-up: ${warm} webhooks`);
    const warmLoad = await runRate({ port: nr.port, rate, count: warm, request: (n) => webhook(runId, n, plan) });
    await eventsWhenDone(nr, warm);
    const count = wholeGroups(rate * seconds, plan);
    log(`    ${count} webhooks at ${rate}/s`);
    const cpuBefore = cpuSeconds(pid);
    const startedAt = performance.now();
    const load = await runRate({ port: nr.port, rate, count, request: (n) => webhook(runId + 1, n, plan) });
    const events = (await eventsWhenDone(nr, warm + count)) - warm;
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const cpu = cpuSeconds(pid) - cpuBefore;
    const busySeconds = (performance.now() - startedAt) / 1000;
    const out = {
      load,
      warmLoad,
      events,
      webhooks: count,
      cpu,
      busySeconds,
      reordered: reorderedOf(await getJson(`${nr.url}/bench/count`)),
    };
    if (withStats) {
      const asked = performance.now();
      const got = await refreshedFigures(nr, plan.queues.length);
      out.figuresMs = performance.now() - asked;
      const expected = callsOf(warm, plan);
      for (const [q, e] of callsOf(count, plan)) {
        const w = expected.get(q);
        expected.set(q, { offered: w.offered + e.offered, answered: w.answered + e.answered, abandoned: w.abandoned + e.abandoned });
      }
      const counted = await getJson(`${nr.url}/bench/count`);
      out.check = checkFigures(got, expected, counted.reordered.endedBeforeQueue);
      out.figureMessages = counted.figureMessages;
      out.agentRequests = await simRequests(simUrl);
    }
    out.memory = await getJson(`${nr.url}/bench/memory`);
    out.peakRss = memoryOf(pid).peak;
    // The package's nodes' warnings (Node-RED's own start-up notes aside).
    out.warnings = [...new Set(nr.logs.filter((l) => /\[warn\] \[/.test(l)).map((l) => l.replace(/^.*?\[warn\]\s*/, '')))];
    return out;
  } finally {
    await nr.stop();
    nr.cleanup();
  }
}

/**
 * @param {object} o
 * @param {string} o.simUrl     the simulator (pbx-stats reads `queue-agents` from it)
 * @param {number} o.rate       webhooks per second
 * @param {number} o.seconds    length of the measured load per run
 * @param {number} o.queues     queues the calls are spread over
 * @param {string} [o.profileDir]  where each Node-RED writes a CPU profile (--cpu-prof), if given
 */
async function statsOverhead({ simUrl, rate = 1000, seconds = 20, queues = 50, profileDir, log = () => undefined }) {
  const plan = planOf(rate, queues);
  log('  without pbx-stats: pbx-event → counter');
  const without = await runOnce({ simUrl, withStats: false, rate, seconds, plan, runId: 10, profileDir, log });
  log('  with pbx-stats: the same, and pbx-stats (every queue, window 15 min, service level 20 s, interval 10 s) → counter');
  const withStats = await runOnce({ simUrl, withStats: true, rate, seconds, plan, runId: 20, profileDir, log });
  return { without, with: withStats, plan, settings: STATS, idleMs: IDLE_MS };
}

module.exports = { statsOverhead, webhook, planOf, callsOf };
