// SPDX-License-Identifier: Apache-2.0
// Conv lowered and multiplied inside the WASM kernels (im2col over several images; Winograd F(2×2, 3×3) for 3×3
// stride-1 layers) equals the TypeScript lowering + GEMM on awkward geometries: strides, dilations, asymmetric
// padding, groups, 1-D, taps that fall entirely outside the image, partial Winograd tiles, several images per
// chunk — within float32 rounding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convForward } from '../../engine/ops/conv';
import type { Window } from '../../engine/ops/window';
import { sgemmBackend } from '../../engine/kernels/sgemm-wasm';
import { rng } from './helpers';

interface Case { N: number; C: number; M: number; group: number; inSize: number[]; kernel: number[]; strides: number[]; dilations: number[]; padBegin: number[]; padEnd: number[] }

function windowOf(c: Case): Window {
  const out = c.inSize.map((n, i) => Math.floor((n + c.padBegin[i] + c.padEnd[i] - ((c.kernel[i] - 1) * c.dilations[i] + 1)) / c.strides[i]) + 1);
  return { kernel: c.kernel, strides: c.strides, dilations: c.dilations, padBegin: c.padBegin, padEnd: c.padEnd, inSize: c.inSize, out };
}

function withTs<T>(fn: () => T): T {
  const before = process.env.QUANTLENS_SGEMM;
  process.env.QUANTLENS_SGEMM = 'ts';
  try { return fn(); } finally { if (before === undefined) delete process.env.QUANTLENS_SGEMM; else process.env.QUANTLENS_SGEMM = before; }
}

const CASES: Case[] = [
  { N: 2, C: 3, M: 5, group: 1, inSize: [9, 11], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], padBegin: [1, 1], padEnd: [1, 1] },
  { N: 3, C: 4, M: 6, group: 2, inSize: [10, 7], kernel: [3, 2], strides: [2, 3], dilations: [1, 2], padBegin: [2, 0], padEnd: [1, 3] },
  { N: 1, C: 17, M: 3, group: 1, inSize: [5, 5], kernel: [1, 1], strides: [1, 1], dilations: [1, 1], padBegin: [0, 0], padEnd: [0, 0] },
  { N: 4, C: 8, M: 16, group: 4, inSize: [6, 6], kernel: [1, 1], strides: [2, 2], dilations: [1, 1], padBegin: [0, 0], padEnd: [0, 0] },
  { N: 2, C: 2, M: 3, group: 1, inSize: [4, 4], kernel: [3, 3], strides: [1, 1], dilations: [3, 3], padBegin: [4, 4], padEnd: [4, 4] },
  { N: 2, C: 3, M: 7, group: 1, inSize: [19], kernel: [5], strides: [2], dilations: [2], padBegin: [3], padEnd: [1] },
  { N: 5, C: 64, M: 70, group: 1, inSize: [7, 7], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], padBegin: [1, 1], padEnd: [1, 1] },
  { N: 1, C: 3, M: 8, group: 1, inSize: [40, 33], kernel: [7, 7], strides: [2, 2], dilations: [1, 1], padBegin: [3, 3], padEnd: [3, 3] },
  // Winograd F(2×2, 3×3): odd output sizes (partial tiles), one-sided padding, groups, many tiles per thread
  { N: 2, C: 16, M: 9, group: 1, inSize: [8, 9], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], padBegin: [1, 0], padEnd: [1, 0] },
  { N: 3, C: 32, M: 24, group: 2, inSize: [5, 5], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], padBegin: [1, 1], padEnd: [1, 1] },
  { N: 1, C: 8, M: 8, group: 1, inSize: [4, 3], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], padBegin: [0, 0], padEnd: [0, 1] },
  { N: 4, C: 24, M: 40, group: 1, inSize: [29, 31], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], padBegin: [1, 1], padEnd: [1, 1] },
];

test('WASM conv equals the TypeScript lowering on awkward geometries (float32 rounding)', () => {
  assert.notEqual(sgemmBackend(), 'ts', 'kernels are built');
  const r = rng(11);
  for (const c of CASES) {
    const win = windowOf(c);
    const K = (c.C / c.group) * c.kernel.reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: c.N * c.C * c.inSize.reduce((a, b) => a * b, 1) }, () => r() - 0.5);
    const w = Float32Array.from({ length: c.M * K }, () => r() - 0.5);
    const bias = Float32Array.from({ length: c.M }, () => r() - 0.5);
    const got = Float32Array.from(convForward(x, c.N, c.C, w, c.M, c.group, win, bias));
    const want = withTs(() => Float32Array.from(convForward(x, c.N, c.C, w, c.M, c.group, win, bias)));
    assert.equal(got.length, want.length);
    for (let i = 0; i < got.length; i++) {
      assert.ok(Math.abs(got[i] - want[i]) <= 2e-6 * (K + 1) ** 0.5 * (1 + Math.abs(want[i])), `${JSON.stringify(c)} at ${i}: ${got[i]} vs ${want[i]}`);
    }
  }
});
