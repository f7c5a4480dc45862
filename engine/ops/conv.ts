// SPDX-License-Identifier: Apache-2.0
/**
 * Conv (1-D/2-D/3-D, groups, depthwise, dilation, auto_pad) as im2col + the blocked GEMM: per group,
 * Y_g[M/g × P] = W_g[M/g × K] · col[K × P], with col built in column chunks so its memory stays bounded.
 * 1-D and 2-D convolutions lower and multiply inside the WASM kernels (columns spanning several images);
 * the TypeScript lowering below serves 3-D convolutions and the no-kernels fallback (1×1 stride-1
 * convolutions multiply the input directly). Depthwise 2-D convolutions slide the window directly.
 */
import { QuantLensError } from '../errors';
import { elementCount } from '../ir';
import { matView, sgemm } from './gemm';
import { convWasm, sgemmBackend, sgemmModule } from '../kernels/sgemm-wasm';
import type { ConvGeometry } from '../kernels/sgemm-wasm';
import { floatData } from './tensor';
import type { OpFactory } from './types';
import { Attrs, need } from './types';
import type { Window } from './window';
import { parseWindow, resolveWindow } from './window';
import { allocF32 } from './arena';

/** Float budget of one im2col chunk (8 MB). */
const COL_BUDGET = 1 << 21;
let colBuf = new Float32Array(0);

export const Conv: OpFactory = (node) => {
  const wa = parseWindow(node);
  const group = new Attrs(node).int('group', 1);
  const what = `Conv node '${node.name}'`;
  return (inputs) => {
    const x = need(inputs, 0, node), w = need(inputs, 1, node), bias = inputs[2];
    const r = x.dims.length - 2;
    if (r < 1 || w.dims.length !== x.dims.length) throw new QuantLensError('shape', `${what}: input [${x.dims}] and weight [${w.dims}] ranks do not fit`);
    const [N, C] = x.dims;
    const M = w.dims[0], Cg = w.dims[1];
    if (Cg * group !== C || M % group !== 0) throw new QuantLensError('shape', `${what}: ${C} input channels, weight [${w.dims}] and group ${group} do not agree`);
    const win = resolveWindow(wa, x.dims.slice(2), wa.kernel ?? w.dims.slice(2), what);
    const y = convForward(floatData(x), N, C, floatData(w), M, group, win, bias ? floatData(bias) : undefined);
    return [{ dtype: x.dtype === 'float64' ? 'float32' : x.dtype, dims: [N, M, ...win.out], data: y }];
  };
};

/** Runs the convolution; exported for the fake-quant and kernel tests that need an FP32 reference. */
export function convForward(xd: Float32Array, N: number, C: number, wd: Float32Array, M: number, group: number,
  win: Window, bias?: Float32Array): Float32Array {
  const Cg = C / group, Mg = M / group;
  const inPlane = elementCount(win.inSize), P = elementCount(win.out);
  const K = Cg * elementCount(win.kernel);
  const y = allocF32(N * M * P, false); // every row is written by sgemm before the bias
  const mod = sgemmBackend() === 'ts' ? null : sgemmModule();
  if (mod && win.inSize.length <= 2 && !(Cg === 1 && win.inSize.length === 2)) {
    convWasm(mod, xd, N, C, wd, M, group, planeGeometry(win), y, bias);
    return y;
  }
  const pointwise = win.kernel.every((k, i) => k === 1 && win.strides[i] === 1 && win.padBegin[i] === 0 && win.padEnd[i] === 0);
  const chunk = Math.max(64, Math.floor(COL_BUDGET / Math.max(1, K)));
  if (!pointwise && colBuf.length < K * Math.min(chunk, P)) colBuf = new Float32Array(K * Math.min(chunk, P));
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      const xOff = (n * C + g * Cg) * inPlane, yOff = (n * M + g * Mg) * P;
      if (Cg === 1 && win.inSize.length === 2) { depthwise2d(xd, xOff, wd, g * Mg * K, Mg, win, y, yOff); continue; }
      const A = matView(wd, g * Mg * K, K);
      if (pointwise) { sgemm(Mg, P, K, A, matView(xd, xOff, P), y, yOff, P, false); continue; }
      for (let p0 = 0; p0 < P; p0 += chunk) {
        const cols = Math.min(chunk, P - p0);
        im2col(xd, xOff, Cg, win, p0, cols, colBuf);
        sgemm(Mg, cols, K, A, matView(colBuf, 0, cols), y, yOff + p0, P, false);
      }
    }
  }
  addBias(y, N, M, P, bias);
  return y;
}

/** A 1-D or 2-D window as the WASM lowering's 2-D geometry (a 1-D window is one row high). */
function planeGeometry(win: Window): ConvGeometry {
  const d = win.inSize.length - 1;
  const lead = (v: number[], dflt: number) => (d === 1 ? v[0] : dflt);
  return {
    H: lead(win.inSize, 1), W: win.inSize[d], KH: lead(win.kernel, 1), KW: win.kernel[d],
    sh: lead(win.strides, 1), sw: win.strides[d], dh: lead(win.dilations, 1), dw: win.dilations[d],
    ph: lead(win.padBegin, 0), pw: win.padBegin[d], OH: lead(win.out, 1), OW: win.out[d],
  };
}

