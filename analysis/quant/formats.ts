// SPDX-License-Identifier: Apache-2.0
/**
 * THE format table (DESIGN.md contract 4). Every quantization format QuantLens knows is one row of data
 * here; generic code (storage cost, allocation, CLI parsing, codecs) reads the row and never switches on a
 * format id. Ids are persisted in *.quant.json files: they are stable and never reused.
 */
import type { DoubleQuantSpec } from './doubleQuant';
import { QuantLensError } from '../../engine/errors';

export type FormatFamily =
  | 'int' | 'minifloat' | 'mx' | 'nf4' | 'log' | 'adalog' | 'tan' | 'binary' | 'ternary' | 'pow2';

/** 'signed'/'unsigned' are fixed; 'auto' uses sign-magnitude codes only when the tensor has negatives. */
export type Signedness = 'signed' | 'unsigned' | 'auto';

/** Kernel class the engine has for the format: integer GEMM, lookup-table GEMM, or decode-to-FP32 then GEMM. */
export type EngineKernel = 'int' | 'lut' | 'decode-table';

/** A generic ExMy minifloat: exponent bits, mantissa bits, bias, and its special-value policy. */
export interface MinifloatSpec {
  exp: number;
  man: number;
  bias: number;
  /** 'ieee': top exponent holds Inf/NaN; 'fn': no Inf, only all-ones is NaN (OCP E4M3FN); 'none': all finite. */
  special: 'ieee' | 'fn' | 'none';
  subnormals: boolean;
  /** Out-of-range values clamp to ±max (ONNX QuantizeLinear saturate=1) instead of becoming Inf/NaN. */
  saturate: boolean;
}

/** What one stored tensor costs beyond its codes (used by bitsPerElement). */
export interface StorageCost {
  /** Bits per scale (FP32 = 32, E8M0 = 8). */
  scaleBits: number;
  /** Bits per zero point when the quantization is asymmetric (0 = format never has one). */
  zeroPointBits: number;
  /** Extra bits per block/scale group beyond the scale (none of the current formats). */
  blockMetaBits: number;
  /** Bits stored once per tensor (e.g. a searched log base or Tan curvature). */
  tensorMetaBits: number;
}

export type DefaultGranularity = 'tensor' | 'channel' | 'group';

export interface QuantFormat {
  id: string;
  family: FormatFamily;
  /** Code width in bits (default when bitsOptions allows others). */
  bits: number;
  /** Other code widths the caller may ask for (spec.bits); absent = only `bits`. */
  bitsOptions?: readonly number[];
  signedness: Signedness;
  /** INT only: symmetric when the caller does not say. */
  symmetricDefault?: boolean;
  defaultGranularity: DefaultGranularity;
  /** Group/block size used when granularity is 'group' and none is given; fixed for MX (OCP: 32). */
  blockSize?: number;
  /** MX only: block size may not be changed. */
  blockSizeFixed?: boolean;
  engineKernel: EngineKernel;
  storage: StorageCost;
  /** Minifloat element layout (minifloat family, and the element type of MX-FP formats). */
  minifloat?: MinifloatSpec;
  /** MX only: INT element width (mxint8) when elements are integers instead of minifloats. */
  mxIntBits?: number;
  /** The block scales are themselves quantized (QLoRA double quantization, nf4_dq). */
  doubleQuant?: DoubleQuantSpec;
  /** Relative RMS round-trip error on N(0,1) data that tests accept at default settings (tolerance as data). */
  tolerance: number;
  description: string;
}

const FP32_SCALE: StorageCost = { scaleBits: 32, zeroPointBits: 0, blockMetaBits: 0, tensorMetaBits: 0 };
const E8M0_SCALE: StorageCost = { scaleBits: 8, zeroPointBits: 0, blockMetaBits: 0, tensorMetaBits: 0 };
const LOG_BITS = [2, 3, 4, 5, 6, 7, 8] as const;

