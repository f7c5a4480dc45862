// SPDX-License-Identifier: Apache-2.0
// W8A8 integer GEMM, int32 accumulation: C[i·ldc + j] = Σ_k S[i,k]·P[k,j] (the raw product; zero points,
// bias and scales are applied by epilogue.ts). P is int8 panels of 8 columns: panel q holds, for each k pair,
// 16 bytes [k0 j0, k1 j0, k0 j1, k1 j1, … k1 j7]. S (the "splat side") is int16, packed by pack_s16 in row
// quads — for each k pair 16 bytes [r0 k0, r0 k1, r1 k0, r1 k1, … r3 k1] — followed by the m mod 4 tail rows
// as plain int16 rows. A quad and a panel advance by the same 16 bytes per k pair, so one induction variable
// and constant offsets address both. Each step splats one (k, k+1) pair of a row and multiplies it against 4
// columns with i32x4.dot_i16x8_s: a 4-row × 8-column tile costs 8 dots and 8 adds per 64 multiply-adds.
// MatMul puts activations on S and weights in P; Conv puts weights on S and im2col'd activations in P (output
// rows = channels = NCHW). Scalar twin: engine/kernels/reference.ts.
import { copyBytes, fillBytes } from './bytes';

// Cache blocking: k in chunks of KC (a panel chunk of KC·8 bytes and a quad chunk stay in L1), quads of S in
// blocks of ROW_BLOCK_BYTES (stay in L2 while every panel passes).
const KC: i32 = 1024;
const ROW_BLOCK_BYTES: i32 = 160 * 1024;

// T = i8 or u8 selects sign or zero extension at compile time (a runtime flag here would cost a select per load)
@inline function ld<T>(p: usize): v128 {
  if (isSigned<T>()) return v128.load8x8_s(p);
  return v128.load8x8_u(p);
}

@inline function acc(c: v128, a: v128, b: v128): v128 {
  return i32x4.add(c, i32x4.dot_i16x8_s(a, b));
}

/**
 * Packs m rows of bytes (row stride `stride`, k ≤ kp values used, zero beyond) as the int16 S side:
 * ⌊m/4⌋ quads of kp·8 bytes, then the tail rows as kp int16 each.
 */
export function pack_s16(src: usize, m: i32, kp: i32, stride: i32, signed: i32, dst: usize): void {
  if (signed) packS16<i8>(src, m, kp, stride, dst);
  else packS16<u8>(src, m, kp, stride, dst);
}

@inline function ext<T>(p: usize): v128 {
  if (isSigned<T>()) return v128.load8x8_s(p);
  return v128.load8x8_u(p);
}

function packS16<T>(src: usize, m: i32, kp: i32, stride: i32, dst: usize): void {
  const quads = m >> 2;
  for (let r = 0; r < quads; r++) {
    const d = dst + <usize>r * <usize>kp * 8;
    const s0 = src + <usize>(4 * r) * <usize>stride, s1 = s0 + <usize>stride, s2 = s1 + <usize>stride, s3 = s2 + <usize>stride;
    let t = 0;
    // 8 k of 4 rows: each row is 4 int32 lanes of (k, k+1) pairs; a 4×4 transpose gives 4 quad entries
    for (; t + 8 <= kp; t += 8) {
      const a = ext<T>(s0 + t), b = ext<T>(s1 + t), c = ext<T>(s2 + t), e = ext<T>(s3 + t);
      const ab0 = v128.shuffle<i32>(a, b, 0, 4, 1, 5), ab1 = v128.shuffle<i32>(a, b, 2, 6, 3, 7);
      const ce0 = v128.shuffle<i32>(c, e, 0, 4, 1, 5), ce1 = v128.shuffle<i32>(c, e, 2, 6, 3, 7);
      const o = d + <usize>t * 8;
      v128.store(o, v128.shuffle<i64>(ab0, ce0, 0, 2));
      v128.store(o, v128.shuffle<i64>(ab0, ce0, 1, 3), 16);
      v128.store(o, v128.shuffle<i64>(ab1, ce1, 0, 2), 32);
      v128.store(o, v128.shuffle<i64>(ab1, ce1, 1, 3), 48);
    }
    for (; t < kp; t++) {
      for (let j = 0; j < 4; j++) {
        const row = src + <usize>(4 * r + j) * <usize>stride;
        store<i16>(d + <usize>(t >> 1) * 16 + <usize>j * 4 + <usize>(t & 1) * 2, <i16>load<T>(row + t));
      }
    }
  }
  const tail = dst + <usize>quads * <usize>kp * 8;
  for (let i = quads * 4; i < m; i++) {
    const row = src + <usize>i * <usize>stride;
    const o = tail + <usize>(i - quads * 4) * <usize>kp * 2;
    let t = 0;
    for (; t + 8 <= kp; t += 8) v128.store(o + <usize>t * 2, ext<T>(row + t));
    for (; t < kp; t++) store<i16>(o + <usize>t * 2, <i16>load<T>(row + t));
  }
}

