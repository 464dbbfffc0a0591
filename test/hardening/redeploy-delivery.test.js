'use strict';
// Webhooks keep arriving while the flows are redeployed, in a real Node-RED process: every
// delivery answered 200 is emitted exactly once; a delivery that could not be taken is answered
// 503 (and sent again by the sender, as a PBX does); a re-delivery after the redeploys is
// recognized as a duplicate, because an unchanged config node keeps its duplicate filter.
// What pbx-event emits is recorded in global context by the function node wired to it, with
// `runtimeSyncDelivery` so that it receives each message as pbx-event sends it: under Node-RED's
// default asynchronous delivery, a message already sent but not yet received when a deploy
// begins is dropped by Node-RED itself, for any node (Node.close removes the input listeners).
const assert = require('node:assert/strict');
const http = require('node:http');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { fn } = require('../helpers/flows');
const { distinctiveSecrets, startSecretSimulator } = require('../helpers/hardening');

const secrets = distinctiveSecrets('REDEPLOY');
const REDEPLOYS = 30;
const SENDERS = 4;
/** Per sender: a bound on requests, so the load stops by itself whatever happens. */
const MAX_REQUESTS_PER_SENDER = 3000;
const RETRY_DELAY_MS = 50;
const MAX_ATTEMPTS = 40;

const agent = new http.Agent({ keepAlive: true, maxSockets: SENDERS });

function post(url, body) {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.end(JSON.stringify(body));
  });
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));
const ringing = (n) => ({
  Event: 'ringing',
  Id: `261129${String(n).padStart(6, '0')}_7-1`,
  User: '202',
  Usertype: 'ext',
  Callerid: '0555123',
});

describe('hardening: webhooks during redeploys of a real Node-RED process', function () {
  this.timeout(180000);
  let nr;
  let sim;

  const z = 'tab-rd';
  const flows = (i) => [
    { id: z, type: 'tab', label: `redeploy ${i}` },
    {
      id: 'cfg-rd',
      type: 'pbx-config',
      name: `redeploy ${i}`,
      provider: '3cx-webapi',
      baseUrl: `${sim.url}/webapi`,
      webhookPath: '/pbx/rd',
      // Every third deploy changes a setting: the config node gets a new account that inherits
      // the old one's duplicates and calls. The others restart it unchanged.
      timeout: 1000 + 100 * Math.floor(i / 3),
      credentials: { accessKey: secrets['3cx-webapi'].accessKey, webhookSecret: secrets['3cx-webapi'].webhookSecret },
    },
    { id: 'ev-rd', type: 'pbx-event', z, x: 100, y: 40, pbx: 'cfg-rd', events: [], direction: 'any', outputs: 1, wires: [['rec-rd']] },
    {
      ...fn('rec-rd', "const seen = global.get('seen') || []; seen.push(msg.payload.legId); global.set('seen', seen); return null;", [], z),
      x: 300,
      y: 40,
    },
    {
      id: 'seen-in',
      type: 'http in',
      z,
      x: 100,
      y: 100,
      url: '/h/seen',
      method: 'get',
      upload: false,
      swaggerDoc: '',
      wires: [['seen-fn']],
    },
    { ...fn('seen-fn', "msg.payload = global.get('seen') || []; return msg;", ['seen-res'], z), x: 300, y: 100 },
    { id: 'seen-res', type: 'http response', z, x: 500, y: 100, statusCode: '', headers: {}, wires: [] },
    {
      id: 'cfg-vn',
      type: 'pbx-config',
      name: `voipnow ${i}`,
      provider: 'voipnow',
      baseUrl: `${sim.url}/voipnow`,
      webhookPath: '/pbx/rd-vn',
      timeout: i >= 200 ? 2500 : 2000,
      credentials: { clientId: secrets.voipnow.clientId, clientSecret: secrets.voipnow.clientSecret },
    },
    {
      id: 'vn-in',
      type: 'http in',
      z,
      x: 100,
      y: 160,
      url: '/h/vn-state',
      method: 'get',
      upload: false,
      swaggerDoc: '',
      wires: [['vn-st']],
    },
    {
      id: 'vn-st',
      type: 'pbx-status',
      z,
      x: 300,
      y: 160,
      pbx: 'cfg-vn',
      query: 'extension-state',
      extension: '0003*201',
      extensionType: 'str',
      wires: [['vn-res']],
    },
    { id: 'vn-res', type: 'http response', z, x: 500, y: 160, statusCode: '', headers: {}, wires: [] },
  ];
  const emitted = async () => (await fetch(`${nr.url}/h/seen`)).json();

  before(async () => {
    sim = await startSecretSimulator(secrets);
    nr = await new NodeRedProcess({ adminRoot: '/admin', settings: { runtimeSyncDelivery: true } }).start();
    await nr.deploy(flows(0));
  });

  after(async () => {
    agent.destroy();
    await nr?.stop();
    nr?.cleanup();
    await sim?.close();
  });

  it(`${REDEPLOYS} full redeploys under webhook load: each delivery answered 200 is emitted once, none is lost; re-deliveries stay duplicates`, async function () {
    const url = `${nr.url}/pbx/rd/${secrets['3cx-webapi'].webhookSecret}`;
    const accepted = [];
    const statuses = {};
    let next = 0;
    let deploying = true;

    const sender = async () => {
      for (let sent = 0; sent < MAX_REQUESTS_PER_SENDER && deploying; sent++) {
        const body = ringing(next++);
        for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
          const status = await post(url, body);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 200) {
            accepted.push(body.Id);
            break;
          }
          assert.ok(status === 503, `only 200 or 503 while redeploying, got ${status}`);
          await wait(RETRY_DELAY_MS);
        }
      }
    };

    const load = Promise.all(Array.from({ length: SENDERS }, sender));
    for (let i = 1; i <= REDEPLOYS; i++) {
      await nr.deploy(flows(i));
      await wait(20);
    }
    deploying = false;
    await load;

    await wait(500);
    const seen = await emitted();
    const counts = new Map();
    for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
    const lost = accepted.filter((id) => !counts.has(id));
    const repeated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    assert.deepEqual(lost, [], `${lost.length} of ${accepted.length} deliveries answered 200 were never emitted`);
    assert.deepEqual(repeated, [], 'emitted more than once');

    // The same payloads delivered again after all the redeploys: answered 200, emitted by none.
    for (let n = 0; n < 50; n++) assert.equal(await post(url, ringing(n)), 200);
    await wait(500);
    assert.equal((await emitted()).length, seen.length, 're-deliveries after redeploys are duplicates');
    this.test.title += ` [${accepted.length} accepted, statuses ${JSON.stringify(statuses)}]`;
  });

  it('an unchanged config node keeps its token across redeploys; a changed one asks for a new one', async () => {
    const state = async () => {
      const res = await fetch(`${nr.url}/h/vn-state`);
      assert.equal(res.status, 200, await res.clone().text());
      return res.json();
    };
    const voipnow = sim.provider('voipnow');
    await nr.deploy(flows(100));
    assert.equal((await state()).extension, '0003*201');
    const tokens = voipnow.tokenRequests;
    for (let i = 0; i < 5; i++) {
      await nr.deploy(flows(100));
      await state();
    }
    assert.equal(voipnow.tokenRequests, tokens, 'five unchanged redeploys, no new token');
    await nr.deploy(flows(103)); // the 3CX config changes; the VoipNow one does not
    await state();
    assert.equal(voipnow.tokenRequests, tokens);
    await nr.deploy(flows(200)); // the VoipNow config's timeout changes: a new account, a new token
    await state();
    assert.equal(voipnow.tokenRequests, tokens + 1);
  });
});
