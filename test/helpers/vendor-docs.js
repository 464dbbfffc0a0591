'use strict';
// What the vendors published, as the tests read it: the committed fixtures in test/fixtures/vendor,
// extracted from the vendor documents by scripts/extract-fixtures.js (`npm run fixtures`).
const fs = require('node:fs');
const path = require('node:path');
/** Committed with the repo: the tests never read the vendor documents or run the extraction. */
const FIXTURES_DIR = path.resolve(__dirname, '../fixtures/vendor');

/** One fixture file of test/fixtures/vendor, parsed. */
function vendorFixture(name) {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, name), 'utf8'));
}

/** The 3CX WebAPI webhook scenario tables: [{ title, scheme: 'post' | 'get', rows: [{ label, payload }] }] in document order. */
function threeCxScenarios() {
  return vendorFixture('3cx-webapi-webhook-scenarios.json').scenarios;
}

/** Every request of the 3CX WebAPI Postman collection: [{ name, method, query, response }]. */
function threeCxRequests() {
  return vendorFixture('3cx-webapi-requests.json').requests;
}

/** VoipNow's List Presence document: { requestPath, response, errorCodes: [{ code, description }] }. */
function voipnowListPresence() {
  return vendorFixture('voipnow-list-presence.json');
}

/** The example of a cloud call center document, by the document's name without `.md`. */
function cloudCallcenterExample(document) {
  return vendorFixture(`${document}.json`).example;
}

module.exports = { vendorFixture, threeCxScenarios, threeCxRequests, voipnowListPresence, cloudCallcenterExample };
