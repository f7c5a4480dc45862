// SPDX-License-Identifier: Apache-2.0
/**
 * Layer-local Hessian sensitivity (the GPTQ/OBS proxy): with H = XᵀX / S over the layer's calibration input
 * rows X (S = number of calibration samples), the expected squared output error of a weight change ΔW is
 * tr(ΔW H ΔWᵀ) = (1/S) Σ_rows ‖ΔW x‖². We evaluate the right-hand side on the reservoir sample of rows
 * (never forming the K×K matrix, which for a 3×3×512 conv would be 4608² doubles) and report the sampling
 * standard error alongside.
 */
import type { ScoreWithError } from '../report';
import type { RowReservoir } from './layerInputs';

/**
 * tr(ΔW H ΔWᵀ) for ΔW = Q(W) − W, both in the layer's weight layout, estimated from the reservoir's rows.
 * Standard error from the spread of per-row errors (with the finite-population correction).
 */
export function layerHessianError(res: RowReservoir, w: Float32Array, wq: Float32Array): ScoreWithError {
  const g = res.geometry;
  const dw = g.weightMatrix(w);
  const dq = g.weightMatrix(wq);
  for (let i = 0; i < dw.length; i++) dw[i] = dq[i] - dw[i];
  const n = res.rows.length;
  if (n === 0 || res.samples === 0) return { value: 0, stdError: 0 };
  const kg = g.K / g.groups;
  const perGroup = g.outputs / g.groups;
  const e = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const x = res.rows[r];
    let sum = 0;
    for (let o = 0; o < g.outputs; o++) {
      const base = Math.floor(o / perGroup) * kg;
      let dot = 0;
      const wo = o * kg;
      for (let k = 0; k < kg; k++) dot += dw[wo + k] * x[base + k];
      sum += dot * dot;
    }
    e[r] = sum;
  }
  let mean = 0;
  for (const v of e) mean += v;
  mean /= n;
  let varSum = 0;
  for (const v of e) varSum += (v - mean) ** 2;
  const N = res.total;
  const scale = N / res.samples;
  const fpc = N > 1 ? Math.max(0, (N - n) / (N - 1)) : 0;
  const se = n > 1 ? Math.sqrt(varSum / (n - 1) / n * fpc) : 0;
  return { value: mean * scale, stdError: se * scale };
}
