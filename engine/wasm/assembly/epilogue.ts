// SPDX-License-Identifier: Apache-2.0
// Integer GEMM epilogue: zero-point corrections, int32 bias, then dequantize to FP32 or requantize to the
// output codes. For weights w = gain·u − zw[c] (c = output channel) and activations a (zero point za) over
// k terms, with actSum = Σa of the activation row/column and wSum[c] = Σu:
//   acc = gain·(S − za·wSum[c]) − zw[c]·(actSum − k·za) + bias[c]      (exact int32 arithmetic)
// actRows = 1: C rows are activation rows and columns are channels (MatMul); 0: rows are channels (Conv).
// Requantization follows onnxruntime's MlasRequantizeOutput bit for bit: y = nearest(clamp(f32(acc)·mult[n]))
// + zy, where mult = fround(fround(sa·sw[n]) / sy) is computed on the TypeScript side. Scalar twin:
// engine/kernels/reference.ts. Contiguous outputs (osn = 1) run 4 columns per step in SIMD: the same int32
// wrapping arithmetic, f32 conversion, product, clamp and round-to-nearest-even, so the bits are the scalar ones.

@inline function correctedAcc(c: usize, i: i32, j: i32, ldc: i32, k: i32, actSum: usize, za: i32,
  wSum: usize, zw: usize, gain: i32, bias: usize, actRows: i32): i32 {
  const s = load<i32>(c + <usize>(i * ldc + j) * 4);
  const ch = <usize>(actRows ? j : i) * 4;
  const ai = <usize>(actRows ? i : j) * 4;
  let acc = gain * (s - za * load<i32>(wSum + ch)) - load<i32>(zw + ch) * (load<i32>(actSum + ai) - k * za);
  if (bias) acc += load<i32>(bias + ch);
  return acc;
}

// the 4 corrected accumulators of row i, columns j..j+3 (the SIMD twin of correctedAcc)
@inline function correctedAcc4(c: usize, i: i32, j: i32, ldc: i32, k: i32, actSum: usize, za: i32,
  wSum: usize, zw: usize, gain: i32, bias: usize, actRows: i32): v128 {
  const s = v128.load(c + <usize>(i * ldc + j) * 4);
  let ws: v128, z: v128, a: v128, b: v128;
  if (actRows) {
    const o = <usize>j * 4;
    ws = v128.load(wSum + o); z = v128.load(zw + o); a = i32x4.splat(load<i32>(actSum + <usize>i * 4));
    b = bias ? v128.load(bias + o) : i32x4.splat(0);
  } else {
    const o = <usize>i * 4;
    ws = i32x4.splat(load<i32>(wSum + o)); z = i32x4.splat(load<i32>(zw + o)); a = v128.load(actSum + <usize>j * 4);
    b = bias ? i32x4.splat(load<i32>(bias + o)) : i32x4.splat(0);
  }
  const t = i32x4.mul(i32x4.splat(gain), i32x4.sub(s, i32x4.mul(i32x4.splat(za), ws)));
  const u = i32x4.mul(z, i32x4.sub(a, i32x4.splat(k * za)));
  return i32x4.add(i32x4.sub(t, u), b);
}

// per-channel f32 factor of columns j..j+3 (MatMul) or row i (Conv)
@inline function factor4(f: usize, i: i32, j: i32, actRows: i32): v128 {
  return actRows ? v128.load(f + <usize>j * 4) : f32x4.splat(load<f32>(f + <usize>i * 4));
}

// Activations a fused dequantize epilogue can apply (engine/kernels/int-gemm.ts activationArgs maps to these codes).
const ACT_CLAMP = 1, ACT_HARDSWISH = 2, ACT_HARDSIGMOID = 3, ACT_LEAKY = 4;

