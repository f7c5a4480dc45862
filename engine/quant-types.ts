// SPDX-License-Identifier: Apache-2.0
/**
 * What the engine needs to run a layer quantized. analysis/quant calibrates and quantizes (it owns the
 * format table and the maths); the engine receives codes + scales here, packs them and runs integer or
 * decode-table kernels. Scale/zero-point layout follows ONNX DequantizeLinear exactly (axis, block_size),
 * so the same record also drives the QDQ export.
 */

/** Scale layout, as ONNX DequantizeLinear: per tensor, per axis, or blocked along an axis. */
export type QuantLayout =
  | { kind: 'tensor' }
  /** scales/zeroPoints have length dims[axis]. */
  | { kind: 'channel'; axis: number }
  /** scales have the tensor's rank with dims[axis] replaced by ceil(dims[axis] / blockSize). */
  | { kind: 'block'; axis: number; blockSize: number };

export interface QuantParams {
  /** Format id from analysis/quant/formats.ts (e.g. 'int4', 'fp8_e4m3', 'nf4'); informational for the engine. */
  format: string;
  /**
   * 'int': value = (code − zeroPoint) · scale.
   * 'table': value = table[code − tableOffset] · scale (non-uniform formats: FP8/FP6/FP4, NF4, log, Tan, binary).
   */
  kind: 'int' | 'table';
  /** Storage bits per code (1..8, or 16). */
  bits: number;
  /** Codes are signed (two's complement range) or unsigned. */
  signed: boolean;
  layout: QuantLayout;
  scales: Float32Array;
  /** int kind only; absent means all zero. Same length as scales. */
  zeroPoints?: Int32Array;
  /** table kind only: decoded level for each code; code c maps to table[c - tableOffset]. */
  table?: Float32Array;
  tableOffset?: number;
}

/** A weight tensor already quantized by analysis/quant: one code per element, same layout as the FP32 weight. */
export interface QuantizedWeight extends QuantParams {
  dims: number[];
  codes: Int32Array;
}

/** Quantization of an activation (a node input or output), per tensor, calibrated by analysis. */
export interface ActivationQuant extends QuantParams {
  layout: { kind: 'tensor' };
}

export interface LayerQuantConfig {
  /** Keyed by the node's input index that holds the weight (1 for Conv/Gemm/MatMul B). */
  weights?: Record<number, QuantizedWeight>;
  /** Quantization applied to the node's data inputs before the op, keyed by input index (0 = activation). */
  inputs?: Record<number, ActivationQuant>;
  /** Quantization of the node's outputs (keyed by output index): integer kernels requantize to it, then dequantize. */
  outputs?: Record<number, ActivationQuant>;
  /** Requested kernel; the engine falls back (and reports it) when the combination has no kernel. */
  kernel?: 'auto' | 'int' | 'lut' | 'weight-only' | 'decode-table' | 'fake-quant';
}

export interface EngineQuantConfig {
  /** By node name. Nodes not listed run in FP32. */
  layers: Record<string, LayerQuantConfig>;
}

/** Which path a node ran on, for the run report. */
export type KernelPath = 'fp32' | 'int8' | 'int4' | 'int2' | 'ternary' | 'binary' | 'lut' | 'weight-only' | 'decode-table' | 'fake-quant';
