// SPDX-License-Identifier: Apache-2.0
/**
 * Brings a QuantizedWeight (ONNX DequantizeLinear layout) into the kernels' matrix form: codes n × k with k
 * contiguous (n = output channel), and scales/zero points as [n][nb] blocks of bs along k. Returns null when
 * the scale layout cannot be expressed that way (the factory then declines the node).
 */
import { QuantLensError } from '../errors';
import type { QuantizedWeight } from '../quant-types';

/** How the weight tensor's dims map to (n, k). */
export type WeightRole =
  /** Conv weights [Cout, Cin/group, kh(, kw)]: n = dim 0, k = the rest (already k-contiguous). */
  | 'conv'
  /** MatMul B / Gemm B with transB = 0: [K, N]. */
  | 'kn'
  /** Gemm B with transB = 1: [N, K]. */
  | 'nk';

export interface WeightMatrix {
  n: number;
  k: number;
  /** n × k codes. */
  codes: Int32Array;
  /** [n][nb] scales and zero points, blocks of bs along k. */
  scales: Float32Array;
  zeroPoints: Int32Array;
  nb: number;
  bs: number;
}

/** The matrix form of a quantized weight, or null for a scale layout the kernels do not cover. */
export function weightMatrix(q: QuantizedWeight, role: WeightRole, nodeName: string): WeightMatrix | null {
  const dims = q.dims;
  const count = dims.reduce((a, b) => a * b, 1);
  if (q.codes.length !== count) {
    throw new QuantLensError('config', `node ${nodeName}: weight codes hold ${q.codes.length} values but dims ${dims.join('x')} need ${count}`);
  }
  if (role !== 'conv' && dims.length !== 2) return null;
  const n = role === 'kn' ? dims[1] : dims[0];
  const k = count / n;
  const nAxis = role === 'kn' ? 1 : 0;
  const kAxis = role === 'kn' ? 0 : 1;
  const codes = new Int32Array(count);
  if (role === 'kn') {
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) codes[j * k + i] = q.codes[i * n + j];
  } else {
    codes.set(q.codes);
  }
  const zp = (i: number) => (q.zeroPoints ? q.zeroPoints[i] : 0);
  const layout = q.layout;
  const norm = (axis: number) => (axis < 0 ? axis + dims.length : axis);
  let nb = 1;
  let bs = k;
  let scales: Float32Array;
  let zeroPoints: Int32Array;
  if (layout.kind === 'tensor') {
    scales = new Float32Array(n).fill(q.scales[0]);
    zeroPoints = new Int32Array(n).fill(zp(0));
  } else if (layout.kind === 'channel' && norm(layout.axis) === nAxis) {
    scales = Float32Array.from({ length: n }, (_, j) => q.scales[j]);
    zeroPoints = Int32Array.from({ length: n }, (_, j) => zp(j));
  } else if (layout.kind === 'channel' && role !== 'conv' && norm(layout.axis) === kAxis) {
    nb = k; bs = 1;
    scales = new Float32Array(n * k);
    zeroPoints = new Int32Array(n * k);
    for (let j = 0; j < n; j++) for (let i = 0; i < k; i++) { scales[j * k + i] = q.scales[i]; zeroPoints[j * k + i] = zp(i); }
  } else if (layout.kind === 'block' && role !== 'conv' && norm(layout.axis) === kAxis && layout.blockSize > 0) {
    bs = layout.blockSize;
    nb = Math.ceil(k / bs);
    scales = new Float32Array(n * nb);
    zeroPoints = new Int32Array(n * nb);
    for (let j = 0; j < n; j++) for (let b = 0; b < nb; b++) {
      const src = role === 'kn' ? b * n + j : j * nb + b;
      scales[j * nb + b] = q.scales[src];
      zeroPoints[j * nb + b] = zp(src);
    }
  } else {
    return null;
  }
  return { n, k, codes, scales, zeroPoints, nb, bs };
}

/** Smallest and largest code of a format: two's complement range when signed. */
export function codeRange(bits: number, signed: boolean): [number, number] {
  return signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
}
