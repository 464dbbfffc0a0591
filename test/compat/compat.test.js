'use strict';
// The packed package in the newest Node-RED 3.1.x, 4.x and 5.x (5.x on Node.js 22, from the npm
// registry's `node` package): every node type registers without error, and the call-events
// example deploys and emits an event played by the simulator. Installs are cached in .test-cache/.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { Collector } = require('../helpers/collector');
const { resolveNodeRedVersions, installNodeRed, nodeBinary, requiredNodeMajor } = require('../helpers/node-red-versions');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const LINES = ['3.1', '4', '5'];
const TYPES = ['pbx-call', 'pbx-config', 'pbx-event', 'pbx-missed', 'pbx-queue', 'pbx-stats', 'pbx-status'];
const EXAMPLE = path.resolve(__dirname, '../../examples/3cx-call-events.json');
const SECRET = 'compat-webhook-secret-0123456789';

let versions;
let resolveError;
try {
  versions = resolveNodeRedVersions(LINES);
} catch (err) {
  resolveError = err;
}

/**
 * The example on one tab, its config pointed at the simulator, and every output of its pbx-event
 * nodes also posted to the collector.
 */
function exampleFlow(simUrl, collectorUrl) {
  const tab = 'compat-tab';
  const nodes = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
  const out = [{ id: tab, type: 'tab', label: 'compat' }];
  for (const node of nodes) {
    if (node.type === 'pbx-config') {
      out.push({
        ...node,
        baseUrl: `${simUrl}/webapi`,
        credentials: { accessKey: DEFAULT_CREDENTIALS['3cx-webapi'].accessKey, webhookSecret: SECRET },
      });
    } else if (node.type === 'pbx-event') {
      out.push({ ...node, z: tab, wires: node.wires.map((w) => [...w, 'compat-wrap']) });
    } else {
      out.push({ ...node, z: tab });
    }
  }
  out.push(
    {
      id: 'compat-wrap',
      type: 'function',
      z: tab,
      name: '',
      func: 'msg.payload = { topic: msg.topic, payload: msg.payload }; return msg;',
      outputs: 1,
      x: 600,
      y: 400,
      wires: [['compat-post']],
    },
    {
      id: 'compat-post',
      type: 'http request',
      z: tab,
      name: '',
      method: 'POST',
      ret: 'txt',
      paytoqs: 'ignore',
      url: `${collectorUrl}/events`,
      x: 800,
      y: 400,
      wires: [],
    },
  );
  return out;
}

describe('compatibility: Node-RED 3.1.x, 4.x, 5.x', function () {
  if (resolveError) {
    it('resolves the Node-RED versions to test', () => {
      throw resolveError;
    });
    return;
  }

  LINES.forEach((line, i) => {
    const version = versions[i];

    describe(`Node-RED ${version}`, function () {
      this.timeout(60000);
      let nr;
      let sim;
      let collector;
      let config;

      before(async function () {
        // A first run installs Node-RED (and maybe Node.js) from the registry; later runs reuse .test-cache.
        this.timeout(6 * 60 * 1000);
        const nodeRedDir = installNodeRed(version);
        const binary = nodeBinary(Math.max(requiredNodeMajor(nodeRedDir), Number(process.versions.node.split('.')[0])));
        collector = await new Collector().start();
        sim = await startSimulator({ stepMs: 15, talkMs: 200 });
        nr = await new NodeRedProcess({ adminRoot: '/admin', nodeRedDir, nodeBinary: binary }).start();
      });

      after(async () => {
        await nr?.stop();
        nr?.cleanup();
        await sim?.close();
        await collector?.close();
      });

      it('registers every node type with no error', async () => {
        const sets = await nr.nodeTypes();
        const ours = sets.filter((s) => s.module === '@callflow/node-red-pbx');
        assert.deepEqual(ours.flatMap((s) => s.types).sort(), TYPES);
        assert.ok(
          ours.every((s) => s.enabled && !s.err),
          JSON.stringify(ours),
        );
        const running = await (await fetch(nr.adminUrl('/settings'))).json();
        assert.equal(running.version, version);
        assert.deepEqual(
          nr.logs.filter((l) => /\[(error|warn)\]/.test(l) && /pbx/i.test(l)),
          [],
        );
      });

      it('deploys the call-events example and emits the documented events of a call the simulator played', async () => {
        const flows = exampleFlow(sim.url, collector.url);
        config = flows.find((n) => n.type === 'pbx-config');
        await nr.deploy(flows);
        sim.setWebhook('3cx-webapi', `${nr.url}${config.webhookPath}/${SECRET}`, 'post');
        const { callId } = await sim.provider('3cx-webapi').play('incoming-answered');
        // Both pbx-event nodes of the example emit each of the six events of the vendor document's
        // "Incoming successful call": IVR 800, queue 820 and extension 202 ring, 202 answers,
        // hangs up, and the recording is ready.
        const events = await collector.waitFor('/events', 12, { timeoutMs: 15000 });
        assert.deepEqual(events.map((m) => `${m.topic} ${m.payload.extension}`).sort(), [
          ...Array(2).fill('answered 202'),
          ...Array(2).fill('hangup 202'),
          ...Array(2).fill('recording 202'),
          ...Array(2).fill('ringing 202'),
          ...Array(2).fill('ringing 800'),
          ...Array(2).fill('ringing 820'),
        ]);
        const ringingTypes = { 800: 'ivr', 820: 'queue', 202: 'extension' };
        for (const m of events) {
          assert.equal(m.payload.provider, '3cx-webapi');
          assert.equal(m.payload.callId, callId);
          assert.equal(m.payload.event, m.topic);
          if (m.topic === 'ringing') assert.equal(m.payload.extensionType, ringingTypes[m.payload.extension]);
        }
        assert.deepEqual(
          nr.logs.filter((l) => /\[error\]/.test(l)),
          [],
        );
      });
    });
  });
});
