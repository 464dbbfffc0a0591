#!/usr/bin/env node
'use strict';
// `npm run bench`: figures and ratios against baselines measured in the same run, on loopback.
//   a. webhook ingestion: pbx-config endpoint → pbx-event vs core http in → http response
//   b. action overhead: pbx-status round trip vs a raw axios call to the same simulator endpoint
//   c. memory: 1,000,000 webhook events over 100,000 calls through one account; per-event cost
//      of the bounded caches (duplicate filter, call tracker) when full vs with 1,000 entries
//   d. bounds: heap after 20,000 distinct 60 KiB webhooks vs identical ones; longest event-loop
//      block while one call receives 4,000 legs with 20 KB fields vs ordinary calls
//   e. cluster ingestion: two Node-RED with redisUrl behind the round-robin proxy, one redis-server,
//      vs one Node-RED without redisUrl; open loop at a fixed rate, each event emitted exactly once
//   f. cluster sizing: Redis keys per call and memory per 10,000 calls (real key layout)
//   g. pbx-stats: the same flow with and without a pbx-stats node (every queue), each in a fresh
//      Node-RED, open loop at a fixed rate over many queues: CPU per 1,000 events and memory as ratios,
//      and the node's figures checked against the calls sent; then pbx-stats' own cost per event,
//      in process, as its counter slots fill (a 20-second run only sees nearly empty ones)
// Knobs: BENCH_SECONDS (ingestion seconds per path, default 10), BENCH_CONNECTIONS (50),
// BENCH_ITERATIONS (action round trips per side, 3000), BENCH_EVENTS (1000000),
// BENCH_BOUNDS_WEBHOOKS (20000), BENCH_BOUNDS_LEGS (4000), BENCH_CLUSTER_RATE (webhooks/s, 500),
// BENCH_CLUSTER_SECONDS (10), BENCH_STORE_CALLS (10000), BENCH_STATS_RATE (webhooks/s, 1000),
// BENCH_STATS_SECONDS (20), BENCH_STATS_QUEUES (50), BENCH_STATS_PROFILE (a directory: section g's
// Node-RED processes write CPU profiles there), BENCH_ONLY (a,b,c,d,e,f,g).
const { spawn } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { runLoad } = require('./load');

const SECONDS = Number(process.env.BENCH_SECONDS) || 10;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS) || 50;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS) || 3000;
const CLUSTER_RATE = Number(process.env.BENCH_CLUSTER_RATE) || 500;
const CLUSTER_SECONDS = Number(process.env.BENCH_CLUSTER_SECONDS) || 10;
const STATS_RATE = Number(process.env.BENCH_STATS_RATE) || 1000;
const STATS_SECONDS = Number(process.env.BENCH_STATS_SECONDS) || 20;
const STATS_QUEUES = Number(process.env.BENCH_STATS_QUEUES) || 50;
const ONLY = (process.env.BENCH_ONLY ?? 'a,b,c,d,e,f,g').split(',');
const TARGETS = { ingestion: 0.9, action: 1.15, fullCache: 4, cluster: 0.7, clusterP99Ms: 50 };
const log = (m) => process.stderr.write(`${m}\n`);

/** Runs `node <args>` and resolves with its first stdout line; the child is killed unless `keep`. */
function child(args, { keep = false, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    p.stdout.on('data', (c) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        if (!keep) p.kill();
        resolve({ line: out.slice(0, nl), process: p });
      }
    });
    p.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

/** The generator against a bare Node http server in its own process: its ceiling on this machine. */
async function generatorCeiling() {
  const server = await child(
    [
      '-e',
      "const s=require('http').createServer((q,r)=>{q.resume();q.on('end',()=>r.end('OK'))});s.listen(0,'127.0.0.1',()=>console.log(s.address().port))",
    ],
    { keep: true },
  );
  try {
    const r = await runLoad({
      port: Number(server.line),
      connections: CONNECTIONS,
      durationMs: 3000,
      request: () => ({ path: '/', body: '{"Event":"ringing"}' }),
    });
    return r.perSecond;
  } finally {
    server.process.kill();
  }
}

