// SPDX-License-Identifier: Apache-2.0
// Hutchinson Hessian trace from engine forward passes, validated against the exact Hessian of the output-KL
// loss of a tiny 2-layer MLP, formed explicitly in closed form: at the FP32 weights ∂L/∂z = 0, so
// H = (1/S) Σ_s J_sᵀ (diag p_s − p_s p_sᵀ) J_s with J_s = ∂z_s/∂W1 written out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelBytesSync } from '../../analysis/onnx/load';
import { compile, run } from '../../engine';
import { hutchinsonTrace, hawqOmega } from '../../analysis/sensitivity/hessianTrace';
import { perSampleLoss } from '../../analysis/sensitivity/outputMetrics';
import { spearman } from '../../analysis/sensitivity/spearman';
import { buildModel, randn } from './helpers/tinyModels';
import type { Tensor } from '../../engine/ir';

const S = 16, I = 4, Hd = 6, C = 3;
const W1 = randn(Hd * I, 11, 0.8), B1 = randn(Hd, 12, 0.1), W2 = randn(C * Hd, 13, 1.2), B2 = randn(C, 14, 0.1);
const X = randn(S * I, 15);

function mlp() {
  const bytes = buildModel({
    inputs: [['x', ['N', I]]], outputs: [['z', ['N', C]]],
    nodes: [
      { op: 'Gemm', inputs: ['x', 'w1', 'b1'], outputs: ['a'], name: 'fc1', attrs: { transB: 1 } },
      { op: 'Tanh', inputs: ['a'], outputs: ['t'], name: 'tanh' },
      { op: 'Gemm', inputs: ['t', 'w2', 'b2'], outputs: ['z'], name: 'fc2', attrs: { transB: 1 } },
    ],
    inits: [
      { name: 'w1', dims: [Hd, I], data: W1 }, { name: 'b1', dims: [Hd], data: B1 },
      { name: 'w2', dims: [C, Hd], data: W2 }, { name: 'b2', dims: [C], data: B2 },
    ],
  });
  return loadModelBytesSync(bytes, 'mlp.onnx').model;
}

/** Exact Tr(H) of mean KL(p0 ‖ softmax(z)) w.r.t. W1 at the FP32 weights (float64 closed form). */
function exactTrace(): { trace: number; H: Float64Array } {
  const n = Hd * I;
  const H = new Float64Array(n * n);
  for (let s = 0; s < S; s++) {
    const x = Array.from({ length: I }, (_, j) => X[s * I + j]);
    const t = Array.from({ length: Hd }, (_, i) => Math.tanh(B1[i] + x.reduce((a, xj, j) => a + W1[i * I + j] * xj, 0)));
    const z = Array.from({ length: C }, (_, k) => B2[k] + t.reduce((a, ti, i) => a + W2[k * Hd + i] * ti, 0));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const p = e.map((v) => v / e.reduce((a, b) => a + b, 0));
    // J[k][(i,j)] = W2[k,i] (1 − t_i²) x_j
    const J = Array.from({ length: C }, (_, k) => Float64Array.from({ length: n }, (_, q) => {
      const i = Math.floor(q / I), j = q % I;
      return W2[k * Hd + i] * (1 - t[i] * t[i]) * x[j];
    }));
    for (let a = 0; a < C; a++) for (let b = 0; b < C; b++) {
      const hz = (a === b ? p[a] : 0) - p[a] * p[b];
      if (hz === 0) continue;
      for (let q = 0; q < n; q++) for (let r = 0; r < n; r++) H[q * n + r] += (J[a][q] * hz * J[b][r]) / S;
    }
  }
  let trace = 0;
  for (let q = 0; q < n; q++) trace += H[q * n + q];
  return { trace, H };
}

test('Hutchinson trace from forward passes matches the exact Hessian trace of a 2-layer MLP', async () => {
  const model = mlp();
  const program = compile(model);
  const x: Tensor = { dtype: 'float32', dims: [S, I], data: X };
  const ref = (await run(program, { x })).outputs.z;
  const loss = async (w: Float32Array) => {
    const out = (await run(program, { x }, { weightOverrides: { w1: { dtype: 'float32', dims: [Hd, I], data: w } } })).outputs.z;
    const l = perSampleLoss(ref, out, 'logits');
    return l.reduce((a, b) => a + b, 0) / l.length;
  };
  const { trace: exact, H } = exactTrace();
  // the closed-form H is symmetric PSD: a sanity check on the test's own algebra
  const n = Hd * I;
  for (let q = 0; q < n; q++) for (let r = 0; r < q; r++) assert.ok(Math.abs(H[q * n + r] - H[r * n + q]) < 1e-12);
  const est = await hutchinsonTrace(W1, loss, { targetRelError: 0.03, minProbes: 8, maxProbes: 400, seed: 1 });
  const se = est.trace.stdError!;
  assert.ok(se / est.trace.value <= 0.035 || est.probes === 400, `stopped at ${est.probes} probes with rel. error ${se / est.trace.value}`);
  const err = Math.abs(est.trace.value - exact);
  assert.ok(err <= 3 * se + 0.01 * exact, `estimate ${est.trace.value} ± ${se} vs exact ${exact} (${est.probes} probes)`);
  // each probe's vᵀHv must equal the exact quadratic form for that probe up to finite-difference error: check one
  // probe against vᵀHv computed from H with the same Rademacher sequence is implied by the mean; also check
  // a deterministic probe directly
  const v = Float64Array.from({ length: n }, (_, i) => (i % 3 ? 1 : -1));
  let vhv = 0;
  for (let q = 0; q < n; q++) for (let r = 0; r < n; r++) vhv += v[q] * H[q * n + r] * v[r];
  const eps = 1e-2 * Math.sqrt(W1.reduce((a, b) => a + b * b, 0)) / Math.sqrt(n);
  const wp = W1.map((w, i) => w + eps * v[i]), wm = W1.map((w, i) => w - eps * v[i]);
  const fd = (await loss(wp) + await loss(wm) - 2 * await loss(W1)) / (eps * eps);
  assert.ok(Math.abs(fd - vhv) / vhv < 0.02, `second difference ${fd} vs vᵀHv ${vhv}`);
});

test('Ω scales the trace by the mean squared quantization error; the trace is zero for a dead layer', async () => {
  const w = Float32Array.of(1, 2, 3, 4);
  const wq = Float32Array.of(1, 2.5, 3, 3);
  assert.deepEqual(hawqOmega({ value: 8, stdError: 2 }, w, wq), { value: 8 * 1.25 / 4, stdError: 2 * 1.25 / 4 });
  const flat = await hutchinsonTrace(w, async () => 0, { minProbes: 3 });
  assert.equal(flat.trace.value, 0);
  assert.equal(flat.probes, 3, 'zero spread: stops at the minimum probe count');
});

test('Spearman agreement: identical, reversed and tied rankings', () => {
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.equal(spearman([1, 1, 1], [1, 2, 3]), null);
  assert.equal(spearman([1, 2], [1, 2]), null);
  assert.ok(Math.abs(spearman([1, 2, 2, 4], [1, 3, 2, 4])! - 0.9486832980505138) < 1e-12);
});
