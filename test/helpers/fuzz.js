'use strict';
// Seeded webhook fuzzing: a small deterministic PRNG and a generator of hostile webhook requests
// (mutations of each provider's real payloads plus plain garbage), so a failing run can be
// replayed exactly from its seed.
const http = require('node:http');
const { WEBHOOK_BODY_LIMIT } = require('../../dist/core/webhook-router');

/** xorshift32 over a 32-bit state; `seed` is any integer (0 is replaced). */
function createRandom(seed) {
  let state = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
  const int = (n) => Math.floor(next() * n);
  return {
    next,
    int,
    /** Integer in [min, max]. */
    between: (min, max) => min + int(max - min + 1),
    pick: (list) => list[int(list.length)],
    chance: (p) => next() < p,
    string(length, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789') {
      let s = '';
      for (let i = 0; i < length; i++) s += alphabet[int(alphabet.length)];
      return s;
    },
  };
}

/** Valid deliveries of each provider, the raw material of the mutations. `id` keeps each one distinct. */
const SEEDS = {
  '3cx-webapi': [
    (id) => ({
      kind: 'json',
      fields: { Event: 'ringing', Callerid: '05551239988', User: '202', Usertype: 'ext', Id: `${id}-0`, Did: '0211' },
    }),
    (id) => ({ kind: 'json', fields: { Event: 'incomingcall_started', User: '202', Trtype: 'NotDef', Id: `${id}-1` } }),
    (id) => ({
      kind: 'json',
      fields: { Event: 'incoming', User: '202', Finishtype: 'Ok', Duration: '00:06', Transfer: 'False', Id: `${id}-1` },
    }),
    (id) => ({
      kind: 'json',
      fields: { Event: 'recording', User: '202', Id: `${id}-1`, FileUrls: [`http://pbx.test/recording/${id}-1-1.mp3`] },
    }),
    (id) => ({ kind: 'query', fields: { event: 'hangupincoming', id: `${id}-1`, user: '117', callerid: '420774852629' } }),
    (id) => ({ kind: 'text', text: `http://pbx.test/recording/${id}-1-1.mp3` }),
  ],
  voipnow: [
    (id) => ({
      kind: 'query',
      fields: { event: 'dial-in', CallID: id, CallStatus: 'CALLING', CallFlow: 'IN', CalledExtension: '0003*202', CalledDID: '0211' },
    }),
    (id) => ({
      kind: 'form',
      fields: { event: 'answer-incoming', CallID: id, CallStatus: 'ANSWER', CallFlow: 'IN', CalledExtension: '0003*202' },
    }),
    (id) => ({
      kind: 'query',
      fields: { CallID: id, CallStatus: 'UNKNOWN', CallFlow: 'OUT', CallerExtension: '0003*210', CalledNumber: '0555' },
    }),
    (id) => ({ kind: 'form', fields: { event: 'hangup', CallID: id, CallStatus: 'ANSWER', CallFlow: 'IN', CalledExtension: '0003*202' } }),
  ],
  'cloud-callcenter': [
    (id) => ({
      kind: 'json',
      fields: {
        type: 'call',
        status: 'ring',
        uuid: id,
        direction: 'callin',
        extnumber: '90240002',
        caller: '0555',
        starttime: '1772359200',
      },
    }),
    (id) => ({ kind: 'json', fields: { type: 'call', status: 'answer', uuid: id, direction: 'callin', extnumber: '90240002' } }),
    (id) => ({
      kind: 'json',
      fields: { type: 'call', status: 'hangup', uuid: id, direction: 'callout', extnumber: '90240001', answertime: '0' },
    }),
    (id) => ({
      kind: 'json',
      fields: { uuid: id, recordurl: `http://cc.test/record/${id}.mp3`, billsec: '31', hangupcause: 'NORMAL_CLEARING' },
    }),
  ],
};

