// SPDX-License-Identifier: Apache-2.0
// Compiles the AssemblyScript kernels (engine/wasm/assembly) twice with the assemblyscript npm package:
// dist/wasm/kernels-simd.wasm (WASM SIMD) and dist/wasm/kernels-relaxed.wasm (+ relaxed SIMD). Both import
// their memory so one WebAssembly.Memory serves a whole engine instance. The FP32 kernels (entry fp32.ts) are
// built on their own the same two ways, importing a shared memory so worker threads can split a product.
import { mkdirSync, statSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import asc from 'assemblyscript/asc';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const srcDir = path.join(root, 'engine/wasm/assembly');
const outDir = path.join(root, 'dist/wasm');
mkdirSync(outDir, { recursive: true });

const newestSource = Math.max(...readdirSync(srcDir).map((f) => statSync(path.join(srcDir, f)).mtimeMs),
  statSync(new URL(import.meta.url).pathname).mtimeMs);
const common = ['--runtime', 'stub', '--importMemory', '--noAssert', '-O3', '--converge', '--enable', 'simd'];
const kernels = 'engine/wasm/assembly/index.ts', fp32 = 'engine/wasm/assembly/fp32.ts';
const shared = ['--enable', 'threads', '--sharedMemory', '--maximumMemory', '65536'];
const builds = [
  ['kernels-simd.wasm', [kernels]],
  ['kernels-relaxed.wasm', [kernels, '--enable', 'relaxed-simd']],
  ['fp32-simd.wasm', [fp32, ...shared]],
  ['fp32-relaxed.wasm', [fp32, ...shared, '--enable', 'relaxed-simd']],
];

for (const [name, extra] of builds) {
  const out = path.join(outDir, name);
  if (existsSync(out) && statSync(out).mtimeMs > newestSource && !process.argv.includes('--force')) continue;
  const { error } = await asc.main([...extra, ...common, '--outFile', path.relative(root, out)], { stdout: process.stdout, stderr: process.stderr, cwd: root });
  if (error) {
    console.error(`build-wasm: ${name} failed: ${error.message}`);
    process.exit(1);
  }
}
console.log(`built ${builds.map(([name]) => `dist/wasm/${name}`).join(', ')}`);
