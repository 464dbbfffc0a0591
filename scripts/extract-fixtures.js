#!/usr/bin/env node
'use strict';
// Extracts from the vendor documents in ../shared/providers/seeds (beside the repo) exactly what
// the tests use — the 3CX webhook scenario tables and example responses, the VoipNow presence
// example and its error table, the cloud call center's examples — into test/fixtures/vendor/,
// so the tests run on any clone and never read the documents. An optional maintainer step:
// `npm run fixtures` rewrites them; `npm run fixtures:check` only compares and exits 1 when they
// no longer match the documents. VENDOR_SEEDS_DIR overrides where the documents are looked for.
const fs = require('node:fs');
const path = require('node:path');

const SEEDS_DIR = process.env.VENDOR_SEEDS_DIR
  ? path.resolve(process.env.VENDOR_SEEDS_DIR)
  : path.resolve(__dirname, '../../shared/providers/seeds');
const FIXTURES_DIR = path.resolve(__dirname, '../test/fixtures/vendor');

function decodeEntities(s) {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&');
}

function cellText(html) {
  return decodeEntities(html.replace(/<br\s*\/?>/gi, '\n').replace(/<[^>]+>/g, '')).trim();
}

/**
 * The webhook scenario tables of the 3CX WebAPI Postman collection's description:
 * [{ title, scheme: 'post' | 'get', rows: [{ label, payload }] }] in document order.
 */
function threeCxScenarios(collection) {
  const html = collection.info.description;
  const getStart = html.indexOf('GET Scheme');
  const out = [];
  const re = /<h4[^>]*>([\s\S]*?)<\/h4>\s*<div[^>]*>\s*<table>([\s\S]*?)<\/table>/g;
  let m;
  while ((m = re.exec(html))) {
    const body = m[2].slice(m[2].indexOf('<tbody>'));
    const rows = [];
    const rowRe = /<tr>\s*<td>([\s\S]*?)<\/td>\s*<td>([\s\S]*?)<\/td>\s*<\/tr>/g;
    let r;
    while ((r = rowRe.exec(body))) rows.push({ label: cellText(r[1]), payload: cellText(r[2]) });
    out.push({ title: cellText(m[1]), scheme: m.index > getStart ? 'get' : 'post', rows });
  }
  return out;
}

/** Every request of the Postman collection: its method, query string and first example response body. */
function threeCxRequests(collection) {
  const out = [];
  for (const group of collection.item) {
    for (const item of group.item) {
      const url = typeof item.request.url === 'string' ? item.request.url : item.request.url.raw;
      const [, method, query = ''] = /\{\{accessKey\}\}\/([^?]+)\??(.*)$/.exec(url) || [];
      out.push({ name: item.name, method, query, response: item.response[0] && JSON.parse(item.response[0].body) });
    }
  }
  return out;
}

/** The JSON body of the "HTTP Response" example of VoipNow's List Presence (its "..." header line dropped). */
function voipnowPresenceResponse(text) {
  const block = text.slice(text.indexOf('HTTP/1.1 200 OK'));
  return JSON.parse(block.slice(block.indexOf('{'), block.indexOf('```')));
}

/** The List Presence failure table: its 400 rows as { code, description }; the PDF export splits some codes with a space. */
function voipnowErrorCodes(text) {
  return text
    .split('\n')
    .map((line) => /^400\t([^\t]+)\t(.+)$/.exec(line))
    .filter(Boolean)
    .map((m) => ({ code: m[1].replace(/\s+/g, ''), description: m[2].trim() }));
}

/** The request path of the List Presence example, e.g. /uapi/extensions/@me/0003*210/presence/ */
function voipnowRequestPath(text) {
  return /GET (\/uapi\/extensions\/\S+) HTTP/.exec(text)[1];
}

