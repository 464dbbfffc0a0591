'use strict';
// Webhook ingestion: requests/s and latency through a pbx-config endpoint (→ pbx-event → a function
// node counting events) against a bare core `http in` → `http response` flow, in the same real
// Node-RED process (the packed package, admin root /admin as the README advises), same load.
const assert = require('node:assert/strict');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { runLoad } = require('./load');
const { eventNode, fn: functionNode } = require('../helpers/flows');

const SECRET = 'bench-webhook-secret-5b1f0c';
const count = ['const n = (global.get("events") || 0) + 1;', 'global.set("events", n);', 'return null;'].join('\n');

function fn(id, func, wires) {
  return { ...functionNode(id, func, wires, 'tab'), x: 300, y: 100 };
}

function flows(simUrl) {
  return [
    { id: 'tab', type: 'tab', label: 'bench' },
    {
      id: 'cfg',
      type: 'pbx-config',
      provider: '3cx-webapi',
      baseUrl: `${simUrl}/webapi`,
      webhookPath: '/pbx/bench',
      timeout: 10000,
      rejectUnauthorized: true,
      allowFrom: '',
      credentials: { accessKey: 'demo-3cx-access-key', webhookSecret: SECRET },
    },
    eventNode('ev', 'count'),
    fn('count', count, []),
    {
      id: 'in',
      type: 'http in',
      z: 'tab',
      url: '/bench/in',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['res']],
      x: 100,
      y: 200,
    },
    { id: 'res', type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [], x: 300, y: 200 },
    {
      id: 'cin',
      type: 'http in',
      z: 'tab',
      url: '/bench/count',
      method: 'get',
      upload: false,
      swaggerDoc: '',
      wires: [['cfn']],
      x: 100,
      y: 300,
    },
    fn('cfn', 'msg.payload = { events: global.get("events") || 0 }; return msg;', ['cres']),
    { id: 'cres', type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [], x: 500, y: 300 },
  ];
}

/** A 3CX ringing webhook, distinct per request (the duplicate filter would drop repeats). */
const ringing = (n) =>
  JSON.stringify({
    Event: 'ringing',
    Callerid: '05551239988',
    User: '202',
    Usertype: 'ext',
    Did: '0211',
    Id: `260301${String(n).padStart(8, '0')}_1-0`,
  });

async function events(nr) {
  return (await (await fetch(`${nr.url}/bench/count`)).json()).events;
}

/**
 * Runs warm-up, then `rounds` alternating rounds of baseline and pbx, `seconds / rounds` each.
 * Returns per-path aggregates.
 */
async function ingestion({ simUrl, seconds = 10, rounds = 2, connections = 50, log = () => undefined }) {
  const nr = await new NodeRedProcess({ adminRoot: '/admin' }).start();
  try {
    await nr.deploy(flows(simUrl));
    let n = 0;
    const paths = {
      baseline: { label: 'http in → http response', request: (i) => ({ path: '/bench/in', body: ringing(1e7 + i) }) },
      pbx: { label: 'pbx-config endpoint → pbx-event', request: () => ({ path: `/pbx/bench/${SECRET}`, body: ringing(n++) }) },
    };
    log('  warm-up');
    for (const p of Object.values(paths)) await runLoad({ port: nr.port, connections, durationMs: 2000, request: p.request });
    await new Promise((r) => setTimeout(r, 500));
    const before = await events(nr);
    const results = { baseline: [], pbx: [] };
    for (let r = 0; r < rounds; r++) {
      for (const key of ['baseline', 'pbx']) {
        log(`  round ${r + 1}: ${paths[key].label}`);
        results[key].push(
          await runLoad({ port: nr.port, connections, durationMs: (seconds * 1000) / rounds, request: paths[key].request }),
        );
      }
    }
    const out = {};
    for (const key of ['baseline', 'pbx']) {
      const runs = results[key];
      const requests = runs.reduce((a, r) => a + r.requests, 0);
      const secs = runs.reduce((a, r) => a + r.seconds, 0);
      out[key] = {
        label: paths[key].label,
        requests,
        perSecond: requests / secs,
        p50: median(runs.map((r) => r.p50)),
        p99: Math.max(...runs.map((r) => r.p99)),
        statuses: runs.reduce(
          (a, r) => ({ ...a, ...Object.fromEntries(Object.entries(r.statuses).map(([k, v]) => [k, (a[k] ?? 0) + v])) }),
          {},
        ),
        errors: runs.reduce((a, r) => a + r.errors, 0),
      };
    }
    // Every accepted webhook became an event (the reply goes out before the flow work).
    const deadline = Date.now() + 10000;
    let got = (await events(nr)) - before;
    while (got < out.pbx.requests && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      got = (await events(nr)) - before;
    }
    assert.equal(got, out.pbx.requests, 'every measured webhook became one event');
    assert.deepEqual(Object.keys(out.pbx.statuses), ['200']);
    assert.deepEqual(Object.keys(out.baseline.statuses), ['200']);
    out.pbx.events = got;
    return out;
  } finally {
    await nr.stop();
    nr.cleanup();
  }
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

module.exports = { ingestion, ringing };
