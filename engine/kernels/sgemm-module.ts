// SPDX-License-Identifier: Apache-2.0
/**
 * The FP32 kernel module (dist/wasm/fp32-{simd,relaxed}.wasm, built from engine/wasm/assembly/fp32.ts) in a
 * shared WebAssembly.Memory, plus worker threads that instantiate the same module on the same memory. A
 * product is split into column (or row) parts: part 0 runs on the calling thread, part t on worker t; they
 * meet again through Atomics on a small control block, so each call stays synchronous for the executor.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { QuantLensError } from '../errors';
import { defaultSimdLevel, relaxedSimdSupported } from './wasm-module';
import type { SimdLevel } from './wasm-module';

/** The exported kernel functions (pointers are byte offsets into the shared memory). */
export interface SgemmExports {
  heap_base(): number;
  sgemm_work_floats(): number;
  sgemm_f32(m: number, n: number, k: number, a: number, ars: number, acs: number, b: number, brs: number, bcs: number, c: number, ldc: number, work: number): void;
  im2col_f32(x: number, imageStride: number, c: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, oh: number, ow: number, q0: number, cols: number, dst: number): void;
  winograd_weights(w: number, pairs: number, p0: number, p1: number, u: number): void;
  winograd_conv(x: number, imageStride: number, c: number, h: number, w: number, pt: number, pl: number, oh: number, ow: number,
    u: number, m: number, bias: number, y: number, yImageStride: number, t0: number, tc: number, v: number, mb: number, work: number): void;
  maxpool2d_f32(x: number, planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number,
    pt: number, pl: number, oh: number, ow: number, y: number): void;
}

/** Kernel calls a worker can run, by index. */
export const SGEMM = 0;
export const IM2COL = 1;
export const WINOGRAD = 2;
export const WINOGRAD_WEIGHTS = 3;
/** One kernel call: [function index, ...integer arguments]. */
export type KernelCall = number[];

const FNS = ['sgemm_f32', 'im2col_f32', 'winograd_conv', 'winograd_weights'] as const;
/**
 * Per worker: [0] job sequence (−1 = exit), [1] finished sequence, [2] status (0 ok, 1 failed), [3] calls,
 * [4] 1 once the worker runs, then the calls from CALLS_AT.
 */
const CTL_INTS = 128;
const CALLS_AT = 8;
/** How long a new worker may take to start before its parts run on the calling thread instead. */
const START_MS = 10_000;
const PAGE = 65536;
const MAX_THREADS = 4;

