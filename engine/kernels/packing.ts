// SPDX-License-Identifier: Apache-2.0
/**
 * Bit packing of weight codes, one k-contiguous row per output column. int8 rows are padded to a multiple
 * of 16 bytes. ≤4-bit codes (unsigned u ∈ [0, 2^bits)) use 16-byte chunks of G = 128/bits consecutive k:
 * byte j of a chunk holds u[k0 + 16·f + j] in bits [f·bits, (f+1)·bits) — int4 two per byte, int2/ternary
 * four per byte, binary eight per byte. The AssemblyScript kernels unpack exactly this layout.
 */

/** Bits a packed code occupies for a format of `bits` bits: 1, 2, 4 pack densely; 3 uses 4; 5..8 use a byte. */
export function containerBits(bits: number): 1 | 2 | 4 | 8 {
  if (bits <= 1) return 1;
  if (bits <= 2) return 2;
  if (bits <= 4) return 4;
  return 8;
}

/** k padded to the container's chunk: 16 for bytes, 128/bits for sub-byte codes. */
export function paddedK(bits: 1 | 2 | 4 | 8, k: number): number {
  const g = bits === 8 ? 16 : 128 / bits;
  return Math.ceil(k / g) * g;
}

/** Packed bytes of one column of k codes. */
export function columnBytes(bits: 1 | 2 | 4 | 8, k: number): number {
  return (paddedK(bits, k) * bits) / 8;
}

/** Storage bytes of `count` codes of `bits` bits, densely packed (the format's nominal size). */
export function formatStorageBytes(bits: number, count: number): number {
  return Math.ceil((count * bits) / 8);
}

/** Packs n columns of k codes (values[j·k + i], each already in the container's range) into n × columnBytes. */
export function packColumns(values: ArrayLike<number>, n: number, k: number, bits: 1 | 2 | 4 | 8): Uint8Array {
  const colBytes = columnBytes(bits, k);
  const out = new Uint8Array(n * colBytes);
  if (bits === 8) {
    for (let j = 0; j < n; j++) for (let i = 0; i < k; i++) out[j * colBytes + i] = values[j * k + i] & 0xff;
    return out;
  }
  const g = 128 / bits;
  const mask = (1 << bits) - 1;
  for (let j = 0; j < n; j++) {
    const base = j * colBytes;
    for (let i = 0; i < k; i++) {
      const v = values[j * k + i];
      if (v < 0 || v > mask) throw new RangeError(`code ${v} does not fit ${bits} bits`);
      const r = i % g;
      out[base + Math.floor(i / g) * 16 + (r & 15)] |= v << ((r >> 4) * bits);
    }
  }
  return out;
}

/** Inverse of packColumns (unsigned codes; int8 rows come back as 0..255). */
export function unpackColumns(packed: Uint8Array, n: number, k: number, bits: 1 | 2 | 4 | 8): Uint8Array {
  const colBytes = columnBytes(bits, k);
  const out = new Uint8Array(n * k);
  const g = bits === 8 ? 16 : 128 / bits;
  const mask = (1 << bits) - 1;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < k; i++) {
      const r = i % g;
      out[j * k + i] = (packed[j * colBytes + Math.floor(i / g) * 16 + (r & 15)] >> ((r >> 4) * bits)) & mask;
    }
  }
  return out;
}

/** k padded for low-bit panels (a multiple of 16, so every 16-byte group holds whole k quads). */
export function lowbitPanelK(k: number): number {
  return Math.ceil(k / 16) * 16;
}

/**
 * Packs n columns of k unsigned codes (values[j·k + i]) into low-bit panels of 8 columns (see
 * engine/wasm/assembly/gemm-lowbit.ts): logical vector 2t+g = [k 4t..4t+3 of columns 8q+4g … 8q+4g+3],
 * stored as field (index mod 8/bits) of 16-byte group ⌊index / (8/bits)⌋. kp·bits bytes per panel.
 */
export function packLowbitPanels(values: ArrayLike<number>, n: number, k: number, bits: 1 | 2 | 4): Uint8Array {
  const kp = lowbitPanelK(k);
  const np = Math.ceil(n / 8);
  const fields = 8 / bits;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(np * kp * bits);
  for (let j = 0; j < n; j++) {
    const q = j >> 3, g = (j >> 2) & 1, col = j & 3;
    for (let i = 0; i < k; i++) {
      const v = values[j * k + i];
      if (v < 0 || v > mask) throw new RangeError(`code ${v} does not fit ${bits} bits`);
      const idx = 2 * (i >> 2) + g;
      const byte = q * kp * bits + Math.floor(idx / fields) * 16 + col * 4 + (i & 3);
      out[byte] |= v << ((idx % fields) * bits);
    }
  }
  return out;
}

/** Inverse of packLowbitPanels: n × k codes. */
export function unpackLowbitPanels(packed: Uint8Array, n: number, k: number, bits: 1 | 2 | 4): Uint8Array {
  const kp = lowbitPanelK(k);
  const fields = 8 / bits;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(n * k);
  for (let j = 0; j < n; j++) {
    const q = j >> 3, g = (j >> 2) & 1, col = j & 3;
    for (let i = 0; i < k; i++) {
      const idx = 2 * (i >> 2) + g;
      out[j * k + i] = (packed[q * kp * bits + Math.floor(idx / fields) * 16 + col * 4 + (i & 3)] >> ((idx % fields) * bits)) & mask;
    }
  }
  return out;
}

/** k padded for LUT weights (a multiple of 8: pairs of 4-k groups share a byte). */
export function lutK(k: number): number {
  return Math.ceil(k / 8) * 8;
}

/**
 * Packs n columns of k unsigned codes as bit planes for the LUT kernel (engine/wasm/assembly/gemm-lut.ts):
 * blocks of 16 columns; per block, plane β and pair of 4-k groups h, 16 bytes (one per column) holding the
 * 4-bit index of bits β of group 2h (low nibble) and 2h+1 (high nibble). bits/8 bytes per weight.
 */
export function packLutPlanes(values: ArrayLike<number>, n: number, k: number, bits: 1 | 2 | 4): Uint8Array {
  const kp = lutK(k);
  const nb = Math.ceil(n / 16);
  const pairs = kp / 8;
  const out = new Uint8Array(nb * bits * pairs * 16);
  for (let j = 0; j < n; j++) {
    const b = j >> 4, col = j & 15;
    for (let i = 0; i < k; i++) {
      const v = values[j * k + i];
      if (v < 0 || v >= 1 << bits) throw new RangeError(`code ${v} does not fit ${bits} bits`);
      const g = i >> 2, h = g >> 1, nibShift = (g & 1) * 4 + (i & 3);
      for (let beta = 0; beta < bits; beta++) {
        if ((v >> beta) & 1) out[((b * bits + beta) * pairs + h) * 16 + col] |= 1 << nibShift;
      }
    }
  }
  return out;
}
