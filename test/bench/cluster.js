'use strict';
// Cluster-mode webhook ingestion against single-instance local mode, same load, same run:
//   local:   one Node-RED process without redisUrl, webhooks straight to it;
//   cluster: two Node-RED processes with the same flows and redisUrl (one real redis-server),
//            webhooks through the round-robin proxy (scripts/round-robin-proxy.js in a process of
//            its own, as a balancer is), so the legs of each call alternate between them.
// The load is open loop at a fixed rate (a PBX does not wait for one answer before the next call
// event): distinct 3CX webhooks, ringing / answered / hangup of many calls. Every event must be
// emitted exactly once in total, and every hangup must carry the whole call (ringing and answer
// seen by the other instance): the figures count only if that holds.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { createClient } = require('@redis/client');
const { startRedis } = require('../helpers/redis-server');
const { startReplicas } = require('../helpers/replicas');
const { eventNode, fn } = require('../helpers/flows');
const { runRate } = require('./load');

const SECRET = 'bench-cluster-secret-3e9a51';
const HOOK = '/pbx/bench';
/** Time between a call's ringing, answer and hangup. */
const STEP_GAP_SECONDS = 0.5;
const STEPS = ['ringing', 'answered', 'hangup'];
const WARMUP_SECONDS = 2;
/** Time given for the last events to be emitted after the load. */
const EMIT_WAIT_MS = 15000;

// Each event as a short key, kept in global context; hangups with the summary's route and outcome.
const record = [
  'const e = msg.payload;',
  'const list = global.get("emitted") || [];',
  'let key = e.callId + "|" + e.event;',
  'if (e.event === "hangup") key += "|" + e.call.route.map((h) => h.event).join(">") + "|" + e.call.outcome;',
  'list.push(key);',
  'global.set("emitted", list);',
  'return null;',
].join('\n');

const countDown = [
  'if (msg.status && msg.status.fill === "yellow" && /redis/i.test(String(msg.status.text))) {',
  '  global.set("storeDown", (global.get("storeDown") || 0) + 1);',
  '}',
  'return null;',
].join('\n');

function flows(cluster) {
  const cfg = {
    id: 'cfg',
    type: 'pbx-config',
    provider: '3cx-webapi',
    // Never called: webhooks only.
    baseUrl: 'http://127.0.0.1:9/webapi',
    webhookPath: HOOK,
    timeout: 10000,
    rejectUnauthorized: true,
    allowFrom: '',
    credentials: { accessKey: 'bench-3cx-access-key', webhookSecret: SECRET },
  };
  if (cluster) Object.assign(cfg, { redisUrl: '${PBX_REDIS_URL}', keyPrefix: 'bench:', redisDown: 'local' });
  return [
    { id: 'tab', type: 'tab', label: 'bench' },
    cfg,
    eventNode('ev', 'rec'),
    { ...fn('rec', record, [], 'tab'), x: 300, y: 100 },
    // How often the event node turned yellow "redis down" (the store missed its deadline).
    { id: 'st', type: 'status', z: 'tab', scope: ['ev'], wires: [['stfn']], x: 100, y: 300 },
    { ...fn('stfn', countDown, [], 'tab'), x: 300, y: 300 },
    {
      id: 'lin',
      type: 'http in',
      z: 'tab',
      url: '/bench/emitted',
      method: 'get',
      upload: false,
      swaggerDoc: '',
      wires: [['lfn']],
      x: 100,
      y: 200,
    },
    { ...fn('lfn', 'msg.payload = global.get("emitted") || []; return msg;', ['lres'], 'tab'), x: 300, y: 200 },
    {
      id: 'din',
      type: 'http in',
      z: 'tab',
      url: '/bench/store-down',
      method: 'get',
      upload: false,
      swaggerDoc: '',
      wires: [['dfn']],
      x: 100,
      y: 400,
    },
    { ...fn('dfn', 'msg.payload = { times: global.get("storeDown") || 0 }; return msg;', ['lres'], 'tab'), x: 300, y: 400 },
    { id: 'lres', type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [], x: 500, y: 200 },
  ];
}

/** A 3CX call id of run `run`: `YYMMDDhhmmss_n`, as the WebAPI add-on makes them. */
const callIdOf = (run, call) => `2611290${run}0000_${call}`;

/**
 * Calls in flight at once so that a call's steps are STEP_GAP_SECONDS apart at `rate`; odd, so
 * through the round-robin proxy a call's three webhooks go to instances A, B, A.
 */
