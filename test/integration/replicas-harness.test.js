'use strict';
// The multi-replica harness (test/helpers/replicas.js): two real Node-RED processes with the same
// flows behind the round-robin proxy, the simulator sending 3CX webhooks through the proxy, and a
// collector that knows which instance emitted each event.
const assert = require('node:assert/strict');
const { startReplicas } = require('../helpers/replicas');
const { integrationFlows } = require('../helpers/flows');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const SECRET = 'replicas-webhook-secret-5c1d93ab27';
const PATH = '/pbx/replicas-3cx';
const DELIVERIES = 6;

// Without cluster mode each instance has its own duplicate filter: a delivery replayed to the
// other instance is emitted again there. Cluster mode (SPEC section 8, issue 13) makes it 1.
const EXPECTED_EMISSIONS_PER_DELIVERY = 2;

const ringing = (n) => ({ Event: 'ringing', Id: `2611290${n}0000_4-1`, User: '202', Usertype: 'ext', Callerid: `055512300${n}` });
const settle = () => new Promise((r) => setTimeout(r, 300));

describe('integration: two Node-RED replicas behind the round-robin proxy', function () {
  this.timeout(90000);
  let sim;
  let replicas;

  before(async () => {
    sim = await startSimulator({ stepMs: 15, talkMs: 300 });
    replicas = await startReplicas({
      count: 2,
      // The config node reads the simulator's URL from the environment, as `${ENV_VAR}` works in Node-RED.
      env: { PBX_REPLICAS_SIM: `${sim.url}/webapi` },
      flows: ({ collectorUrl }) =>
        integrationFlows({
          collector: collectorUrl,
          config: {
            name: 'replicas 3cx',
            provider: '3cx-webapi',
            baseUrl: '${PBX_REPLICAS_SIM}',
            webhookPath: PATH,
            timeout: 1500,
            rejectUnauthorized: true,
            allowFrom: '',
            credentials: { accessKey: DEFAULT_CREDENTIALS['3cx-webapi'].accessKey, webhookSecret: SECRET },
          },
        }),
    });
    sim.setWebhook('3cx-webapi', replicas.webhookUrl(`${PATH}/${SECRET}`), 'post');
  });

  after(async () => {
    await replicas?.stop();
    await sim?.close();
  });

  it('both instances run the deployed flows: actions through the proxy reach the simulator from each', async () => {
    const before = sim.received('3cx-webapi').length;
    const answers = [];
    for (let k = 0; k < 2; k++) {
      const res = await fetch(replicas.webhookUrl('/it/status'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ query: 'extension-state', params: { extension: '117' } }),
      });
      answers.push({ status: res.status, extension: (await res.json()).payload.extension });
    }
    assert.deepEqual(answers, Array(2).fill({ status: 200, extension: '117' }));
    assert.equal(sim.received('3cx-webapi').length - before, 2, 'one WebAPI request per action');
    assert.deepEqual(Object.values(replicas.proxy.stats.byTarget), [1, 1]);
  });

  it(`${DELIVERIES} webhooks through the proxy alternate between the instances; each is emitted once; a replay to the other instance is emitted there too (until cluster mode)`, async () => {
    const { sender } = sim.provider('3cx-webapi');
    const statuses = [];
    for (let n = 0; n < DELIVERIES; n++) statuses.push(await sender.send(ringing(n)));
    assert.deepEqual(statuses, Array(DELIVERIES).fill(200));

    const ids = Array.from({ length: DELIVERIES }, (_, n) => ringing(n).Id);
    const events = await replicas.waitFor('/events', DELIVERIES);
    await settle();
    const emitted = replicas.collected('/events');
    assert.deepEqual(emitted.map((m) => m.body.raw.Id).sort(), [...ids].sort(), 'each delivery emitted once in total');
    const emitter = new Map(events.map((m) => [m.body.raw.Id, m.instance]));
    assert.deepEqual(
      ids.map((id) => emitter.get(id)),
      [0, 1, 0, 1, 0, 1],
      'the proxy hands the deliveries to instance 0, 1, 0, 1, ...',
    );
    assert.deepEqual(Object.values(replicas.proxy.stats.byTarget), [1 + 3, 1 + 3]);

    // The same deliveries (as the simulator sent them) replayed straight to the other instance.
    const sent = sender.deliveries.slice(-DELIVERIES);
    assert.deepEqual(
      sent.map((d) => JSON.parse(d.body).Id),
      ids,
    );
    for (const d of sent) {
      const other = 1 - emitter.get(JSON.parse(d.body).Id);
      const res = await fetch(replicas.directUrl(other, `${PATH}/${SECRET}`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: d.body,
      });
      assert.equal(res.status, 200);
    }
    await replicas.waitFor('/events', DELIVERIES * EXPECTED_EMISSIONS_PER_DELIVERY);
    await settle();
    const counts = {};
    for (const m of replicas.collected('/events')) counts[m.body.raw.Id] = (counts[m.body.raw.Id] ?? 0) + 1;
    assert.deepEqual(counts, Object.fromEntries(ids.map((id) => [id, EXPECTED_EMISSIONS_PER_DELIVERY])));
    if (EXPECTED_EMISSIONS_PER_DELIVERY === 2) {
      const byInstance = (id) =>
        replicas
          .collected('/events', (b) => b.raw.Id === id)
          .map((m) => m.instance)
          .sort();
      for (const id of ids) assert.deepEqual(byInstance(id), [0, 1], `${id}: once on each instance`);
    }
  });

  it('a killed instance is skipped by the proxy, and restarts with the deployed flows', async () => {
    await replicas.killInstance(1);
    const before = replicas.collected('/events').length;
    for (const n of [7, 8]) {
      const res = await fetch(replicas.webhookUrl(`${PATH}/${SECRET}`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(ringing(n)),
      });
      assert.equal(res.status, 200);
    }
    const after = await replicas.waitFor('/events', before + 2);
    assert.deepEqual(
      after.slice(before).map((m) => m.instance),
      [0, 0],
    );
    await replicas.restartInstance(1);
    const late = ringing(9);
    const res = await fetch(replicas.directUrl(1, `${PATH}/${SECRET}`), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(late),
    });
    assert.equal(res.status, 200);
    const [restarted] = await replicas.waitFor('/events', 1, { filter: (b) => b.raw.Id === late.Id });
    assert.equal(restarted.instance, 1);

    // The proxy now targets the restarted instance's new port: two deliveries, one each.
    for (const n of [10, 11]) assert.equal(await sim.provider('3cx-webapi').sender.send(ringing(n)), 200);
    const both = await replicas.waitFor('/events', 2, { filter: (b) => [ringing(10).Id, ringing(11).Id].includes(b.raw.Id) });
    assert.deepEqual(both.map((m) => m.instance).sort(), [0, 1]);
  });
});
