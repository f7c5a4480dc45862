// SPDX-License-Identifier: Apache-2.0
/**
 * Loads the AssemblyScript kernel module (dist/wasm/kernels-{simd,relaxed}.wasm, built by scripts/build-wasm.mjs)
 * into one WebAssembly.Memory per engine instance, and hands out memory: permanent blocks (packed weights,
 * allocated once at compile time, released when the node that owns them is garbage-collected) come from a
 * first-fit free list below `top`; per-call scratch lives above them and is reset on every call.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { QuantLensError } from '../errors';

/** Which SIMD build runs: plain WASM SIMD, or relaxed SIMD (needs a runtime that validates it). */
export type SimdLevel = 'simd' | 'relaxed';

/** The exported kernel functions (pointers are byte offsets into the module's memory). */
export interface KernelExports {
  heap_base(): number;
  relaxed_build(): number;
  quantize_rows(x: number, rows: number, k: number, kp: number, out: number, scale: number, zp: number, qmin: number, qmax: number, flip: number): void;
  row_sums(a: number, rows: number, k: number, stride: number, signed: number, out: number): void;
  im2col(src: number, c: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, padTop: number, padLeft: number, dh: number, dw: number, oh: number, ow: number, kp: number, padByte: number, dst: number): void;
  gemm_panels(s: number, m: number, kp: number, p: number, np: number, signedP: number, c: number, ldc: number): void;
  pack_s16(src: number, m: number, kp: number, stride: number, signed: number, dst: number): void;
  panel_col_sums(p: number, np: number, kp: number, signed: number, out: number): void;
  im2col_panels(src: number, batch: number, imageStride: number, c: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, padTop: number, padLeft: number, dh: number, dw: number, oh: number, ow: number, kp: number, padByte: number, tmp: number, dst: number): void;
  depthwise_conv(x: number, c: number, h: number, w: number, signedX: number, za: number, wts: number, wstride: number, zw: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, pb: number, pr: number, dh: number, dw: number, oh: number, ow: number, pad: number, out: number): void;
  gemm_lut(a: number, m: number, kp: number, w: number, nb: number, bits: number, tab: number, c: number, ldc: number): void;
  unpack_lowbit(w: number, np: number, kp: number, bits: number, dst: number): void;
  gemm_lowbit_relaxed(a: number, m: number, kp: number, w: number, np: number, bits: number, c: number, ldc: number): void;
  lowbit_signed_activations(): number;
  finish_dequant(c: number, m: number, n: number, ldc: number, k: number, actSum: number, za: number, wSum: number, zw: number, gain: number, bias: number, scale: number, out: number, osm: number, osn: number, actRows: number,
    affK: number, affB: number, act: number, p: number, q: number): void;
  wino_int_weights(w: number, cout: number, cin: number, wstride: number, zw: number, kp: number, dst: number): void;
  wino_int_input(x: number, cin: number, h: number, w: number, signedX: number, za: number, pt: number, pl: number, th: number, tw4: number, kp: number, pad: number, dst: number): void;
  wino_int_output(m: number, cout: number, ldm: number, th: number, tw4: number, oh: number, ow: number, out: number): void;
  gemm_panels16(s: number, m: number, kp: number, p: number, np: number, c: number, ldc: number): void;
  finish_requant(c: number, m: number, n: number, ldc: number, k: number, actSum: number, za: number, wSum: number, zw: number, gain: number, bias: number, mult: number, zy: number, qmin: number, qmax: number, out: number, osm: number, osn: number, actRows: number): void;
  decode_cols(packed: number, colBytes: number, bits: number, n0: number, ncols: number, k: number, kp: number, lut: number, scales: number, zps: number, nb: number, bs: number, dst: number): void;
  gemm_f32(x: number, m: number, kp: number, wdec: number, ncols: number, out: number, ldo: number, n0: number): void;
}

// (module (func (param v128 v128) (result v128) local.get 0 local.get 1 i16x8.relaxed_dot_i8x16_i7x16_s))
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7b, 0x7b, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x0b, 0x01, 0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0xfd, 0x92, 0x02, 0x0b,
]);

/** True when this runtime accepts relaxed SIMD (Node 20 only with --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(RELAXED_PROBE);
}

const moduleCache = new Map<SimdLevel, WebAssembly.Module>();

function wasmDir(): string {
  const candidates = [path.join(__dirname, 'wasm'), path.join(__dirname, '..', 'wasm'), path.join(__dirname, '..', '..', 'dist', 'wasm')];
  for (const c of candidates) if (existsSync(path.join(c, 'kernels-simd.wasm'))) return c;
  throw new QuantLensError('io', `engine kernels not found (looked for kernels-simd.wasm in ${candidates.join(', ')}); run "npm run build"`);
}

function compiled(level: SimdLevel): WebAssembly.Module {
  let m = moduleCache.get(level);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(path.join(wasmDir(), level === 'relaxed' ? 'kernels-relaxed.wasm' : 'kernels-simd.wasm')));
    moduleCache.set(level, m);
  }
  return m;
}

/** The level used when none is requested: QUANTLENS_WASM_SIMD=simd|relaxed, else relaxed when supported. */
export function defaultSimdLevel(): SimdLevel {
  const forced = process.env.QUANTLENS_WASM_SIMD;
  if (forced === 'simd' || forced === 'relaxed') return forced;
  return relaxedSimdSupported() ? 'relaxed' : 'simd';
}

