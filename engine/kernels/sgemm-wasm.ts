// SPDX-License-Identifier: Apache-2.0
/**
 * Drives the WebAssembly SIMD FP32 GEMM (engine/wasm/assembly/sgemm.ts, engine/kernels/sgemm-module.ts) for
 * engine/ops/gemm.ts and engine/ops/conv.ts: copies the operands into the module's memory (whole rows or
 * columns at a time; convolution inputs once per call, lowered there by im2col over several images), splits
 * the product into per-thread column parts, and copies C back.
 */
import { QuantLensError } from '../errors';
import { IM2COL, SGEMM, SgemmModule, WINOGRAD, WINOGRAD_WEIGHTS } from './sgemm-module';
import type { KernelCall } from './sgemm-module';
import type { SimdLevel } from './wasm-module';

/** A strided 2-D view: element (r, c) is data[offset + r·rowStride + c·colStride]. */
export interface StridedView {
  data: Float32Array;
  offset: number;
  rowStride: number;
  colStride: number;
}

/** Floats of A staged at once, and of B + C: larger products run in row/column chunks (bounded memory). */
const A_BUDGET = 1 << 22;
const BC_BUDGET = 1 << 23;
/** Floats of one im2col chunk (8 MB), as in the TypeScript lowering. */
const COL_BUDGET = 1 << 21;
/** Products below this many multiply-adds stay on one thread (a worker hand-off costs tens of µs). */
const PARALLEL_MACS = 1 << 21;

let mod: SgemmModule | null | undefined;

/** The process's FP32 GEMM instance, or null when the kernels are not built (the TypeScript GEMM then runs). */
export function sgemmModule(): SgemmModule | null {
  if (mod !== undefined) return mod;
  try {
    mod = new SgemmModule();
  } catch (e) {
    if (!(e instanceof QuantLensError && e.kind === 'io')) throw e;
    mod = null;
  }
  return mod;
}

/** Which FP32 GEMM runs: the WASM build's SIMD level, or 'ts' (QUANTLENS_SGEMM=ts, or no kernels built). */
export function sgemmBackend(): SimdLevel | 'ts' {
  if (process.env.QUANTLENS_SGEMM === 'ts') return 'ts';
  return sgemmModule()?.level ?? 'ts';
}

/** Copies rows×cols of v to float index f of the heap; returns the element strides of the copy. */
function stage(h: Float32Array, f: number, v: StridedView, rows: number, cols: number): [number, number] {
  const { data, offset, rowStride: rs, colStride: cs } = v;
  if (cs === 1) {
    if (rs === cols || rows === 1) h.set(data.subarray(offset, offset + rows * cols), f);
    else for (let r = 0; r < rows; r++) h.set(data.subarray(offset + r * rs, offset + r * rs + cols), f + r * cols);
    return [cols, 1];
  }
  if (rs === 1) {
    if (cs === rows || cols === 1) h.set(data.subarray(offset, offset + rows * cols), f);
    else for (let c = 0; c < cols; c++) h.set(data.subarray(offset + c * cs, offset + c * cs + rows), f + c * rows);
    return [1, rows];
  }
  let o = f;
  for (let r = 0; r < rows; r++) for (let c = 0, s = offset + r * rs; c < cols; c++, s += cs) h[o++] = data[s];
  return [cols, 1];
}

/** Splits n columns into `parts` ranges whose starts are multiples of 8 (C tiles never straddle two parts). */
function splitColumns(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  const step = Math.ceil(n / parts / 8) * 8;
  for (let j = 0; j < n; j += step) out.push([j, Math.min(n, j + step)]);
  return out;
}

function threadsFor(m: SgemmModule, macs: number): number {
  return macs >= PARALLEL_MACS ? m.threads : 1;
}

/**
 * C[M×N] (row stride ldc, from cOff) = A·B, plus the existing C when `accumulate`, on the WASM kernels.
 * `budget` overrides the staging budgets (floats of A; of B + C), so tests can reach the chunked path.
 */
