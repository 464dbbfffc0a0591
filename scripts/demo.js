#!/usr/bin/env node
'use strict';
// `npm run demo`: Node-RED (from devDependencies) with this package, the PBX simulator and the
// example flows, all on 127.0.0.1. The user directory is .demo/ (git-ignored). Ctrl-C stops it.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DEMO_SECRET = 'demo-webhook-secret';
/** The wallboard moves within a minute: 10 calls a minute leave a minute without a call once in 20,000. */
const DEFAULT_QUEUE_CALLS_PER_MINUTE = 10;

/** Credentials of an example config node: what the simulator accepts for its provider. */
function demoCredentials(config, DEFAULT_CREDENTIALS) {
  const own = Object.prototype.hasOwnProperty.call(DEFAULT_CREDENTIALS, config.provider) ? DEFAULT_CREDENTIALS[config.provider] : {};
  return { ...own, webhookSecret: DEMO_SECRET };
}

/** Every example flow on its own tab; config nodes shared between examples appear once. */
function buildFlows(simUrl) {
  const flows = [];
  const configs = new Map();
  const files = fs
    .readdirSync(path.join(ROOT, 'examples'))
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const file of files) {
    const nodes = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
    const tab = `tab-${file.replace(/\.json$/, '')}`;
    flows.push({ id: tab, type: 'tab', label: file.replace(/\.json$/, ''), disabled: false, info: '' });
    for (const node of nodes) {
      if (node.type === 'pbx-config') {
        // Examples point at the simulator's default port; the demo may run it elsewhere.
        configs.set(node.id, { ...node, baseUrl: node.baseUrl.replace(/^http:\/\/127\.0\.0\.1:\d+/, simUrl) });
      } else if (node.x !== undefined || node.wires !== undefined) {
        flows.push({ ...node, z: tab });
      } else {
        configs.set(node.id, node);
      }
    }
  }
  return { flows: [...flows, ...configs.values()], configs: [...configs.values()].filter((n) => n.type === 'pbx-config') };
}

/**
 * A Node-RED user directory for the demo: this package linked in, the flows and their
 * credentials, and settings on 127.0.0.1:`port` (editor under /admin).
 */
function writeUserDir(userDir, { port, flows, credentials }) {
  fs.mkdirSync(path.join(userDir, 'node_modules', '@callflow'), { recursive: true });
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'pbx-demo', private: true, version: '0.0.0' }, null, 2));
  const link = path.join(userDir, 'node_modules', '@callflow', 'node-red-pbx');
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(ROOT, link, 'dir');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows, null, 2));
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials, null, 2));
  fs.writeFileSync(
    path.join(userDir, 'settings.js'),
    `// Written by scripts/demo.js on every start.\nmodule.exports = ${JSON.stringify(
      {
        uiHost: '127.0.0.1',
        uiPort: port,
        httpAdminRoot: '/admin',
        httpNodeRoot: '/',
        flowFile: 'flows.json',
        // Relative paths of file nodes (the recording archive example) land in the user directory.
        fileWorkingDirectory: userDir,
        credentialSecret: false,
        editorTheme: { tours: false, projects: { enabled: false } },
        // No consent dialog for update notifications in a local demo.
        telemetry: { enabled: false, updateNotification: false },
        logging: { console: { level: 'info', metrics: false, audit: false } },
      },
      null,
      2,
    )};\n`,
  );
}

/**
 * Starts Node-RED (from devDependencies) on `userDir`; its output inherited, or kept in `logs` when
 * quiet. `env`: more environment variables for it (e.g. for `env.get()` in a function node).
 */
