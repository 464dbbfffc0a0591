// Node-RED loads this file; the node is written in TypeScript under src/nodes/ and compiled to dist/.
module.exports = require('../dist/nodes/pbx-stats').default;
