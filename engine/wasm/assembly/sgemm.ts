// SPDX-License-Identifier: Apache-2.0
// The FP32 GEMM under Conv, ConvTranspose, MatMul and Gemm (driven by engine/ops/gemm.ts): C += A·B with A and B
// staged in this module's memory as strided views (element strides), C a dense buffer whose rows are padded to
// a multiple of NR columns and whose row count is padded to a multiple of MR. Cache-blocked like a BLIS GEMM:
// a KC×NC panel of B and an MC×KC block of A are packed, then a 4×8 register tile (eight f32x4 accumulators)
// runs over them. The relaxed build multiplies-adds with relaxed_madd (fused on x86 with FMA); the plain build
// with mul + add. Part of the FP32 module (entry fp32.ts).
import { copyBytes, fillBytes } from './bytes';

const MR = 4;
const NR = 8;
const KC = 256;
const MC = 128;
const NC = 2048;

/** Floats of work memory sgemm_f32 needs (packed A block + packed B panel). */
export function sgemm_work_floats(): i32 {
  return MC * KC + KC * NC;
}

@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * C[m×n] (dense rows of ldc floats, rows padded to a multiple of 4, ldc ≥ n rounded up to 8) += A·B, with
 * A[i,k] at a + 4·(i·ars + k·acs) and B[k,j] at b + 4·(k·brs + j·bcs). work holds sgemm_work_floats() floats.
 */
export function sgemm_f32(m: i32, n: i32, k: i32, a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32,
  c: usize, ldc: i32, work: usize): void {
  if (m < MR) { smallRows(m, n, k, a, ars, acs, b, brs, bcs, c, ldc); return; }
  const pa = work;
  const pb = work + <usize>(MC * KC) * 4;
  const ldcBytes = <usize>ldc * 4;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      packB(b, brs, bcs, pc, jc, kc, nc, pb);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(a, ars, acs, ic, pc, mc, kc, pa);
        const stripA = <usize>kc * MR * 4, stripB = <usize>kc * NR * 4;
        for (let jr = 0; jr < nc; jr += NR) {
          const bp = pb + <usize>(jr / NR) * stripB;
          let cp = c + <usize>ic * ldcBytes + <usize>(jc + jr) * 4;
          let ap = pa;
          for (let ir = 0; ir < mc; ir += MR) {
            micro(kc, ap, bp, cp, ldcBytes);
            ap += stripA;
            cp += ldcBytes * MR;
          }
        }
      }
    }
  }
}

/** A[ic.., pc..] as MR-row strips, k-major inside a strip (ap[p·MR + r]), rows beyond mc zero. */
function packA(a: usize, rs: i32, cs: i32, ic: i32, pc: i32, mc: i32, kc: i32, out: usize): void {
  const csB = <usize>cs * 4, rsB = <usize>rs * 4;
  for (let ir = 0; ir < mc; ir += MR) {
    const base = out + <usize>ir * <usize>kc * 4;
    let p0 = 0;
    if (cs == 1 && ir + MR <= mc) {
      // row-major A: four rows × four k per step, transposed in registers
      const r0 = a + (<usize>(ic + ir) * <usize>rs + <usize>pc) * 4, r1 = r0 + rsB, r2 = r1 + rsB, r3 = r2 + rsB;
      for (; p0 + 4 <= kc; p0 += 4) {
        const o = <usize>p0 * 4;
        const x0 = v128.load(r0 + o), x1 = v128.load(r1 + o), x2 = v128.load(r2 + o), x3 = v128.load(r3 + o);
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        const d = base + <usize>p0 * MR * 4;
        v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
        v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
        v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
      }
    }
    for (let r = 0; r < MR; r++) {
      const row = ir + r;
      let o = base + (<usize>p0 * MR + <usize>r) * 4;
      if (row >= mc) {
        for (let p = p0; p < kc; p++, o += MR * 4) store<f32>(o, 0);
        continue;
      }
      let src = a + (<usize>(ic + row) * <usize>rs + <usize>(pc + p0) * <usize>cs) * 4;
      for (let p = p0; p < kc; p++, o += MR * 4, src += csB) store<f32>(o, load<f32>(src));
    }
  }
}

/** B[pc.., jc..] as NR-column strips, k-major inside a strip (bp[p·NR + c]), columns beyond nc zero. */
function packB(b: usize, rs: i32, cs: i32, pc: i32, jc: i32, kc: i32, nc: i32, out: usize): void {
  const rsB = <usize>rs * 4, csB = <usize>cs * 4;
  for (let jr = 0; jr < nc; jr += NR) {
    let o = out + <usize>jr * <usize>kc * 4;
    const nr = min(NR, nc - jr);
    let src = b + (<usize>pc * <usize>rs + <usize>(jc + jr) * <usize>cs) * 4;
    if (cs == 1 && nr == NR) {
      for (let p = 0; p < kc; p++, o += NR * 4, src += rsB) {
        v128.store(o, v128.load(src));
        v128.store(o, v128.load(src, 16), 16);
      }
    } else {
      for (let p = 0; p < kc; p++, src += rsB) {
        let s = src;
        for (let j = 0; j < NR; j++, o += 4, s += csB) store<f32>(o, j < nr ? load<f32>(s) : 0);
      }
    }
  }
}

