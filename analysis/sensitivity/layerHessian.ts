// SPDX-License-Identifier: Apache-2.0
/**
 * Layer-local Hessian sensitivity (the GPTQ/OBS proxy): with H = XᵀX / S over the layer's calibration input
 * rows X (S = number of calibration samples), the expected squared output error of a weight change ΔW is
 * tr(ΔW H ΔWᵀ) = (1/S) Σ_rows ‖ΔW x‖². We evaluate the right-hand side on the reservoir sample of rows
 * (never forming the K×K matrix, which for a 3×3×512 conv would be 4608² doubles) and report the sampling
 * standard error alongside.
 */
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
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
  return summarise(res, e);
}

/** Scale the per-row errors to tr(ΔW H ΔWᵀ) per sample, with the sampling standard error. */
function summarise(res: RowReservoir, e: Float64Array): ScoreWithError {
  const n = e.length;
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

/**
 * The same estimate with the row products ΔW·x computed by onnxruntime (one MatMul session with dynamic
 * shapes, reused for every layer and format): the reservoir rows as an [n × K] matrix times ΔWᵀ [K × outputs].
 * Only for ungrouped layers; grouped convolutions use layerHessianError.
 */
export class OrtRowProducts {
  ms = 0;
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(): Promise<OrtRowProducts> {
    const vi = (name: string, a: string, b: string): onnx.IValueInfoProto =>
      ({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: a }, { dimParam: b }] } } } });
    const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({
      irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
      graph: { name: 'rows', node: [{ opType: 'MatMul', input: ['x', 'dwt'], output: ['y'] }],
        input: [vi('x', 'n', 'k'), vi('dwt', 'k', 'o')], output: [vi('y', 'n', 'o')] },
    })).finish();
    return new OrtRowProducts(await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 }));
  }

  /** Rows of a reservoir packed once as float32 [n × K] (reuse it across formats). */
  static pack(res: RowReservoir): Float32Array {
    const K = res.geometry.K, n = res.rows.length;
    const x = new Float32Array(n * K);
    res.rows.forEach((r, i) => x.set(r, i * K));
    return x;
  }

  async error(res: RowReservoir, packed: Float32Array, w: Float32Array, wq: Float32Array): Promise<ScoreWithError> {
    const g = res.geometry;
    if (g.groups !== 1) return layerHessianError(res, w, wq);
    const n = res.rows.length;
    if (n === 0 || res.samples === 0) return { value: 0, stdError: 0 };
    const dw = g.weightMatrix(w), dq = g.weightMatrix(wq);
    const K = g.K, O = g.outputs;
    const dwt = new Float32Array(K * O);
    for (let o = 0; o < O; o++) for (let k = 0; k < K; k++) dwt[k * O + o] = dq[o * K + k] - dw[o * K + k];
    const t0 = performance.now();
    const out = await this.session.run({ x: new ort.Tensor('float32', packed, [n, K]), dwt: new ort.Tensor('float32', dwt, [K, O]) });
    this.ms += performance.now() - t0;
    const y = out.y.data as Float32Array;
    const e = new Float64Array(n);
    for (let r = 0; r < n; r++) { let s = 0; for (let o = 0; o < O; o++) { const v = y[r * O + o]; s += v * v; } e[r] = s; }
    return summarise(res, e);
  }

  async dispose(): Promise<void> { await this.session.release(); }
}