/** The first code block after `heading` in a markdown document (fenced or indented), parsed as JSON. */
function exampleAfter(text, heading) {
  text = text.replace(/\r\n/g, '\n');
  const at = text.indexOf(heading);
  if (at < 0) throw new Error(`no "${heading}" in the document`);
  const lines = text
    .slice(at + heading.length)
    .split('\n')
    .slice(1);
  const fenced = lines.findIndex((l) => l.startsWith('```'));
  const firstText = lines.findIndex((l) => l.trim() !== '');
  let block;
  if (fenced === firstText) {
    const end = lines.findIndex((l, i) => i > fenced && l.startsWith('```'));
    block = lines.slice(fenced + 1, end);
  } else {
    block = [];
    for (const line of lines.slice(firstText)) {
      if (line.trim() !== '' && !line.startsWith('    ')) break;
      block.push(line.slice(4));
    }
  }
  return JSON.parse(block.join('\n'));
}

const CLOUD_CALLCENTER_EXAMPLES = [
  ['cloud-callcenter-call-state-callback.md', '#### Extension call status callback data format'],
  ['cloud-callcenter-GetGroupExt.md', '#### return data structure example'],
  ['cloud-callcenter-GetQueueSipStatus.md', '#### return data structure example'],
];

/** Every fixture, from the documents in `seedsDir`: file name (in test/fixtures/vendor) → content. */
function extractFixtures(seedsDir = SEEDS_DIR) {
  const read = (name) => fs.readFileSync(path.join(seedsDir, name), 'utf8');
  const fixtures = new Map();

  const collectionFile = '3cx-webapi.postman_collection.json';
  const collection = JSON.parse(read(collectionFile));
  fixtures.set('3cx-webapi-webhook-scenarios.json', { source: collectionFile, scenarios: threeCxScenarios(collection) });
  fixtures.set('3cx-webapi-requests.json', { source: collectionFile, requests: threeCxRequests(collection) });

  const presenceFile = 'voipnow-list-presence.md';
  const presence = read(presenceFile);
  fixtures.set('voipnow-list-presence.json', {
    source: presenceFile,
    requestPath: voipnowRequestPath(presence),
    response: voipnowPresenceResponse(presence),
    errorCodes: voipnowErrorCodes(presence),
  });

  for (const [file, heading] of CLOUD_CALLCENTER_EXAMPLES) {
    fixtures.set(file.replace(/\.md$/, '.json'), { source: file, heading, example: exampleAfter(read(file), heading) });
  }
  return fixtures;
}

/** A fixture as it is committed: indented JSON with a final newline. */
function serialize(content) {
  return `${JSON.stringify(content, null, 2)}\n`;
}

function main(check) {
  if (!fs.existsSync(SEEDS_DIR)) {
    console.error(`${SEEDS_DIR} does not exist: the vendor documents are needed to regenerate or check the fixtures.`);
    process.exit(1);
  }
  fs.mkdirSync(FIXTURES_DIR, { recursive: true });
  const generated = extractFixtures(SEEDS_DIR);
  let stale = 0;
  for (const [name, content] of generated) {
    const file = path.join(FIXTURES_DIR, name);
    const text = serialize(content);
    const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    const what = before === undefined ? 'new' : before === text ? 'unchanged' : 'changed';
    if (check) {
      if (what !== 'unchanged') stale++;
      console.log(
        `${path.relative(process.cwd(), file)}: ${what === 'unchanged' ? 'matches' : `${what} in the documents`} (${content.source})`,
      );
      continue;
    }
    fs.writeFileSync(file, text);
    console.log(`wrote ${path.relative(process.cwd(), file)} (${what}, from ${content.source})`);
  }
  const extra = fs.readdirSync(FIXTURES_DIR).filter((name) => !generated.has(name));
  for (const name of extra) console.log(`${name}: not made from the documents any more`);
  if (check && stale + extra.length > 0) {
    console.error('the committed fixtures no longer match the vendor documents: run `npm run fixtures`');
    process.exit(1);
  }
}

module.exports = { SEEDS_DIR, FIXTURES_DIR, extractFixtures, serialize };

if (require.main === module) main(process.argv.includes('--check'));
