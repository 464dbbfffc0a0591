'use strict';
// Editor support in a real Node-RED runtime (node-red-node-test-helper) against the loopback
// simulator: the directory endpoints behind the parameter completions, and the auth-failure
// status every node of a config shows.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { helper, load, wait } = require('../helpers/red');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;
const VOIPNOW = DEFAULT_CREDENTIALS.voipnow;
const SECRET = 'editor-hook-secret-0123456789';

const threeCx = (sim, extra = {}) => ({
  id: 'cfg',
  type: 'pbx-config',
  name: 'sim',
  provider: '3cx-webapi',
  baseUrl: `${sim.url}/webapi`,
  webhookPath: '/pbx/editor-3cx',
  timeout: 2000,
  rejectUnauthorized: true,
  allowFrom: '',
  ...extra,
});

describe('editor support', function () {
  this.timeout(15000);
  let sim;

  beforeEach(async () => {
    sim = await startSimulator({ stepMs: 20, talkMs: 200 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  describe('GET pbx-config/:id/directory (deployed config node)', () => {
    beforeEach(() => load([threeCx(sim)], { cfg: { accessKey: KEY, webhookSecret: SECRET } }));

    const get = (id, kind) => helper.request().get(`/pbx-config/${id}/directory?kind=${kind}`);

    it('lists extensions from the extensions query, with their state', async () => {
      const res = await get('cfg', 'extensions');
      assert.equal(res.status, 200);
      assert.equal(res.body.ok, true);
      assert.equal(res.body.kind, 'extensions');
      assert.equal(res.body.supported, true);
      // No call is up: by the simulator's own state, a registered extension is idle, the others offline.
      const { extensions } = sim.provider('3cx-webapi').state();
      assert.equal(extensions.length, 16);
      assert.deepEqual(
        res.body.entries,
        extensions
          .map((e) => ({ value: e.num, state: e.registered ? 'idle' : 'offline' }))
          .sort((a, b) => Number(a.value) - Number(b.value)),
      );
    });

    it('lists queues and ring groups from the list query', async () => {
      const queues = await get('cfg', 'queues');
      assert.deepEqual(queues.body, { ok: true, kind: 'queues', supported: true, entries: [{ value: '807' }, { value: '820' }] });
      const groups = await get('cfg', 'ringgroups');
      assert.deepEqual(groups.body, { ok: true, kind: 'ringgroups', supported: true, entries: [{ value: '860' }, { value: '861' }] });
      assert.deepEqual(
        sim.received('3cx-webapi').map((r) => r.path.split('/').pop()),
        ['all.queue', 'all.group'],
      );
    });

    it('answers an unknown kind or node with an error, never a credential', async () => {
      const bad = await get('cfg', 'lines');
      assert.equal(bad.body.ok, false);
      assert.equal(bad.body.code, 'invalid_input');
      const missing = await get('nope', 'queues');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.code, 'not_found');
      sim.addFault({ status: 500, pathPrefix: '/webapi' });
      const failing = await get('cfg', 'queues');
      assert.equal(failing.body.ok, false);
      assert.equal(failing.body.code, 'provider_error');
      assert.ok(!JSON.stringify(failing.body).includes(KEY), JSON.stringify(failing.body));
      assert.match(failing.body.message, /\*\*\*/, 'the URL in the message is redacted');
    });
  });

  describe('POST pbx-config/directory (dialog values)', () => {
    const post = (body) => helper.request().post('/pbx-config/directory').send(body);

    it('uses typed credentials, and stored ones only for the deployed node own provider and base URL', async () => {
      await load([threeCx(sim)], { cfg: { accessKey: KEY } });
      const base = { provider: '3cx-webapi', baseUrl: `${sim.url}/webapi`, timeout: 2000, kind: 'ringgroups' };
      const typed = await post({ ...base, credentials: { accessKey: KEY } });
      assert.deepEqual(typed.body.entries, [{ value: '860' }, { value: '861' }]);
      const stored = await post({ ...base, id: 'cfg', credentials: { accessKey: '__PWRD__' } });
      assert.equal(stored.body.ok, true);
      assert.equal(stored.body.entries.length, 2);
      const before = sim.received('3cx-webapi').length;
      for (const elsewhere of [
        { ...base, id: 'cfg', baseUrl: 'http://127.0.0.1:9/webapi', credentials: { accessKey: '__PWRD__' } },
        { ...base, id: 'cfg', provider: 'voipnow', credentials: { clientId: '__PWRD__' } },
        { ...base, id: 'not-deployed', credentials: { accessKey: '__PWRD__' } },
      ]) {
        const res = await post(elsewhere);
        assert.equal(res.body.ok, false, JSON.stringify(elsewhere));
        assert.equal(res.body.code, 'invalid_input');
      }
      assert.equal(sim.received('3cx-webapi').length, before, 'no request left with a stored credential');
    });

    it('redacts a wrong typed credential and reports auth_failed', async () => {
      await load([threeCx(sim)], { cfg: { accessKey: KEY } });
      const res = await post({
        provider: '3cx-webapi',
        baseUrl: `${sim.url}/webapi`,
        kind: 'extensions',
        credentials: { accessKey: 'wrong-key-QWERTY-1234' },
      });
      assert.equal(res.body.ok, false);
      assert.equal(res.body.code, 'auth_failed');
      assert.ok(!JSON.stringify(res.body).includes('wrong-key-QWERTY-1234'));
    });

    it('answers supported: false where the provider has no list query', async () => {
      const base = { provider: 'voipnow', baseUrl: `${sim.url}/voipnow`, timeout: 2000, credentials: { ...VOIPNOW } };
      await load([threeCx(sim)], { cfg: { accessKey: KEY } });
      const queues = await post({ ...base, kind: 'queues' });
      assert.deepEqual(queues.body, { ok: true, kind: 'queues', supported: false, entries: [] });
      const extensions = await post({ ...base, kind: 'extensions' });
      assert.equal(extensions.body.ok, true, JSON.stringify(extensions.body));
      assert.equal(extensions.body.supported, true);
      assert.ok(extensions.body.entries.length > 0);
      assert.ok(!JSON.stringify(extensions.body).includes(VOIPNOW.clientSecret));
    });
  });

  describe('POST pbx-config/test with stored credentials', () => {
    const ERRORS = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../nodes/locales/en-US/pbx-config.json'), 'utf8')).errors;
    const test = (body) => helper.request().post('/pbx-config/test').send(body);
    const base = (sim) => ({ id: 'cfg', provider: '3cx-webapi', baseUrl: `${sim.url}/webapi`, timeout: 2000 });

    it('a base URL changed since deploy says to retype the credential, and why; nothing is sent', async () => {
      await load([threeCx(sim)], { cfg: { accessKey: KEY } }, { catalogs: true });
      const ok = await test({ ...base(sim), credentials: { accessKey: '__PWRD__' } });
      assert.equal(ok.body.ok, true, JSON.stringify(ok.body));
      const before = sim.received('3cx-webapi').length;
      const moved = await test({ ...base(sim), baseUrl: `${sim.url}/webapi2`, credentials: { accessKey: '__PWRD__' } });
      assert.deepEqual(moved.body, { ok: false, code: 'invalid_input', message: ERRORS['stored-credentials-base-url'] });
      assert.match(moved.body.message, /only ever sent to the deployed base URL.*type the credentials again/);
      // Not deployed at all, or another provider: the general message.
      const other = await test({ ...base(sim), id: 'nope', credentials: { accessKey: '__PWRD__' } });
      assert.deepEqual(other.body, { ok: false, code: 'invalid_input', message: ERRORS['stored-credentials'] });
      assert.equal(sim.received('3cx-webapi').length, before);
      // Typed again, the new URL is tested.
      const typed = await test({ ...base(sim), baseUrl: `${sim.url}/webapi`, credentials: { accessKey: KEY } });
      assert.equal(typed.body.ok, true);
    });
  });

  describe('auth failure status', () => {
    const IDS = ['ev', 'call', 'status', 'queue'];
    const flow = (sim) => [
      { id: 'tab', type: 'tab', label: 'auth' },
      { ...threeCx(sim) },
      { id: 'ev', type: 'pbx-event', z: 'tab', pbx: 'cfg', events: [], direction: 'any', outputs: 1, wires: [[]] },
      { id: 'call', type: 'pbx-call', z: 'tab', pbx: 'cfg', operation: 'makecall', wires: [[]] },
      { id: 'status', type: 'pbx-status', z: 'tab', pbx: 'cfg', query: 'extensions', wires: [[]] },
      { id: 'queue', type: 'pbx-queue', z: 'tab', pbx: 'cfg', operation: 'login', wires: [[]] },
      { id: 'c1', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [[]] },
    ];
    // The texts a user sees, from the message catalog (the nodes are loaded with the real catalogs).
    const STATUS = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../nodes/locales/en-US/pbx-config.json'), 'utf8')).status;
    const AUTH_FAILED = { fill: 'red', shape: 'ring', text: STATUS['auth-failed'] };
    const last = (list) => list[list.length - 1];

    /** Records every status the nodes set from now on. */
    function record(ids) {
      const seen = {};
      for (const id of ids) {
        const node = helper.getNode(id);
        seen[id] = [];
        const original = node.status.bind(node);
        node.status = (s) => {
          seen[id].push(s);
          original(s);
        };
      }
      return seen;
    }

    async function until(predicate, what) {
      const deadline = Date.now() + 5000;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
        await wait(20);
      }
    }

    it('shows a red ring on every node of the config until the next success', async () => {
      await load(flow(sim), { cfg: { accessKey: KEY, webhookSecret: SECRET } }, { catalogs: true });
      const seen = record(IDS);
      sim.addFault({ status: 401, times: 1, pathPrefix: '/webapi' });
      helper.getNode('call').receive({ payload: { extension: '117', destination: '0555' } });
      await until(() => IDS.every((id) => seen[id].some((s) => s.text === AUTH_FAILED.text)), 'auth failed on every node');
      await wait(50);
      for (const id of IDS) assert.deepEqual(last(seen[id]), AUTH_FAILED, id);

      // The next operation that succeeds, from any node, brings every node's own status back.
      helper.getNode('status').receive({ payload: {} });
      await until(() => last(seen.status).text === 'extensions ok', 'extensions ok');
      assert.deepEqual(last(seen.status), { fill: 'green', shape: 'dot', text: 'extensions ok' });
      assert.deepEqual(last(seen.ev), { fill: 'grey', shape: 'ring', text: STATUS.waiting }, 'pbx-event: its own status again');
      assert.deepEqual(last(seen.call), { fill: 'red', shape: 'ring', text: STATUS['auth-failed'] }, 'pbx-call: its own last result');
      assert.deepEqual(last(seen.queue), {}, 'pbx-queue: no status of its own');
    });

    it('shows it on a node deployed later, and not on a removed one', async () => {
      const flows = flow(sim);
      await load(flows, { cfg: { accessKey: KEY } }, { catalogs: true });
      const removed = helper.getNode('queue');
      const removedStatuses = [];
      removed.status = (s) => removedStatuses.push(s);
      await helper.setFlows(
        flows.filter((n) => n.id !== 'queue'),
        'nodes',
      );
      assert.equal(helper.getNode('queue'), null);
      const seen = record(['ev']);
      sim.addFault({ status: 401, times: 1, pathPrefix: '/webapi' });
      helper.getNode('call').receive({ payload: { extension: '117', destination: '0555' } });
      await until(() => seen.ev.some((s) => s.text === AUTH_FAILED.text), 'auth failed');
      assert.deepEqual(removedStatuses, [], 'a closed node no longer follows its config');

      // A node added now shows the failure from the start (the helper spies on Node.prototype.status).
      await helper.setFlows(flows, 'nodes');
      const added = helper.getNode('queue');
      assert.ok(added);
      const statuses = helper._NodePrototype.status
        .getCalls()
        .filter((c) => c.thisValue === added)
        .map((c) => c.args[0]);
      assert.deepEqual(statuses, [AUTH_FAILED]);
    });
  });
});