/** See the file comment; s is packed by pack_s16; `signedP` selects sign or zero extension of the panel bytes. */
export function gemm_panels(s: usize, m: i32, kp: i32, p: usize, np: i32, signedP: i32, c: usize, ldc: i32): void {
  const quads = m >> 2;
  const quadBytes = <usize>kp * 8;
  const panelBytes = <usize>kp * 8;
  const tail = s + <usize>quads * quadBytes;
  for (let k0 = 0; k0 < kp; k0 += KC) {
    const kc = min(KC, kp - k0);
    const chunkBytes = <usize>kc * 8;
    let qb = ROW_BLOCK_BYTES / (kc * 8);
    qb = qb < 1 ? 1 : qb;
    const first = k0 == 0;
    for (let r0 = 0; r0 < quads; r0 += qb) {
      const r1 = min(quads, r0 + qb);
      for (let q = 0; q < np; q++) {
        const pp = p + <usize>q * panelBytes + <usize>k0 * 8;
        const cq = c + <usize>q * 32;
        if (signedP) quadTiles<i8>(s + <usize>k0 * 8, r0, r1, quadBytes, pp, chunkBytes, cq, ldc, first);
        else quadTiles<u8>(s + <usize>k0 * 8, r0, r1, quadBytes, pp, chunkBytes, cq, ldc, first);
      }
    }
  }
  // tail rows (all rows of a GEMV): whole panels, streamed once in order
  for (let i = quads * 4; i < m; i++) {
    const sr = tail + <usize>(i - quads * 4) * <usize>kp * 2;
    for (let q = 0; q < np; q++) {
      const pp = p + <usize>q * panelBytes;
      const r = c + <usize>i * <usize>ldc * 4 + <usize>q * 32;
      if (signedP) rowTile<i8>(sr, pp, panelBytes, r);
      else rowTile<u8>(sr, pp, panelBytes, r);
    }
  }
}

function quadTiles<T>(s: usize, r0: i32, r1: i32, quadBytes: usize, pp: usize, chunkBytes: usize, cq: usize, ldc: i32, first: bool): void {
  const ldcBytes = <usize>ldc * 4;
  for (let r = r0; r < r1; r++) {
    const sp = s + <usize>r * quadBytes;
    const c0 = cq + <usize>(r * 4) * ldcBytes, c1 = c0 + ldcBytes, c2 = c1 + ldcBytes, c3 = c2 + ldcBytes;
    let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    if (!first) {
      c00 = v128.load(c0); c01 = v128.load(c0, 16); c10 = v128.load(c1); c11 = v128.load(c1, 16);
      c20 = v128.load(c2); c21 = v128.load(c2, 16); c30 = v128.load(c3); c31 = v128.load(c3, 16);
    }
    for (let k: usize = 0; k < chunkBytes; k += 16) {
      const b0 = ld<T>(pp + k), b1 = ld<T>(pp + k + 8);
      let a = v128.load32_splat(sp + k);
      c00 = acc(c00, a, b0); c01 = acc(c01, a, b1);
      a = v128.load32_splat(sp + k, 4);
      c10 = acc(c10, a, b0); c11 = acc(c11, a, b1);
      a = v128.load32_splat(sp + k, 8);
      c20 = acc(c20, a, b0); c21 = acc(c21, a, b1);
      a = v128.load32_splat(sp + k, 12);
      c30 = acc(c30, a, b0); c31 = acc(c31, a, b1);
    }
    v128.store(c0, c00); v128.store(c0, c01, 16);
    v128.store(c1, c10); v128.store(c1, c11, 16);
    v128.store(c2, c20); v128.store(c2, c21, 16);
    v128.store(c3, c30); v128.store(c3, c31, 16);
  }
}

