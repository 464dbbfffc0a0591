'use strict';
// The queue statistics rules of SPEC section 10 (QueueStats over the in-process state store), with a
// clock of the test's own. Events go through the real CallTracker first, as pbx-stats receives them.
const assert = require('node:assert/strict');
const { CallTracker } = require('../../dist/core/call-tracker');
const { QueueStats, MAX_QUEUES, queuesOf } = require('../../dist/core/queue-stats');
const { MemoryStore } = require('../../dist/core/state');
const { agentCountsOf } = require('../../dist/nodes/pbx-stats');

const T0 = Date.parse('2026-11-29T09:00:00.000Z');

function setup({ queues = [], windowMinutes = 15, serviceLevelSeconds = 20 } = {}) {
  const clock = { now: T0 };
  const store = new MemoryStore({ configId: 'cfg', now: () => clock.now });
  const tracker = new CallTracker({ now: () => clock.now });
  const stats = new QueueStats({
    store,
    owner: 'n1',
    queues,
    windowMinutes,
    serviceLevelSeconds,
    hasEnded: async (callId) => tracker.hasEnded(callId),
    now: () => clock.now,
  });
  /** Sends one event at `t` seconds after T0, as the account would after its tracker. */
  async function at(t, callId, event, extra = {}, { unseen = false } = {}) {
    clock.now = T0 + t * 1000;
    const out = tracker.apply({
      event,
      provider: '3cx-webapi',
      providerEvent: event,
      callId,
      direction: 'inbound',
      timestamp: new Date(clock.now).toISOString(),
      ...extra,
    });
    if (out && !unseen) await stats.apply(out);
    return out;
  }
  const queue = (ext) => ({ extension: ext, extensionType: 'queue' });
  const agent = (ext) => ({ extension: ext, extensionType: 'extension' });
  async function figures(t) {
    clock.now = T0 + t * 1000;
    return Object.fromEntries((await stats.figures()).map((f) => [f.queue, f]));
  }
  return { at, queue, agent, figures, store, clock };
}

