// SPDX-License-Identifier: Apache-2.0
/**
 * HAWQ-V2 Hessian-trace sensitivity, from forward passes only. Tr(H) of the output loss with respect to one
 * layer's weights is E[vᵀHv] over Rademacher probes v (Hutchinson). At the FP32 weights the output-KL loss and
 * its gradient vanish, so vᵀHv is the central second difference (L(w+εv) + L(w−εv) − 2L(w)) / ε², with ε
 * scaled to the weight norm and everything accumulated in float64. Probing stops once the standard error of
 * the mean is below `targetRelError` of the estimate. Ω = Tr(H)/n · ‖Q(W) − W‖² per format.
 */
import type { ScoreWithError } from '../report';
import { SeededRandom } from '../data/random';

export interface TraceOptions {
  minProbes?: number;
  maxProbes?: number;
  /** Stop when stdError / |trace| falls below this. */
  targetRelError?: number;
  /** ‖εv‖ = relStep · ‖w‖ (a 1% change keeps the loss quadratic and well above float32 noise). */
  relStep?: number;
  seed?: number;
  signal?: AbortSignal;
}

export interface TraceEstimate {
  trace: ScoreWithError;
  probes: number;
  /** Per-probe vᵀHv values (for diagnostics and tests). */
  samples: number[];
}

/** Loss of the model output with the layer's weight replaced by `w` (0 at the original weights). */
export type LossAt = (w: Float32Array) => Promise<number>;

/** Hutchinson estimate of Tr(∂²L/∂w²) at `w` from forward evaluations of `loss`. */
export async function hutchinsonTrace(w: Float32Array, loss: LossAt, opts: TraceOptions = {}): Promise<TraceEstimate> {
  const minProbes = opts.minProbes ?? 4;
  const maxProbes = Math.max(minProbes, opts.maxProbes ?? 32);
  const target = opts.targetRelError ?? 0.1;
  const relStep = opts.relStep ?? 1e-2;
  const rng = new SeededRandom(opts.seed ?? 0);
  const n = w.length;
  let norm = 0;
  for (let i = 0; i < n; i++) norm += w[i] * w[i];
  norm = Math.sqrt(norm);
  const eps = norm > 0 ? (relStep * norm) / Math.sqrt(n) : relStep;
  const l0 = await loss(w);
  const plus = new Float32Array(n), minus = new Float32Array(n);
  const samples: number[] = [];
  let mean = 0, m2 = 0;
  for (let k = 0; k < maxProbes; k++) {
    if (opts.signal?.aborted) break;
    // the perturbation actually applied is fround(w ± εv) − w; use it so float32 rounding does not bias vᵀHv
    let dPlus = 0, dMinus = 0;
    for (let i = 0; i < n; i++) {
      const s = rng.sign() * eps;
      plus[i] = w[i] + s;
      minus[i] = w[i] - s;
      dPlus += (plus[i] - w[i]) ** 2;
      dMinus += (minus[i] - w[i]) ** 2;
    }
    const h = Math.sqrt((dPlus + dMinus) / (2 * n));
    const vhv = (await loss(plus) + await loss(minus) - 2 * l0) / (h * h);
    samples.push(vhv);
    const d = vhv - mean;
    mean += d / samples.length;
    m2 += d * (vhv - mean);
    const se = samples.length > 1 ? Math.sqrt(m2 / (samples.length - 1) / samples.length) : Infinity;
    if (samples.length >= minProbes && se <= target * Math.abs(mean)) break;
  }
  const p = samples.length;
  const se = p > 1 ? Math.sqrt(m2 / (p - 1) / p) : 0;
  return { trace: { value: mean, stdError: se }, probes: p, samples };
}

/** Ω = Tr(H)/n · ‖Q(W) − W‖², with the trace's standard error carried through. */
export function hawqOmega(trace: ScoreWithError, w: Float32Array, wq: Float32Array): ScoreWithError {
  let d2 = 0;
  for (let i = 0; i < w.length; i++) d2 += (wq[i] - w[i]) ** 2;
  const k = d2 / w.length;
  return { value: trace.value * k, stdError: (trace.stdError ?? 0) * k };
}