const E4M3: MinifloatSpec = { exp: 4, man: 3, bias: 7, special: 'fn', subnormals: true, saturate: true };
const E5M2: MinifloatSpec = { exp: 5, man: 2, bias: 15, special: 'ieee', subnormals: true, saturate: true };
const E3M2: MinifloatSpec = { exp: 3, man: 2, bias: 3, special: 'none', subnormals: true, saturate: true };
const E2M3: MinifloatSpec = { exp: 2, man: 3, bias: 1, special: 'none', subnormals: true, saturate: true };
const E2M1: MinifloatSpec = { exp: 2, man: 1, bias: 1, special: 'none', subnormals: true, saturate: true };

/** RMS error of b-bit symmetric max-abs INT on N(0,1) is about 4σ·2^-b/√3; tolerance leaves 2× headroom. */
const intTol = (bits: number) => Math.min(1.2, 2 * (4.5 / ((1 << (bits - 1)) - 1)) / Math.sqrt(12) + 1e-4);

function intFormat(bits: number, signed: boolean): QuantFormat {
  const id = `${signed ? 'int' : 'uint'}${bits}`;
  return {
    id, family: 'int', bits, signedness: signed ? 'signed' : 'unsigned', symmetricDefault: signed,
    defaultGranularity: 'channel', blockSize: 128, engineKernel: 'int',
    storage: { scaleBits: 32, zeroPointBits: bits, blockMetaBits: 0, tensorMetaBits: 0 },
    tolerance: intTol(bits),
    description: `${bits}-bit ${signed ? 'signed' : 'unsigned'} uniform integer (ONNX QuantizeLinear rounding: half to even, saturating)`,
  };
}

const INT_FORMATS = [2, 3, 4, 5, 6, 7, 8].flatMap((b) => [intFormat(b, true), intFormat(b, false)]);

