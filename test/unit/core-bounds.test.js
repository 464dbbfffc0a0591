'use strict';
// Memory bounds of the webhook path, measured through the caches' own byte counters (not heap
// timing): the duplicate filter stores a fixed-size digest per delivery whatever the body's size;
// the call tracker keeps each call's route, legs and strings within fixed limits and all calls
// within a byte budget, and the summary a hangup carries stays right when those limits are hit.
const assert = require('node:assert/strict');
const v8 = require('node:v8');
const vm = require('node:vm');
const { LruMap } = require('../../dist/core/lru');
const { DuplicateFilter, FINGERPRINT_KEY_BYTES } = require('../../dist/core/duplicate-filter');
const { CallTracker, MAX_ROUTE_HOPS, MAX_LEGS_PER_CALL } = require('../../dist/core/call-tracker');
const { EVENT_LIMITS, limitEvent } = require('../../dist/core/event-limits');

const KB20 = 20 * 1024;

/** Heap in use after a full collection, in bytes. */
function heapUsed() {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const { callEvent: event } = require('../helpers/expect');

/** Every string an emitted event (and its `call` summary) carries is within its limit. */
function assertBounded(out, where) {
  for (const key of ['callId', 'legId', 'reference']) {
    if (out[key] !== undefined) assert.ok(out[key].length <= EVENT_LIMITS.idLength, `${where}: ${key} is ${out[key].length} long`);
  }
  for (const key of ['extension', 'from', 'to', 'did', 'hangupCause', 'providerEvent', 'timestamp']) {
    if (out[key] !== undefined) assert.ok(out[key].length <= EVENT_LIMITS.textLength, `${where}: ${key} is ${out[key].length} long`);
  }
  if (out.recordingUrls) {
    assert.ok(out.recordingUrls.length <= EVENT_LIMITS.recordingUrls, `${where}: ${out.recordingUrls.length} URLs`);
    for (const url of out.recordingUrls) assert.ok(url.length <= EVENT_LIMITS.urlLength, `${where}: a URL is ${url.length} long`);
  }
  const call = out.call;
  if (!call) return;
  assert.ok(call.route.length <= MAX_ROUTE_HOPS, `${where}: route has ${call.route.length} hops`);
  for (const hop of call.route) assert.ok((hop.extension ?? '').length <= EVENT_LIMITS.textLength, `${where}: a hop's extension`);
  for (const key of ['answeredBy', 'hangupCause']) {
    if (call[key] !== undefined) assert.ok(call[key].length <= EVENT_LIMITS.textLength, `${where}: call.${key}`);
  }
}

describe('core: LruMap weights', () => {
  it('sums the weights of its entries through set, re-set, delete and clear', () => {
    const m = new LruMap();
    m.set('a', 1, 10);
    m.set('b', 2, 5);
    assert.equal(m.totalWeight, 15);
    m.set('a', 3, 7);
    assert.equal(m.totalWeight, 12, 'a new weight replaces the old one');
    m.set('b', 4);
    assert.equal(m.totalWeight, 12, 'no weight given: the entry keeps its weight');
    assert.equal(m.oldest().key, 'a', 'and still becomes the newest');
    m.set('c', 5);
    assert.equal(m.totalWeight, 12, 'a new entry without a weight weighs nothing');
    m.delete('a');
    assert.equal(m.totalWeight, 5);
    m.clear();
    assert.equal(m.totalWeight, 0);
  });
});

describe('core: duplicate filter memory', () => {
  it('stores a fixed-size key per delivery: 20,000 distinct 60 KiB fingerprints', function () {
    this.timeout(30000);
    const filter = new DuplicateFilter();
    const bulk = 'x'.repeat(60 * 1024);
    for (let i = 0; i < 20000; i++) {
      assert.equal(filter.isDuplicate(`POST\n\n{"Note":"${bulk}","Id":"${i}"}`), false);
      if (i % 1000 === 0) assert.equal(filter.keyBytes, filter.size * FINGERPRINT_KEY_BYTES, `after ${i + 1} fingerprints`);
    }
    assert.equal(FINGERPRINT_KEY_BYTES, 32, 'a SHA-256 digest');
    assert.equal(filter.size, 20000);
    assert.equal(filter.keyBytes, 20000 * 32, '640,000 bytes of keys for 1.2 GB of fingerprints');
    assert.equal(filter.isDuplicate(`POST\n\n{"Note":"${bulk}","Id":"19999"}`), true, 'a re-delivery is still found');
    assert.equal(filter.isDuplicate(`POST\n\n{"Note":"${bulk}","Id":"19999"} `), false, 'one character more is another delivery');
    assert.equal(filter.isDuplicate(`POST\n\n{"Note":"\ufffd${bulk}","Id":"1"}`), false);
    assert.equal(filter.isDuplicate(`POST\n\n{"Note":"\ufffd${bulk}","Id":"1"}`), true, 'two-byte text hashes the same way');
    assert.equal(filter.size, 20000, 'still capped by count');
    assert.equal(filter.keyBytes, 20000 * 32);
  });
});

describe('core: event limits', () => {
  it('leave real events as they are', () => {
    const real = event('230307114903_10', 'recording', {
      legId: '230307114903_10-1',
      extension: '0003*201',
      from: '+420774852629',
      to: '0211',
      did: '0211',
      hangupCause: 'NORMAL_CLEARING',
      reference: 'crm-order-5521',
      recordingUrls: ['https://pbx.example.com/recording/230307114903_10-1-1.mp3?token=' + 'a'.repeat(512)],
    });
    assert.deepEqual(limitEvent(real), real);
  });

  it('cut texts, shorten ids keeping them distinct, drop over-long URLs and extra ones', () => {
    const long = 'L'.repeat(KB20);
    const out = limitEvent(
      event(`${long}_1`, 'recording', {
        legId: `${long}_1-1`,
        extension: `${'e'.repeat(KB20)}\ud83d\ude00`,
        providerEvent: 'p'.repeat(KB20),
        hangupCause: 'c'.repeat(KB20),
        recordingUrls: [
          'http://pbx.example/' + 'u'.repeat(EVENT_LIMITS.urlLength),
          ...Array.from({ length: 40 }, (_, i) => `http://pbx.example/r/${i}.mp3`),
        ],
      }),
    );
    assertBounded(out, 'limited');
    assert.equal(out.extension.length, EVENT_LIMITS.textLength);
    assert.ok(out.extension.startsWith('eee') && out.extension.endsWith('…'), 'a cut text ends with an ellipsis');
    assert.equal(out.hangupCause, `${'c'.repeat(EVENT_LIMITS.textLength - 1)}…`);
    assert.deepEqual(
      out.recordingUrls,
      Array.from({ length: EVENT_LIMITS.recordingUrls }, (_, i) => `http://pbx.example/r/${i}.mp3`),
      'the over-long URL is dropped, then the first ones are kept',
    );
    const again = limitEvent(event(`${long}_1`, 'ringing', { legId: `${long}_1-2` }));
    assert.equal(again.callId, out.callId, 'the same long id gives the same short one');
    assert.notEqual(again.legId, out.legId, 'distinct long ids stay distinct');
    assert.ok(out.callId.startsWith('LLL'));
    const alone = limitEvent(event('c', 'recording', { recordingUrls: ['http://x/' + 'u'.repeat(EVENT_LIMITS.urlLength)] }));
    assert.equal(alone.recordingUrls, undefined, 'no URL left: no recordingUrls');
    const emoji = limitEvent(event('c', 'ringing', { extension: '😀'.repeat(KB20) }));
    assert.ok(!/[\ud800-\udbff]…$/.test(emoji.extension), 'never cuts a surrogate pair in half');
  });

  it('a talk time that is not a finite number from 0 to 31 days is dropped; the sum of legs stays finite', () => {
    for (const bad of [Infinity, NaN, -1, 1e308, EVENT_LIMITS.durationSeconds + 1]) {
      assert.equal(limitEvent(event('c', 'hangup', { durationSeconds: bad })).durationSeconds, undefined, String(bad));
    }
    assert.equal(limitEvent(event('c', 'hangup', { durationSeconds: 0 })).durationSeconds, 0);
    assert.equal(limitEvent(event('c', 'hangup', { durationSeconds: 3725 })).durationSeconds, 3725);
    const tracker = new CallTracker();
    for (let leg = 0; leg < 300; leg++) {
      tracker.apply(event('long', 'hangup', { legId: `long-${leg}`, durationSeconds: EVENT_LIMITS.durationSeconds, legTransferred: true }));
    }
    const last = tracker.apply(event('long', 'hangup', { legId: 'long-final', durationSeconds: 1e308 }));
    assert.ok(Number.isFinite(last.call.durationSeconds));
  });
});

describe('core: call tracker bounds', () => {
  it('one call with 4,000 legs of 20 KB fields: bounded route, legs, strings and bytes; the summary still right', function () {
    this.timeout(30000);
    const tracker = new CallTracker();
    const callId = '260301000001_7';
    const big = (tag, n) => `${tag}${n}-${'z'.repeat(KB20)}`;
    const LEGS = 4000;
    let last;
    for (let n = 0; n < LEGS; n++) {
      const legId = `${callId}-${n}`;
      const fields = { legId, from: big('from', n), to: big('to', n), did: big('did', n), reference: big('ref', n) };
      const ext = big('ext', n);
      const outs = [
        tracker.apply(
          event(callId, 'ringing', { ...fields, extension: ext, extensionType: 'extension', providerEvent: big('ringing', n) }),
        ),
        tracker.apply(event(callId, 'answered', { ...fields, extension: ext, transfer: n > 0 ? 'blind' : undefined })),
        tracker.apply(
          event(callId, 'hangup', {
            ...fields,
            extension: ext,
            outcome: 'answered',
            durationSeconds: 2,
            hangupCause: big('cause', n),
            legTransferred: n < LEGS - 1,
          }),
        ),
      ];
      outs.forEach((out, i) => assertBounded(out, `leg ${n} event ${i}`));
      last = outs[2];
      if (n % 500 === 0) assert.ok(tracker.bytes <= tracker.maxBytes, `${tracker.bytes} bytes tracked after leg ${n}`);
    }
    const call = last.call;
    assert.equal(call.route.length, MAX_ROUTE_HOPS);
    const cut = (s) => `${s.slice(0, EVENT_LIMITS.textLength - 1)}…`;
    // The first half: how the call came in (ringing, answered, then transfer + answered per leg).
    assert.deepEqual(
      call.route.slice(0, 4).map((h) => [h.event, h.extension]),
      [
        ['ringing', cut(big('ext', 0))],
        ['answered', cut(big('ext', 0))],
        ['ringing', cut(big('ext', 1))],
        ['transfer', cut(big('ext', 1))],
      ],
    );
    // The second half: the newest hops, in order, the last leg's at the end.
    assert.deepEqual(
      call.route.slice(-3).map((h) => [h.event, h.extension]),
      [
        ['ringing', cut(big('ext', LEGS - 1))],
        ['transfer', cut(big('ext', LEGS - 1))],
        ['answered', cut(big('ext', LEGS - 1))],
      ],
    );
    assert.equal(call.route[MAX_ROUTE_HOPS / 2 - 1].extension, cut(big('ext', 16)), 'the head is the first 50 hops');
    assert.equal(call.answeredBy, cut(big('ext', LEGS - 1)));
    assert.equal(call.outcome, 'answered');
    assert.equal(call.transfers, LEGS - 1, 'every transfer is counted, kept in the route or not');
    assert.equal(call.durationSeconds, 2 * MAX_LEGS_PER_CALL, 'the talk time of the counted legs');
    assert.equal(call.hangupCause, cut(big('cause', LEGS - 1)));
    assert.equal(tracker.size, 1);
    assert.ok(tracker.bytes < 256 * 1024, `one call at its limits is estimated at ${tracker.bytes} bytes`);
    // A recording after the end still gets the bounded summary.
    const rec = tracker.apply(event(callId, 'recording', { recordingUrls: ['http://pbx.example/r.mp3'] }));
    assert.equal(rec.call.route.length, MAX_ROUTE_HOPS);
  });

  it('keeps all calls within its byte budget, forgetting the least recent first', () => {
    const maxBytes = 1024 * 1024;
    const tracker = new CallTracker({ maxBytes });
    const big = (n) => `${n}-${'z'.repeat(KB20)}`;
    for (let c = 0; c < 60; c++) {
      for (let n = 0; n < 300; n++) {
        const legId = `${big(c)}_${c}-${n}`;
        tracker.apply(event(`call-${c}`, 'ringing', { legId, extension: big(n) }));
        tracker.apply(event(`call-${c}`, 'hangup', { legId, durationSeconds: 1, hangupCause: big(n), legTransferred: true }));
        assert.ok(tracker.bytes <= maxBytes, `${tracker.bytes} bytes tracked at call ${c} leg ${n}`);
      }
    }
    assert.ok(tracker.size >= 2 && tracker.size < 60, `${tracker.size} calls kept`);
    const newest = tracker.apply(event('call-59', 'hangup', { outcome: 'missed' }));
    assert.equal(newest.call.route.length, MAX_ROUTE_HOPS, 'the newest call is kept whole');
    assert.equal(newest.call.durationSeconds, MAX_LEGS_PER_CALL);
    const oldest = tracker.apply(event('call-0', 'hangup', { outcome: 'missed' }));
    assert.equal(oldest.call.route.length, 0, 'the oldest was forgotten and starts over');
  });

  it('counts small calls by entries as before: the byte budget does not bind ordinary traffic', () => {
    const tracker = new CallTracker({ maxCalls: 10000 });
    for (let c = 0; c < 12000; c++) {
      const callId = `260301${String(c).padStart(6, '0')}_1`;
      tracker.apply(
        event(callId, 'ringing', { legId: `${callId}-1`, extension: '117', extensionType: 'extension', from: '05551239988', did: '0211' }),
      );
      tracker.apply(event(callId, 'answered', { legId: `${callId}-1`, extension: '117' }));
      tracker.apply(event(callId, 'hangup', { legId: `${callId}-1`, extension: '117', durationSeconds: 14, outcome: 'answered' }));
    }
    assert.equal(tracker.size, 10000);
    assert.ok(tracker.bytes < tracker.maxBytes / 2, `${tracker.bytes} bytes for 10,000 ordinary calls`);
  });

  it('keeps its own copies of strings: a short field cut from a long webhook text does not keep that text alive', () => {
    const tracker = new CallTracker();
    const before = heapUsed();
    for (let c = 0; c < 2000; c++) {
      // What `text()` in a normalizer returns for a number padded with 60 KiB of spaces: V8 gives a
      // slice that points into the whole padded string.
      const padded = (value) => `${' '.repeat(60 * 1024)}${value}`.trim();
      const callId = padded(`${c}`.padStart(200, '0'));
      tracker.apply(
        event(callId, 'ringing', {
          legId: padded(`${callId}-1`),
          extension: padded('1'.repeat(100)),
          timestamp: padded('2026-01-01T00:00:00.000Z'),
        }),
      );
      tracker.apply(
        event(callId, 'hangup', { legId: padded(`${callId}-1`), durationSeconds: 3, hangupCause: padded('NORMAL_CLEARING'.repeat(10)) }),
      );
    }
    const grown = heapUsed() - before;
    assert.equal(tracker.size, 2000);
    assert.ok(grown < 20 * 1024 * 1024, `2,000 calls hold ${(grown / 1048576).toFixed(1)} MB (their padded texts were 600 MB)`);
    assert.ok(tracker.bytes > grown / 4, `the estimate (${tracker.bytes} bytes) is of the order of the heap they hold (${grown})`);
  });
});
