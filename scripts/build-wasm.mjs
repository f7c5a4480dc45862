// SPDX-License-Identifier: Apache-2.0
// Compiles the AssemblyScript kernels (engine/wasm/assembly) twice with the assemblyscript npm package:
// dist/wasm/kernels-simd.wasm (WASM SIMD) and dist/wasm/kernels-relaxed.wasm (+ relaxed SIMD). Both import
// their memory so one WebAssembly.Memory serves a whole engine instance.
import { mkdirSync, statSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import asc from 'assemblyscript/asc';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const srcDir = path.join(root, 'engine/wasm/assembly');
const outDir = path.join(root, 'dist/wasm');
mkdirSync(outDir, { recursive: true });

const newestSource = Math.max(...readdirSync(srcDir).map((f) => statSync(path.join(srcDir, f)).mtimeMs),
  statSync(new URL(import.meta.url).pathname).mtimeMs);
const common = ['engine/wasm/assembly/index.ts', '--runtime', 'stub', '--importMemory', '--noAssert',
  '-O3', '--converge', '--enable', 'simd'];
const builds = [
  ['kernels-simd.wasm', []],
  ['kernels-relaxed.wasm', ['--enable', 'relaxed-simd']],
];

for (const [name, extra] of builds) {
  const out = path.join(outDir, name);
  if (existsSync(out) && statSync(out).mtimeMs > newestSource && !process.argv.includes('--force')) continue;
  const { error } = await asc.main([...common, ...extra, '--outFile', path.relative(root, out)], { stdout: process.stdout, stderr: process.stderr, cwd: root });
  if (error) {
    console.error(`build-wasm: ${name} failed: ${error.message}`);
    process.exit(1);
  }
}
console.log('built dist/wasm/kernels-simd.wasm, dist/wasm/kernels-relaxed.wasm');