const OTHER_FORMATS: QuantFormat[] = [
  { ...intFormat(16, true), id: 'int16', tolerance: 1e-3 },
  {
    id: 'fp8_e4m3', family: 'minifloat', bits: 8, signedness: 'signed', defaultGranularity: 'tensor', engineKernel: 'decode-table',
    storage: FP32_SCALE, minifloat: E4M3, tolerance: 0.05, description: 'OCP FP8 E4M3FN: max ±448, no Inf, one NaN pattern',
  },
  {
    id: 'fp8_e5m2', family: 'minifloat', bits: 8, signedness: 'signed', defaultGranularity: 'tensor', engineKernel: 'decode-table',
    storage: FP32_SCALE, minifloat: E5M2, tolerance: 0.1, description: 'OCP FP8 E5M2 (IEEE-style): max ±57344',
  },
  {
    id: 'fp6_e3m2', family: 'minifloat', bits: 6, signedness: 'signed', defaultGranularity: 'channel', engineKernel: 'decode-table',
    storage: FP32_SCALE, minifloat: E3M2, tolerance: 0.12, description: 'OCP FP6 E3M2: max ±28, all codes finite',
  },
  {
    id: 'fp6_e2m3', family: 'minifloat', bits: 6, signedness: 'signed', defaultGranularity: 'channel', engineKernel: 'decode-table',
    storage: FP32_SCALE, minifloat: E2M3, tolerance: 0.1, description: 'OCP FP6 E2M3: max ±7.5, all codes finite',
  },
  {
    id: 'fp4_e2m1', family: 'minifloat', bits: 4, signedness: 'signed', defaultGranularity: 'channel', engineKernel: 'lut',
    storage: FP32_SCALE, minifloat: E2M1, tolerance: 0.3, description: 'OCP FP4 E2M1: magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6',
  },
  {
    id: 'mxfp8', family: 'mx', bits: 8, signedness: 'signed', defaultGranularity: 'group', blockSize: 32, blockSizeFixed: true,
    engineKernel: 'decode-table', storage: E8M0_SCALE, minifloat: E4M3, tolerance: 0.05,
    description: 'OCP MXFP8: 32 E4M3 elements sharing one E8M0 power-of-two scale',
  },
  {
    id: 'mxfp6', family: 'mx', bits: 6, signedness: 'signed', defaultGranularity: 'group', blockSize: 32, blockSizeFixed: true,
    engineKernel: 'decode-table', storage: E8M0_SCALE, minifloat: E2M3, tolerance: 0.1,
    description: 'OCP MXFP6 (E2M3 elements): 32 elements sharing one E8M0 power-of-two scale',
  },
  {
    id: 'mxfp8_e5m2', family: 'mx', bits: 8, signedness: 'signed', defaultGranularity: 'group', blockSize: 32, blockSizeFixed: true,
    engineKernel: 'decode-table', storage: E8M0_SCALE, minifloat: E5M2, tolerance: 0.1,
    description: 'OCP MXFP8 (E5M2 elements): 32 elements sharing one E8M0 power-of-two scale',
  },
  {
    id: 'mxfp6_e3m2', family: 'mx', bits: 6, signedness: 'signed', defaultGranularity: 'group', blockSize: 32, blockSizeFixed: true,
    engineKernel: 'decode-table', storage: E8M0_SCALE, minifloat: E3M2, tolerance: 0.12,
    description: 'OCP MXFP6 (E3M2 elements): 32 elements sharing one E8M0 power-of-two scale',
  },
  {
    id: 'mxfp4', family: 'mx', bits: 4, signedness: 'signed', defaultGranularity: 'group', blockSize: 32, blockSizeFixed: true,
    engineKernel: 'lut', storage: E8M0_SCALE, minifloat: E2M1, tolerance: 0.3,
    description: 'OCP MXFP4: 32 E2M1 elements sharing one E8M0 power-of-two scale',
  },
  {
    id: 'mxint8', family: 'mx', bits: 8, signedness: 'signed', defaultGranularity: 'group', blockSize: 32, blockSizeFixed: true,
    engineKernel: 'int', storage: E8M0_SCALE, mxIntBits: 8, tolerance: 0.02,
    description: 'OCP MXINT8: 32 int8 elements (implicit 2^-6) sharing one E8M0 power-of-two scale',
  },
  {
    id: 'nf4', family: 'nf4', bits: 4, signedness: 'signed', defaultGranularity: 'group', blockSize: 64, engineKernel: 'lut',
    storage: FP32_SCALE, tolerance: 0.15, description: 'QLoRA NormalFloat4: 16 normal quantiles, FP32 absmax per block (no double quantization)',
  },
  {
    id: 'nf4_dq', family: 'nf4', bits: 4, signedness: 'signed', defaultGranularity: 'group', blockSize: 64, engineKernel: 'lut',
    // per block an 8-bit scale code; per 256 blocks one FP32 second-level scale; per tensor one FP32 mean
    storage: { scaleBits: 8, zeroPointBits: 0, blockMetaBits: 32 / 256, tensorMetaBits: 32 }, doubleQuant: { blockSize: 256, minifloat: E4M3 },
    tolerance: 0.16, description: 'QLoRA NF4 with double quantization: block absmax scales as FP8 E4M3 (mean-centred, FP32 scale per 256 blocks)',
  },
  {
    id: 'log2', family: 'log', bits: 4, bitsOptions: LOG_BITS, signedness: 'auto', defaultGranularity: 'tensor', engineKernel: 'lut',
    storage: FP32_SCALE, tolerance: 0.6, description: 'Power-of-two levels s·2^-q (+ zero), rounded in the log domain; for post-Softmax',
  },
  {
    id: 'log_sqrt2', family: 'log', bits: 4, bitsOptions: LOG_BITS, signedness: 'auto', defaultGranularity: 'tensor', engineKernel: 'lut',
    storage: FP32_SCALE, tolerance: 0.6, description: 'Levels s·√2^-q (+ zero), rounded in the log domain',
  },
  {
    id: 'adalog', family: 'adalog', bits: 4, bitsOptions: LOG_BITS, signedness: 'auto', defaultGranularity: 'tensor', engineKernel: 'lut',
    storage: { ...FP32_SCALE, tensorMetaBits: 32 }, tolerance: 0.6,
    description: 'AdaLog-style adaptive log base: levels s·base^-q, base searched to minimise MSE',
  },
  {
    id: 'tan', family: 'tan', bits: 4, bitsOptions: LOG_BITS, signedness: 'auto', defaultGranularity: 'tensor', engineKernel: 'lut',
    storage: { ...FP32_SCALE, tensorMetaBits: 32 }, tolerance: 0.6,
    description: 'TanQ-style tangent compander: levels dense near both ends of [0, clip] (see docs/quantizers.md)',
  },
  {
    id: 'ternary', family: 'ternary', bits: 2, signedness: 'signed', defaultGranularity: 'tensor', engineKernel: 'int',
    storage: FP32_SCALE, tolerance: 0.7, description: 'BitNet b1.58 absmean ternary: round(W/mean|W|) clipped to {-1, 0, 1}',
  },
  {
    id: 'binary', family: 'binary', bits: 1, signedness: 'signed', defaultGranularity: 'channel', engineKernel: 'int',
    storage: FP32_SCALE, tolerance: 0.7, description: 'Binary weights: sign(W)·mean|W|',
  },
  {
    id: 'pow2', family: 'pow2', bits: 4, bitsOptions: LOG_BITS, signedness: 'auto', defaultGranularity: 'channel', engineKernel: 'lut',
    storage: FP32_SCALE, tolerance: 0.5, description: 'Power-of-two (shift) weights ±s·2^-p and zero, nearest level',
  },
];