const WRONG_TYPES = [0, -1, 1.5e300, true, false, null, [], {}, [1, [2, [3]]], { a: { b: 'c' } }, '', ' ', '\n', 'null', 'NaN'];
const UNICODE = [
  '\u0000',
  '\ud800',
  '\udfff\ud800',
  '\u202eevil',
  '\ufeff',
  '\u200b\u200d',
  'e\u0301\u0301\u0301',
  '\uffff',
  '😀📞',
  '電話',
  'רינג',
  '\r\n[error] forged',
];
const POLLUTION = [
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"__proto__.polluted":"yes","constructor.prototype.polluted":"yes"}',
  '{"prototype":{"polluted":"yes"},"__PROTO__":{"polluted":"yes"}}',
];
const POLLUTION_QUERY = [
  '__proto__[polluted]=yes',
  'constructor[prototype][polluted]=yes',
  '__proto__.polluted=yes',
  'constructor.prototype.polluted=yes',
  '__proto__=yes',
  'toString=yes&valueOf=1&hasOwnProperty=x',
];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/x-www-form-urlencoded',
  'text/plain',
  'text/plain; charset=utf-8',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  undefined,
];

const encode = (fields) => {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
  return form.toString();
};

/**
 * One hostile (or valid) request for `provider`'s endpoint:
 * `{ method, secret: 'path'|'header'|'missing'|'wrong', query, contentType, body: Buffer|undefined, label, expect: number[] }`.
 */
function hostileRequest(rand, provider, n) {
  const seed = rand.pick(SEEDS[provider])(`fz${n}_${rand.string(6)}`);
  let fields = { ...(seed.fields ?? {}) };
  let label = 'valid';
  let jsonText;
  let rawText;
  let query;
  let kind = seed.kind;
  const keys = Object.keys(fields);

  switch (rand.int(14)) {
    case 0:
      break;
    case 1:
      label = 'wrong type';
      fields[rand.pick(keys)] = rand.pick(WRONG_TYPES);
      break;
    case 2:
      label = 'huge string';
      // A query string stays under the HTTP server's own 16 KiB header limit (that 431 is not ours).
      fields[rand.pick(keys)] = rand.string(seed.kind === 'query' ? rand.between(1000, 4000) : rand.between(1000, 40000), 'ab c:"\\\t');
      break;
    case 3:
      label = 'unicode';
      fields[rand.pick(keys)] = rand.pick(UNICODE) + rand.pick(UNICODE);
      fields[rand.pick(UNICODE)] = rand.pick(UNICODE);
      break;
    case 4: {
      label = 'deep nesting';
      const [open, close] = rand.chance(0.5) ? ['[', ']'] : ['{"a":', '}'];
      // Mostly within the body limit (60 KiB of nesting), now and then past it.
      const depth = rand.between(50, Math.floor(62000 / (open.length + close.length)));
      kind = 'json';
      jsonText = JSON.stringify(fields).replace(/}$/, `,"deep":${open.repeat(depth)}1${close.repeat(depth)}}`);
      break;
    }
    case 5:
      label = 'prototype keys';
      kind = seed.kind === 'query' || seed.kind === 'form' ? seed.kind : 'json';
      if (kind === 'json') {
        jsonText = JSON.stringify(fields).replace(/^{/, rand.pick(POLLUTION).replace(/}$/, ','));
      } else {
        query = `${rand.pick(POLLUTION_QUERY)}&${encode(fields)}&${rand.pick(POLLUTION_QUERY)}`;
        if (kind === 'form') rawText = query;
      }
      break;
    case 6:
      label = 'repeated keys';
      query = `${encode(fields)}&${encode(fields)}&${keys.map((k) => `${k.toUpperCase()}=${rand.string(3)}`).join('&')}`;
      if (seed.kind !== 'query') rawText = rand.chance(0.5) ? query : undefined;
      kind = seed.kind === 'query' ? 'query' : 'form';
      break;
    case 7:
      label = 'truncated';
      kind = 'json';
      jsonText = JSON.stringify(fields);
      jsonText = jsonText.slice(0, rand.int(jsonText.length));
      break;
    case 8:
      label = 'random bytes';
      kind = 'bytes';
      break;
    case 9:
      label = 'case-mangled keys';
      fields = Object.fromEntries(Object.entries(fields).map(([k, v]) => [rand.chance(0.5) ? k.toUpperCase() : k.toLowerCase(), v]));
      break;
    case 10:
      label = 'type mismatch';
      kind = rand.pick(['json', 'form', 'text']);
      break;
    case 11:
      label = 'pathological';
      kind = 'text';
      rawText = rand.pick([
        () => `{"a":${':'.repeat(rand.between(1000, 60000))}`,
        () => `{"Title":${'(1:1'.repeat(rand.between(500, 15000))}`,
        () => `http://pbx.test/recording/${' '.repeat(rand.between(1000, 60000))}x1_2-1.mp3`,
        () => `${'"'.repeat(rand.between(1000, 60000))}`,
      ])();
      break;
    case 12:
      label = 'empty';
      kind = rand.pick(['empty', 'spaces']);
      break;
    case 13:
      label = 'bad percent-encoding';
      query = `${encode(fields)}&x=%zz&y=%E0%A4%A&%=1&&==&a=%00`;
      kind = seed.kind === 'query' ? 'query' : kind;
      break;
  }

  if (query === undefined) query = kind === 'query' ? encode(fields) : '';
  let body;
  let contentType;
  if (kind === 'json') {
    body = Buffer.from(jsonText ?? JSON.stringify(fields));
    contentType = 'application/json';
  } else if (kind === 'form') {
    body = Buffer.from(rawText ?? encode(fields));
    contentType = 'application/x-www-form-urlencoded';
  } else if (kind === 'text') {
    body = Buffer.from(rawText ?? seed.text ?? JSON.stringify(fields));
    contentType = 'text/plain';
  } else if (kind === 'bytes') {
    body = Buffer.alloc(rand.between(1, 4000));
    for (let i = 0; i < body.length; i++) body[i] = rand.int(256);
    contentType = rand.pick(CONTENT_TYPES);
  } else if (kind === 'empty') {
    body = Buffer.alloc(0);
    contentType = rand.pick(CONTENT_TYPES);
  } else if (kind === 'spaces') {
    body = Buffer.from(' \r\n\t '.repeat(rand.between(1, 100)));
    contentType = rand.pick(CONTENT_TYPES);
  }
  if (label === 'type mismatch') contentType = rand.pick(CONTENT_TYPES);

  const roll = rand.next();
  if (roll < 0.04) {
    label += ' + over limit';
    const pad = Math.max(1, WEBHOOK_BODY_LIMIT + 1 - (body?.length ?? 0)) + rand.int(2000);
    body = Buffer.concat([body ?? Buffer.alloc(0), Buffer.alloc(pad, 0x61)]);
    contentType ??= 'text/plain';
  }
  let secret = 'path';
  if (roll >= 0.04 && roll < 0.08) {
    secret = rand.pick(['missing', 'wrong']);
    label += ` + ${secret} secret`;
  } else if (roll >= 0.08 && roll < 0.4) {
    secret = 'header';
  }
  const expect = secret === 'missing' || secret === 'wrong' ? [401] : (body?.length ?? 0) > WEBHOOK_BODY_LIMIT ? [413] : [200, 400];
  const method = body !== undefined ? 'POST' : rand.chance(0.9) ? 'GET' : 'POST';
  return { method, secret, query, contentType, body, label, expect };
}

