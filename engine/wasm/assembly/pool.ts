// SPDX-License-Identifier: Apache-2.0
// 2-D max pooling of float32 NCHW planes (the MaxPool op without an Indices output). Window bounds are clipped per
// output row and column, so no tap is tested inside the loops; the common 2×2 stride-2 window without padding runs
// four outputs per SIMD step. NaN and −0 follow engine/ops/pool.ts: the first tap seeds the maximum and a later tap
// replaces it only when greater.

@inline function firstTap(start: i32, d: i32): i32 {
  return start >= 0 ? 0 : (-start + d - 1) / d;
}

@inline function endTap(start: i32, k: i32, d: i32, size: i32): i32 {
  const last = size - 1 - start;
  return last < 0 ? 0 : min(k, last / d + 1);
}

/** y[plane, oy, ox] = max over the clipped window of x[plane]; planes of h×w in, oh×ow out. */
export function maxpool2d_f32(x: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32,
  pt: i32, pl: i32, oh: i32, ow: i32, y: usize): void {
  const plain2x2 = kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1 && pt == 0 && pl == 0 && 2 * oh <= h && 2 * ow <= w;
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>p * <usize>(h * w) * 4;
    const yp = y + <usize>p * <usize>(oh * ow) * 4;
    for (let oy = 0; oy < oh; oy++) {
      const h0 = oy * sh - pt;
      const i0 = firstTap(h0, dh), i1 = endTap(h0, kh, dh, h);
      const out = yp + <usize>(oy * ow) * 4;
      let ox = 0;
      if (plain2x2) {
        const r0 = xp + <usize>(h0 * w) * 4, r1 = r0 + <usize>w * 4;
        for (; ox + 4 <= ow; ox += 4) {
          const o = <usize>(ox * 2) * 4;
          const a0 = v128.load(r0 + o), a1 = v128.load(r0 + o + 16), b0 = v128.load(r1 + o), b1 = v128.load(r1 + o + 16);
          // the four taps of four windows, in the scalar order; pmax(m, v) takes v only when v > m, as the scalar loop
          let m = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
          m = f32x4.pmax(m, v128.shuffle<f32>(a0, a1, 1, 3, 5, 7));
          m = f32x4.pmax(m, v128.shuffle<f32>(b0, b1, 0, 2, 4, 6));
          m = f32x4.pmax(m, v128.shuffle<f32>(b0, b1, 1, 3, 5, 7));
          v128.store(out + <usize>ox * 4, m);
        }
      }
      for (; ox < ow; ox++) {
        const w0 = ox * sw - pl;
        const j0 = firstTap(w0, dw), j1 = endTap(w0, kw, dw, w);
        let best: f32 = -Infinity;
        if (i0 < i1 && j0 < j1) best = load<f32>(xp + <usize>((h0 + i0 * dh) * w + w0 + j0 * dw) * 4);
        for (let i = i0; i < i1; i++) {
          const row = xp + <usize>((h0 + i * dh) * w + w0) * 4;
          for (let j = j0; j < j1; j++) {
            const v = load<f32>(row + <usize>(j * dw) * 4);
            if (v > best) best = v;
          }
        }
        store<f32>(out + <usize>ox * 4, best);
      }
    }
  }
}
