// SPDX-License-Identifier: Apache-2.0
// Kernel memory: permanent blocks are reused after release (first fit, merged neighbours, the top given back),
// and packed weights are released once their runner is garbage-collected (checked in a child with --expose-gc).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { KernelModule } from '../../../engine/kernels/wasm-module';

test('released permanent blocks are reused and merged', () => {
  const mod = new KernelModule('simd');
  const a = mod.alloc(100), b = mod.alloc(1000), c = mod.alloc(50);
  assert.equal(mod.permanentBytes, 112 + 1008 + 64);
  mod.release(b);
  assert.equal(mod.alloc(500), b, 'first fit reuses the hole');
  mod.release(a);
  mod.release(b);
  // a and b merged into one hole of 112 + 1008 bytes before c
  assert.equal(mod.alloc(1100), a);
  const { value, blocks } = mod.track(() => [mod.alloc(10), mod.alloc(20)]);
  assert.deepEqual(blocks, value);
  for (const p of [a, c, ...blocks]) mod.release(p);
  assert.equal(mod.permanentBytes, 0);
  assert.equal(mod.alloc(16), a, 'everything released: allocation starts at the base again');
});

test('packed weights are released when their runner is garbage-collected', () => {
  const script = `
    const { createQuantizedNodeFactory, KernelModule } = require(${JSON.stringify(path.resolve(__dirname, '../../../engine/quantized/index.ts'))});
    const mod = new KernelModule('simd');
    const f = createQuantizedNodeFactory(mod);
    const w = { format: 'int8', kind: 'int', bits: 8, signed: true, dims: [256, 64], layout: { kind: 'tensor' }, scales: new Float32Array([0.1]), codes: new Int32Array(256 * 64) };
    const a = { format: 'uint8', kind: 'int', bits: 8, signed: false, layout: { kind: 'tensor' }, scales: new Float32Array([0.1]), zeroPoints: new Int32Array([0]) };
    let node = f({ node: { name: 'm', opType: 'MatMul', domain: '', inputs: ['x', 'w'], outputs: ['y'], attrs: {} }, config: { weights: { 1: w }, inputs: { 0: a } }, constants: [], opset: 13 });
    const held = mod.permanentBytes;
    node = null;
    (async () => {
      for (let i = 0; i < 20 && mod.permanentBytes > 0; i++) { global.gc(); await new Promise((r) => setTimeout(r, 10)); }
      process.stdout.write(JSON.stringify({ held, after: mod.permanentBytes }));
    })();`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const { held, after } = JSON.parse(r.stdout) as { held: number; after: number };
  assert.ok(held >= 256 * 64, `packed weights held: ${held}`);
  assert.equal(after, 0);
});
