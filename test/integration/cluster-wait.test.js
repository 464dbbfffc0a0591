'use strict';
// pbx-call `wait` in cluster mode (SPEC sections 8 and 9) with real parts: a redis-server of the
// test's own, two Node-RED processes with the same flows. The call is placed on instance 0 while
// every webhook of the provider goes to instance 1 only, so instance 0 sees none of the call's
// events: it must learn the outcome from the shared state (and, for a call matched by numbers,
// from the dial instance 1 shares).
const assert = require('node:assert/strict');
const { startCluster } = require('../helpers/replicas');
const { actionEndpoint, laidOut } = require('../helpers/flows');
const { DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const SECRET = 'cluster-wait-secret-5e1f0a9c';
const PROVIDERS = {
  '3cx-webapi': { base: '/webapi', extension: '117', number: (s) => `0555123${s}`, makecall: '/makecall' },
  voipnow: { base: '/voipnow', extension: '0003*210', number: (s) => `0555123${s}`, makecall: '/uapi/phoneCalls/@me/simple' },
  'cloud-callcenter': { base: '/callcenter', extension: '90240001', number: (s) => `1380013${s}`, makecall: '' },
};
const PROVIDER_IDS = Object.keys(PROVIDERS);
const variableOf = (provider) => `PBX_SIM_${provider.replace(/[^a-z]/g, '_').toUpperCase()}`;
const hookPath = (provider) => `/pbx/wait-${provider}`;

/** Per provider: a cluster config and `POST /it/<provider>/call` → pbx-call (wait 20 s) → the answer. */
function waitFlows() {
  const z = 'tab-wait';
  const nodes = [{ id: z, type: 'tab', label: 'wait' }];
  for (const provider of PROVIDER_IDS) {
    const cfg = `cfg-${provider}`;
    nodes.push(
      {
        id: cfg,
        type: 'pbx-config',
        name: `wait ${provider}`,
        provider,
        baseUrl: `\${${variableOf(provider)}}`,
        webhookPath: hookPath(provider),
        timeout: 3000,
        rejectUnauthorized: true,
        allowFrom: '',
        redisUrl: '${PBX_REDIS_URL}',
        keyPrefix: 'wait:',
        redisDown: 'local',
        credentials: { ...DEFAULT_CREDENTIALS[provider], webhookSecret: SECRET },
      },
      ...actionEndpoint({
        name: provider,
        url: `/it/${provider}/call`,
        action: { id: `call-${provider}`, type: 'pbx-call', pbx: cfg, operation: '', wait: 20 },
        z,
      }),
    );
  }
  return laidOut(nodes);
}

describe('integration: pbx-call wait in cluster mode, the call events on the other instance', function () {
  this.timeout(60000);
  let cluster;
  let sim;
  let replicas;

  before(async function () {
    this.timeout(20 * 60 * 1000); // a first run may install redis-server with apt-get
    cluster = await startCluster({
      simulator: { stepMs: 20, talkMs: 300 },
      env: (s) => Object.fromEntries(PROVIDER_IDS.map((p) => [variableOf(p), `${s.url}${PROVIDERS[p].base}`])),
      count: 2,
      flows: waitFlows,
    });
    ({ sim, replicas } = cluster);
    // Every webhook to instance 1; the calls are placed on instance 0.
    for (const provider of PROVIDER_IDS) sim.setWebhook(provider, replicas.directUrl(1, `${hookPath(provider)}/${SECRET}`), 'post');
  });

  after(() => cluster?.stop());

  const makecalls = (provider) =>
    provider === 'cloud-callcenter'
      ? sim.received(provider).filter((r) => r.body.includes('App.Sip_Call.MakeCall'))
      : sim.received(provider, PROVIDERS[provider].makecall);

  async function placeOnInstance0(provider, destination) {
    const res = await fetch(replicas.directUrl(0, `/it/${provider}/call`), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ operation: 'makecall', params: { extension: PROVIDERS[provider].extension, destination } }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()).payload;
  }

  for (const provider of PROVIDER_IDS) {
    it(`${provider}: answered and missed, learned from the shared state; one makecall each`, async () => {
      const before = makecalls(provider).length;
      const deliveredBefore = sim.provider(provider).sender.deliveries.length;
      const answered = await placeOnInstance0(provider, PROVIDERS[provider].number('1122'));
      assert.equal(answered.outcome, 'answered');
      assert.equal(answered.call.outcome, 'answered');
      assert.ok(answered.call.answeredAt);
      // The call center refuses a call from an extension still in one: let the answered call end first.
      for (let i = 0; i < 200 && sim.provider(provider).state().calls.length > 0; i++) await new Promise((r) => setTimeout(r, 25));
      const missed = await placeOnInstance0(provider, PROVIDERS[provider].number('0000'));
      assert.equal(missed.outcome, 'missed');
      assert.ok(missed.call.endedAt);
      assert.equal(makecalls(provider).length - before, 2, 'one makecall per input');
      await sim.provider(provider).sender.idle();
      const deliveries = sim.provider(provider).sender.deliveries.slice(deliveredBefore);
      assert.ok(deliveries.length >= 3);
      assert.ok(
        deliveries.every((d) => d.url.startsWith(replicas.directUrl(1, '/'))),
        'every webhook went to instance 1',
      );
    });
  }
});
