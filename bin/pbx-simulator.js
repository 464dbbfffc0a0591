#!/usr/bin/env node
'use strict';
// The `pbx-simulator` command: see `pbx-simulator --help` (src/simulator/cli.ts).
require('../dist/simulator/cli')
  .main(process.argv.slice(2))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
