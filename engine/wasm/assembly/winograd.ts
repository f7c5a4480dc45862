// SPDX-License-Identifier: Apache-2.0
// 3×3 stride-1 convolution by Winograd F(2×2, 3×3) (Lavin & Gray 2016): every 2×2 output tile costs 16
// multiplies per (input, output) channel pair instead of 36. Weights go to U = G·g·Gᵀ, 4×4 input patches to
// V = Bᵀ·d·B, and the 16 element-wise products summed over input channels are 16 GEMMs (sgemm_f32) of
// U_ξ[M×C] by V_ξ[C×T]; the output transform Y = Aᵀ·M·A adds the bias. F(2×2, 3×3) transforms only add,
// subtract and halve, so the rounding stays within a few ulp of the direct sum.
import { sgemm_f32 } from './sgemm';

/**
 * u[ξ][p] (ξ = 4·i + j) = (G·w[p]·Gᵀ)[i][j] for the 3×3 kernels p ∈ [p0, p1) of w (pairs kernels in all,
 * p = output channel · input channels + input channel), so threads can split one transform.
 */
export function winograd_weights(w: usize, pairs: i32, p0: i32, p1: i32, u: usize): void {
  const plane = <usize>pairs * 4;
  let i = p0;
  // four (m, c) pairs per step, lanes = pairs (u is linear in m·c + c, so each ξ gets one quad store)
  for (; i + 4 <= p1; i += 4) {
    const g = w + <usize>i * 36;
    const g0 = gather(g, 0), g1 = gather(g, 1), g2 = gather(g, 2), g3 = gather(g, 3), g4 = gather(g, 4);
    const g5 = gather(g, 5), g6 = gather(g, 6), g7 = gather(g, 7), g8 = gather(g, 8);
    const half = f32x4.splat(0.5);
    const o = u + <usize>i * 4;
    gRow(g0, g1, g2, o, plane);
    gRow(f32x4.mul(f32x4.add(f32x4.add(g0, g3), g6), half), f32x4.mul(f32x4.add(f32x4.add(g1, g4), g7), half),
      f32x4.mul(f32x4.add(f32x4.add(g2, g5), g8), half), o + 4 * plane, plane);
    gRow(f32x4.mul(f32x4.add(f32x4.sub(g0, g3), g6), half), f32x4.mul(f32x4.add(f32x4.sub(g1, g4), g7), half),
      f32x4.mul(f32x4.add(f32x4.sub(g2, g5), g8), half), o + 8 * plane, plane);
    gRow(g6, g7, g8, o + 12 * plane, plane);
  }
  for (; i < p1; i++) {
    const g = w + <usize>i * 36;
    // G·g: rows h0 = g0, h1 = (g0 + g1 + g2)/2, h2 = (g0 − g1 + g2)/2, h3 = g2 (each a 3-vector)
    for (let r = 0; r < 4; r++) {
      let h0: f32, h1: f32, h2: f32;
      if (r == 0) { h0 = load<f32>(g); h1 = load<f32>(g, 4); h2 = load<f32>(g, 8); }
      else if (r == 3) { h0 = load<f32>(g, 24); h1 = load<f32>(g, 28); h2 = load<f32>(g, 32); }
      else {
        const s: f32 = r == 1 ? 1 : -1;
        h0 = (load<f32>(g) + s * load<f32>(g, 12) + load<f32>(g, 24)) * 0.5;
        h1 = (load<f32>(g, 4) + s * load<f32>(g, 16) + load<f32>(g, 28)) * 0.5;
        h2 = (load<f32>(g, 8) + s * load<f32>(g, 20) + load<f32>(g, 32)) * 0.5;
      }
      const o = u + <usize>i * 4 + <usize>(r * 4) * plane;
      store<f32>(o, h0);
      store<f32>(o + plane, (h0 + h1 + h2) * 0.5);
      store<f32>(o + 2 * plane, (h0 - h1 + h2) * 0.5);
      store<f32>(o + 3 * plane, h2);
    }
  }
}

/** Tap k of four consecutive 3×3 kernels (9 floats each) from g, as one quad. */
@inline function gather(g: usize, k: i32): v128 {
  const p = g + <usize>k * 4;
  return f32x4(load<f32>(p), load<f32>(p, 36), load<f32>(p, 72), load<f32>(p, 108));
}

/** One row h of G·g times Gᵀ: [h0, (h0 + h1 + h2)/2, (h0 − h1 + h2)/2, h2], quads over four pairs. */
@inline function gRow(h0: v128, h1: v128, h2: v128, o: usize, plane: usize): void {
  const half = f32x4.splat(0.5);
  v128.store(o, h0);
  v128.store(o + plane, f32x4.mul(f32x4.add(f32x4.add(h0, h1), h2), half));
  v128.store(o + 2 * plane, f32x4.mul(f32x4.add(f32x4.sub(h0, h1), h2), half));
  v128.store(o + 3 * plane, h2);
}

