// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { llamaTypeList, tensorQuantOverrides } from '../../analysis/export/tensorOverrides';
import type { EngineQuantConfig, QuantizedWeight } from '../../engine/quant-types';

const nodes = [
  { name: 'conv', inputs: ['x', 'conv.weight', 'conv.bias'] },
  { name: 'fc', inputs: ['h', 'fc.weight'] },
  { name: 'attn', inputs: ['q', 'k.weight'] },
];
const w = (format: string, bits: number, extra: Partial<QuantizedWeight> = {}): QuantizedWeight => ({
  format, kind: 'int', bits, signed: true, layout: { kind: 'channel', axis: 0 }, scales: Float32Array.of(0.1, 0.2), dims: [2, 1], codes: Int32Array.of(1, -1), ...extra,
});
const quant: EngineQuantConfig = {
  layers: {
    conv: { weights: { 1: w('int8', 8) }, inputs: { 0: { format: 'uint8', kind: 'int', bits: 8, signed: false, layout: { kind: 'tensor' }, scales: Float32Array.of(0.5), zeroPoints: Int32Array.of(3) } } },
    fc: { weights: { 1: w('int4', 4, { layout: { kind: 'block', axis: 0, blockSize: 32 } }) } },
    attn: { weights: { 1: { ...w('nf4', 4), kind: 'table', table: Float32Array.of(-1, 1) } } },
  },
};

test('TensorQuantOverrides carries quant types, axes, block sizes and calibrated activation scales', () => {
  const { overrides, unmapped } = tensorQuantOverrides(nodes, quant);
  assert.deepEqual(overrides['conv.weight'], [{ quant_type: 'QInt8', symmetric: true, axis: 0 }]);
  assert.deepEqual(overrides.x, [{ quant_type: 'QUInt8', symmetric: false, scale: 0.5, zero_point: 3 }]);
  assert.deepEqual(overrides['fc.weight'], [{ quant_type: 'QInt4', symmetric: true, axis: 0, block_size: 32 }]);
  assert.equal(overrides['k.weight'], undefined);
  assert.deepEqual(unmapped.map((u) => `${u.tensor}:${u.format}`), ['k.weight:nf4']);
});

test('llama.cpp type list maps int8/int4 to q8_0/q4_0, lists unmapped formats, float weights as f32', () => {
  const { text, unmapped } = llamaTypeList(nodes, quant, ['embed.weight']);
  assert.equal(text, 'conv.weight=q8_0\nfc.weight=q4_0\nembed.weight=f32\n');
  assert.deepEqual(unmapped.map((u) => u.format), ['nf4']);
});
