// SPDX-License-Identifier: Apache-2.0
// Fake-quant maths (DequantizeLinear layouts, round-half-even saturation, table snapping) and how compile binds a
// quantized layer: the kernel factory's node when it returns one, fake-quant around the FP32 op when it returns null.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile, runSync } from '../../engine/index';
import { QuantLensError } from '../../engine/errors';
import { dequantizeWeight, fakeQuantize, quantizeValues } from '../../engine/fakeQuant';
import type { Tensor } from '../../engine/ir';
import type { QuantizedNodeFactory } from '../../engine/kernel-api';
import type { ActivationQuant, QuantizedWeight } from '../../engine/quant-types';
import { randomTensor, smallCnn } from './graphs';
import { compareTensors } from './helpers';

test('blocked weights dequantize with one scale and zero point per block along the axis', () => {
  const w: QuantizedWeight = {
    format: 'int4', kind: 'int', bits: 4, signed: true, layout: { kind: 'block', axis: 1, blockSize: 4 }, dims: [2, 6],
    codes: Int32Array.from([-8, -3, 0, 2, 5, 7, 1, -1, 4, -6, 3, 0]),
    scales: Float32Array.from([0.1, 0.2, 0.3, 0.4]), zeroPoints: Int32Array.from([0, 1, -1, 2]),
  };
  const got = Array.from(dequantizeWeight(w, 'w').data as Float32Array);
  const want = [-0.8, -0.3, 0, 0.2, 0.8, 1.2, 0.6, 0, 1.5, -1.5, 0.4, -0.8];
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `element ${i}: ${v} vs ${want[i]}`));
});

test('per-channel weights use the scale of their channel', () => {
  const w: QuantizedWeight = {
    format: 'int8', kind: 'int', bits: 8, signed: true, layout: { kind: 'channel', axis: 0 }, dims: [2, 2],
    codes: Int32Array.from([10, -10, 3, 4]), scales: Float32Array.from([0.5, 2]),
  };
  assert.deepEqual(Array.from(dequantizeWeight(w, 'w').data as Float32Array), [5, -5, 6, 8]);
  assert.throws(() => dequantizeWeight({ ...w, scales: Float32Array.from([1, 2, 3]) }, 'w'), (e: unknown) => e instanceof QuantLensError && e.kind === 'config');
});

test('activation quantization rounds half to even and saturates to the code range', () => {
  const q: ActivationQuant = { format: 'int4', kind: 'int', bits: 4, signed: true, layout: { kind: 'tensor' }, scales: Float32Array.from([1]) };
  const codes = quantizeValues(Float32Array.from([0.5, 1.5, 2.5, -0.5, -2.5, 7.6, -9, 3.49]), [8], q, 'a');
  assert.deepEqual(Array.from(codes), [0, 2, 2, 0, -2, 7, -8, 3]);
  const u8: ActivationQuant = { format: 'uint8', kind: 'int', bits: 8, signed: false, layout: { kind: 'tensor' }, scales: Float32Array.from([0.1]), zeroPoints: Int32Array.from([128]) };
  assert.deepEqual(Array.from(quantizeValues(Float32Array.from([-20, 0.25, 20]), [3], u8, 'a')), [0, 130, 255]);
});

test('table formats snap to the nearest level (ties to the lower one) and decode through the table', () => {
  const q: ActivationQuant = {
    format: 'log2', kind: 'table', bits: 3, signed: true, layout: { kind: 'tensor' }, scales: Float32Array.from([2]),
    table: Float32Array.from([-4, -2, -1, -0.5, 0, 0.5, 1, 2]), tableOffset: -4,
  };
  const x: Tensor = { dtype: 'float32', dims: [6], data: Float32Array.from([3, 1.4, -0.1, 100, -3, 0.5]) };
  // x/scale = 1.5 (tie 1|2 → 1), 0.7 (→0.5), -0.05 (→0), 50 (→2), -1.5 (tie -2|-1 → -2), 0.25 (tie 0|0.5 → 0)
  assert.deepEqual(Array.from(fakeQuantize(x, q, 'a').data as Float32Array), [2, 1, 0, 4, -4, 0]);
});

/** Int8 per-channel codes for smallCnn's conv weight, and a uint8 activation quantization for its input. */
function convConfig(): { weight: QuantizedWeight; act: ActivationQuant } {
  const W = smallCnn().graph.initializers.get('W')!;
  const scales = Float32Array.from([0.01, 0.008, 0.009, 0.0085]);
  const per = 27;
  const codes = Int32Array.from(W.data as Float32Array, (v, i) => Math.max(-127, Math.min(127, Math.round(v / scales[Math.floor(i / per)]))));
  return {
    weight: { format: 'int8', kind: 'int', bits: 8, signed: true, layout: { kind: 'channel', axis: 0 }, dims: [4, 3, 3, 3], codes, scales },
    act: { format: 'uint8', kind: 'int', bits: 8, signed: false, layout: { kind: 'tensor' }, scales: Float32Array.from([2 / 255]), zeroPoints: Int32Array.from([128]) },
  };
}

