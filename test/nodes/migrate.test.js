'use strict';
// Saved node settings and their versions (src/nodes/migrate.ts). fixtures/flows-0.1.0.json holds
// package nodes exactly as 0.1.0 saved them (no `version`), copied from the 0.1.0 examples: every
// node type, a pbx-call saved before `reference` existed and after, pbx-status in query and watch
// mode, pbx-event with one and four outputs, a config node per provider.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { helper, load, collect, wait, webhookApp } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');
const { MIGRATIONS, FIRST_VERSION, currentVersion, migrate, isUnknownVersion, compareVersions } = require('../../dist/nodes/migrate');

const FIXTURE = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/flows-0.1.0.json'), 'utf8'));
/** The node types 0.1.0 had; later ones are not in its saved flows. */
const TYPES_OF_0_1_0 = ['pbx-config', 'pbx-event', 'pbx-call', 'pbx-status', 'pbx-queue'];
const TYPES = [...TYPES_OF_0_1_0, 'pbx-missed', 'pbx-stats'];
const SAVED_ORIGIN = 'http://127.0.0.1:8089';
const CREDENTIALS = {
  'pbx-config-3cx-demo': DEFAULT_CREDENTIALS['3cx-webapi'],
  'pbx-config-voipnow-demo': DEFAULT_CREDENTIALS.voipnow,
  'pbx-config-cc-demo': DEFAULT_CREDENTIALS['cloud-callcenter'],
};
// Fixture node ids.
const ID = {
  eventsByType: '71a7c68acef61cfb',
  inboundHangups: '9d8c4ae575a5f853',
  call3cx: '625886c47f9840c4',
  queue3cx: '4cd1aec15178a85c',
  board3cx: '2ab89247b3907192',
  watch3cx: 'ca6e772b4eb400ce',
  callVoipnow: 'd4fee59c60eafd74',
  hangupsVoipnow: 'bcca63c0fa5c8975',
  agentsCc: 'f62ab16cc447b95c',
};
const byId = (flow, id) => flow.find((n) => n.id === id);
const firstTarget = (flow, id, output = 0) => byId(flow, id).wires[output][0];

/**
 * The flow as the editor imports it (flow nodes on a tab), pointed at `sim` (the examples point at
 * the demo's port), with a helper node on every wire.
 */
function runnable(flow, sim) {
  const nodes = flow.map((n) => {
    if (n.type === 'pbx-config') return { ...n, baseUrl: n.baseUrl.replace(SAVED_ORIGIN, sim.url) };
    return 'x' in n ? { ...n, z: TAB.id } : n;
  });
  const targets = new Set(nodes.flatMap((n) => (n.wires ?? []).flat()));
  return [TAB, ...nodes, ...[...targets].map((id) => ({ id, type: 'helper', z: TAB.id, x: 0, y: 0, wires: [] }))];
}
const TAB = { id: 'tab-saved-by-0.1.0', type: 'tab', label: 'saved by 0.1.0' };

/** Every message helper node `id` receives from now on. */
function gather(id) {
  const got = [];
  helper.getNode(id).on('input', (msg) => got.push(msg));
  return got;
}

async function until(predicate, what) {
  for (let i = 0; i < 250; i++) {
    if (predicate()) return;
    await wait(20);
  }
  throw new Error(`timed out: ${what}`);
}

const statusesOf = (node) =>
  helper._NodePrototype.status
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0]);

const eventSummary = (msg) => {
  const { event, direction, extension, from, to, outcome } = msg.payload;
  return { topic: msg.topic, event, direction, extension, from, to, outcome };
};

/**
 * Runs `flow` against a fresh simulator: the queries, the calls and the events the fixture's nodes
 * handle, as the 0.1.0 examples use them. Returns what came out (ids and times left out).
 */
