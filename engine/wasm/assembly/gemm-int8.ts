// SPDX-License-Identifier: Apache-2.0
// W8A8 integer GEMM, int32 accumulation: C[i·ldc + j] = Σ_k S[i,k]·P[k,j] (the raw product; zero points,
// bias and scales are applied by epilogue.ts). S ("splat side") is int16 rows of kp values (kp even); P is
// int8 panels of 8 columns: panel q holds, for each k pair, 16 bytes [k0 j0, k1 j0, k0 j1, k1 j1, … k1 j7].
// Each step splats one (k, k+1) pair of a row and multiplies it against 4 columns with i32x4.dot_i16x8_s, so
// a 4-row × 8-column tile costs 8 dots and 8 adds per 64 multiply-adds. MatMul puts activations on S and
// weights in P; Conv puts weights on S and im2col'd activations in P (output rows = channels = NCHW).
// Scalar twin: engine/kernels/reference.ts.

// Cache blocking: k in chunks of KC (a panel chunk of KC·8 bytes and four S row chunks stay in L1), rows of S
// in blocks of ROW_BLOCK_BYTES (stay in L2 while every panel passes).
const KC: i32 = 512;
const ROW_BLOCK_BYTES: i32 = 160 * 1024;

@inline function ld(p: usize, signed: bool): v128 {
  return signed ? v128.load8x8_s(p) : v128.load8x8_u(p);
}

@inline function acc(c: v128, a: v128, b: v128): v128 {
  return i32x4.add(c, i32x4.dot_i16x8_s(a, b));
}

/** See the file comment; `signedP` selects sign or zero extension of the panel bytes. */
export function gemm_panels(s: usize, m: i32, kp: i32, p: usize, np: i32, signedP: i32, c: usize, ldc: i32): void {
  const rowBytes = <usize>kp * 2;
  const panelBytes = <usize>kp * 8;
  for (let k0 = 0; k0 < kp; k0 += KC) {
    const kc = min(KC, kp - k0);
    let mb = ROW_BLOCK_BYTES / (kc * 2);
    mb = mb < 4 ? 4 : mb & ~3;
    const first = k0 == 0;
    for (let i0 = 0; i0 < m; i0 += mb) {
      const i1 = min(m, i0 + mb);
      for (let q = 0; q < np; q++) {
        const pp = p + <usize>q * panelBytes + <usize>k0 * 8;
        const cq = c + <usize>q * 32;
        const sk = s + <usize>k0 * 2;
        const kcBytes = <usize>kc * 8;
        if (signedP) tiles(sk, i0, i1, rowBytes, pp, kcBytes, true, cq, ldc, first);
        else tiles(sk, i0, i1, rowBytes, pp, kcBytes, false, cq, ldc, first);
      }
    }
  }
}

@inline function tiles(s: usize, i0: i32, i1: i32, rowBytes: usize, pp: usize, chunkBytes: usize, signed: bool, cq: usize, ldc: i32, first: bool): void {
  const ldcBytes = <usize>ldc * 4;
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const s0 = s + <usize>i * rowBytes, s1 = s0 + rowBytes, s2 = s1 + rowBytes, s3 = s2 + rowBytes;
    const r0 = cq + <usize>i * ldcBytes, r1 = r0 + ldcBytes, r2 = r1 + ldcBytes, r3 = r2 + ldcBytes;
    let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    if (!first) {
      c00 = v128.load(r0); c01 = v128.load(r0, 16); c10 = v128.load(r1); c11 = v128.load(r1, 16);
      c20 = v128.load(r2); c21 = v128.load(r2, 16); c30 = v128.load(r3); c31 = v128.load(r3, 16);
    }
    let o: usize = 0;
    for (let k: usize = 0; k < chunkBytes; k += 16, o += 4) {
      const b0 = ld(pp + k, signed), b1 = ld(pp + k + 8, signed);
      let a = v128.load32_splat(s0 + o);
      c00 = acc(c00, a, b0); c01 = acc(c01, a, b1);
      a = v128.load32_splat(s1 + o);
      c10 = acc(c10, a, b0); c11 = acc(c11, a, b1);
      a = v128.load32_splat(s2 + o);
      c20 = acc(c20, a, b0); c21 = acc(c21, a, b1);
      a = v128.load32_splat(s3 + o);
      c30 = acc(c30, a, b0); c31 = acc(c31, a, b1);
    }
    v128.store(r0, c00); v128.store(r0, c01, 16);
    v128.store(r1, c10); v128.store(r1, c11, 16);
    v128.store(r2, c20); v128.store(r2, c21, 16);
    v128.store(r3, c30); v128.store(r3, c31, 16);
  }
  for (; i < i1; i++) {
    const s0 = s + <usize>i * rowBytes;
    const r0 = cq + <usize>i * ldcBytes;
    let c00 = i32x4.splat(0), c01 = c00;
    if (!first) { c00 = v128.load(r0); c01 = v128.load(r0, 16); }
    let o: usize = 0;
    for (let k: usize = 0; k < chunkBytes; k += 16, o += 4) {
      const a = v128.load32_splat(s0 + o);
      c00 = acc(c00, a, ld(pp + k, signed));
      c01 = acc(c01, a, ld(pp + k + 8, signed));
    }
    v128.store(r0, c00); v128.store(r0, c01, 16);
  }
}

