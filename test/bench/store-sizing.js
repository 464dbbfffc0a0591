#!/usr/bin/env node
'use strict';
// Cluster-mode sizing: Redis keys per call and Redis memory per 10,000 calls, for the README's
// sizing advice. Simulates what one replica writes per call through the RedisStore: per webhook
// delivery one duplicate/exactly-once claim (10 min TTL), per call one state value (a CallSummary
// growing with each event, updated atomically). Reads `INFO memory` and DBSIZE before and after,
// on a redis-server of its own (test/helpers/redis-server.js). Bounded in calls and in time.
// Knobs: BENCH_STORE_CALLS (10000), BENCH_STORE_EVENTS (events per call, 4), BENCH_STORE_SECONDS (120).
const { createHash } = require('node:crypto');
const { createClient } = require('@redis/client');
const { RedisStore } = require('../../dist/core/state');
const { startRedis } = require('../helpers/redis-server');

const CALLS = Number(process.env.BENCH_STORE_CALLS) || 10000;
const EVENTS = Number(process.env.BENCH_STORE_EVENTS) || 4;
const SECONDS = Number(process.env.BENCH_STORE_SECONDS) || 120;
const CONCURRENCY = 50;
const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;
const CALL_TTL_MS = 60 * 60 * 1000;
const EVENT_NAMES = ['ringing', 'answered', 'hangup', 'recording'];

async function usedMemory(raw) {
  const info = await raw.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

/** The hop an event adds to a call's summary, shaped like SPEC section 4's CallSummary. */
function withEvent(summary, callId, n, at) {
  const event = EVENT_NAMES[n % EVENT_NAMES.length];
  const base = summary ?? { callId, startedAt: at, outcome: 'unknown', route: [], transfers: 0 };
  const next = { ...base, route: [...base.route, { event, extension: String(100 + (n % 7)), extensionType: 'extension', at }] };
  if (event === 'answered') Object.assign(next, { answeredAt: at, answeredBy: '101' });
  if (event === 'hangup') Object.assign(next, { endedAt: at, outcome: 'answered', durationSeconds: 42 });
  return next;
}

async function main() {
  const server = await startRedis();
  const raw = createClient({ url: server.url });
  raw.on('error', () => undefined);
  await raw.connect();
  const store = new RedisStore({ url: server.url, configId: 'a1b2c3d4e5f60718', commandTimeoutMs: 5000 });
  while (!store.isUp) await new Promise((r) => setTimeout(r, 10));
  const until = Date.now() + SECONDS * 1000;
  try {
    const memoryBefore = await usedMemory(raw);
    const keysBefore = await raw.dbSize();
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < CALLS && Date.now() < until) {
        const call = next++;
        const callId = `${260101120000 + call}_${call % 97}`;
        for (let n = 0; n < EVENTS; n++) {
          const at = new Date(1767268800000 + call * 1000 + n * 5000).toISOString();
          const delivery = JSON.stringify({ Event: EVENT_NAMES[n % 4], Id: `${callId}-${n}`, Callerid: '+15551230000', at });
          const fingerprint = createHash('sha256').update(delivery).digest('base64url');
          if (await store.claim(`dup:${fingerprint}`, DUPLICATE_WINDOW_MS)) {
            await store.update(`call:${callId}`, CALL_TTL_MS, (cur) => withEvent(cur, callId, n, at));
          }
        }
        done++;
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (Date.now() - started) / 1000;
    const keys = (await raw.dbSize()) - keysBefore;
    const bytes = (await usedMemory(raw)) - memoryBefore;
    const version = /redis_version:(\S+)/.exec(await raw.info('server'))[1];
    const perCall = bytes / done;
    console.log(
      JSON.stringify({
        redis: version,
        calls: done,
        eventsPerCall: EVENTS,
        keys,
        keysPerCall: keys / done,
        usedMemoryBytes: bytes,
        bytesPerCall: Math.round(perCall),
        mbPer10kCalls: Number(((perCall * 10000) / 1048576).toFixed(2)),
        seconds: Number(seconds.toFixed(1)),
        eventsPerSecond: Math.round((done * EVENTS) / seconds),
        complete: done === CALLS,
      }),
    );
  } finally {
    await store.close();
    await raw.destroy();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
