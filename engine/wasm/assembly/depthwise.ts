// SPDX-License-Identifier: Apache-2.0
// Direct int8 depthwise convolution (one input and one output channel per group): for every channel,
// out[oy, ox] = Σ_{ky,kx} (x[iy, ix] − za)·(w[ky, kx] − zw[c]) in exact int32, the input plane first copied
// into a padded plane (pad value = za, so padding contributes zero). Stride 1 runs 8 (or 4) output pixels at
// once with int16 operands and i32x4.extmul, stride 2 four at once; other strides run scalar. The epilogue then
// needs no zero-point terms. Scalar twin: engine/kernels/reference.ts (depthwiseRef).
import { copyBytes, fillBytes } from './bytes';

/**
 * x: c planes of h×w activation bytes (unsigned when signedX = 0); wts: c rows of kh·kw signed weight bytes
 * (row stride wstride);
 * zw: int32 per channel; pad: scratch of (h+pt+pb)·(w+pl+pr) + 16 bytes; out: c × oh·ow int32.
 */
export function depthwise_conv(x: usize, c: i32, h: i32, w: i32, signedX: i32, za: i32, wts: usize, wstride: i32, zw: usize, kh: i32, kw: i32,
  sh: i32, sw: i32, pt: i32, pl: i32, pb: i32, pr: i32, dh: i32, dw: i32, oh: i32, ow: i32, pad: usize, out: usize): void {
  const ph = h + pt + pb, pw = w + pl + pr;
  const padByte = <u8>(za & 0xff);
  const vza = i16x8.splat(<i16>za);
  for (let ch = 0; ch < c; ch++) {
    // padded copy of the plane
    fillBytes(pad, padByte, ph * pw + 16);
    const plane = x + <usize>ch * <usize>(h * w);
    for (let y = 0; y < h; y++) copyBytes(pad + <usize>((y + pt) * pw + pl), plane + <usize>(y * w), w);
    const o = out + <usize>ch * <usize>(oh * ow) * 4;
    const wc = wts + <usize>ch * <usize>wstride;
    const z = load<i32>(zw + <usize>ch * 4);
    if (sh == 1 && sw == 1) {
      for (let oy = 0; oy < oh; oy++) {
        const orow = o + <usize>(oy * ow) * 4;
        let ox = 0;
        for (; ox + 8 <= ow; ox += 8) {
          let lo = i32x4.splat(0), hi = lo;
          for (let ky = 0; ky < kh; ky++) {
            const line = pad + <usize>((oy + ky * dh) * pw + ox);
            for (let kx = 0; kx < kw; kx++) {
              const p = line + <usize>(kx * dw);
              const xv = i16x8.sub(signedX ? v128.load8x8_s(p) : v128.load8x8_u(p), vza);
              const wv = i16x8.splat(<i16>(<i32>load<i8>(wc + <usize>(ky * kw + kx)) - z));
              lo = i32x4.add(lo, i32x4.extmul_low_i16x8_s(xv, wv));
              hi = i32x4.add(hi, i32x4.extmul_high_i16x8_s(xv, wv));
            }
          }
          v128.store(orow + <usize>ox * 4, lo);
          v128.store(orow + <usize>ox * 4, hi, 16);
        }
        for (; ox + 4 <= ow; ox += 4) {
          let lo = i32x4.splat(0);
          for (let ky = 0; ky < kh; ky++) {
            const line = pad + <usize>((oy + ky * dh) * pw + ox);
            for (let kx = 0; kx < kw; kx++) {
              const v = v128.load32_zero(line + <usize>(kx * dw));
              const xv = i16x8.sub(signedX ? i16x8.extend_low_i8x16_s(v) : i16x8.extend_low_i8x16_u(v), vza);
              const wv = i16x8.splat(<i16>(<i32>load<i8>(wc + <usize>(ky * kw + kx)) - z));
              lo = i32x4.add(lo, i32x4.extmul_low_i16x8_s(xv, wv));
            }
          }
          v128.store(orow + <usize>ox * 4, lo);
        }
        for (; ox < ow; ox++) store<i32>(orow + <usize>ox * 4, pixel(pad, pw, oy, ox, 1, 1, dh, dw, kh, kw, wc, z, za, signedX));
      }
    } else if (sw == 2) {
      // four output pixels per step: their taps are bytes 0, 2, 4, 6 of an 8-byte load (the pad scratch has slack)
      for (let oy = 0; oy < oh; oy++) {
        const orow = o + <usize>(oy * ow) * 4;
        let ox = 0;
        for (; ox + 4 <= ow; ox += 4) {
          let acc = i32x4.splat(0);
          for (let ky = 0; ky < kh; ky++) {
            const line = pad + <usize>((oy * sh + ky * dh) * pw + ox * 2);
            for (let kx = 0; kx < kw; kx++) {
              const v = v128.load64_zero(line + <usize>(kx * dw));
              const even = i8x16.shuffle(v, v, 0, 2, 4, 6, 0, 2, 4, 6, 0, 2, 4, 6, 0, 2, 4, 6);
              const xv = i16x8.sub(signedX ? i16x8.extend_low_i8x16_s(even) : i16x8.extend_low_i8x16_u(even), vza);
              const wv = i16x8.splat(<i16>(<i32>load<i8>(wc + <usize>(ky * kw + kx)) - z));
              acc = i32x4.add(acc, i32x4.extmul_low_i16x8_s(xv, wv));
            }
          }
          v128.store(orow + <usize>ox * 4, acc);
        }
        for (; ox < ow; ox++) store<i32>(orow + <usize>ox * 4, pixel(pad, pw, oy, ox, sh, sw, dh, dw, kh, kw, wc, z, za, signedX));
      }
    } else {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) store<i32>(o + <usize>(oy * ow + ox) * 4, pixel(pad, pw, oy, ox, sh, sw, dh, dw, kh, kw, wc, z, za, signedX));
      }
    }
  }
}

@inline function pixel(pad: usize, pw: i32, oy: i32, ox: i32, sh: i32, sw: i32, dh: i32, dw: i32, kh: i32, kw: i32,
  wc: usize, z: i32, za: i32, signedX: i32): i32 {
  let s = 0;
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const p = pad + <usize>((oy * sh + ky * dh) * pw + ox * sw + kx * dw);
      const xv = signedX ? <i32>load<i8>(p) : <i32>load<u8>(p);
      s += (xv - za) * (<i32>load<i8>(wc + <usize>(ky * kw + kx)) - z);
    }
  }
  return s;
}
