'use strict';
// Redis faults under real Node-RED processes in cluster mode (SPEC section 8, issue 13): two
// instances with the same flows behind the round-robin proxy, a redis-server of the test's own
// killed mid-load, stopped and continued, one with another password, and a URL nobody listens on.
// For each fault: Node-RED never exits and logs no unhandled rejection or uncaught exception, the
// event and action nodes turn yellow "redis down" and back to their own status, webhooks keep
// answering (`local`: 200 and emitted once by this instance; `reject`: 503 and nothing emitted),
// and once Redis answers again a re-delivery is a duplicate across instances. Memory and file
// descriptors of a process stay flat over repeated faults.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startRedis } = require('../helpers/redis-server');
const { startReplicas } = require('../helpers/replicas');
const { freePort } = require('../helpers/node-red-process');
const { fn, post, wrapOutput, actionEndpoint, laidOut } = require('../helpers/flows');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const SECRET = 'cluster-faults-secret-5d2e8a41';
const RIGHT_PASSWORD = 'right-redis-pass-7c1a9e';
const WRONG_PASSWORD = 'wrong-redis-pass-3f6b2d';
/** A webhook not answered after this is hung: many command deadlines (500 ms), not a timing check. */
const HANG_GUARD_MS = 5000;
/** How long a status or an event may take to show up before the test gives up (a hang guard). */
const WAIT_MS = 15000;
const LOAD_DELIVERIES = 300;
const LOAD_WORKERS = 10;
const KILL_AFTER = 100;
const CYCLES = 6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The configs: `local` (3CX, redisDown local) and `reject` (call center, redisDown reject) on the
 * test's Redis; `locked` on a Redis that wants another password; `nowhere-local` and
 * `nowhere-reject` on a port nobody listens on. Each has an event node (posting to
 * /events/<name>) and a pbx-status node; one status node reports every one of them.
 */
const CONFIGS = [
  { name: 'local', provider: '3cx-webapi', redis: 'PBX_REDIS_URL', redisDown: 'local' },
  { name: 'reject', provider: 'cloud-callcenter', redis: 'PBX_REDIS_URL', redisDown: 'reject' },
  { name: 'locked', provider: '3cx-webapi', redis: 'PBX_REDIS_LOCKED_URL', redisDown: 'local', password: WRONG_PASSWORD },
  { name: 'nowhere-local', provider: '3cx-webapi', redis: 'PBX_REDIS_NOWHERE_URL', redisDown: 'local' },
  { name: 'nowhere-reject', provider: 'cloud-callcenter', redis: 'PBX_REDIS_NOWHERE_URL', redisDown: 'reject' },
];
const SIM_ENV = { '3cx-webapi': 'PBX_SIM_3CX', 'cloud-callcenter': 'PBX_SIM_CC' };
const SIM_PATH = { '3cx-webapi': '/webapi', 'cloud-callcenter': '/callcenter' };
const hookPath = (name) => `/pbx/fault-${name}/${SECRET}`;

function faultFlows({ collectorUrl }) {
  const z = 'tab-faults';
  const nodes = [{ id: z, type: 'tab', label: 'faults' }];
  const watched = [];
  for (const c of CONFIGS) {
    const cfg = `cfg-${c.name}`;
    watched.push(`ev-${c.name}`, `act-${c.name}`);
    nodes.push(
      {
        id: cfg,
        type: 'pbx-config',
        name: `faults ${c.name}`,
        provider: c.provider,
        baseUrl: `\${${SIM_ENV[c.provider]}}`,
        webhookPath: `/pbx/fault-${c.name}`,
        timeout: 3000,
        rejectUnauthorized: true,
        allowFrom: '',
        redisUrl: `\${${c.redis}}`,
        keyPrefix: 'faults:',
        redisDown: c.redisDown,
        credentials: { ...DEFAULT_CREDENTIALS[c.provider], webhookSecret: SECRET, ...(c.password ? { redisPassword: c.password } : {}) },
      },
      {
        id: `ev-${c.name}`,
        type: 'pbx-event',
        z,
        pbx: cfg,
        events: [],
        extension: '',
        direction: 'any',
        outputs: 1,
        wires: [[`ev-wrap-${c.name}`]],
      },
      fn(`ev-wrap-${c.name}`, wrapOutput, [`ev-post-${c.name}`], z),
      post(`ev-post-${c.name}`, `${collectorUrl}/events/${c.name}`, z),
      ...actionEndpoint({
        name: c.name,
        url: `/it/${c.name}/status`,
        action: { id: `act-${c.name}`, type: 'pbx-status', pbx: cfg, query: '' },
        z,
      }),
    );
  }
  nodes.push(
    { id: 'st', type: 'status', z, scope: watched, wires: [['st-wrap']] },
    fn('st-wrap', numberStatus, ['st-post'], z),
    post('st-post', `${collectorUrl}/status`, z),
  );
  // Without a position Node-RED takes a node for a config node.
  return laidOut(nodes);
}

