// SPDX-License-Identifier: Apache-2.0
// Integer GEMM epilogue: zero-point corrections, int32 bias, then dequantize to FP32 or requantize to the
// output codes. For weights w = gain·u − zw[c] (c = output channel) and activations a (zero point za) over
// k terms, with actSum = Σa of the activation row/column and wSum[c] = Σu:
//   acc = gain·(S − za·wSum[c]) − zw[c]·(actSum − k·za) + bias[c]      (exact int32 arithmetic)
// actRows = 1: C rows are activation rows and columns are channels (MatMul); 0: rows are channels (Conv).
// Requantization follows onnxruntime's MlasRequantizeOutput bit for bit: y = nearest(clamp(f32(acc)·mult[n]))
// + zy, where mult = fround(fround(sa·sw[n]) / sy) is computed on the TypeScript side. Scalar twin:
// engine/kernels/reference.ts.

@inline function correctedAcc(c: usize, i: i32, j: i32, ldc: i32, k: i32, actSum: usize, za: i32,
  wSum: usize, zw: usize, gain: i32, bias: usize, actRows: i32): i32 {
  const s = load<i32>(c + <usize>(i * ldc + j) * 4);
  const ch = <usize>(actRows ? j : i) * 4;
  const ai = <usize>(actRows ? i : j) * 4;
  let acc = gain * (s - za * load<i32>(wSum + ch)) - load<i32>(zw + ch) * (load<i32>(actSum + ai) - k * za);
  if (bias) acc += load<i32>(bias + ch);
  return acc;
}

/** out[i·os_m + j·os_n] = f32(acc)·scale[channel] (FP32 result of a dequantized integer GEMM). */
export function finish_dequant(c: usize, m: i32, n: i32, ldc: i32, k: i32, actSum: usize, za: i32, wSum: usize,
  zw: usize, gain: i32, bias: usize, scale: usize, out: usize, osm: i32, osn: i32, actRows: i32): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const acc = correctedAcc(c, i, j, ldc, k, actSum, za, wSum, zw, gain, bias, actRows);
      store<f32>(out + <usize>(i * osm + j * osn) * 4, <f32>acc * load<f32>(scale + <usize>(actRows ? j : i) * 4));
    }
  }
}

/** out[i·os_m + j·os_n] = requantized output code (int32) with zero point zy, saturated to [qmin, qmax]. */
export function finish_requant(c: usize, m: i32, n: i32, ldc: i32, k: i32, actSum: usize, za: i32, wSum: usize,
  zw: usize, gain: i32, bias: usize, mult: usize, zy: i32, qmin: i32, qmax: i32, out: usize, osm: i32, osn: i32, actRows: i32): void {
  const lo = <f32>(qmin - zy);
  const hi = <f32>(qmax - zy);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const acc = correctedAcc(c, i, j, ldc, k, actSum, za, wSum, zw, gain, bias, actRows);
      let v = <f32>acc * load<f32>(mult + <usize>(actRows ? j : i) * 4);
      v = min<f32>(max<f32>(v, lo), hi);
      store<i32>(out + <usize>(i * osm + j * osn) * 4, <i32>nearest<f32>(v) + zy);
    }
  }
}
