'use strict';
// The PBX simulator in a process of its own (a PBX is another machine): prints its URL, runs until killed.
const { startSimulator } = require('../../dist/simulator');

startSimulator({ port: 0 }).then((sim) => {
  process.stdout.write(`${sim.url}\n`);
});
