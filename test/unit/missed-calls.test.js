'use strict';
// The missed-call list behind pbx-missed (src/core/missed-calls.ts): which events open and resolve
// entries, and the list itself on a real MemoryStore with a clock the test moves.
const assert = require('node:assert/strict');
const {
  changeOf,
  keepDaysOf,
  groupOf,
  MissedCallBook,
  MISSED_PER_GROUP,
  MAX_OPEN_MISSED,
  DEFAULT_KEEP_DAYS,
} = require('../../dist/core/missed-calls');
const { parsePhoneNumber } = require('../../dist/core/phone-number');
const { MemoryStore } = require('../../dist/core/state');

const T0 = Date.parse('2026-03-07T11:49:03.000Z');
const DAY = 86_400_000;

/** A call event as the account emits it. */
function ev(event, direction, fields = {}) {
  return { event, provider: 'test', providerEvent: event, callId: 'c1', direction, timestamp: new Date(T0).toISOString(), ...fields };
}

const route = (...hops) => ({
  callId: 'c1',
  startedAt: new Date(T0).toISOString(),
  outcome: 'missed',
  transfers: 0,
  route: hops.map(([event, extension, extensionType]) => ({ event, extension, extensionType, at: new Date(T0).toISOString() })),
});

describe('missed calls: what each event means', () => {
  /** [what, event, expected change (kind/by, number digits, extension) or undefined] */
  const CASES = [
    [
      'inbound hangup missed: missed, at the last hop that rang',
      ev('hangup', 'inbound', {
        outcome: 'missed',
        from: '+44 20 7946 0018',
        extension: '820',
        did: '0212345678',
        call: route(['ringing', '800', 'ivr'], ['ringing', '820', 'queue'], ['ringing', '202', 'extension']),
      }),
      { kind: 'missed', digits: '442079460018', extension: '202', did: '0212345678' },
    ],
    [
      'inbound hangup missed without a route: the event extension',
      ev('hangup', 'inbound', { outcome: 'missed', from: '0555123988', extension: '0003*210' }),
      { kind: 'missed', digits: '555123988', extension: '0003*210' },
    ],
    ['inbound busy: not missed', ev('hangup', 'inbound', { outcome: 'busy', from: '0555123988' }), undefined],
    [
      'outbound missed: not a missed call of a caller',
      ev('hangup', 'outbound', { outcome: 'missed', from: '117', to: '0555123988' }),
      undefined,
    ],
    ['internal missed', ev('hangup', 'internal', { outcome: 'missed', from: '117', to: '204' }), undefined],
    ['anonymous caller', ev('hangup', 'inbound', { outcome: 'missed', from: 'anonymous' }), undefined],
    ['no caller', ev('hangup', 'inbound', { outcome: 'missed' }), undefined],
    ['a prototype name as caller', ev('hangup', 'inbound', { outcome: 'missed', from: '__proto__' }), undefined],
    ['synthetic stale hangup', ev('hangup', 'inbound', { outcome: 'unknown', from: '0555123988', synthetic: true }), undefined],
    [
      'outbound answered: callback to `to`',
      ev('answered', 'outbound', { from: '117', to: '020 7946 0018', extension: '117' }),
      { kind: 'reached', by: 'callback', digits: '2079460018', extension: '117' },
    ],
    [
      'outbound hangup answered: callback',
      ev('hangup', 'outbound', { outcome: 'answered', from: '117', to: '020 7946 0018', extension: '117' }),
      { kind: 'reached', by: 'callback', digits: '2079460018', extension: '117' },
    ],
    ['outbound ringing: nothing yet', ev('ringing', 'outbound', { to: '020 7946 0018', extension: '117' }), undefined],
    ['outbound hangup busy', ev('hangup', 'outbound', { outcome: 'busy', to: '020 7946 0018' }), undefined],
    [
      'inbound answered by an extension',
      ev('answered', 'inbound', { from: '0555123988', extension: '202', extensionType: 'extension' }),
      { kind: 'reached', by: 'answered', digits: '555123988', extension: '202' },
    ],
    [
      'inbound answered by an IVR: no one reached',
      ev('answered', 'inbound', { from: '0555123988', extension: '800', extensionType: 'ivr' }),
      undefined,
    ],
    ['internal answered', ev('answered', 'internal', { from: '117', to: '204' }), undefined],
    ['recording', ev('recording', 'inbound', { from: '0555123988' }), undefined],
  ];
  for (const [what, event, expected] of CASES) {
    it(what, () => {
      const change = changeOf(event);
      if (!expected) return assert.equal(change, undefined);
      assert.equal(change.kind, expected.kind);
      assert.equal(change.number.digits, expected.digits);
      assert.equal(change.extension, expected.extension);
      if (expected.by) assert.equal(change.by, expected.by);
      if (expected.kind === 'missed') {
        assert.equal(change.caller, event.from);
        assert.equal(change.did, expected.did);
        assert.equal(change.callId, 'c1');
      }
    });
  }

  it('keepDays: a positive number of days (fractions too) up to 30, else the default', () => {
    assert.equal(keepDaysOf(3), 3);
    assert.equal(keepDaysOf('0.5'), 0.5);
    assert.equal(keepDaysOf(90), 30);
    for (const bad of [0, -1, '', 'x', undefined, null, NaN, Infinity, {}, 'constructor']) assert.equal(keepDaysOf(bad), DEFAULT_KEEP_DAYS);
  });
});

