'use strict';
// pbx-event filters in a real Node-RED runtime, fed by the 3CX scenarios the simulator plays as
// the vendor documents them: the extension filter on the event's own extension or on any hop of
// the call's route ("rang at"), and the direction filter a missed-call follow-up needs.
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper, load, webhookApp, collect, pbxConfig } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;
const SECRET = 'hook-secret-filter-0123';
const PATH = '/pbx/test-filter';

/** A pbx-event node `id` on config `cfg` with `props`, wired to a helper node `<id>-out`. */
function eventNode(id, props) {
  return [
    { id, type: 'pbx-event', pbx: 'cfg', events: [], extension: '', direction: 'any', outputs: 1, wires: [[`${id}-out`]], ...props },
    { id: `${id}-out`, type: 'helper' },
  ];
}

/** Every message helper `id` has received since the flow was loaded. */
function received(id) {
  const got = [];
  helper.getNode(id).on('input', (msg) => got.push(msg));
  return got;
}

const summary = (msgs) => msgs.map((m) => `${m.payload.event}:${m.payload.extension}:${m.payload.outcome ?? ''}`);

describe('pbx-event filters on 3CX scenarios', function () {
  this.timeout(15000);
  let sim;
  let relay;

  beforeEach(async () => {
    sim = await startSimulator({ stepMs: 0 });
    relay = http.createServer((req, res) => webhookApp()(req, res));
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
    sim.setWebhook('3cx-webapi', `http://127.0.0.1:${relay.address().port}${PATH}/${SECRET}`);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise((r) => relay.close(r));
    await sim.close();
  });

  /** Loads a config and the given pbx-event nodes (plus `all`, which passes everything). */
  async function loadEvents(nodes) {
    await load(
      [
        pbxConfig({ provider: '3cx-webapi', baseUrl: `${sim.url}/webapi`, webhookPath: PATH }),
        ...eventNode('all', {}),
        ...Object.entries(nodes).flatMap(([id, props]) => eventNode(id, props)),
      ],
      { cfg: { accessKey: KEY, webhookSecret: SECRET } },
    );
    return Object.fromEntries(Object.keys(nodes).map((id) => [id, received(`${id}-out`)]));
  }

  /** Plays `scenario` and resolves with the `count` messages every event reaches. */
  async function play(scenario, count) {
    const all = collect('all-out', count, 8000);
    await sim.provider('3cx-webapi').play(scenario);
    return all;
  }

  it('a ring-all call that rang 117 and was missed on 204 passes "rang at 117", not "event at 117"', async () => {
    const got = await loadEvents({
      rangAt: { events: ['hangup'], extension: '117', extensionMatch: 'route' },
      eventAt: { events: ['hangup'], extension: '117', extensionMatch: 'event' },
      legacy: { events: ['hangup'], extension: '117' },
      rangAtOther: { events: ['hangup'], extension: '999', extensionMatch: 'route' },
    });
    const all = await play('ringgroup-ringall-missed', 4);
    assert.deepEqual(summary(all), ['ringing:800:', 'ringing:117:', 'ringing:204:', 'hangup:204:missed']);
    assert.deepEqual(summary(got.rangAt), ['hangup:204:missed']);
    assert.deepEqual(
      got.rangAt[0].payload.call.route.map((h) => h.extension),
      ['800', '117', '204'],
    );
    assert.deepEqual(got.eventAt, [], 'the event is about 204');
    assert.deepEqual(got.legacy, [], 'a node saved before extensionMatch existed matches the event, as it did');
    assert.deepEqual(got.rangAtOther, []);
  });

  it('"rang at" on ringing events: the event at the extension and every later one of the call, not the earlier ones', async () => {
    const got = await loadEvents({ rangAt: { events: ['ringing'], extension: '117', extensionMatch: 'route' } });
    await play('ringgroup-ringall-missed', 4);
    assert.deepEqual(summary(got.rangAt), ['ringing:117:', 'ringing:204:']);
  });

  it('"rang at" matches the IVR or queue a call went through', async () => {
    const got = await loadEvents({ viaIvr: { events: ['hangup'], extension: '800', extensionMatch: 'route' } });
    await play('incoming-missed', 4);
    await play('outgoing-unanswered', 2);
    assert.deepEqual(summary(got.viaIvr), ['hangup:820:missed'], 'the queue 820 dropped the call it took from IVR 800');
  });

  it('an unanswered outbound call is missed too, from the extension itself: direction inbound keeps it out', async () => {
    const got = await loadEvents({
      anyMissed: { events: ['hangup'] },
      inboundMissed: { events: ['hangup'], direction: 'inbound' },
      inboundRangAt117: { events: ['hangup'], direction: 'inbound', extension: '117', extensionMatch: 'route' },
    });
    const outbound = await play('outgoing-unanswered', 2);
    const outboundHangup = outbound.find((m) => m.payload.event === 'hangup');
    assert.equal(outboundHangup.payload.outcome, 'missed');
    assert.equal(outboundHangup.payload.direction, 'outbound');
    assert.equal(outboundHangup.payload.from, '117', 'calling "from" back would ring 117 from itself');
    await play('ringgroup-ringall-missed', 4);
    assert.deepEqual(summary(got.anyMissed), ['hangup:117:missed', 'hangup:204:missed']);
    assert.deepEqual(summary(got.inboundMissed), ['hangup:204:missed']);
    assert.equal(got.inboundMissed[0].payload.from, '05551239988', 'the caller, to call back');
    assert.deepEqual(summary(got.inboundRangAt117), ['hangup:204:missed'], 'the outbound call from 117 is not in');
  });

  it("the missed-call example's pbx-event node lets through the missed inbound call, not the unanswered outbound one", async () => {
    const example = require('../../examples/3cx-missed-call-follow-up.json');
    const [events] = example.filter((n) => n.type === 'pbx-event');
    const { events: types, extension, extensionMatch, direction } = events;
    const got = await loadEvents({ example: { events: types, extension, extensionMatch, direction } });
    await play('outgoing-unanswered', 2);
    await play('ringgroup-ringall-missed', 4);
    await play('incoming-missed', 4);
    assert.deepEqual(summary(got.example), ['hangup:204:missed', 'hangup:820:missed']);
    assert.ok(got.example.every((m) => m.payload.direction === 'inbound' && m.payload.from === '05551239988'));
  });
});

