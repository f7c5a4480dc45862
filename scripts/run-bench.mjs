// SPDX-License-Identifier: Apache-2.0
// `npm run bench [-- --json FILE] [-- --quick]`: builds the WebAssembly kernels if needed, then runs the kernel
// benchmarks (test/bench/kernels.bench.ts) side by side with onnxruntime-web and onnxruntime-node in one
// process, single thread. Relaxed SIMD is switched on when this Node needs a flag for it. Other *.bench.ts
// files under test/bench run afterwards (their own output); only the kernel records go to --json.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);

const build = spawnSync(process.execPath, [path.join(root, 'scripts/build-wasm.mjs')], { stdio: 'inherit', cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);

// Node 20 knows relaxed SIMD only behind a flag; newer Nodes ship it (and may reject the old flag)
const probe = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', '0']);
const flags = probe.status === 0 ? ['--experimental-wasm-relaxed-simd'] : [];

const benchDir = path.join(root, 'test/bench');
const files = ['kernels.bench.ts', ...readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts') && f !== 'kernels.bench.ts').sort()];
let status = 0;
for (const f of files) {
  const fileArgs = f === 'kernels.bench.ts' ? args : [];
  console.log(`\n== ${f}`);
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', path.join(benchDir, f), ...fileArgs], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) status = r.status ?? 1;
}
process.exit(status);
