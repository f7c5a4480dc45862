// SPDX-License-Identifier: Apache-2.0
// `npm run bench [-- --json FILE] [-- --quick]`: builds the WebAssembly kernels if needed, then runs the kernel
// benchmarks (test/bench/kernels.bench.ts) and the whole-model W8A8 benchmark (test/bench/model.bench.ts), each
// side by side with onnxruntime-web and onnxruntime-node in one process, single thread. Relaxed SIMD is switched
// on when this Node needs a flag for it. Other *.bench.ts files under test/bench run afterwards with their own
// output; --json FILE collects the records {case, ours, peer, peerValue, ratio, unit} of the engine benchmarks.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonOut = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const passArgs = args.filter((a, i) => i !== jsonAt && i !== jsonAt + 1);
const ENGINE_BENCHES = ['kernels.bench.ts', 'model.bench.ts'];

const build = spawnSync(process.execPath, [path.join(root, 'scripts/build-wasm.mjs')], { stdio: 'inherit', cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);

// Node 20 knows relaxed SIMD only behind a flag; newer Nodes ship it (and may reject the old flag)
const probe = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', '0']);
const flags = probe.status === 0 ? ['--experimental-wasm-relaxed-simd'] : [];

const benchDir = path.join(root, 'test/bench');
const files = [...ENGINE_BENCHES, ...readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts') && !ENGINE_BENCHES.includes(f)).sort()];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'quantlens-bench-'));
const records = [];
let status = 0;
for (const f of files) {
  const engine = ENGINE_BENCHES.includes(f);
  const recFile = path.join(tmp, `${f}.json`);
  const fileArgs = engine ? [...passArgs, '--json', recFile] : [];
  console.log(`\n== ${f}`);
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', path.join(benchDir, f), ...fileArgs], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) status = r.status ?? 1;
  if (engine && existsSync(recFile)) records.push(...JSON.parse(readFileSync(recFile, 'utf8')));
}
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(records, null, 2)}\n`);
process.exit(status);
