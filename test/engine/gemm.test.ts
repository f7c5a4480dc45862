// SPDX-License-Identifier: Apache-2.0
// The blocked FP32 GEMM equals a naive triple loop on awkward sizes (edges of the 4×4 tile and of the K/M/N
// blocks), transposed operands, offsets and accumulation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matView, sgemm } from '../../engine/ops/gemm';
import { rng } from './helpers';

function naive(M: number, N: number, K: number, a: (i: number, k: number) => number, b: (k: number, j: number) => number): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) { let s = 0; for (let k = 0; k < K; k++) s += a(i, k) * b(k, j); c[i * N + j] = s; }
  return c;
}

test('sgemm matches the naive product on awkward shapes, transposes and offsets', () => {
  const r = rng(3);
  const shapes = [[1, 1, 1], [3, 5, 7], [4, 4, 4], [5, 9, 3], [17, 1, 33], [1, 70, 300], [2, 31, 257], [67, 129, 260], [130, 2050, 5], [9, 13, 0]];
  for (const [M, N, K] of shapes) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      const off = 3;
      const a = Float32Array.from({ length: off + M * K }, () => r() - 0.5), b = Float32Array.from({ length: off + K * N }, () => r() - 0.5);
      const A = matView(a, off, ta ? M : K, ta), B = matView(b, off, tb ? K : N, tb);
      const at = (i: number, k: number): number => a[A.offset + i * A.rowStride + k * A.colStride];
      const bt = (k: number, j: number): number => b[B.offset + k * B.rowStride + j * B.colStride];
      const want = naive(M, N, K, at, bt);
      const ldc = N + 2, c = Float32Array.from({ length: off + M * ldc }, () => 1);
      sgemm(M, N, K, A, B, c, off, ldc, true);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
        const got = c[off + i * ldc + j], w = want[i * N + j] + 1;
        assert.ok(Math.abs(got - w) <= 1e-5 * (1 + Math.abs(w)), `${M}x${N}x${K} ta=${ta} tb=${tb} at (${i},${j}): ${got} vs ${w}`);
      }
      for (let i = 0; i < M; i++) assert.deepEqual([c[off + i * ldc + N], c[off + i * ldc + N + 1]], [1, 1], 'padding columns untouched');
    }
  }
});
