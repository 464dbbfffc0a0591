'use strict';
// A real Node-RED process with the packed package installed, against the simulator over
// loopback: every operation, every documented scenario in both webhook schemes, redeploys,
// hostile webhooks, and a scan for leaked secrets.
const assert = require('node:assert/strict');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { Collector } = require('../helpers/collector');
const { integrationFlows } = require('../helpers/flows');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;
const SECRET = 'integration-webhook-secret-7f3a9c2e51';
const PATH = '/pbx/it-3cx';

// Each scenario as the vendor document's table shows it (test/fixtures/vendor/3cx-webapi-webhook-scenarios.json,
// the POST scheme): the provider events in order, the events they are (SPEC section 5), who rang
// (the route's ringing hops) and the last hangup's outcome and talk time.
const DOCUMENTED = {
  'incoming-answered': {
    providerEvents: 'ringing ringing ringing incomingcall_started incoming recording',
    events: 'ringing ringing ringing answered hangup recording',
    rang: ['800', '820', '202'],
    outcome: 'answered',
    durationSeconds: 6,
  },
  'incoming-attended-transfer': {
    providerEvents: 'ringing ringing ringing incomingcall_started incomingcall_started ringing incoming incoming recording recording',
    events: 'ringing ringing ringing answered answered ringing hangup hangup recording recording',
    rang: ['800', '820', '117', '204'],
    outcome: 'answered',
    durationSeconds: 6,
  },
  'incoming-blind-transfer': {
    providerEvents: 'ringing ringing ringing incomingcall_started ringing incomingcall_started incoming recording recording',
    events: 'ringing ringing ringing answered ringing answered hangup recording recording',
    rang: ['800', '820', '117', '204'],
    outcome: 'answered',
    durationSeconds: 4,
  },
  'incoming-missed': {
    providerEvents: 'ringing ringing ringing incoming',
    events: 'ringing ringing ringing hangup',
    rang: ['800', '820', '202'],
    outcome: 'missed',
  },
  'ringgroup-hunt-answered': {
    providerEvents: 'ringing ringing incomingcall_started incoming recording',
    events: 'ringing ringing answered hangup recording',
    rang: ['800', '117'],
    outcome: 'answered',
    durationSeconds: 4,
  },
  'ringgroup-hunt-missed': {
    providerEvents: 'ringing ringing incoming',
    events: 'ringing ringing hangup',
    rang: ['800', '117'],
    outcome: 'missed',
  },
  'ringgroup-ringall-answered': {
    providerEvents: 'ringing ringing ringing incomingcall_started incoming recording',
    events: 'ringing ringing ringing answered hangup recording',
    rang: ['800', '117', '204'],
    outcome: 'answered',
    durationSeconds: 5,
  },
  'ringgroup-ringall-missed': {
    providerEvents: 'ringing ringing ringing incoming',
    events: 'ringing ringing ringing hangup',
    rang: ['800', '117', '204'],
    outcome: 'missed',
  },
  'outgoing-answered': {
    providerEvents: 'dialing outgoingcall_started outgoing recording',
    events: 'ringing answered hangup recording',
    rang: ['117'],
    outcome: 'answered',
    durationSeconds: 5,
  },
  'outgoing-unanswered': { providerEvents: 'dialing outgoing', events: 'ringing hangup', rang: ['117'], outcome: 'missed' },
  'makecall-answered': {
    providerEvents: 'dialing outgoingcall_started outgoing recording',
    events: 'ringing answered hangup recording',
    rang: ['117'],
    outcome: 'answered',
    durationSeconds: 4,
  },
  'makecall-extension-hangup': { providerEvents: 'dialing outgoing', events: 'ringing hangup', rang: ['117'], outcome: 'missed' },
};
// The GET scheme tables name the two answers differently and send a recording as its bare URL.
const GET_NAME = { incomingcall_started: 'hangupincoming', outgoingcall_started: 'hangupoutgoing' };

