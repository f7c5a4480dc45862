// SPDX-License-Identifier: Apache-2.0
/**
 * Codecs turn a scaled value v = fround(x / scale) into a code and a code back into a normalised level;
 * dequantized = fround(level · scale). Two kinds, matching engine/quant-types.ts: 'int' (level = code − zp,
 * ONNX QuantizeLinear rounding) and 'table' (level = table[code], decisions by thresholds between sorted levels).
 * All hot methods are allocation-free.
 */

/** Round half to even, like ONNX QuantizeLinear / nearbyint under the default rounding mode. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface Codec {
  readonly kind: 'int' | 'table';
  readonly bits: number;
  /** Code for scaled value v (finite; ±Infinity saturates). */
  encode(v: number, zp: number): number;
  /** Normalised level of a code (exact in float32). */
  level(code: number, zp: number): number;
  /** Smallest / largest normalised level. */
  minLevel(zp: number): number;
  maxLevel(zp: number): number;
  /** All finite normalised levels, ascending (for grids). */
  levels(zp: number): Float64Array;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
/** Exponent (8) + leading mantissa (5) bits of a positive float32: 32 buckets per binade. */
const BUCKET_BITS = 13;

/** First threshold index ≥ the smallest positive float32 of each bucket (see TableCodec.index). */
function bucketStarts(t: Float64Array): Int32Array {
  const out = new Int32Array(1 << BUCKET_BITS);
  let i = 0;
  for (let b = 0; b < out.length; b++) {
    U32[0] = b << (32 - 1 - BUCKET_BITS);
    const lowest = F32[0]; // NaN for the exponent-255 buckets: they start past every threshold
    if (lowest !== lowest) { out[b] = t.length; continue; }
    while (i < t.length && t[i] < lowest) i++;
    out[b] = i;
  }
  return out;
}

/** Uniform integer codes in [qmin, qmax]. */
export class IntCodec implements Codec {
  readonly kind = 'int' as const;
  constructor(readonly bits: number, readonly qmin: number, readonly qmax: number) {}

  static forBits(bits: number, signed: boolean): IntCodec {
    return signed ? new IntCodec(bits, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1) : new IntCodec(bits, 0, 2 ** bits - 1);
  }

  encode(v: number, zp: number): number {
    const q = roundHalfEven(v) + zp;
    return q < this.qmin ? this.qmin : q > this.qmax ? this.qmax : q;
  }
  level(code: number, zp: number): number { return code - zp; }
  minLevel(zp: number): number { return this.qmin - zp; }
  maxLevel(zp: number): number { return this.qmax - zp; }
  levels(zp: number): Float64Array {
    const out = new Float64Array(this.qmax - this.qmin + 1);
    for (let i = 0; i < out.length; i++) out[i] = this.qmin + i - zp;
    return out;
  }
}

/**
 * A non-uniform code book. `levels` ascending (float32-exact), `codes[i]` the code of levels[i], and
 * `thresholds[i]` the decision boundary between levels i and i+1 (arithmetic midpoints unless the family
 * rounds in another domain, e.g. log or companded). A value exactly on a threshold goes to the even code,
 * which for minifloats is round-half-to-even on the mantissa. With `signMagnitude`, the book holds
 * magnitudes only and bit (bits−1) of the code is the sign (so −0 has its own code, as in FP8).
 */
export class TableCodec implements Codec {
  readonly kind = 'table' as const;
  /** Decode table indexed by code (2^bits entries; codes outside the book decode to NaN). */
  readonly decode: Float32Array;
  private readonly signBit: number;
  private readonly zeroIndex: number;

  constructor(
    readonly bits: number,
    readonly book: Float64Array,
    readonly codes: Int32Array,
    readonly thresholds: Float64Array,
    readonly signMagnitude: boolean,
  ) {
    this.signBit = signMagnitude ? 1 << (bits - 1) : 0;
    this.decode = new Float32Array(1 << bits).fill(NaN);
    for (let i = 0; i < book.length; i++) {
      this.decode[codes[i]] = book[i];
      if (signMagnitude) this.decode[codes[i] | this.signBit] = -book[i];
    }
    let z = 0;
    for (let i = 1; i < book.length; i++) if (Math.abs(book[i]) < Math.abs(book[z])) z = i;
    this.zeroIndex = z;
    this.buckets = book[0] >= 0 ? bucketStarts(thresholds) : null;
  }

  /**
   * For books of non-negative levels: buckets[b] = first threshold index ≥ the smallest float32 whose top
   * BUCKET_BITS bits (exponent + leading mantissa) are b. A value starts its search there and scans a step or
   * two, instead of a full binary search (the hot path of FP/MX/log quantization).
   */
  private readonly buckets: Int32Array | null;

  /** Builds a codec whose thresholds are the arithmetic midpoints of the levels. */
  static nearest(bits: number, book: Float64Array, codes: Int32Array, signMagnitude: boolean): TableCodec {
    const t = new Float64Array(Math.max(0, book.length - 1));
    for (let i = 0; i < t.length; i++) t[i] = (book[i] + book[i + 1]) / 2;
    return new TableCodec(bits, book, codes, t, signMagnitude);
  }

  /** Index into the book for value a: the first threshold ≥ a (ties to the even code). */
  private index(a: number): number {
    const t = this.thresholds, n = t.length;
    let lo: number;
    if (this.buckets !== null && a > 0) {
      F32[0] = a;
      lo = this.buckets[U32[0] >>> (32 - 1 - BUCKET_BITS)];
      // a may be a double just below fround(a)'s bucket: step back, then forward, to the exact answer
      while (lo > 0 && a <= t[lo - 1]) lo--;
      while (lo < n && a > t[lo]) lo++;
    } else {
      let hi = n;
      lo = 0;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (a > t[mid]) lo = mid + 1; else hi = mid;
      }
    }
    if (lo < n && a === t[lo] && (this.codes[lo] & 1) === 1) return lo + 1;
    return lo;
  }

  encode(v: number, _zp: number): number {
    if (v !== v) return this.codes[this.zeroIndex];
    if (!this.signMagnitude) return this.codes[this.index(v)];
    const neg = v < 0 || Object.is(v, -0);
    const c = this.codes[this.index(neg ? -v : v)];
    return neg ? c | this.signBit : c;
  }
  level(code: number, _zp: number): number { return this.decode[code]; }
  minLevel(_zp: number): number { return this.signMagnitude ? -this.book[this.book.length - 1] : this.book[0]; }
  maxLevel(_zp: number): number { return this.book[this.book.length - 1]; }
  levels(_zp: number): Float64Array {
    if (!this.signMagnitude) return Float64Array.from(this.book);
    const set = new Set<number>();
    for (const b of this.book) { set.add(b); set.add(b === 0 ? 0 : -b); }
    return Float64Array.from([...set].sort((a, b) => a - b));
  }
  /** Largest |level| (the scale maps the clip value onto it). */
  get maxAbs(): number {
    return Math.max(Math.abs(this.book[0]), Math.abs(this.book[this.book.length - 1]));
  }
}