// act(v) on four lanes: CLAMP bounds to [p, q] (ReLU, Clip; pmax/pmin so NaN becomes p), HARDSWISH is
// v·clamp(v/6 + 1/2, 0, 1), HARDSIGMOID clamp(p·v + q, 0, 1), LEAKY v ≥ 0 ? v : p·v.
@inline function act4(v: v128, act: i32, p: v128, q: v128): v128 {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  if (act == ACT_CLAMP) return f32x4.pmin(q, f32x4.pmax(p, v));
  if (act == ACT_HARDSWISH) return f32x4.mul(v, f32x4.pmin(one, f32x4.pmax(zero, f32x4.add(f32x4.mul(v, f32x4.splat(<f32>(1.0 / 6.0))), f32x4.splat(0.5)))));
  if (act == ACT_HARDSIGMOID) return f32x4.pmin(one, f32x4.pmax(zero, f32x4.add(f32x4.mul(v, p), q)));
  if (act == ACT_LEAKY) return v128.bitselect(v, f32x4.mul(v, p), f32x4.ge(v, zero));
  return v;
}

@inline function act1(v: f32, act: i32, p: f32, q: f32): f32 {
  if (act == ACT_CLAMP) return v > p ? (v > q ? q : v) : p;
  if (act == ACT_HARDSWISH) { const t = v * <f32>(1.0 / 6.0) + <f32>0.5; return v * (t > 0 ? (t > 1 ? <f32>1 : t) : <f32>0); }
  if (act == ACT_HARDSIGMOID) { const t = v * p + q; return t > 0 ? (t > 1 ? <f32>1 : t) : <f32>0; }
  if (act == ACT_LEAKY) return v >= 0 ? v : v * p;
  return v;
}

// The per-channel part of the corrected accumulator when rows are channels: k·za·zw − gain·za·wSum + bias.
@inline function rowBase(i: i32, k: i32, za: i32, wSum: usize, zw: usize, gain: i32, bias: usize): i32 {
  const o = <usize>i * 4;
  return k * za * load<i32>(zw + o) - gain * za * load<i32>(wSum + o) + (bias ? load<i32>(bias + o) : 0);
}

// Conv rows (channels): acc = gain·S − zw·actSum + rowBase, the same wrapping int32 value as correctedAcc4, with
// everything per channel (g4, z4, base4) computed once per row instead of per step.
@inline function channelAcc4(row: usize, actSum: usize, jo: usize, g4: v128, z4: v128, base4: v128): v128 {
  return i32x4.add(i32x4.sub(i32x4.mul(g4, v128.load(row + jo)), i32x4.mul(z4, v128.load(actSum + jo))), base4);
}

/** The SIMD part of finish_dequant when rows are channels (Conv), per-channel terms hoisted out of the pixel loop. */
@inline function channelRowsDequant(c: usize, m: i32, n4: i32, ldc: i32, k: i32, actSum: usize, za: i32, wSum: usize, zw: usize,
  gain: i32, bias: usize, scale: usize, out: usize, osm: i32, affK: usize, affB: usize, act: i32, p4: v128, q4: v128): void {
  const g4 = i32x4.splat(gain);
  for (let i = 0; i < m; i++) {
    const o = <usize>i * 4;
    const z4 = i32x4.splat(load<i32>(zw + o)), base4 = i32x4.splat(rowBase(i, k, za, wSum, zw, gain, bias)), s4 = f32x4.splat(load<f32>(scale + o));
    const k4 = f32x4.splat(affK ? load<f32>(affK + o) : 1), b4 = f32x4.splat(affK ? load<f32>(affB + o) : 0);
    const row = c + <usize>(i * ldc) * 4, dst = out + <usize>(i * osm) * 4;
    for (let j = 0; j < n4; j += 4) {
      const jo = <usize>j * 4;
      let v = f32x4.mul(f32x4.convert_i32x4_s(channelAcc4(row, actSum, jo, g4, z4, base4)), s4);
      if (affK) v = f32x4.add(f32x4.mul(v, k4), b4);
      v128.store(dst + jo, act4(v, act, p4, q4));
    }
  }
}

/**
 * out[i·os_m + j·os_n] = f32(acc)·scale[channel] (FP32 result of a dequantized integer GEMM). A fused
 * BatchNormalization and activation that follow the node ride along: affK ≠ 0 applies v·affK[c] + affB[c]
 * (f32), then act (codes above, parameters p and q).
 */
