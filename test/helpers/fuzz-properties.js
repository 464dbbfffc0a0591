'use strict';
// fast-check arbitraries and checks for the property-based fuzz (test/hardening/property-fuzz.test.js):
// webhook deliveries of each provider built from its real field names (any letter case), with
// values drawn from valid ones, prototype names, huge strings, unicode, number-like text and odd
// types; action parameters; provider answers; and what every event and every failure must look
// like. The odd-type and unicode pools and the valid seed deliveries are those of ./fuzz.js.
const assert = require('node:assert/strict');
const fc = require('fast-check');
const { SEEDS, WRONG_TYPES, UNICODE, CONTENT_TYPES, createRandom, hostileRequest } = require('./fuzz');
const { parseForm, parseWebhookBody, WEBHOOK_BODY_LIMIT } = require('../../dist/core/webhook-router');

const DEFAULT_SEED = 20260301;
const DEFAULT_RUNS = 200;

/** `FUZZ_SEED` (default fixed) and `FUZZ_RUNS` per property (default 200: the `npm test` slice). */
function fuzzSettings() {
  const seed = process.env.FUZZ_SEED === undefined ? DEFAULT_SEED : Number(process.env.FUZZ_SEED);
  const numRuns = process.env.FUZZ_RUNS === undefined ? DEFAULT_RUNS : Number(process.env.FUZZ_RUNS);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${process.env.FUZZ_SEED}`);
  if (!Number.isInteger(numRuns) || numRuns < 1) throw new Error(`FUZZ_RUNS must be a positive integer, got ${process.env.FUZZ_RUNS}`);
  return { seed, numRuns };
}

/**
 * Runs a property with the seed and run count of `fuzzSettings`. On failure fast-check's own
 * report (seed, path, shrunk counterexample, error) is the thrown message, plus how to replay it.
 */
async function checkProperty(property) {
  const { seed, numRuns } = fuzzSettings();
  const details = await fc.check(property, { seed, numRuns });
  if (!details.failed) return;
  const report = fc.defaultReportMessage(details);
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(`${report}\nGot error: ${cause}\nReplay: FUZZ_SEED=${seed} FUZZ_RUNS=${numRuns}`);
}

// --- value pools -----------------------------------------------------------------------------

/** Names that exist on every plain object (or are special to it). */
const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'prototype'];

const prototypeNameArb = fc
  .tuple(fc.constantFrom(...PROTOTYPE_NAMES), fc.constantFrom('as is', 'lower', 'upper', 'capital', 'padded'))
  .map(([name, form]) => {
    if (form === 'lower') return name.toLowerCase();
    if (form === 'upper') return name.toUpperCase();
    if (form === 'capital') return name[0].toUpperCase() + name.slice(1);
    if (form === 'padded') return ` ${name} `;
    return name;
  });

const loneSurrogateArb = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const unicodeNoiseArb = fc.oneof(
  fc.constantFrom(...UNICODE, '\u200f', '\u0301\u0301', '\ud83d', '\ude00', '\u0660\u0665', '\uff10\uff15', '\u{1f4de}\u{10ffff}'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }),
  loneSurrogateArb,
);

/** Text that reads as a number to someone, or almost. */
const numberishArb = fc.oneof(
  fc.constantFrom(
    'NaN',
    'Infinity',
    '-Infinity',
    '-0',
    '0',
    '-1',
    '1e309',
    '1e21',
    '0x1F',
    '1_000',
    '  42  ',
    '4 2',
    '+1',
    '.5',
    '1.5',
    '00:00',
    '99:99',
    '0:60',
    '-1:00',
    '1:2:3:4',
    '9999999999',
    '99999999999',
    '9'.repeat(400),
    `${'9'.repeat(320)}:00`,
    `${'9'.repeat(320)}.5`,
    '\u0661\u0662',
    '\uff11\uff12',
  ),
  fc.integer().map(String),
  fc.double().map(String),
);

/** JSON.parse makes `__proto__` an own key; so does a JSON body. */
const ownProtoKeyObjectArb = fc
  .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString'), fc.jsonValue({ maxDepth: 2 }))
  .map(([key, value]) => JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}}`));

const oddTypeArb = fc.oneof(
  fc.constantFrom(...WRONG_TYPES),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
  ownProtoKeyObjectArb,
  fc.array(prototypeNameArb, { maxLength: 3 }),
);

const hugeUnits = ['a', '9', ' ', '"', ':', '(1:1', '0:', '-1', '\\', '%', '\u00e9', '\u{1f600}', '\u0301', '\ud800', '\t'];

