// SPDX-License-Identifier: Apache-2.0
/**
 * Per-family behaviour, driven by the format row: which codec, how a clip range becomes (scale, zero point),
 * the family's native "min-max" range, and the variants a search may choose between (AdaLog bases, Tan
 * curvatures). Calibration and quantization code call these and never look at format ids.
 */
import type { FormatFamily, QuantFormat } from './formats';
import { type Codec, IntCodec, TableCodec, roundHalfEven } from './codec';
import { binaryCodec, logCodec, minifloatCodec, minifloatMax, nf4Codec, tanCodec } from './levels';

/** Which codec variant a tensor uses (fixed per tensor: base/curvature are stored once). */
export interface Variant {
  codec: Codec;
  curvature?: number;
  base?: number;
}

/** Scale and zero point chosen for one group. */
export interface ScaleZp { scale: number; zp: number }

/** Smallest scale we emit: scales must be positive, finite float32 normals. */
const MIN_SCALE = 2 ** -126;

/** Float32 scale ≥ s (rounded up, so the clip value stays representable), positive and finite. */
function finiteScale(s: number): number {
  let f = Math.fround(s);
  if (f < s) f = nextFloat32Up(f);
  return f >= MIN_SCALE && Number.isFinite(f) ? f : f === 0 || !Number.isFinite(f) ? 1 : MIN_SCALE;
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

function nextFloat32Up(f: number): number {
  if (f <= 0 || !Number.isFinite(f)) return f;
  f32buf[0] = f;
  u32buf[0] += 1;
  return f32buf[0];
}

export interface FamilyRuntime {
  family: FormatFamily;
  /** Codec variants a calibration may pick from (one for most families). */
  variants: Variant[];
  /** Scale/zp mapping clip range [lo, hi] onto the codec's levels (symmetric uses max(|lo|, |hi|)). */
  scaleFor(codec: Codec, lo: number, hi: number, symmetric: boolean, out: ScaleZp): void;
  /** Binary/ternary: native range is ±mean|x| (BitNet absmean), not ±max|x|. */
  nativeAbsMean: boolean;
  /** Multipliers of the native range an MSE search tries. */
  alphas: readonly number[];
}

const CLIP_ALPHAS = Array.from({ length: 20 }, (_, k) => 1 - k * 0.05);
const SCALE_ALPHAS = Array.from({ length: 24 }, (_, k) => 0.35 + k * 0.075);
const TAN_CURVATURES = [0, 0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32];
const ADALOG_RATES = Array.from({ length: 15 }, (_, k) => 0.5 + k * 0.25); // base = 2^(1/r)

function symmetricTableScale(codec: Codec, lo: number, hi: number, _sym: boolean, out: ScaleZp): void {
  const maxAbs = Math.max(Math.abs(codec.minLevel(0)), Math.abs(codec.maxLevel(0)));
  out.scale = finiteScale(Math.max(Math.abs(lo), Math.abs(hi)) / maxAbs);
  out.zp = 0;
}

function intScale(codec: Codec, lo: number, hi: number, symmetric: boolean, out: ScaleZp): void {
  const { qmin, qmax } = codec as IntCodec;
  if (symmetric) {
    const amax = Math.max(Math.abs(lo), Math.abs(hi));
    // Unsigned symmetric puts zero mid-range (ONNX/ORT convention: uint8 zero point 128).
    const zp = qmin < 0 ? 0 : (qmin + qmax + 1) >> 1;
    out.scale = finiteScale(amax / Math.min(qmax - zp, zp - qmin || Infinity));
    out.zp = zp;
    return;
  }
  const l = Math.min(lo, 0), h = Math.max(hi, 0);
  if (h - l === 0) { out.scale = 1; out.zp = qmin < 0 ? 0 : qmin; return; }
  const s = finiteScale((h - l) / (qmax - qmin));
  const zp = roundHalfEven(qmin - l / s);
  out.scale = s;
  out.zp = zp < qmin ? qmin : zp > qmax ? qmax : zp;
}

/** Largest power of two ≤ a (exact, for E8M0 shared exponents). */
export function floorLog2(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

/** OCP MX: shared scale 2^(floor(log2 amax) − emax_elem), clamped to the E8M0 range. */
function mxScale(emaxElem: number, intElemShift: number) {
  return (_codec: Codec, lo: number, hi: number, _sym: boolean, out: ScaleZp): void => {
    const amax = Math.max(Math.abs(lo), Math.abs(hi));
    let e = amax > 0 && Number.isFinite(amax) ? floorLog2(amax) - emaxElem : 0;
    e = Math.max(-127, Math.min(127, e));
    // mxint8 elements carry an implicit 2^-6: the engine's int scale is X·2^-6.
    out.scale = Math.max(2 ** (e - intElemShift), 2 ** -149);
    out.zp = 0;
  };
}

/** The runtime for a format at a code width; `signedCodes` only matters for 'auto' families. */
export function familyRuntime(format: QuantFormat, bits: number, signedCodes: boolean): FamilyRuntime {
  const base = { family: format.family, nativeAbsMean: false, alphas: CLIP_ALPHAS, scaleFor: symmetricTableScale };
  switch (format.family) {
    case 'int':
      return { ...base, variants: [{ codec: IntCodec.forBits(bits, format.signedness === 'signed') }], scaleFor: intScale };
    case 'minifloat':
      return { ...base, variants: [{ codec: minifloatCodec(format.minifloat!) }] };
    case 'mx': {
      if (format.mxIntBits) {
        const q = 2 ** (format.mxIntBits - 1) - 1;
        return { ...base, variants: [{ codec: new IntCodec(format.mxIntBits, -q, q) }], scaleFor: mxScale(0, format.mxIntBits - 2) };
      }
      const emax = floorLog2(minifloatMax(format.minifloat!));
      return { ...base, variants: [{ codec: minifloatCodec(format.minifloat!) }], scaleFor: mxScale(emax, 0) };
    }
    case 'nf4':
      return { ...base, variants: [{ codec: nf4Codec() }] };
    case 'log':
      return { ...base, variants: [{ codec: logCodec(bits, format.id === 'log_sqrt2' ? Math.SQRT2 : 2, signedCodes), base: format.id === 'log_sqrt2' ? Math.SQRT2 : 2 }] };
    case 'adalog':
      return { ...base, variants: ADALOG_RATES.map((r) => ({ codec: logCodec(bits, 2 ** (1 / r), signedCodes), base: 2 ** (1 / r) })) };
    case 'tan':
      return { ...base, variants: TAN_CURVATURES.map((c) => ({ codec: tanCodec(bits, c, signedCodes), curvature: c })) };
    case 'pow2':
      return { ...base, variants: [{ codec: logCodec(bits, 2, signedCodes, true), base: 2 }] };
    case 'binary':
      return { ...base, variants: [{ codec: binaryCodec() }], nativeAbsMean: true, alphas: SCALE_ALPHAS };
    case 'ternary':
      return { ...base, variants: [{ codec: new IntCodec(2, -1, 1) }], scaleFor: intScale, nativeAbsMean: true, alphas: SCALE_ALPHAS };
  }
}

/** The variant a stored params record refers to (rebuilt from base/curvature). */
export function variantFor(format: QuantFormat, bits: number, signedCodes: boolean, p: { base?: number; curvature?: number }): Variant {
  if (format.family === 'adalog') return { codec: logCodec(bits, p.base ?? 2, signedCodes), base: p.base ?? 2 };
  if (format.family === 'tan') return { codec: tanCodec(bits, p.curvature ?? 0, signedCodes), curvature: p.curvature ?? 0 };
  return familyRuntime(format, bits, signedCodes).variants[0];
}

/** True when the codec is a table (for toEngine). */
export function isTable(codec: Codec): codec is TableCodec {
  return codec.kind === 'table';
}