export function finish_dequant(c: usize, m: i32, n: i32, ldc: i32, k: i32, actSum: usize, za: i32, wSum: usize,
  zw: usize, gain: i32, bias: usize, scale: usize, out: usize, osm: i32, osn: i32, actRows: i32,
  affK: usize, affB: usize, act: i32, p: f32, q: f32): void {
  const n4 = osn == 1 ? n & ~3 : 0;
  const p4 = f32x4.splat(p), q4 = f32x4.splat(q);
  if (!actRows) {
    channelRowsDequant(c, m, n4, ldc, k, actSum, za, wSum, zw, gain, bias, scale, out, osm, affK, affB, act, p4, q4);
  }
  for (let i = 0; i < m; i++) {
    for (let j = actRows ? 0 : n4; j < n4; j += 4) {
      const acc = correctedAcc4(c, i, j, ldc, k, actSum, za, wSum, zw, gain, bias, actRows);
      let v = f32x4.mul(f32x4.convert_i32x4_s(acc), factor4(scale, i, j, actRows));
      if (affK) v = f32x4.add(f32x4.mul(v, factor4(affK, i, j, actRows)), factor4(affB, i, j, actRows));
      v128.store(out + <usize>(i * osm + j) * 4, act4(v, act, p4, q4));
    }
    for (let j = n4; j < n; j++) {
      const acc = correctedAcc(c, i, j, ldc, k, actSum, za, wSum, zw, gain, bias, actRows);
      const ch = <usize>(actRows ? j : i) * 4;
      let v = <f32>acc * load<f32>(scale + ch);
      if (affK) v = v * load<f32>(affK + ch) + load<f32>(affB + ch);
      store<f32>(out + <usize>(i * osm + j * osn) * 4, act1(v, act, p, q));
    }
  }
}

/** out[i·os_m + j·os_n] = requantized output code (int32) with zero point zy, saturated to [qmin, qmax]. */
export function finish_requant(c: usize, m: i32, n: i32, ldc: i32, k: i32, actSum: usize, za: i32, wSum: usize,
  zw: usize, gain: i32, bias: usize, mult: usize, zy: i32, qmin: i32, qmax: i32, out: usize, osm: i32, osn: i32, actRows: i32): void {
  const lo = <f32>(qmin - zy);
  const hi = <f32>(qmax - zy);
  const lo4 = f32x4.splat(lo), hi4 = f32x4.splat(hi), zy4 = i32x4.splat(zy);
  const n4 = osn == 1 ? n & ~3 : 0;
  const g4 = i32x4.splat(gain);
  for (let i = 0; i < m; i++) {
    // Conv rows: the per-channel terms once per row (see channelAcc4); MatMul rows: per-column vectors per step
    const o = <usize>i * 4;
    const z4 = actRows ? g4 : i32x4.splat(load<i32>(zw + o)), base4 = actRows ? g4 : i32x4.splat(rowBase(i, k, za, wSum, zw, gain, bias));
    const m4 = actRows ? g4 : f32x4.splat(load<f32>(mult + o));
    const row = c + <usize>(i * ldc) * 4;
    for (let j = 0; j < n4; j += 4) {
      const acc = actRows ? correctedAcc4(c, i, j, ldc, k, actSum, za, wSum, zw, gain, bias, actRows) : channelAcc4(row, actSum, <usize>j * 4, g4, z4, base4);
      let v = f32x4.mul(f32x4.convert_i32x4_s(acc), actRows ? factor4(mult, i, j, actRows) : m4);
      v = f32x4.min(f32x4.max(v, lo4), hi4);
      v128.store(out + <usize>(i * osm + j) * 4, i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(v)), zy4));
    }
    for (let j = n4; j < n; j++) {
      const acc = correctedAcc(c, i, j, ldc, k, actSum, za, wSum, zw, gain, bias, actRows);
      let v = <f32>acc * load<f32>(mult + <usize>(actRows ? j : i) * 4);
      v = min<f32>(max<f32>(v, lo), hi);
      store<i32>(out + <usize>(i * osm + j * osn) * 4, <i32>nearest<f32>(v) + zy);
    }
  }
}
