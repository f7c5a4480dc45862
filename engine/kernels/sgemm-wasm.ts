// SPDX-License-Identifier: Apache-2.0
/**
 * Drives the WebAssembly SIMD FP32 GEMM (engine/wasm/assembly/sgemm.ts) for engine/ops/gemm.ts: copies the
 * operands' strided views into the kernel module's memory (whole rows or columns at a time), lets the kernel
 * pack and multiply, and copies C back. One private kernel instance serves the FP32 ops; it is separate from
 * the quantized kernels' instance so their permanent blocks and per-call scratch never interleave.
 */
import { KernelModule, defaultSimdLevel } from './wasm-module';
import type { SimdLevel } from './wasm-module';
import { QuantLensError } from '../errors';

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

let mod: KernelModule | null | undefined;
let heap = new Float32Array(0);

/** The FP32 GEMM kernel instance, or null when the kernels are not built (the TypeScript GEMM then runs). */
export function sgemmModule(): KernelModule | null {
  if (mod !== undefined) return mod;
  try {
    mod = new KernelModule(defaultSimdLevel());
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

function heapView(m: KernelModule): Float32Array {
  if (heap.buffer !== m.memory.buffer) heap = new Float32Array(m.memory.buffer);
  return heap;
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

/**
 * C[M×N] (row stride ldc, from cOff) = A·B, plus the existing C when `accumulate`, on the WASM kernel `m`.
 * `budget` overrides the staging budgets (floats of A; of B + C), so tests can reach the chunked path.
 */
export function sgemmWasm(m: KernelModule, M: number, N: number, K: number, A: StridedView, B: StridedView,
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

function block(m: KernelModule, M: number, N: number, K: number, A: StridedView, B: StridedView,
  C: Float32Array, cOff: number, ldc: number, accumulate: boolean): void {
  const mPad = (M + 3) & ~3, ldcB = (N + 7) & ~7;
  m.resetScratch();
  const pa = m.scratch(M * K * 4), pb = m.scratch(K * N * 4), pc = m.scratch(mPad * ldcB * 4), work = m.scratch(m.k.sgemm_work_floats() * 4);
  const h = heapView(m);
  const [ars, acs] = stage(h, pa >> 2, A, M, K);
  const [brs, bcs] = stage(h, pb >> 2, B, K, N);
  const c0 = pc >> 2;
  if (accumulate) {
    for (let i = 0; i < M; i++) h.set(C.subarray(cOff + i * ldc, cOff + i * ldc + N), c0 + i * ldcB);
  } else {
    h.fill(0, c0, c0 + mPad * ldcB);
  }
  m.k.sgemm_f32(M, N, K, pa, ars, acs, pb, brs, bcs, pc, ldcB, work);
  const out = heapView(m);
  if (ldc === N && ldcB === N) C.set(out.subarray(c0, c0 + M * N), cOff);
  else for (let i = 0; i < M; i++) C.set(out.subarray(c0 + i * ldcB, c0 + i * ldcB + N), cOff + i * ldc);
}