export function sgemmWasm(m: SgemmModule, M: number, N: number, K: number, A: StridedView, B: StridedView,
  C: Float32Array, cOff: number, ldc: number, accumulate: boolean, budget = { a: A_BUDGET, bc: BC_BUDGET }): void {
  if (M === 0 || N === 0) return;
  if (K === 0) {
    if (!accumulate) for (let i = 0; i < M; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + N);
    return;
  }
  const mb = Math.min(M, Math.max(4, Math.floor(budget.a / K) & ~3));
  const nb = Math.min(N, Math.max(8, Math.floor(budget.bc / (K + mb + 4)) & ~7));
  for (let i0 = 0; i0 < M; i0 += mb) {
    const mc = Math.min(mb, M - i0);
    const Ai = { ...A, offset: A.offset + i0 * A.rowStride };
    for (let j0 = 0; j0 < N; j0 += nb) {
      const nc = Math.min(nb, N - j0);
      block(m, mc, nc, K, Ai, { ...B, offset: B.offset + j0 * B.colStride }, C, cOff + i0 * ldc + j0, ldc, accumulate);
    }
  }
}

function block(m: SgemmModule, M: number, N: number, K: number, A: StridedView, B: StridedView,
  C: Float32Array, cOff: number, ldc: number, accumulate: boolean): void {
  const mPad = (M + 3) & ~3, ldcB = (N + 7) & ~7;
  const threads = threadsFor(m, M * N * K);
  m.resetScratch();
  const pa = m.scratch(M * K * 4), pb = m.scratch(K * N * 4), pc = m.scratch(mPad * ldcB * 4);
  const work = Array.from({ length: threads }, () => m.scratch(m.workFloats * 4));
  let h = m.heap();
  const [ars, acs] = stage(h, pa >> 2, A, M, K);
  const [brs, bcs] = stage(h, pb >> 2, B, K, N);
  const c0 = pc >> 2;
  if (accumulate) {
    for (let i = 0; i < M; i++) h.set(C.subarray(cOff + i * ldc, cOff + i * ldc + N), c0 + i * ldcB);
  } else {
    h.fill(0, c0, c0 + mPad * ldcB);
  }
  const parts: KernelCall[][] = splitColumns(N, threads).map(([j0, j1], t) =>
    [[SGEMM, M, j1 - j0, K, pa, ars, acs, pb + j0 * bcs * 4, brs, bcs, pc + j0 * 4, ldcB, work[t]]]);
  m.parallel(parts);
  h = m.heap();
  if (ldc === N && ldcB === N) C.set(h.subarray(c0, c0 + M * N), cOff);
  else for (let i = 0; i < M; i++) C.set(h.subarray(c0 + i * ldcB, c0 + i * ldcB + N), cOff + i * ldc);
}

/** 2-D convolution geometry for convWasm (1-D convolutions pass H = KH = 1). */
export interface ConvGeometry {
  H: number; W: number; KH: number; KW: number;
  sh: number; sw: number; dh: number; dw: number;
  /** Leading padding of each axis (the trailing padding is implied by OH, OW). */
  ph: number; pw: number;
  OH: number; OW: number;
}

/**
 * y[N×M×OH·OW] = conv(x[N×C×H×W], w[M×C/group×KH×KW]) + bias, on the WASM kernels: im2col in the module's
 * memory over several images at once (columns = image-major output positions), then the GEMM into C rows
 * that start at the bias; each thread lowers and multiplies its own columns of a chunk.
 */
