'use strict';
// Several real Node-RED processes running the SAME flows (same node ids, deployed to each, as
// FlowFuse HA mode does) behind the round-robin proxy, and one loopback collector that knows which
// instance posted each message. Loopback only.
//
// Which instance posted: every `http request` node that posts to the collector gets a header
// whose value is `${PBX_REPLICA_INDEX}`. Node-RED replaces a property that is exactly `${NAME}`
// with that environment variable when it creates the node, and each process has its own value
// (set by a preload file), so the deployed flows stay identical on every instance.
const { Collector } = require('./collector');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { NodeRedProcess, prepareUserDir } = require('./node-red-process');
const { startRoundRobinProxy } = require('../../scripts/round-robin-proxy');

const REPLICA_HEADER = 'x-pbx-replica';
const REPLICA_ENV = 'PBX_REPLICA_INDEX';
const EXIT_SIGNALS = new Set(['SIGKILL', 'SIGTERM', 'SIGINT']);

let template;
/** One user directory with the packed package installed, per test process; copied for each instance. */
function preparedTemplate() {
  if (!template) {
    template = prepareUserDir();
    const dir = template;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return template;
}

/** A copy of the prepared user directory, and a preload file giving the process its environment. */
function replicaUserDir(index, env) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pbx-replica-${index}-`));
  fs.cpSync(preparedTemplate(), dir, { recursive: true, verbatimSymlinks: true });
  const preload = path.join(dir, 'replica-env.js');
  const vars = { ...env, [REPLICA_ENV]: String(index) };
  fs.writeFileSync(preload, `Object.assign(process.env, ${JSON.stringify(vars)});\n`);
  return { dir, preload };
}

/** `flows` with the replica header on each `http request` node posting to `collectorUrl` (a copy). */
function tagCollectorRequests(flows, collectorUrl) {
  return flows.map((node) => {
    if (node.type !== 'http request' || typeof node.url !== 'string' || !node.url.startsWith(collectorUrl)) return node;
    const header = { keyType: 'other', keyValue: REPLICA_HEADER, valueType: 'other', valueValue: `\${${REPLICA_ENV}}` };
    return { ...node, headers: [...(node.headers ?? []), header] };
  });
}

/** The loopback sink the flows post to: every message with the index of the instance that sent it. */
class ReplicaCollector extends Collector {
  get name() {
    return 'replica collector';
  }

  tagOf(req) {
    const tag = req.headers[REPLICA_HEADER];
    return { instance: /^\d+$/.test(tag ?? '') ? Number(tag) : null };
  }

  /** `{ instance, path, body, text }` of each message on `path` (all paths when omitted) whose body matches `filter`. */
  collected(p, filter = () => true) {
    return this.messages.filter((m) => (p === undefined || m.path === p) && filter(m.body));
  }

  /** `waitFor` resolves with whole messages: which instance sent each one. */
  picked(p, filter) {
    return this.collected(p, filter);
  }
}

/**
 * Starts `count` Node-RED processes behind a round-robin proxy.
 *
 * @param {object} [o]
 * @param {number} [o.count]        instances, default 2
 * @param {object[]|function} [o.flows]  deployed to every instance once they run: an array, or
 *                                  `({ collectorUrl }) => flows` (post to `collectorUrl` + a path)
 * @param {object|function} [o.settings]  more settings.js entries: an object for every instance,
 *                                  or `(index) => object`
 * @param {object|function} [o.env]  more environment variables (e.g. for `${REDIS_URL}` in a
 *                                  node property): an object, or `(index) => object`
 * @param {string[]} [o.nodeArgs]   Node.js options before red.js
 * @param {string} [o.adminRoot]    httpAdminRoot, default '/admin'
 * @param {number} [o.deadlineMs]   the proxy's per-request deadline
 */
async function startReplicas({ count = 2, flows, settings = {}, env = {}, nodeArgs = [], adminRoot = '/admin', deadlineMs } = {}) {
  const perInstance = (option, i) => (typeof option === 'function' ? option(i) : option);
  const collector = await new ReplicaCollector().start();
  const instances = [];
  let proxy;
  try {
    for (let i = 0; i < count; i++) {
      const { dir, preload } = replicaUserDir(i, perInstance(env, i));
      const options = { adminRoot, userDir: dir, settings: perInstance(settings, i), nodeArgs: [...nodeArgs, '--require', preload] };
      instances.push(new NodeRedProcess(options));
    }
    await Promise.all(instances.map((nr) => nr.start()));
    proxy = await startRoundRobinProxy({ targets: instances.map((nr) => nr.url), ...(deadlineMs ? { deadlineMs } : {}) });
  } catch (err) {
    await Promise.all(instances.map((nr) => nr.stop()));
    for (const nr of instances) nr.cleanup();
    await collector.close();
    throw err;
  }

  const replicas = {
    proxy,
    proxyUrl: proxy.url,
    collectorUrl: collector.url,
    collector,
    instances,

    /** Deploys the same flows (tagged for the collector) to every instance; resolves when all started them. */
    async deploy(next) {
      const list = typeof next === 'function' ? next({ collectorUrl: collector.url }) : next;
      const tagged = tagCollectorRequests(list, collector.url);
      await Promise.all(instances.map((nr) => nr.deploy(tagged)));
    },

    /** A URL through the balancer, e.g. `webhookUrl('/pbx/hook/secret')`. */
    webhookUrl: (p) => `${proxy.url}${p}`,

    /** A URL of instance `i` itself, bypassing the balancer. */
    directUrl: (i, p) => `${instances[i].url}${p}`,

    /** Sends `signal` to instance `i`; waits for its exit when the signal ends it. */
    async killInstance(i, signal = 'SIGKILL') {
      const nr = instances[i];
      nr.child.kill(signal);
      if (EXIT_SIGNALS.has(signal)) await nr.exited;
    },

    /**
     * Starts instance `i` again (stopping it first if it still runs) with its user directory, so
     * with the flows last deployed; it listens on a new port, which the proxy then targets.
     */
    async restartInstance(i) {
      const nr = instances[i];
      if (nr.child.exitCode === null && nr.child.signalCode === null) {
        nr.child.kill('SIGCONT'); // in case it was paused with SIGSTOP
        await nr.stop();
      }
      // start() looks for its readiness lines in `logs`: keep the earlier run's apart.
      nr.earlierLogs = [...(nr.earlierLogs ?? []), ...nr.logs];
      nr.logs = [];
      await nr.start();
      proxy.setTargets(instances.map((x) => x.url));
    },

    /** Messages posted by the flows of all instances, each with `instance` (its index). */
    collected: (p, filter) => collector.collected(p, filter),
    waitFor: (p, n, options) => collector.waitFor(p, n, options),

    async stop() {
      await proxy.close();
      await Promise.all(
        instances.map(async (nr) => {
          if (nr.child && nr.child.exitCode === null && nr.child.signalCode === null) nr.child.kill('SIGCONT');
          await nr.stop();
          nr.cleanup();
        }),
      );
      await collector.close();
    },
  };
  if (flows) {
    try {
      await replicas.deploy(flows);
    } catch (err) {
      await replicas.stop();
      throw err;
    }
  }
  return replicas;
}

/**
 * What every cluster test starts: a redis-server of its own, the simulator, and `count` Node-RED
 * instances behind the round-robin proxy whose environment gets `PBX_REDIS_URL` plus `env(sim)`.
 * `stop()` stops them in reverse order; it also undoes a start that failed half way.
 */
async function startCluster({ simulator = {}, env = () => ({}), ...replicaOptions } = {}) {
  // Required here: loading the simulator is the build's business, not every replica test's.
  const { startRedis } = require('./redis-server');
  const { startSimulator } = require('../../dist/simulator');
  const cluster = {};
  cluster.stop = async () => {
    await cluster.replicas?.stop();
    await cluster.sim?.close();
    await cluster.redis?.stop();
  };
  try {
    cluster.redis = await startRedis();
    cluster.sim = await startSimulator(simulator);
    cluster.replicas = await startReplicas({ ...replicaOptions, env: { ...env(cluster.sim), PBX_REDIS_URL: cluster.redis.url } });
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

module.exports = { startReplicas, startCluster, tagCollectorRequests, ReplicaCollector, REPLICA_HEADER, REPLICA_ENV };
