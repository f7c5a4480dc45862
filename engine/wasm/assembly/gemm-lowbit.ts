// SPDX-License-Identifier: Apache-2.0
// ≤4-bit weight × 8-bit activation GEMM (W4A8, W2A8, ternary-A8, binary-A8), int32 results.
// Weights are unsigned codes u ∈ [0, 2^bits) (the epilogue maps them back through gain and zero point) in
// low-bit panels of 8 columns: for each k quad t there are two logical 16-byte vectors V(t,0), V(t,1) holding
// [k0..k3 of column 4g, k0..k3 of column 4g+1, …]; logical vector i = 2t+g is field i mod F (F = 8/bits) of
// 16-byte group ⌊i/F⌋, i.e. bits [f·bits, (f+1)·bits) of each byte. kp is a multiple of 16.
// Relaxed SIMD: i16x8.relaxed_dot_i8x16_i7x16_s of a splat of 4 signed activation bytes against V gives int16
// pair sums (|sum| ≤ 2·128·15), two k quads of which are added in int16 and widened into int32 accumulators
// with one i32x4.extadd_pairwise_i16x8_s (4-bit; 1/2-bit and the m mod 4 tail rows keep int16 sums for a
// bounded number of steps and flush them to C) — deterministic because the second operand never exceeds 15. (The fused i32x4 …_add_s form is avoided: V8
// 11.x Liftoff drops its accumulator.) Plain SIMD: the panels are unpacked to int8 panels (unpack_lowbit)
// for gemm_panels. Scalar twin: engine/kernels/reference.ts.

// The logical vectors of one 16-byte group, extracted with constant shifts (a variable i8x16.shr_u costs V8
// a mask computation per use), are staged here.
const FIELDS: usize = memory.data(128, 16);

@inline function extractFields(g: v128, bits: i32): void {
  if (bits == 4) {
    v128.store(FIELDS, v128.and(g, i8x16.splat(0x0f)));
    v128.store(FIELDS, i8x16.shr_u(g, 4), 16);
  } else if (bits == 2) {
    const m = i8x16.splat(3);
    v128.store(FIELDS, v128.and(g, m));
    v128.store(FIELDS, v128.and(i8x16.shr_u(g, 2), m), 16);
    v128.store(FIELDS, v128.and(i8x16.shr_u(g, 4), m), 32);
    v128.store(FIELDS, i8x16.shr_u(g, 6), 48);
  } else {
    const m = i8x16.splat(1);
    v128.store(FIELDS, v128.and(g, m));
    v128.store(FIELDS, v128.and(i8x16.shr_u(g, 1), m), 16);
    v128.store(FIELDS, v128.and(i8x16.shr_u(g, 2), m), 32);
    v128.store(FIELDS, v128.and(i8x16.shr_u(g, 3), m), 48);
    v128.store(FIELDS, v128.and(i8x16.shr_u(g, 4), m), 64);
    v128.store(FIELDS, v128.and(i8x16.shr_u(g, 5), m), 80);
    v128.store(FIELDS, v128.and(i8x16.shr_u(g, 6), m), 96);
    v128.store(FIELDS, i8x16.shr_u(g, 7), 112);
  }
}

/** Unpacks np low-bit panels into the int8 panel layout of gemm_panels (k pairs × 8 columns). */
export function unpack_lowbit(w: usize, np: i32, kp: i32, bits: i32, dst: usize): void {
  const fields = 8 / bits;
  const srcPanel = <usize>kp * bits;
  const dstPanel = <usize>kp * 8;
  for (let q = 0; q < np; q++) {
    const src = w + <usize>q * srcPanel;
    const d = dst + <usize>q * dstPanel;
    let t = 0;
    for (let off: usize = 0; off < srcPanel; off += 16) {
      extractFields(v128.load(src + off), bits);
      for (let f = 0; f < fields; f += 2, t++) {
        const v0 = v128.load(FIELDS + <usize>f * 16), v1 = v128.load(FIELDS + <usize>f * 16, 16);
        const o = d + <usize>t * 32;
        v128.store(o, i8x16.shuffle(v0, v1, 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29));
        v128.store(o, i8x16.shuffle(v0, v1, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31), 16);
      }
    }
  }
}

/** 1 when this build runs gemm_lowbit_relaxed (signed activation bytes), 0 for the plain-SIMD route. */
export function lowbit_signed_activations(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

@inline function wacc(c: v128, x: v128, v: v128): v128 {
  return i32x4.add(c, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x, v)));
}

@inline function wacc2(c: v128, xa: v128, va: v128, xb: v128, vb: v128): v128 {
  return i32x4.add(c, i32x4.extadd_pairwise_i16x8_s(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(xa, va), i16x8.relaxed_dot_i8x16_i7x16_s(xb, vb))));
}

@inline function flush(c: usize, s: v128): void {
  v128.store(c, i32x4.add(v128.load(c), i32x4.extadd_pairwise_i16x8_s(s)));
}

/**
 * Relaxed-SIMD build only: C[i·ldc + j] = Σ_k A[i,k]·u[k,j] for signed activation bytes A (rows of kp) and
 * np low-bit panels; C rows hold np·8 columns.
 */
export function gemm_lowbit_relaxed(a: usize, m: i32, kp: i32, w: usize, np: i32, bits: i32, c: usize, ldc: i32): void {
  // the body only exists in the relaxed build (the plain build would not validate it); the width is a
  // compile-time constant of each instance (bits = sizeof<T>) so shifts and masks fold
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (bits == 4) relaxedGemm<u32>(a, m, kp, w, np, c, ldc);
    else if (bits == 2) relaxedGemm<u16>(a, m, kp, w, np, c, ldc);
    else relaxedGemm<u8>(a, m, kp, w, np, c, ldc);
  } else {
    unreachable();
  }
}

