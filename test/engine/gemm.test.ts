// SPDX-License-Identifier: Apache-2.0
// The FP32 GEMM: the WebAssembly SIMD kernel (plain and relaxed builds, on one thread and split over two) and
// its TypeScript twin both equal a naive float64 product on awkward sizes (edges of the 4×8 tile and of the K/M/N blocks), transposed operands,
// offsets, padded rows and accumulation — within a float32 rounding bound, not bit for bit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { matView, sgemm, sgemmBackend, sgemmTs } from '../../engine/ops/gemm';
import type { MatView } from '../../engine/ops/gemm';
import { sgemmWasm } from '../../engine/kernels/sgemm-wasm';
import { SgemmModule } from '../../engine/kernels/sgemm-module';
import { relaxedSimdSupported } from '../../engine/kernels/wasm-module';
import { rng } from './helpers';

type Gemm = (M: number, N: number, K: number, A: MatView, B: MatView, C: Float32Array, cOff: number, ldc: number, acc: boolean) => void;

/**
 * Runs `gemm` on random operands (A/B transposed as asked, offset views, ldc = N + 2, C starting at 1 or 0)
 * and checks every element against float64 sums within rtol·Σ|a·b| (the float32 accumulation bound).
 */
function check(gemm: Gemm, M: number, N: number, K: number, ta: boolean, tb: boolean, accumulate: boolean, rtol: number, seed: number): void {
  const r = rng(seed);
  const off = 3;
  const a = Float32Array.from({ length: off + M * K }, () => r() - 0.5), b = Float32Array.from({ length: off + K * N }, () => r() - 0.5);
  const A = matView(a, off, ta ? M : K, ta), B = matView(b, off, tb ? K : N, tb);
  const ldc = N + 2, c = Float32Array.from({ length: off + M * ldc }, () => (accumulate ? 1 : Number.NaN));
  gemm(M, N, K, A, B, c, off, ldc, accumulate);
  const bcol = new Float64Array(K);
  for (let j = 0; j < N; j++) {
    for (let k = 0; k < K; k++) bcol[k] = b[B.offset + k * B.rowStride + j * B.colStride];
    for (let i = 0; i < M; i++) {
      let s = accumulate ? 1 : 0, mag = Math.abs(s);
      for (let k = 0, ai = A.offset + i * A.rowStride; k < K; k++, ai += A.colStride) { const p = a[ai] * bcol[k]; s += p; mag += Math.abs(p); }
      const got = c[off + i * ldc + j];
      assert.ok(Math.abs(got - s) <= rtol * mag + 1e-7, `${M}x${N}x${K} ta=${ta} tb=${tb} acc=${accumulate} at (${i},${j}): ${got} vs ${s}`);
    }
  }
  for (let i = 0; i < M; i++) {
    const pad = [c[off + i * ldc + N], c[off + i * ldc + N + 1]];
    assert.ok(pad.every((v) => (accumulate ? v === 1 : Number.isNaN(v))), `${M}x${N}x${K}: padding columns untouched`);
  }
}

const AWKWARD = [1, 3, 17, 255];
const SHAPES: [number, number, number][] = [
  ...AWKWARD.flatMap((m) => AWKWARD.flatMap((n) => AWKWARD.map((k): [number, number, number] => [m, n, k]))),
  [4, 8, 1], [5, 9, 3], [67, 129, 260], [130, 2050, 5], [2, 31, 3000], [9, 40, 4100], [260, 3, 513], [9, 13, 0], [64, 300, 200],
];
const TRANSPOSES: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

function sweep(gemm: Gemm, rtol: number, minMacs = 0): void {
  let seed = 1;
  for (const [M, N, K] of SHAPES.filter(([m, n, k]) => m * n * k >= minMacs)) {
    for (const [ta, tb] of TRANSPOSES) {
      // large products once per shape with plain operands; every layout on the small ones
      if (M * N * K > 3e6 && (ta || tb)) continue;
      check(gemm, M, N, K, ta, tb, true, rtol, seed++);
      check(gemm, M, N, K, ta, tb, false, rtol, seed++);
    }
  }
}

test('the TypeScript GEMM matches float64 sums on awkward shapes, transposes, offsets and accumulation', () => {
  sweep(sgemmTs, 1e-6);
});

const levels = (['simd', 'relaxed'] as const).filter((l) => l === 'simd' || relaxedSimdSupported());
for (const level of levels) {
  test(`the WASM ${level} GEMM matches float64 sums within float32 rounding on the same shapes, on 1 and 2 threads`, () => {
    for (const threads of [1, 2]) {
      const mod = new SgemmModule(level, threads);
      try {
        assert.equal(mod.threads, threads);
        const gemm: Gemm = (...args) => sgemmWasm(mod, ...args);
        // two threads split only products of ≥ 2²¹ multiply-adds
        sweep(gemm, 2e-6, threads === 1 ? 0 : 1 << 21);
        // tiny staging budgets force the row- and column-chunked path
        const chunked: Gemm = (M, N, K, A, B, C, cOff, ldc, acc) => sgemmWasm(mod, M, N, K, A, B, C, cOff, ldc, acc, { a: 300, bc: 2000 });
        for (const [ta, tb] of TRANSPOSES) check(chunked, 37, 45, 70, ta, tb, true, 2e-6, 99);
      } finally {
        mod.dispose();
      }
    }
  });
}

test('sgemm runs on the WASM kernels when they are built, and agrees with the TypeScript twin', () => {
  assert.notEqual(sgemmBackend(), 'ts', 'dist/wasm kernels are built by npm run build');
  const r = rng(7);
  const M = 33, N = 70, K = 129;
  const a = Float32Array.from({ length: M * K }, () => r() - 0.5), b = Float32Array.from({ length: K * N }, () => r() - 0.5);
  const c1 = new Float32Array(M * N), c2 = new Float32Array(M * N);
  sgemm(M, N, K, matView(a, 0, K), matView(b, 0, N), c1, 0, N, false);
  sgemmTs(M, N, K, matView(a, 0, K), matView(b, 0, N), c2, 0, N, false);
  for (let i = 0; i < c1.length; i++) assert.ok(Math.abs(c1[i] - c2[i]) <= 1e-5 * (1 + Math.abs(c2[i])), `element ${i}`);
});

test('the relaxed-SIMD GEMM passes the same sweep in a Node with relaxed SIMD enabled', { skip: relaxedSimdSupported() && 'relaxed SIMD already runs in this process' }, () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // would make the child's runner think it is nested and skip the file
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--test', '--test-name-pattern=the WASM relaxed', '--test-reporter=tap', __filename],
    { encoding: 'utf8', env, timeout: 120_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out.slice(-4000));
  assert.match(out, /^ok \d+ - the WASM relaxed GEMM/m, 'the child ran the relaxed build');
});
