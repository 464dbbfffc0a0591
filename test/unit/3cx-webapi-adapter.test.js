'use strict';
// Every 3CX WebAPI operation through the adapter: first against a server that answers with the
// vendor document's own example responses (what the normalizer must make of them), then
// against the simulator (state changes really happen).
const assert = require('node:assert/strict');
const http = require('node:http');
const { threeCxRequests } = require('../helpers/vendor-docs');
const { Account } = require('../../dist/core/account');
const { providerOf } = require('../../dist/providers');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const quiet = { debug() {}, warn() {} };

function account(baseUrl, accessKey, timeout = 2000) {
  return new Account({
    settings: { provider: '3cx-webapi', baseUrl, timeout, rejectUnauthorized: true, credentials: { accessKey } },
    definition: providerOf('3cx-webapi'),
    log: quiet,
    retryDelaysMs: [10, 20],
  });
}

describe('3cx-webapi adapter on the vendor example responses', () => {
  let server;
  let acct;
  const seen = [];
  const KEY = 'doc-key-1234567890';

  before(async () => {
    const examples = new Map(threeCxRequests().map((r) => [r.method, r.response]));
    server = http.createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      const [, key, method] = url.pathname.split('/').slice(1);
      seen.push({ method, query: Object.fromEntries(url.searchParams) });
      if (key !== KEY || !examples.has(method)) {
        res.writeHead(404);
        return res.end();
      }
      res.writeHead(200, { 'Content-Type': 'application/json', Server: 'Kestrel' });
      res.end(JSON.stringify(examples.get(method)));
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    acct = account(`http://127.0.0.1:${server.address().port}/webapi`, KEY);
  });
  after(() => {
    acct.close();
    server.close();
  });
  beforeEach(() => (seen.length = 0));

  const run = (node, op, params) => acct.run(node, op, params).then((r) => r.payload);

  it('makecall sends firstnum/secondnum', async () => {
    assert.deepEqual(await run('call', 'makecall', { extension: '117', destination: '05551239988' }), {
      ok: true,
      operation: 'makecall',
      extension: '117',
      destination: '05551239988',
    });
    assert.deepEqual(seen, [{ method: 'makecall', query: { firstnum: '117', secondnum: '05551239988' } }]);
  });

  it('answer, drop, transfer and join send their documented parameters', async () => {
    await run('call', 'answer', { extension: '204' });
    await run('call', 'drop', { extension: '204', callId: '204' });
    await run('call', 'transfer', { extension: '117', destination: '204' });
    await run('call', 'join', { extension: '1010' });
    assert.deepEqual(seen, [
      { method: 'answer', query: { num: '204' } },
      { method: 'drop', query: { num: '204', contact: '204' } },
      { method: 'transfer', query: { num: '117', dest: '204' } },
      { method: 'join', query: { num: '1010' } },
    ]);
  });

  it('extension-state normalizes ext.state', async () => {
    assert.deepEqual(await run('status', 'extension-state', { extension: '117' }), {
      extension: '117',
      state: 'idle',
      registered: true,
      status: 'Free',
      forwarding: 'Available',
      queuesLoggedIn: true,
      queues: [{ queue: '807', loggedIn: true }],
    });
  });

  it('extensions combines all.ext, all.registered and the active calls', async () => {
    const list = await run('status', 'extensions', {});
    assert.equal(list.length, 16);
    assert.deepEqual(
      list.find((e) => e.extension === '117'),
      { extension: '117', state: 'busy', registered: true },
      '117 talks in the example call',
    );
    assert.deepEqual(
      list.find((e) => e.extension === '111'),
      { extension: '111', state: 'offline', registered: false },
    );
    assert.deepEqual(
      list.find((e) => e.extension === '110'),
      { extension: '110', state: 'idle', registered: true },
    );
  });

  it('extension-info joins ext.info and ext.devices', async () => {
    const info = await run('status', 'extension-info', { extension: '117' });
    assert.equal(info.name, 'Emre Dikici');
    assert.equal(info.recording, 'all');
    assert.deepEqual(info.devices, [{ userAgent: 'Fanvil X1SG 2.4.12 0c383e495733', contact: 'sip:204@192.168.1.40:5060' }]);
  });

  it('active-calls, call-count and call-connections', async () => {
    const calls = await run('status', 'active-calls', {});
    assert.equal(calls[0].callId, '3');
    assert.equal(calls[0].state, 'talking');
    assert.deepEqual(calls[0].talkTo, [{ number: '117', type: 'extension', externalParty: '05307913268', status: 'Connected' }]);
    assert.deepEqual(await run('status', 'call-count', {}), { count: 2 });
    const conns = await run('status', 'call-connections', {});
    assert.equal(conns[0].direction, 'inbound');
    assert.equal(conns[0].connections.length, 2);
  });

  it('queue-agents: members with free → state; queue-talking, queue-free', async () => {
    const agents = await run('status', 'queue-agents', { queue: '820' });
    assert.deepEqual(agents, [
      { extension: '201', name: 'Agent1', loggedIn: false, state: 'offline' },
      { extension: '202', name: 'Agent 2', loggedIn: false, state: 'offline' },
      { extension: '203', name: 'Agent 3', loggedIn: false, state: 'offline' },
      { extension: '204', name: 'Agent 4', loggedIn: true, state: 'idle' },
    ]);
    assert.deepEqual(await run('status', 'queue-talking', { queue: '820' }), [
      { extension: '204', name: 'Agent 4', loggedIn: true, state: 'busy' },
    ]);
    assert.deepEqual(await run('status', 'queue-free', { queue: '820' }), { queue: '820', free: true });
  });

  it('list covers every all.* method', async () => {
    const kinds = { extensions: 16, registered: 7, queues: 13, ringgroups: 7, ivrs: 12, lines: 6, usergroups: 9 };
    for (const [kind, n] of Object.entries(kinds)) {
      const items = await run('status', 'list', { kind });
      assert.equal(items.length, n, kind);
    }
    assert.deepEqual((await run('status', 'list', { kind: 'usergroups' }))[1], { number: 'K2m', name: 'K2m' });
    await assert.rejects(run('status', 'list', { kind: 'phones' }), { code: 'invalid_input' });
  });

  it('group-members, group-free and usergroup-members', async () => {
    assert.deepEqual(await run('status', 'group-members', { group: '860' }), [
      { extension: '114', free: false },
      { extension: '112', free: true },
    ]);
    assert.deepEqual(await run('status', 'group-free', { group: '860' }), [{ extension: '112', free: true }]);
    assert.equal((await run('status', 'usergroup-members', { group: 'izinli' })).length, 10);
    assert.deepEqual(seen.at(-1), { method: 'extgroup.members', query: { name: 'izinli' } });
  });

  it('queue login/logout (one queue or all), set-status and set-options', async () => {
    await run('queue', 'login', { extension: '117', queue: '820' });
    await run('queue', 'logout', { extension: '117' });
    await run('queue', 'set-status', { extension: '117', status: 'away' });
    await run('queue', 'set-options', { extension: '117', enabled: 'on', external: 'true', recording: 'off' });
    assert.deepEqual(seen, [
      { method: 'ext.queue.set', query: { num: '117', queue: '820', log: 'ON' } },
      { method: 'ext.queueglobal.set', query: { num: '117', log: 'OFF' } },
      { method: 'ext.fwd.set', query: { num: '117', status: 'Away' } },
      { method: 'ext.options.set', query: { num: '117', enabled: 'ON', external: 'ON', recording: 'OFF' } },
    ]);
    await assert.rejects(run('queue', 'set-status', { extension: '117', status: 'lunch' }), { code: 'invalid_input' });
  });
});

