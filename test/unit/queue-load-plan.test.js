'use strict';
// The simulator's queue load planner: options bounded, seeded, Poisson arrivals, answer / abandon /
// transfer shares, all as properties of the generated plan (no timing).
const assert = require('node:assert/strict');
const { planQueueLoad, queueLoadSettings, QueueLoadOptionError, QUEUE_LOAD_LIMITS } = require('../../dist/simulator');

const QUEUES = ['820', '807', '830'];
const settings = (options) => queueLoadSettings(options, QUEUES);
const plan = (options) => [...planQueueLoad(settings(options))];

describe('queue load planner', () => {
  it('the same seed and options plan the same calls; another seed others', () => {
    const options = { seed: 42, calls: 50, ratePerSecond: 2, transferRatio: 0.3 };
    assert.deepEqual(plan(options), plan(options));
    assert.notDeepEqual(plan(options), plan({ ...options, seed: 43 }));
    // A concrete plan: changing the generator changes this test on purpose.
    const first = plan({ seed: 7, calls: 2, ratePerMinute: 60, queues: ['820'], waitMs: [1000, 2000], abandonMs: 500, talkMs: [0, 0] });
    assert.deepEqual(
      first.map((c) => c.index),
      [0, 1],
    );
    assert.ok(first.every((c) => c.visits.length === 1 && c.visits[0].queue === '820'));
    for (const v of first.map((c) => c.visits[0]))
      assert.ok(v.answered ? v.waitMs >= 1000 && v.waitMs <= 2000 && v.talkMs === 0 : v.waitMs === 500 && v.talkMs === undefined);
    assert.ok(first[0].atMs > 0 && first[1].atMs >= first[0].atMs);
  });

  it('Poisson arrivals: gaps of a large plan average 1 / rate (within 3 %), and are spread as exponential ones', () => {
    const calls = plan({ seed: 1234, calls: 10000, ratePerSecond: 10 });
    assert.equal(calls.length, 10000);
    const gaps = calls.map((c, i) => c.atMs - (i ? calls[i - 1].atMs : 0));
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    assert.ok(Math.abs(mean - 100) < 3, `mean gap ${mean} ms`);
    assert.ok(gaps.every((g) => g >= 0));
    // Exponential: about 1 - 1/e (63.2 %) of the gaps are below the mean, and the variance is the mean squared.
    const below = gaps.filter((g) => g < 100).length / gaps.length;
    assert.ok(Math.abs(below - 0.632) < 0.02, `share below the mean ${below}`);
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    assert.ok(Math.abs(sd / mean - 1) < 0.05, `sd / mean ${sd / mean}`);
  });

  it('answer and transfer shares, waits within their ranges, transfers into another queue of the list', () => {
    const calls = plan({
      seed: 9,
      calls: 4000,
      queues: QUEUES,
      ratePerSecond: 50,
      answerRatio: 0.7,
      transferRatio: 0.25,
      waitMs: [100, 300],
      abandonMs: [400, 600],
      talkMs: [1000, 1200],
    });
    const firsts = calls.map((c) => c.visits[0]);
    const answered = firsts.filter((v) => v.answered);
    assert.ok(Math.abs(answered.length / firsts.length - 0.7) < 0.03, `answered ${answered.length}`);
    const moved = calls.filter((c) => c.visits.length === 2);
    assert.ok(Math.abs(moved.length / answered.length - 0.25) < 0.03, `moved ${moved.length}`);
    assert.ok(moved.every((c) => c.visits[0].answered && c.visits[1].queue !== c.visits[0].queue));
    assert.ok(calls.every((c) => c.visits.length <= 2));
    for (const v of calls.flatMap((c) => c.visits)) {
      assert.ok(QUEUES.includes(v.queue));
      if (v.answered) assert.ok(v.waitMs >= 100 && v.waitMs <= 300 && v.talkMs >= 1000 && v.talkMs <= 1200);
      else assert.ok(v.waitMs >= 400 && v.waitMs <= 600 && v.talkMs === undefined);
    }
    // Every queue of the list gets calls.
    assert.deepEqual(new Set(firsts.map((v) => v.queue)), new Set(QUEUES));
  });

  it('durationMs bounds the arrivals; calls the count; endless goes on past both', () => {
    const timed = plan({ seed: 3, durationMs: 10000, ratePerSecond: 5 });
    assert.ok(timed.length > 25 && timed.length < 75, `${timed.length} calls`);
    assert.ok(timed.every((c) => c.atMs <= 10000));
    assert.equal(plan({ seed: 3, calls: 7 }).length, 7);
    assert.equal(plan({ seed: 3 }).length, 20);
    const endless = planQueueLoad(settings({ seed: 3, calls: 2 }), true);
    for (let i = 0; i < 5; i++) assert.equal(endless.next().done, false);
  });

  it('defaults: first two queues, a random seed echoed in the settings', () => {
    const s = settings({});
    assert.deepEqual(s.queues, ['820', '807']);
    assert.ok(Number.isInteger(s.seed) && s.seed >= 0 && s.seed < 2 ** 32);
    assert.equal(s.ratePerSecond, 1);
    assert.equal(s.maxConcurrent, 200);
    assert.deepEqual(queueLoadSettings({ queues: '830, 820' }, QUEUES).queues, ['830', '820']);
  });

  it('refuses options out of bounds, unknown names and queues, with a message naming them', () => {
    const bad = [
      [{ calls: QUEUE_LOAD_LIMITS.maxCalls + 1 }, /calls must be an integer from 1 to 10000/],
      [{ calls: 0 }, /calls/],
      [{ calls: 2.5 }, /calls/],
      [{ durationMs: QUEUE_LOAD_LIMITS.maxDurationMs + 1 }, /durationMs/],
      [{ ratePerSecond: 101 }, /ratePerSecond/],
      [{ ratePerMinute: 0 }, /above 0/],
      [{ ratePerMinute: 6, ratePerSecond: 1 }, /not both/],
      [{ answerRatio: 1.5 }, /answerRatio/],
      [{ transferRatio: '0.5' }, /transferRatio/],
      [{ waitMs: [300, 100] }, /waitMs: min 300 is above max 100/],
      [{ talkMs: [0, QUEUE_LOAD_LIMITS.maxPhaseMs + 1] }, /talkMs\[1\]/],
      [{ abandonMs: 'soon' }, /abandonMs must be \[min, max\]/],
      [{ maxConcurrent: 201 }, /maxConcurrent/],
      [{ queues: ['999'] }, /no queue "999"/],
      [{ queues: ['constructor'] }, /no queue "constructor"/],
      [{ queues: [] }, /queues must be a list/],
      [{ queues: ['820'], transferRatio: 0.2 }, /at least two queues/],
      [{ seed: -1 }, /seed/],
      [{ rate: 5 }, /unknown option "rate"/],
      [JSON.parse('{"__proto__": 1}'), /unknown option "__proto__"/],
    ];
    for (const [options, message] of bad)
      assert.throws(
        () => settings(options),
        (err) => err instanceof QueueLoadOptionError && message.test(err.message),
        JSON.stringify(options),
      );
    assert.doesNotThrow(() => settings({ provider: '3cx-webapi' }));
  });
});
