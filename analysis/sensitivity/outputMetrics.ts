// SPDX-License-Identifier: Apache-2.0
/**
 * Comparing a model output with its FP32 reference. Classifier-like outputs ([batch, classes] logits or
 * probabilities) use per-sample KL(p_fp32 ‖ p_quant) and top-1 agreement; any other output uses MSE and SQNR,
 * and top-1 agreement is "not applicable" (null with a reason) — never an invented number.
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

/** Streams loss, SQNR and top-1 agreement over batches. */
export class OutputComparison {
  private losses: number[] = [];
  private signal = 0;
  private noise = 0;
  private agree = 0;
  private rows = 0;
  nonFinite = 0;
  constructor(readonly kind: OutputKind) {}

  add(ref: Tensor, q: Tensor): void {
    const r = ref.data as Float32Array, x = q.data as Float32Array;
    for (let i = 0; i < r.length; i++) {
      if (!Number.isFinite(x[i]) || !Number.isFinite(r[i])) { this.nonFinite++; continue; }
      this.signal += r[i] * r[i]; this.noise += (x[i] - r[i]) ** 2;
    }
    for (const l of perSampleLoss(ref, q, this.kind)) this.losses.push(l);
    if (this.kind !== 'other') {
      const C = ref.dims[1];
      for (let b = 0; b < ref.dims[0]; b++) {
        let ar = 0, aq = 0;
        for (let c = 1; c < C; c++) { if (r[b * C + c] > r[b * C + ar]) ar = c; if (x[b * C + c] > x[b * C + aq]) aq = c; }
        if (ar === aq) this.agree++;
        this.rows++;
      }
    }
  }

  /** Mean per-sample loss with its standard error. */
  loss(): { value: number; stdError: number } {
    const n = this.losses.length;
    if (n === 0) return { value: 0, stdError: 0 };
    const mean = this.losses.reduce((a, b) => a + b, 0) / n;
    const v = n > 1 ? this.losses.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
    return { value: mean, stdError: Math.sqrt(v / n) };
  }

  sqnrDb(): number { return this.noise === 0 ? 400 : Math.min(400, 10 * Math.log10(this.signal / this.noise)); }

  /** Fraction of samples whose argmax agrees; null when the output is not classifier-like. */
  top1Agreement(): number | null { return this.kind === 'other' || this.rows === 0 ? null : this.agree / this.rows; }
}