describe('3cx-webapi adapter against the simulator', () => {
  let sim;
  let acct;
  const KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;

  beforeEach(async () => {
    sim = await startSimulator({ stepMs: 10, talkMs: 5000 });
    acct = account(`${sim.url}/webapi`, KEY);
  });
  afterEach(async () => {
    acct.close();
    await sim.close();
  });

  const run = (node, op, params) => acct.run(node, op, params).then((r) => r.payload);
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));

  it('makecall → the extension is busy → drop → idle again', async () => {
    await run('call', 'makecall', { extension: '117', destination: '0555' });
    await wait(60);
    assert.equal((await run('status', 'extension-state', { extension: '117' })).state, 'busy');
    assert.equal((await run('status', 'call-count', {})).count, 1);
    assert.equal((await run('status', 'active-calls', {})).length, 1);
    await run('call', 'drop', { extension: '117' });
    assert.equal((await run('status', 'extension-state', { extension: '117' })).state, 'idle');
  });

  it('transfer moves a talking call to another extension', async () => {
    await run('call', 'makecall', { extension: '117', destination: '0555' });
    await wait(60);
    await run('call', 'transfer', { extension: '117', destination: '204' });
    await wait(60);
    assert.equal((await run('status', 'extension-state', { extension: '204' })).state, 'busy');
    assert.equal((await run('status', 'extension-state', { extension: '117' })).state, 'idle');
  });

  it('a drop with nothing to drop is a provider_error, not a silent success', async () => {
    await assert.rejects(run('call', 'drop', { extension: '110' }), { code: 'provider_error' });
  });

  it('queue login/logout changes queue-agents', async () => {
    await run('queue', 'logout', { extension: '202', queue: '820' });
    let agent = (await run('status', 'queue-agents', { queue: '820' })).find((a) => a.extension === '202');
    assert.equal(agent.loggedIn, false);
    await run('queue', 'login', { extension: '202', queue: '820' });
    agent = (await run('status', 'queue-agents', { queue: '820' })).find((a) => a.extension === '202');
    assert.deepEqual(agent, { extension: '202', name: 'Agent 202', loggedIn: true, state: 'idle' });
  });

  // Each answer is checked against what the simulator itself holds (its state and its log of the
  // requests it received) while 202, a member of queue 820 and of no ring group, is in a call.
  it('answers every status query and every list kind with what the simulator holds', async () => {
    const threeCx = sim.provider('3cx-webapi');
    await run('call', 'makecall', { extension: '202', destination: '0555' });
    for (let i = 0; i < 100 && threeCx.state().calls[0]?.state !== 'Talking'; i++) await wait(10);
    const { extensions, calls, queues } = threeCx.state();
    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.deepEqual([call.ext, call.party, call.direction, call.state], ['202', '0555', 'Outbound', 'Talking']);
    const registered = extensions.filter((e) => e.registered).map((e) => e.num);

    assert.deepEqual(
      await run('status', 'extensions', {}),
      extensions.map((e) => ({
        extension: e.num,
        state: e.num === '202' ? 'busy' : e.registered ? 'idle' : 'offline',
        registered: e.registered,
      })),
    );
    const info = await run('status', 'extension-info', { extension: '117' });
    assert.deepEqual(
      [info.extension, info.name, info.recording, info.enabled, info.externalCalls],
      ['117', 'Agent 117', 'all', true, true],
    );
    assert.deepEqual(info.devices, [{ userAgent: 'Simulated Phone 1.0', contact: 'sip:117@127.0.0.1:5060' }]);

    const party = { number: '202', type: 'extension', externalParty: '0555', status: 'Connected' };
    const line = { number: '10000', type: 'externalline', externalParty: '0555', status: 'Connected' };
    const [active, ...noOther] = await run('status', 'active-calls', {});
    assert.deepEqual(noOther, []);
    assert.deepEqual(
      [active.callId, active.state, active.startedAt, active.answeredAt, active.owner, active.talkTo, active.routingTo],
      [String(call.callID), 'talking', call.startedAt, call.answeredAt, line, [party], []],
    );
    assert.deepEqual(await run('status', 'call-count', {}), { count: 1 });
    const connections = await run('status', 'call-connections', {});
    assert.deepEqual(
      connections.map((c) => [c.callId, c.direction, c.connections]),
      [[String(call.callID), 'outbound', [line, party]]],
    );

    assert.deepEqual(await run('status', 'group-members', { group: '860' }), [
      { extension: '114', free: registered.includes('114') },
      { extension: '112', free: registered.includes('112') },
    ]);
    assert.deepEqual(await run('status', 'group-free', { group: '861' }), [
      { extension: '117', free: true },
      { extension: '204', free: true },
    ]);
    assert.deepEqual(await run('status', 'usergroup-members', { group: 'Sales' }), [{ number: '117' }, { number: '204' }]);
    assert.deepEqual(queues['820'], ['202', '204'], 'the registered members of 820 are logged in');
    assert.deepEqual(await run('status', 'queue-talking', { queue: '820' }), [
      { extension: '202', name: 'Agent 202', loggedIn: true, state: 'busy' },
    ]);
    assert.deepEqual(await run('status', 'queue-free', { queue: '820' }), { queue: '820', free: true }, '204 is free');

    const numbers = (list) => list.map((number) => ({ number }));
    const lists = {
      extensions: numbers(extensions.map((e) => e.num)),
      registered: numbers(registered),
      queues: numbers(Object.keys(queues)),
      ringgroups: numbers(['860', '861']),
      ivrs: numbers(['800', '801']),
      lines: numbers(['10000', '10001']),
    };
    for (const [kind, expected] of Object.entries(lists)) assert.deepEqual(await run('status', 'list', { kind }), expected, kind);
    assert.deepEqual(
      (await run('status', 'list', { kind: 'usergroups' })).map((g) => g.number),
      ['__DEFAULT__', 'Sales', 'Support'],
    );

    assert.deepEqual(await run('queue', 'set-options', { extension: '117', enabled: 'on', external: 'off', recording: 'external' }), {
      ok: true,
      operation: 'set-options',
      extension: '117',
      enabled: true,
      external: false,
      recording: 'external',
    });
    assert.deepEqual(
      sim.received('3cx-webapi', 'ext.options.set').map((r) => r.query),
      [{ num: '117', enabled: 'ON', external: 'OFF', recording: 'EXTERNAL' }],
    );
    const after = await run('status', 'extension-info', { extension: '117' });
    assert.deepEqual([after.enabled, after.externalCalls, after.recording], [true, false, 'external'], 'the simulator took the options');
  });

  it('status queries retry transient failures; makecall is never retried', async () => {
    sim.addFault({ pathPrefix: '/webapi', status: 503, times: 2 });
    assert.equal((await run('status', 'call-count', {})).count, 0);
    assert.equal(sim.received('3cx-webapi', 'pbx.calls').length, 3);
    sim.addFault({ pathPrefix: '/webapi', status: 503, times: 1 });
    await assert.rejects(run('call', 'makecall', { extension: '117', destination: '1' }), { code: 'provider_error', status: 503 });
    assert.equal(sim.received('3cx-webapi', 'makecall').length, 1);
  });

  it('a reset connection on makecall is outcome_unknown; on a query it is retried', async () => {
    sim.addFault({ pathPrefix: '/webapi', reset: true, times: 1 });
    await assert.rejects(run('call', 'makecall', { extension: '117', destination: '1' }), { code: 'outcome_unknown' });
    sim.addFault({ pathPrefix: '/webapi', reset: true, times: 1 });
    assert.equal((await run('status', 'call-count', {})).count, 0);
  });

  it('maps an unreachable host, a non-JSON body and a missing extension', async () => {
    const dead = account('http://127.0.0.1:1/webapi', KEY);
    await assert.rejects(dead.run('status', 'extensions', {}), (e) => e.code === 'unreachable' && !e.message.includes(KEY));
    dead.close();
    sim.addFault({ pathPrefix: '/webapi', rawBody: '<html>oops', times: 1 });
    await assert.rejects(run('call', 'join', { extension: '117' }), { code: 'provider_error' });
    await assert.rejects(run('status', 'extension-state', { extension: '999' }), { code: 'not_found' });
  });
});