describe('"rang at" on a call whose route is cut to MAX_ROUTE_HOPS', () => {
  const { CallTracker, MAX_ROUTE_HOPS } = require('../../dist/core/call-tracker');
  const { filterOf, passes } = require('../../dist/nodes/pbx-event');

  const at = (i) => new Date(Date.UTC(2026, 0, 1, 8, 0, i)).toISOString();
  const event = (i, name, extension, extra = {}) => ({
    event: name,
    provider: '3cx-webapi',
    providerEvent: name,
    callId: 'long-1',
    direction: 'inbound',
    extension,
    timestamp: at(i),
    ...extra,
  });

  it('keeps the first and newest hops: an extension that rang first still matches, one cut from the middle does not', () => {
    const tracker = new CallTracker();
    const hops = MAX_ROUTE_HOPS + 20;
    for (let i = 0; i < hops; i++)
      tracker.apply(event(i, 'ringing', i === 1 ? '117' : i === 60 ? '555' : `3${String(i).padStart(2, '0')}`));
    const hangup = tracker.apply(event(hops, 'hangup', '204', { outcome: 'missed' }));
    assert.equal(hangup.call.route.length, MAX_ROUTE_HOPS);
    const routeOf = (id) => tracker.routeOf(id);
    const rangAt = (extension) => filterOf({ events: ['hangup'], extension, extensionMatch: 'route', direction: 'inbound' });
    assert.equal(passes(rangAt('117'), hangup, routeOf), true, 'hop 2 of the call is in the first half');
    assert.equal(passes(rangAt('555'), hangup, routeOf), false, 'hop 61 was dropped to bound the route');
    assert.equal(passes(rangAt('204'), hangup, routeOf), true, 'the event itself');
    const ringingLate = tracker.apply(event(hops + 1, 'ringing', '207'));
    assert.equal(passes(filterOf({ extension: '117', extensionMatch: 'route' }), ringingLate, routeOf), true, 'read from the tracker');
    assert.equal(passes(filterOf({ extension: '117', extensionMatch: 'route' }), ringingLate), false, 'no route known: the event alone');
  });
});
