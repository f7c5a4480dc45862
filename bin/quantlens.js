#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
'use strict';
const path = require('path');
const fs = require('fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write('quantlens: dist/cli.js is missing; run `npm run build` first.\n');
  process.exit(1);
}
require(bundle).main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