function startNodeRed(userDir, { quiet = false, env } = {}) {
  const nodeRed = spawn(process.execPath, [require.resolve('node-red/red.js'), '-u', userDir, '-s', path.join(userDir, 'settings.js')], {
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  const logs = [];
  if (quiet)
    for (const stream of [nodeRed.stdout, nodeRed.stderr])
      stream.on('data', (c) => logs.push(...c.toString('utf8').split('\n').filter(Boolean)));
  return { nodeRed, logs };
}

/** Points each simulated provider's webhooks at its example config's path under `origin`, with the demo secret. */
function pointWebhooks(sim, configs, origin) {
  const providerIds = new Set(sim.providers.map((p) => p.id));
  for (const config of configs) {
    if (providerIds.has(config.provider)) sim.setWebhook(config.provider, `${origin}${config.webhookPath}/${DEMO_SECRET}`);
  }
}

/**
 * Keeps the debug sidebar lively: a scenario every `seconds` (0 = never), cycling through the
 * providers and their scenarios. Returns the timer, for clearInterval.
 */
function playScenariosEvery(sim, seconds) {
  if (!(seconds > 0)) return undefined;
  let n = 0;
  return setInterval(() => {
    const p = sim.providers[n % sim.providers.length];
    const names = p.scenarios();
    void p.play(names[Math.floor(n / sim.providers.length) % names.length]).catch(() => undefined);
    n++;
  }, seconds * 1000);
}

/** Resolves once `url` answers 200 (polled every 250 ms, for at most 2 minutes). */
async function whenServed(url) {
  const deadline = Date.now() + 120000;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} was not served within 2 minutes`);
}

async function startDemo({
  port = Number(process.env.PORT) || 1880,
  simPort = Number(process.env.SIM_PORT) || 8089,
  userDir = path.join(ROOT, '.demo'),
  scenarioEverySeconds = Number(process.env.DEMO_SCENARIO_EVERY ?? 20),
  queueCallsPerMinute = Number(process.env.DEMO_QUEUE_CALLS ?? DEFAULT_QUEUE_CALLS_PER_MINUTE),
  quiet = false,
} = {}) {
  const { startSimulator, DEFAULT_CREDENTIALS, DEMO_QUEUE_LOAD } = require('../dist/simulator');
  const sim = await startSimulator({ port: simPort, stepMs: 600, talkMs: 4000 });
  const { flows, configs } = buildFlows(sim.url);

  writeUserDir(userDir, {
    port,
    flows,
    credentials: Object.fromEntries(configs.map((c) => [c.id, demoCredentials(c, DEFAULT_CREDENTIALS)])),
  });

  pointWebhooks(sim, configs, `http://127.0.0.1:${port}`);
  const { nodeRed, logs } = startNodeRed(userDir, { quiet });
  const timer = playScenariosEvery(sim, scenarioEverySeconds);
  // The wallboard example's calls: 3CX calls through queues 807 and 820, endless until stopped.
  if (queueCallsPerMinute > 0) {
    // Once the wallboard is served: calls placed before would only meet a closed port.
    void whenServed(`http://127.0.0.1:${port}/queue-wallboard`)
      .then(() => sim.provider('3cx-webapi').playQueueLoad({ ...DEMO_QUEUE_LOAD, ratePerMinute: queueCallsPerMinute }, { endless: true }))
      .catch((err) => console.error(`demo: the queue load stopped: ${err.message}`));
  }
  if (!quiet) {
    console.log(`\n  PBX simulator:     ${sim.url}  (scenarios: POST ${sim.url}/_sim/scenario {"provider","name"})`);
    console.log(`  Node-RED editor:   http://127.0.0.1:${port}/admin/`);
    console.log(`  Click-to-call:     http://127.0.0.1:${port}/click-to-call  (VoipNow: /voipnow/click-to-call)`);
    console.log(
      `  Queue wallboard:   http://127.0.0.1:${port}/queue-wallboard  (${queueCallsPerMinute > 0 ? `${queueCallsPerMinute} calls a minute through 3CX queues 807 and 820` : 'no queue calls: DEMO_QUEUE_CALLS=0'})`,
    );
    console.log("  Live call events appear in the editor's debug sidebar. Ctrl-C stops everything.\n");
  }
  const stop = async () => {
    clearInterval(timer);
    nodeRed.kill('SIGINT');
    await sim.close();
  };
  return { sim, nodeRed, stop, port, logs };
}

module.exports = { startDemo, buildFlows, writeUserDir, startNodeRed, demoCredentials, pointWebhooks, playScenariosEvery, DEMO_SECRET };

if (require.main === module) {
  startDemo().then(
    (demo) => {
      const shutdown = () => void demo.stop().then(() => process.exit(0));
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      demo.nodeRed.once('exit', (code) => void demo.sim.close().then(() => process.exit(code ?? 0)));
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
