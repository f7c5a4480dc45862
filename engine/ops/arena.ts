// SPDX-License-Identifier: Apache-2.0
/**
 * Buffer reuse driven by liveness: while the executor (engine/executor/run.ts) runs a node, the hot ops allocate their float outputs from the
 * current arena; when the executor releases a value after its last reader, the buffer goes back to the arena (once no
 * other live value aliases it) and the next node asking for the same length reuses it. Only buffers the arena handed
 * out are ever recycled, so constants, feeds, kernel-owned memory and returned outputs are never touched.
 */

export class Arena {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly born = new WeakSet<Float32Array>();
  /** Live values per buffer (Reshape/Identity outputs alias their input's storage). */
  private readonly refs = new Map<Float32Array, number>();
  reused = 0;

  /** A Float32Array of length n, zero-filled when `zero` (fresh arrays always are). */
  take(n: number, zero: boolean): Float32Array {
    const list = this.free.get(n);
    const buf = list?.pop();
    if (buf) {
      this.reused++;
      if (zero) buf.fill(0);
      return buf;
    }
    const fresh = new Float32Array(n);
    this.born.add(fresh);
    return fresh;
  }

  /** Counts one more live value over `data`. */
  retain(data: unknown): void {
    if (data instanceof Float32Array && this.born.has(data)) this.refs.set(data, (this.refs.get(data) ?? 0) + 1);
  }

  /** One live value over `data` is gone; recycles the buffer when it was the last. */
  release(data: unknown): void {
    if (!(data instanceof Float32Array) || !this.born.has(data)) return;
    const n = (this.refs.get(data) ?? 1) - 1;
    if (n > 0) { this.refs.set(data, n); return; }
    this.refs.delete(data);
    const list = this.free.get(data.length) ?? [];
    list.push(data);
    this.free.set(data.length, list);
  }

  /** Stops recycling `data` (it escapes to the caller as an output or tap). */
  pin(data: unknown): void {
    if (data instanceof Float32Array) { this.born.delete(data); this.refs.delete(data); }
  }
}

let current: Arena | undefined;

/** Makes `arena` the allocation source for ops until the returned function is called. */
export function useArena(arena: Arena | undefined): () => void {
  const prev = current;
  current = arena;
  return () => { current = prev; };
}

/** A Float32Array for an op's output: from the running program's arena, or fresh outside a run. */
export function allocF32(n: number, zero = true): Float32Array {
  return current ? current.take(n, zero) : new Float32Array(n);
}