function relaxedGemm<T>(a: usize, m: i32, kp: i32, w: usize, np: i32, c: usize, ldc: i32): void {
  const bits = <i32>sizeof<T>();
  const fields = 8 / bits;
  const panelBytes = <usize>kp * bits;
  // int16 sums stay below 2^15: each k quad adds at most 2·128·(2^bits − 1) per lane
  const quadsPerFlush = bits == 4 ? 8 : 32;
  const ldcBytes = <usize>ldc * 4;
  memory.fill(c, 0, <usize>m * ldcBytes);
  // rows in blocks that stay in L2 while every panel passes
  let mb = (128 * 1024) / kp;
  mb = mb < 4 ? 4 : mb & ~3;
  for (let i0 = 0; i0 < m; i0 += mb) {
  const i1 = min(m, i0 + mb);
  for (let q = 0; q < np; q++) {
    const wp = w + <usize>q * panelBytes;
    const cq = c + <usize>q * 32;
    let i = i0;
    for (; i + 4 <= i1; i += 4) {
      const a0 = a + <usize>i * kp, a1 = a0 + kp, a2 = a1 + kp, a3 = a2 + kp;
      const r0 = cq + <usize>i * ldcBytes, r1 = r0 + ldcBytes, r2 = r1 + ldcBytes, r3 = r2 + ldcBytes;
      // int32 accumulators in registers; each int16 pair-sum vector is widened right away (one pmaddwd)
      let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      let t = 0;
      if (bits == 4) {
        // two k quads per step: their int16 pair sums (≤ 2·3840) are added before one widening
        const lo = i8x16.splat(0x0f);
        for (let off: usize = 0; off < panelBytes; off += 32) {
          const ga = v128.load(wp + off), gb = v128.load(wp + off, 16);
          const a0v = v128.and(ga, lo), a1v = i8x16.shr_u(ga, 4), b0v = v128.and(gb, lo), b1v = i8x16.shr_u(gb, 4);
          const ko = off >> 2;
          let xa = v128.load32_splat(a0 + ko), xb = v128.load32_splat(a0 + ko, 4);
          c00 = wacc2(c00, xa, a0v, xb, b0v); c01 = wacc2(c01, xa, a1v, xb, b1v);
          xa = v128.load32_splat(a1 + ko); xb = v128.load32_splat(a1 + ko, 4);
          c10 = wacc2(c10, xa, a0v, xb, b0v); c11 = wacc2(c11, xa, a1v, xb, b1v);
          xa = v128.load32_splat(a2 + ko); xb = v128.load32_splat(a2 + ko, 4);
          c20 = wacc2(c20, xa, a0v, xb, b0v); c21 = wacc2(c21, xa, a1v, xb, b1v);
          xa = v128.load32_splat(a3 + ko); xb = v128.load32_splat(a3 + ko, 4);
          c30 = wacc2(c30, xa, a0v, xb, b0v); c31 = wacc2(c31, xa, a1v, xb, b1v);
        }
      } else for (let off: usize = 0; off < panelBytes; off += 16) {
        const grp = v128.load(wp + off);
        extractFields(grp, bits);
        for (let f = 0; f < fields; f += 2, t++) {
          const v0 = bits == 4 ? v128.and(grp, i8x16.splat(0x0f)) : v128.load(FIELDS + <usize>f * 16);
          const v1 = bits == 4 ? i8x16.shr_u(grp, 4) : v128.load(FIELDS + <usize>f * 16, 16);
          const ko = <usize>t * 4;
          let x = v128.load32_splat(a0 + ko);
          c00 = wacc(c00, x, v0); c01 = wacc(c01, x, v1);
          x = v128.load32_splat(a1 + ko);
          c10 = wacc(c10, x, v0); c11 = wacc(c11, x, v1);
          x = v128.load32_splat(a2 + ko);
          c20 = wacc(c20, x, v0); c21 = wacc(c21, x, v1);
          x = v128.load32_splat(a3 + ko);
          c30 = wacc(c30, x, v0); c31 = wacc(c31, x, v1);
        }
      }
      v128.store(r0, c00); v128.store(r0, c01, 16); v128.store(r1, c10); v128.store(r1, c11, 16);
      v128.store(r2, c20); v128.store(r2, c21, 16); v128.store(r3, c30); v128.store(r3, c31, 16);
    }
    for (; i < i1; i++) {
      const a0 = a + <usize>i * kp;
      const r0 = cq + <usize>i * ldcBytes;
      let s00 = i16x8.splat(0), s01 = s00;
      let t = 0, steps = 0;
      for (let off: usize = 0; off < panelBytes; off += 16) {
        extractFields(v128.load(wp + off), bits);
        for (let f = 0; f < fields; f += 2, t++) {
          const x = v128.load32_splat(a0 + <usize>t * 4);
          s00 = i16x8.add(s00, i16x8.relaxed_dot_i8x16_i7x16_s(x, v128.load(FIELDS + <usize>f * 16)));
          s01 = i16x8.add(s01, i16x8.relaxed_dot_i8x16_i7x16_s(x, v128.load(FIELDS + <usize>f * 16, 16)));
          if (++steps == quadsPerFlush) {
            steps = 0;
            flush(r0, s00); flush(r0 + 16, s01);
            s00 = i16x8.splat(0); s01 = s00;
          }
        }
      }
      flush(r0, s00); flush(r0 + 16, s01);
    }
  }
  }
}