const callsAtOnce = (rate) => 2 * Math.floor((rate * STEP_GAP_SECONDS) / 2) + 1;

/**
 * The n-th webhook of run `run`: calls in groups of `group` calls; each group rings, is answered
 * and hangs up, one step of the whole group after the other.
 */
function webhook(run, n, group) {
  const within = n % (group * STEPS.length);
  const step = STEPS[Math.floor(within / group)];
  const call = Math.floor(n / (group * STEPS.length)) * group + (within % group);
  const id = callIdOf(run, call);
  const common = { Callerid: `+4420794${String(call % 100000).padStart(5, '0')}`, User: String(200 + (call % 50)), Did: '02071230000' };
  let fields;
  if (step === 'ringing') fields = { Event: 'ringing', ...common, Usertype: 'ext', Id: `${id}-0` };
  else if (step === 'answered') fields = { Event: 'incomingcall_started', ...common, Trtype: 'NotDef', Id: `${id}-1` };
  else fields = { Event: 'incoming', ...common, Finishtype: 'Ok', Transfer: 'False', Duration: '00:42', Id: `${id}-1` };
  return { path: `${HOOK}/${SECRET}`, body: JSON.stringify(fields) };
}

/** Whole groups of calls only: every call sent gets its three webhooks. */
const wholeCalls = (requests, group) => Math.max(1, Math.round(requests / (group * STEPS.length))) * group * STEPS.length;

/** Keys emitted by every instance, for calls of run `run`. */
async function emitted(instances, run) {
  const prefix = `2611290${run}0000_`;
  const lists = await Promise.all(instances.map(async (nr) => (await fetch(`${nr.url}/bench/emitted`)).json()));
  return lists.flat().filter((k) => k.startsWith(prefix));
}

/** Waits until `count` keys of run `run` were emitted (or the time is up); returns them. */
async function emittedWhenDone(instances, run, count) {
  const until = Date.now() + EMIT_WAIT_MS;
  let keys = await emitted(instances, run);
  while (keys.length < count && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    keys = await emitted(instances, run);
  }
  return keys;
}

