'use strict';
// AccountKeeper: a config node's account and webhook route outlive its redeploys; deliveries that
// arrive while the flows restart are held, then taken, or answered 503 — never 200 and dropped.
const assert = require('node:assert/strict');
const http = require('node:http');
const { AccountKeeper } = require('../../dist/core/account-keeper');
const { Account } = require('../../dist/core/account');
const { WebhookRouter } = require('../../dist/core/webhook-router');
const { providerOf } = require('../../dist/providers');

/** A gate the test opens and closes, as Node-RED's flows:stopping / flows:started do. */
function testGate(open = false) {
  const listeners = new Set();
  return {
    get open() {
      return open;
    },
    set(value) {
      open = value;
      for (const l of [...listeners]) l(value);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get listeners() {
      return listeners.size;
    },
  };
}

const silent = { debug() {}, warn() {} };
const definition = providerOf('3cx-webapi');

function attachRequest(overrides = {}) {
  const created = [];
  const request = {
    settingsKey: 'k1',
    provider: '3cx-webapi',
    created,
    create(memory, log) {
      const account = new Account({
        settings: { provider: '3cx-webapi', baseUrl: 'http://127.0.0.1:9', timeout: 1000, rejectUnauthorized: true, credentials: {} },
        definition,
        log,
        memory,
      });
      created.push(account);
      return account;
    },
    route: { path: '/pbx/keep' },
    onRejected() {},
    log: silent,
    ...overrides,
  };
  return request;
}

const ringing = (n) => JSON.stringify({ Event: 'ringing', Id: `261129000${n}_1-1`, User: '202', Usertype: 'ext' });

describe('core: AccountKeeper', () => {
  let server;
  let router;
  let base;

  beforeEach(async () => {
    router = new WebhookRouter();
    server = http.createServer((req, res) =>
      router.handle(req, res, () => {
        res.statusCode = 404;
        res.end('no route');
      }),
    );
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  afterEach(() => new Promise((r) => server.close(r)));

  const send = (body, path = '/pbx/keep') =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }).then((r) => r.status);

  function listen(account) {
    const got = [];
    account.subscribe((e) => got.push(e.legId));
    return got;
  }

  it('holds deliveries while the gate is closed and takes them in order once it opens', async () => {
    const gate = testGate(false);
    const keeper = new AccountKeeper(router, gate);
    const account = keeper.attach('cfg', attachRequest());
    const got = listen(account);
    const answers = [send(ringing(1)), send(ringing(2))];
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(keeper.heldCount, 2);
    assert.deepEqual(got, []);
    gate.set(true);
    assert.deepEqual(await Promise.all(answers), [200, 200]);
    assert.deepEqual(got, ['2611290001_1-1', '2611290002_1-1']);
    assert.equal(await send(ringing(3)), 200);
    assert.equal(got.length, 3, 'taken at once while the gate is open');
    keeper.close();
  });

  it('answers 503 past the held count, past the held bytes, and when a held delivery waited too long', async () => {
    const gate = testGate(false);
    const keeper = new AccountKeeper(router, gate, { count: 2, bytes: 1_000_000, ms: 150 });
    keeper.attach('cfg', attachRequest());
    const first = [send(ringing(1)), send(ringing(2))];
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await send(ringing(3)), 503, 'third one: over the count');
    assert.deepEqual(await Promise.all(first), [503, 503], 'the held ones expire');
    keeper.close();

    const router2 = router;
    const small = new AccountKeeper(router2, testGate(false), { count: 100, bytes: 150, ms: 5000 });
    small.attach('cfg2', attachRequest({ route: { path: '/pbx/small' } }));
    const held = send(ringing(4), '/pbx/small');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await send(ringing(5), '/pbx/small'), 503, 'over the bytes');
    small.close();
    assert.equal(await held, 503, 'closing answers what is held');
  });

  it('a redeploy with the same settings keeps the very account; changed settings keep its memory; another provider starts empty', async () => {
    const gate = testGate(true);
    const keeper = new AccountKeeper(router, gate);
    const request = attachRequest();
    const first = keeper.attach('cfg', request);
    assert.equal(await send(ringing(1)), 200);
    assert.equal(first.tracker.size, 1);

    gate.set(false);
    keeper.detach('cfg', false);
    const second = keeper.attach('cfg', attachRequest());
    assert.equal(second, first, 'same settings: the running account (tokens, duplicates, calls)');
    gate.set(true);
    const got = listen(second);
    assert.equal(await send(ringing(1)), 200);
    assert.deepEqual(got, [], 'a re-delivery after the redeploy is a duplicate');

    gate.set(false);
    keeper.detach('cfg', false);
    const third = keeper.attach('cfg', attachRequest({ settingsKey: 'k2' }));
    gate.set(true);
    assert.notEqual(third, first);
    assert.equal(third.tracker, first.tracker, 'changed settings: calls carried over');
    const got3 = listen(third);
    assert.equal(await send(ringing(1)), 200);
    assert.deepEqual(got3, [], 'duplicates carried over');

    gate.set(false);
    keeper.detach('cfg', false);
    const fourth = keeper.attach('cfg', attachRequest({ settingsKey: 'k3', provider: 'voipnow' }));
    gate.set(true);
    assert.notEqual(fourth.tracker, first.tracker, 'another provider: nothing carried over');
    keeper.close();
  });

  it('a removed config node ends its route and answers its held deliveries 503', async () => {
    const gate = testGate(false);
    const keeper = new AccountKeeper(router, gate);
    keeper.attach('cfg', attachRequest());
    const held = send(ringing(1));
    await new Promise((r) => setTimeout(r, 50));
    keeper.detach('cfg', true);
    assert.equal(await held, 503);
    assert.equal(await send(ringing(2)), 404, 'no route left behind');
    assert.deepEqual(router.paths, []);
    assert.equal(gate.listeners, 0, 'a keeper with nothing kept lets go of the gate');
  });

  it('a closed node with no successor by the time the flows have started is ended then', async () => {
    const gate = testGate(true);
    const keeper = new AccountKeeper(router, gate);
    keeper.attach('cfg', attachRequest());
    gate.set(false);
    keeper.detach('cfg', false);
    const held = send(ringing(1));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(router.paths, ['/pbx/keep'], 'the route stays while the flows restart');
    gate.set(true);
    assert.equal(await held, 503);
    assert.deepEqual(router.paths, []);
  });

  it('a changed path moves the route; a path used by another config node is refused and nothing is kept', async () => {
    const keeper = new AccountKeeper(router, testGate(true));
    keeper.attach('a', attachRequest());
    keeper.detach('a', false);
    keeper.attach('a', attachRequest({ route: { path: '/pbx/moved' } }));
    assert.deepEqual(router.paths, ['/pbx/moved']);
    assert.throws(() => keeper.attach('b', attachRequest({ route: { path: '/pbx/moved' } })), /already used/);
    assert.deepEqual(router.paths, ['/pbx/moved']);
    keeper.close();
    assert.deepEqual(router.paths, []);
  });

  it('a redeploy that changes only the trusted proxies applies them', async () => {
    const keeper = new AccountKeeper(router, testGate(true));
    const route = { path: '/pbx/keep', allowFrom: '192.0.2.0/24' };
    const forwarded = () =>
      fetch(`${base}/pbx/keep`, { method: 'POST', headers: { 'X-Forwarded-For': '192.0.2.10' }, body: ringing(1) }).then((r) => r.status);
    keeper.attach('cfg', attachRequest({ route }));
    assert.equal(await forwarded(), 401);
    keeper.detach('cfg', false);
    keeper.attach('cfg', attachRequest({ route: { ...route, trustedProxies: '127.0.0.1' } }));
    assert.equal(await forwarded(), 200);
    keeper.close();
  });

  it('a path a closed node is leaving goes to the node that takes it in the same deploy, with what was held on it', async () => {
    const gate = testGate(true);
    const keeper = new AccountKeeper(router, gate);
    keeper.attach('a', attachRequest({ route: { path: '/pbx/x' } }));
    keeper.attach('b', attachRequest({ route: { path: '/pbx/y' } }));
    gate.set(false);
    keeper.detach('a', false);
    keeper.detach('b', false);
    const held = send(ringing(1), '/pbx/x');
    await new Promise((r) => setTimeout(r, 50));
    // b starts first and moves to a's path; a then moves elsewhere.
    const b = keeper.attach('b', attachRequest({ route: { path: '/pbx/x' } }));
    const got = listen(b);
    keeper.attach('a', attachRequest({ route: { path: '/pbx/z' } }));
    assert.deepEqual(router.paths.sort(), ['/pbx/x', '/pbx/z']);
    gate.set(true);
    assert.equal(await held, 200);
    assert.deepEqual(got, ['2611290001_1-1'], 'the delivery held on the path reaches its new owner');
    gate.set(false);
    keeper.detach('b', false);
    keeper.detach('a', false);
    assert.throws(
      () => {
        keeper.attach('b', attachRequest({ route: { path: '/pbx/x' } }));
        keeper.attach('a', attachRequest({ route: { path: '/pbx/x' } }));
      },
      /already used/,
      'two running nodes on one path: still a conflict',
    );
    keeper.close();
  });

  it('a listener that throws does not escape the delivery: logged, counted, the other listeners still served', async () => {
    const keeper = new AccountKeeper(router, testGate(true));
    const warnings = [];
    const account = keeper.attach('cfg', attachRequest({ log: { debug() {}, warn: (m) => warnings.push(m) } }));
    account.subscribe(() => {
      throw new Error('listener bug');
    });
    const got = listen(account);
    assert.equal(await send(ringing(1)), 200);
    assert.deepEqual(got, ['2611290001_1-1'], 'the other listeners still get the event');
    assert.equal(account.counters.failed, 1);
    assert.match(warnings.join('\n'), /listener bug/);
    keeper.close();
  });
});