test('a quantized layer without a kernel runs fake-quant: dequantized weight, fake-quantized input, FP32 op', () => {
  const { weight, act } = convConfig();
  const none: QuantizedNodeFactory = () => null;
  const p = compile(smallCnn(), { layers: { conv: { weights: { 1: weight }, inputs: { 0: act } } } }, { quantizedFactory: none });
  const x = randomTensor([1, 3, 8, 8], 5);
  const r = runSync(p, { x }, { timings: true });
  assert.equal(r.timings!.find((t) => t.node === 'conv')!.path, 'fake-quant');
  // The same computation by hand: an FP32 program with the dequantized weight, fed the fake-quantized input.
  const ref = smallCnn();
  ref.graph.initializers.set('W', dequantizeWeight(weight, 'W'));
  const want = runSync(compile(ref), { x: fakeQuantize(x, act, 'x') }).outputs.y;
  assert.equal(compareTensors(r.outputs.y, want, 'y'), undefined);
  assert.throws(() => runSync(p, { x }, { weightOverrides: { W: randomTensor([4, 3, 3, 3], 1) } }),
    (e: unknown) => e instanceof QuantLensError && e.kind === 'usage' && /quantized node 'conv'/.test(e.message));
});

test('a kernel from the factory is used, and its path and packed size are reported', () => {
  const { weight } = convConfig();
  const seen: string[] = [];
  const factory: QuantizedNodeFactory = (req) => {
    seen.push(`${req.node.name}@${req.opset}:${req.constants.map((c) => (c ? c.dims.join('x') : '-')).join(',')}`);
    return { path: 'int8', packedBytes: 108, run: (inputs) => [{ dtype: 'float32', dims: [1, 4, 8, 8], data: new Float32Array(256).fill(inputs.length) }] };
  };
  const p = compile(smallCnn(), { layers: { conv: { weights: { 1: weight } } } }, { quantizedFactory: factory });
  assert.deepEqual(seen, ['conv@17:-,4x3x3x3,4']);
  assert.deepEqual(p.nodes.map((c) => [c.node.name, c.path, c.packedBytes])[0], ['conv', 'int8', 108]);
  const r = runSync(p, { x: randomTensor([1, 3, 8, 8], 5) }, { timings: true, taps: ['c'] });
  assert.equal(r.timings![0].path, 'int8');
  assert.equal((r.taps!.c.data as Float32Array)[0], 3);
});

test("kernel 'fake-quant' skips the factory; weight dims that differ from the model's are a config error", () => {
  const { weight } = convConfig();
  let called = false;
  const factory: QuantizedNodeFactory = () => { called = true; return null; };
  const p = compile(smallCnn(), { layers: { conv: { weights: { 1: weight }, kernel: 'fake-quant' } } }, { quantizedFactory: factory });
  assert.equal(called, false);
  assert.equal(p.nodes[0].path, 'fake-quant');
  const bad = { ...weight, dims: [4, 27], codes: weight.codes };
  assert.throws(() => compile(smallCnn(), { layers: { conv: { weights: { 1: bad } } } }, { quantizedFactory: factory }),
    (e: unknown) => e instanceof QuantLensError && e.kind === 'config' && /differ from the model's/.test(e.message));
});

test('with the real kernel factory (engine/quantized) an int8 conv runs on an integer path and agrees with fake-quant', () => {
  const { weight, act } = convConfig();
  const x = randomTensor([1, 3, 8, 8], 5);
  const layer = { weights: { 1: weight }, inputs: { 0: act } };
  const int = runSync(compile(smallCnn(), { layers: { conv: layer } }), { x }, { timings: true, taps: ['c'] });
  const fq = runSync(compile(smallCnn(), { layers: { conv: { ...layer, kernel: 'fake-quant' } } }), { x }, { taps: ['c'] });
  const path = int.timings!.find((t) => t.node === 'conv')!.path;
  assert.notEqual(path, 'fake-quant');
  assert.notEqual(path, 'fp32');
  // Same codes and scales; an integer kernel also quantizes the bias to int32 at scale s_x·s_w (as QLinearConv
  // does), so outputs may differ by up to half of that step, plus float rounding.
  const step = act.scales[0] * Math.max(...weight.scales);
  const a = int.taps!.c.data as Float32Array, b = fq.taps!.c.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst <= 0.5 * step + 1e-5, `max |Δ| ${worst} > half a bias step ${0.5 * step}`);
});
