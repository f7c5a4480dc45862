// SPDX-License-Identifier: Apache-2.0
// Exact integer Winograd F(2×2, 3×3) for int8 3×3 stride-1 convolutions (one group). With d = x − za (a 4×4 input
// tile, |d| ≤ 255) and g = w − zw (|g| ≤ 255):
//   V = Bᵀ d B            |V| ≤ 4·255, int16
//   U = G' g G'ᵀ = 4·G g Gᵀ, with G' = 2G = [2 0 0; 1 1 1; 1 −1 1; 0 0 2]   |U| ≤ 9·255, int16
//   M_t = Σ_c U_t[o, c]·V_t[c, tile]   (16 int16 GEMMs, int32; exact while cin·|U|·|V| < 2³¹: cin ≤ 1024)
//   Y = (Aᵀ M A) / 4      exact: Aᵀ M A is four times the integer convolution Σ (x − za)(w − zw).
// So Y equals the direct convolution's zero-point-corrected int32 accumulator bit for bit, and the usual epilogue
// follows with zero zero points. Tiles run row by row in groups of 8 (one GEMM panel); the plane is first copied
// into a za-padded plane so every tile reads in bounds and padding contributes zero.
import { copyBytes, fillBytes } from './bytes';

// S-side offset (pack_s16 layout) of row r, column k: quads of 4 rows interleaved per k pair, then tail rows.
@inline function sOffset(r: i32, k: i32, m: i32, kp: i32): usize {
  const quads = m >> 2;
  if (r < quads * 4) return <usize>((r >> 2) * kp * 8 + (k >> 1) * 16 + (r & 3) * 4 + (k & 1) * 2);
  return <usize>(quads * kp * 8 + (r - quads * 4) * kp * 2 + k * 2);
}

/**
 * U_t for all 16 t: weights w (cout rows of stride wstride bytes, (c, ky, kx) order, signed bytes), per-channel zero
 * points zw (int32). Block t (cout·kp·2 bytes, kp = cin rounded up to even) is the S side of gemm_panels16.
 */
export function wino_int_weights(w: usize, cout: i32, cin: i32, wstride: i32, zw: usize, kp: i32, dst: usize): void {
  const block = <usize>cout * <usize>kp * 2;
  memory.fill(dst, 0, block * 16);
  const g = memory.data(9 * 4), t = memory.data(12 * 4);
  for (let o = 0; o < cout; o++) {
    const z = load<i32>(zw + <usize>o * 4);
    for (let c = 0; c < cin; c++) {
      const src = w + <usize>(o * wstride + c * 9);
      for (let i = 0; i < 9; i++) store<i32>(g + <usize>i * 4, <i32>load<i8>(src + <usize>i) - z);
      // t = G' g (4×3), then U = t G'ᵀ (4×4)
      for (let j = 0; j < 3; j++) {
        const g0 = load<i32>(g + <usize>j * 4), g1 = load<i32>(g + <usize>(3 + j) * 4), g2 = load<i32>(g + <usize>(6 + j) * 4);
        store<i32>(t + <usize>j * 4, 2 * g0);
        store<i32>(t + <usize>(3 + j) * 4, g0 + g1 + g2);
        store<i32>(t + <usize>(6 + j) * 4, g0 - g1 + g2);
        store<i32>(t + <usize>(9 + j) * 4, 2 * g2);
      }
      for (let i = 0; i < 4; i++) {
        const a = load<i32>(t + <usize>(i * 3) * 4), b = load<i32>(t + <usize>(i * 3 + 1) * 4), e = load<i32>(t + <usize>(i * 3 + 2) * 4);
        const u0 = 2 * a, u1 = a + b + e, u2 = a - b + e, u3 = 2 * e;
        const off = sOffset(o, c, cout, kp);
        store<i16>(dst + <usize>(i * 4) * block + off, <i16>u0);
        store<i16>(dst + <usize>(i * 4 + 1) * block + off, <i16>u1);
        store<i16>(dst + <usize>(i * 4 + 2) * block + off, <i16>u2);
        store<i16>(dst + <usize>(i * 4 + 3) * block + off, <i16>u3);
      }
    }
  }
}

