// SPDX-License-Identifier: Apache-2.0
/**
 * Hands a quantization to the engine / QDQ exporter as engine/quant-types.ts records (ONNX DequantizeLinear
 * layout). 'int' records: value = (code − zp)·scale. 'table' records: value = table[code − offset]·scale,
 * with the codec's full decode table. dequantizeRecord() is the reference decoder: it reproduces
 * quantize().dequantized bit for bit (tested), and the engine's kernels are checked against it.
 */
import { QuantLensError } from '../../engine/errors';
import type { ActivationQuant, QuantizedWeight, QuantParams as EngineQuantParams } from '../../engine/quant-types';
import { IntCodec, TableCodec } from './codec';
import { GroupIndex } from './layout';
import { codecOf } from './quantize';
import type { QuantParams, QuantizeResult, QuantSpec } from './types';

/** The engine-side parameters (everything but codes/dims) of a calibrated quantization. */
export function toEngineParams(p: QuantParams): EngineQuantParams {
  const codec = codecOf(p);
  if (codec instanceof IntCodec) {
    const out: EngineQuantParams = {
      format: p.format, kind: 'int', bits: codec.bits, signed: codec.qmin < 0, layout: p.layout, scales: Float32Array.from(p.scales),
    };
    if (p.zeroPoints && p.zeroPoints.some((z) => z !== 0)) out.zeroPoints = Int32Array.from(p.zeroPoints);
    return out;
  }
  const t = codec as TableCodec;
  return {
    format: p.format, kind: 'table', bits: t.bits, signed: false, layout: p.layout, scales: Float32Array.from(p.scales),
    table: Float32Array.from(t.decode), tableOffset: 0,
  };
}

/** The engine record of a quantized weight: codes in the FP32 weight's layout plus scales/zero points/table. */
export function toEngineWeight(result: QuantizeResult, _spec: QuantSpec | undefined, dims: readonly number[]): QuantizedWeight {
  const numel = dims.reduce((a, b) => a * b, 1);
  if (numel !== result.codes.length) {
    throw new QuantLensError('shape', `weight dims [${dims.join(', ')}] hold ${numel} values but ${result.codes.length} codes were given`);
  }
  return { ...toEngineParams(result.params), dims: [...dims], codes: Int32Array.from(result.codes) };
}

/** The engine record of a per-tensor activation quantization. */
export function toEngineActivation(params: QuantParams): ActivationQuant {
  if (params.layout.kind !== 'tensor') {
    throw new QuantLensError('format', `activation quantization must be per tensor; '${params.format}' was calibrated per ${params.layout.kind}`);
  }
  return { ...toEngineParams(params), layout: { kind: 'tensor' } };
}

/** Decodes a record's codes exactly as ONNX DequantizeLinear (float32 arithmetic). */
export function dequantizeRecord(rec: QuantizedWeight): Float32Array {
  const g = rec.layout.kind === 'tensor' ? { kind: 'tensor' as const }
    : rec.layout.kind === 'channel' ? { kind: 'channel' as const, axis: rec.layout.axis }
      : { kind: 'group' as const, axis: rec.layout.axis, size: rec.layout.blockSize };
  const gi = new GroupIndex(rec.dims, g);
  const out = new Float32Array(rec.codes.length);
  const { outer, D, inner, B, nb } = gi;
  const off = rec.tableOffset ?? 0;
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < D; d++) {
      const row = (o * D + d) * inner;
      const sBase = gi.mode === 'tensor' ? 0 : gi.mode === 'block' ? (o * nb + Math.floor(d / B)) * inner : d;
      for (let j = 0; j < inner; j++) {
        const k = gi.mode === 'block' ? sBase + j : sBase;
        const c = rec.codes[row + j];
        const level = rec.kind === 'int' ? c - (rec.zeroPoints ? rec.zeroPoints[k] : 0) : rec.table![c - off];
        out[row + j] = Math.fround(level * rec.scales[k]);
      }
    }
  }
  return out;
}
