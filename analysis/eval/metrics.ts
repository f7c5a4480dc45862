// SPDX-License-Identifier: Apache-2.0
/**
 * Streaming comparison metrics between a reference output and a test output, accumulated batch by batch:
 * SQNR and cosine over all elements (float64 sums), and — only for classifier-like outputs ([batch, classes],
 * classes ≥ 2) — top-1 agreement, KL(ref ‖ test) of the softmax, and top-1 accuracy of both against labels.
 * A metric that does not apply is reported with the reason instead of a number.
 */

/** Running sums for one output tensor. */
export class OutputComparison {
  private sx2 = 0;
  private se2 = 0;
  private sxy = 0;
  private sy2 = 0;
  private maxAbs = 0;
  private maxRef = 0;
  private rows = 0;
  private agree = 0;
  private klSum = 0;
  private refCorrect = 0;
  private testCorrect = 0;
  private labelled = 0;
  /** Indices (among the labelled samples, in order) that each model gets wrong: a paired test needs which, not how many. */
  private refMisses: number[] = [];
  private testMisses: number[] = [];
  /** Why class metrics do not apply (null while they do). */
  classNotApplicable: string | null = null;

  constructor(readonly name: string) {}

  /** Add one batch: both tensors have the same dims; labels (one per row) optional. */
  add(ref: Float32Array, test: Float32Array, dims: readonly number[], labels?: ArrayLike<number>): void {
    for (let i = 0; i < ref.length; i++) {
      const x = ref[i], y = test[i], e = x - y;
      this.sx2 += x * x; this.se2 += e * e; this.sxy += x * y; this.sy2 += y * y;
      const a = Math.abs(e);
      if (a > this.maxAbs) this.maxAbs = a;
      if (Math.abs(x) > this.maxRef) this.maxRef = Math.abs(x);
    }
    // [batch, classes], or the same with unit dims around the classes ([N, 1000, 1, 1] from a final conv)
    const rest = dims.slice(1).filter((d) => d !== 1);
    const classes = dims.length >= 2 && rest.length === 1 ? rest[0] : 0;
    if (!(classes >= 2)) {
      this.classNotApplicable = `output '${this.name}' has shape [${dims.join(', ')}], not [batch, classes]`;
      return;
    }
    const probs = looksLikeProbabilities(ref, classes);
    for (let row = 0; row < dims[0]; row++) {
      const o = row * classes;
      const ra = argmax(ref, o, classes), ta = argmax(test, o, classes);
      if (ra === ta) this.agree++;
      this.klSum += klDivergence(ref, test, o, classes, probs);
      if (labels && row < labels.length) {
        if (ra === labels[row]) this.refCorrect++;
        else this.refMisses.push(this.labelled);
        if (ta === labels[row]) this.testCorrect++;
        else this.testMisses.push(this.labelled);
        this.labelled++;
      }
      this.rows++;
    }
  }

  /** Final figures (null = not applicable). */
  result(): ComparisonResult {
    const classOk = this.classNotApplicable === null && this.rows > 0;
    return {
      name: this.name,
      sqnrDb: this.se2 === 0 ? Infinity : 10 * Math.log10(this.sx2 / this.se2),
      cosine: this.sx2 === 0 || this.sy2 === 0 ? (this.sx2 === this.sy2 ? 1 : 0) : this.sxy / Math.sqrt(this.sx2 * this.sy2),
      maxAbsDiff: this.maxAbs,
      maxRelDiff: this.maxRef > 0 ? this.maxAbs / this.maxRef : this.maxAbs === 0 ? 0 : Infinity,
      top1Agreement: classOk ? this.agree / this.rows : null,
      kl: classOk ? this.klSum / this.rows : null,
      accuracy: classOk && this.labelled > 0
        ? { reference: this.refCorrect / this.labelled, test: this.testCorrect / this.labelled, samples: this.labelled, referenceMisses: [...this.refMisses], testMisses: [...this.testMisses] }
        : null,
      notApplicable: classOk ? undefined : this.classNotApplicable ?? 'no samples',
    };
  }
}

export interface ComparisonResult {
  name: string;
  sqnrDb: number;
  cosine: number;
  maxAbsDiff: number;
  /** max |ref − test| / max |ref|: the largest error relative to the output's scale (element-wise ratios explode near 0). */
  maxRelDiff: number;
  top1Agreement: number | null;
  kl: number | null;
  accuracy: { reference: number; test: number; samples: number; referenceMisses: number[]; testMisses: number[] } | null;
  notApplicable?: string;
}

/** SQNR in dB of `test` against `ref` (Infinity when identical). */
export function sqnrDb(ref: ArrayLike<number>, test: ArrayLike<number>): number {
  let s = 0, e = 0;
  for (let i = 0; i < ref.length; i++) { s += ref[i] * ref[i]; const d = ref[i] - test[i]; e += d * d; }
  return e === 0 ? Infinity : 10 * Math.log10(s / e);
}

function argmax(a: Float32Array, o: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (a[o + j] > a[o + best]) best = j;
  return best;
}

/** Rows already non-negative and summing to 1 are probabilities; anything else is treated as logits. */
function looksLikeProbabilities(a: Float32Array, classes: number): boolean {
  const rows = Math.min(a.length / classes, 8);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < classes; j++) { const v = a[r * classes + j]; if (v < 0) return false; s += v; }
    if (Math.abs(s - 1) > 1e-3) return false;
  }
  return rows > 0;
}

function klDivergence(p: Float32Array, q: Float32Array, o: number, n: number, probs: boolean): number {
  const lp = probs ? logOf(p, o, n) : logSoftmax(p, o, n);
  const lq = probs ? logOf(q, o, n) : logSoftmax(q, o, n);
  let kl = 0;
  for (let j = 0; j < n; j++) { const pj = Math.exp(lp[j]); if (pj > 0) kl += pj * (lp[j] - lq[j]); }
  return Math.max(0, kl);
}

function logSoftmax(a: Float32Array, o: number, n: number): Float64Array {
  let m = -Infinity;
  for (let j = 0; j < n; j++) m = Math.max(m, a[o + j]);
  let s = 0;
  for (let j = 0; j < n; j++) s += Math.exp(a[o + j] - m);
  const ls = Math.log(s) + m;
  return Float64Array.from({ length: n }, (_, j) => a[o + j] - ls);
}

function logOf(a: Float32Array, o: number, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, j) => Math.log(Math.max(a[o + j], 1e-12)));
}