// 8 lanes (tiles) of column offset j of a 4×4 tile row: bytes j, j+2, …, j+14 of the row segment, widened, minus za
@inline function col8(lo: v128, hi: v128, j: i32, signedX: i32, za: v128): v128 {
  let b: v128;
  if (j == 0) b = i8x16.shuffle(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
  else if (j == 1) b = i8x16.shuffle(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);
  else if (j == 2) b = i8x16.shuffle(lo, hi, 2, 4, 6, 8, 10, 12, 14, 16, 0, 0, 0, 0, 0, 0, 0, 0);
  else b = i8x16.shuffle(lo, hi, 3, 5, 7, 9, 11, 13, 15, 17, 0, 0, 0, 0, 0, 0, 0, 0);
  return i16x8.sub(signedX ? i16x8.extend_low_i8x16_s(b) : i16x8.extend_low_i8x16_u(b), za);
}

/**
 * V_t of 8 tiles side by side (one tile row, tiles starting at base in a padded plane of row stride pw) into out:
 * 16 vectors of 8 int16 lanes, t = 4i + j.
 */
@inline function transform8(base: usize, pw: i32, signedX: i32, vza: v128, out: usize): void {
  // d rows 0..3, each as 4 column vectors (8 tiles per vector)
  const r0l = v128.load(base), r0h = v128.load(base, 16);
  const r1l = v128.load(base + <usize>pw), r1h = v128.load(base + <usize>pw, 16);
  const r2l = v128.load(base + <usize>(2 * pw)), r2h = v128.load(base + <usize>(2 * pw), 16);
  const r3l = v128.load(base + <usize>(3 * pw)), r3h = v128.load(base + <usize>(3 * pw), 16);
  const a00 = col8(r0l, r0h, 0, signedX, vza), a01 = col8(r0l, r0h, 1, signedX, vza), a02 = col8(r0l, r0h, 2, signedX, vza), a03 = col8(r0l, r0h, 3, signedX, vza);
  const a10 = col8(r1l, r1h, 0, signedX, vza), a11 = col8(r1l, r1h, 1, signedX, vza), a12 = col8(r1l, r1h, 2, signedX, vza), a13 = col8(r1l, r1h, 3, signedX, vza);
  const a20 = col8(r2l, r2h, 0, signedX, vza), a21 = col8(r2l, r2h, 1, signedX, vza), a22 = col8(r2l, r2h, 2, signedX, vza), a23 = col8(r2l, r2h, 3, signedX, vza);
  const a30 = col8(r3l, r3h, 0, signedX, vza), a31 = col8(r3l, r3h, 1, signedX, vza), a32 = col8(r3l, r3h, 2, signedX, vza), a33 = col8(r3l, r3h, 3, signedX, vza);
  // Bᵀ along rows: row combos (0−2, 1+2, 2−1, 1−3) of each column
  const b00 = i16x8.sub(a00, a20), b01 = i16x8.sub(a01, a21), b02 = i16x8.sub(a02, a22), b03 = i16x8.sub(a03, a23);
  const b10 = i16x8.add(a10, a20), b11 = i16x8.add(a11, a21), b12 = i16x8.add(a12, a22), b13 = i16x8.add(a13, a23);
  const b20 = i16x8.sub(a20, a10), b21 = i16x8.sub(a21, a11), b22 = i16x8.sub(a22, a12), b23 = i16x8.sub(a23, a13);
  const b30 = i16x8.sub(a10, a30), b31 = i16x8.sub(a11, a31), b32 = i16x8.sub(a12, a32), b33 = i16x8.sub(a13, a33);
  // B along columns of each row: (0−2, 1+2, 2−1, 1−3) → V[i][j]
  storeRow(out, 0, i16x8.sub(b00, b02), i16x8.add(b01, b02), i16x8.sub(b02, b01), i16x8.sub(b01, b03));
  storeRow(out, 1, i16x8.sub(b10, b12), i16x8.add(b11, b12), i16x8.sub(b12, b11), i16x8.sub(b11, b13));
  storeRow(out, 2, i16x8.sub(b20, b22), i16x8.add(b21, b22), i16x8.sub(b22, b21), i16x8.sub(b21, b23));
  storeRow(out, 3, i16x8.sub(b30, b32), i16x8.add(b31, b32), i16x8.sub(b32, b31), i16x8.sub(b31, b33));
}

@inline function storeRow(out: usize, i: i32, v0: v128, v1: v128, v2: v128, v3: v128): void {
  const p = out + <usize>(i * 64);
  v128.store(p, v0); v128.store(p, v1, 16); v128.store(p, v2, 32); v128.store(p, v3, 48);
}

/**
 * V_t for every channel and tile of one image: x is cin planes of h×w activation bytes. Tiles run row by row, tw4
 * (a multiple of 4) per row, th rows, from (−pt, −pl); a panel of 8 tiles may end one row and start the next (then
 * at 4 + 4). P block t holds np = ⌈th·tw4/8⌉ panels of kp·16 bytes (gemm_panels16 layout: per k pair 32 bytes
 * [k0 j0, k1 j0, … k1 j7] of int16). pad: scratch of 2·((2·th + 4)·(2·tw4 + 2) + 32) bytes.
 */
export function wino_int_input(x: usize, cin: i32, h: i32, w: i32, signedX: i32, za: i32, pt: i32, pl: i32,
  th: i32, tw4: i32, kp: i32, pad: usize, dst: usize): void {
  const ph = 2 * th + 4, pw = 2 * tw4 + 2;
  const np = (th * tw4 + 7) >> 3;
  const block = <usize>np * <usize>kp * 16;
  const vza = i16x8.splat(<i16>za);
  const keep = memory.data(16 * 16), cur = memory.data(16 * 16), next = memory.data(16 * 16);
  for (let c = 0; c < kp; c += 2) {
    // two channels at a time: their V_t interleave into one 32-byte k-pair block per panel
    for (let half = 0; half < 2; half++) {
      const ch = c + half;
      const padHalf = pad + <usize>half * <usize>(ph * pw + 32);
      // a channel past cin keeps its za-filled plane: all zeros after − za
      fillBytes(padHalf, za, ph * pw + 32);
      if (ch >= cin) continue;
      const plane = x + <usize>ch * <usize>(h * w);
      // input row iy lands at padded row iy + pt; rows and columns beyond the tiles are not needed
      for (let iy = max(0, -pt); iy < min(h, ph - pt); iy++) {
        const x0 = max(0, -pl), x1 = min(w, pw - pl);
        if (x1 > x0) copyBytes(padHalf + <usize>((iy + pt) * pw + x0 + pl), plane + <usize>(iy * w + x0), x1 - x0);
      }
    }
    for (let q = 0; q < np; q++) {
      const ty = (q * 8) / tw4, tx = (q * 8) % tw4;
      const panel = dst + <usize>q * <usize>kp * 16 + <usize>(c >> 1) * 32;
      for (let half = 0; half < 2; half++) {
        const padHalf = pad + <usize>half * <usize>(ph * pw + 32);
        const out = half == 0 ? keep : cur;
        transform8(padHalf + <usize>(2 * ty * pw + 2 * tx), pw, signedX, vza, out);
        if (tx + 8 > tw4) {
          // the panel's last 4 tiles open the next tile row
          transform8(padHalf + <usize>(2 * (ty + 1) * pw), pw, signedX, vza, next);
          for (let t = 0; t < 16; t++) {
            const o = out + <usize>t * 16;
            v128.store(o, i8x16.shuffle(v128.load(o), v128.load(next + <usize>t * 16), 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
          }
        }
      }
      for (let t = 0; t < 16; t++) {
        const a = v128.load(keep + <usize>t * 16), v = v128.load(cur + <usize>t * 16);
        const p = panel + <usize>t * block;
        v128.store(p, i8x16.shuffle(a, v, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
        v128.store(p, i8x16.shuffle(a, v, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31), 16);
      }
    }
  }
}

/**
 * Y = (Aᵀ M A)/4 for every output channel and tile: M block t is cout rows of ldm int32 (tiles th·tw4, row-major);
 * out is cout planes of oh×ow int32.
 */
export function wino_int_output(m: usize, cout: i32, ldm: i32, th: i32, tw4: i32, oh: i32, ow: i32, out: usize): void {
  const block = <usize>cout * <usize>ldm * 4;
  for (let o = 0; o < cout; o++) {
    const row = m + <usize>o * <usize>ldm * 4;
    const plane = out + <usize>o * <usize>(oh * ow) * 4;
    for (let ty = 0; ty < th; ty++) {
      for (let tx = 0; tx < tw4; tx += 4) {
        const jo = <usize>(ty * tw4 + tx) * 4;
        // Aᵀ along rows: (0+1+2, 1−2−3) of each column, for both result rows
        let s0 = i32x4.splat(0), s1 = s0, s2 = s0, s3 = s0, d0 = s0, d1 = s0, d2 = s0, d3 = s0;
        for (let j = 0; j < 4; j++) {
          const m0 = v128.load(row + <usize>j * block + jo), m1 = v128.load(row + <usize>(4 + j) * block + jo);
          const m2 = v128.load(row + <usize>(8 + j) * block + jo), m3 = v128.load(row + <usize>(12 + j) * block + jo);
          const s = i32x4.add(i32x4.add(m0, m1), m2), d = i32x4.sub(i32x4.sub(m1, m2), m3);
          if (j == 0) { s0 = s; d0 = d; } else if (j == 1) { s1 = s; d1 = d; } else if (j == 2) { s2 = s; d2 = d; } else { s3 = s; d3 = d; }
        }
        // A along columns, then the exact division by 4
        const y00 = i32x4.shr_s(i32x4.add(i32x4.add(s0, s1), s2), 2), y01 = i32x4.shr_s(i32x4.sub(i32x4.sub(s1, s2), s3), 2);
        const y10 = i32x4.shr_s(i32x4.add(i32x4.add(d0, d1), d2), 2), y11 = i32x4.shr_s(i32x4.sub(i32x4.sub(d1, d2), d3), 2);
        const oy = 2 * ty, ox = 2 * tx;
        if (oy + 1 < oh && ox + 8 <= ow) {
          const p0 = plane + <usize>(oy * ow + ox) * 4, p1 = p0 + <usize>ow * 4;
          v128.store(p0, i32x4.shuffle(y00, y01, 0, 4, 1, 5)); v128.store(p0, i32x4.shuffle(y00, y01, 2, 6, 3, 7), 16);
          v128.store(p1, i32x4.shuffle(y10, y11, 0, 4, 1, 5)); v128.store(p1, i32x4.shuffle(y10, y11, 2, 6, 3, 7), 16);
        } else {
          tileTail(plane, oh, ow, oy, ox, y00, y01, y10, y11);
        }
      }
    }
  }
}

// The outputs of four tiles that lie inside the oh×ow plane, one by one (right and bottom edges).
function tileTail(plane: usize, oh: i32, ow: i32, oy: i32, ox: i32, y00: v128, y01: v128, y10: v128, y11: v128): void {
  const tmp = memory.data(16 * 4);
  v128.store(tmp, y00); v128.store(tmp, y01, 16); v128.store(tmp, y10, 32); v128.store(tmp, y11, 48);
  for (let l = 0; l < 4; l++) {
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < 2; b++) {
        const y = oy + a, x = ox + 2 * l + b;
        if (y < oh && x < ow) store<i32>(plane + <usize>(y * ow + x) * 4, load<i32>(tmp + <usize>((a * 2 + b) * 4 + l) * 4));
      }
    }
  }
}

/**
 * C[i·ldc + j] = Σ_k S[i,k]·P[k,j] with int16 on both sides: S in the pack_s16 layout (m rows, kp even), P as np
 * panels of 8 columns, per k pair 32 bytes [k0 j0, k1 j0, … k1 j7]. The int16 twin of gemm_panels (gemm-int8.ts).
 */
export function gemm_panels16(s: usize, m: i32, kp: i32, p: usize, np: i32, c: usize, ldc: i32): void {
  const quads = m >> 2;
  const quadBytes = <usize>kp * 8, panelBytes = <usize>kp * 16, ldcBytes = <usize>ldc * 4;
  const qb = max(1, (160 * 1024) / <i32>quadBytes);
  for (let r0 = 0; r0 < quads; r0 += qb) {
    const r1 = min(quads, r0 + qb);
    for (let q = 0; q < np; q++) {
      const pp = p + <usize>q * panelBytes;
      for (let r = r0; r < r1; r++) {
        const sp = s + <usize>r * quadBytes;
        const c0 = c + <usize>(r * 4) * ldcBytes + <usize>q * 32, c1 = c0 + ldcBytes, c2 = c1 + ldcBytes, c3 = c2 + ldcBytes;
        let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (let k: usize = 0, kk: usize = 0; k < quadBytes; k += 16, kk += 32) {
          const b0 = v128.load(pp + kk), b1 = v128.load(pp + kk, 16);
          let a = v128.load32_splat(sp + k);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(a, b0)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(a, b1));
          a = v128.load32_splat(sp + k, 4);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(a, b0)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(a, b1));
          a = v128.load32_splat(sp + k, 8);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(a, b0)); c21 = i32x4.add(c21, i32x4.dot_i16x8_s(a, b1));
          a = v128.load32_splat(sp + k, 12);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(a, b0)); c31 = i32x4.add(c31, i32x4.dot_i16x8_s(a, b1));
        }
        v128.store(c0, c00); v128.store(c0, c01, 16); v128.store(c1, c10); v128.store(c1, c11, 16);
        v128.store(c2, c20); v128.store(c2, c21, 16); v128.store(c3, c30); v128.store(c3, c31, 16);
      }
    }
  }
  // tail rows: plain int16 rows of kp
  for (let i = quads * 4; i < m; i++) {
    const sr = s + <usize>quads * quadBytes + <usize>(i - quads * 4) * <usize>kp * 2;
    for (let q = 0; q < np; q++) {
      const pp = p + <usize>q * panelBytes;
      let lo = i32x4.splat(0), hi = lo;
      for (let k: usize = 0, kk: usize = 0; kk < panelBytes; k += 4, kk += 32) {
        const a = v128.load32_splat(sr + k);
        lo = i32x4.add(lo, i32x4.dot_i16x8_s(a, v128.load(pp + kk)));
        hi = i32x4.add(hi, i32x4.dot_i16x8_s(a, v128.load(pp + kk, 16)));
      }
      const r = c + <usize>i * ldcBytes + <usize>q * 32;
      v128.store(r, lo); v128.store(r, hi, 16);
    }
  }
}
