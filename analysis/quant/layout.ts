// SPDX-License-Identifier: Apache-2.0
/**
 * Scale groups of a tensor: per tensor, per channel (any axis) or per block along an axis, laid out exactly
 * like ONNX DequantizeLinear's scale tensor (block: dims with dims[axis] → ceil(dims[axis]/size), row-major).
 * A flat element index i = (o·D + d)·inner + n, with D = dims[axis].
 */
import { QuantLensError } from '../../engine/errors';
import type { QuantLayout } from '../../engine/quant-types';
import type { Granularity, QuantFormat } from './formats';

/** Fills in defaults (channel → axis 0, group → axis 1 of rank ≥ 2) and validates a granularity against a format and a shape. */
export function resolveGranularity(format: QuantFormat, g: Granularity | undefined, dims: readonly number[]): Granularity {
  const rank = dims.length;
  // Without the op, axis 1 is the best guess for the reduction axis (Conv [O, I, k…], Gemm transB [N, K]);
  // callers that know the op pass analysis/layers.ts reductionAxisFor explicitly.
  const groupAxis = rank >= 2 ? 1 : 0;
  let out: Granularity;
  if (!g) {
    // A rank-0/1 tensor (bias, activation row) has no channel axis: per-channel defaults become per-tensor.
    if (format.defaultGranularity === 'tensor' || rank === 0 || (rank === 1 && format.defaultGranularity === 'channel')) out = { kind: 'tensor' };
    else if (format.defaultGranularity === 'channel') out = { kind: 'channel', axis: 0 };
    else out = { kind: 'group', axis: groupAxis, size: format.blockSize ?? 32 };
  } else out = g;
  if (out.kind !== 'tensor') {
    const axis = out.axis < 0 ? out.axis + rank : out.axis;
    if (!Number.isInteger(axis) || axis < 0 || axis >= Math.max(rank, 1)) {
      throw new QuantLensError('format', `axis ${out.axis} is out of range for a tensor of rank ${rank}`);
    }
    out = { ...out, axis };
    if (rank === 0) out = { kind: 'tensor' };
  }
  if (out.kind === 'group') {
    if (!Number.isInteger(out.size) || out.size < 1) throw new QuantLensError('format', `group size must be a positive integer, got ${out.size}`);
    if (format.blockSizeFixed && out.size !== format.blockSize) {
      throw new QuantLensError('format', `format '${format.id}' uses fixed blocks of ${format.blockSize} elements; got group size ${out.size}`);
    }
  } else if (format.blockSizeFixed) {
    throw new QuantLensError('format', `format '${format.id}' needs group granularity with blocks of ${format.blockSize} (e.g. group:${format.blockSize})`);
  }
  return out;
}

/** ONNX DequantizeLinear layout of a granularity. */
export function toLayout(g: Granularity): QuantLayout {
  if (g.kind === 'tensor') return { kind: 'tensor' };
  if (g.kind === 'channel') return { kind: 'channel', axis: g.axis };
  return { kind: 'block', axis: g.axis, blockSize: g.size };
}

/** Printable granularity ('tensor', 'channel:0', 'group:1:128'). */
export function granularityLabel(g: Granularity): string {
  return g.kind === 'tensor' ? 'tensor' : g.kind === 'channel' ? `channel:${g.axis}` : `group:${g.axis}:${g.size}`;
}

/** Index arithmetic for the scale groups of one tensor. */
export class GroupIndex {
  readonly outer: number;
  readonly D: number;
  readonly inner: number;
  /** Blocks along the axis (block mode). */
  readonly nb: number;
  readonly B: number;
  readonly mode: 'tensor' | 'channel' | 'block';
  readonly groupCount: number;
  readonly numel: number;

  constructor(dims: readonly number[], g: Granularity) {
    this.numel = dims.reduce((a, b) => a * b, 1);
    if (g.kind === 'tensor') {
      this.mode = 'tensor'; this.outer = 1; this.D = 1; this.inner = this.numel; this.B = 1; this.nb = 1;
      this.groupCount = 1;
      return;
    }
    this.D = dims[g.axis];
    this.outer = dims.slice(0, g.axis).reduce((a, b) => a * b, 1);
    this.inner = dims.slice(g.axis + 1).reduce((a, b) => a * b, 1);
    if (g.kind === 'channel') {
      this.mode = 'channel'; this.B = this.D; this.nb = 1; this.groupCount = this.D;
    } else {
      this.mode = 'block'; this.B = g.size; this.nb = Math.ceil(this.D / g.size);
      this.groupCount = this.outer * this.nb * this.inner;
    }
  }

  /** The group (scale index) of flat element i, as quantize() assigns it. */
  groupOf(i: number): number {
    if (this.mode === 'tensor') return 0;
    const j = i % this.inner, od = (i - j) / this.inner, d = od % this.D;
    if (this.mode === 'channel') return d;
    const o = (od - d) / this.D;
    return (o * this.nb + Math.floor(d / this.B)) * this.inner + j;
  }

  /** Largest number of elements in one group. */
  get maxGroupSize(): number {
    if (this.mode === 'tensor') return this.numel;
    if (this.mode === 'channel') return this.outer * this.inner;
    return Math.min(this.B, this.D);
  }

  /** Copies the finite elements of group g into buf; returns how many were copied. */
  gather(data: Float32Array, g: number, buf: Float32Array): number {
    let k = 0;
    if (this.mode === 'tensor') {
      for (let i = 0; i < data.length; i++) { const v = data[i]; if (v - v === 0) buf[k++] = v; }
      return k;
    }
    const { D, inner } = this;
    if (this.mode === 'channel') {
      for (let o = 0; o < this.outer; o++) {
        const base = (o * D + g) * inner;
        for (let n = 0; n < inner; n++) { const v = data[base + n]; if (v - v === 0) buf[k++] = v; }
      }
      return k;
    }
    const n = g % inner, ob = (g - n) / inner, b = ob % this.nb, o = (ob - b) / this.nb;
    const d1 = Math.min(D, (b + 1) * this.B);
    for (let d = b * this.B; d < d1; d++) { const v = data[(o * D + d) * inner + n]; if (v - v === 0) buf[k++] = v; }
    return k;
  }
}
