// SPDX-License-Identifier: Apache-2.0
/**
 * The FP32 matrix multiply under Conv, ConvTranspose, MatMul and Gemm: C = A·B (+ C). It runs on the
 * WebAssembly SIMD kernel (engine/kernels/sgemm-wasm.ts, float32 sums like onnxruntime's MLAS); the TypeScript
 * twin below (cache-blocked with packed panels and a 4×4 register micro-kernel, float64 sums) runs only when
 * the kernels are not built or QUANTLENS_SGEMM=ts asks for it. Strided views let callers multiply transposed
 * operands without copying them first.
 */
import { sgemmBackend, sgemmModule, sgemmWasm } from '../kernels/sgemm-wasm';

export { sgemmBackend };

/** A strided 2-D view: element (r, c) is data[offset + r·rowStride + c·colStride]. */
export interface MatView {
  data: Float32Array;
  offset: number;
  rowStride: number;
  colStride: number;
}

/** A row-major view of `rows`×`cols` starting at `offset`, transposed when `trans` (a view of Aᵀ). */
export function matView(data: Float32Array, offset: number, cols: number, trans = false): MatView {
  return trans ? { data, offset, rowStride: 1, colStride: cols } : { data, offset, rowStride: cols, colStride: 1 };
}

const MR = 4;
const NR = 4;
const KC = 256;
const MC = 64;
const NC = 2048;

// Packing buffers are reused across calls: the executor runs one node at a time on one thread.
let packA = new Float32Array(MC * KC);
let packB = new Float32Array(KC * NC);

/**
 * C[M×N] (row stride ldc, from cOff) = A[M×K]·B[K×N], plus the existing C when `accumulate`.
 */
export function sgemm(M: number, N: number, K: number, A: MatView, B: MatView,
  C: Float32Array, cOff: number, ldc: number, accumulate: boolean): void {
  const mod = process.env.QUANTLENS_SGEMM === 'ts' ? null : sgemmModule();
  if (mod) sgemmWasm(mod, M, N, K, A, B, C, cOff, ldc, accumulate);
  else sgemmTs(M, N, K, A, B, C, cOff, ldc, accumulate);
}

/** The TypeScript GEMM (same contract as sgemm): the fallback, and the tests' reference for the WASM kernel. */
export function sgemmTs(M: number, N: number, K: number, A: MatView, B: MatView,
  C: Float32Array, cOff: number, ldc: number, accumulate: boolean): void {
  if (M === 0 || N === 0) return;
  if (!accumulate) for (let i = 0; i < M; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + N);
  if (K === 0) return;
  if (M < MR) { smallM(M, N, K, A, B, C, cOff, ldc); return; }
  if (packA.length < MC * KC) packA = new Float32Array(MC * KC);
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    const ncPad = Math.ceil(nc / NR) * NR;
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      if (packB.length < kc * ncPad) packB = new Float32Array(kc * ncPad);
      packPanelB(B, pc, jc, kc, nc, packB);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packPanelA(A, ic, pc, mc, kc, packA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir);
            micro(kc, packA, ir * kc, packB, jr * kc, C, cOff + (ic + ir) * ldc + jc + jr, ldc, mr, nr);
          }
        }
      }
    }
  }
}

/** Packs A[ic..ic+mc, pc..pc+kc] as MR-row strips, k-major inside a strip, zero-padded. */
function packPanelA(A: MatView, ic: number, pc: number, mc: number, kc: number, out: Float32Array): void {
  const { data, offset, rowStride: rs, colStride: cs } = A;
  for (let ir = 0; ir < mc; ir += MR) {
    const base = ir * kc;
    for (let r = 0; r < MR; r++) {
      const row = ir + r;
      let o = base + r;
      if (row >= mc) { for (let p = 0; p < kc; p++, o += MR) out[o] = 0; continue; }
      let src = offset + (ic + row) * rs + pc * cs;
      for (let p = 0; p < kc; p++, o += MR, src += cs) out[o] = data[src];
    }
  }
}

