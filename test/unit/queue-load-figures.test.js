'use strict';
// queueLoadFigures: the pbx-stats figures (SPEC section 10) from a queue load's ground-truth log,
// on a hand-made log with known answers.
const assert = require('node:assert/strict');
const { queueLoadFigures } = require('../../dist/simulator');

const T = 1_700_000_000_000;
const s = (seconds) => T + seconds * 1000;
const call = (callId, ...visits) => ({ callId, visits });

const LOG = {
  calls: [
    // Entered before the window: not offered, answered long ago.
    call('c1', { queue: 'A', enteredAt: s(0), answeredAt: s(30), endedAt: s(90), talkEndedAt: s(90), result: 'answered' }),
    // Answered within the service level (15 s), talked 60 s.
    call('c2', { queue: 'A', enteredAt: s(20), answeredAt: s(35), endedAt: s(95), talkEndedAt: s(95), result: 'answered' }),
    // Abandoned after 25 s.
    call('c3', { queue: 'A', enteredAt: s(30), endedAt: s(55), result: 'abandoned' }),
    // Answered after 30 s, talked 10 s, blind-transferred into B: answered there after 2 s, still talking.
    call(
      'c4',
      { queue: 'A', enteredAt: s(40), answeredAt: s(70), endedAt: s(80), talkEndedAt: s(80), result: 'moved' },
      { queue: 'B', enteredAt: s(80), answeredAt: s(82), endedAt: s(150), talkEndedAt: s(150), result: 'answered' },
    ),
    // Entered 10 s before `now`, answered only after it: waiting now.
    call('c5', { queue: 'A', enteredAt: s(90), answeredAt: s(120), endedAt: s(130), talkEndedAt: s(130), result: 'answered' }),
    // Entered before the window, still waiting at `now` (abandons later): waiting now, not offered.
    call('c6', { queue: 'A', enteredAt: s(5), endedAt: s(105), result: 'abandoned' }),
    // B: abandoned after 4 s.
    call('c7', { queue: 'B', enteredAt: s(95), endedAt: s(99), result: 'abandoned' }),
    // After `now`: nothing yet.
    call('c8', { queue: 'B', enteredAt: s(101), endedAt: s(102), result: 'abandoned' }),
    // D: entered exactly at the window's start, answered exactly at the service level; one a millisecond earlier.
    call('c9', { queue: 'D', enteredAt: s(10), answeredAt: s(30), endedAt: s(40), talkEndedAt: s(40), result: 'answered' }),
    call('c10', { queue: 'D', enteredAt: s(10) - 1, endedAt: s(12), result: 'abandoned' }),
    // Still in its queue when the log was taken (a stopped load): no end yet.
    call('c11', { queue: 'D', enteredAt: s(98) }),
  ],
};
const WINDOW = { since: s(10), now: s(100), serviceLevelSeconds: 20 };

describe('queueLoadFigures', () => {
  it('per queue: offered, answered, abandoned, waits, service level, abandon rate, talk, waiting now', () => {
    assert.deepEqual(queueLoadFigures(LOG, WINDOW), [
      {
        queue: 'A',
        offered: 4,
        answered: 2,
        abandoned: 1,
        abandonRate: 25,
        serviceLevelPercent: 25,
        averageWaitSeconds: 23.3,
        longestWaitSeconds: 30,
        averageTalkSeconds: 35,
        waitingNow: 2,
        longestWaitingNowSeconds: 95,
      },
      {
        queue: 'B',
        offered: 2,
        answered: 1,
        abandoned: 1,
        abandonRate: 50,
        serviceLevelPercent: 50,
        averageWaitSeconds: 3,
        longestWaitSeconds: 4,
        averageTalkSeconds: null,
        waitingNow: 0,
        longestWaitingNowSeconds: 0,
      },
      {
        queue: 'D',
        offered: 2,
        answered: 1,
        abandoned: 0,
        abandonRate: 0,
        serviceLevelPercent: 50,
        averageWaitSeconds: 20,
        longestWaitSeconds: 20,
        averageTalkSeconds: 10,
        waitingNow: 1,
        longestWaitingNowSeconds: 2,
      },
    ]);
  });

  it('the queues asked for, in that order; one never seen has nothing offered (nulls)', () => {
    const [c, a] = queueLoadFigures(LOG, { ...WINDOW, queues: ['C', 'A'] });
    assert.deepEqual(c, {
      queue: 'C',
      offered: 0,
      answered: 0,
      abandoned: 0,
      abandonRate: null,
      serviceLevelPercent: null,
      averageWaitSeconds: null,
      longestWaitSeconds: null,
      averageTalkSeconds: null,
      waitingNow: 0,
      longestWaitingNowSeconds: 0,
    });
    assert.equal(a.offered, 4);
  });

  it('a later `now` sees later answers and ends; a service level of 30 s counts the 30 s wait', () => {
    const [a] = queueLoadFigures(LOG, { since: s(10), now: s(200), serviceLevelSeconds: 30, queues: ['A'] });
    assert.deepEqual(
      [a.offered, a.answered, a.abandoned, a.serviceLevelPercent, a.averageWaitSeconds, a.averageTalkSeconds, a.waitingNow],
      // c5 answered after 30 s and talked 10 s; c6 never entered the window.
      [4, 3, 1, 100 * (3 / 4), 25, 26.7, 0],
    );
  });

  it('a pure function: the log is not changed', () => {
    const copy = structuredClone(LOG);
    queueLoadFigures(LOG, WINDOW);
    assert.deepEqual(LOG, copy);
  });
});