/** Widens rows × kp bytes (signed or unsigned) to int16 (the S side of gemm_panels). */
export function widen_i16(src: usize, count: i32, signed: i32, dst: usize): void {
  let i = 0;
  if (signed) for (; i + 8 <= count; i += 8) v128.store(dst + <usize>i * 2, v128.load8x8_s(src + i));
  else for (; i + 8 <= count; i += 8) v128.store(dst + <usize>i * 2, v128.load8x8_u(src + i));
  for (; i < count; i++) store<i16>(dst + <usize>i * 2, signed ? <i16>load<i8>(src + i) : <i16>load<u8>(src + i));
}

/** Per-column sums of the first k rows of panel data (np panels of kp·8 bytes), as unsigned or signed bytes. */
export function panel_col_sums(p: usize, np: i32, kp: i32, signed: i32, out: usize): void {
  const panelBytes = <usize>kp * 8;
  for (let q = 0; q < np; q++) {
    const pp = p + <usize>q * panelBytes;
    let lo = i32x4.splat(0), hi = lo;
    for (let k: usize = 0; k < panelBytes; k += 16) {
      const v = v128.load(pp + k);
      const pair = signed ? i16x8.extadd_pairwise_i8x16_s(v) : i16x8.extadd_pairwise_i8x16_u(v);
      lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(pair));
      hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(pair));
    }
    v128.store(out + <usize>q * 32, lo);
    v128.store(out + <usize>q * 32, hi, 16);
  }
}

/**
 * im2col for gemm_panels, in two fast passes: rows k = (channel, ky, kx) in ONNX weight order of all output
 * pixels (bulk copies; padByte outside the image) into `tmp` (kp rows × ldp bytes, ldp = 8·panels), then
 * pairs of rows interleaved into 8-pixel panels. Rows k ≥ c·kh·kw and pixels ≥ oh·ow are zero.
 */
export function im2col_panels(src: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  padTop: i32, padLeft: i32, dh: i32, dw: i32, oh: i32, ow: i32, kp: i32, padByte: i32, tmp: usize, dst: usize): void {
  const pixels = oh * ow;
  const np = (pixels + 7) >> 3;
  const ldp = <usize>np * 8;
  let k = 0;
  for (let ch = 0; ch < c; ch++) {
    const plane = src + <usize>ch * <usize>h * <usize>w;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, k++) {
        const row = tmp + <usize>k * ldp;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - padTop + ky * dh;
          const out = row + <usize>(oy * ow);
          if (iy < 0 || iy >= h) { memory.fill(out, <u8>padByte, ow); continue; }
          const line = plane + <usize>iy * <usize>w;
          const ix0 = kx * dw - padLeft;
          if (sw == 1) {
            // valid ox: 0 ≤ ix0 + ox < w
            const lo = min(ow, max(0, -ix0));
            const hi = max(lo, min(ow, w - ix0));
            if (lo > 0) memory.fill(out, <u8>padByte, lo);
            if (hi > lo) memory.copy(out + lo, line + <usize>(ix0 + lo), hi - lo);
            if (ow > hi) memory.fill(out + hi, <u8>padByte, ow - hi);
          } else {
            for (let ox = 0; ox < ow; ox++) {
              const ix = ix0 + ox * sw;
              store<u8>(out + ox, ix < 0 || ix >= w ? <u8>padByte : load<u8>(line + ix));
            }
          }
        }
        if (ldp > <usize>pixels) memory.fill(row + <usize>pixels, 0, ldp - <usize>pixels);
      }
    }
  }
  for (; k < kp; k++) memory.fill(tmp + <usize>k * ldp, 0, ldp);
  const panelBytes = <usize>kp * 8;
  for (let q = 0; q < np; q++) {
    const d = dst + <usize>q * panelBytes;
    const s0 = tmp + <usize>q * 8;
    for (let kk = 0; kk < kp; kk += 2) {
      const a = v128.load64_zero(s0 + <usize>kk * ldp);
      const b = v128.load64_zero(s0 + <usize>(kk + 1) * ldp);
      v128.store(d + <usize>kk * 8, i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
    }
  }
}
