// SPDX-License-Identifier: Apache-2.0
// Lookup-table GEMM for ≤4-bit weights (T-MAC style): for each activation row and each group of 4 consecutive
// k, a 16-entry table holds the sum of every subset of the 4 activations (0..1020, split into a low-byte and a
// high-byte table). Weights are bit planes: per plane β, column j and group g a 4-bit index of the bits β of
// the 4 codes. Then Σ_k a·u = Σ_β 2^β Σ_g T_g[idx_β(j, g)], and i8x16.swizzle looks up 16 columns at once.
// Weight layout: blocks of 16 columns; per block, per plane, per pair of groups h, 16 bytes (one per column)
// with group 2h in the low nibble and 2h+1 in the high nibble. kp is a multiple of 8. Activations are
// unsigned bytes (rows of kp). Results are exact int32 (same as the other integer kernels).
// Scalar twin: engine/kernels/reference.ts (gemmLowbitRef with unsigned activations).

// Partial sums stay in 16 bits (low bytes) and 8 bits (high bytes, ≤ 3 per group) for this many groups.
const GROUPS_PER_FLUSH: i32 = 64;

/** Builds the low/high byte tables of one activation row: kp/4 groups × 32 bytes at tab. */
function buildTables(a: usize, kp: i32, tab: usize): void {
  const groups = kp >> 2;
  for (let g = 0; g < groups; g++) {
    const x = a + <usize>g * 4;
    const a0 = <i32>load<u8>(x), a1 = <i32>load<u8>(x, 1), a2 = <i32>load<u8>(x, 2), a3 = <i32>load<u8>(x, 3);
    const t = tab + <usize>g * 32;
    for (let p = 0; p < 16; p++) {
      const v = (p & 1 ? a0 : 0) + (p & 2 ? a1 : 0) + (p & 4 ? a2 : 0) + (p & 8 ? a3 : 0);
      store<u8>(t + p, <u8>v);
      store<u8>(t + 16 + p, <u8>(v >> 8));
    }
  }
}

@inline function flush(c: usize, lo0: v128, lo1: v128, hi: v128, shift: i32): void {
  const h0 = i16x8.extend_low_i8x16_u(hi), h1 = i16x8.extend_high_i8x16_u(hi);
  // value = lo + 256·hi, for 16 columns, times 2^shift, added to C
  const v0 = i32x4.add(i32x4.extend_low_i16x8_u(lo0), i32x4.shl(i32x4.extend_low_i16x8_u(h0), 8));
  const v1 = i32x4.add(i32x4.extend_high_i16x8_u(lo0), i32x4.shl(i32x4.extend_high_i16x8_u(h0), 8));
  const v2 = i32x4.add(i32x4.extend_low_i16x8_u(lo1), i32x4.shl(i32x4.extend_low_i16x8_u(h1), 8));
  const v3 = i32x4.add(i32x4.extend_high_i16x8_u(lo1), i32x4.shl(i32x4.extend_high_i16x8_u(h1), 8));
  v128.store(c, i32x4.add(v128.load(c), i32x4.shl(v0, shift)));
  v128.store(c, i32x4.add(v128.load(c, 16), i32x4.shl(v1, shift)), 16);
  v128.store(c, i32x4.add(v128.load(c, 32), i32x4.shl(v2, shift)), 32);
  v128.store(c, i32x4.add(v128.load(c, 48), i32x4.shl(v3, shift)), 48);
}

/**
 * C[i·ldc + j] = Σ_k A[i,k]·u[k,j] for m unsigned activation rows (stride kp) and nb blocks of 16 columns of
 * `bits`-plane LUT weights; tab is scratch of kp·8 bytes; C rows hold nb·16 columns.
 */
export function gemm_lut(a: usize, m: i32, kp: i32, w: usize, nb: i32, bits: i32, tab: usize, c: usize, ldc: i32): void {
  const groups = kp >> 2;
  const planeBytes = <usize>(groups >> 1) * 16;
  const blockBytes = planeBytes * <usize>bits;
  const low = i8x16.splat(0x0f);
  memory.fill(c, 0, <usize>m * <usize>ldc * 4);
  for (let i = 0; i < m; i++) {
    buildTables(a + <usize>i * <usize>kp, kp, tab);
    const crow = c + <usize>i * <usize>ldc * 4;
    for (let b = 0; b < nb; b++) {
      const cb = crow + <usize>b * 64;
      for (let beta = 0; beta < bits; beta++) {
        const wp = w + <usize>b * blockBytes + <usize>beta * planeBytes;
        let lo0 = i16x8.splat(0), lo1 = lo0, hi = lo0;
        let count = 0;
        for (let h = 0; h < (groups >> 1); h++) {
          const idx = v128.load(wp + <usize>h * 16);
          const t0 = tab + <usize>h * 64;
          let n = v128.and(idx, low);
          let l = i8x16.swizzle(v128.load(t0), n);
          lo0 = i16x8.add(lo0, i16x8.extend_low_i8x16_u(l));
          lo1 = i16x8.add(lo1, i16x8.extend_high_i8x16_u(l));
          hi = i8x16.add(hi, i8x16.swizzle(v128.load(t0, 16), n));
          n = i8x16.shr_u(idx, 4);
          l = i8x16.swizzle(v128.load(t0, 32), n);
          lo0 = i16x8.add(lo0, i16x8.extend_low_i8x16_u(l));
          lo1 = i16x8.add(lo1, i16x8.extend_high_i8x16_u(l));
          hi = i8x16.add(hi, i8x16.swizzle(v128.load(t0, 48), n));
          count += 2;
          if (count >= GROUPS_PER_FLUSH) {
            flush(cb, lo0, lo1, hi, beta);
            lo0 = i16x8.splat(0); lo1 = lo0; hi = lo0;
            count = 0;
          }
        }
        flush(cb, lo0, lo1, hi, beta);
      }
    }
  }
}
