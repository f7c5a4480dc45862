// SPDX-License-Identifier: Apache-2.0
/**
 * Per-sample sensitivity losses of a model output against its FP32 reference: KL(p_fp32 ‖ p_quant) for
 * classifier-like outputs ([batch, classes] logits or probabilities), mean squared error for anything else.
 * Per-sample values give the standard error; batch-level SQNR/top-1 come from analysis/eval/metrics.ts.
 */
import type { Tensor } from '../../engine/ir';

export type OutputKind = 'logits' | 'probabilities' | 'other';

/** Decide how to compare outputs from the FP32 reference of the first batch. */
export function classifyOutput(t: Tensor): OutputKind {
  if (t.dims.length !== 2 || t.dims[1] < 2 || !(t.data instanceof Float32Array)) return 'other';
  const [B, C] = t.dims;
  const d = t.data;
  let probs = true;
  for (let b = 0; b < B && probs; b++) {
    let s = 0;
    for (let c = 0; c < C; c++) { const v = d[b * C + c]; if (v < 0 || v > 1) { probs = false; break; } s += v; }
    if (Math.abs(s - 1) > 1e-3) probs = false;
  }
  return probs ? 'probabilities' : 'logits';
}

/** Why agreement metrics do not apply to an output kind (undefined when they do). */
export function notApplicableReason(kind: OutputKind, t: Tensor): string | undefined {
  return kind === 'other'
    ? `output has shape [${t.dims.join(', ')}], not [batch, classes] logits or probabilities: KL and top-1 agreement do not apply; MSE/SQNR are used`
    : undefined;
}

function rowDistribution(d: Float32Array, off: number, C: number, kind: OutputKind, out: Float64Array): void {
  if (kind === 'probabilities') {
    let s = 0;
    for (let c = 0; c < C; c++) { out[c] = Math.max(d[off + c], 0); s += out[c]; }
    for (let c = 0; c < C; c++) out[c] = s > 0 ? out[c] / s : 1 / C;
    return;
  }
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, d[off + c]);
  let s = 0;
  for (let c = 0; c < C; c++) { out[c] = Math.exp(d[off + c] - m); s += out[c]; }
  for (let c = 0; c < C; c++) out[c] /= s;
}

/** Per-sample losses of `q` against `ref`: KL for classifier outputs, mean squared error otherwise. */
export function perSampleLoss(ref: Tensor, q: Tensor, kind: OutputKind): Float64Array {
  const r = ref.data as Float32Array, x = q.data as Float32Array;
  const B = ref.dims[0] ?? 1;
  const per = r.length / B;
  const out = new Float64Array(B);
  if (kind === 'other') {
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let i = b * per; i < (b + 1) * per; i++) s += (x[i] - r[i]) ** 2;
      out[b] = s / per;
    }
    return out;
  }
  const p = new Float64Array(per), qq = new Float64Array(per);
  for (let b = 0; b < B; b++) {
    rowDistribution(r, b * per, per, kind, p);
    rowDistribution(x, b * per, per, kind, qq);
    let kl = 0;
    for (let c = 0; c < per; c++) if (p[c] > 0) kl += p[c] * (Math.log(p[c]) - Math.log(Math.max(qq[c], 1e-300)));
    out[b] = Math.max(0, kl);
  }
  return out;
}

/** Mean of per-sample losses with its standard error (SQNR / top-1 live in analysis/eval/metrics.ts). */
export class LossAccumulator {
  private n = 0;
  private mean = 0;
  private m2 = 0;

  add(losses: ArrayLike<number>): void {
    for (let i = 0; i < losses.length; i++) {
      const x = losses[i];
      this.n++;
      const d = x - this.mean;
      this.mean += d / this.n;
      this.m2 += d * (x - this.mean);
    }
  }

  get count(): number { return this.n; }

  result(): { value: number; stdError: number } {
    return { value: this.mean, stdError: this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1) / this.n) : 0 };
  }
}
