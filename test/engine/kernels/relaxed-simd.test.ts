// SPDX-License-Identifier: Apache-2.0
// Runs the kernel exactness suites again on the relaxed-SIMD build, in a child Node that has relaxed SIMD
// enabled (Node 20 needs --experimental-wasm-relaxed-simd; newer V8s ship it). Also checks detection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { relaxedSimdSupported } from '../../../engine/kernels/wasm-module';

const here = __dirname;

test('relaxed SIMD detection matches the runtime flag', () => {
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e',
    `const v = new Uint8Array(${JSON.stringify([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60, 0x02, 0x7b, 0x7b, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x0b, 0x01, 0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0xfd, 0x92, 0x02, 0x0b])}); process.stdout.write(String(WebAssembly.validate(v)))`], { encoding: 'utf8' });
  assert.equal(r.stdout, 'true', r.stderr);
  const flagged = process.execArgv.includes('--experimental-wasm-relaxed-simd');
  if (!flagged && process.versions.node.startsWith('20.')) assert.equal(relaxedSimdSupported(), false);
});

test('kernels on the relaxed-SIMD build equal their scalar references and onnxruntime', () => {
  const files = ['simd-vs-scalar.test.ts', 'ort-exactness.test.ts', 'quantized-node.test.ts'].map((f) => path.join(here, f));
  // NODE_TEST_CONTEXT would make the child's runner think it is nested and skip the files
  const env: NodeJS.ProcessEnv = { ...process.env, QUANTLENS_WASM_SIMD: 'relaxed' };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--test', '--test-reporter=tap', ...files], {
    encoding: 'utf8', env, timeout: 120_000,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out.slice(-4000));
  assert.match(out, /\(relaxed\)/, 'the child ran the relaxed build');
  assert.doesNotMatch(out, /^not ok/m);
});
