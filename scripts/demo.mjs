// SPDX-License-Identifier: Apache-2.0
// The README's main job on the bundled sample: the layer table (inspect), then the full analysis (statistics,
// tags, three sensitivity methods) with its JSON and HTML reports under out/.
import { mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const model = process.argv[2] ?? 'samples/cnn.onnx';
mkdirSync(path.join(root, 'out'), { recursive: true });

function quantlens(...args) {
  console.log(`\n$ quantlens ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [path.join(root, 'bin/quantlens.js'), ...args], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 2);
}

quantlens('inspect', model, '--shape', 'input=1x1x8x8', '--json', 'out/inspect-report.json');
quantlens('analyze', model, '--data', 'samples/data/calib', '--shape', 'input=1x1x8x8',
  '--json', 'out/demo-report.json', '--html', 'out/demo-report.html');
console.log('\nwrote out/inspect-report.json, out/demo-report.json and out/demo-report.html');