/** Packs B[pc..pc+kc, jc..jc+nc] as NR-column strips, k-major inside a strip, zero-padded. */
function packPanelB(B: MatView, pc: number, jc: number, kc: number, nc: number, out: Float32Array): void {
  const { data, offset, rowStride: rs, colStride: cs } = B;
  for (let jr = 0; jr < nc; jr += NR) {
    const base = jr * kc;
    const nr = Math.min(NR, nc - jr);
    for (let p = 0; p < kc; p++) {
      const o = base + p * NR;
      let src = offset + (pc + p) * rs + (jc + jr) * cs;
      if (cs === 1 && nr === NR) {
        for (let c = 0; c < NR; c++) out[o + c] = data[src + c];
      } else {
        for (let c = 0; c < NR; c++, src += cs) out[o + c] = c < nr ? data[src] : 0;
      }
    }
  }
}

/** 4×4 register block (measured faster than 4×8 in V8, which spills the larger tile): C[mr×nr] += Ap·Bp over kc. */
function micro(kc: number, ap: Float32Array, ai: number, bp: Float32Array, bi: number,
  C: Float32Array, co: number, ldc: number, mr: number, nr: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++, ai += 4, bi += 4) {
    const a0 = ap[ai], a1 = ap[ai + 1], a2 = ap[ai + 2], a3 = ap[ai + 3];
    const b0 = bp[bi], b1 = bp[bi + 1], b2 = bp[bi + 2], b3 = bp[bi + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (mr === 4 && nr === 4) {
    let o = co;
    C[o] += c00; C[o + 1] += c01; C[o + 2] += c02; C[o + 3] += c03; o += ldc;
    C[o] += c10; C[o + 1] += c11; C[o + 2] += c12; C[o + 3] += c13; o += ldc;
    C[o] += c20; C[o + 1] += c21; C[o + 2] += c22; C[o + 3] += c23; o += ldc;
    C[o] += c30; C[o + 1] += c31; C[o + 2] += c32; C[o + 3] += c33;
    return;
  }
  const acc = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < mr; r++) for (let c = 0; c < nr; c++) C[co + r * ldc + c] += acc[r * 4 + c];
}

/** Few rows (batch-1 fully-connected layers): stream B once instead of packing it. */
function smallM(M: number, N: number, K: number, A: MatView, B: MatView, C: Float32Array, cOff: number, ldc: number): void {
  const { data: a, offset: ao, rowStride: ars, colStride: acs } = A;
  const { data: b, offset: bo, rowStride: brs, colStride: bcs } = B;
  for (let i = 0; i < M; i++) {
    const crow = cOff + i * ldc;
    if (bcs === 1) {
      // B rows contiguous: C[i,:] += a_ik · B[k,:]
      for (let k = 0; k < K; k++) {
        const av = a[ao + i * ars + k * acs];
        if (av === 0) continue;
        const br = bo + k * brs;
        for (let j = 0; j < N; j++) C[crow + j] += av * b[br + j];
      }
    } else {
      // B columns contiguous (Bᵀ stored row-major, e.g. Gemm transB): dot products.
      for (let j = 0; j < N; j++) {
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        let ai = ao + i * ars;
        let bi = bo + j * bcs;
        let k = 0;
        if (acs === 1 && brs === 1) {
          for (; k + 3 < K; k += 4, ai += 4, bi += 4) {
            s0 += a[ai] * b[bi]; s1 += a[ai + 1] * b[bi + 1]; s2 += a[ai + 2] * b[bi + 2]; s3 += a[ai + 3] * b[bi + 3];
          }
        }
        for (; k < K; k++, ai += acs, bi += brs) s0 += a[ai] * b[bi];
        C[crow + j] += s0 + s1 + s2 + s3;
      }
    }
  }
}