const fmt = (n, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-';
const mb = (b) => `${fmt(b / 1048576, 1)} MB`;

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

async function main() {
  const nodeRed = require('node-red/package.json').version;
  const machine = `${os.availableParallelism?.() ?? os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ${mb(os.totalmem())} RAM, Node.js ${process.version}, Node-RED ${nodeRed}, ${os.platform()} ${os.release()}`;
  log(`machine: ${machine}`);
  const rows = [['measure', 'figure', 'baseline (same run)', 'ratio', 'target']];
  const misses = [];

  if (ONLY.includes('a')) {
    log('a. webhook ingestion (packing and installing the package into a fresh Node-RED user directory)');
    const ceiling = await generatorCeiling();
    const { ingestion } = require('./ingestion');
    const sim = await child([path.join(__dirname, 'simulator-child.js')], { keep: true });
    let r;
    try {
      r = await ingestion({ simUrl: sim.line, seconds: SECONDS, connections: CONNECTIONS, log });
    } finally {
      sim.process.kill();
    }
    const ratio = r.pbx.perSecond / r.baseline.perSecond;
    if (ratio < TARGETS.ingestion) misses.push(`ingestion ratio ${ratio.toFixed(2)} < ${TARGETS.ingestion}`);
    rows.push(
      [
        `a. webhooks/s, ${CONNECTIONS} keep-alive connections, ${SECONDS} s each`,
        `${fmt(r.pbx.perSecond)} /s (pbx-config → pbx-event)`,
        `${fmt(r.baseline.perSecond)} /s (http in → http response)`,
        ratio.toFixed(2),
        `≥ ${TARGETS.ingestion}`,
      ],
      [
        'a. latency p50 / p99',
        `${fmt(r.pbx.p50, 2)} / ${fmt(r.pbx.p99, 2)} ms`,
        `${fmt(r.baseline.p50, 2)} / ${fmt(r.baseline.p99, 2)} ms`,
        (r.pbx.p50 / r.baseline.p50).toFixed(2),
        '',
      ],
      ['a. events emitted / webhooks answered', `${fmt(r.pbx.events)} / ${fmt(r.pbx.requests)}`, '', '', 'equal'],
      ['a. load generator ceiling (bare Node http server)', `${fmt(ceiling)} /s`, '', '', ''],
    );
  }

  if (ONLY.includes('b')) {
    log('b. action overhead');
    const { actionOverhead } = require('./actions');
    const sim = await child([path.join(__dirname, 'simulator-child.js')], { keep: true });
    let r;
    try {
      r = await actionOverhead({ simUrl: sim.line, iterations: ITERATIONS, log });
    } finally {
      sim.process.kill();
    }
    const ratio = r.node.mean / r.axios.mean;
    if (ratio > TARGETS.action) misses.push(`action ratio ${ratio.toFixed(2)} > ${TARGETS.action}`);
    rows.push(
      [
        `b. pbx-status round trip, mean (${fmt(r.node.n)} each)`,
        `${fmt(r.node.mean * 1000)} µs`,
        `${fmt(r.axios.mean * 1000)} µs (raw axios GET)`,
        ratio.toFixed(2),
        `≤ ${TARGETS.action}`,
      ],
      [
        'b. pbx-status round trip, p50 / p99',
        `${fmt(r.node.p50 * 1000)} / ${fmt(r.node.p99 * 1000)} µs`,
        `${fmt(r.axios.p50 * 1000)} / ${fmt(r.axios.p99 * 1000)} µs`,
        (r.node.p50 / r.axios.p50).toFixed(2),
        '',
      ],
      [
        'b. the account alone (account.run, no Node-RED), mean',
        `${fmt(r.account.mean * 1000)} µs`,
        `${fmt(r.axios.mean * 1000)} µs`,
        (r.account.mean / r.axios.mean).toFixed(2),
        '',
      ],
    );
  }

  if (ONLY.includes('c')) {
    log('c. memory (1,000,000 events through one account, in process)');
    const out = await child([path.join(__dirname, 'memory.js')]);
    const r = JSON.parse(out.line);
    rows.push(
      [`c. ${fmt(r.events)} events over ${fmt(r.calls)} calls, in process`, `${fmt(r.eventsPerSecond)} events/s`, '', '', ''],
      [
        'c. RSS: empty / after 200k events / at the end',
        `${mb(r.rssAccount)} / ${mb(r.warm.rss)} / ${mb(r.last.rss)}`,
        '',
        '',
        'flat after warm-up',
      ],
      ['c. heap growth from 200k to 1M events', mb(r.heapGrowthAfterWarmup), '', '', '≈ 0'],
      ['c. calls tracked at the end (LRU size)', fmt(r.trackerSize), '', '', '≤ 10,000'],
      ['c. bytes per tracked call (10 events each)', fmt(r.bytesPerTrackedCall), '', '', ''],
    );
    log(`   heap samples (MB): ${r.samples.map((s) => (s.heapUsed / 1048576).toFixed(1)).join(' ')}`);
    if (r.trackerSize > 10000) misses.push('tracker grew past its size');

    const caches = JSON.parse((await child([path.join(__dirname, 'caches.js')])).line);
    for (const [name, c, unit] of [
      ['duplicate filter', caches.filter, 'fingerprints'],
      ['call tracker', caches.tracker, 'calls'],
    ]) {
      const ratio = c.fullUs / c.smallUs;
      if (ratio >= TARGETS.fullCache) misses.push(`full ${name} ratio ${ratio.toFixed(2)} ≥ ${TARGETS.fullCache}`);
      rows.push([
        `c. ${name}, per event when full (best of ${caches.runs} × ${fmt(caches.ops)})`,
        `${fmt(c.fullUs, 2)} µs (${fmt(c.full)} ${unit})`,
        `${fmt(c.smallUs, 2)} µs (${fmt(c.small)} ${unit})`,
        ratio.toFixed(2),
        `< ${TARGETS.fullCache}`,
      ]);
    }
  }

  if (ONLY.includes('d')) {
    log('d. bounds (distinct 60 KiB webhooks and a 4,000-leg call through one account, in process)');
    const out = await child([path.join(__dirname, 'bounds.js')]);
    const r = JSON.parse(out.line);
    const ms = (v) => `${fmt(v, 2)} ms`;
    const { distinct: d, identical: i, ordinary: o, big: g } = r;
    rows.push(
      [
        `d. heap before / after / growth, ${fmt(r.webhooks)} distinct 60 KiB webhooks`,
        `${mb(d.before)} / ${mb(d.after)} / ${mb(d.growth)}`,
        `${mb(i.before)} / ${mb(i.after)} / ${mb(i.growth)} (identical)`,
        `+${mb(d.growth - i.growth)}`,
        'bounded',
      ],
      [
        'd. of which: duplicate filter (entries × heap per entry, measured alone)',
        `${fmt(r.filter.entries)} × ${fmt(r.filter.perEntry)} B = ${mb(r.filter.entries * r.filter.perEntry)}`,
        `keys ${fmt(r.filter.keyBytes)} B`,
        '',
        '',
      ],
      ['d. of which: call tracker (calls, estimated bytes)', `${fmt(d.trackedCalls)} calls, ${mb(d.trackedBytes)}`, '', '', '≤ 10,000'],
      [
        `d. longest event-loop block, one call of ${fmt(r.legs)} legs × 20 KB fields (each event's fastest of ${r.runs} runs, GC aside)`,
        ms(g.own.max),
        `${ms(o.own.max)} (${fmt(r.ordinaryCalls)} ordinary 10-event calls)`,
        (g.own.max / o.own.max).toFixed(2),
        '',
      ],
      [
        'd. per event p99 / p50 (GC aside)',
        `${ms(g.own.p99)} / ${ms(g.own.p50)}`,
        `${ms(o.own.p99)} / ${ms(o.own.p50)}`,
        (g.own.p99 / o.own.p99).toFixed(2),
        '',
      ],
      ['d. longest GC pause during those events', ms(g.gcMax), ms(o.gcMax), (g.gcMax / o.gcMax).toFixed(2), ''],
      [
        'd. hangup p50, first vs last tenth of the legs',
        `${ms(g.hangupFirstTenthP50)} vs ${ms(g.hangupLastTenthP50)}`,
        '',
        (g.hangupLastTenthP50 / g.hangupFirstTenthP50).toFixed(2),
        '≈ 1',
      ],
      [
        'd. summary in the last hangup (route hops, JSON)',
        `${fmt(r.summary.hops)} hops, ${fmt(r.summary.jsonBytes)} B`,
        '',
        '',
        '≤ 100 hops',
      ],
    );
  }

  if (ONLY.includes('e')) {
    log(`e. cluster ingestion (${CLUSTER_RATE} webhooks/s, open loop, ${CLUSTER_SECONDS} s per mode)`);
    const { clusterIngestion } = require('./cluster');
    const r = await clusterIngestion({ rate: CLUSTER_RATE, seconds: CLUSTER_SECONDS, log });
    const { local: l, cluster: c, clusterDirect: d } = r;
    const ratio = c.load.acceptedPerSecond / l.load.acceptedPerSecond;
    if (ratio < TARGETS.cluster) misses.push(`cluster ingestion ratio ${ratio.toFixed(2)} < ${TARGETS.cluster}`);
    if (!(c.load.p99 < TARGETS.clusterP99Ms)) misses.push(`cluster p99 ${fmt(c.load.p99, 1)} ms ≥ ${TARGETS.clusterP99Ms} ms`);
    for (const [mode, m] of [
      ['local', l],
      ['cluster', c],
      ['cluster without the proxy', d],
    ]) {
      const k = m.check;
      if (k.once !== k.expected || k.duplicates || k.unexpected)
        misses.push(`${mode}: events emitted once ${k.once} of ${k.expected} (${k.missing} missing, ${k.duplicates} twice or more)`);
      if (m.load.lost || m.load.errors) misses.push(`${mode}: ${m.load.lost} webhooks unanswered, ${m.load.errors} socket errors`);
    }
    const statuses = (m) =>
      Object.entries(m.load.statuses)
        .map(([s, n]) => `${fmt(n)}× ${s}`)
        .join(', ');
    const cpu = (m) =>
      Object.entries(m.cpu)
        .map(([name, p]) => `${name} ${fmt(p.cpu * 100)} %`)
        .join(', ');
    const memory = (m) =>
      Object.entries(m.cpu)
        .filter(([, p]) => p.rss)
        .map(([name, p]) => `${name} ${mb(p.rss)} (peak ${mb(p.peak)})`)
        .join(', ');
    const per = (n) => fmt(n / c.redisCommands.deliveries, 2);
    rows.push(
      [
        `e. webhooks accepted/s, ${fmt(r.requests)} sent at ${CLUSTER_RATE}/s (open loop), ${r.callsAtOnce} calls at once`,
        `${fmt(c.load.acceptedPerSecond)} /s (2 instances + Redis, via proxy)`,
        `${fmt(l.load.acceptedPerSecond)} /s (1 instance, local)`,
        ratio.toFixed(2),
        `≥ ${TARGETS.cluster}`,
      ],
      [
        'e. answer latency p50 / p99 / max',
        `${fmt(c.load.p50, 2)} / ${fmt(c.load.p99, 2)} / ${fmt(c.load.max, 1)} ms`,
        `${fmt(l.load.p50, 2)} / ${fmt(l.load.p99, 2)} / ${fmt(l.load.max, 1)} ms`,
        (c.load.p99 / l.load.p99).toFixed(2),
        `p99 < ${TARGETS.clusterP99Ms} ms`,
      ],
      [
        'e. the same, cluster without the proxy (diagnostic: the generator alternates the instances)',
        `${fmt(d.load.acceptedPerSecond)} /s, ${fmt(d.load.p50, 2)} / ${fmt(d.load.p99, 2)} / ${fmt(d.load.max, 1)} ms`,
        '',
        (d.load.p99 / l.load.p99).toFixed(2),
        '',
      ],
      ['e. answers', statuses(c), statuses(l), '', 'all 200'],
      [
        'e. times an event node went yellow "redis down" (a command missed its 500 ms deadline)',
        `${fmt(c.storeDown)} (without the proxy: ${fmt(d.storeDown)})`,
        '',
        '',
        '0',
      ],
      [
        'e. events emitted exactly once / expected',
        `${fmt(c.check.once)} / ${fmt(c.check.expected)} (${c.check.duplicates} twice)`,
        `${fmt(l.check.once)} / ${fmt(l.check.expected)} (${l.check.duplicates} twice)`,
        '',
        'equal, 0 twice',
      ],
      [
        `e. hangups with the whole call (ringing > answered), steps ${r.stepGapSeconds} s apart`,
        `${fmt(c.check.wholeSummaries)} / ${fmt(c.check.calls)}`,
        `${fmt(l.check.wholeSummaries)} / ${fmt(l.check.calls)}`,
        '',
        '',
      ],
      ['e. CPU during the load (% of one core)', cpu(c), cpu(l), '', ''],
      ['e. RSS at the end', memory(c), memory(l), '', ''],
      [
        'e. Redis commands per delivery (Lua calls included)',
        `${per(c.redisCommands.total)}: ${Object.entries(c.redisCommands.byName)
          .map(([name, n]) => `${name} ${per(n)}`)
          .join(', ')}`,
        '',
        '',
        '',
      ],
      [
        'e. load generator: sends over 5 ms late, latest',
        `${fmt(c.load.lateSends)}, ${fmt(c.load.maxSendLagMs, 1)} ms`,
        `${fmt(l.load.lateSends)}, ${fmt(l.load.maxSendLagMs, 1)} ms`,
        '',
        '',
      ],
    );
    log(`   redis ${r.redis}; events emitted per instance: ${c.perInstance.join(' / ')}; keys at the end: ${fmt(c.keys)}`);
  }

  if (ONLY.includes('f')) {
    log('f. cluster sizing (Redis keys and memory per call, real key layout)');
    const r = JSON.parse((await child([path.join(__dirname, 'store-sizing.js')])).line);
    if (!r.complete) misses.push(`sizing stopped after ${r.calls} calls`);
    rows.push(
      [
        `f. Redis keys per call (${fmt(r.calls)} calls, ${r.scenarios} 3CX scenarios, ${fmt(r.deliveriesPerCall, 2)} webhooks each)`,
        `${fmt(r.keysPerCall, 2)} for ${r.claimTtlMinutes} min, then ${fmt(r.keysPerCallAfterWindow, 2)} for ${r.callTtlHours} h`,
        '',
        '',
        '',
      ],
      [
        `f. Redis memory per 10,000 calls (Redis ${r.redis})`,
        `${fmt(r.mbPer10kCalls, 1)} MB for ${r.claimTtlMinutes} min, then ${fmt(r.mbPer10kCallsAfterWindow, 1)} MB`,
        `one claim ${fmt(r.seenKeyBytes)} B, one call ${fmt(r.callKeyBytes)} B`,
        '',
        '',
      ],
    );
  }

  if (ONLY.includes('g')) {
    log(`g. pbx-stats (${STATS_RATE} webhooks/s, open loop, ${STATS_SECONDS} s per run, ${STATS_QUEUES} queues)`);
    const { statsOverhead } = require('./stats');
    const sim = await child([path.join(__dirname, 'simulator-child.js')], { keep: true });
    let r;
    try {
      r = await statsOverhead({
        simUrl: sim.line,
        rate: STATS_RATE,
        seconds: STATS_SECONDS,
        queues: STATS_QUEUES,
        profileDir: process.env.BENCH_STATS_PROFILE,
        log,
      });
    } finally {
      sim.process.kill();
    }
    const { with: w, without: o, plan } = r;
    const k = w.check;
    const cpuPer1k = (m) => m.cpu / (m.events / 1000);
    const cpuRatio = cpuPer1k(w) / cpuPer1k(o);
    for (const [mode, m] of [
      ['with pbx-stats', w],
      ['without pbx-stats', o],
    ]) {
      if (m.load.lost || m.load.errors || (m.load.statuses[200] ?? 0) !== m.webhooks)
        misses.push(`${mode}: ${fmt(m.webhooks - (m.load.statuses[200] ?? 0))} webhooks not answered 200`);
      if (m.events !== m.webhooks) misses.push(`${mode}: ${fmt(m.events)} events for ${fmt(m.webhooks)} webhooks`);
    }
    if (k.queuesExact !== k.queues) misses.push(`pbx-stats figures: ${k.queuesExact} of ${k.queues} queues exact`);
    const calls = (m) => fmt((m.webhooks / plan.perGroup) * plan.group);
    const per = (m) => `${fmt(cpuPer1k(m), 3)} s (${fmt(m.cpu, 1)} s CPU, ${fmt((m.cpu / m.busySeconds) * 100)} % of one core)`;
    const memory = (m) => `${mb(m.memory.rss)} / ${mb(m.memory.heapUsed)} (peak RSS ${mb(m.peakRss)})`;
    const reordered = (m) => `${fmt(m.reordered.endedBeforeQueue)} / ${fmt(m.reordered.answeredBeforeQueue)}`;
    const answers = (m) => `${fmt(m.load.acceptedPerSecond)} /s, p50 ${fmt(m.load.p50, 2)} / p99 ${fmt(m.load.p99, 2)} ms`;
    rows.push(
      [
        `g. CPU s per 1,000 events, ${fmt(w.webhooks)} webhooks (${calls(w)} calls) at ${STATS_RATE}/s over ${STATS_QUEUES} queues`,
        `${per(w)} (with pbx-stats)`,
        `${per(o)} (pbx-event only)`,
        cpuRatio.toFixed(2),
        '',
      ],
      [
        'g. RSS / heap used after (forced GC)',
        memory(w),
        memory(o),
        `${(w.memory.rss / o.memory.rss).toFixed(2)} / ${(w.memory.heapUsed / o.memory.heapUsed).toFixed(2)}`,
        '',
      ],
      ['g. webhooks accepted/s, answer latency', answers(w), answers(o), (w.load.p99 / o.load.p99).toFixed(2), `${STATS_RATE}/s, all 200`],
      ['g. events emitted / webhooks', `${fmt(w.events)} / ${fmt(w.webhooks)}`, `${fmt(o.events)} / ${fmt(o.webhooks)}`, '', 'equal'],
      [
        "g. calls whose end / answer reached Node-RED before their queue ringing (a call's webhooks overtaking each other)",
        reordered(w),
        reordered(o),
        '',
        '',
      ],
      [
        'g. pbx-stats offered / answered / abandoned (sum over queues, warm-up included) vs sent',
        `${fmt(k.offered)} / ${fmt(k.answered)} / ${fmt(k.abandoned)}, ${k.queuesExact} of ${k.queues} queues exact, ${fmt(k.waitingNow)} waiting`,
        `${fmt(k.expectedOffered)} / ${fmt(k.expectedAnswered)} / ${fmt(k.expectedAbandoned)} sent, ${fmt(w.reordered.endedBeforeQueue)} ended before their queue ringing`,
        '',
        'equal (a call ended before its queue ringing waits)',
      ],
      [
        'g. pbx-stats: figures of every queue after the last event, messages sent, agent requests',
        `${fmt(w.figuresMs)} ms, ${fmt(w.figureMessages)} messages, ${fmt(w.agentRequests.total)} requests (${Object.entries(
          w.agentRequests.byMethod,
        )
          .map(([method, n]) => `${method} ${fmt(n)}`)
          .join(', ')})`,
        `agents in ${k.agentsReported} of ${k.queues} queues`,
        '',
        '',
      ],
    );
    const slots = JSON.parse(
      (await child([path.join(__dirname, 'stats-slots.js')], { env: { BENCH_STATS_QUEUES: String(STATS_QUEUES) } })).line,
    );
    const cost = slots.offsets.map((s) => slots.best[s]);
    rows.push([
      `g. pbx-stats alone (QueueStats.apply, memory store, in process, best of ${slots.runs} × ${fmt(slots.events)} events): per event with its ${slots.slotSeconds / 60}-minute slot ${slots.offsets.join(' / ')} s full`,
      `${cost.map((c) => fmt(c.perEventUs)).join(' / ')} µs (at ${fmt(STATS_RATE)} events/s: ${cost.map((c) => fmt((c.perEventUs * STATS_RATE) / 1e4)).join(' / ')} % of one core)`,
      `figures() of ${slots.queues} queues: ${cost.map((c) => fmt(c.figuresMs, 1)).join(' / ')} ms`,
      (cost[cost.length - 1].perEventUs / cost[0].perEventUs).toFixed(2),
      '',
    ]);
    for (const [mode, m] of [
      ['with', w],
      ['without', o],
    ]) {
      log(
        `   ${mode} pbx-stats: generator sends over 5 ms late ${fmt(m.load.lateSends)}, latest ${fmt(m.load.maxSendLagMs)} ms; answer max ${fmt(m.load.max)} ms; ${m.load.connections} connections`,
      );
      for (const warning of m.warnings.slice(0, 5)) log(`     warning: ${warning}`);
    }
  }

  process.stdout.write(
    `\nmachine: ${machine}\ncommand: ${process.env.BENCH_ONLY ? `BENCH_ONLY=${process.env.BENCH_ONLY} ` : ''}npm run bench\n\n${table(rows)}\n`,
  );
  if (misses.length) process.stdout.write(`\ntargets missed: ${misses.join('; ')}\n`);
  else process.stdout.write('\nall targets met\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    log(err.stack);
    process.exit(1);
  },
);
