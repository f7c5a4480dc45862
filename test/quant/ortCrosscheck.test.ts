// SPDX-License-Identifier: Apache-2.0
// Our rounding vs onnxruntime-node's QuantizeLinear/DequantizeLinear on the same data and scales: codes and
// dequantized values must agree bit for bit (ties, saturation, ±Inf, per-channel and blocked layouts included).
// NaN is the one deliberate difference: onnxruntime gives NaN (FP8) or qmin (INT); we encode NaN as zero and
// count it, so it is not probed here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrate } from '../../analysis/quant/calibrate';
import { quantize } from '../../analysis/quant/quantize';
import { codecOf } from '../../analysis/quant/quantize';
import type { QuantParams } from '../../analysis/quant/types';
import { DT, runQdq } from './qdqModel';
import { normal, sameBits } from './gen';

/** Values with exact ties at scale 0.5 (x/0.5 = k + ½), saturating extremes, zeros and random data. */
function probe(): Float32Array {
  const ties: number[] = [];
  for (let k = -20; k <= 20; k++) ties.push((k + 0.5) * 0.5);
  return Float32Array.from([...ties, 0, -0, 1e6, -1e6, Infinity, -Infinity, 300, -300, 63.75, 64.25, 127.75, -128.25, ...normal(200, 3, 40)]);
}

function withScale(p: QuantParams, scale: number, zp: number): QuantParams {
  return { ...p, scales: Float32Array.of(scale), zeroPoints: zp ? Int32Array.of(zp) : null };
}

const INT_CASES = [
  { format: 'int8', type: DT.INT8, opset: 19, zps: [0, 5, -7] },
  { format: 'uint8', type: DT.UINT8, opset: 19, zps: [0, 128, 3] },
  { format: 'int4', type: DT.INT4, opset: 21, zps: [0, 3, -2] },
  { format: 'uint4', type: DT.UINT4, opset: 21, zps: [0, 8, 1] },
];

for (const c of INT_CASES) {
  test(`${c.format}: codes and dequantized values equal onnxruntime QuantizeLinear/DequantizeLinear (ties, saturation)`, async () => {
    const x = probe();
    const base = calibrate({ data: x, dims: [x.length] }, { format: c.format, granularity: { kind: 'tensor' }, symmetric: false });
    for (const zp of c.zps) {
      for (const scale of [0.5, 0.37, Math.fround(1 / 3)]) {
        const p = withScale(base, Math.fround(scale), zp);
        const ours = quantize({ data: x, dims: [x.length] }, p);
        const ort = await runQdq({ type: c.type, opset: c.opset, x, dims: [x.length], scale: Float32Array.of(scale), scaleDims: [], zeroPoint: Int32Array.of(zp) });
        assert.deepEqual(Array.from(ours.codes), Array.from(ort.codes, (v) => v), `${c.format} zp=${zp} scale=${scale}`);
        assert.ok(sameBits(ours.dequantized, ort.dequantized), `${c.format} dequantized zp=${zp} scale=${scale}`);
      }
    }
  });
}

test('int8 per-channel (axis 1) matches onnxruntime', async () => {
  const dims = [6, 4, 5];
  const x = normal(120, 9, 3);
  const t = { data: x, dims };
  const p = calibrate(t, { format: 'int8', granularity: { kind: 'channel', axis: 1 }, symmetric: false });
  const ours = quantize(t, p);
  const ort = await runQdq({ type: DT.INT8, opset: 19, x, dims, scale: p.scales, scaleDims: [4], zeroPoint: p.zeroPoints!, axis: 1 });
  assert.deepEqual(Array.from(ours.codes), Array.from(ort.codes));
  assert.ok(sameBits(ours.dequantized, ort.dequantized));
});

test('int4 blocked (axis 1, block 16, ragged last block) matches onnxruntime opset 21', async () => {
  const dims = [3, 40];
  const x = normal(120, 10, 2);
  const t = { data: x, dims };
  const p = calibrate(t, { format: 'int4', granularity: { kind: 'group', axis: 1, size: 16 }, calibration: { kind: 'mse' } });
  const ours = quantize(t, p);
  const ort = await runQdq({ type: DT.INT4, opset: 21, x, dims, scale: p.scales, scaleDims: [3, 3], zeroPoint: new Int32Array(9), axis: 1, blockSize: 16 });
  assert.deepEqual(Array.from(ours.codes), Array.from(ort.codes));
  assert.ok(sameBits(ours.dequantized, ort.dequantized));
});

const FP8_CASES = [
  { format: 'fp8_e4m3', type: DT.FLOAT8E4M3FN },
  { format: 'fp8_e5m2', type: DT.FLOAT8E5M2 },
];

/** Ties between neighbouring FP8 values at every exponent, subnormal ties, and saturating values. */
function fp8Probe(): Float32Array {
  const v: number[] = [0, -0, 1e-9, -1e-9, 1e9, -1e9, Infinity, -Infinity, 448, 464, 465, 480, 57344, 61440, 61441, 65536];
  for (let e = -18; e <= 16; e++) for (const m of [1, 1.0625, 1.125, 1.1875, 1.25, 1.3125, 1.375, 1.4375, 1.5, 1.5625, 1.625, 1.6875, 1.75, 1.875]) {
    v.push(m * 2 ** e, -m * 2 ** e);
  }
  return Float32Array.from([...v, ...normal(300, 5, 100)]);
}

for (const c of FP8_CASES) {
  test(`${c.format}: rounding (ties to even, subnormals, saturation) equals onnxruntime's float8 QuantizeLinear`, async () => {
    const x = fp8Probe();
    const base = calibrate({ data: x, dims: [x.length] }, { format: c.format });
    const table = (codecOf(base) as unknown as { decode: Float32Array }).decode;
    for (const scale of [1, 0.5, 0.3]) {
      const p = withScale(base, Math.fround(scale), 0);
      const ours = quantize({ data: x, dims: [x.length] }, p);
      const ort = await runQdq({ type: c.type, opset: 19, x, dims: [x.length], scale: Float32Array.of(scale), scaleDims: [], saturate: 1 });
      const decoded = Float32Array.from(ours.codes, (code) => table[code]);
      assert.ok(sameBits(decoded, ort.codes), `${c.format} codes at scale ${scale}`);
      assert.ok(sameBits(ours.dequantized, ort.dequantized), `${c.format} dequantized at scale ${scale}`);
    }
  });
}

test('fp8_e4m3 per-channel (axis 0) scales match onnxruntime', async () => {
  const dims = [4, 50];
  const x = normal(200, 17, 30);
  const t = { data: x, dims };
  const p = calibrate(t, { format: 'fp8_e4m3', granularity: { kind: 'channel', axis: 0 } });
  const ours = quantize(t, p);
  const ort = await runQdq({ type: DT.FLOAT8E4M3FN, opset: 19, x, dims, scale: p.scales, scaleDims: [4], axis: 0, saturate: 1 });
  assert.ok(sameBits(ours.dequantized, ort.dequantized));
});