/** 1 KiB to 60 KiB, alone or around a valid value. */
function hugeStringArb(validTexts) {
  return fc
    .record({
      length: fc.integer({ min: 1024, max: 60 * 1024 }),
      unit: fc.constantFrom(...hugeUnits),
      around: fc.constantFrom('', ...validTexts),
      where: fc.constantFrom('alone', 'prefix', 'suffix'),
    })
    .map(({ length, unit, around, where }) => {
      const pad = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
      if (where === 'prefix') return pad + around;
      if (where === 'suffix') return around + pad;
      return pad;
    });
}

function unicodeArb(validTexts) {
  return fc
    .tuple(fc.constantFrom('', ...validTexts), unicodeNoiseArb, fc.constantFrom('prefix', 'suffix', 'alone', 'middle'))
    .map(([valid, noise, where]) => {
      if (where === 'prefix') return noise + valid;
      if (where === 'suffix') return valid + noise;
      if (where === 'middle') return valid.slice(0, valid.length >> 1) + noise + valid.slice(valid.length >> 1);
      return noise;
    });
}

/**
 * A field or parameter value: often a valid one, else a prototype name, a huge string, unicode,
 * number-like text or a value of another type. `extra`: more hostile text for this use.
 */
function valueArb(valid, { extra = [], oddTypes = true } = {}) {
  const texts = valid.filter((v) => typeof v === 'string');
  const choices = [
    { weight: 4, arbitrary: fc.constantFrom(...valid) },
    { weight: 3, arbitrary: prototypeNameArb },
    { weight: 1, arbitrary: hugeStringArb(texts) },
    { weight: 2, arbitrary: unicodeArb(texts) },
    { weight: 1, arbitrary: numberishArb },
  ];
  if (oddTypes) choices.push({ weight: 2, arbitrary: oddTypeArb });
  if (extra.length) choices.push({ weight: 2, arbitrary: fc.constantFrom(...extra) });
  return fc.oneof(...choices);
}

/** Text only (events and CallSummary fields are strings). */
const textArb = (valid) => valueArb(valid, { oddTypes: false });

/** When the router received a delivery (normalizers take event times from it). */
const receivedAtArb = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true });

// --- webhook fields of each provider ------------------------------------------------------------

const REC_3CX = 'http://pbx.test/recording/230307114903_10-1-1.mp3';
const REC_CC = 'http://cc.test/record/20260301/1772359200-90240002.mp3';

/**
 * Every field each provider's normalizer reads (src/providers/<id>/webhook.ts), the ones SPEC
 * section 5 names besides, with the values the vendors' documents and the unit tests show.
 * `core` fields are present in most deliveries, so that deliveries reach past the first check.
 */
