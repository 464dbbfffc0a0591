'use strict';
// `npm run demo` as a newcomer gets it: Node-RED with the package, the simulator and every
// example flow deployed; a click-to-call rings through and its events come back as webhooks.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startDemo } = require('../../scripts/demo');
const { freePort } = require('../helpers/node-red-process');

describe('integration: the demo', function () {
  this.timeout(90000);
  let demo;
  let userDir;

  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbx-demo-'));
    demo = await startDemo({ port: await freePort(), simPort: 0, userDir, scenarioEverySeconds: 0, queueCallsPerMinute: 120, quiet: true });
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline && !demo.logs.some((l) => /Started flows/.test(l))) await new Promise((r) => setTimeout(r, 200));
  });
  after(async () => {
    await demo?.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('deploys every example flow without errors', async () => {
    const res = await fetch(`http://127.0.0.1:${demo.port}/admin/flows`);
    const flows = await res.json();
    const examples = fs.readdirSync(path.resolve(__dirname, '../../examples')).filter((f) => f.endsWith('.json'));
    assert.equal(flows.filter((n) => n.type === 'tab').length, examples.length);
    for (const type of ['pbx-event', 'pbx-call', 'pbx-status', 'pbx-queue'])
      assert.ok(
        flows.some((n) => n.type === type),
        type,
      );
  });

  it('places a click-to-call and receives its call events back', async () => {
    const page = await fetch(`http://127.0.0.1:${demo.port}/click-to-call`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<form/);
    const res = await fetch(`http://127.0.0.1:${demo.port}/click-to-call`, {
      method: 'POST',
      body: new URLSearchParams({ extension: '117', destination: '0555123456' }),
    });
    const answer = await res.json();
    assert.equal(res.status, 200, JSON.stringify(answer));
    assert.equal(answer.ok, true);
    const sender = demo.sim.provider('3cx-webapi').sender;
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline && sender.deliveries.length < 2) await new Promise((r) => setTimeout(r, 100));
    assert.ok(sender.deliveries.length >= 2, 'webhooks were sent');
    assert.ok(
      sender.deliveries.every((d) => d.status === 200),
      JSON.stringify(sender.deliveries),
    );
  });

  it('serves the queue wallboard, whose figures move as the queue load plays calls', async () => {
    const page = await fetch(`http://127.0.0.1:${demo.port}/queue-wallboard`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /ws\/queue-wallboard/);
    // Node-RED's own websocket library (Node.js 20 has no WebSocket client of its own).
    const WebSocket = require(require.resolve('ws', { paths: [path.dirname(require.resolve('node-red/package.json'))] }));
    const socket = new WebSocket(`ws://127.0.0.1:${demo.port}/ws/queue-wallboard`);
    const offered = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no queue figures with a call within 30 s')), 30000);
      socket.on('message', (data) => {
        const figures = JSON.parse(String(data));
        if (figures.offered > 0) {
          clearTimeout(timer);
          resolve(figures.offered);
        }
      });
      socket.on('error', reject);
    }).finally(() => socket.close());
    assert.ok(offered >= 1);
  });

  it('logs no warning or error while the flows run (watch polls, once-injects included)', async () => {
    await new Promise((r) => setTimeout(r, 4000));
    assert.deepEqual(
      demo.logs.filter((l) => /\[(error|warn)\]/.test(l) && !/unencrypted credentials|Projects disabled/.test(l)),
      [],
    );
  });
});