describe('integration: Node-RED process + 3cx-webapi simulator', function () {
  this.timeout(120000);
  let nr;
  let sim;
  let collector;

  const config = (extra = {}) => ({
    name: 'sim 3cx',
    provider: '3cx-webapi',
    baseUrl: `${sim.url}/webapi`,
    webhookPath: PATH,
    timeout: 1500,
    rejectUnauthorized: true,
    allowFrom: '',
    credentials: { accessKey: KEY, webhookSecret: SECRET },
    ...extra,
  });

  async function action(kind, body) {
    const res = await fetch(`${nr.url}/it/${kind}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  before(async () => {
    collector = await new Collector().start();
    sim = await startSimulator({ stepMs: 15, talkMs: 300 });
    nr = await new NodeRedProcess({ adminRoot: '/admin' }).start();
    sim.setWebhook('3cx-webapi', `${nr.url}${PATH}/${SECRET}`, 'post');
    await nr.deploy(integrationFlows({ collector: collector.url, config: config() }));
  });

  after(async () => {
    await nr?.stop();
    nr?.cleanup();
    await sim?.close();
    await collector?.close();
  });

  beforeEach(() => collector.clear());

  it('registers all seven node types from the installed package without errors', async () => {
    const sets = await nr.nodeTypes();
    const ours = sets.filter((s) => s.module === '@callflow/node-red-pbx');
    assert.deepEqual(ours.flatMap((s) => s.types).sort(), [
      'pbx-call',
      'pbx-config',
      'pbx-event',
      'pbx-missed',
      'pbx-queue',
      'pbx-stats',
      'pbx-status',
    ]);
    assert.ok(
      ours.every((s) => s.enabled && !s.err),
      JSON.stringify(ours),
    );
    assert.ok(!nr.logs.some((l) => /\[error\]/.test(l) && /pbx/.test(l)), nr.logs.filter((l) => /\[error\]/.test(l)).join('\n'));
  });

  /** What the simulator itself holds: its extensions, calls and queue logins. */
  const threeCxState = () => sim.provider('3cx-webapi').state();

  const OPERATIONS = [
    [
      'call',
      { operation: 'makecall', params: { extension: '117', destination: '05550001122' } },
      (p) => assert.deepEqual(p, { ok: true, operation: 'makecall', extension: '117', destination: '05550001122' }),
    ],
    ['status', { query: 'extension-state', params: { extension: '117' } }, (p) => assert.ok(['ringing', 'busy'].includes(p.state))],
    ['call', { operation: 'transfer', params: { extension: '117', destination: '204' } }, (p) => assert.equal(p.destination, '204')],
    ['call', { operation: 'drop', params: { extension: '204' } }, (p) => assert.equal(p.extension, '204')],
    ['call', { operation: 'join', params: { extension: '117' } }, (p) => assert.equal(p.operation, 'join')],
    ['status', { query: 'extensions', params: {} }, (p) => assert.equal(p.length, 16)],
    ['status', { query: 'extension-info', params: { extension: '204' } }, (p) => assert.equal(p.devices.length, 1)],
    // The drop ended the only call: the simulator holds none, and says so through every query.
    [
      'status',
      { query: 'active-calls', params: {} },
      (p) => {
        assert.deepEqual(threeCxState().calls, []);
        assert.deepEqual(p, []);
      },
    ],
    ['status', { query: 'call-count', params: {} }, (p) => assert.deepEqual(p, { count: 0 })],
    ['status', { query: 'call-connections', params: {} }, (p) => assert.deepEqual(p, [])],
    [
      'status',
      { query: 'queue-agents', params: { queue: '820' } },
      (p) => {
        const loggedIn = threeCxState().queues['820'];
        assert.deepEqual(loggedIn, ['202', '204'], 'the registered members are logged in');
        assert.deepEqual(
          p,
          ['201', '202', '203', '204'].map((extension) => ({
            extension,
            name: `Agent ${extension}`,
            loggedIn: loggedIn.includes(extension),
            state: loggedIn.includes(extension) ? 'idle' : 'offline',
          })),
        );
      },
    ],
    ['status', { query: 'queue-talking', params: { queue: '820' } }, (p) => assert.deepEqual(p, [])],
    ['status', { query: 'queue-free', params: { queue: '820' } }, (p) => assert.deepEqual(p, { queue: '820', free: true })],
    ['status', { query: 'list', params: { kind: 'ivrs' } }, (p) => assert.deepEqual(p, [{ number: '800' }, { number: '801' }])],
    [
      'status',
      { query: 'group-members', params: { group: '860' } },
      (p) =>
        assert.deepEqual(p, [
          { extension: '114', free: false },
          { extension: '112', free: true },
        ]),
    ],
    [
      'status',
      { query: 'group-free', params: { group: '860' } },
      (p) => assert.deepEqual(p, [{ extension: '112', free: true }], '112 is registered and free, 114 is not registered'),
    ],
    [
      'status',
      { query: 'usergroup-members', params: { group: 'Sales' } },
      (p) => assert.deepEqual(p, [{ number: '117' }, { number: '204' }]),
    ],
    ['queue', { operation: 'logout', params: { extension: '202', queue: '820' } }, (p) => assert.equal(p.queue, '820')],
    [
      'queue',
      { operation: 'login', params: { extension: '202' } },
      (p) => assert.deepEqual(p, { ok: true, operation: 'login', extension: '202' }),
    ],
    ['queue', { operation: 'set-status', params: { extension: '202', status: 'away' } }, (p) => assert.equal(p.status, 'away')],
    [
      'queue',
      { operation: 'set-options', params: { extension: '202', enabled: 'on', external: 'off', recording: 'all' } },
      (p) => assert.equal(p.recording, 'all'),
    ],
  ];

  it('runs every 3CX operation end to end through http-in → pbx node → http response', async () => {
    for (const [kind, body, check] of OPERATIONS) {
      const r = await action(kind, body);
      assert.equal(r.status, 200, `${body.operation ?? body.query}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.pbx.provider, '3cx-webapi');
      check(r.body.payload);
      if (body.operation === 'makecall' || body.operation === 'transfer') await new Promise((res) => setTimeout(res, 200));
    }
    const answer = await action('call', { operation: 'answer', params: { extension: '110' } });
    assert.equal(answer.status, 500, 'nothing rings on 110: the provider says result false');
    assert.equal(answer.body.error.code, 'provider_error');
    const unsupported = await action('call', { operation: 'doublecall', params: { extension: '1', from: '2', destination: '3' } });
    assert.equal(unsupported.body.error.code, 'unsupported');
  });

  it('the simulator plays exactly the documented scenarios, then its live queue call and the outcome scenarios every provider plays', () => {
    assert.deepEqual(sim.provider('3cx-webapi').scenarios(), [
      ...Object.keys(DOCUMENTED),
      'queue-waiting',
      'missed-callback-answered',
      'missed-callback-unanswered',
      'missed-callback-busy',
      'lost-hangup',
    ]);
  });

  for (const scheme of ['post', 'get']) {
    for (const name of Object.keys(DOCUMENTED)) {
      it(`${scheme.toUpperCase()} scheme: ${name} arrives as its documented events, each once`, async () => {
        const documented = DOCUMENTED[name];
        const expected = documented.events.split(' ');
        const { callId } = await sim.provider('3cx-webapi').play(name, { scheme, did: scheme === 'get' ? 'DID-420222000320' : '' });
        const events = await collector.waitFor('/events', expected.length, { filter: (m) => m.payload.callId === callId });
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(collector.on('/events', (m) => m.payload.callId === callId).length, expected.length, 'no duplicates');
        const providerEvents = documented.providerEvents.split(' ');
        assert.deepEqual(
          events.map((m) => m.topic),
          expected,
        );
        const last = events.filter((m) => m.topic === 'hangup').at(-1).payload;
        assert.equal(last.outcome, documented.outcome);
        assert.equal(last.durationSeconds, documented.durationSeconds);
        assert.equal(last.call.outcome, documented.outcome);
        assert.deepEqual(
          last.call.route.filter((h) => h.event === 'ringing').map((h) => h.extension),
          documented.rang,
        );
        events.forEach((m, i) => {
          const where = `${name} #${i + 1}`;
          if (m.topic === 'recording') {
            // The file the simulator names: the call's Id (callId-leg) with -1.mp3, as the document shows.
            assert.equal(m.payload.recordingUrls.length, 1, where);
            assert.match(
              m.payload.recordingUrls[0],
              new RegExp(`^https://127\\.0\\.0\\.1:5001/webapi/recording/${callId}-\\d-1\\.mp3$`),
              where,
            );
          }
          if (scheme === 'post') assert.equal(m.raw.Event, providerEvents[i], where);
          else if (providerEvents[i] !== 'recording') assert.equal(m.raw.event, GET_NAME[providerEvents[i]] ?? providerEvents[i], where);
        });
      });
    }
  }

  it('redeploys leave exactly one live route per config node and no stale one', async () => {
    for (let i = 0; i < 3; i++) await nr.deploy(integrationFlows({ collector: collector.url, config: config({ name: `redeploy ${i}` }) }));
    const { callId } = await sim.provider('3cx-webapi').play('incoming-missed', { scheme: 'post' });
    await collector.waitFor('/events', 4, { filter: (m) => m.payload.callId === callId });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(collector.on('/events', (m) => m.payload.callId === callId).length, 4, 'each event once: one route, one subscriber');
    await nr.deploy(integrationFlows({ collector: collector.url, config: config({ webhookPath: '/pbx/it-moved' }) }));
    assert.equal((await fetch(`${nr.url}${PATH}/${SECRET}`, { method: 'POST', body: '{}' })).status, 404, 'old path removed');
    assert.equal((await fetch(`${nr.url}/pbx/it-moved/${SECRET}?event=x&id=1_1-0`)).status, 200);
    await nr.deploy(integrationFlows({ collector: collector.url, config: config() }));
  });

  it('rejects hostile webhooks with 4xx and stays healthy', async () => {
    const hook = (path, init) => fetch(`${nr.url}${path}`, init).then((r) => r.status);
    assert.equal(await hook(PATH, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"Event":"ringing"}' }), 401);
    assert.equal(await hook(`${PATH}/wrong-secret`, { method: 'POST', body: '{}' }), 401);
    assert.equal(await hook(`${PATH}/${SECRET}`, { method: 'PUT', body: '{}' }), 405);
    assert.equal(
      await hook(`${PATH}/${SECRET}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"Event": "ringing", ' }),
      400,
    );
    assert.equal(
      await hook(`${PATH}/${SECRET}`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x'.repeat(65 * 1024) }),
      413,
    );
    assert.equal(
      await hook(`${PATH}/${SECRET}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"no":"event"}' }),
      200,
    );
    assert.equal(
      await hook(`${PATH}/${SECRET}`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '\u0000\u0001garbage' }),
      200,
    );
    assert.equal((await fetch(nr.adminUrl('/settings'))).status, 200, 'Node-RED still answers');
    const { callId } = await sim.provider('3cx-webapi').play('outgoing-unanswered', { scheme: 'post' });
    await collector.waitFor('/events', 2, { filter: (m) => m.payload.callId === callId });
  });

  it('never shows the access key or webhook secret after provoked failures', async () => {
    await nr.deploy(
      integrationFlows({
        collector: collector.url,
        config: config({ credentials: { accessKey: 'LEAKCHECK-wrong-access-key-5d1e', webhookSecret: SECRET } }),
      }),
    );
    assert.equal((await action('status', { query: 'extensions', params: {} })).body.error.code, 'auth_failed');
    await nr.deploy(integrationFlows({ collector: collector.url, config: config({ baseUrl: 'http://127.0.0.1:9/webapi' }) }));
    assert.equal((await action('status', { query: 'extensions', params: {} })).body.error.code, 'unreachable');
    await nr.deploy(integrationFlows({ collector: collector.url, config: config({ timeout: 200 }) }));
    sim.addFault({ pathPrefix: '/webapi', delayMs: 600, times: 1 });
    const timedOut = await action('call', { operation: 'makecall', params: { extension: '117', destination: '0555' } });
    assert.equal(timedOut.body.error.code, 'outcome_unknown');
    await fetch(`${nr.url}${PATH}/wrong-${SECRET.slice(0, 5)}`, { method: 'POST', body: '{}' });
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(sim.received('3cx-webapi', 'makecall').filter((r) => Date.parse(r.at) > Date.now() - 5000).length, 1, 'sent exactly once');
    const everything = [...nr.logs, ...collector.messages.map((m) => m.text)].join('\n');
    for (const secret of ['LEAKCHECK-wrong-access-key-5d1e', KEY, SECRET]) {
      assert.ok(
        !everything.includes(secret),
        `${secret} leaked:\n${everything
          .split('\n')
          .filter((l) => l.includes(secret))
          .join('\n')}`,
      );
    }
    assert.ok(
      collector.on('/status').some((m) => m.status && /auth_failed|unreachable|outcome_unknown/.test(m.status.text)),
      'statuses were seen and scanned',
    );
    await nr.deploy(integrationFlows({ collector: collector.url, config: config() }));
  });
});