const FIELDS = {
  '3cx-webapi': {
    Event: {
      core: true,
      valid: [
        'ringing',
        'dialing',
        'incomingcall_started',
        'hangupincoming',
        'pickupincoming',
        'outgoingcall_started',
        'hangupoutgoing',
        'pickupoutgoing',
        'incoming',
        'outgoing',
        'recording',
        'Ringing',
        'INCOMING',
        'hangup',
        'unknown_event',
      ],
    },
    Id: { core: true, valid: ['230307114903_10-1', '230307114903_10-2', '230307114903_10', '260301120000_7-12', '1-1', '-1'] },
    User: { valid: ['202', '117', '800', '820', '10000'] },
    Usertype: { valid: ['ext', 'queue', 'other', 'Ext', 'QUEUE', 'ivr'] },
    Callerid: { valid: ['05551239988', 'MAKECALL', 'makecall', '+420774852629', 'Anonymous'] },
    Did: { valid: ['0211', '+4930123456'] },
    Trtype: { valid: ['NotDef', 'Blind', 'Attended', 'attended'] },
    Finishtype: { valid: ['Ok', 'Missed', 'ok', 'MISSED', 'Busy'] },
    Duration: { valid: ['00:06', '0:07', '1:02:03', '65:00', '00:00'] },
    Title: { valid: ['Answered call from 420774852629 (0:07)', 'Missed call from 05551239988', 'Call (1:02:03)'] },
    Transfer: { valid: ['True', 'False', 'true'] },
    FileUrls: { valid: [REC_3CX, [REC_3CX, 'https://pbx.test/recording/230307114903_10-1-2.wav'], `'${REC_3CX}'`, `"${REC_3CX}" `] },
    Name: { valid: ['Reception', 'Agent 202'] },
    // The Creomate edition of the same add-on (SPEC section 5).
    chid: { valid: ['230307114903_10', '260301120000_7'] },
    inbound_did: { valid: ['0211'] },
    breakside: { valid: ['caller', 'callee'] },
    Files: { valid: [REC_3CX, [REC_3CX]] },
  },
  voipnow: {
    event: {
      core: true,
      valid: ['dial-in', 'dial-out', 'answer-incoming', 'answer-outgoing', 'hangup', 'Dial-In', 'dial_in', 'Answer incoming', 'answer'],
    },
    CallID: { core: true, valid: ['1772359200.42', 'c7a1e0f2', '0003*202-1'] },
    CallStatus: { valid: ['CALLING', 'ANSWER', 'UNKNOWN', 'BUSY', 'NOANSWER', 'CANCEL', 'CONGESTION', 'CHANUNAVAIL', 'answer'] },
    CallFlow: { valid: ['IN', 'OUT', 'INTERNAL', 'LOCAL', 'in'] },
    CallerExtension: { valid: ['0003*210', '0003*202'] },
    CalledExtension: { valid: ['0003*202', '0003*300'] },
    CalledDID: { valid: ['0211'] },
    CallerIDNum: { valid: ['0555', '05551239988'] },
    CallerIDName: { valid: ['Alice', 'Reception'] },
    CalledNumber: { valid: ['0555', '0003*202'] },
    EventType: { valid: ['dial-in', 'dial-out', 'answer', 'hangup', 'interactive'] },
  },
  'cloud-callcenter': {
    uuid: { core: true, valid: ['1772359200-90240002', 'a3c9e2b4-1', 'c0ffee'] },
    status: { core: true, valid: ['ring', 'answer', 'hangup', 'Ring', 'busy'] },
    type: { valid: ['call', 'Call', 'sms'] },
    direction: { valid: ['callin', 'callout', 'in', 'out', '1', '2', 'inbound'] },
    method: { valid: ['1', '2', '3'] },
    buuid: { valid: ['b-1772359200-1'] },
    customuuid: { valid: ['order-4711'] },
    extnumber: { valid: ['90240002', '90240001'] },
    caller: { valid: ['0555', '90240001'] },
    callee: { valid: ['90240002', '0555'] },
    disnumber: { valid: ['0211'] },
    starttime: { valid: ['1772359200', '0'] },
    endtime: { valid: ['1772359231'] },
    billsec: { valid: ['31', '0', '1.5'] },
    answertime: { valid: ['0', '1772359205'] },
    hangupcause: { valid: ['NORMAL_CLEARING', 'USER_BUSY'] },
    hangupdirection: { valid: ['caller', 'callee'] },
    recordurl: { valid: [REC_CC, `${REC_CC} `] },
    callmethod: { valid: ['1', '2'] },
    destnumber: { valid: ['0555'] },
    downloadip: { valid: ['10.0.0.5', 'cc.test'] },
    recordfilename: { valid: ['20260301/1772359200-90240002.mp3'] },
    isbleg: { valid: ['0', '1'] },
  },
};

/** A field name as a sender might spell it: mostly as documented, else in another letter case. */
function keyArb(name) {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(name) },
    { weight: 1, arbitrary: fc.constant(name.toLowerCase()) },
    { weight: 1, arbitrary: fc.constant(name.toUpperCase()) },
    { weight: 1, arbitrary: fc.mixedCase(fc.constant(name)) },
  );
}

const strangeKeyArb = fc.oneof(
  prototypeNameArb,
  fc.constantFrom('__proto__.polluted', 'constructor[prototype][polluted]', 'a[b]', '', ' ', 'polluted'),
  unicodeNoiseArb,
);

/** `[name, value]` pairs in any order; names may repeat (another case) and strange names join. */
function entriesArb(provider) {
  const fields = FIELDS[provider];
  const names = Object.keys(fields);
  const allValid = [...new Set(names.flatMap((n) => fields[n].valid))];
  const perField = names.map((name) =>
    fc.option(fc.tuple(keyArb(name), valueArb(fields[name].valid)), { freq: fields[name].core ? 5 : 2, nil: undefined }),
  );
  const extra = fc.oneof(
    fc.tuple(fc.constantFrom(...names).chain(keyArb), valueArb(allValid)),
    fc.tuple(strangeKeyArb, valueArb(allValid)),
  );
  return fc.tuple(fc.tuple(...perField), fc.array(extra, { maxLength: 3 })).chain(([picked, more]) => {
    const list = [...picked.filter(Boolean), ...more];
    return list.length ? fc.shuffledSubarray(list, { minLength: list.length }) : fc.constant([]);
  });
}

