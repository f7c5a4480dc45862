// SPDX-License-Identifier: Apache-2.0
/**
 * quantize(tensor, params) → codes, dequantized values, error metrics, grid and clip range. One element:
 * v = fround(x / scale); code = codec.encode(v, zp); x̂ = fround(level(code) · scale) — the same float32
 * arithmetic ONNX QuantizeLinear/DequantizeLinear use, so the engine record reproduces x̂ bit for bit.
 */
import { QuantLensError } from '../../engine/errors';
import { getFormat } from './formats';
import { variantFor } from './families';
import { type Codec, IntCodec } from './codec';
import { GroupIndex } from './layout';
import { type QuantMetrics, type QuantParams, type QuantizeResult, SQNR_CAP_DB, type TensorInput } from './types';

/** The codec a params record was calibrated with. */
export function codecOf(p: QuantParams): Codec {
  return variantFor(getFormat(p.format), p.bits, p.signedCodes, p).codec;
}

/** Error metrics of an approximation over the finite elements of x. */
export function errorMetrics(x: Float32Array, xq: Float32Array, clipped = 0): QuantMetrics {
  let sx = 0, se = 0, sxy = 0, syy = 0, maxE = 0, n = 0, nan = 0, inf = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    if (a !== a) { nan++; continue; }
    if (a === Infinity || a === -Infinity) { inf++; continue; }
    const b = xq[i], e = a - b;
    sx += a * a; se += e * e; sxy += a * b; syy += b * b; n++;
    const ae = Math.abs(e);
    if (ae > maxE) maxE = ae;
  }
  return finishMetrics(sx, se, sxy, syy, maxE, n, clipped, nan, inf);
}

function finishMetrics(sx: number, se: number, sxy: number, syy: number, maxE: number, n: number, clipped: number, nan: number, inf: number): QuantMetrics {
  const sqnr = se === 0 ? SQNR_CAP_DB : sx === 0 ? -SQNR_CAP_DB : Math.min(SQNR_CAP_DB, 10 * Math.log10(sx / se));
  const cosine = sx === 0 && syy === 0 ? 1 : sx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sx * syy);
  return {
    mse: n ? se / n : 0, sqnrDb: sqnr, cosine, maxAbsError: maxE, clipFraction: n ? clipped / n : 0,
    count: n, nanCount: nan, infCount: inf,
  };
}

/** Quantizes a tensor with calibrated params. */
export function quantize(tensor: TensorInput, params: QuantParams): QuantizeResult {
  const { data, dims } = tensor;
  const gi = new GroupIndex(dims, params.granularity);
  if (gi.numel !== data.length) throw new QuantLensError('shape', `tensor has ${data.length} values but dims [${dims.join(', ')}] need ${gi.numel}`);
  if (params.scales.length !== gi.groupCount) {
    throw new QuantLensError('format', `params for '${params.format}' hold ${params.scales.length} scales; this tensor needs ${gi.groupCount}`);
  }
  const codec = codecOf(params);
  const scales = params.scales, zps = params.zeroPoints;
  const codes = new Int32Array(data.length);
  const deq = new Float32Array(data.length);
  // Representable range per group, for clip counting and the union clip range.
  const gLo = new Float64Array(gi.groupCount), gHi = new Float64Array(gi.groupCount);
  let clipLo = Infinity, clipHi = -Infinity;
  for (let k = 0; k < gi.groupCount; k++) {
    const z = zps ? zps[k] : 0;
    gLo[k] = Math.fround(codec.minLevel(z) * scales[k]);
    gHi[k] = Math.fround(codec.maxLevel(z) * scales[k]);
    if (gLo[k] < clipLo) clipLo = gLo[k];
    if (gHi[k] > clipHi) clipHi = gHi[k];
  }
  let sx = 0, se = 0, sxy = 0, syy = 0, maxE = 0, n = 0, nan = 0, inf = 0, clipped = 0;
  const { outer, D, inner, B, nb } = gi;
  const block = gi.mode === 'block', tensorMode = gi.mode === 'tensor';
  const intQ = codec instanceof IntCodec;
  const qmin = intQ ? codec.qmin : 0, qmax = intQ ? codec.qmax : 0;
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < D; d++) {
      const row = (o * D + d) * inner;
      const sBase = tensorMode ? 0 : block ? (o * nb + Math.floor(d / B)) * inner : d;
      for (let j = 0; j < inner; j++) {
        const i = row + j;
        const k = block ? sBase + j : sBase;
        const s = scales[k], z = zps ? zps[k] : 0;
        const x = data[i];
        const finite = x - x === 0;
        let c: number;
        if (intQ) {
          // Inlined IntCodec.encode (the hot path): round half to even, add zero point, saturate.
          const v = x !== x ? 0 : Math.fround(x / s);
          c = Math.round(v);
          if (c - v === 0.5 && c % 2 !== 0) c -= 1;
          c += z;
          c = c < qmin ? qmin : c > qmax ? qmax : c;
        } else c = codec.encode(x !== x ? 0 : Math.fround(x / s), z);
        const y = Math.fround((intQ ? c - z : codec.level(c, z)) * s);
        codes[i] = c;
        deq[i] = y;
        if (!finite) { if (x !== x) nan++; else inf++; continue; }
        const e = x - y;
        sx += x * x; se += e * e; sxy += x * y; syy += y * y; n++;
        const ae = e < 0 ? -e : e;
        if (ae > maxE) maxE = ae;
        if (x > gHi[k] || x < gLo[k]) clipped++;
      }
    }
  }
  const z0 = zps && zps.length ? zps[0] : 0;
  const s0 = scales.length ? scales[0] : 1;
  const lv = codec.levels(z0);
  const grid = new Float64Array(lv.length);
  for (let i = 0; i < lv.length; i++) grid[i] = Math.fround(lv[i] * s0);
  return {
    params, codes, dequantized: deq,
    metrics: finishMetrics(sx, se, sxy, syy, maxE, n, clipped, nan, inf),
    grid,
    clipRange: gi.groupCount ? [clipLo, clipHi] : [0, 0],
  };
}
