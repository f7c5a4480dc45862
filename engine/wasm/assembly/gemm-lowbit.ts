// SPDX-License-Identifier: Apache-2.0
// ≤4-bit weight × 8-bit activation GEMM (W4A8, W2A8, ternary-A8, binary-A8), int32 results.
// Weights are unsigned codes u ∈ [0, 2^bits) (the epilogue maps them back through gain and zero point),
// packed per output column in 16-byte chunks of G = 128/bits consecutive k: byte j of a chunk holds
// u[k0 + 16·f + j] in bits [f·bits, (f+1)·bits) — so one shift and one mask give 16 consecutive codes.
// Plain SIMD: activations u8, 16-bit dot into int32. Relaxed SIMD: activations s8 (code ^ 0x80) against
// the 7-bit codes with i16x8.relaxed_dot_i8x16_i7x16_s, summed in int16 for a few steps then widened —
// deterministic because the second operand never exceeds 15. (The fused i32x4 …_add_s form is avoided:
// V8 11.x Liftoff drops its accumulator.) Scalar twin: engine/kernels/reference.ts.

@inline function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

@inline function field(v: v128, shift: i32, mask: v128): v128 {
  return v128.and(i8x16.shr_u(v, shift), mask);
}

@inline function dotu(xl: v128, xh: v128, u: v128): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(xl, i16x8.extend_low_i8x16_u(u)), i32x4.dot_i16x8_s(xh, i16x8.extend_high_i8x16_u(u)));
}

/** C[m·ldc + n] = Σ_k A[m,k]·u[n,k]; A rows of kp bytes (u8 in the plain build, s8 in the relaxed build). */
export function gemm_lowbit(a: usize, w: usize, c: usize, m: i32, n: i32, kp: i32, ldc: i32, bits: i32): void {
  if (ASC_FEATURE_RELAXED_SIMD) relaxedGemm(a, w, c, m, n, kp, ldc, bits);
  else plainGemm(a, w, c, m, n, kp, ldc, bits);
}

