'use strict';
// Reads the vendor documents in ../shared/providers/seeds (beside the repo, as in CI) so tests
// are driven by what the vendors published, not by a copy of it.
const fs = require('node:fs');
const path = require('node:path');

const SEEDS = path.resolve(__dirname, '../../../shared/providers/seeds');

function seedPath(name) {
  return path.join(SEEDS, name);
}

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
 * The webhook scenario tables of the 3CX WebAPI Postman collection:
 * [{ title, scheme: 'post' | 'get', rows: [{ label, payload }] }] in document order.
 */
function threeCxScenarios() {
  const collection = JSON.parse(fs.readFileSync(seedPath('3cx-webapi.postman_collection.json'), 'utf8'));
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

/** Every request of the Postman collection with its first example response body. */
function threeCxRequests() {
  const collection = JSON.parse(fs.readFileSync(seedPath('3cx-webapi.postman_collection.json'), 'utf8'));
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

module.exports = { SEEDS, seedPath, threeCxScenarios, threeCxRequests, cellText };