/** One input-row quad of a patch: 4 taps from row iy at columns ix..ix+3, zero outside the image. */
@inline function tapRow(x: usize, h: i32, w: i32, iy: i32, ix: i32): v128 {
  if (iy < 0 || iy >= h) return f32x4.splat(0);
  const row = x + <usize>iy * <usize>w * 4;
  if (ix >= 0 && ix + 4 <= w) return v128.load(row + <usize>ix * 4);
  let v = f32x4.splat(0);
  if (ix >= 0 && ix < w) v = f32x4.replace_lane(v, 0, load<f32>(row + <usize>ix * 4));
  if (ix + 1 >= 0 && ix + 1 < w) v = f32x4.replace_lane(v, 1, load<f32>(row + <usize>(ix + 1) * 4));
  if (ix + 2 >= 0 && ix + 2 < w) v = f32x4.replace_lane(v, 2, load<f32>(row + <usize>(ix + 2) * 4));
  if (ix + 3 >= 0 && ix + 3 < w) v = f32x4.replace_lane(v, 3, load<f32>(row + <usize>(ix + 3) * 4));
  return v;
}

/** Bᵀ applied along a row quad e: [e0 − e2, e1 + e2, e2 − e1, e1 − e3]. */
@inline function btRow(e: v128): v128 {
  const a = v128.shuffle<f32>(e, e, 0, 1, 2, 1);
  const b = v128.shuffle<f32>(e, e, 2, 2, 1, 3);
  return f32x4.add(a, f32x4.mul(b, f32x4(-1, 1, -1, -1)));
}

@inline function storeQuad(p: usize, q: v128, plane: usize): void {
  store<f32>(p, f32x4.extract_lane(q, 0));
  store<f32>(p + plane, f32x4.extract_lane(q, 1));
  store<f32>(p + 2 * plane, f32x4.extract_lane(q, 2));
  store<f32>(p + 3 * plane, f32x4.extract_lane(q, 3));
}

/**
 * Tiles [t0, t0 + tc) (image-major: t = n·th·tw + ty·tw + tx, th = ⌈oh/2⌉, tw = ⌈ow/2⌉) of the convolution of
 * x (c channels of h×w per image, images imageStride floats apart; padding pt, pl) with u (winograd_weights of
 * m×c) into y (m planes of oh×ow per image, images yImageStride floats apart), plus bias[m] when bias ≠ 0. v holds 16·c·tc floats, mb 16·⌈m/4⌉·4·⌈tc/8⌉·8,
 * work sgemm_work_floats().
 */
