// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Attr, Node, Tensor } from '../../engine/ir';
import { calibrate } from '../../analysis/quant/calibrate';
import { gptqRound, inverseUpperFactor, type LayerGram } from '../../analysis/quant/gptq';
import { GroupIndex } from '../../analysis/quant/layout';
import { quantize } from '../../analysis/quant/quantize';
import type { QuantSpec } from '../../analysis/quant/types';
import { forEachLayerRow, layerGeometry, type LayerGeometry } from '../../analysis/sensitivity/layerInputs';
import { normal, rng, sameBits } from './gen';

const node = (opType: string, attrs: Record<string, Attr> = {}): Node => ({ name: 'layer', opType, domain: '', inputs: ['x', 'w'], outputs: ['y'], attrs });

/** Correlated input rows (a shared component plus noise), as real activations are: where GPTQ has something to use. */
function correlatedInput(rows: number, K: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(rows * K);
  for (let i = 0; i < rows; i++) {
    const common = r() * 2 - 1;
    for (let k = 0; k < K; k++) x[i * K + k] = common * (1 + k / K) + 0.3 * (r() * 2 - 1);
  }
  return x;
}

/** XᵀX of a layer's input, per group, straight from the rows (the reference for the accumulator). */
function gramOf(n: Node, g: LayerGeometry, x: Tensor): LayerGram {
  const Kg = g.K / g.groups;
  const gram = Array.from({ length: g.groups }, () => new Float64Array(Kg * Kg));
  let rows = 0;
  const samples = forEachLayerRow(n, g, x, (make) => {
    const r = make();
    rows++;
    for (let q = 0; q < g.groups; q++) for (let i = 0; i < Kg; i++) for (let j = 0; j < Kg; j++) gram[q][i * Kg + j] += r[q * Kg + i] * r[q * Kg + j];
  });
  return { gram, Kg, rows, samples };
}

/** ‖(W − Ŵ)X‖² summed over every row of the layer's input. */
function outputError(n: Node, g: LayerGeometry, x: Tensor, w: Float32Array, wq: Float32Array): number {
  const Kg = g.K / g.groups, perGroup = g.outputs / g.groups;
  let e = 0;
  forEachLayerRow(n, g, x, (make) => {
    const r = make();
    for (let o = 0; o < g.outputs; o++) {
      const base = Math.floor(o / perGroup) * Kg;
      let d = 0;
      for (let k = 0; k < Kg; k++) { const i = g.weightIndex(o, k); d += (w[i] - wq[i]) * r[base + k]; }
      e += d * d;
    }
  });
  return e;
}

function check(n: Node, wDims: number[], x: Tensor, spec: QuantSpec, seed: number): { rtn: number; gptq: number } {
  const numel = wDims.reduce((a, b) => a * b, 1);
  const w = normal(numel, seed, 0.5);
  const g = layerGeometry(n, { dtype: 'float32', dims: wDims, data: w }) as LayerGeometry;
  const params = calibrate({ data: w, dims: wDims }, spec);
  const rtn = quantize({ data: w, dims: wDims }, params).dequantized;
  const picked = gptqRound(w, wDims, params, g, gramOf(n, g, x));
  // GPTQ only picks among the grid points: quantizing its choice with the same params gives it back bit for bit
  assert.ok(sameBits(quantize({ data: picked, dims: wDims }, params).dequantized, picked), `${n.opType} ${spec.format}: GPTQ values are on the grid`);
  return { rtn: outputError(n, g, x, w, rtn), gptq: outputError(n, g, x, w, picked) };
}

test('GPTQ lowers the layer output error against round-to-nearest on correlated inputs (Gemm, int4 per channel)', () => {
  const K = 64, N = 32, rows = 512;
  const x: Tensor = { dtype: 'float32', dims: [rows, K], data: correlatedInput(rows, K, 3) };
  const e = check(node('Gemm', { transB: { type: 'int', value: 1 } }), [N, K], x, { format: 'int4', granularity: { kind: 'channel', axis: 0 }, calibration: { kind: 'mse' } }, 7);
  assert.ok(e.gptq < 0.7 * e.rtn, `GPTQ ${e.gptq} vs nearest ${e.rtn}`);
});

test('GPTQ works on a MatMul weight stored [K, N] and on a table format (NF4 in groups along K)', () => {
  const K = 48, N = 16, rows = 400;
  const x: Tensor = { dtype: 'float32', dims: [rows, K], data: correlatedInput(rows, K, 5) };
  const e = check(node('MatMul'), [K, N], x, { format: 'nf4', granularity: { kind: 'group', axis: 0, size: 16 } }, 9);
  assert.ok(e.gptq < 0.8 * e.rtn, `GPTQ ${e.gptq} vs nearest ${e.rtn}`);
});