function addBias(y: Float32Array, N: number, M: number, P: number, bias?: Float32Array): void {
  if (!bias) return;
  for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) {
    const b = bias[m], o = (n * M + m) * P;
    for (let p = 0; p < P; p++) y[o + p] += b;
  }
}

/** Fills col[K × cols] with input patches for output positions p0..p0+cols. */
function im2col(x: Float32Array, xOff: number, Cg: number, win: Window, p0: number, cols: number, col: Float32Array): void {
  if (win.inSize.length === 1) {
    im2col2d(x, xOff, Cg, 1, win.inSize[0], 1, win.kernel[0], 1, win.strides[0], 1, win.dilations[0], 0, win.padBegin[0], win.out[0], p0, cols, col);
  } else if (win.inSize.length === 2) {
    im2col2d(x, xOff, Cg, win.inSize[0], win.inSize[1], win.kernel[0], win.kernel[1], win.strides[0], win.strides[1],
      win.dilations[0], win.dilations[1], win.padBegin[0], win.padBegin[1], win.out[1], p0, cols, col);
  } else {
    im2colNd(x, xOff, Cg, win, p0, cols, col);
  }
}

function im2col2d(x: Float32Array, xOff: number, Cg: number, H: number, W: number, KH: number, KW: number,
  sh: number, sw: number, dh: number, dw: number, ph: number, pw: number, OW: number,
  p0: number, cols: number, col: Float32Array): void {
  let row = 0;
  for (let c = 0; c < Cg; c++) {
    const base = xOff + c * H * W;
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++, row++) {
        let dst = row * cols;
        let p = p0;
        const end = p0 + cols;
        while (p < end) {
          const oh = Math.floor(p / OW), owStart = p - oh * OW;
          const owEnd = Math.min(OW, owStart + (end - p));
          const ih = oh * sh - ph + kh * dh;
          if (ih < 0 || ih >= H) {
            col.fill(0, dst, dst + owEnd - owStart);
          } else {
            const src = base + ih * W;
            let iw = owStart * sw - pw + kw * dw;
            for (let ow = owStart; ow < owEnd; ow++, iw += sw) col[dst + ow - owStart] = iw >= 0 && iw < W ? x[src + iw] : 0;
          }
          dst += owEnd - owStart;
          p += owEnd - owStart;
        }
      }
    }
  }
}

function im2colNd(x: Float32Array, xOff: number, Cg: number, win: Window, p0: number, cols: number, col: Float32Array): void {
  const r = win.inSize.length;
  const kCount = elementCount(win.kernel), inPlane = elementCount(win.inSize);
  const kIdx = new Array<number>(r), oIdx = new Array<number>(r);
  let row = 0;
  for (let c = 0; c < Cg; c++) {
    for (let k = 0; k < kCount; k++, row++) {
      let rem = k;
      for (let d = r - 1; d >= 0; d--) { kIdx[d] = rem % win.kernel[d]; rem = Math.floor(rem / win.kernel[d]); }
      rem = p0;
      for (let d = r - 1; d >= 0; d--) { oIdx[d] = rem % win.out[d]; rem = Math.floor(rem / win.out[d]); }
      const dst = row * cols;
      for (let j = 0; j < cols; j++) {
        let off = 0, inside = true;
        for (let d = 0; d < r; d++) {
          const i = oIdx[d] * win.strides[d] - win.padBegin[d] + kIdx[d] * win.dilations[d];
          if (i < 0 || i >= win.inSize[d]) { inside = false; break; }
          off = off * win.inSize[d] + i;
        }
        col[dst + j] = inside ? x[xOff + c * inPlane + off] : 0;
        for (let d = r - 1; d >= 0; d--) { if (++oIdx[d] < win.out[d]) break; oIdx[d] = 0; }
      }
    }
  }
}

/** One input channel per group (depthwise, with any channel multiplier): direct 2-D sliding window, no im2col. */
function depthwise2d(x: Float32Array, xOff: number, w: Float32Array, wOff: number, Mg: number, win: Window, y: Float32Array, yOff: number): void {
  const [H, W] = win.inSize, [KH, KW] = win.kernel, [sh, sw] = win.strides, [dh, dw] = win.dilations;
  const [ph, pw] = win.padBegin, [OH, OW] = win.out;
  for (let m = 0; m < Mg; m++) {
    const wm = wOff + m * KH * KW, ym = yOff + m * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * sh - ph;
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * sw - pw;
        let acc = 0;
        for (let kh = 0; kh < KH; kh++) {
          const ih = ih0 + kh * dh;
          if (ih < 0 || ih >= H) continue;
          const row = xOff + ih * W, wr = wm + kh * KW;
          for (let kw = 0; kw < KW; kw++) {
            const iw = iw0 + kw * dw;
            if (iw >= 0 && iw < W) acc += x[row + iw] * w[wr + kw];
          }
        }
        y[ym + oh * OW + ow] = acc;
      }
    }
  }
}
