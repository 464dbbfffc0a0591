'use strict';
// The simulator's outcome scenarios through a real Node-RED, for every provider: pbx-missed opens
// an entry for the missed call of each missed-callback scenario; only the answered callback
// resolves it (as `callback`); lost-hangup leaves its call open in pbx-event's view (no hangup).
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper, load, webhookApp, collect, pbxConfig } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const SECRET = 'hook-secret-outcomes-0123';
const PATH = '/pbx/test-outcomes';
const CALLER = '0555700999';

const PROVIDERS = {
  '3cx-webapi': {
    config: (sim) => ({ provider: '3cx-webapi', baseUrl: `${sim.url}/webapi` }),
    credentials: { accessKey: DEFAULT_CREDENTIALS['3cx-webapi'].accessKey },
  },
  voipnow: {
    config: (sim) => ({ provider: 'voipnow', baseUrl: `${sim.url}/voipnow` }),
    credentials: { clientId: DEFAULT_CREDENTIALS.voipnow.clientId, clientSecret: DEFAULT_CREDENTIALS.voipnow.clientSecret },
  },
  'cloud-callcenter': {
    config: (sim) => ({ provider: 'cloud-callcenter', baseUrl: `${sim.url}/callcenter` }),
    credentials: { appId: DEFAULT_CREDENTIALS['cloud-callcenter'].appId, appKey: DEFAULT_CREDENTIALS['cloud-callcenter'].appKey },
  },
};

describe('simulator outcome scenarios through Node-RED', function () {
  this.timeout(20000);
  let sim;
  let relay;

  beforeEach(async () => {
    sim = await startSimulator({ stepMs: 0, talkMs: 50 });
    relay = http.createServer((req, res) => webhookApp()(req, res));
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise((r) => relay.close(r));
    await sim.close();
  });

  async function start(provider) {
    const p = PROVIDERS[provider];
    sim.setWebhook(provider, `http://127.0.0.1:${relay.address().port}${PATH}/${SECRET}`);
    await load(
      [
        pbxConfig({ name: 'pbx', webhookPath: PATH, ...p.config(sim) }),
        { id: 'pm', type: 'pbx-missed', pbx: 'cfg', keepDays: 7, wires: [['missed'], ['resolved']] },
        { id: 'missed', type: 'helper' },
        { id: 'resolved', type: 'helper' },
        { id: 'ev', type: 'pbx-event', pbx: 'cfg', events: ['answered', 'hangup'], wires: [['events']] },
        { id: 'events', type: 'helper' },
      ],
      { cfg: { ...p.credentials, webhookSecret: SECRET } },
    );
  }

  /** pbx-missed's open entries, by `list`. */
  async function openEntries() {
    const answer = collect('missed', 1);
    helper.getNode('pm').receive({ topic: 'list' });
    const [listed] = await answer;
    return listed.payload;
  }

  for (const provider of Object.keys(PROVIDERS)) {
    describe(provider, () => {
      it('missed-callback-answered: the missed call opens an entry, the answered callback resolves it as callback', async () => {
        await start(provider);
        const missed = collect('missed', 1);
        const resolved = collect('resolved', 1, 8000);
        const { callId } = await sim.provider(provider).play('missed-callback-answered', { caller: CALLER });
        const [[m], [r]] = await Promise.all([missed, resolved]);
        assert.equal(m.payload.caller, CALLER);
        assert.equal(m.payload.count, 1);
        assert.equal(r.payload.caller, CALLER);
        assert.equal(r.payload.resolvedBy, 'callback');
        assert.equal(r.payload.callId, callId, 'resolved by the callback call');
        assert.deepEqual(await openEntries(), []);
      });

      for (const name of ['missed-callback-unanswered', 'missed-callback-busy']) {
        it(`${name}: the entry stays open after the callback ended`, async () => {
          await start(provider);
          const missed = collect('missed', 1);
          const resolved = [];
          helper.getNode('resolved').on('input', (msg) => resolved.push(msg));
          // Every hangup: the missed call's and the callback's.
          const hangups = collect('events', 2, 8000);
          const { callId } = await sim.provider(provider).play(name, { caller: CALLER });
          const [m] = await missed;
          const ended = (await hangups).map((msg) => msg.payload);
          assert.deepEqual(
            ended.map((e) => e.event),
            ['hangup', 'hangup'],
          );
          assert.equal(ended[1].callId, callId);
          assert.notEqual(ended[1].outcome, 'answered');
          if (provider === 'voipnow') assert.equal(ended[1].outcome, name === 'missed-callback-busy' ? 'busy' : 'missed');
          const open = await openEntries();
          assert.deepEqual(open, [m.payload]);
          assert.deepEqual(resolved, []);
        });
      }

      it('lost-hangup: the call is answered and never hung up in Node-RED, and the simulator no longer lists it', async () => {
        await start(provider);
        const answered = collect('events', 1);
        const { callId } = await sim.provider(provider).play('lost-hangup', { caller: CALLER });
        const [a] = await answered;
        assert.equal(a.payload.event, 'answered');
        assert.equal(a.payload.callId, callId);
        await sim.provider(provider).sender.idle();
        assert.deepEqual(sim.provider(provider).state().calls, []);
        const later = [];
        helper.getNode('events').on('input', (msg) => later.push(msg));
        // A scenario after it: its events arrive; none for the lost call.
        const next = collect('events', 1);
        await sim.provider(provider).play('missed-callback-unanswered', { caller: '0555700998' });
        await next;
        assert.ok(later.every((msg) => msg.payload.callId !== callId));
      });
    });
  }
});
