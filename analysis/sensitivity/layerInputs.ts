// SPDX-License-Identifier: Apache-2.0
/**
 * The rows X a weighted layer multiplies by its weight matrix W [outputs × K]: Gemm/MatMul input vectors, or
 * Conv im2col patches (one row per output position). A seeded reservoir keeps a uniform sample of at most
 * `maxRows` rows over the whole calibration set, and counts every row, so layer-local quantities (H = XᵀX)
 * can be estimated with a known sampling error and memory bounded by maxRows × K.
 */
import type { Node, Tensor } from '../../engine/ir';
import { SeededRandom } from '../data/random';

const intAttr = (n: Node, k: string, d: number) => (n.attrs[k]?.type === 'int' ? (n.attrs[k] as { value: number }).value : d);
const intsAttr = (n: Node, k: string): number[] | undefined => (n.attrs[k]?.type === 'ints' ? (n.attrs[k] as { value: number[] }).value : undefined);

/** How a layer reads its input: what one row is and how W is laid out as [outputs × K]. */
export interface LayerGeometry {
  kind: 'dense' | 'conv2d';
  /** Row length (Gemm/MatMul: in-features; Conv: C_in·kh·kw over all groups). */
  K: number;
  outputs: number;
  /** Conv groups (1 for dense); output o uses the K/groups slice of group floor(o / (outputs/groups)). */
  groups: number;
  /** Conv kernel size [kh, kw]. */
  kernel?: [number, number];
  /** W as [outputs × (K/groups)], row-major, float64 for accurate products. */
  weightMatrix(w: Float32Array): Float64Array;
  /** Index in the stored weight tensor of W[o][k] (k within the output's group). */
  weightIndex(o: number, k: number): number;
}

/** Geometry for Conv (2-D), Gemm and MatMul with a 2-D constant weight `w` (input 1); null for anything else. */
export function layerGeometry(node: Node, w: Tensor | undefined): LayerGeometry | null {
  if (!w || !w.dtype.startsWith('float')) return null;
  if (node.opType === 'Conv' && w.dims.length === 4) {
    const [co, cig, kh, kw] = w.dims;
    const groups = intAttr(node, 'group', 1);
    const k = cig * kh * kw;
    return { kind: 'conv2d', K: k * groups, outputs: co, groups, kernel: [kh, kw], weightMatrix: (x) => Float64Array.from(x), weightIndex: (o, kk) => o * k + kk };
  }
  if ((node.opType === 'Gemm' || node.opType === 'MatMul') && w.dims.length === 2) {
    const transB = node.opType === 'Gemm' && intAttr(node, 'transB', 0) === 1;
    const [r, c] = w.dims;
    const K = transB ? c : r, N = transB ? r : c;
    return {
      kind: 'dense', K, outputs: N, groups: 1,
      weightIndex: transB ? (o, k) => o * K + k : (o, k) => k * N + o,
      weightMatrix: (x) => {
        if (transB) return Float64Array.from(x);
        const m = new Float64Array(N * K);
        for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) m[n * K + k] = x[k * N + n];
        return m;
      },
    };
  }
  return null;
}

/** Reservoir of a layer's input rows across calibration batches. */
export class RowReservoir {
  /** Rows seen in total (N). */
  total = 0;
  /** Calibration samples seen (batch dims summed). */
  samples = 0;
  readonly rows: Float64Array[] = [];
  private readonly rng: SeededRandom;

  constructor(readonly node: Node, readonly geometry: LayerGeometry, readonly maxRows = 256, seed = 0) {
    this.rng = new SeededRandom(seed);
  }

  /** Feed the layer's input activation for one batch. */
  add(x: Tensor): void {
    this.samples += forEachLayerRow(this.node, this.geometry, x, (make) => this.offer(make));
  }

  /** Algorithm R: keep row t with probability maxRows / (t + 1); builds the row only when kept. */
  private offer(make: () => Float64Array): void {
    const t = this.total++;
    if (this.rows.length < this.maxRows) { this.rows.push(make()); return; }
    const j = Math.floor(this.rng.next() * (t + 1));
    if (j < this.maxRows) this.rows[j] = make();
  }
}

/**
 * Visit every row of one batch of a layer's input: `visit` gets a builder, so a caller that keeps only some rows
 * (a reservoir) pays for building those alone. Returns the number of samples in the batch.
 */
export function forEachLayerRow(node: Node, g: LayerGeometry, x: Tensor, visit: (make: () => Float64Array) => void): number {
  const data = x.data as Float32Array;
  if (g.kind === 'dense') {
    const transA = node.opType === 'Gemm' && intAttr(node, 'transA', 0) === 1;
    const K = g.K;
    const M = data.length / K;
    for (let m = 0; m < M; m++) {
      visit(() => {
        const r = new Float64Array(K);
        for (let k = 0; k < K; k++) r[k] = transA ? data[k * M + m] : data[m * K + k];
        return r;
      });
    }
    return x.dims.length >= 2 ? x.dims[0] : 1;
  }
  const [B, C, H, W] = x.dims;
  const [kh, kw] = g.kernel!;
  const [sh, sw] = intsAttr(node, 'strides') ?? [1, 1];
  const [dh, dw] = intsAttr(node, 'dilations') ?? [1, 1];
  let [pt, pl, pb, pr] = intsAttr(node, 'pads') ?? [0, 0, 0, 0];
  const autoPad = node.attrs.auto_pad?.type === 'string' ? (node.attrs.auto_pad as { value: string }).value : 'NOTSET';
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const pad = (size: number, s: number, k: number, d: number) => Math.max(0, (Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size);
    const ph = pad(H, sh, kh, dh), pw = pad(W, sw, kw, dw);
    const low = (p: number) => (autoPad === 'SAME_UPPER' ? Math.floor(p / 2) : Math.ceil(p / 2));
    pt = low(ph); pb = ph - pt; pl = low(pw); pr = pw - pl;
  } else if (autoPad === 'VALID') { pt = pl = pb = pr = 0; }
  const OH = Math.floor((H + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  for (let b = 0; b < B; b++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    visit(() => {
      const r = new Float64Array(C * kh * kw);
      for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) {
        const y = oh * sh - pt + i * dh;
        if (y < 0 || y >= H) continue;
        for (let j = 0; j < kw; j++) {
          const xx = ow * sw - pl + j * dw;
          if (xx < 0 || xx >= W) continue;
          r[(c * kh + i) * kw + j] = data[((b * C + c) * H + y) * W + xx];
        }
      }
      return r;
    });
  }
  return B;
}
