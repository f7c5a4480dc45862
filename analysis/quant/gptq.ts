// SPDX-License-Identifier: Apache-2.0
/**
 * GPTQ rounding (Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
 * Transformers", 2023). Round-to-nearest minimises ‖W − Ŵ‖² element by element; GPTQ minimises the layer's output
 * error ‖(W − Ŵ)X‖² over calibration inputs X. Each output row is quantized one input column at a time, and the
 * rounding error of column k is pushed onto the not-yet-quantized columns through the upper Cholesky factor U of
 * H⁻¹ (H = XᵀX + λI): w[j] −= (w[k] − ŵ[k]) / U[k][k] · U[k][j] for j > k.
 *
 * The grid is fixed beforehand (scales and zero points from the spec's calibration), so the result is an ordinary
 * quantization of any format (INT, FP, NF4, log, …): only which grid point each weight takes changes. The output is
 * the chosen grid values; quantize() with the same params maps them back to the same codes.
 */
import { QuantLensError } from '../../engine/errors';
import type { LayerGeometry } from '../sensitivity/layerInputs';
import { GroupIndex } from './layout';
import { codecOf } from './quantize';
import type { QuantParams } from './types';

/** XᵀX of a layer's calibration input rows, one Kg×Kg matrix per conv group (one for dense layers). */
export interface LayerGram {
  /** Per group, row-major and symmetric. */
  gram: Float64Array[];
  /** Row length per group (K / groups). */
  Kg: number;
  /** Rows accumulated (output positions × samples). */
  rows: number;
  /** Calibration samples seen. */
  samples: number;
}

/** Dampening added to H's diagonal, as a fraction of its mean (the GPTQ paper's 1 %). */
export const GPTQ_DAMP = 0.01;

/**
 * GPTQ-rounded weights: for each element, the grid value (of its group's scale and zero point in `params`) that
 * GPTQ picks. Weights holding NaN/Inf are returned unchanged (rounding to nearest applies).
 */
export function gptqRound(w: Float32Array, dims: readonly number[], params: QuantParams, geometry: LayerGeometry, h: LayerGram,
  damp = GPTQ_DAMP): Float32Array {
  const gi = new GroupIndex(dims, params.granularity);
  if (gi.numel !== w.length) throw new QuantLensError('shape', `GPTQ: weight dims [${dims.join(', ')}] do not hold ${w.length} values`);
  const Kg = geometry.K / geometry.groups;
  if (h.Kg !== Kg || h.gram.length !== geometry.groups) {
    throw new QuantLensError('shape', `GPTQ: the calibration statistics are for rows of ${h.Kg} × ${h.gram.length} groups, the layer needs ${Kg} × ${geometry.groups}`);
  }
  const out = Float32Array.from(w);
  for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i])) return out;
  const codec = codecOf(params);
  const scales = params.scales, zps = params.zeroPoints;
  const onGrid = (x: number, i: number): number => {
    const g = gi.groupOf(i), s = scales[g], z = zps ? zps[g] : 0;
    if (!(s > 0)) return Math.fround(codec.level(codec.encode(0, z), z) * s);
    return Math.fround(codec.level(codec.encode(Math.fround(x / s), z), z) * s);
  };
  const perGroup = geometry.outputs / geometry.groups;
  const row = new Float64Array(Kg);
  for (let g = 0; g < geometry.groups; g++) {
    const U = factorOf(h.gram[g], Kg, damp);
    for (let o = g * perGroup; o < (g + 1) * perGroup; o++) {
      for (let k = 0; k < Kg; k++) row[k] = w[geometry.weightIndex(o, k)];
      for (let k = 0; k < Kg; k++) {
        const i = geometry.weightIndex(o, k);
        const q = onGrid(row[k], i);
        out[i] = q;
        const err = (row[k] - q) / U[k * Kg + k];
        for (let j = k + 1; j < Kg; j++) row[j] -= err * U[k * Kg + j];
      }
    }
  }
  return out;
}

// the factor depends only on the statistics: formats and clipping tried on one layer (suggest) share it
const factors = new WeakMap<Float64Array, Map<number, Float64Array>>();

function factorOf(gram: Float64Array, n: number, damp: number): Float64Array {
  let byDamp = factors.get(gram);
  if (!byDamp) factors.set(gram, (byDamp = new Map()));
  let U = byDamp.get(damp);
  if (!U) byDamp.set(damp, (U = inverseUpperFactor(gram, n, damp)));
  return U;
}

/**
 * U upper triangular with UᵀU = (H + λI)⁻¹. Inputs that were always zero (H_kk = 0) get H_kk = 1: their weights
 * never reach the output on the calibration data, so they round to nearest and pass no error on.
 *
 * Cholesky of H with its index order reversed gives H = RRᵀ with R upper triangular; then H⁻¹ = R⁻ᵀR⁻¹, so
 * U = R⁻¹ — one factorisation and one triangular inverse (K³/2 multiply-adds), never forming H⁻¹.
 */
export function inverseUpperFactor(gram: Float64Array, n: number, damp: number): Float64Array {
  const diag = new Float64Array(n);
  let mean = 0;
  for (let k = 0; k < n; k++) { diag[k] = gram[k * n + k] > 0 ? gram[k * n + k] : 1; mean += diag[k]; }
  mean /= n;
  // two n×n buffers in all (170 MB each for K = 4608): A, factorised in place, and U
  const A = new Float64Array(n * n);
  // dampening grows tenfold until the factorisation succeeds (H from few rows can be singular)
  for (let lambda = damp * mean, tries = 0; tries < 6; lambda *= 10, tries++) {
    // reversed: A[i][j] = H[n−1−i][n−1−j] + λδij
    for (let i = 0; i < n; i++) {
      const src = (n - 1 - i) * n + (n - 1);
      for (let j = 0; j < n; j++) A[i * n + j] = gram[src - j];
      A[i * n + i] = diag[n - 1 - i] + lambda;
    }
    if (!choleskyInPlace(A, n)) continue;
    // R[i][j] = L[n−1−i][n−1−j] is upper triangular; U = R⁻¹ by back substitution, row by row from the bottom
    const R = (i: number, j: number): number => A[(n - 1 - i) * n + (n - 1 - j)];
    // (U[i][j] = −Σ_{i<k≤j} R[i][k]·U[k][j] / R[i][i], summed row-wise so every access runs along a row)
    const U = new Float64Array(n * n);
    for (let i = n - 1; i >= 0; i--) {
      const ui = i * n, rii = R(i, i);
      for (let k = i + 1; k < n; k++) {
        const r = R(i, k), uk = k * n;
        for (let j = k; j < n; j++) U[ui + j] -= r * U[uk + j];
      }
      for (let j = i + 1; j < n; j++) U[ui + j] /= rii;
      U[ui + i] = 1 / rii;
    }
    return U;
  }
  throw new QuantLensError('calibration', 'GPTQ: the calibration input Gram matrix is not positive definite even with dampening (non-finite activations?)');
}

/**
 * A = LLᵀ, with L written over A's lower triangle (each A[i][j] is read before it is overwritten); false when A
 * is not positive definite. The upper triangle is left as it was.
 */
function choleskyInPlace(A: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= A[i * n + k] * A[j * n + k];
      if (i === j) {
        if (!(s > 0)) return false;
        A[i * n + i] = Math.sqrt(s);
      } else A[i * n + j] = s / A[j * n + j];
    }
  }
  return true;
}