function rowTile<T>(sr: usize, pp: usize, panelBytes: usize, r: usize): void {
  // two k pairs per step into separate accumulators (more independent work per iteration)
  let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00;
  let o: usize = 0;
  for (let k: usize = 0; k < panelBytes; k += 32, o += 8) {
    const a = v128.load32_splat(sr + o), b = v128.load32_splat(sr + o, 4);
    c00 = acc(c00, a, ld<T>(pp + k));
    c01 = acc(c01, a, ld<T>(pp + k + 8));
    c10 = acc(c10, b, ld<T>(pp + k + 16));
    c11 = acc(c11, b, ld<T>(pp + k + 24));
  }
  v128.store(r, i32x4.add(c00, c10)); v128.store(r, i32x4.add(c01, c11), 16);
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
 * One im2col row (one kernel tap) of a stride-1 convolution whose output rows are as wide as the input rows
 * ("same" padding): its valid output rows are one contiguous block of the input plane shifted by dx, so it is one
 * copy plus |dx| pad bytes per row, instead of a copy per output row. Output row oy reads input row oy + dy.
 */
@inline function sameWidthTap(row: usize, plane: usize, h: i32, w: i32, oh: i32, dy: i32, dx: i32, padByte: i32): void {
  const oy0 = min(oh, max(0, -dy)), oy1 = max(oy0, min(oh, h - dy));
  if (oy0 > 0) fillBytes(row, padByte, oy0 * w);
  if (oh > oy1) fillBytes(row + <usize>(oy1 * w), padByte, (oh - oy1) * w);
  if (oy1 == oy0) return;
  const n = (oy1 - oy0) * w, dst = row + <usize>(oy0 * w), src = plane + <usize>((oy0 + dy) * w);
  const edge = dx >= 0 ? dx : -dx;
  if (edge >= w) { fillBytes(dst, padByte, n); return; } // the tap lies wholly in the padding
  // the bytes a shift carries across a row end are pad anyway: skip them so nothing outside the plane is read
  if (dx >= 0) copyBytes(dst, src + <usize>dx, n - dx);
  else copyBytes(dst - <usize>dx, src, n + dx);
  if (edge == 0) return;
  for (let oy = oy0; oy < oy1; oy++) fillBytes(row + <usize>(oy * w + (dx > 0 ? w - dx : 0)), padByte, edge);
}

/**
 * im2col for gemm_panels over `batch` images (image b at src + b·imageStride), in two fast passes: rows
 * k = (channel, ky, kx) in ONNX weight order, columns = b·oh·ow + output pixel (bulk copies; padByte outside the
 * image) into `tmp` (kp rows × ldp bytes, ldp = 8·panels), then pairs of rows interleaved into 8-column panels.
 * Rows k ≥ c·kh·kw and columns ≥ batch·oh·ow are zero.
 */
export function im2col_panels(src: usize, batch: i32, imageStride: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  padTop: i32, padLeft: i32, dh: i32, dw: i32, oh: i32, ow: i32, kp: i32, padByte: i32, tmp: usize, dst: usize): void {
  const pixels = oh * ow;
  const cols = batch * pixels;
  const np = (cols + 7) >> 3;
  const ldp = <usize>np * 8;
  for (let b = 0; b < batch; b++) {
    const image = src + <usize>b * <usize>imageStride;
    let k = 0;
    for (let ch = 0; ch < c; ch++) {
      const plane = image + <usize>ch * <usize>h * <usize>w;
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++, k++) {
          const row = tmp + <usize>k * ldp + <usize>(b * pixels);
          if (sh == 1 && sw == 1 && dw == 1 && ow == w) {
            sameWidthTap(row, plane, h, w, oh, ky * dh - padTop, kx - padLeft, padByte);
            continue;
          }
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * sh - padTop + ky * dh;
            const out = row + <usize>(oy * ow);
            if (iy < 0 || iy >= h) { fillBytes(out, padByte, ow); continue; }
            const line = plane + <usize>iy * <usize>w;
            const ix0 = kx * dw - padLeft;
            if (sw == 1) {
              // valid ox: 0 ≤ ix0 + ox < w
              const lo = min(ow, max(0, -ix0));
              const hi = max(lo, min(ow, w - ix0));
              if (lo > 0) fillBytes(out, padByte, lo);
              if (hi > lo) copyBytes(out + lo, line + <usize>(ix0 + lo), hi - lo);
              if (ow > hi) fillBytes(out + hi, padByte, ow - hi);
            } else {
              for (let ox = 0; ox < ow; ox++) {
                const ix = ix0 + ox * sw;
                store<u8>(out + ox, ix < 0 || ix >= w ? <u8>padByte : load<u8>(line + ix));
              }
            }
          }
        }
      }
    }
  }
  const kk = c * kh * kw;
  if (ldp > <usize>cols) for (let k = 0; k < kk; k++) memory.fill(tmp + <usize>k * ldp + <usize>cols, 0, ldp - <usize>cols);
  for (let k = kk; k < kp; k++) memory.fill(tmp + <usize>k * ldp, 0, ldp);
  const panelBytes = <usize>kp * 8;
  for (let q = 0; q < np; q++) {
    const d = dst + <usize>q * panelBytes;
    const s0 = tmp + <usize>q * 8;
    for (let kk2 = 0; kk2 < kp; kk2 += 2) {
      const a = v128.load64_zero(s0 + <usize>kk2 * ldp);
      const b = v128.load64_zero(s0 + <usize>(kk2 + 1) * ldp);
      v128.store(d + <usize>kk2 * 8, i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
    }
  }
}