async function behaviour(flow) {
  const sim = await startSimulator({ stepMs: 5, talkMs: 50 });
  const relay = http.createServer((req, res) => webhookApp()(req, res));
  await new Promise((r) => relay.listen(0, '127.0.0.1', r));
  const relayUrl = `http://127.0.0.1:${relay.address().port}`;
  try {
    const nodes = runnable(flow, sim);
    await load(nodes, CREDENTIALS);
    const packageNodes = nodes.filter((n) => TYPES.includes(n.type)).map((n) => helper.getNode(n.id));
    for (const node of packageNodes) assert.ok(node, 'every node was created');
    const ask = async (id, msg) => {
      const out = collect(firstTarget(flow, id), 1);
      helper.getNode(id).receive(msg);
      return (await out)[0];
    };
    const watch = helper.getNode(ID.watch3cx);
    await until(() => statusesOf(watch).some((s) => s.fill === 'green'), 'the watch polled');

    const board = await ask(ID.board3cx, {});
    const agents = await ask(ID.agentsCc, { payload: { queue: 'queue-2' } });

    const ringing = gather(firstTarget(flow, ID.eventsByType, 0));
    const hangups = gather(firstTarget(flow, ID.eventsByType, 2));
    const inboundHangups = gather(firstTarget(flow, ID.inboundHangups));
    sim.setWebhook('3cx-webapi', `${relayUrl}/pbx/demo-3cx`, 'post');
    await sim.provider('3cx-webapi').play('incoming-missed');
    await until(() => hangups.length === 1 && inboundHangups.length === 1, '3CX hangup');
    const ringingBeforeCalls = ringing.map(eventSummary);
    const voipnowHangups = gather(firstTarget(flow, ID.hangupsVoipnow));
    sim.setWebhook('voipnow', `${relayUrl}/pbx/demo-voipnow`, 'get');
    await sim.provider('voipnow').play('inbound-missed', { extension: '0003*201' });
    await sim.provider('voipnow').play('inbound-missed', { extension: '0003*202' });
    await until(() => voipnowHangups.length === 1, 'VoipNow hangup');

    const call = await ask(ID.call3cx, { payload: { extension: '117', destination: '05550001122' } });
    const voipnowCall = await ask(ID.callVoipnow, { payload: { extension: '0003*210', destination: '0555123988' } });
    const queue = await ask(ID.queue3cx, { operation: 'logout', payload: { extension: '202', queue: '820' } });
    const { callId, ...voipnowCallPayload } = voipnowCall.payload;
    assert.equal(typeof callId, 'string');

    const red = packageNodes.filter((n) => statusesOf(n).some((s) => s.fill === 'red')).map((n) => n.id);
    return {
      red,
      watch: statusesOf(watch).find((s) => s.fill === 'green'),
      board: board.payload,
      agents: agents.payload,
      ringing: ringingBeforeCalls,
      hangup: eventSummary(hangups[0]),
      inboundHangup: eventSummary(inboundHangups[0]),
      voipnowHangup: eventSummary(voipnowHangups[0]),
      call: [call.payload, call.pbx],
      voipnowCall: [voipnowCallPayload, voipnowCall.pbx],
      queue: [queue.payload, queue.pbx],
    };
  } finally {
    await helper.unload();
    await new Promise((r) => relay.close(r));
    await sim.close();
  }
}

describe('node settings saved by 0.1.0', function () {
  this.timeout(20000);

  it('the fixture is what 0.1.0 saved: no version, every node type', () => {
    assert.deepEqual([...new Set(FIXTURE.map((n) => n.type))].sort(), [...TYPES_OF_0_1_0].sort());
    for (const def of FIXTURE) assert.ok(!('version' in def), def.id);
  });

  it('migrate: each comes out at the current version of its type, its settings unchanged, the saved def untouched', () => {
    for (const def of FIXTURE) {
      const saved = structuredClone(def);
      const migrated = migrate(def);
      assert.deepEqual(migrated, { ...saved, version: currentVersion(def.type) }, def.id);
      assert.deepEqual(def, saved, `${def.id}: not changed in place`);
      assert.deepEqual(migrate(migrated), migrated, `${def.id}: a current def stays as it is`);
      assert.equal(isUnknownVersion(def), false);
    }
  });

  it('load and behave exactly as the same flow saved at the current version', async () => {
    const old = await behaviour(FIXTURE);
    assert.deepEqual(old.red, [], 'no node shows an error');
    assert.deepEqual(old.watch, { fill: 'green', shape: 'dot', text: '16 extensions' });
    assert.equal(old.board.length, 16);
    assert.ok(Array.isArray(old.agents));
    assert.deepEqual(old.call, [
      { ok: true, operation: 'makecall', extension: '117', destination: '05550001122' },
      { provider: '3cx-webapi', operation: 'makecall' },
    ]);
    assert.deepEqual(old.voipnowCall, [
      { ok: true, operation: 'makecall', extension: '0003*210', destination: '0555123988' },
      { provider: 'voipnow', operation: 'makecall' },
    ]);
    assert.deepEqual(old.queue, [
      { ok: true, operation: 'logout', extension: '202', queue: '820' },
      { provider: '3cx-webapi', operation: 'logout' },
    ]);
    assert.deepEqual(
      old.ringing.map((r) => [r.event, r.direction, r.extension]),
      [
        ['ringing', 'inbound', '800'],
        ['ringing', 'inbound', '820'],
        ['ringing', 'inbound', '202'],
      ],
    );
    assert.deepEqual([old.hangup.event, old.hangup.outcome], ['hangup', 'missed']);
    assert.deepEqual(old.inboundHangup, old.hangup, 'the event and direction filters of 0.1.0 hold');
    assert.equal(old.voipnowHangup.extension, '0003*201', 'the extension filter of 0.1.0 holds');

    const current = await behaviour(FIXTURE.map((n) => ({ ...n, version: currentVersion(n.type) })));
    assert.deepEqual(current, old);
  });

  it('every node type passes the def it is given through MIGRATIONS', async () => {
    const seen = [];
    const added = TYPES.map((type) => {
      const step = {
        to: '99.0.0',
        up: (def) => {
          seen.push([def.id, def.type, def.version]);
          return def;
        },
      };
      MIGRATIONS[type].push(step);
      return [type, step];
    });
    try {
      const sim = await startSimulator({});
      try {
        await load(runnable(FIXTURE, sim), CREDENTIALS);
      } finally {
        await helper.unload();
        await sim.close();
      }
    } finally {
      for (const [type, step] of added) MIGRATIONS[type].splice(MIGRATIONS[type].indexOf(step), 1);
    }
    assert.deepEqual(seen.sort(), FIXTURE.map((n) => [n.id, n.type, undefined]).sort());
    for (const type of TYPES) assert.equal(currentVersion(type), FIRST_VERSION, 'the test step is gone');
  });
});

