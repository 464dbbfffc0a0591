#!/usr/bin/env node
'use strict';
// Runs node-red-dev's validate checks (package, nodes, dependencies) without the network parts:
// the Node-RED flow catalogue cannot be reached here, so it is answered with an empty list.
// Prints each check and exits 1 when any check that ran failed.
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const devRoot = path.dirname(require.resolve('node-red-dev/package.json', { paths: [ROOT] }));
const axios = require(require.resolve('axios', { paths: [devRoot] }));
const realGet = axios.get.bind(axios);
axios.get = (url, ...rest) => (/catalogue\.nodered\.org/.test(url) ? Promise.resolve({ data: { modules: [] } }) : realGet(url, ...rest));

const checkpackage = require(path.join(devRoot, 'src/libs/checkpackage'));
const checknodes = require(path.join(devRoot, 'src/libs/checknodes'));
const checkdeps = require(path.join(devRoot, 'src/libs/checkdeps'));

async function validate() {
  const cli = { log: (m) => console.log(m), warn: (m) => console.log(`⚠ ${m}`), error: (m) => console.log(`✖ ${m}`) };
  const scorecard = {};
  await checkpackage(ROOT, cli, scorecard, false);
  await checknodes(ROOT, cli, scorecard, false);
  await checkdeps(ROOT, cli, scorecard, false);
  return scorecard;
}

module.exports = { validate };

if (require.main === module) {
  validate().then(
    (scorecard) => {
      const failed = Object.entries(scorecard).filter(([, v]) => v && v.test === false);
      console.log(failed.length ? `failed: ${failed.map(([k]) => k).join(', ')}` : 'all offline checks passed');
      process.exit(failed.length ? 1 : 0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