describe('integration: webhooks under Node-RED default settings (admin root "/")', function () {
  this.timeout(120000);
  let nr;
  let collector;
  let sim;

  before(async () => {
    collector = await new Collector().start();
    sim = await startSimulator({ stepMs: 15, talkMs: 300 });
    nr = await new NodeRedProcess({ adminRoot: '/' }).start();
    await nr.deploy(
      integrationFlows({
        collector: collector.url,
        config: {
          provider: '3cx-webapi',
          baseUrl: `${sim.url}/webapi`,
          webhookPath: PATH,
          timeout: 1500,
          rejectUnauthorized: true,
          allowFrom: '',
          credentials: { accessKey: KEY, webhookSecret: SECRET },
        },
      }),
    );
  });
  after(async () => {
    await nr?.stop();
    nr?.cleanup();
    await sim?.close();
    await collector?.close();
  });

  it('takes JSON and form bodies that Node-RED already parsed, and text it did not', async () => {
    const url = `${nr.url}${PATH}/${SECRET}`;
    const send = (type, body) => fetch(url, { method: 'POST', headers: { 'Content-Type': type }, body }).then((r) => r.status);
    assert.equal(await send('application/json', '{"Event":"ringing","Callerid":"1","User":"100","Usertype":"ext","Id":"77_1-0"}'), 200);
    assert.equal(await send('application/x-www-form-urlencoded', 'event=ringing&callerid=1&user=101&usertype=ext&id=77_1-0'), 200);
    assert.equal(await send('text/plain', '{"Event":"ringing","Callerid":05551239988","User":"102","Usertype":"ext","Id":"77_1-0"}'), 200);
    const events = await collector.waitFor('/events', 3);
    assert.deepEqual(events.map((m) => m.payload.extension).sort(), ['100', '101', '102']);
    assert.equal(await send('application/json', '{"Event": '), 400, 'Node-RED itself rejects malformed JSON here');
    assert.equal((await fetch(`${nr.url}/settings`)).status, 200);
  });
});