/** Each webhook's event emitted exactly once in total, and each hangup with the call's whole route. */
function checkEmitted(keys, run, calls) {
  const counts = new Map();
  let wholeSummaries = 0;
  for (const key of keys) {
    const [callId, event, route, outcome] = key.split('|');
    const k = `${callId}|${event}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
    if (event === 'hangup' && route === 'ringing>answered' && outcome === 'answered') wholeSummaries++;
  }
  let once = 0;
  let missing = 0;
  let duplicates = 0;
  for (let call = 0; call < calls; call++) {
    for (const step of STEPS) {
      const c = counts.get(`${callIdOf(run, call)}|${step}`) ?? 0;
      if (c === 0) missing++;
      else if (c === 1) once++;
      else duplicates += c - 1;
    }
  }
  const unexpected = keys.length - once - duplicates;
  return { expected: calls * STEPS.length, once, missing, duplicates, unexpected, calls, wholeSummaries };
}

const CLOCK_TICKS = 100;
/** CPU seconds (user + system) of process `pid` so far, from /proc. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
/** Resident and peak resident memory of `pid`, bytes. */
function memoryOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Redis commands run so far, by name, from INFO commandstats. */
async function commandCounts(raw) {
  const out = {};
  for (const m of (await raw.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

function commandDelta(before, after) {
  const out = {};
  for (const [name, calls] of Object.entries(after)) {
    const d = calls - (before[name] ?? 0);
    if (d > 0 && name !== 'info') out[name] = d;
  }
  return out;
}

/** scripts/round-robin-proxy.js in a process of its own, in front of `targets`. */
function startBalancer(targets) {
  const script = path.join(__dirname, '../../scripts/round-robin-proxy.js');
  const args = [script, '--port', '0', ...targets.flatMap((t) => ['--target', t])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const m = /round-robin proxy on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), process: child });
    });
    child.once('exit', (code) => reject(new Error(`round-robin proxy exited with ${code}`)));
  });
}

/**
 * One mode: warm-up, then `count` webhooks at `rate` per second to `port`; CPU of `pids` over the
 * measured load, memory at its end.
 */
async function measure({ run, ports, instances, rate, count, pids, log }) {
  const group = callsAtOnce(rate);
  const warm = wholeCalls(rate * WARMUP_SECONDS, group);
  log(`    warm-up: ${warm} webhooks`);
  await runRate({ ports, rate, count: warm, request: (n) => webhook(run, n, group) });
  await emittedWhenDone(instances, run, warm);
  const measured = run + 1;
  const storeDownBefore = (
    await Promise.all(instances.map(async (nr) => (await (await fetch(`${nr.url}/bench/store-down`)).json()).times))
  ).reduce((a, n) => a + n, 0);
  const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const ownBefore = process.cpuUsage();
  log(`    ${count} webhooks at ${rate}/s`);
  const load = await runRate({ ports, rate, count, request: (n) => webhook(measured, n, group) });
  const own = process.cpuUsage(ownBefore);
  const cpu = {};
  for (const [name, pid] of Object.entries(pids)) cpu[name] = { cpu: (cpuSeconds(pid) - cpuBefore[name]) / load.seconds, ...memoryOf(pid) };
  cpu.generator = { cpu: (own.user + own.system) / 1e6 / load.seconds };
  const keys = await emittedWhenDone(instances, measured, count);
  const check = checkEmitted(keys, measured, count / STEPS.length);
  const perInstance = await Promise.all(instances.map((nr) => emitted([nr], measured).then((k) => k.length)));
  const downs = await Promise.all(instances.map(async (nr) => (await (await fetch(`${nr.url}/bench/store-down`)).json()).times));
  const storeDown = downs.reduce((a, n) => a + n, 0) - storeDownBefore;
  return { load, cpu, check, perInstance, storeDown, deliveries: warm + count };
}

/**
 * @param {object} o
 * @param {number} o.rate      webhooks per second
 * @param {number} o.seconds   length of the measured load per mode
 * @returns {Promise<{local: object, cluster: object, requests: number, redis: string}>}
 */
async function clusterIngestion({ rate = 500, seconds = 10, log = () => undefined }) {
  const count = wholeCalls(rate * seconds, callsAtOnce(rate));
  const out = { requests: count, callsAtOnce: callsAtOnce(rate), stepGapSeconds: STEP_GAP_SECONDS };

  log('  local mode: one Node-RED, no redisUrl, webhooks straight to it');
  const single = await startReplicas({ count: 1, flows: flows(false) });
  try {
    const nr = single.instances[0];
    out.local = await measure({
      run: 1,
      ports: [nr.port],
      instances: single.instances,
      rate,
      count,
      pids: { 'node-red': nr.child.pid },
      log,
    });
  } finally {
    await single.stop();
  }

  log('  cluster mode: two Node-RED with redisUrl behind the round-robin proxy, one redis-server');
  const redis = await startRedis();
  const raw = createClient({ url: redis.url });
  raw.on('error', () => undefined);
  let replicas;
  let balancer;
  try {
    await raw.connect();
    const info = await raw.info('server');
    out.redis = /redis_version:(\S+)/.exec(info)[1];
    const redisPid = Number(/process_id:(\d+)/.exec(info)[1]);
    replicas = await startReplicas({ count: 2, env: { PBX_REDIS_URL: redis.url }, flows: flows(true) });
    const [a, b] = replicas.instances;
    balancer = await startBalancer(replicas.instances.map((nr) => nr.url));
    const commandsBefore = await commandCounts(raw);
    out.cluster = await measure({
      run: 3,
      ports: [balancer.port],
      instances: replicas.instances,
      rate,
      count,
      pids: { 'node-red A': a.child.pid, 'node-red B': b.child.pid, redis: redisPid, proxy: balancer.process.pid },
      log,
    });
    const commands = commandDelta(commandsBefore, await commandCounts(raw));
    const { deliveries } = out.cluster;
    out.cluster.redisCommands = { deliveries, total: Object.values(commands).reduce((a, c) => a + c, 0), byName: commands };
    out.cluster.keys = await raw.dbSize();
    // The same without the proxy: the generator sends to each instance in turn.
    log('  cluster mode without the proxy (diagnostic): each webhook straight to the next instance');
    out.clusterDirect = await measure({
      run: 5,
      ports: [a.port, b.port],
      instances: replicas.instances,
      rate,
      count,
      pids: { 'node-red A': a.child.pid, 'node-red B': b.child.pid, redis: redisPid },
      log,
    });
  } finally {
    balancer?.process.kill();
    await replicas?.stop();
    await raw.destroy();
    await redis.stop();
  }
  return out;
}

module.exports = { clusterIngestion, webhook, callsAtOnce, cpuSeconds, memoryOf };
