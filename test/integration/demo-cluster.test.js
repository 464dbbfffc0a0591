'use strict';
// `npm run demo:cluster` as a newcomer gets it: a redis-server, two Node-RED instances with every
// example flow and every pbx-config in cluster mode, the round-robin balancer and the simulator
// sending through it. A scenario's events are emitted exactly once across the two instances,
// both editors answer, and stop leaves no process behind.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startClusterDemo } = require('../../scripts/demo-cluster');
const { freePort } = require('../helpers/node-red-process');
const { PROVIDERS } = require('../../dist/providers');
const { parseWebhookBody, parseForm } = require('../../dist/core/webhook-router');
const { CallTracker } = require('../../dist/core/call-tracker');

const EXAMPLES = fs.readdirSync(path.resolve(__dirname, '../../examples')).filter((f) => f.endsWith('.json'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(predicate, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

/** What one instance alone emits for the simulator's deliveries (each sent once): normalized, then through a call tracker of its own. */
function expectedEvents(provider, deliveries) {
  const tracker = new CallTracker();
  const normalized = deliveries.flatMap((d) => {
    const url = new URL(d.url);
    const rawQuery = url.search.slice(1);
    let body;
    if (d.body !== undefined) {
      const type = d.body.trimStart().startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded';
      body = parseWebhookBody(d.body, type).body;
    }
    return PROVIDERS[provider].normalizeWebhook({
      method: d.method,
      query: parseForm(rawQuery),
      rawQuery,
      body,
      receivedAt: new Date(d.at),
    });
  });
  return normalized.map((e) => tracker.apply(e)).filter((e) => e !== undefined);
}

const keyOf = (e) => JSON.stringify([e.event, e.providerEvent, e.callId, e.legId, e.extension, e.from, e.to]);

describe('integration: the cluster demo', function () {
  this.timeout(90000);
  let demo;
  let baseDir;
  let processes;

  before(async () => {
    baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbx-demo-cluster-'));
    const ports = [await freePort(), await freePort(), await freePort()];
    demo = await startClusterDemo({
      port: ports[0],
      instancePorts: ports.slice(1),
      simPort: 0,
      baseDir,
      scenarioEverySeconds: 0,
      quiet: true,
      observe: true,
    });
    processes = [...demo.instances.map((i) => i.nodeRed)];
    await until(
      () => demo.instances.every((i) => i.logs.some((l) => /Started flows/.test(l))),
      'both instances started their flows',
      60000,
    );
  });
  after(async () => {
    await demo?.stop();
    fs.rmSync(baseDir, { recursive: true, force: true });
  });

  it('both instances answer their editors, with every example and every pbx-config in cluster mode', async () => {
    for (const inst of demo.instances) {
      const editor = await fetch(`http://127.0.0.1:${inst.port}/admin/`);
      assert.equal(editor.status, 200);
      const flows = await (await fetch(`http://127.0.0.1:${inst.port}/admin/flows`)).json();
      // The examples' tabs and the observer's.
      assert.equal(flows.filter((n) => n.type === 'tab').length, EXAMPLES.length + 1);
      const configs = flows.filter((n) => n.type === 'pbx-config');
      assert.deepEqual(configs.map((c) => c.id).sort(), ['pbx-config-3cx-demo', 'pbx-config-cc-demo', 'pbx-config-voipnow-demo']);
      for (const c of configs) {
        assert.equal(c.redisUrl, demo.redis.url, c.id);
        assert.equal(c.keyPrefix, 'demo:', c.id);
      }
    }
  });

  for (const provider of ['3cx-webapi', 'voipnow', 'cloud-callcenter']) {
    it(`${provider}: a scenario through the balancer, replayed to both instances, is emitted exactly once`, async () => {
      const p = demo.sim.provider(provider);
      const sender = p.sender;
      const sentBefore = sender.deliveries.length;
      const observedBefore = demo.observed.length;
      await p.play(p.scenarios()[0]);
      await sender.idle();
      const deliveries = sender.deliveries.slice(sentBefore);
      assert.ok(deliveries.length >= 2, `${deliveries.length} deliveries`);
      assert.deepEqual(
        deliveries.map((d) => d.status),
        deliveries.map(() => 200),
      );
      const expected = expectedEvents(provider, deliveries);
      assert.ok(expected.length >= 2);
      const config = { '3cx-webapi': 'pbx-config-3cx-demo', voipnow: 'pbx-config-voipnow-demo', 'cloud-callcenter': 'pbx-config-cc-demo' }[
        provider
      ];
      // Each delivery again, straight to each instance (a PBX retrying, a balancer failing over): all duplicates.
      for (const d of deliveries) {
        const { pathname, search } = new URL(d.url);
        for (const inst of demo.instances) {
          const type = d.body?.trimStart().startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded';
          const res = await fetch(`http://127.0.0.1:${inst.port}${pathname}${search}`, {
            method: d.method,
            headers: d.body === undefined ? {} : { 'Content-Type': type },
            body: d.body,
          });
          assert.equal(res.status, 200);
        }
      }
      const mine = () => demo.observed.slice(observedBefore).filter((o) => o.config === config);
      await until(() => mine().length >= expected.length, `${expected.length} events observed`);
      // Time for a second emission of any of them to arrive, if there were one.
      await sleep(1000);
      const observed = mine();
      assert.deepEqual(observed.map((o) => keyOf(o.event)).sort(), expected.map(keyOf).sort());
      // Round-robin: the legs landed on both instances, and each emitted its share.
      assert.deepEqual([...new Set(observed.map((o) => o.instance))].sort(), [1, 2]);
    });
  }

  it('logs no warning or error on either instance', () => {
    for (const inst of demo.instances) {
      assert.deepEqual(
        inst.logs.filter((l) => /\[(error|warn)\]/.test(l) && !/unencrypted credentials|Projects disabled/.test(l)),
        [],
      );
    }
  });

  it('stop leaves no process and no port behind', async () => {
    const { redis, proxy } = demo;
    await demo.stop();
    for (const child of processes) assert.ok(child.exitCode !== null || child.signalCode !== null, `Node-RED ${child.pid} ended`);
    for (const url of [
      proxy.url,
      redis.url.replace(/^redis:/, 'http:'),
      ...demo.instances.map((i) => `http://127.0.0.1:${i.port}/admin/`),
    ]) {
      await assert.rejects(fetch(url), undefined, `${url} is closed`);
    }
    demo = undefined;
  });
});