/** Statuses posted concurrently may arrive out of order: each gets its number on its instance. */
const numberStatus =
  "const seq = (context.get('seq') || 0) + 1; context.set('seq', seq); msg.payload = { status: msg.status, seq }; return msg;";

/** A 3CX "ringing" webhook body of its own call. */
const ringing3cx = (id) => JSON.stringify({ Event: 'ringing', Id: `${id}-1`, User: '202', Usertype: 'ext', Callerid: '0555' });
/** A call center "ring" webhook body of its own call. */
const ringingCc = (uuid) => JSON.stringify({ status: 'ring', uuid, direction: 'callin', extnumber: '8001', caller: '13800000000' });

describe('hardening: Redis faults under two Node-RED processes in cluster mode', function () {
  this.timeout(60000);
  let redis;
  let locked;
  let sim;
  let replicas;
  let callSeq = 0;
  /** Whether act-reject has run an action: its own status is then its result, else empty. */
  let rejectActionRan = false;
  /** A 3CX call id nobody used yet. */
  const newCall = (tag) => `261129${String(++callSeq).padStart(6, '0')}_${tag}`;

  before(async function () {
    this.timeout(20 * 60 * 1000); // a first run may install redis-server with apt-get
    redis = await startRedis();
    locked = await startRedis({ password: RIGHT_PASSWORD });
    sim = await startSimulator({ stepMs: 20, talkMs: 100 });
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    replicas = await startReplicas({
      count: 2,
      env: {
        PBX_REDIS_URL: redis.url,
        PBX_REDIS_LOCKED_URL: locked.url,
        PBX_REDIS_NOWHERE_URL: nowhere,
        ...Object.fromEntries(Object.entries(SIM_ENV).map(([p, v]) => [v, `${sim.url}${SIM_PATH[p]}`])),
      },
      flows: faultFlows,
    });
  });

  afterEach(function () {
    if (this.currentTest.state === 'failed' && process.env.CLUSTER_LOGS) {
      for (const inst of replicas.instances) console.log(inst.logs.slice(-40).join('\n'));
    }
  });

  after(async () => {
    await replicas?.stop();
    await sim?.close();
    await redis?.stop();
    await locked?.stop();
  });

  /** Posts `body` to `url`; the HTTP status, or a failure when nothing answers within the hang guard. */
  async function deliver(url, body) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
        signal: AbortSignal.timeout(HANG_GUARD_MS),
      });
      await res.arrayBuffer();
      return res.status;
    } catch (err) {
      if (err.name === 'TimeoutError') assert.fail(`no answer from ${url} within ${HANG_GUARD_MS} ms: hung`);
      throw err;
    }
  }
  const direct = (i, name, body) => deliver(replicas.directUrl(i, hookPath(name)), body);

  /** Runs the `extensions` query on config `name`'s pbx-status node of instance `i`; its answer. */
  async function extensionsOf(i, name) {
    try {
      const res = await fetch(replicas.directUrl(i, `/it/${name}/status`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ query: 'extensions', params: {} }),
        signal: AbortSignal.timeout(HANG_GUARD_MS),
      });
      return { status: res.status, body: await res.json() };
    } catch (err) {
      if (err.name === 'TimeoutError') assert.fail(`the action on instance ${i} did not answer within ${HANG_GUARD_MS} ms`);
      throw err;
    }
  }

  /** Events emitted for `name` whose raw payload has `id` (3CX `Id` or call center `uuid`). */
  const emitted = (name, id) => replicas.collected(`/events/${name}`, (b) => b.raw && (b.raw.Id === `${id}-1` || b.raw.uuid === id));

  async function until(what, check, got = () => '') {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      if (check()) return;
      if (Date.now() > deadline) assert.fail(`still waiting for ${what} after ${WAIT_MS} ms ${got()}`);
      await sleep(50);
    }
  }

  /** The latest status node `id` showed on instance `i` ({ fill, shape, text }, or undefined). */
  function statusOf(i, id) {
    const all = replicas.collected('/status', (b) => b.status && b.status.source && b.status.source.id === id);
    const mine = all.filter((m) => m.instance === i).sort((a, b) => a.body.seq - b.body.seq);
    if (!mine.length) return undefined;
    const { fill, shape, text } = mine[mine.length - 1].body.status;
    return { fill, shape, text };
  }
  const isRedisDown = (s) => s !== undefined && s.fill === 'yellow' && s.shape === 'ring' && s.text === 'redis down';
  const isOwnEventStatus = (s) =>
    (s?.fill === 'grey' && s.text === 'waiting for events') || (s?.fill === 'green' && /^\d+ · \d\d:\d\d:\d\d$/.test(s.text));
  const nodesOf = (names) => names.flatMap((n) => [`ev-${n}`, `act-${n}`]);

  async function untilStatus(ids, what, check) {
    await until(
      `${what} on ${ids.join(', ')}`,
      () => [0, 1].every((i) => ids.every((id) => check(statusOf(i, id)))),
      () => JSON.stringify([0, 1].map((i) => Object.fromEntries(ids.map((id) => [id, statusOf(i, id)])))),
    );
  }
  const untilDown = (names) => untilStatus(nodesOf(names), 'yellow "redis down"', isRedisDown);

  /** Each node's own status again: the event nodes' count or "waiting", the action nodes' last result. */
  async function untilOwnStatus() {
    await untilStatus(['ev-local', 'ev-reject'], 'its count or "waiting"', isOwnEventStatus);
    await untilStatus(['act-local'], 'its last result', (s) => s?.fill === 'green' && s.text === 'extensions ok');
    await untilStatus(['act-reject'], 'its own status', (s) =>
      rejectActionRan ? s?.fill === 'green' && s.text === 'extensions ok' : s !== undefined && s.fill === undefined && s.text === undefined,
    );
  }

  function assertAlive() {
    for (const [i, nr] of replicas.instances.entries()) {
      assert.equal(nr.child.exitCode, null, `instance ${i} exited:\n${nr.logs.slice(-20).join('\n')}`);
      assert.equal(nr.child.signalCode, null, `instance ${i} ended by a signal`);
      const bad = nr.logs.filter((l) => /unhandled|uncaught/i.test(l));
      assert.deepEqual(bad, [], `instance ${i} logged an unhandled failure`);
    }
  }

  /** Delivered twice to each instance: emitted exactly once in total (the store is shared again). */
  async function assertSharedAgain(tag) {
    const call = newCall(tag);
    const uuid = `${tag}-${++callSeq}`;
    for (const i of [0, 1, 0, 1]) {
      assert.equal(await direct(i, 'local', ringing3cx(call)), 200);
      assert.equal(await direct(i, 'reject', ringingCc(uuid)), 200);
    }
    await until('the re-delivered events', () => emitted('local', call).length >= 1 && emitted('reject', uuid).length >= 1);
    await sleep(500);
    assert.equal(emitted('local', call).length, 1, 'local: one emission for four deliveries');
    assert.equal(emitted('reject', uuid).length, 1, 'reject: one emission for four deliveries');
  }

  it('starts with every node in its own status, and the shared state works (deploy with unusable Redis URLs works too)', async () => {
    for (const i of [0, 1]) assert.equal((await extensionsOf(i, 'local')).status, 200);
    await assertSharedAgain('start');
    await untilOwnStatus();
    assertAlive();
  });

  it('SIGKILL of Redis mid-load: local answers 200 and emits each once; reject answers 200 (emitted once) or 503 (nothing, its retry taken once after the restart); yellow, then back and shared', async () => {
    // Two of three deliveries to the `local` config, one of three to `reject`, through the balancer.
    const load = Array.from({ length: LOAD_DELIVERIES }, (_, n) =>
      n % 3 === 2 ? { name: 'reject', id: `load-${++callSeq}` } : { name: 'local', id: newCall(`load${n}`) },
    );
    const bodyOf = ({ name, id }) => (name === 'local' ? ringing3cx(id) : ringingCc(id));
    let next = 0;
    let answered = 0;
    let killed;
    const stopAt = Date.now() + 30000; // bounded in time as in count
    const worker = async () => {
      while (next < load.length && Date.now() < stopAt) {
        const d = load[next++];
        d.status = await deliver(replicas.webhookUrl(hookPath(d.name)), bodyOf(d));
        if (++answered === KILL_AFTER) killed = redis.kill('SIGKILL');
      }
    };
    await Promise.all(Array.from({ length: LOAD_WORKERS }, worker));
    await killed;
    assert.equal(answered, LOAD_DELIVERIES);
    const local = load.filter((d) => d.name === 'local');
    const taken = load.filter((d) => d.name === 'reject' && d.status === 200);
    const refused = load.filter((d) => d.name === 'reject' && d.status === 503);
    assert.deepEqual(
      local.filter((d) => d.status !== 200),
      [],
    );
    assert.equal(taken.length + refused.length, LOAD_DELIVERIES / 3, 'reject: every delivery answered 200 or 503');
    assert.ok(refused.length > 0 && taken.length > 0, `reject: ${taken.length} taken, ${refused.length} refused`);
    await until('every load event', () => [...local, ...taken].every((d) => emitted(d.name, d.id).length >= 1));
    await untilDown(['local', 'reject']);
    const downCall = newCall('killed');
    assert.equal(await direct(1, 'local', ringing3cx(downCall)), 200);
    await until('the local event', () => emitted('local', downCall).length === 1);
    assert.equal(emitted('local', downCall)[0].instance, 1, 'emitted by the instance that took it, from its own state');
    await sleep(500);
    assert.deepEqual(
      [...local, ...taken].filter((d) => emitted(d.name, d.id).length !== 1),
      [],
      'each delivery answered 200 emitted exactly once',
    );
    assert.deepEqual(
      refused.filter((d) => emitted(d.name, d.id).length !== 0),
      [],
      'nothing emitted for a delivery answered 503',
    );

    await redis.restart();
    await untilOwnStatus();
    await assertSharedAgain('after-kill');
    // The PBX's retries of what was refused are taken now, each once.
    for (const d of refused) assert.equal(await deliver(replicas.webhookUrl(hookPath('reject')), bodyOf(d)), 200);
    await until('the retried events', () => refused.every((d) => emitted('reject', d.id).length >= 1));
    await sleep(300);
    assert.deepEqual(
      refused.filter((d) => emitted('reject', d.id).length !== 1),
      [],
    );
    assertAlive();
  });

  it('SIGSTOP / SIGCONT: deliveries answered while Redis hangs (no hang), yellow, then back and shared', async () => {
    redis.pause();
    const calls = [];
    const refused = [];
    try {
      const answers = await Promise.all(
        [0, 1].flatMap((i) =>
          Array.from({ length: 10 }, () => {
            const call = newCall(`paused${i}`);
            const uuid = `paused-${i}-${++callSeq}`;
            calls.push(call);
            refused.push(uuid);
            return Promise.all([direct(i, 'local', ringing3cx(call)), direct(i, 'reject', ringingCc(uuid))]);
          }),
        ),
      );
      assert.deepEqual(
        answers.filter(([l, r]) => l !== 200 || r !== 503),
        [],
      );
      await untilDown(['local', 'reject']);
      await until('the local events', () => calls.every((c) => emitted('local', c).length >= 1));
      // Actions go on too: the call center's token comes from the instance itself meanwhile.
      for (const i of [0, 1]) {
        const { status, body } = await extensionsOf(i, 'reject');
        assert.equal(status, 200);
        assert.ok(Array.isArray(body.payload) && body.payload.length > 0, JSON.stringify(body).slice(0, 200));
      }
      rejectActionRan = true;
      await untilDown(['reject']);
    } finally {
      redis.resume();
    }
    await untilOwnStatus();
    await sleep(300);
    assert.deepEqual(
      calls.filter((c) => emitted('local', c).length !== 1),
      [],
    );
    assert.deepEqual(
      refused.filter((u) => emitted('reject', u).length !== 0),
      [],
    );
    await assertSharedAgain('after-pause');
    // The claims Redis took in while stopped were undone: the PBX's retry of a refused one is new, once.
    const [retried] = refused;
    for (const i of [1, 0]) assert.equal(await direct(i, 'reject', ringingCc(retried)), 200);
    await until('the retried event', () => emitted('reject', retried).length === 1);
    await sleep(300);
    assert.equal(emitted('reject', retried).length, 1);
    assertAlive();
  });

  it('SIGSTOP: a delivery refused (503) by one instance and retried on the other right after SIGCONT is emitted once', async () => {
    const uuid = `race-${++callSeq}`;
    redis.pause();
    try {
      assert.equal(await direct(0, 'reject', ringingCc(uuid)), 503);
    } finally {
      redis.resume();
    }
    // The PBX retries at once, and the balancer sends it to the other instance; 503 again is fine
    // (it retries later), but once answered 200 the event must have been emitted.
    let status;
    for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
      status = await direct(1, 'reject', ringingCc(uuid));
      if (status !== 200) await sleep(250);
    }
    assert.equal(status, 200);
    await until('the retried event', () => emitted('reject', uuid).length >= 1);
    await sleep(300);
    assert.equal(emitted('reject', uuid).length, 1);
    await untilOwnStatus();
    assertAlive();
  });

  it('wrong password: yellow, webhooks answered from the own state, the config logs the refused password and never a password', async () => {
    await untilDown(['locked']);
    const call = newCall('locked');
    assert.equal(await direct(0, 'locked', ringing3cx(call)), 200);
    await until('the event', () => emitted('locked', call).length === 1);
    for (const [i, nr] of replicas.instances.entries()) {
      const logs = [...(nr.earlierLogs ?? []), ...nr.logs];
      assert.ok(
        logs.some((l) => /\[pbx-config:faults locked\]/.test(l) && /refused the password/.test(l)),
        `instance ${i}: the config says the password was refused`,
      );
      assert.deepEqual(
        logs.filter((l) => l.includes(WRONG_PASSWORD) || l.includes(RIGHT_PASSWORD)),
        [],
      );
    }
    assertAlive();
  });

  it('unreachable URL at deploy: deployed, yellow, local answers 200 and emits, reject answers 503 and emits nothing', async () => {
    await untilDown(['nowhere-local', 'nowhere-reject']);
    const call = newCall('nowhere');
    const uuid = `nowhere-${++callSeq}`;
    for (const i of [0, 1]) {
      assert.equal(await direct(i, 'nowhere-reject', ringingCc(uuid)), 503);
    }
    assert.equal(await deliver(replicas.webhookUrl(hookPath('nowhere-local')), ringing3cx(call)), 200);
    await until('the event', () => emitted('nowhere-local', call).length === 1);
    await sleep(300);
    assert.equal(emitted('nowhere-reject', uuid).length, 0);
    assertAlive();
  });

  it(`memory and file descriptors stay flat over ${CYCLES} fault cycles`, async () => {
    const nr = replicas.instances[0];
    const pid = nr.child.pid;
    const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
    const fds = () => fs.readdirSync(`/proc/${pid}/fd`).length;
    const cycle = async (n) => {
      if (n % 2 === 0) await redis.kill('SIGKILL');
      else redis.pause();
      const calls = [];
      const sends = [];
      for (let k = 0; k < 20; k++) {
        const call = newCall(`cycle${n}`);
        calls.push(call);
        sends.push(direct(k % 2, 'local', ringing3cx(call)), direct(k % 2, 'reject', ringingCc(`cycle-${n}-${k}`)));
      }
      await Promise.all(sends);
      await untilDown(['local', 'reject']);
      if (n % 2 === 0) await redis.restart();
      else redis.resume();
      await untilOwnStatus();
      await until('the cycle events', () => calls.every((c) => emitted('local', c).length >= 1));
    };
    await cycle(0); // warm-up: the first fault's code paths loaded
    const before = { rss: rssKb(), fds: fds() };
    for (let n = 1; n <= CYCLES; n++) await cycle(n);
    await assertSharedAgain('after-cycles');
    const after = { rss: rssKb(), fds: fds() };
    assert.ok(after.fds <= before.fds + 20, `fds ${before.fds} → ${after.fds}`);
    assert.ok(after.rss <= before.rss + 60 * 1024, `VmRSS ${before.rss} kB → ${after.rss} kB`);
    assertAlive();
  });
});