describe('a future migration step', () => {
  // Test-only steps, as a future release would add them: pbx-call 0.2.0 renames `from` to
  // `caller`; 0.3.0 adds `ringSeconds`, 30 keeping the old behaviour.
  const FUTURE = {
    ...MIGRATIONS,
    'pbx-call': [
      {
        to: '0.2.0',
        up: ({ from, fromType, ...def }) => ({ ...def, caller: from, callerType: fromType }),
      },
      { to: '0.3.0', up: (def) => ({ ...def, ringSeconds: 30 }) },
    ],
  };
  const saved = byId(FIXTURE, ID.call3cx);

  it('takes a def saved by 0.1.0 through every step, in order', () => {
    const { from, fromType, ...rest } = saved;
    assert.deepEqual(migrate(saved, FUTURE), { ...rest, caller: from, callerType: fromType, ringSeconds: 30, version: '0.3.0' });
    assert.equal(currentVersion('pbx-call', FUTURE), '0.3.0');
  });

  it('takes a def saved by 0.2.0 through the later steps only', () => {
    const at020 = { ...saved, version: '0.2.0', caller: '117', callerType: 'str' };
    assert.deepEqual(migrate(at020, FUTURE), { ...at020, ringSeconds: 30, version: '0.3.0' });
  });

  it('leaves a current def, another type and an unknown type as they are (version set)', () => {
    const current = { ...saved, version: '0.3.0', ringSeconds: 45 };
    assert.deepEqual(migrate(current, FUTURE), current);
    const event = byId(FIXTURE, ID.eventsByType);
    assert.deepEqual(migrate(event, FUTURE), { ...event, version: FIRST_VERSION });
    const other = { id: 'x', type: 'function', func: 'return msg;' };
    assert.equal(migrate(other, FUTURE), other);
  });

  it('uses a def of a version it does not know as it is, and says so', () => {
    for (const version of ['0.4.0', '1.0.0', 'latest', 2, '0.3']) {
      const def = { ...saved, version };
      assert.equal(migrate(def, FUTURE), def, String(version));
      assert.equal(isUnknownVersion(def, FUTURE), true, String(version));
    }
    assert.equal(isUnknownVersion(saved, FUTURE), false);
  });

  it('compares versions by number', () => {
    assert.ok(compareVersions('0.10.0', '0.9.0') > 0);
    assert.ok(compareVersions('0.1.0', '0.1.1') < 0);
    assert.equal(compareVersions('1.2.3', '1.2.3'), 0);
  });
});

describe('version of new nodes', function () {
  this.timeout(10000);
  afterEach(() => helper.unload());

  it("each node type's editor default is the current version of that type", () => {
    for (const type of TYPES) {
      const html = fs.readFileSync(path.join(__dirname, '../../nodes', `${type}.html`), 'utf8');
      const defaults = [...html.matchAll(/^\s*version: \{ value: '([^']*)' \},$/gm)].map((m) => m[1]);
      assert.deepEqual(defaults, [currentVersion(type)], type);
    }
  });

  it('a node saved by a newer release runs with its settings as they are and warns once', async () => {
    const sim = await startSimulator({});
    try {
      const flow = runnable(
        [byId(FIXTURE, 'pbx-config-3cx-demo'), { ...byId(FIXTURE, ID.call3cx), version: '9.0.0', futureSetting: true }],
        sim,
      );
      await load(flow, CREDENTIALS);
      const out = collect(firstTarget(FIXTURE, ID.call3cx), 1);
      helper.getNode(ID.call3cx).receive({ payload: { extension: '117', destination: '05550001122' } });
      assert.deepEqual((await out)[0].payload, { ok: true, operation: 'makecall', extension: '117', destination: '05550001122' });
      const log = helper.log();
      // The helper's runtime has no server for the webhook router to claim requests on: the config
      // node's start-up warning about that (test/nodes/webhook-setup.test.js) is not this test's.
      const warnings = log.args.map(([e]) => e).filter((e) => e.level === log.WARN && e.id !== undefined && !/httpAdminRoot/.test(e.msg));
      assert.deepEqual(
        warnings.map((e) => [e.id, e.msg]),
        [[ID.call3cx, 'saved with version "9.0.0", which this version of the package does not know: its settings are used as they are']],
      );
    } finally {
      await sim.close();
    }
  });
});