/** Every format, keyed by its stable id. */
export const FORMATS: Readonly<Record<string, QuantFormat>> = Object.freeze(
  Object.fromEntries([...INT_FORMATS, ...OTHER_FORMATS].map((f) => [f.id, Object.freeze(f)])),
);

/** All format ids in table order. */
export const FORMAT_IDS: readonly string[] = Object.freeze(Object.keys(FORMATS));

/** The table row for an id; unknown ids are a 'format' error listing the valid ones. */
export function getFormat(id: string): QuantFormat {
  const f = FORMATS[id];
  if (!f) throw new QuantLensError('format', `unknown quantization format '${id}'; valid formats: ${FORMAT_IDS.join(', ')}`);
  return f;
}

/** The code width to use: the format's own, or a requested one it allows. */
export function resolveBits(format: QuantFormat, bits?: number): number {
  if (bits === undefined || bits === format.bits) return format.bits;
  const allowed = format.bitsOptions ?? [format.bits];
  if (!allowed.includes(bits)) {
    throw new QuantLensError('format', `format '${format.id}' does not support ${bits} bits; valid: ${allowed.join(', ')}`);
  }
  return bits;
}

/** Granularity of scales: one per tensor, one per index of `axis`, or one per `size` elements along `axis`. */
export type Granularity =
  | { kind: 'tensor' }
  | { kind: 'channel'; axis: number }
  | { kind: 'group'; axis: number; size: number };

/** Number of scales a granularity produces for a tensor of `dims`. */
export function scaleCount(granularity: Granularity, dims: readonly number[]): number {
  const numel = dims.reduce((a, b) => a * b, 1);
  if (granularity.kind === 'tensor') return 1;
  const d = dims[granularity.axis] ?? 1;
  if (granularity.kind === 'channel') return d;
  return d === 0 ? 0 : (numel / d) * Math.ceil(d / granularity.size);
}

/**
 * Storage bits per element including scales, zero points and block/tensor metadata: the one formula size
 * budgets use. `symmetric` matters only for formats with zero points (asymmetric INT stores one per scale).
 */
export function bitsPerElement(
  format: QuantFormat | string, granularity: Granularity, dims: readonly number[],
  opts: { bits?: number; symmetric?: boolean } = {},
): number {
  const f = typeof format === 'string' ? getFormat(format) : format;
  const bits = resolveBits(f, opts.bits);
  const numel = dims.reduce((a, b) => a * b, 1);
  if (numel === 0) return bits;
  const symmetric = opts.symmetric ?? f.symmetricDefault ?? true;
  const s = f.storage;
  const perScale = s.scaleBits + (symmetric ? 0 : s.zeroPointBits) + s.blockMetaBits;
  return bits + (scaleCount(granularity, dims) * perScale + s.tensorMetaBits) / numel;
}
