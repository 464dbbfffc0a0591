#!/usr/bin/env node
'use strict';
// `npm run demo:cluster`: cluster mode on one machine, all on 127.0.0.1. A redis-server of its own
// (Debian's, installed when missing; persistence off), two Node-RED instances running the same
// example flows with every pbx-config in cluster mode, the round-robin balancer in front of them,
// and the PBX simulator sending its webhooks through the balancer. User directories under
// .demo-cluster/ (git-ignored). Ctrl-C stops everything.
const http = require('node:http');
const path = require('node:path');
const { buildFlows, writeUserDir, startNodeRed, demoCredentials, pointWebhooks, playScenariosEvery } = require('./demo');
const { startRoundRobinProxy } = require('./round-robin-proxy');
const { startRedis } = require('../test/helpers/redis-server');
const { fn, post } = require('../test/helpers/flows');

const ROOT = path.resolve(__dirname, '..');
/** Each instance's number (1, 2), as its function nodes read it with env.get(). */
const INSTANCE_ENV = 'PBX_DEMO_INSTANCE';
/** How long an instance gets to end after SIGINT before it is killed. */
const STOP_GRACE_MS = 5000;
/** Events kept by the observer: bounded whatever runs for how long. */
const MAX_OBSERVED = 10000;

/**
 * The observer's tab: for each config a pbx-event node with every event, posting
 * `{ instance, config, event }` to `url`. The same on both instances; only the environment differs.
 */
function observerFlows(configs, url) {
  const z = 'tab-demo-observer';
  const nodes = [{ id: z, type: 'tab', label: 'demo observer', disabled: false, info: '' }];
  configs.forEach((config, i) => {
    const [ev, wrap, sink] = [`observe-ev-${i}`, `observe-wrap-${i}`, `observe-post-${i}`];
    const y = 40 + i * 60;
    nodes.push(
      { id: ev, type: 'pbx-event', z, pbx: config.id, events: [], extension: '', direction: 'any', outputs: 1, x: 120, y, wires: [[wrap]] },
      {
        ...fn(
          wrap,
          `msg.payload = { instance: Number(env.get('${INSTANCE_ENV}')), config: ${JSON.stringify(config.id)}, event: msg.payload };\nreturn msg;`,
          [sink],
          z,
        ),
        name: 'tag',
        x: 300,
        y,
      },
      { ...post(sink, url, z), name: 'observer', x: 480, y },
    );
  });
  return nodes;
}

/** A loopback sink for what the observer tab posts: `events` in arrival order. */
async function startObserver() {
  const events = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.end('ok');
      try {
        if (events.length < MAX_OBSERVED) events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        // Not from the observer tab.
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/events`,
    events,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Ends a Node-RED process: SIGINT, SIGKILL after the grace time; resolves once it exited. */
function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}

/**
 * @param {object} [o]
 * @param {number} [o.port]            the balancer's port
 * @param {number[]} [o.instancePorts] the two Node-RED instances' ports
 * @param {number} [o.simPort]         the simulator's port (0: any free one)
 * @param {boolean} [o.quiet]          print nothing; Node-RED's output is kept in each instance's `logs`
 * @param {boolean} [o.observe]        add a tab posting every emitted event, with the instance that
 *                                     emitted it, to a loopback observer (`demo.observed`)
 */
async function startClusterDemo({
  port = Number(process.env.PORT) || 1880,
  instancePorts = [1881, 1882],
  simPort = Number(process.env.SIM_PORT) || 8089,
  baseDir = path.join(ROOT, '.demo-cluster'),
  scenarioEverySeconds = Number(process.env.DEMO_SCENARIO_EVERY ?? 20),
  quiet = false,
  observe = false,
} = {}) {
  const { startSimulator, DEFAULT_CREDENTIALS } = require('../dist/simulator');
  const parts = { instances: [] };
  let timer;
  const stop = async () => {
    clearInterval(timer);
    await Promise.all(parts.instances.map((inst) => stopProcess(inst.nodeRed)));
    await parts.proxy?.close();
    await parts.sim?.close();
    await parts.observer?.close();
    await parts.redis?.stop();
  };
  try {
    parts.redis = await startRedis();
    parts.sim = await startSimulator({ port: simPort, stepMs: 600, talkMs: 4000 });
    if (observe) parts.observer = await startObserver();
    const { redis, sim, observer } = parts;
    const built = buildFlows(sim.url);
    // Every pbx-config in cluster mode on the demo's Redis; the node ids are the same on both instances.
    const flows = [
      ...built.flows.map((n) => (n.type === 'pbx-config' ? { ...n, redisUrl: redis.url, keyPrefix: 'demo:', redisDown: 'local' } : n)),
      ...(observer ? observerFlows(built.configs, observer.url) : []),
    ];
    const credentials = Object.fromEntries(built.configs.map((c) => [c.id, demoCredentials(c, DEFAULT_CREDENTIALS)]));

    instancePorts.forEach((instancePort, i) => {
      const userDir = path.join(baseDir, `instance-${i + 1}`);
      writeUserDir(userDir, { port: instancePort, flows, credentials });
      parts.instances.push({ port: instancePort, ...startNodeRed(userDir, { quiet: true, env: { [INSTANCE_ENV]: String(i + 1) } }) });
    });
    parts.proxy = await startRoundRobinProxy({ port, targets: instancePorts.map((p) => `http://127.0.0.1:${p}`) });
  } catch (err) {
    await stop();
    throw err;
  }
  const { redis, sim, proxy, instances, observer } = parts;

  pointWebhooks(sim, buildFlows(sim.url).configs, proxy.url);
  timer = playScenariosEvery(sim, scenarioEverySeconds);
  if (!quiet) {
    console.log(`\n  Redis:             ${redis.url}  (keys under demo:)`);
    console.log(`  PBX simulator:     ${sim.url}  (webhooks go through the balancer)`);
    console.log(`  Balancer:          ${proxy.url}  (round-robin over both instances)`);
    instances.forEach((inst, i) => console.log(`  Node-RED ${i + 1} editor: http://127.0.0.1:${inst.port}/admin/`));
    console.log(`  Click-to-call:     ${proxy.url}/click-to-call  (answered by either instance)`);
    console.log('  Each call event appears in the debug sidebar of exactly one instance. Ctrl-C stops everything.\n');
  }
  return { sim, redis, proxy, instances, observed: observer?.events, stop };
}

module.exports = { startClusterDemo };

if (require.main === module) {
  startClusterDemo().then(
    (demo) => {
      let stopping = false;
      const shutdown = (code) => {
        if (stopping) return;
        stopping = true;
        void demo.stop().then(() => process.exit(code));
      };
      process.once('SIGINT', () => shutdown(0));
      process.once('SIGTERM', () => shutdown(0));
      // An instance that ends on its own (its port in use, say): show why, and stop the rest.
      demo.instances.forEach((inst, i) =>
        inst.nodeRed.once('exit', (code) => {
          if (stopping) return;
          console.error(`Node-RED ${i + 1} (port ${inst.port}) exited with ${code}:\n${inst.logs.slice(-20).join('\n')}`);
          shutdown(1);
        }),
      );
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