test('GPTQ on a depthwise convolution rounds each group with its own inputs', () => {
  const C = 6, H = 10;
  const data = new Float32Array(2 * C * H * H);
  const r = rng(11);
  // neighbouring pixels correlate, as in images
  for (let i = 0; i < data.length; i++) data[i] = (i > 0 ? 0.8 * data[i - 1] : 0) + (r() - 0.5);
  const x: Tensor = { dtype: 'float32', dims: [2, C, H, H], data };
  const conv = node('Conv', { group: { type: 'int', value: C }, pads: { type: 'ints', value: [1, 1, 1, 1] }, kernel_shape: { type: 'ints', value: [3, 3] } });
  const e = check(conv, [C, 1, 3, 3], x, { format: 'int3', granularity: { kind: 'channel', axis: 0 }, calibration: { kind: 'minmax' } }, 13);
  assert.ok(e.gptq < 0.9 * e.rtn, `GPTQ ${e.gptq} vs nearest ${e.rtn}`);
});

test('with uncorrelated inputs of equal power (H ∝ I) GPTQ has nothing to trade: it is round-to-nearest exactly', () => {
  const K = 20, N = 8;
  const n = node('Gemm', { transB: { type: 'int', value: 1 } });
  const w = normal(N * K, 21, 0.5);
  const g = layerGeometry(n, { dtype: 'float32', dims: [N, K], data: w }) as LayerGeometry;
  const gram = new Float64Array(K * K);
  for (let k = 0; k < K; k++) gram[k * K + k] = 100;
  const params = calibrate({ data: w, dims: [N, K] }, { format: 'int4', granularity: { kind: 'channel', axis: 0 } });
  const picked = gptqRound(w, [N, K], params, g, { gram: [gram], Kg: K, rows: 100, samples: 100 });
  assert.ok(sameBits(picked, quantize({ data: w, dims: [N, K] }, params).dequantized));
});

test('the factor U satisfies UᵀU = (H + λI)⁻¹, and inputs that are always zero get a unit diagonal', () => {
  const n = 5;
  const r = rng(4);
  const A = new Float64Array(n * n);
  const rows = Array.from({ length: 30 }, () => Float64Array.from({ length: n }, (_, k) => (k === 2 ? 0 : r() - 0.5)));
  for (const x of rows) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] += x[i] * x[j];
  const U = inverseUpperFactor(A, n, 0.01);
  // (H + λI) · UᵀU = I with H_22 replaced by 1
  const H = Float64Array.from(A);
  H[2 * n + 2] = 1;
  let mean = 0;
  for (let k = 0; k < n; k++) mean += H[k * n + k];
  for (let k = 0; k < n; k++) H[k * n + k] += 0.01 * mean / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) { let inv = 0; for (let m = 0; m < n; m++) inv += U[m * n + k] * U[m * n + j]; s += H[i * n + k] * inv; }
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-9, `(${i}, ${j}): ${s}`);
    }
    for (let j = 0; j < i; j++) assert.equal(U[i * n + j], 0, 'upper triangular');
  }
});

test('weights holding NaN are left for round-to-nearest; mismatched statistics are refused', () => {
  const n = node('Gemm', { transB: { type: 'int', value: 1 } });
  const w = normal(16, 2, 0.5);
  w[3] = Number.NaN;
  const g = layerGeometry(n, { dtype: 'float32', dims: [4, 4], data: w }) as LayerGeometry;
  const params = calibrate({ data: normal(16, 2, 0.5), dims: [4, 4] }, { format: 'int4', granularity: { kind: 'channel', axis: 0 } });
  const id = new Float64Array(16).map((_, i) => (i % 5 === 0 ? 1 : 0));
  assert.ok(sameBits(gptqRound(w, [4, 4], params, g, { gram: [id], Kg: 4, rows: 1, samples: 1 }), w));
  assert.throws(() => gptqRound(normal(16, 2, 0.5), [4, 4], params, g, { gram: [new Float64Array(9)], Kg: 3, rows: 1, samples: 1 }), /rows of 3 × 1 groups, the layer needs 4 × 1/);
});

test('GroupIndex.groupOf names the scale quantize() used for each element (tensor, channel, blocks on a middle axis)', () => {
  const dims = [3, 8, 5];
  const w = normal(3 * 8 * 5, 31, 1);
  for (const granularity of [{ kind: 'tensor' as const }, { kind: 'channel' as const, axis: 1 }, { kind: 'group' as const, axis: 1, size: 3 }]) {
    const params = calibrate({ data: w, dims }, { format: 'int4', granularity });
    const q = quantize({ data: w, dims }, params);
    const gi = new GroupIndex(dims, granularity);
    for (let i = 0; i < w.length; i++) {
      assert.equal(q.dequantized[i], Math.fround(q.codes[i] * params.scales[gi.groupOf(i)]), `${granularity.kind} element ${i}`);
    }
  }
});