/** Sends one generated request; resolves with the status (0 when the connection failed). */
function sendHostile(baseUrl, path, secretValue, req, agent) {
  const target = new URL(baseUrl);
  let p = path;
  if (req.secret === 'path') p += `/${encodeURIComponent(secretValue)}`;
  if (req.secret === 'wrong') p += `/wrong-${secretValue.slice(0, 4)}`;
  const headers = {};
  if (req.secret === 'header') headers['X-Webhook-Secret'] = secretValue;
  if (req.contentType) headers['Content-Type'] = req.contentType;
  if (req.body !== undefined) headers['Content-Length'] = req.body.length;
  return new Promise((resolve) => {
    const r = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.query ? `${p}?${req.query}` : p, headers, agent },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
        res.on('error', () => resolve(0));
      },
    );
    r.setTimeout(10000, () => r.destroy(new Error('timeout')));
    r.on('error', () => resolve(0));
    r.end(req.body);
  });
}

/** Property names of the built-in prototypes, to compare before and after a fuzz run. */
function prototypeSnapshot() {
  const names = (o) => Object.getOwnPropertyNames(o).sort().join(',');
  return {
    object: names(Object.prototype),
    array: names(Array.prototype),
    function: names(Function.prototype),
    string: names(String.prototype),
  };
}

module.exports = { createRandom, hostileRequest, sendHostile, prototypeSnapshot, SEEDS, WRONG_TYPES, UNICODE, CONTENT_TYPES };
