// SPDX-License-Identifier: Apache-2.0
// W8A8 integer GEMM, u8 activations × s8 weights, int32 accumulation (u8s8 like onnxruntime's fast path).
// Both operands are k-contiguous: A is rows × kp bytes, W is cols × kp bytes (one row per output channel),
// kp a multiple of 16 with zero padding. C[m·ldc + n] = Σ_k A[m,k]·W[n,k] — the raw product; zero points,
// bias and scales are applied by the epilogue (epilogue.ts). Scalar twin: engine/kernels/reference.ts.

// Columns per cache block: the weight rows of one block stay in L2 while every activation row passes.
const BLOCK_BYTES: i32 = 96 * 1024;

@inline function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

@inline function dot16(al: v128, ah: v128, b: v128): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(al, i16x8.extend_low_i8x16_s(b)), i32x4.dot_i16x8_s(ah, i16x8.extend_high_i8x16_s(b)));
}

/** Raw u8·s8 products of rows [0,m) × cols [0,n); see the file comment for layouts. */
export function gemm_u8s8(a: usize, w: usize, c: usize, m: i32, n: i32, kp: i32, ldc: i32): void {
  let nb = BLOCK_BYTES / kp;
  nb = nb < 4 ? 4 : nb & ~3;
  for (let n0 = 0; n0 < n; n0 += nb) {
    const n1 = min(n, n0 + nb);
    let i = 0;
    for (; i + 2 <= m; i += 2) rows2(a + <usize>i * kp, w, c + <usize>i * ldc * 4, n0, n1, kp, ldc);
    if (i < m) row1(a + <usize>i * kp, w, c + <usize>i * ldc * 4, n0, n1, kp);
  }
}

function rows2(a0: usize, w: usize, c: usize, n0: i32, n1: i32, kp: i32, ldc: i32): void {
  const a1 = a0 + kp;
  let j = n0;
  for (; j + 4 <= n1; j += 4) {
    const w0 = w + <usize>j * kp, w1 = w0 + kp, w2 = w1 + kp, w3 = w2 + kp;
    let c00 = i32x4.splat(0), c01 = c00, c02 = c00, c03 = c00;
    let c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    for (let k = 0; k < kp; k += 16) {
      const x0 = v128.load(a0 + k), x1 = v128.load(a1 + k);
      const x0l = i16x8.extend_low_i8x16_u(x0), x0h = i16x8.extend_high_i8x16_u(x0);
      const x1l = i16x8.extend_low_i8x16_u(x1), x1h = i16x8.extend_high_i8x16_u(x1);
      let b = v128.load(w0 + k);
      let bl = i16x8.extend_low_i8x16_s(b), bh = i16x8.extend_high_i8x16_s(b);
      c00 = i32x4.add(c00, i32x4.add(i32x4.dot_i16x8_s(x0l, bl), i32x4.dot_i16x8_s(x0h, bh)));
      c10 = i32x4.add(c10, i32x4.add(i32x4.dot_i16x8_s(x1l, bl), i32x4.dot_i16x8_s(x1h, bh)));
      b = v128.load(w1 + k);
      bl = i16x8.extend_low_i8x16_s(b); bh = i16x8.extend_high_i8x16_s(b);
      c01 = i32x4.add(c01, i32x4.add(i32x4.dot_i16x8_s(x0l, bl), i32x4.dot_i16x8_s(x0h, bh)));
      c11 = i32x4.add(c11, i32x4.add(i32x4.dot_i16x8_s(x1l, bl), i32x4.dot_i16x8_s(x1h, bh)));
      b = v128.load(w2 + k);
      bl = i16x8.extend_low_i8x16_s(b); bh = i16x8.extend_high_i8x16_s(b);
      c02 = i32x4.add(c02, i32x4.add(i32x4.dot_i16x8_s(x0l, bl), i32x4.dot_i16x8_s(x0h, bh)));
      c12 = i32x4.add(c12, i32x4.add(i32x4.dot_i16x8_s(x1l, bl), i32x4.dot_i16x8_s(x1h, bh)));
      b = v128.load(w3 + k);
      bl = i16x8.extend_low_i8x16_s(b); bh = i16x8.extend_high_i8x16_s(b);
      c03 = i32x4.add(c03, i32x4.add(i32x4.dot_i16x8_s(x0l, bl), i32x4.dot_i16x8_s(x0h, bh)));
      c13 = i32x4.add(c13, i32x4.add(i32x4.dot_i16x8_s(x1l, bl), i32x4.dot_i16x8_s(x1h, bh)));
    }
    const p0 = c + <usize>j * 4, p1 = p0 + <usize>ldc * 4;
    store<i32>(p0, hsum(c00)); store<i32>(p0, hsum(c01), 4); store<i32>(p0, hsum(c02), 8); store<i32>(p0, hsum(c03), 12);
    store<i32>(p1, hsum(c10)); store<i32>(p1, hsum(c11), 4); store<i32>(p1, hsum(c12), 8); store<i32>(p1, hsum(c13), 12);
  }
  for (; j < n1; j++) {
    const w0 = w + <usize>j * kp;
    let c0 = i32x4.splat(0), c1 = c0;
    for (let k = 0; k < kp; k += 16) {
      const x0 = v128.load(a0 + k), x1 = v128.load(a1 + k), b = v128.load(w0 + k);
      c0 = i32x4.add(c0, dot16(i16x8.extend_low_i8x16_u(x0), i16x8.extend_high_i8x16_u(x0), b));
      c1 = i32x4.add(c1, dot16(i16x8.extend_low_i8x16_u(x1), i16x8.extend_high_i8x16_u(x1), b));
    }
    store<i32>(c + <usize>j * 4, hsum(c0));
    store<i32>(c + <usize>(ldc + j) * 4, hsum(c1));
  }
}

function row1(a0: usize, w: usize, c: usize, n0: i32, n1: i32, kp: i32): void {
  let j = n0;
  for (; j + 4 <= n1; j += 4) {
    const w0 = w + <usize>j * kp, w1 = w0 + kp, w2 = w1 + kp, w3 = w2 + kp;
    let c0 = i32x4.splat(0), c1 = c0, c2 = c0, c3 = c0;
    for (let k = 0; k < kp; k += 16) {
      const x = v128.load(a0 + k);
      const xl = i16x8.extend_low_i8x16_u(x), xh = i16x8.extend_high_i8x16_u(x);
      c0 = i32x4.add(c0, dot16(xl, xh, v128.load(w0 + k)));
      c1 = i32x4.add(c1, dot16(xl, xh, v128.load(w1 + k)));
      c2 = i32x4.add(c2, dot16(xl, xh, v128.load(w2 + k)));
      c3 = i32x4.add(c3, dot16(xl, xh, v128.load(w3 + k)));
    }
    const p = c + <usize>j * 4;
    store<i32>(p, hsum(c0)); store<i32>(p, hsum(c1), 4); store<i32>(p, hsum(c2), 8); store<i32>(p, hsum(c3), 12);
  }
  for (; j < n1; j++) {
    const w0 = w + <usize>j * kp;
    let c0 = i32x4.splat(0);
    for (let k = 0; k < kp; k += 16) {
      const x = v128.load(a0 + k);
      c0 = i32x4.add(c0, dot16(i16x8.extend_low_i8x16_u(x), i16x8.extend_high_i8x16_u(x), v128.load(w0 + k)));
    }
    store<i32>(c + <usize>j * 4, hsum(c0));
  }
}
