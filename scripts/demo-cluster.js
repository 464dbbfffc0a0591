#!/usr/bin/env node
'use strict';
// `npm run demo:cluster`: cluster mode on one machine, all on 127.0.0.1. A redis-server of its own
// (Debian's, installed when missing; persistence off), two Node-RED instances running the same
// example flows with every pbx-config in cluster mode, the round-robin balancer in front of them,
// and the PBX simulator sending its webhooks through the balancer. User directories under
// .demo-cluster/ (git-ignored). Ctrl-C stops everything.
const path = require('node:path');
const { buildFlows, writeUserDir, startNodeRed, demoCredentials, DEMO_SECRET } = require('./demo');
const { startRoundRobinProxy } = require('./round-robin-proxy');
const { startRedis } = require('../test/helpers/redis-server');

const ROOT = path.resolve(__dirname, '..');

async function startClusterDemo({
  port = Number(process.env.PORT) || 1880,
  instancePorts = [1881, 1882],
  simPort = Number(process.env.SIM_PORT) || 8089,
  baseDir = path.join(ROOT, '.demo-cluster'),
  scenarioEverySeconds = Number(process.env.DEMO_SCENARIO_EVERY ?? 20),
  quiet = false,
} = {}) {
  const { startSimulator, DEFAULT_CREDENTIALS } = require('../dist/simulator');
  const redis = await startRedis();
  const sim = await startSimulator({ port: simPort, stepMs: 600, talkMs: 4000 });
  const built = buildFlows(sim.url);
  // Every pbx-config in cluster mode on the demo's Redis; the node ids are the same on both instances.
  const flows = built.flows.map((n) =>
    n.type === 'pbx-config' ? { ...n, redisUrl: redis.url, keyPrefix: 'demo:', redisDown: 'local' } : n,
  );
  const credentials = Object.fromEntries(built.configs.map((c) => [c.id, demoCredentials(c, DEFAULT_CREDENTIALS)]));

  const instances = instancePorts.map((instancePort, i) => {
    const userDir = path.join(baseDir, `instance-${i + 1}`);
    writeUserDir(userDir, { port: instancePort, flows, credentials });
    return { port: instancePort, ...startNodeRed(userDir, { quiet: true }) };
  });
  const proxy = await startRoundRobinProxy({ port, targets: instancePorts.map((p) => `http://127.0.0.1:${p}`) });

  const providerIds = new Set(sim.providers.map((p) => p.id));
  for (const config of built.configs) {
    if (providerIds.has(config.provider)) sim.setWebhook(config.provider, `${proxy.url}${config.webhookPath}/${DEMO_SECRET}`);
  }
  let timer;
  if (scenarioEverySeconds > 0) {
    let n = 0;
    timer = setInterval(() => {
      const p = sim.providers[n % sim.providers.length];
      const names = p.scenarios();
      void p.play(names[Math.floor(n / sim.providers.length) % names.length]).catch(() => undefined);
      n++;
    }, scenarioEverySeconds * 1000);
  }
  if (!quiet) {
    console.log(`\n  Redis:             ${redis.url}  (keys under demo:)`);
    console.log(`  PBX simulator:     ${sim.url}  (webhooks go through the balancer)`);
    console.log(`  Balancer:          ${proxy.url}  (round-robin over both instances)`);
    instances.forEach((inst, i) => console.log(`  Node-RED ${i + 1} editor: http://127.0.0.1:${inst.port}/admin/`));
    console.log(`  Click-to-call:     ${proxy.url}/click-to-call  (answered by either instance)`);
    console.log('  Each call event appears in the debug sidebar of exactly one instance. Ctrl-C stops everything.\n');
  }
  const stop = async () => {
    clearInterval(timer);
    for (const inst of instances) inst.nodeRed.kill('SIGINT');
    await proxy.close();
    await sim.close();
    await redis.stop();
  };
  return { sim, redis, proxy, instances, stop };
}

module.exports = { startClusterDemo };

if (require.main === module) {
  startClusterDemo().then(
    (demo) => {
      const shutdown = () => void demo.stop().then(() => process.exit(0));
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