const PAGE = 65536;
const align16 = (n: number) => (n + 15) & ~15;

/** One kernel instance: its memory, its exports, and a bump allocator (permanent blocks + resettable scratch). */
export class KernelModule {
  readonly memory: WebAssembly.Memory;
  readonly k: KernelExports;
  readonly level: SimdLevel;
  private top: number;
  private scratchTop: number;
  private readonly base: number;
  /** Released permanent blocks, sorted by address, adjacent ones merged. */
  private readonly freeList: { p: number; n: number }[] = [];
  private readonly sizes = new Map<number, number>();
  private tracking: number[] | null = null;
  /** The blocks of the last track() call, also when fn threw. */
  lastTracked: number[] = [];

  constructor(level: SimdLevel = defaultSimdLevel()) {
    if (level === 'relaxed' && !relaxedSimdSupported()) {
      throw new QuantLensError('usage', 'relaxed SIMD kernels requested but this runtime does not support relaxed SIMD (Node 20: --experimental-wasm-relaxed-simd)');
    }
    this.level = level;
    this.memory = new WebAssembly.Memory({ initial: 16 });
    const inst = new WebAssembly.Instance(compiled(level), { env: { memory: this.memory } });
    this.k = inst.exports as unknown as KernelExports;
    this.top = align16(this.k.heap_base());
    this.base = this.top;
    this.scratchTop = this.top;
  }

  /** Bytes currently held by permanent blocks (packed weights, per-channel parameters). */
  get permanentBytes(): number {
    let n = 0;
    for (const v of this.sizes.values()) n += v;
    return n;
  }

  /** Runs fn and returns the permanent blocks it allocated (so their owner can release them later). */
  track<T>(fn: () => T): { value: T; blocks: number[] } {
    const outer = this.tracking;
    const blocks: number[] = [];
    this.tracking = blocks;
    this.lastTracked = blocks;
    try {
      return { value: fn(), blocks };
    } finally {
      this.tracking = outer;
      outer?.push(...blocks);
    }
  }

  /** Returns a permanent block to the free list. */
  release(p: number): void {
    const n = this.sizes.get(p);
    if (n === undefined) return;
    this.sizes.delete(p);
    const fl = this.freeList;
    let i = 0;
    while (i < fl.length && fl[i].p < p) i++;
    fl.splice(i, 0, { p, n });
    // merge with the following and the preceding block
    if (i + 1 < fl.length && fl[i].p + fl[i].n === fl[i + 1].p) { fl[i].n += fl[i + 1].n; fl.splice(i + 1, 1); }
    if (i > 0 && fl[i - 1].p + fl[i - 1].n === fl[i].p) { fl[i - 1].n += fl[i].n; fl.splice(i, 1); i--; }
    // a free block that ends at the top goes back to the bump region
    const last = fl[fl.length - 1];
    if (last && last.p + last.n === this.top) { this.top = last.p; fl.pop(); }
    if (this.top < this.base) this.top = this.base;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
  }

  /** A permanent block (weights packed at compile time), kept until release(p). */
  alloc(bytes: number): number {
    const n = align16(Math.max(1, bytes));
    let p = -1;
    for (let i = 0; i < this.freeList.length; i++) {
      const b = this.freeList[i];
      if (b.n < n) continue;
      p = b.p;
      if (b.n === n) this.freeList.splice(i, 1);
      else { b.p += n; b.n -= n; }
      break;
    }
    if (p < 0) {
      p = this.top;
      this.top = p + n;
      this.ensure(this.top);
    }
    if (this.scratchTop < this.top) this.scratchTop = this.top;
    this.sizes.set(p, n);
    this.tracking?.push(p);
    return p;
  }

  /** Forgets all scratch blocks; call at the start of every kernel call. */
  resetScratch(): void {
    this.scratchTop = this.top;
  }

  /** The current scratch position, to release blocks allocated after it (scratchRelease). */
  scratchMark(): number {
    return this.scratchTop;
  }

  /** Frees scratch blocks allocated since `mark`. */
  scratchRelease(mark: number): void {
    this.scratchTop = mark;
  }

  /** A scratch block, valid until the next resetScratch(). */
  scratch(bytes: number): number {
    const p = this.scratchTop;
    this.scratchTop = align16(p + bytes);
    this.ensure(this.scratchTop);
    return p;
  }

  /** Copies bytes into memory at p (views are made fresh: growing the memory detaches old ones). */
  put(p: number, data: Uint8Array | Int8Array | Int32Array | Float32Array): void {
    new Uint8Array(this.memory.buffer, p, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  u8(p: number, n: number): Uint8Array { return new Uint8Array(this.memory.buffer, p, n); }
  i32(p: number, n: number): Int32Array { return new Int32Array(this.memory.buffer, p, n); }
  f32(p: number, n: number): Float32Array { return new Float32Array(this.memory.buffer, p, n); }
}

let shared: KernelModule | undefined;

/** The process-wide default instance (used by createQuantizedNode when no engine instance is given). */
export function sharedKernelModule(): KernelModule {
  shared ??= new KernelModule();
  return shared;
}