/** C[4×8] at c (row stride ldcBytes) += the kc-long product of one packed A strip and one packed B strip. */
@inline function micro(kc: i32, ap: usize, bp: usize, c: usize, ldcBytes: usize): void {
  const c1 = c + ldcBytes, c2 = c1 + ldcBytes, c3 = c2 + ldcBytes;
  let c00 = v128.load(c), c01 = v128.load(c, 16);
  let c10 = v128.load(c1), c11 = v128.load(c1, 16);
  let c20 = v128.load(c2), c21 = v128.load(c2, 16);
  let c30 = v128.load(c3), c31 = v128.load(c3, 16);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let av = v128.load32_splat(ap);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(ap, 4);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    av = v128.load32_splat(ap, 8);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    av = v128.load32_splat(ap, 12);
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    ap += MR * 4;
    bp += NR * 4;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c1, c10); v128.store(c1, c11, 16);
  v128.store(c2, c20); v128.store(c2, c21, 16);
  v128.store(c3, c30); v128.store(c3, c31, 16);
}

/**
 * Fewer than MR rows (batch-1 fully-connected layers): stream B once instead of packing it. Row-contiguous B
 * adds a_ik·B[k,:] four columns at a time; otherwise dot products along k.
 */
function smallRows(m: i32, n: i32, k: i32, a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, c: usize, ldc: i32): void {
  const acsB = <usize>acs * 4, brsB = <usize>brs * 4, bcsB = <usize>bcs * 4;
  for (let i = 0; i < m; i++) {
    const crow = c + <usize>i * <usize>ldc * 4;
    const arow = a + <usize>i * <usize>ars * 4;
    if (bcs == 1) {
      const n4 = n & ~3;
      for (let kk = 0; kk < k; kk++) {
        const s = load<f32>(arow + <usize>kk * acsB);
        const av = f32x4.splat(s);
        const br = b + <usize>kk * brsB;
        let j = 0;
        for (; j < n4; j += 4) {
          const o = crow + <usize>j * 4;
          v128.store(o, madd(av, v128.load(br + <usize>j * 4), v128.load(o)));
        }
        for (; j < n; j++) {
          const o = crow + <usize>j * 4;
          store<f32>(o, load<f32>(o) + s * load<f32>(br + <usize>j * 4));
        }
      }
    } else {
      for (let j = 0; j < n; j++) {
        let ap = arow, bp = b + <usize>j * bcsB;
        let s: f32 = 0;
        if (acs == 1 && brs == 1) {
          let v = f32x4.splat(0);
          let kk = 0;
          for (; kk + 4 <= k; kk += 4, ap += 16, bp += 16) v = madd(v128.load(ap), v128.load(bp), v);
          s = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
          for (; kk < k; kk++, ap += 4, bp += 4) s += load<f32>(ap) * load<f32>(bp);
        } else {
          for (let kk = 0; kk < k; kk++, ap += acsB, bp += brsB) s += load<f32>(ap) * load<f32>(bp);
        }
        const o = crow + <usize>j * 4;
        store<f32>(o, load<f32>(o) + s);
      }
    }
  }
}

/**
 * Conv lowering: dst[K × cols] (row-major, K = c·kh·kw rows) holds the input patches of output columns
 * [q0, q0 + cols), a column q being output position q mod (oh·ow) of image q div (oh·ow); images are
 * imageStride floats apart from x (channel 0 of the group). Out-of-image taps are 0.
 */
export function im2col_f32(x: usize, imageStride: i32, c: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  dh: i32, dw: i32, pt: i32, pl: i32, oh: i32, ow: i32, q0: i32, cols: i32, dst: usize): void {
  const plane = oh * ow;
  const end = q0 + cols;
  let o = dst;
  for (let ci = 0; ci < c; ci++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const ixOff = kx * dw - pl;
        // output columns whose tap ix = ox·sw + ixOff lies inside [0, w)
        const lo = ixOff >= 0 ? 0 : (-ixOff + sw - 1) / sw;
        const hi = w - 1 - ixOff < 0 ? 0 : min(ow, (w - 1 - ixOff) / sw + 1);
        let q = q0;
        while (q < end) {
          const n = q / plane, p = q - n * plane;
          const oy = p / ow, ox0 = p - oy * ow;
          const len = min(ow - ox0, end - q);
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= h) {
            fillBytes(o, 0, len * 4);
          } else {
            const row = x + (<usize>n * <usize>imageStride + <usize>(ci * h + iy) * <usize>w) * 4;
            const a = max(ox0, lo), b = min(ox0 + len, hi);
            if (a >= b) {
              fillBytes(o, 0, len * 4);
            } else {
              if (a > ox0) fillBytes(o, 0, (a - ox0) * 4);
              const od = o + <usize>(a - ox0) * 4;
              const src = row + <usize>(a * sw + ixOff) * 4;
              if (sw == 1) copyBytes(od, src, (b - a) * 4);
              else for (let j = 0; j < b - a; j++) store<f32>(od + <usize>j * 4, load<f32>(src + <usize>(j * sw) * 4));
              if (ox0 + len > b) fillBytes(od + <usize>(b - a) * 4, 0, (ox0 + len - b) * 4);
            }
          }
          o += <usize>len * 4;
          q += len;
        }
      }
    }
  }
}