/** A valid delivery of ./fuzz.js's SEEDS with some fields replaced by generated values. */
function seedDeliveryArb(provider) {
  const fields = FIELDS[provider];
  const names = Object.keys(fields);
  return fc
    .record({
      seed: fc.integer({ min: 0, max: SEEDS[provider].length - 1 }),
      id: fc.constantFrom('fz1', '230307114903_10-1', '__proto__', 'constructor'),
      changes: fc.array(
        fc.constantFrom(...names).chain((name) => fc.tuple(keyArb(name), valueArb(fields[name].valid))),
        { minLength: 1, maxLength: 3 },
      ),
      receivedAt: receivedAtArb,
    })
    .map(({ seed, id, changes, receivedAt }) => {
      const s = SEEDS[provider][seed](id);
      if (s.kind === 'text') return { shape: 'text', entries: [], text: s.text, receivedAt };
      const entries = Object.entries(s.fields);
      for (const [key, value] of changes) {
        const i = entries.findIndex(([k]) => k.toLowerCase() === key.toLowerCase());
        if (i >= 0) entries[i] = [key, value];
        else entries.push([key, value]);
      }
      return { shape: s.kind, entries, receivedAt };
    });
}

/** What a text body or a bare query string may carry (3CX GET sends recordings as a bare URL). */
function textBodyArb(provider) {
  const urls = { '3cx-webapi': [REC_3CX], voipnow: ['http://voipnow.test/rec/1.wav'], 'cloud-callcenter': [REC_CC] }[provider];
  return fc.oneof(
    fc.constantFrom(...urls, `"${urls[0]}"`, `  '${urls[0]}'  `, 'http://pbx.test/recording/x.mp3', 'ftp://pbx.test/1_2-1.mp3'),
    textArb(urls),
    fc.constantFrom('{"Event":', '[1,2', '{"a":05551239988"}', 'event=constructor', 'a=1&b', 'null', '"text"'),
  );
}

/**
 * One webhook delivery of `provider` in one of the shapes WebhookInput covers (src/core/types.ts):
 * `{ shape: 'json'|'form'|'query'|'split-json'|'split-form'|'text'|'bare-query'|'empty', entries,
 * toQuery: boolean[] (split shapes: which entries ride in the query string), text, receivedAt }`.
 */
function deliveryArb(provider) {
  const free = fc.record({
    shape: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('json', 'form', 'query') },
      { weight: 1, arbitrary: fc.constantFrom('split-json', 'split-form', 'text', 'bare-query', 'empty') },
    ),
    entries: entriesArb(provider),
    toQuery: fc.array(fc.boolean(), { minLength: 32, maxLength: 32 }),
    text: textBodyArb(provider),
    receivedAt: receivedAtArb,
  });
  return fc.oneof({ weight: 3, arbitrary: free }, { weight: 2, arbitrary: seedDeliveryArb(provider) });
}