export function winograd_conv(x: usize, imageStride: i32, c: i32, h: i32, w: i32, pt: i32, pl: i32, oh: i32, ow: i32,
  u: usize, m: i32, bias: usize, y: usize, yImageStride: i32, t0: i32, tc: i32, v: usize, mb: usize, work: usize): void {
  const th = (oh + 1) >> 1, tw = (ow + 1) >> 1, per = th * tw;
  const vPlane = <usize>c * <usize>tc * 4;
  // input transform: V[ξ][ci][t − t0]; four tiles of one tile row at a time when their patches lie inside
  for (let ci = 0; ci < c; ci++) {
    let tt = 0;
    while (tt < tc) {
      const t = t0 + tt, n = t / per, r = t - n * per, ty = r / tw, tx = r - ty * tw;
      const xc = x + (<usize>n * <usize>imageStride + <usize>ci * <usize>h * <usize>w) * 4;
      const iy = 2 * ty - pt, ix = 2 * tx - pl;
      const o = v + (<usize>ci * <usize>tc + <usize>tt) * 4;
      if (tt + 4 <= tc && tx + 4 <= tw && iy >= 0 && iy + 4 <= h && ix >= 0 && ix + 12 <= w) {
        inputQuad(xc + (<usize>iy * <usize>w + <usize>ix) * 4, <usize>w * 4, o, vPlane);
        tt += 4;
        continue;
      }
      const d0 = tapRow(xc, h, w, iy, ix), d1 = tapRow(xc, h, w, iy + 1, ix);
      const d2 = tapRow(xc, h, w, iy + 2, ix), d3 = tapRow(xc, h, w, iy + 3, ix);
      storeQuad(o, btRow(f32x4.sub(d0, d2)), vPlane);
      storeQuad(o + 4 * vPlane, btRow(f32x4.add(d1, d2)), vPlane);
      storeQuad(o + 8 * vPlane, btRow(f32x4.sub(d2, d1)), vPlane);
      storeQuad(o + 12 * vPlane, btRow(f32x4.sub(d1, d3)), vPlane);
      tt++;
    }
  }
  // 16 GEMMs M_ξ = U_ξ · V_ξ
  const mPad = (m + 3) & ~3, ldm = (tc + 7) & ~7;
  const mPlane = <usize>mPad * <usize>ldm * 4;
  memory.fill(mb, 0, 16 * mPlane);
  const uPlane = <usize>m * <usize>c * 4;
  for (let xi = 0; xi < 16; xi++) {
    sgemm_f32(m, tc, c, u + <usize>xi * uPlane, c, 1, v + <usize>xi * vPlane, tc, 1, mb + <usize>xi * mPlane, ldm, work);
  }
  // output transform: Y = Aᵀ·M·A with Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]], clipped at the image edge; four
  // tiles of one tile row at a time when their outputs lie inside
  for (let mi = 0; mi < m; mi++) {
    const b: f32 = bias ? load<f32>(bias + <usize>mi * 4) : 0;
    let tt = 0;
    while (tt < tc) {
      const t = t0 + tt, n = t / per, r = t - n * per, ty = r / tw, tx = r - ty * tw;
      const p = mb + (<usize>mi * <usize>ldm + <usize>tt) * 4;
      const oy = 2 * ty, ox = 2 * tx;
      const yo = y + (<usize>n * <usize>yImageStride + <usize>mi * <usize>oh * <usize>ow + <usize>oy * <usize>ow + <usize>ox) * 4;
      if (tt + 4 <= tc && tx + 4 <= tw && ox + 8 <= ow && oy + 2 <= oh) {
        outputQuad(p, mPlane, f32x4.splat(b), yo, <usize>ow * 4);
        tt += 4;
        continue;
      }
      // rows of M as quads over j (the four ξ = 4i + j of row i)
      const q0 = f32x4(load<f32>(p), load<f32>(p + mPlane), load<f32>(p + 2 * mPlane), load<f32>(p + 3 * mPlane));
      const q1 = f32x4(load<f32>(p + 4 * mPlane), load<f32>(p + 5 * mPlane), load<f32>(p + 6 * mPlane), load<f32>(p + 7 * mPlane));
      const q2 = f32x4(load<f32>(p + 8 * mPlane), load<f32>(p + 9 * mPlane), load<f32>(p + 10 * mPlane), load<f32>(p + 11 * mPlane));
      const q3 = f32x4(load<f32>(p + 12 * mPlane), load<f32>(p + 13 * mPlane), load<f32>(p + 14 * mPlane), load<f32>(p + 15 * mPlane));
      const r0 = f32x4.add(f32x4.add(q0, q1), q2), r1 = f32x4.sub(f32x4.sub(q1, q2), q3);
      const y00 = f32x4.extract_lane(r0, 0) + f32x4.extract_lane(r0, 1) + f32x4.extract_lane(r0, 2) + b;
      const y01 = f32x4.extract_lane(r0, 1) - f32x4.extract_lane(r0, 2) - f32x4.extract_lane(r0, 3) + b;
      const y10 = f32x4.extract_lane(r1, 0) + f32x4.extract_lane(r1, 1) + f32x4.extract_lane(r1, 2) + b;
      const y11 = f32x4.extract_lane(r1, 1) - f32x4.extract_lane(r1, 2) - f32x4.extract_lane(r1, 3) + b;
      store<f32>(yo, y00);
      if (ox + 1 < ow) store<f32>(yo, y01, 4);
      if (oy + 1 < oh) {
        store<f32>(yo + <usize>ow * 4, y10);
        if (ox + 1 < ow) store<f32>(yo + <usize>ow * 4, y11, 4);
      }
      tt++;
    }
  }
}

/**
 * Input transform of four horizontally adjacent tiles (lanes = tiles) whose 4×10 patch rows start at src
 * (row stride rowBytes), all inside the image: V[ξ] for the four tiles is one quad stored at o + ξ·plane.
 */