describe('queue statistics (SPEC section 10)', () => {
  it('an answered call: offered, answered, its wait, its talk, the service level', async () => {
    const { at, queue, agent, figures } = setup();
    await at(0, 'c1', 'ringing', queue('800'));
    await at(1, 'c1', 'ringing', agent('201'));
    await at(5, 'c1', 'answered', agent('201'));
    await at(65, 'c1', 'hangup', { ...agent('201'), outcome: 'answered' });
    assert.deepEqual((await figures(70))['800'], {
      queue: '800',
      window: 15,
      offered: 1,
      answered: 1,
      abandoned: 0,
      abandonRate: 0,
      serviceLevelPercent: 100,
      averageWaitSeconds: 5,
      longestWaitSeconds: 5,
      averageTalkSeconds: 60,
      waitingNow: 0,
      longestWaitingNowSeconds: 0,
    });
  });

  it('abandoned, waiting now and the service level over all offered calls', async () => {
    const { at, queue, agent, figures } = setup({ serviceLevelSeconds: 20 });
    await at(0, 'a', 'ringing', queue('800'));
    await at(30, 'a', 'hangup', { ...queue('800'), outcome: 'missed' });
    await at(10, 'b', 'ringing', queue('800'));
    await at(35, 'b', 'answered', agent('202'));
    await at(40, 'c', 'ringing', queue('800'));
    await at(41, 'c', 'answered', agent('203'));
    await at(50, 'd', 'ringing', queue('800'));
    const f = (await figures(62.5))['800'];
    assert.equal(f.offered, 4);
    assert.equal(f.answered, 2);
    assert.equal(f.abandoned, 1);
    assert.equal(f.abandonRate, 25);
    assert.equal(f.serviceLevelPercent, 25, 'only c within 20 s, out of 4 offered');
    assert.equal(f.averageWaitSeconds, 18.7, 'a 30, b 25, c 1');
    assert.equal(f.longestWaitSeconds, 30);
    assert.equal(f.averageTalkSeconds, null, 'no talk has ended');
    assert.equal(f.waitingNow, 1);
    assert.equal(f.longestWaitingNowSeconds, 12.5);
  });

  it('a transfer into another queue: talk ends in the first, the second offers and answers it again', async () => {
    const { at, queue, agent, figures } = setup();
    await at(0, 't', 'ringing', queue('800'));
    await at(5, 't', 'answered', agent('201'));
    await at(20, 't', 'ringing', queue('801'));
    let f = await figures(25);
    assert.equal(f['800'].averageTalkSeconds, 15);
    assert.equal(f['801'].waitingNow, 1);
    await at(30, 't', 'answered', { ...agent('301'), transfer: 'blind' });
    await at(90, 't', 'hangup', { ...agent('301'), outcome: 'answered' });
    f = await figures(91);
    assert.deepEqual([f['800'].offered, f['800'].answered, f['800'].abandoned, f['800'].averageTalkSeconds], [1, 1, 0, 15]);
    assert.deepEqual(
      [f['801'].offered, f['801'].answered, f['801'].averageWaitSeconds, f['801'].averageTalkSeconds, f['801'].waitingNow],
      [1, 1, 10, 60, 0],
    );
  });

  it('a call moved unanswered to another queue is offered only in the first; abandoned in the second', async () => {
    const { at, queue, figures } = setup();
    await at(0, 'm', 'ringing', queue('800'));
    await at(60, 'm', 'ringing', queue('801'));
    await at(70, 'm', 'hangup', { ...queue('801'), outcome: 'missed' });
    const f = await figures(80);
    assert.deepEqual([f['800'].offered, f['800'].answered, f['800'].abandoned, f['800'].waitingNow], [1, 0, 0, 0]);
    assert.deepEqual([f['801'].offered, f['801'].abandoned, f['801'].averageWaitSeconds], [1, 1, 10]);
  });

  it('a call answered, transferred into a queue and hung up there waiting is abandoned there', async () => {
    const { at, queue, agent, figures } = setup();
    await at(0, 'x', 'ringing', queue('800'));
    await at(2, 'x', 'answered', agent('201'));
    await at(10, 'x', 'ringing', queue('801'));
    await at(25, 'x', 'hangup', { ...queue('801'), outcome: 'answered' });
    const f = await figures(30);
    assert.deepEqual([f['801'].offered, f['801'].answered, f['801'].abandoned], [1, 0, 1]);
  });

  it('counts calls that entered within the window only, to the second; waiting ones whenever they entered', async () => {
    const { at, queue, agent, figures } = setup({ windowMinutes: 15 });
    await at(0, 'early', 'ringing', queue('800'));
    await at(10, 'early', 'answered', agent('201'));
    await at(30, 'old-waiting', 'ringing', queue('800'));
    await at(300, 'late', 'ringing', queue('800'));
    await at(305, 'late', 'answered', agent('202'));
    const f = (await figures(15 * 60 + 20))['800'];
    assert.equal(f.offered, 2, 'early (entered 15 min 20 s ago) is out; old-waiting (14 min 50 s) and late are in');
    assert.equal(f.answered, 1);
    assert.equal(f.averageWaitSeconds, 5);
    await at(20, 'gone', 'ringing', queue('700'));
    await at(25, 'gone', 'hangup', { ...queue('700'), outcome: 'missed' });
    assert.deepEqual(Object.keys(await figures(15 * 60 + 40)), ['800'], 'queue 700: nobody entered within the window, nobody waits');
    const later = (await figures(15 * 60 + 40))['800'];
    assert.equal(later.offered, 1, 'old-waiting left the window');
    assert.equal(later.waitingNow, 1, 'but still waits');
    assert.equal(later.longestWaitingNowSeconds, 15 * 60 + 10);
  });

  it('queues named in Queues: an untyped extension (VoipNow) and an inbound call’s called number (call center)', async () => {
    const { at, queue, agent, figures } = setup({ queues: ['0003*800', '02079460000'] });
    await at(0, 'v', 'ringing', agent('0003*800'));
    await at(1, 'v', 'ringing', agent('0003*201'));
    await at(4, 'v', 'answered', agent('0003*800'));
    await at(6, 'v', 'answered', agent('0003*201'));
    await at(0, 'cc', 'ringing', { ...agent('9001'), did: '02079460000' });
    await at(3, 'cc', 'ringing', { ...agent('9002'), to: '02079460000' });
    await at(8, 'cc', 'answered', agent('9002'));
    await at(0, 'other', 'ringing', queue('900'));
    const f = await figures(10);
    assert.deepEqual(Object.keys(f), ['0003*800', '02079460000'], 'only the named queues, even when others are typed queue');
    assert.deepEqual([f['0003*800'].offered, f['0003*800'].answered, f['0003*800'].averageWaitSeconds], [1, 1, 6]);
    assert.deepEqual([f['02079460000'].offered, f['02079460000'].answered, f['02079460000'].averageWaitSeconds], [1, 1, 8]);
  });

  it('a lost answer webhook: the hangup’s outcome counts it answered, with no wait; a synthetic hangup ends the wait without an abandon', async () => {
    const { at, queue, figures } = setup();
    await at(0, 'lost', 'ringing', queue('800'));
    await at(40, 'lost', 'hangup', { extension: '201', extensionType: 'extension', outcome: 'answered' });
    await at(0, 'stale', 'ringing', queue('800'));
    await at(50, 'stale', 'hangup', { outcome: 'unknown', synthetic: true, providerEvent: 'stale' });
    const f = (await figures(60))['800'];
    assert.deepEqual([f.offered, f.answered, f.abandoned, f.waitingNow], [2, 1, 0, 0]);
    assert.equal(f.averageWaitSeconds, null, 'how long the lost-answer call waited is not known');
    assert.equal(f.serviceLevelPercent, 0);
  });

  it('webhooks overtaking each other: a hangup or an answer before the queue ringing still counts, nothing left waiting', async () => {
    const { at, queue, agent, figures, store } = setup();
    await at(0, 'h', 'hangup', { ...queue('800'), outcome: 'missed' });
    await at(0.1, 'h', 'ringing', queue('800'));
    await at(1, 'a', 'answered', agent('201'));
    await at(1.2, 'a', 'ringing', queue('800'));
    await at(9, 'a', 'hangup', { ...agent('201'), outcome: 'answered' });
    await at(2, 'b', 'hangup', { ...agent('202'), outcome: 'answered' });
    await at(2.1, 'b', 'ringing', queue('800'));
    const f = (await figures(10))['800'];
    assert.deepEqual([f.offered, f.answered, f.abandoned, f.waitingNow], [3, 2, 1, 0]);
    assert.equal(f.averageWaitSeconds, 0, 'only a, answered before it was seen entering, has a wait: none');
    await at(200, 'direct', 'ringing', agent('203'));
    await at(210, 'direct', 'hangup', { ...agent('203'), outcome: 'answered' });
    assert.deepEqual(await store.get('stats:n1:call:direct'), { endedAs: 'answered' }, 'kept in case its queue ringing is late');
    await figures(271);
    assert.equal(await store.get('stats:n1:call:direct'), undefined, 'gone a minute later');
  });

  it('a hangup the node missed (it was being redeployed): the call no longer waits once the account has it ended', async () => {
    const { at, queue, figures } = setup();
    await at(0, 'r', 'ringing', queue('800'));
    await at(0, 's', 'ringing', queue('800'));
    await at(5, 'r', 'hangup', { ...queue('800'), outcome: 'missed' }, { unseen: true });
    const f = (await figures(10))['800'];
    assert.deepEqual([f.offered, f.abandoned, f.waitingNow, f.longestWaitingNowSeconds], [2, 0, 1, 10]);
  });

  it('a transferred leg’s hangup does not end the call in its queue', async () => {
    const { at, queue, agent, figures } = setup();
    await at(0, 'l', 'ringing', queue('800'));
    await at(4, 'l', 'answered', agent('201'));
    await at(10, 'l', 'ringing', queue('801'));
    const leg = await at(11, 'l', 'hangup', { ...agent('201'), outcome: 'answered', legTransferred: true });
    assert.equal(leg.event, 'hangup');
    let f = await figures(12);
    assert.equal(f['801'].waitingNow, 1, 'still waiting in 801');
    await at(14, 'l', 'answered', agent('301'));
    f = await figures(15);
    assert.deepEqual([f['801'].answered, f['801'].abandoned, f['801'].averageWaitSeconds], [1, 0, 4]);
  });

  it('queue names that are prototype names are queues like any other', async () => {
    const { at, queue, figures } = setup();
    for (const [i, name] of ['__proto__', 'constructor', 'toString'].entries()) {
      await at(i, `p${i}`, 'ringing', queue(name));
    }
    const f = await figures(10);
    assert.deepEqual(Object.keys(f).sort(), ['__proto__', 'constructor', 'toString']);
    for (const name of Object.keys(f)) assert.equal(f[name].waitingNow, 1);
  });

  it('memory follows the window, not the traffic: 6,000 calls over 2 hours leave the keys of the last window', async () => {
    const { at, queue, agent, figures, store } = setup({ windowMinutes: 15 });
    for (let i = 0; i < 6000; i++) {
      const t = i * 1.2;
      const q = queue(`8${i % 5}`);
      await at(t, `c${i}`, 'ringing', q);
      if (i % 3) await at(t + 0.5, `c${i}`, 'answered', agent('201'));
      await at(t + 1, `c${i}`, 'hangup', { ...q, outcome: i % 3 ? 'answered' : 'missed' });
    }
    const f = await figures(7200);
    assert.equal(f['80'].offered, 150, '15 min / 1.2 s / 5 queues');
    // Per queue the minute slots of the window and two more (their TTL), a waiting index; the queues key; no call keys.
    assert.ok(store.size <= 5 * (15 + 3) + 5 + 1, `the store holds ${store.size} keys`);
  });

  it(`follows at most ${MAX_QUEUES} queues seen`, async () => {
    const { at, queue, figures } = setup();
    for (let i = 0; i < MAX_QUEUES + 20; i++) await at(0, `q${i}`, 'ringing', queue(`q${i}`));
    assert.equal(Object.keys(await figures(1)).length, MAX_QUEUES);
  });

  it('Queues: a comma list, trimmed, no empties or repeats; agents counted from queue-agents', () => {
    assert.deepEqual(queuesOf(' 800, 801,,800 '), ['800', '801']);
    assert.deepEqual(queuesOf(undefined), []);
    assert.equal(queuesOf(Array.from({ length: 500 }, (_, i) => `q${i}`).join(',')).length, MAX_QUEUES);
    assert.deepEqual(
      agentCountsOf([
        { extension: '1', loggedIn: true, state: 'idle' },
        { extension: '2', loggedIn: true, state: 'busy' },
        { extension: '3', loggedIn: true, state: 'ringing' },
        { extension: '4', loggedIn: false, state: 'offline' },
      ]),
      { loggedIn: 3, available: 1, busy: 2 },
    );
    assert.deepEqual(agentCountsOf('nope'), { loggedIn: 0, available: 0, busy: 0 });
  });
});