const asText = (v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)));
/** Written by hand so that repeated and `__proto__` keys reach the parser as a sender wrote them. */
const jsonText = (entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`;
const formText = (entries) => new URLSearchParams(entries.map(([k, v]) => [k, asText(v)])).toString();
/** Percent-encodes anything, lone surrogates included (as U+FFFD, like a UTF-8 sender). */
const encodeAny = (s) => encodeURIComponent(s.toWellFormed());

function split(d) {
  if (!d.shape.startsWith('split')) return { body: d.entries, query: [] };
  return { body: d.entries.filter((_, i) => !d.toQuery[i % 32]), query: d.entries.filter((_, i) => d.toQuery[i % 32]) };
}

/** The raw request of a delivery: `{ method, rawQuery, contentType, raw }` (`raw` undefined: no body). */
function rawRequestOf(d) {
  const { body, query } = split(d);
  switch (d.shape) {
    case 'json':
    case 'split-json':
      return { method: 'POST', rawQuery: formText(query), contentType: 'application/json', raw: jsonText(body) };
    case 'form':
    case 'split-form':
      return { method: 'POST', rawQuery: formText(query), contentType: 'application/x-www-form-urlencoded', raw: formText(body) };
    case 'query':
      return { method: 'GET', rawQuery: formText(body), contentType: undefined, raw: undefined };
    case 'text':
      return { method: 'POST', rawQuery: '', contentType: 'text/plain', raw: d.text };
    case 'bare-query':
      return {
        method: 'GET',
        rawQuery: d.toQuery[0] ? encodeAny(d.text) : `url=${encodeAny(d.text)}`,
        contentType: undefined,
        raw: undefined,
      };
    default:
      return { method: d.toQuery[0] ? 'GET' : 'POST', rawQuery: '', contentType: undefined, raw: undefined };
  }
}

/** The WebhookInput a delivery becomes when its body was parsed by its own content type. */
function inputOf(d) {
  const { body } = split(d);
  const req = rawRequestOf(d);
  let parsed;
  if (d.shape === 'json' || d.shape === 'split-json') parsed = JSON.parse(jsonText(body));
  else if (d.shape === 'form' || d.shape === 'split-form') parsed = parseForm(formText(body));
  else if (d.shape === 'text') parsed = d.text;
  return { method: req.method, query: parseForm(req.rawQuery), rawQuery: req.rawQuery, body: parsed, receivedAt: d.receivedAt };
}

/**
 * A raw request as it reaches the endpoint: a generated delivery (its content type sometimes
 * wrong, its body sometimes cut or prefixed), one of ./fuzz.js's seeded hostile requests, or
 * plain garbage.
 */
function rawRequestArb(provider) {
  const mutated = fc
    .record({
      delivery: deliveryArb(provider),
      contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { freq: 4, nil: null }),
      mutation: fc.oneof(
        { weight: 6, arbitrary: fc.constant('none') },
        { weight: 1, arbitrary: fc.constantFrom('truncate', 'bom', 'whitespace', 'twice', 'nul') },
      ),
      cut: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .map(({ delivery, contentType, mutation, cut }) => {
      const req = rawRequestOf(delivery);
      let raw = req.raw;
      if (raw !== undefined) {
        if (mutation === 'truncate') raw = raw.slice(0, Math.floor(raw.length * cut));
        if (mutation === 'bom') raw = `\ufeff${raw}`;
        if (mutation === 'whitespace') raw = ` \r\n\t${raw}\n `;
        if (mutation === 'twice') raw = raw + raw;
        if (mutation === 'nul') raw = `${raw}\u0000`;
      }
      return { ...req, raw, contentType: contentType === null ? req.contentType : contentType, receivedAt: delivery.receivedAt };
    });
  const hostile = fc.tuple(fc.integer(), receivedAtArb).map(([seed, receivedAt]) => {
    const r = hostileRequest(createRandom(seed), provider, 0);
    return { method: r.method, rawQuery: r.query, contentType: r.contentType, raw: r.body?.toString('utf8'), receivedAt };
  });
  const garbage = fc.record({
    method: fc.constantFrom('GET', 'POST'),
    rawQuery: fc.oneof(fc.constant(''), fc.string({ maxLength: 40 }).map(encodeAny), fc.constantFrom('%zz', '&&==', 'event=%E0%A4%A')),
    contentType: fc.constantFrom(...CONTENT_TYPES),
    raw: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.json({ maxDepth: 4 }), fc.string({ maxLength: 200 })),
    receivedAt: receivedAtArb,
  });
  return fc.oneof({ weight: 6, arbitrary: mutated }, { weight: 2, arbitrary: hostile }, { weight: 1, arbitrary: garbage });
}

/**
 * What src/core/webhook-router.ts does with a raw request before it answers 200: the WebhookInput
 * and fingerprint it hands on, or `undefined` when it answers 4xx.
 */
function routerInputOf(req) {
  const bytes = req.raw === undefined ? undefined : Buffer.from(req.raw, 'utf8');
  if (bytes && bytes.length > WEBHOOK_BODY_LIMIT) return undefined;
  const text = bytes ? bytes.toString('utf8') : '';
  const parsed = parseWebhookBody(text, String(req.contentType ?? ''));
  if (!parsed.ok) return undefined;
  const body = parsed.body;
  if (body !== undefined && typeof body !== 'string' && (typeof body !== 'object' || body === null || Array.isArray(body)))
    return undefined;
  const input = { method: req.method, query: parseForm(req.rawQuery), rawQuery: req.rawQuery, body, receivedAt: req.receivedAt };
  return { input, fingerprint: `${req.method}\n${req.rawQuery}\n${text}` };
}

// --- well-formed events ---------------------------------------------------------------------------

const EVENT_NAMES = ['ringing', 'answered', 'hangup', 'recording'];
const DIRECTIONS = ['inbound', 'outbound', 'internal', 'unknown'];
const EXTENSION_TYPES = ['extension', 'queue', 'ivr', 'ringgroup', 'other'];
const OUTCOMES = ['answered', 'missed', 'busy', 'failed', 'unknown'];
const TRANSFERS = ['blind', 'attended'];
const STRING_FIELDS = ['providerEvent', 'callId', 'legId', 'extension', 'from', 'to', 'did', 'hangupCause', 'reference', 'timestamp'];
const HOP_EVENTS = ['ringing', 'answered', 'transfer'];

/** A short, stable description of a value for assertion messages. */
function describe(v) {
  if (typeof v === 'function') return `function ${v.name || '(anonymous)'}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…(${v.length})` : v);
  if (v === Object.prototype) return 'Object.prototype';
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}

function inEnum(name, value, allowed) {
  assert.ok(allowed.includes(value), `${name} is not one of ${allowed.join('|')}: ${describe(value)}`);
}

const isIsoTime = (s) => typeof s === 'string' && Number.isFinite(Date.parse(s));

function checkDuration(where, v) {
  assert.ok(typeof v === 'number' && Number.isFinite(v) && v >= 0, `${where} is not a finite number >= 0: ${describe(v)}`);
}

/** Survives what Node-RED and flows do with a msg: structured cloning and JSON. */
function checkCloneable(what, v) {
  try {
    structuredClone(v);
  } catch (err) {
    assert.fail(`${what} does not survive structuredClone: ${err.name}`);
  }
  assert.equal(typeof JSON.stringify(v), 'string', `${what} does not survive JSON.stringify`);
}

function checkSummary(e) {
  const s = e.call;
  assert.ok(s && typeof s === 'object', `call is not an object on ${e.event}`);
  assert.equal(s.callId, e.callId, 'call.callId differs from callId');
  assert.ok(isIsoTime(s.startedAt), `call.startedAt is not a time: ${describe(s.startedAt)}`);
  for (const k of ['answeredAt', 'endedAt'])
    if (s[k] !== undefined) assert.ok(isIsoTime(s[k]), `call.${k} is not a time: ${describe(s[k])}`);
  inEnum('call.outcome', s.outcome, OUTCOMES);
  if (s.durationSeconds !== undefined) checkDuration('call.durationSeconds', s.durationSeconds);
  for (const k of ['hangupCause', 'answeredBy'])
    if (s[k] !== undefined) assert.equal(typeof s[k], 'string', `call.${k} is not a string: ${describe(s[k])}`);
  assert.ok(Number.isInteger(s.transfers) && s.transfers >= 0, `call.transfers is not a count: ${describe(s.transfers)}`);
  assert.ok(Array.isArray(s.route), 'call.route is not an array');
  for (const hop of s.route) {
    inEnum('call.route[].event', hop.event, HOP_EVENTS);
    if (hop.extension !== undefined)
      assert.equal(typeof hop.extension, 'string', `call.route[].extension is not a string: ${describe(hop.extension)}`);
    if (hop.extensionType !== undefined) inEnum('call.route[].extensionType', hop.extensionType, EXTENSION_TYPES);
    assert.ok(isIsoTime(hop.at), `call.route[].at is not a time: ${describe(hop.at)}`);
  }
}

/**
 * A CallEvent as SPEC section 4 and src/core/types.ts describe it. `tracked`: it came out of the
 * call tracker (no adapter hint left, `call` on hangup and recording).
 */
function checkCallEvent(provider, e, { tracked = false } = {}) {
  assert.ok(e && typeof e === 'object' && !Array.isArray(e), `event is not an object: ${describe(e)}`);
  inEnum('event', e.event, EVENT_NAMES);
  assert.equal(e.provider, provider, `provider is not ${provider}: ${describe(e.provider)}`);
  for (const k of STRING_FIELDS) if (e[k] !== undefined) assert.equal(typeof e[k], 'string', `${k} is not a string: ${describe(e[k])}`);
  assert.equal(typeof e.providerEvent, 'string', `providerEvent is missing: ${describe(e.providerEvent)}`);
  assert.ok(typeof e.callId === 'string' && e.callId.length > 0, `callId is empty or missing: ${describe(e.callId)}`);
  assert.ok(isIsoTime(e.timestamp), `timestamp is not a time: ${describe(e.timestamp)}`);
  inEnum('direction', e.direction, DIRECTIONS);
  if (e.extensionType !== undefined) inEnum('extensionType', e.extensionType, EXTENSION_TYPES);
  if (e.outcome !== undefined) inEnum('outcome', e.outcome, OUTCOMES);
  if (e.transfer !== undefined) inEnum('transfer', e.transfer, TRANSFERS);
  if (e.recordingUrls !== undefined) {
    assert.ok(Array.isArray(e.recordingUrls), `recordingUrls is not an array: ${describe(e.recordingUrls)}`);
    for (const u of e.recordingUrls) assert.equal(typeof u, 'string', `recordingUrls[] is not a string: ${describe(u)}`);
  }
  if (e.durationSeconds !== undefined) checkDuration('durationSeconds', e.durationSeconds);
  if (e.synthetic !== undefined) assert.equal(e.synthetic, true, `synthetic is not true: ${describe(e.synthetic)}`);
  if (tracked) {
    assert.equal(e.legTransferred, undefined, 'the adapter hint legTransferred was emitted');
    assert.equal(e.unlessEnded, undefined, 'the adapter hint unlessEnded was emitted');
    if (e.event === 'hangup' || e.event === 'recording') checkSummary(e);
  } else {
    if (e.legTransferred !== undefined)
      assert.equal(typeof e.legTransferred, 'boolean', `legTransferred is not a boolean: ${describe(e.legTransferred)}`);
  }
  checkCloneable('the event', e);
}

/** A well-formed CallEvent of `provider` (the call tracker's input), calls shared through a small id pool. */
function callEventArb(provider) {
  const text = textArb(['202', '0555', '0003*202', '90240002']);
  const duration = fc.oneof(
    fc.nat(100000),
    fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true }),
    fc.constantFrom(1e308, Number.MAX_VALUE),
  );
  const time = receivedAtArb.map((d) => d.toISOString());
  return fc.record(
    {
      event: fc.constantFrom(...EVENT_NAMES),
      provider: fc.constant(provider),
      providerEvent: text,
      callId: fc.oneof(fc.constantFrom('call-1', 'call-2', '230307114903_10'), prototypeNameArb),
      legId: fc.oneof(fc.constantFrom('leg-1', 'leg-2'), prototypeNameArb),
      direction: fc.constantFrom(...DIRECTIONS),
      extension: text,
      extensionType: fc.constantFrom(...EXTENSION_TYPES),
      from: text,
      to: text,
      did: text,
      outcome: fc.constantFrom(...OUTCOMES),
      durationSeconds: duration,
      hangupCause: text,
      transfer: fc.constantFrom(...TRANSFERS),
      recordingUrls: fc.array(text, { maxLength: 3 }),
      reference: text,
      timestamp: time,
      legTransferred: fc.boolean(),
    },
    { requiredKeys: ['event', 'provider', 'providerEvent', 'callId', 'direction', 'timestamp'], noNullPrototype: true },
  );
}

// --- actions ------------------------------------------------------------------------------------

const SPEC_ERROR_CODES = [
  'invalid_input',
  'unsupported',
  'auth_failed',
  'not_found',
  'timeout',
  'unreachable',
  'provider_error',
  'outcome_unknown',
];

/** Path segments that would walk out of where a request was meant to go, and URL syntax. */
const PATH_TRICKS = [
  '.',
  '..',
  '...',
  '%2e',
  '%2e%2e',
  '.%2E',
  '../..',
  '../../webapi',
  '/',
  '//',
  '\\..',
  '..%2f',
  '?x=1',
  '#frag',
  '@me',
  '@self',
  ' .. ',
];

/** Valid values of each action parameter, per provider (their simulators know these). */
const PARAM_VALUES = {
  '3cx-webapi': {
    extension: ['117', '202', '204', '100'],
    destination: ['0555', '05551239988', '204'],
    callId: ['1', '117'],
    from: ['0555'],
    queue: ['820', '807'],
    group: ['860', '861', 'Sales', 'Support'],
    kind: ['extensions', 'registered', 'queues', 'ringgroups', 'ivrs', 'lines', 'usergroups'],
    status: ['available', 'away', 'Available', 'AWAY', 'busy'],
    enabled: ['on', 'off', 'true', 'false', '1', '0', 'yes', 'no'],
    external: ['on', 'off', 'true', 'false'],
    recording: ['all', 'external', 'off', 'ALL', 'none'],
    reference: ['order-4711'],
    agentId: ['10'],
  },
  voipnow: {
    extension: ['0003*202', '0003*210', '0003*201'],
    destination: ['0555', '0003*203'],
    callId: ['c7a1e0f2', '1'],
    from: ['0555'],
    queue: ['0003*300', '0003*301'],
    group: ['0003*300'],
    kind: ['extensions'],
    status: ['available', 'away', 'busy'],
    enabled: ['on'],
    external: ['off'],
    recording: ['all'],
    reference: ['order-4711'],
    agentId: ['10'],
  },
  'cloud-callcenter': {
    extension: ['90240001', '90240002', '90240007', '90240008'],
    destination: ['0555', '90240003', 'queue-1'],
    callId: ['1'],
    from: ['0555', '90240004'],
    queue: ['queue-1', 'queue-2', 'queue-3'],
    group: ['sales'],
    kind: ['extensions'],
    status: ['available', 'away', 'Available', 'busy'],
    enabled: ['on'],
    external: ['off'],
    recording: ['all'],
    reference: ['order-4711', 'a b/c?d'],
    agentId: ['10', '2001'],
  },
};

/**
 * A msg.payload for an action node: each parameter of `names` present or not, valid or hostile
 * (also the account's own credentials, which an error text must never show).
 */
function actionPayloadArb(provider, names, credentials) {
  const values = PARAM_VALUES[provider];
  const extra = [...PATH_TRICKS, ...Object.values(credentials)];
  return fc.record(Object.fromEntries(names.map((n) => [n, valueArb(values[n], { extra })])), { requiredKeys: [], noNullPrototype: true });
}

/** A msg.payload with valid values only (each parameter present or not): requests that reach the provider. */
function validPayloadArb(provider, names) {
  const values = PARAM_VALUES[provider];
  return fc.record(Object.fromEntries(names.map((n) => [n, fc.constantFrom(...values[n])])), { requiredKeys: [], noNullPrototype: true });
}

/** An operation of the provider's table, now and then one it does not have or a prototype name. */
function operationArb(definition, knownOperations) {
  const known = Object.entries(knownOperations).flatMap(([node, ops]) => ops.map((name) => ({ name, node })));
  return fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...definition.operations).map((o) => ({ name: o.name, node: o.node })) },
    { weight: 1, arbitrary: fc.constantFrom(...known) },
    {
      weight: 1,
      arbitrary: fc.record({
        name: fc.oneof(prototypeNameArb, fc.constantFrom('', 'MAKECALL', 'make call')),
        node: fc.constantFrom('call', 'status', 'queue'),
      }),
    },
  );
}

/** Text in a request to a provider that only a prototype lookup or an object turned to text can produce. */
const LEAKED_OBJECT_TEXT = /\[native code\]|\[object Object\]|native%20code|%5Bobject%20Object%5D/i;

const isDotSegment = (segment) => {
  let s = segment;
  try {
    s = decodeURIComponent(segment);
  } catch {
    // not decodable: not a dot segment to a URL parser either
  }
  return s === '.' || s === '..';
};

/**
 * A provider answer the simulator gives once instead of its own, shaped like the provider's
 * envelope, with prototype names, odd types and the account's credentials among its values.
 */
function providerAnswerArb(provider, credentials) {
  const text = valueArb(['ok', 'error', 'extension_invalid', 'token expired'], { extra: Object.values(credentials) });
  const code = valueArb(
    ['200', '400', '500', '600', '601', '1010', '1011', '1012', '1015', '9999', 'extension_invalid', 'invalid_client'],
    {
      extra: ['constructor', '__proto__', 'toString', 'hasOwnProperty'],
    },
  );
  const businessError = fc.record({ code, codemsg: text }, { requiredKeys: [], noNullPrototype: true });
  const envelopes = {
    '3cx-webapi': fc.record(
      {
        result: fc.oneof(fc.boolean(), code, oddTypeArb),
        nums: oddTypeArb,
        members: oddTypeArb,
        callsInfo: oddTypeArb,
        status: text,
        registered: oddTypeArb,
      },
      { requiredKeys: [], noNullPrototype: true },
    ),
    voipnow: fc.oneof(
      fc.record({ error: fc.record({ code, message: text }, { requiredKeys: [], noNullPrototype: true }) }),
      fc.record({ error: code, error_description: text }, { requiredKeys: ['error'], noNullPrototype: true }),
      fc.record(
        { entry: oddTypeArb, totalResults: oddTypeArb, id: oddTypeArb, access_token: text, expires_in: oddTypeArb },
        { requiredKeys: [], noNullPrototype: true },
      ),
    ),
    // Mostly `ret` 200 with a business status, so that the business error table is reached too.
    'cloud-callcenter': fc.record(
      {
        ret: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('200', 200) }, { weight: 2, arbitrary: code }),
        msg: text,
        data: fc.oneof(
          { weight: 1, arbitrary: oddTypeArb },
          {
            weight: 3,
            arbitrary: fc.record(
              {
                status: fc.oneof({ weight: 2, arbitrary: fc.constantFrom('0', '1', 0, 1) }, { weight: 1, arbitrary: code }),
                desc: text,
                errors: fc.oneof(oddTypeArb, businessError, fc.array(businessError, { maxLength: 2 })),
                result: oddTypeArb,
              },
              { requiredKeys: [], noNullPrototype: true },
            ),
          },
        ),
      },
      { requiredKeys: [], noNullPrototype: true },
    ),
  };
  return fc.record({
    status: fc.constantFrom(200, 200, 200, 201, 204, 400, 401, 403, 404, 422, 429, 500, 503),
    rawBody: fc.oneof(
      { weight: 5, arbitrary: envelopes[provider].map((b) => JSON.stringify(b)) },
      { weight: 1, arbitrary: textArb(['', 'OK', '<html>login</html>', '{"ret":']) },
    ),
  });
}

module.exports = {
  fc,
  fuzzSettings,
  checkProperty,
  SPEC_ERROR_CODES,
  LEAKED_OBJECT_TEXT,
  deliveryArb,
  inputOf,
  rawRequestArb,
  routerInputOf,
  callEventArb,
  actionPayloadArb,
  validPayloadArb,
  operationArb,
  providerAnswerArb,
  checkCallEvent,
  checkCloneable,
  isDotSegment,
  describe,
};