/** 1 when this build's low-bit kernel expects signed (code ^ 0x80) activations. */
export function lowbit_signed_activations(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

function plainGemm(a: usize, w: usize, c: usize, m: i32, n: i32, kp: i32, ldc: i32, bits: i32): void {
  const colBytes = <usize>(kp * bits / 8);
  const fields = 8 / bits;
  const maskBits: i32 = (1 << bits) - 1;
  const mask = i8x16.splat(<i8>maskBits);
  const nb = max(4, (<i32>(96 * 1024 / <i32>colBytes)) & ~3);
  for (let n0 = 0; n0 < n; n0 += nb) {
    const n1 = min(n, n0 + nb);
    for (let i = 0; i < m; i += 2) {
      const a0 = a + <usize>i * kp;
      const two = i + 1 < m;
      const a1 = two ? a0 + kp : a0;
      let j = n0;
      for (; j + 2 <= n1; j += 2) {
        const w0 = w + <usize>j * colBytes, w1 = w0 + colBytes;
        let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00;
        let k = 0;
        for (let off: usize = 0; off < colBytes; off += 16) {
          const p0 = v128.load(w0 + off), p1 = v128.load(w1 + off);
          for (let f = 0; f < fields; f++, k += 16) {
            const x0 = v128.load(a0 + k), x1 = v128.load(a1 + k);
            const x0l = i16x8.extend_low_i8x16_u(x0), x0h = i16x8.extend_high_i8x16_u(x0);
            const x1l = i16x8.extend_low_i8x16_u(x1), x1h = i16x8.extend_high_i8x16_u(x1);
            const u0 = field(p0, f * bits, mask), u1 = field(p1, f * bits, mask);
            c00 = i32x4.add(c00, dotu(x0l, x0h, u0));
            c01 = i32x4.add(c01, dotu(x0l, x0h, u1));
            c10 = i32x4.add(c10, dotu(x1l, x1h, u0));
            c11 = i32x4.add(c11, dotu(x1l, x1h, u1));
          }
        }
        const q0 = c + <usize>(i * ldc + j) * 4;
        store<i32>(q0, hsum(c00)); store<i32>(q0, hsum(c01), 4);
        if (two) { const q1 = q0 + <usize>ldc * 4; store<i32>(q1, hsum(c10)); store<i32>(q1, hsum(c11), 4); }
      }
      for (; j < n1; j++) {
        const w0 = w + <usize>j * colBytes;
        let c00 = i32x4.splat(0), c10 = c00;
        let k = 0;
        for (let off: usize = 0; off < colBytes; off += 16) {
          const p0 = v128.load(w0 + off);
          for (let f = 0; f < fields; f++, k += 16) {
            const x0 = v128.load(a0 + k), x1 = v128.load(a1 + k);
            const u0 = field(p0, f * bits, mask);
            c00 = i32x4.add(c00, dotu(i16x8.extend_low_i8x16_u(x0), i16x8.extend_high_i8x16_u(x0), u0));
            c10 = i32x4.add(c10, dotu(i16x8.extend_low_i8x16_u(x1), i16x8.extend_high_i8x16_u(x1), u0));
          }
        }
        const q0 = c + <usize>(i * ldc + j) * 4;
        store<i32>(q0, hsum(c00));
        if (two) store<i32>(q0 + <usize>ldc * 4, hsum(c10));
      }
    }
  }
}

function relaxedGemm(a: usize, w: usize, c: usize, m: i32, n: i32, kp: i32, ldc: i32, bits: i32): void {
  const colBytes = <usize>(kp * bits / 8);
  const fields = 8 / bits;
  const maskBits: i32 = (1 << bits) - 1;
  const mask = i8x16.splat(<i8>maskBits);
  // int16 partial sums stay below 2^15: each step adds at most 2·128·(2^bits − 1) per lane.
  const chunksPerFlush = bits == 4 ? 4 : 1;
  const nb = max(2, (<i32>(96 * 1024 / <i32>colBytes)) & ~1);
  for (let n0 = 0; n0 < n; n0 += nb) {
    const n1 = min(n, n0 + nb);
    for (let i = 0; i < m; i += 2) {
      const a0 = a + <usize>i * kp;
      const two = i + 1 < m;
      const a1 = two ? a0 + kp : a0;
      for (let j = n0; j < n1; j += 2) {
        const w0 = w + <usize>j * colBytes;
        const w1 = j + 1 < n1 ? w0 + colBytes : w0;
        let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00;
        let s00 = i16x8.splat(0), s01 = s00, s10 = s00, s11 = s00;
        let k = 0, chunk = 0;
        for (let off: usize = 0; off < colBytes; off += 16) {
          const p0 = v128.load(w0 + off), p1 = v128.load(w1 + off);
          for (let f = 0; f < fields; f++, k += 16) {
            const x0 = v128.load(a0 + k), x1 = v128.load(a1 + k);
            const u0 = field(p0, f * bits, mask), u1 = field(p1, f * bits, mask);
            s00 = i16x8.add(s00, i16x8.relaxed_dot_i8x16_i7x16_s(x0, u0));
            s01 = i16x8.add(s01, i16x8.relaxed_dot_i8x16_i7x16_s(x0, u1));
            s10 = i16x8.add(s10, i16x8.relaxed_dot_i8x16_i7x16_s(x1, u0));
            s11 = i16x8.add(s11, i16x8.relaxed_dot_i8x16_i7x16_s(x1, u1));
          }
          if (++chunk == chunksPerFlush) {
            chunk = 0;
            c00 = i32x4.add(c00, i32x4.extadd_pairwise_i16x8_s(s00)); s00 = i16x8.splat(0);
            c01 = i32x4.add(c01, i32x4.extadd_pairwise_i16x8_s(s01)); s01 = s00;
            c10 = i32x4.add(c10, i32x4.extadd_pairwise_i16x8_s(s10)); s10 = s00;
            c11 = i32x4.add(c11, i32x4.extadd_pairwise_i16x8_s(s11)); s11 = s00;
          }
        }
        c00 = i32x4.add(c00, i32x4.extadd_pairwise_i16x8_s(s00));
        c01 = i32x4.add(c01, i32x4.extadd_pairwise_i16x8_s(s01));
        c10 = i32x4.add(c10, i32x4.extadd_pairwise_i16x8_s(s10));
        c11 = i32x4.add(c11, i32x4.extadd_pairwise_i16x8_s(s11));
        const q0 = c + <usize>(i * ldc + j) * 4;
        store<i32>(q0, hsum(c00));
        if (j + 1 < n1) store<i32>(q0, hsum(c01), 4);
        if (two) {
          const q1 = q0 + <usize>ldc * 4;
          store<i32>(q1, hsum(c10));
          if (j + 1 < n1) store<i32>(q1, hsum(c11), 4);
        }
      }
    }
  }
}
