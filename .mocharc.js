'use strict';
// One mocha run covers unit, node (test helper) and integration tests; bench/ is separate.
module.exports = {
  spec: ['test/unit/**/*.test.js', 'test/nodes/**/*.test.js', 'test/integration/**/*.test.js'],
  timeout: 20000,
  exit: true,
  reporter: process.env.CI ? 'spec' : 'spec',
};