export function convWasm(m: SgemmModule, xd: Float32Array, N: number, C: number, wd: Float32Array, M: number, group: number,
  g: ConvGeometry, y: Float32Array, bias?: Float32Array): void {
  const Cg = C / group, Mg = M / group;
  if (winogradFits(g, Cg, Mg)) { winogradConv(m, xd, N, C, wd, M, group, g, y, bias); return; }
  const inPlane = g.H * g.W, P = g.OH * g.OW, Q = N * P;
  const K = Cg * g.KH * g.KW;
  if (Q === 0 || Mg === 0) return;
  if (K === 0) {
    for (let n = 0; n < N; n++) for (let r = 0; r < M; r++) y.fill(bias ? bias[r] : 0, (n * M + r) * P, (n * M + r + 1) * P);
    return;
  }
  const chunk = Math.min(Q, Math.max(8, Math.floor(Math.min(COL_BUDGET / K, BC_BUDGET / Math.max(1, Mg))) & ~7));
  const threads = threadsFor(m, Mg * K * chunk);
  const mPad = (Mg + 3) & ~3, ldcMax = (chunk + 7) & ~7;
  m.resetScratch();
  const px = m.scratch(N * C * inPlane * 4), pw = m.scratch(M * K * 4), pcol = m.scratch(K * ldcMax * 4);
  const pc = m.scratch(mPad * ldcMax * 4);
  const work = Array.from({ length: threads }, () => m.scratch(m.workFloats * 4));
  let h = m.heap();
  h.set(xd.subarray(0, N * C * inPlane), px >> 2);
  h.set(wd.subarray(0, M * K), pw >> 2);
  const c0 = pc >> 2;
  for (let gi = 0; gi < group; gi++) {
    const xg = px + gi * Cg * inPlane * 4, wg = pw + gi * Mg * K * 4;
    for (let q0 = 0; q0 < Q; q0 += chunk) {
      const cols = Math.min(chunk, Q - q0), ldc = (cols + 7) & ~7;
      h = m.heap();
      if (bias) for (let r = 0; r < Mg; r++) h.fill(bias[gi * Mg + r], c0 + r * ldc, c0 + (r + 1) * ldc);
      else h.fill(0, c0, c0 + Mg * ldc);
      h.fill(0, c0 + Mg * ldc, c0 + mPad * ldc); // padding rows: no stale values (denormals) in the tile sums
      // part t lowers columns [j0, j1) into its own K × (j1 − j0) slice of the col buffer
      const parts: KernelCall[][] = splitColumns(cols, threads).map(([j0, j1], t) => {
        const col = pcol + K * j0 * 4;
        return [
          [IM2COL, xg, C * inPlane, Cg, g.H, g.W, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.ph, g.pw, g.OH, g.OW, q0 + j0, j1 - j0, col],
          [SGEMM, Mg, j1 - j0, K, wg, K, 1, col, j1 - j0, 1, pc + j0 * 4, ldc, work[t]],
        ];
      });
      m.parallel(parts);
      h = m.heap();
      // scatter the image-major columns back to y[n, gi·Mg + r, p]
      for (let q = q0; q < q0 + cols;) {
        const n = Math.floor(q / P), p = q - n * P, len = Math.min(P - p, q0 + cols - q);
        const yBase = (n * M + gi * Mg) * P + p, cBase = c0 + q - q0;
        // short rows (late layers: 7×7 planes) copy faster element by element than through a subarray view
        if (len >= 64) for (let r = 0; r < Mg; r++) y.set(h.subarray(cBase + r * ldc, cBase + r * ldc + len), yBase + r * P);
        else for (let r = 0; r < Mg; r++) for (let i = 0, s = cBase + r * ldc, d = yBase + r * P; i < len; i++) y[d + i] = h[s + i];
        q += len;
      }
    }
  }
}

/** Winograd F(2×2, 3×3) runs 3×3 stride-1 undilated convolutions with enough channels to repay its transforms. */
function winogradFits(g: ConvGeometry, Cg: number, Mg: number): boolean {
  return g.KH === 3 && g.KW === 3 && g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1 && Cg >= 8 && Mg >= 8
    && g.OH >= 2 && g.OW >= 2 && process.env.QUANTLENS_WINOGRAD !== '0';
}

