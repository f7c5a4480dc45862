// SPDX-License-Identifier: Apache-2.0
/** Types of the one quantizer interface: calibrate(tensor, spec) → params; quantize(tensor, params) → result. */
import type { QuantLayout } from '../../engine/quant-types';
import type { FormatFamily, Granularity } from './formats';

export type { Granularity } from './formats';

/** How the clip range / scale is chosen. */
export type CalibrationMethod =
  | { kind: 'minmax' }
  | { kind: 'percentile'; p: number }
  | { kind: 'mse' }
  | { kind: 'kl' }
  /** Median of per-channel scales along `axis` folded into one tensor scale (DopQ-ViT MOSF). */
  | { kind: 'mosf'; axis?: number };

export interface QuantSpec {
  /** Format id from formats.ts. */
  format: string;
  /** Code width for formats with bitsOptions (log2, tan, …). */
  bits?: number;
  /** Default: the format's default granularity (channel → axis 0; group → axis 1 (0 for rank 1), size = format block). */
  granularity?: Granularity;
  /** Default: minmax. */
  calibration?: CalibrationMethod;
  /** INT: symmetric (zero point 0, or mid-range for unsigned). Sign-aware formats: force signed codes. */
  symmetric?: boolean;
}

/** A dense FP32 tensor (row-major). */
export interface TensorInput {
  data: Float32Array;
  dims: readonly number[];
}

/** Everything needed to quantize (and to hand the quantization to the engine). Serialisable. */
export interface QuantParams {
  format: string;
  family: FormatFamily;
  bits: number;
  /** Resolved granularity and its ONNX-style layout. */
  granularity: Granularity;
  layout: QuantLayout;
  symmetric: boolean;
  /** Table families: codes carry a sign bit (tensor had negatives, or forced). INT: codes are signed. */
  signedCodes: boolean;
  /** One per scale group, float32. */
  scales: Float32Array;
  /** INT only (asymmetric): one per scale group. */
  zeroPoints: Int32Array | null;
  /** Tan curvature c. */
  curvature?: number;
  /** AdaLog base (levels base^-q). */
  base?: number;
  /** Human-readable calibration, e.g. 'percentile:99.99'. */
  calibration: string;
  /** Non-finite values seen (and excluded) while calibrating. */
  nanCount: number;
  infCount: number;
}

export interface QuantMetrics {
  mse: number;
  /** 10·log10(Σx² / Σ(x − x̂)²), capped at 400 dB when lossless. */
  sqnrDb: number;
  cosine: number;
  maxAbsError: number;
  /** Fraction of finite elements outside their group's representable range. */
  clipFraction: number;
  /** Finite elements measured. */
  count: number;
  nanCount: number;
  infCount: number;
}

export interface QuantizeResult {
  params: QuantParams;
  /** One code per element (INT: the integer incl. zero point; tables: the code indexing the decode table). */
  codes: Int32Array;
  dequantized: Float32Array;
  metrics: QuantMetrics;
  /** Representable values after scaling for the first scale group (per-tensor: the tensor), ascending. */
  grid: Float64Array;
  /** Smallest and largest representable value over all scale groups. */
  clipRange: [number, number];
}

export const SQNR_CAP_DB = 400;