@inline function inputQuad(src: usize, rowBytes: usize, o: usize, plane: usize): void {
  // d[r][k] over the tiles = row r, columns k, k + 2, k + 4, k + 6
  let a = v128.load(src), b = v128.load(src, 16), e = v128.load(src, 32);
  const d00 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), d01 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
  const d02 = v128.shuffle<f32>(v128.shuffle<f32>(a, b, 2, 4, 6, 0), e, 0, 1, 2, 4), d03 = v128.shuffle<f32>(v128.shuffle<f32>(a, b, 3, 5, 7, 0), e, 0, 1, 2, 5);
  src += rowBytes;
  a = v128.load(src); b = v128.load(src, 16); e = v128.load(src, 32);
  const d10 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), d11 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
  const d12 = v128.shuffle<f32>(v128.shuffle<f32>(a, b, 2, 4, 6, 0), e, 0, 1, 2, 4), d13 = v128.shuffle<f32>(v128.shuffle<f32>(a, b, 3, 5, 7, 0), e, 0, 1, 2, 5);
  src += rowBytes;
  a = v128.load(src); b = v128.load(src, 16); e = v128.load(src, 32);
  const d20 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), d21 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
  const d22 = v128.shuffle<f32>(v128.shuffle<f32>(a, b, 2, 4, 6, 0), e, 0, 1, 2, 4), d23 = v128.shuffle<f32>(v128.shuffle<f32>(a, b, 3, 5, 7, 0), e, 0, 1, 2, 5);
  src += rowBytes;
  a = v128.load(src); b = v128.load(src, 16); e = v128.load(src, 32);
  const d30 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), d31 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
  const d32 = v128.shuffle<f32>(v128.shuffle<f32>(a, b, 2, 4, 6, 0), e, 0, 1, 2, 4), d33 = v128.shuffle<f32>(v128.shuffle<f32>(a, b, 3, 5, 7, 0), e, 0, 1, 2, 5);
  // Bᵀ·d (rows), then ·B (columns): [e0 − e2, e1 + e2, e2 − e1, e1 − e3]
  cols(f32x4.sub(d00, d20), f32x4.sub(d01, d21), f32x4.sub(d02, d22), f32x4.sub(d03, d23), o, plane);
  cols(f32x4.add(d10, d20), f32x4.add(d11, d21), f32x4.add(d12, d22), f32x4.add(d13, d23), o + 4 * plane, plane);
  cols(f32x4.sub(d20, d10), f32x4.sub(d21, d11), f32x4.sub(d22, d12), f32x4.sub(d23, d13), o + 8 * plane, plane);
  cols(f32x4.sub(d10, d30), f32x4.sub(d11, d31), f32x4.sub(d12, d32), f32x4.sub(d13, d33), o + 12 * plane, plane);
}

@inline function cols(e0: v128, e1: v128, e2: v128, e3: v128, o: usize, plane: usize): void {
  v128.store(o, f32x4.sub(e0, e2));
  v128.store(o + plane, f32x4.add(e1, e2));
  v128.store(o + 2 * plane, f32x4.sub(e2, e1));
  v128.store(o + 3 * plane, f32x4.sub(e1, e3));
}

/** Output transform of four adjacent tiles (lanes = tiles) from the product planes at p into two output rows at yo. */
@inline function outputQuad(p: usize, plane: usize, bias: v128, yo: usize, rowBytes: usize): void {
  const m00 = v128.load(p), m01 = v128.load(p + plane), m02 = v128.load(p + 2 * plane), m03 = v128.load(p + 3 * plane);
  const m10 = v128.load(p + 4 * plane), m11 = v128.load(p + 5 * plane), m12 = v128.load(p + 6 * plane), m13 = v128.load(p + 7 * plane);
  const m20 = v128.load(p + 8 * plane), m21 = v128.load(p + 9 * plane), m22 = v128.load(p + 10 * plane), m23 = v128.load(p + 11 * plane);
  const m30 = v128.load(p + 12 * plane), m31 = v128.load(p + 13 * plane), m32 = v128.load(p + 14 * plane), m33 = v128.load(p + 15 * plane);
  // Aᵀ·M (rows): r0 = m0 + m1 + m2, r1 = m1 − m2 − m3; then ·A (columns): [e0 + e1 + e2, e1 − e2 − e3]
  const r00 = f32x4.add(f32x4.add(m00, m10), m20), r01 = f32x4.add(f32x4.add(m01, m11), m21);
  const r02 = f32x4.add(f32x4.add(m02, m12), m22), r03 = f32x4.add(f32x4.add(m03, m13), m23);
  const r10 = f32x4.sub(f32x4.sub(m10, m20), m30), r11 = f32x4.sub(f32x4.sub(m11, m21), m31);
  const r12 = f32x4.sub(f32x4.sub(m12, m22), m32), r13 = f32x4.sub(f32x4.sub(m13, m23), m33);
  const y00 = f32x4.add(f32x4.add(f32x4.add(r00, r01), r02), bias), y01 = f32x4.add(f32x4.sub(f32x4.sub(r01, r02), r03), bias);
  const y10 = f32x4.add(f32x4.add(f32x4.add(r10, r11), r12), bias), y11 = f32x4.add(f32x4.sub(f32x4.sub(r11, r12), r13), bias);
  // interleave the tiles' two columns: row = [t0c0, t0c1, t1c0, t1c1, …]
  v128.store(yo, v128.shuffle<f32>(y00, y01, 0, 4, 1, 5));
  v128.store(yo, v128.shuffle<f32>(y00, y01, 2, 6, 3, 7), 16);
  v128.store(yo + rowBytes, v128.shuffle<f32>(y10, y11, 0, 4, 1, 5));
  v128.store(yo + rowBytes, v128.shuffle<f32>(y10, y11, 2, 6, 3, 7), 16);
}