/** Floats of one thread's Winograd buffers (transformed inputs + the 16 product planes): 8 MB. */
const WINOGRAD_BUDGET = 1 << 21;

/**
 * The Winograd path of convWasm: weights transformed once per call (they may be overridden between runs),
 * then tiles in chunks, each thread transforming, multiplying and back-transforming its own tiles straight
 * into the output in the module's memory.
 */
function winogradConv(m: SgemmModule, xd: Float32Array, N: number, C: number, wd: Float32Array, M: number, group: number,
  g: ConvGeometry, y: Float32Array, bias?: Float32Array): void {
  const Cg = C / group, Mg = M / group;
  const inPlane = g.H * g.W, P = g.OH * g.OW, K = Cg * 9;
  const tiles = N * ((g.OH + 1) >> 1) * ((g.OW + 1) >> 1);
  const mPad = (Mg + 3) & ~3;
  const tcMax = Math.min(Math.ceil(tiles / m.threads / 8) * 8, Math.max(8, Math.floor(WINOGRAD_BUDGET / (16 * (Cg + mPad))) & ~7));
  const threads = threadsFor(m, Mg * Cg * 16 * Math.min(tiles, tcMax * m.threads));
  m.resetScratch();
  const px = m.scratch(N * C * inPlane * 4), pw = m.scratch(M * K * 4), pu = m.scratch(16 * Mg * Cg * 4);
  const py = m.scratch(N * M * P * 4), pb = bias ? m.scratch(M * 4) : 0;
  const bufs = Array.from({ length: threads }, () => ({
    v: m.scratch(16 * Cg * tcMax * 4), mb: m.scratch(16 * mPad * tcMax * 4), work: m.scratch(m.workFloats * 4),
  }));
  let h = m.heap();
  h.set(xd.subarray(0, N * C * inPlane), px >> 2);
  h.set(wd.subarray(0, M * K), pw >> 2);
  if (bias) h.set(bias.subarray(0, M), pb >> 2);
  for (let gi = 0; gi < group; gi++) {
    const pairs = Mg * Cg;
    m.parallel(splitColumns(pairs, threadsFor(m, pairs * 64)).map(([p0, p1]) => [[WINOGRAD_WEIGHTS, pw + gi * Mg * K * 4, pairs, p0, p1, pu]]));
    const xg = px + gi * Cg * inPlane * 4, yg = py + gi * Mg * P * 4, bg = bias ? pb + gi * Mg * 4 : 0;
    for (let t0 = 0; t0 < tiles; t0 += tcMax * threads) {
      const parts: KernelCall[][] = [];
      for (let t = 0, s = t0; t < threads && s < tiles; t++, s += tcMax) {
        const b = bufs[t];
        parts.push([[WINOGRAD, xg, C * inPlane, Cg, g.H, g.W, g.ph, g.pw, g.OH, g.OW, pu, Mg, bg, yg, M * P, s, Math.min(tcMax, tiles - s), b.v, b.mb, b.work]]);
      }
      m.parallel(parts);
    }
  }
  h = m.heap();
  y.set(h.subarray(py >> 2, (py >> 2) + N * M * P));
}

/** 2-D max pooling of `planes` float32 h×w planes into `out` (planes·oh·ow), on the calling thread. */
export function maxPoolWasm(m: SgemmModule, x: Float32Array, planes: number, h: number, w: number, kernel: readonly number[],
  strides: readonly number[], dilations: readonly number[], padBegin: readonly number[], oh: number, ow: number, out: Float32Array): void {
  m.resetScratch();
  const xp = m.scratch(x.length * 4), yp = m.scratch(out.length * 4);
  m.heap().set(x, xp / 4);
  m.k.maxpool2d_f32(xp, planes, h, w, kernel[0], kernel[1], strides[0], strides[1], dilations[0], dilations[1], padBegin[0], padBegin[1], oh, ow, yp);
  out.set(m.heap().subarray(yp / 4, yp / 4 + out.length));
}
