'use strict';
// Shared options; which files run is chosen by the npm scripts (bench/ is never part of a test run).
module.exports = {
  timeout: 20000,
  exit: true,
  reporter: require('node:path').join(__dirname, 'test/helpers/summary-reporter.js'),
};
