// SPDX-License-Identifier: Apache-2.0
// Activation side of the integer kernels: FP32 → integer codes (ONNX QuantizeLinear rounding), per-row
// sums of the codes (zero-point corrections), and im2col for convolutions. Scalar twins: engine/kernels/reference.ts.
import { copyBytes } from './bytes';

@inline function quant4(p: usize, vs: v128, vz: v128, vlo: v128, vhi: v128): v128 {
  const v = f32x4.add(f32x4.nearest(f32x4.div(v128.load(p), vs)), vz);
  return i32x4.trunc_sat_f32x4_s(f32x4.min(f32x4.max(v, vlo), vhi));
}

/**
 * Quantizes `rows` × `k` FP32 values (row stride `k`) into bytes with row stride `kp`, zero-filling k..kp.
 * q = clamp(nearest(x / scale) + zp, qmin, qmax) exactly as MLAS QuantizeLinear (division, ties to even);
 * the stored byte is (q & 0xFF) ^ flip, so a kernel can see signed or unsigned codes.
 */
export function quantize_rows(x: usize, rows: i32, k: i32, kp: i32, out: usize, scale: f32, zp: i32, qmin: i32, qmax: i32, flip: i32): void {
  const vs = f32x4.splat(scale);
  const vz = f32x4.splat(<f32>zp);
  const vlo = f32x4.splat(<f32>qmin);
  const vhi = f32x4.splat(<f32>qmax);
  const fz = <f32>zp;
  const flo = <f32>qmin;
  const fhi = <f32>qmax;
  for (let r = 0; r < rows; r++) {
    const src = x + <usize>r * <usize>k * 4;
    const dst = out + <usize>r * <usize>kp;
    let i = 0;
    const vflip = i8x16.splat(<i8>flip);
    const byteMask = i32x4.splat(0xff);
    for (; i + 16 <= k; i += 16) {
      // 16 codes: (q & 0xFF) fits both unsigned narrowings exactly
      const q0 = v128.and(quant4(src + <usize>i * 4, vs, vz, vlo, vhi), byteMask);
      const q1 = v128.and(quant4(src + <usize>i * 4 + 16, vs, vz, vlo, vhi), byteMask);
      const q2 = v128.and(quant4(src + <usize>i * 4 + 32, vs, vz, vlo, vhi), byteMask);
      const q3 = v128.and(quant4(src + <usize>i * 4 + 48, vs, vz, vlo, vhi), byteMask);
      const b = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(q0, q1), i16x8.narrow_i32x4_u(q2, q3));
      v128.store(dst + i, v128.xor(b, vflip));
    }
    for (; i < k; i++) {
      let v = nearest<f32>(load<f32>(src + <usize>i * 4) / scale) + fz;
      v = min<f32>(max<f32>(v, flo), fhi);
      store<u8>(dst + i, <u8>((<i32>v & 0xff) ^ flip));
    }
    for (; i < kp; i++) store<u8>(dst + i, 0);
  }
}

/** Sum of each row's first `k` bytes, read as signed (signed != 0) or unsigned codes. */
export function row_sums(a: usize, rows: i32, k: i32, stride: i32, signed: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const p = a + <usize>r * <usize>stride;
    let acc = i32x4.splat(0);
    let i = 0;
    if (signed) {
      for (; i + 16 <= k; i += 16) acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(p + i))));
    } else {
      for (; i + 16 <= k; i += 16) acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(v128.load(p + i))));
    }
    let s = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
    for (; i < k; i++) s += signed ? <i32>load<i8>(p + i) : <i32>load<u8>(p + i);
    store<i32>(out + <usize>r * 4, s);
  }
}

/**
 * im2col for one image and one group: src holds `c` channels of h×w bytes; each output row (one output
 * pixel, oh·ow rows) gets c·kh·kw bytes in (channel, ky, kx) order — the ONNX weight order — padded with
 * `padByte` outside the image and with zeros from k to kp.
 */
export function im2col(src: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  padTop: i32, padLeft: i32, dh: i32, dw: i32, oh: i32, ow: i32, kp: i32, padByte: i32, dst: usize): void {
  const k = c * kh * kw;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const row = dst + <usize>(oy * ow + ox) * <usize>kp;
      let j = 0;
      for (let ch = 0; ch < c; ch++) {
        const plane = src + <usize>ch * <usize>h * <usize>w;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - padTop + ky * dh;
          if (iy < 0 || iy >= h) {
            for (let kx = 0; kx < kw; kx++) store<u8>(row + j++, <u8>padByte);
            continue;
          }
          const line = plane + <usize>iy * <usize>w;
          const ix0 = ox * sw - padLeft;
          if (dw == 1 && ix0 >= 0 && ix0 + kw <= w) {
            copyBytes(row + j, line + ix0, kw);
            j += kw;
            continue;
          }
          for (let kx = 0; kx < kw; kx++) {
            const ix = ix0 + kx * dw;
            store<u8>(row + j++, ix < 0 || ix >= w ? <u8>padByte : load<u8>(line + ix));
          }
        }
      }
      for (; j < kp; j++) store<u8>(row + j, 0);
    }
  }
  if (k > kp) unreachable();
}
