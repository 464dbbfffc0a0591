'use strict';
// pbx-stats' own cost per event as its counter slots fill (a minute each for a 15-minute window): QueueStats.apply on a MemoryStore, in
// process, the same calls as section g's load (50 queues, 1,000 events/s of simulated time), at
// the start of a slot and with the slot already holding the rows that many seconds of such traffic
// leave (one row per queue per second of entry, pre-filled in the real key layout). A 20-second
// run in a fresh process only ever sees nearly empty slots: this shows the cost later in each slot.
// Run as a child process (`node test/bench/stats-slots.js`); prints one JSON line.
const { QueueStats, slotSecondsOf } = require('../../dist/core/queue-stats');
const { MemoryStore } = require('../../dist/core/state');

const QUEUES = Number(process.env.BENCH_STATS_QUEUES) || 50;
const EVENTS = 10000;
const WINDOW_MINUTES = 15;
const SLOT_SECONDS = slotSecondsOf(WINDOW_MINUTES);
const OFFSETS = [0, SLOT_SECONDS / 2, SLOT_SECONDS - 5];
const RUNS = 2;
/** A slot number (its start is SLOT_SECONDS × this, in seconds since 1970). */
const SLOT = 2995000;
const OWNER = 'bench';

/** The events of section g's calls in arrival order: ringing at the queue, at an agent, answer or miss, hangup. */
function eventsOf(queues) {
  const queueOf = (c) => queues[(c + Math.floor(c / queues.length)) % queues.length];
  const base = { provider: '3cx-webapi', direction: 'inbound', from: '+442079400000', timestamp: '' };
  const timed = [];
  for (let c = 0; timed.length < EVENTS; c++) {
    const t = c * 3.8; // ms: 3.8 events per call on average, 1,000 events/s
    const callId = `261129300000_${c}`;
    timed.push([t, { ...base, event: 'ringing', callId, extension: queueOf(c), extensionType: 'queue' }]);
    timed.push([t + 500, { ...base, event: 'ringing', callId, extension: '201', extensionType: 'ext' }]);
    if (c % 5 === 4) timed.push([t + 1000, { ...base, event: 'hangup', callId, extension: queueOf(c), outcome: 'missed' }]);
    else {
      timed.push([t + 1000, { ...base, event: 'answered', callId, extension: '201', extensionType: 'ext' }]);
      timed.push([t + 1500, { ...base, event: 'hangup', callId, extension: '201', outcome: 'answered' }]);
    }
  }
  return timed.sort((a, b) => a[0] - b[0]);
}

/** µs per event with the slot `offset` seconds in, and how long figures() of every queue then takes. */
async function measure(offset, queues, events) {
  let now = (SLOT * SLOT_SECONDS + offset) * 1000;
  const store = new MemoryStore({ configId: 'cfg', now: () => now });
  const stats = new QueueStats({ store, owner: OWNER, queues: [], windowMinutes: WINDOW_MINUTES, serviceLevelSeconds: 20, now: () => now });
  for (const queue of queues) {
    // About 5 calls a second per queue: offered, answered, abandoned, wait sum / count / max, within SL, talk sum / count.
    const rows = [];
    for (let s = 0; s < offset; s++) rows.push([SLOT * SLOT_SECONDS + s, 5, 4, 1, 5000, 5, 1200, 4, 168000, 4]);
    if (rows.length) await store.set(`stats:${OWNER}:slot${SLOT_SECONDS}:${queue}:${SLOT}`, rows, 3_600_000);
  }
  const start = now;
  const began = process.hrtime.bigint();
  for (const [t, event] of events) {
    now = start + Math.floor(t);
    await stats.apply(event);
  }
  const perEventUs = Number(process.hrtime.bigint() - began) / 1e3 / events.length;
  const asked = process.hrtime.bigint();
  await stats.figures();
  return { perEventUs, figuresMs: Number(process.hrtime.bigint() - asked) / 1e6 };
}

async function main() {
  const queues = Array.from({ length: QUEUES }, (_, i) => String(901 + i));
  const events = eventsOf(queues);
  const best = {};
  for (let run = 0; run < RUNS; run++) {
    for (const offset of OFFSETS) {
      const r = await measure(offset, queues, events);
      const b = best[offset];
      best[offset] = b ? { perEventUs: Math.min(b.perEventUs, r.perEventUs), figuresMs: Math.min(b.figuresMs, r.figuresMs) } : r;
    }
  }
  process.stdout.write(
    `${JSON.stringify({ queues: QUEUES, events: events.length, runs: RUNS, slotSeconds: SLOT_SECONDS, offsets: OFFSETS, best })}\n`,
  );
}

main();