describe('missed calls: the list', () => {
  let now;
  let store;
  const book = (keepDays = 7, owner = 'pm') => new MissedCallBook({ store, owner, keepDays, now: () => now });
  const missed = (caller, callId, at = now, extra = {}) =>
    changeOf(ev('hangup', 'inbound', { outcome: 'missed', from: caller, callId, timestamp: new Date(at).toISOString(), ...extra }));

  beforeEach(() => {
    now = T0;
    store = new MemoryStore({ configId: 'cfg', now: () => now });
  });

  it('counts each missed call once, keeps first and latest time, resolves the closest match', async () => {
    const b = book();
    const first = await b.recordMissed(missed('+44 20 7946 0018', 'a'));
    assert.deepEqual(first, {
      entry: { caller: '+44 20 7946 0018', count: 1, firstAt: '2026-03-07T11:49:03.000Z', lastAt: '2026-03-07T11:49:03.000Z', callId: 'a' },
    });
    assert.equal(await b.recordMissed(missed('+44 20 7946 0018', 'a')), undefined, 'the same call again');
    now += 60_000;
    const second = await b.recordMissed(missed('020 7946 0018', 'b', now, { extension: '202' }));
    assert.deepEqual(second.entry, {
      caller: '020 7946 0018',
      count: 2,
      firstAt: '2026-03-07T11:49:03.000Z',
      lastAt: '2026-03-07T11:50:03.000Z',
      callId: 'b',
      extension: '202',
    });
    assert.equal(b.openCount, 1);
    const r = await b.resolve(parsePhoneNumber('0044 20 7946 0018'), 'callback', { callId: 'cb', extension: '117' });
    assert.deepEqual(r, {
      ...second.entry,
      callId: 'cb',
      extension: '117',
      resolvedBy: 'callback',
      resolvedAt: new Date(now).toISOString(),
    });
    assert.equal(await b.resolve(parsePhoneNumber('0044 20 7946 0018'), 'manual'), undefined, 'resolved once');
    assert.deepEqual(await b.list(), []);
  });

  it('two international numbers are two callers; a national form resolves the closest, then the oldest', async () => {
    const b = book();
    await b.recordMissed(missed('+44 20 7946 0018', 'uk', T0 - 2000));
    await b.recordMissed(missed('+41 20 7946 0018', 'ch', T0 - 1000));
    await b.recordMissed(missed('+1 20 7946 0018', 'nanp', T0));
    assert.equal(b.openCount, 3);
    const exact = await b.resolve(parsePhoneNumber('0041 20 7946 0018'), 'manual');
    assert.equal(exact.callId, 'ch');
    const closest = await b.resolve(parsePhoneNumber('020 7946 0018'), 'manual');
    assert.equal(closest.callId, 'nanp', 'one country-code digit in front is closer than two');
    const oldest = await b.resolve(parsePhoneNumber('2079460018'), 'manual');
    assert.equal(oldest.callId, 'uk');
  });

  it('a time later than now is now; a time that is no date is now', async () => {
    const b = book();
    const e1 = (await b.recordMissed(missed('0555123988', 'a', T0 + DAY))).entry;
    assert.equal(e1.lastAt, new Date(T0).toISOString());
    const e2 = (await b.recordMissed({ ...missed('0555123999', 'b'), at: 'not a date' })).entry;
    assert.equal(e2.firstAt, new Date(T0).toISOString());
  });

  it('expires entries whose latest missed call is older than keepDays, once', async () => {
    const b = book(0.5);
    await b.recordMissed(missed('0555123988', 'a', T0 - 2 * DAY));
    await b.recordMissed(missed('0555123999', 'b', T0 - DAY / 4));
    const expired = await b.expire();
    assert.deepEqual(
      expired.map((e) => [e.caller, e.resolvedBy, e.resolvedAt]),
      [['0555123988', 'expired', new Date(T0).toISOString()]],
    );
    assert.deepEqual(await b.expire(), []);
    now += DAY / 4;
    assert.deepEqual(
      (await b.expire()).map((e) => e.caller),
      ['0555123999'],
    );
    assert.deepEqual(await b.list(), []);
    assert.equal(b.openCount, 0);
  });

  it('lists oldest first; survives a new book on the same store (a redeploy); each node has its own entries', async () => {
    await book().recordMissed(missed('0555000002', 'b', T0 - 1000));
    await book().recordMissed(missed('0555000001', 'a', T0 - 2000));
    await book().recordMissed(missed('0555000003', 'c', T0 - 3000));
    await book(7, 'other').recordMissed(missed('0555000009', 'z'));
    assert.deepEqual(
      (await book().list()).map((e) => e.callId),
      ['c', 'a', 'b'],
    );
    await book().clear();
    assert.deepEqual(await book().list(), []);
    assert.deepEqual(
      (await book(7, 'other').list()).map((e) => e.callId),
      ['z'],
    );
  });

  it(`keeps at most ${MISSED_PER_GROUP} per group (${MAX_OPEN_MISSED} in all): a new caller in a full group expires its oldest`, async () => {
    const b = book();
    const target = groupOf(parsePhoneNumber('0555000000'));
    const numbers = [];
    for (let i = 0; numbers.length <= MISSED_PER_GROUP; i++) {
      const n = `0555${String(i).padStart(6, '0')}`;
      if (groupOf(parsePhoneNumber(n)) === target) numbers.push(n);
    }
    for (const [i, n] of numbers.slice(0, MISSED_PER_GROUP).entries()) {
      const r = await b.recordMissed(missed(n, `c${i}`, T0 - (MISSED_PER_GROUP - i) * 1000));
      assert.equal(r.evicted, undefined);
    }
    const last = await b.recordMissed(missed(numbers[MISSED_PER_GROUP], 'new'));
    assert.equal(last.entry.callId, 'new');
    assert.equal(last.evicted.callId, 'c0');
    assert.equal(last.evicted.resolvedBy, 'expired');
    assert.equal((await b.list()).length, MISSED_PER_GROUP);
  });

  it('a stored group that is not a list of entries is read as empty, and prototype names find nothing', async () => {
    const b = book();
    const group = groupOf(parsePhoneNumber('0555123988'));
    await store.set(`missed:pm:${group}`, { __proto__: { caller: '0555123988' }, constructor: 1 }, DAY);
    assert.deepEqual(await b.list(), []);
    await store.set(`missed:pm:${group}`, [null, 1, 'x', { caller: 1 }, { constructor: '0555123988' }], DAY);
    assert.deepEqual(await b.list(), []);
    const r = await b.recordMissed(missed('0555123988', 'a'));
    assert.equal(r.entry.count, 1);
    assert.equal(await b.resolve(parsePhoneNumber('0555123977'), 'manual'), undefined);
  });
});