// Plain JavaScript run by each worker (eval: no separate file to bundle or locate).
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctl: ctlPtr, names } = workerData;
const exp = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = names.map((n) => exp[n]);
const ctl = new Int32Array(memory.buffer, ctlPtr, ${CTL_INTS});
Atomics.store(ctl, 4, 1);
Atomics.notify(ctl, 4);
let seen = 0;
for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  if (seen < 0) break;
  let status = 0;
  try {
    for (let c = 0, o = ${CALLS_AT}, n = ctl[3]; c < n; c++) {
      const len = ctl[o + 1];
      fns[ctl[o]](...ctl.subarray(o + 2, o + 2 + len));
      o += 2 + len;
    }
  } catch (e) {
    status = 1;
  }
  Atomics.store(ctl, 2, status);
  Atomics.store(ctl, 1, seen);
  Atomics.notify(ctl, 1);
}
`;

function wasmFile(level: SimdLevel): string {
  const name = `fp32-${level}.wasm`;
  const candidates = [path.join(__dirname, 'wasm'), path.join(__dirname, '..', 'wasm'), path.join(__dirname, '..', '..', 'dist', 'wasm')];
  for (const c of candidates) if (existsSync(path.join(c, name))) return path.join(c, name);
  throw new QuantLensError('io', `FP32 GEMM kernels not found (looked for ${name} in ${candidates.join(', ')}); run "npm run build"`);
}

const compiled = new Map<SimdLevel, WebAssembly.Module>();

/** Threads used when none are requested: QUANTLENS_THREADS, else the available cores (at most 4). */
export function defaultThreads(): number {
  const forced = Number(process.env.QUANTLENS_THREADS);
  const n = Number.isInteger(forced) && forced > 0 ? forced : availableParallelism();
  return Math.max(1, Math.min(MAX_THREADS, n));
}

/** One FP32 GEMM instance: shared memory, exports, a scratch allocator and `threads − 1` workers. */
export class SgemmModule {
  readonly memory: WebAssembly.Memory;
  readonly k: SgemmExports;
  readonly level: SimdLevel;
  readonly threads: number;
  readonly workFloats: number;
  private readonly base: number;
  private top: number;
  private readonly workers: { worker: Worker; ctl: Int32Array; seq: number }[] = [];
  private heapView = new Float32Array(0);

  constructor(level: SimdLevel = defaultSimdLevel(), threads = defaultThreads()) {
    if (level === 'relaxed' && !relaxedSimdSupported()) {
      throw new QuantLensError('usage', 'relaxed SIMD kernels requested but this runtime does not support relaxed SIMD (Node 20: --experimental-wasm-relaxed-simd)');
    }
    this.level = level;
    let mod = compiled.get(level);
    if (!mod) { mod = new WebAssembly.Module(readFileSync(wasmFile(level))); compiled.set(level, mod); }
    this.memory = new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true });
    this.k = new WebAssembly.Instance(mod, { env: { memory: this.memory } }).exports as unknown as SgemmExports;
    this.workFloats = this.k.sgemm_work_floats();
    let p = (this.k.heap_base() + 15) & ~15;
    for (let t = 1; t < Math.max(1, Math.floor(threads)); t++) {
      const ctl = new Int32Array(this.memory.buffer, p, CTL_INTS);
      try {
        const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: mod, memory: this.memory, ctl: p, names: FNS } });
        worker.unref();
        this.workers.push({ worker, ctl, seq: 0 });
      } catch {
        break; // no worker threads here: the parts run on this thread
      }
      p += CTL_INTS * 4;
    }
    for (const w of [...this.workers]) {
      // a worker that cannot start would leave its parts waiting forever
      if (Atomics.wait(w.ctl, 4, 0, START_MS) === 'timed-out' && Atomics.load(w.ctl, 4) !== 1) {
        void w.worker.terminate();
        this.workers.splice(this.workers.indexOf(w), 1);
      }
    }
    this.threads = this.workers.length + 1;
    this.base = p;
    this.top = p;
  }

  /** Forgets all scratch blocks. */
  resetScratch(): void {
    this.top = this.base;
  }

  /** A 16-byte aligned scratch block, valid until the next resetScratch(). */
  scratch(bytes: number): number {
    const p = this.top;
    this.top = (p + bytes + 15) & ~15;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) this.memory.grow(Math.ceil((this.top - have) / PAGE));
    return p;
  }

  /** A Float32Array over the whole memory (renewed after growth). */
  heap(): Float32Array {
    const buf = this.memory.buffer;
    if (this.heapView.byteLength !== buf.byteLength) this.heapView = new Float32Array(buf);
    return this.heapView;
  }

  /** Runs parts[0] here and parts[t] on worker t concurrently (extra parts run here, after part 0). */
  parallel(parts: KernelCall[][]): void {
    const started: number[] = [];
    for (let t = 1; t < parts.length; t++) {
      const w = this.workers[t - 1];
      if (!w) break;
      let o = CALLS_AT;
      for (const call of parts[t]) {
        if (o + call.length + 1 > CTL_INTS) throw new Error('FP32 GEMM: too many kernel calls for one worker job');
        w.ctl[o] = call[0]; w.ctl[o + 1] = call.length - 1;
        for (let i = 1; i < call.length; i++) w.ctl[o + 1 + i] = call[i];
        o += call.length + 1;
      }
      w.ctl[3] = parts[t].length;
      w.seq = (w.seq + 1) & 0x3fffffff;
      Atomics.store(w.ctl, 0, w.seq);
      Atomics.notify(w.ctl, 0, 1);
      started.push(t);
    }
    let failure: unknown;
    try {
      for (let t = 0; t < parts.length; t++) if (t === 0 || !started.includes(t)) for (const call of parts[t]) this.call(call);
    } catch (e) {
      failure = e;
    }
    for (const t of started) {
      const w = this.workers[t - 1];
      for (;;) {
        const done = Atomics.load(w.ctl, 1);
        if (done === w.seq) break;
        Atomics.wait(w.ctl, 1, done);
      }
      if (w.ctl[2] !== 0) failure ??= new Error(`FP32 GEMM: a kernel call failed on worker thread ${t}`);
    }
    if (failure) throw failure;
  }

  private call(c: KernelCall): void {
    const f = this.k[FNS[c[0]]] as (...a: number[]) => void;
    f(...c.slice(1));
  }

  /** Stops the workers (the module is unusable afterwards). */
  dispose(): void {
    for (const w of this.workers) { Atomics.store(w.ctl, 0, -1); Atomics.notify(w.ctl, 0, 1); }
    this.workers.length = 0;
  }
}
