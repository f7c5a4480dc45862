// SPDX-License-Identifier: Apache-2.0
// Weight-only and decode-table paths: packed codes are decoded a block of columns at a time into an FP32
// scratch panel (value = (lut[u] − zp[n,blk])·scale[n,blk], exactly ONNX DequantizeLinear), then an FP32 GEMM
// against FP32 activations. The FP32 sum order is fixed (4 lanes over k ≡ l mod 4, then (l0+l1)+(l2+l3))
// so the scalar twin in engine/kernels/reference.ts reproduces it bit for bit.

/**
 * Decodes columns [n0, n0+ncols) of codes packed in the low-bit chunk layout (bits 1, 2, 4; 8 = one byte per
 * code) into dst (ncols rows × kp floats, zero beyond k). Scales/zero points are [n][nb], block size bs along k.
 */
export function decode_cols(packed: usize, colBytes: i32, bits: i32, n0: i32, ncols: i32, k: i32, kp: i32,
  lut: usize, scales: usize, zps: usize, nb: i32, bs: i32, dst: usize): void {
  const g = 128 / bits;
  const mask = (1 << bits) - 1;
  for (let jj = 0; jj < ncols; jj++) {
    const j = n0 + jj;
    const col = packed + <usize>j * <usize>colBytes;
    const row = dst + <usize>jj * <usize>kp * 4;
    const sp = scales + <usize>j * <usize>nb * 4;
    const zp = zps + <usize>j * <usize>nb * 4;
    for (let kk = 0; kk < k; kk++) {
      const r = kk % g;
      const byte = <i32>load<u8>(col + <usize>(kk / g) * 16 + <usize>(r & 15));
      const u = (byte >> ((r >> 4) * bits)) & mask;
      const blk = <usize>(kk / bs) * 4;
      store<f32>(row + <usize>kk * 4, (load<f32>(lut + <usize>u * 4) - load<f32>(zp + blk)) * load<f32>(sp + blk));
    }
    for (let kk = k; kk < kp; kk++) store<f32>(row + <usize>kk * 4, 0);
  }
}

@inline function hsumf(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** out[i·ldo + n0 + jj] = Σ_k x[i,k]·wdec[jj,k] for m rows of x (stride kp floats, kp a multiple of 4). */
export function gemm_f32(x: usize, m: i32, kp: i32, wdec: usize, ncols: i32, out: usize, ldo: i32, n0: i32): void {
  const rowBytes = <usize>kp * 4;
  for (let jj = 0; jj < ncols; jj++) {
    const wr = wdec + <usize>jj * rowBytes;
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const x0 = x + <usize>i * rowBytes, x1 = x0 + rowBytes, x2 = x1 + rowBytes, x3 = x2 + rowBytes;
      let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
      for (let o: usize = 0; o < rowBytes; o += 16) {
        const wv = v128.load(wr + o);
        s0 = f32x4.add(s0, f32x4.mul(v128.load(x0 + o), wv));
        s1 = f32x4.add(s1, f32x4.mul(v128.load(x1 + o), wv));
        s2 = f32x4.add(s2, f32x4.mul(v128.load(x2 + o), wv));
        s3 = f32x4.add(s3, f32x4.mul(v128.load(x3 + o), wv));
      }
      const p = out + <usize>(i * ldo + n0 + jj) * 4;
      const st = <usize>ldo * 4;
      store<f32>(p, hsumf(s0)); store<f32>(p + st, hsumf(s1)); store<f32>(p + 2 * st, hsumf(s2)); store<f32>(p + 3 * st, hsumf(s3));
    }
    for (; i < m; i++) {
      const x0 = x + <usize>i * rowBytes;
      let s0 = f32x4.splat(0);
      for (let o: usize = 0; o < rowBytes; o += 16) s0 = f32x4.add(s0, f32x4.mul(v128.load(x0 + o), v128.load(wr + o)));
      store<f32>(out + <usize>(i * ldo + n0 + jj) * 4, hsumf(s0));
    }
  }
}
