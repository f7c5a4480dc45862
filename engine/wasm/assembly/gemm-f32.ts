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
  const st = <usize>ldo * 4;
  let jj = 0;
  // 2 rows × 4 columns per tile: 8 independent (row, column) sums, each in the fixed lane order
  for (; jj + 4 <= ncols; jj += 4) {
    const w0 = wdec + <usize>jj * rowBytes, w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
    let i = 0;
    for (; i + 2 <= m; i += 2) {
      const x0 = x + <usize>i * rowBytes, x1 = x0 + rowBytes;
      let s00 = f32x4.splat(0), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
      for (let o: usize = 0; o < rowBytes; o += 16) {
        const a = v128.load(x0 + o), b = v128.load(x1 + o);
        let w = v128.load(w0 + o);
        s00 = f32x4.add(s00, f32x4.mul(a, w)); s10 = f32x4.add(s10, f32x4.mul(b, w));
        w = v128.load(w1 + o);
        s01 = f32x4.add(s01, f32x4.mul(a, w)); s11 = f32x4.add(s11, f32x4.mul(b, w));
        w = v128.load(w2 + o);
        s02 = f32x4.add(s02, f32x4.mul(a, w)); s12 = f32x4.add(s12, f32x4.mul(b, w));
        w = v128.load(w3 + o);
        s03 = f32x4.add(s03, f32x4.mul(a, w)); s13 = f32x4.add(s13, f32x4.mul(b, w));
      }
      const p = out + <usize>(i * ldo + n0 + jj) * 4;
      store<f32>(p, hsumf(s00)); store<f32>(p, hsumf(s01), 4); store<f32>(p, hsumf(s02), 8); store<f32>(p, hsumf(s03), 12);
      store<f32>(p + st, hsumf(s10)); store<f32>(p + st, hsumf(s11), 4); store<f32>(p + st, hsumf(s12), 8); store<f32>(p + st, hsumf(s13), 12);
    }
    for (; i < m; i++) {
      const x0 = x + <usize>i * rowBytes;
      let s00 = f32x4.splat(0), s01 = s00, s02 = s00, s03 = s00;
      for (let o: usize = 0; o < rowBytes; o += 16) {
        const a = v128.load(x0 + o);
        s00 = f32x4.add(s00, f32x4.mul(a, v128.load(w0 + o)));
        s01 = f32x4.add(s01, f32x4.mul(a, v128.load(w1 + o)));
        s02 = f32x4.add(s02, f32x4.mul(a, v128.load(w2 + o)));
        s03 = f32x4.add(s03, f32x4.mul(a, v128.load(w3 + o)));
      }
      const p = out + <usize>(i * ldo + n0 + jj) * 4;
      store<f32>(p, hsumf(s00)); store<f32>(p, hsumf(s01), 4); store<f32>(p, hsumf(s02), 8); store<f32>(p, hsumf(s03), 12);
    }
  }
  for (; jj < ncols; jj++) {
    const wr = wdec + <usize>jj * rowBytes;
    for (let i = 0; i < m; i++) {
      const x0 = x + <usize>i * rowBytes;
      let s0 = f32x4.splat(0);
      for (let o: usize = 0; o < rowBytes; o += 16) s0 = f32x4.add(s0, f32x4.mul(v128.load(x0 + o), v128.load(wr + o)));
      store<f32>(out + <usize>(i * ldo + n0 + jj) * 4, hsumf(s0));
    }
  }
}
