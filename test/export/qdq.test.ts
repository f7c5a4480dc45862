// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { exportQdq } from '../../analysis/export/qdq';
import { dequantizeRecord } from '../../analysis/quant/toEngine';
import type { ActivationQuant, QuantizedWeight } from '../../engine/quant-types';
import { buildModel, e4m3Levels, quantizeWeight, randn, rng, roundHalfEven } from './tinyModels';

async function run(bytes: Uint8Array, feeds: Record<string, [Float32Array, number[]]>): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, [d, dims]]) => [k, new ort.Tensor('float32', d, dims)])));
  return out[s.outputNames[0]].data as Float32Array;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

function actQuant(lo: number, hi: number): ActivationQuant {
  const scale = (hi - lo) / 255;
  return { format: 'uint8', kind: 'int', bits: 8, signed: false, layout: { kind: 'tensor' }, scales: Float32Array.of(scale), zeroPoints: Int32Array.of(Math.round(-lo / scale)) };
}

function fakeQuant(x: Float32Array, a: ActivationQuant): Float32Array {
  const s = a.scales[0];
  const zp = a.zeroPoints?.[0] ?? 0;
  return Float32Array.from(x, (v) => (Math.max(0, Math.min(255, roundHalfEven(v / s) + zp)) - zp) * Math.fround(s));
}

function matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let acc = 0;
    for (let t = 0; t < k; t++) acc += a[i * k + t] * b[t * n + j];
    out[i * n + j] = acc;
  }
  return out;
}

test('MLP with int8 per-channel and int4 blocked weights and uint8 activations runs in onnxruntime and matches a reference', async () => {
  const r = rng(1);
  const W1 = randn(r, 16 * 12, 0.3), b1 = randn(r, 12, 0.1), W2 = randn(r, 12 * 5, 0.3);
  const model = buildModel({
    opset: 13, inputs: [['X', [3, 16]]], outputs: [['Y', [3, 5]]],
    inits: [{ name: 'W1', dims: [16, 12], data: W1 }, { name: 'b1', dims: [12], data: b1 }, { name: 'W2', dims: [12, 5], data: W2 }],
    nodes: [
      { name: 'mm1', op: 'MatMul', inputs: ['X', 'W1'], outputs: ['h'] },
      { name: 'add1', op: 'Add', inputs: ['h', 'b1'], outputs: ['h2'] },
      { name: 'relu', op: 'Relu', inputs: ['h2'], outputs: ['h3'] },
      { name: 'mm2', op: 'MatMul', inputs: ['h3', 'W2'], outputs: ['Y'] },
    ],
  });
  const q1 = quantizeWeight(W1, [16, 12], { kind: 'channel', axis: 1 }, { format: 'int8', kind: 'int', bits: 8 });
  const q2 = quantizeWeight(W2, [12, 5], { kind: 'block', axis: 0, blockSize: 4 }, { format: 'int4', kind: 'int', bits: 4 });
  const a1 = actQuant(-2.5, 2.5), a2 = actQuant(0, 3);
  const out = exportQdq(model, { layers: { mm1: { weights: { 1: q1 }, inputs: { 0: a1 } }, mm2: { weights: { 1: q2 }, inputs: { 0: a2 } } } }, 'mlp.onnx');
  assert.equal(out.opset, 21);
  assert.deepEqual(out.notes.map((n) => `${n.node}:${n.role}:${n.stored}`), ['mm1:weight:int8', 'mm1:activation:uint8', 'mm2:weight:int4', 'mm2:activation:uint8']);
  const decoded = onnx.ModelProto.decode(out.bytes).graph as onnx.GraphProto;
  assert.ok(!decoded.initializer.some((t) => t.name === 'W1' || t.name === 'W2'), 'the FP32 weights are gone');
  assert.ok((decoded.node as onnx.NodeProto[]).some((n) => n.opType === 'DequantizeLinear' && n.attribute.some((a) => a.name === 'block_size')));

  const X = randn(r, 3 * 16);
  const got = await run(out.bytes, { X: [X, [3, 16]] });
  const h = matmul(fakeQuant(X, a1), dequantizeRecord(q1), 3, 16, 12).map((v, i) => Math.max(0, v + b1[i % 12]));
  const want = matmul(fakeQuant(h, a2), dequantizeRecord(q2), 3, 12, 5);
  assert.ok(maxDiff(got, want) < 1e-4, `max diff ${maxDiff(got, want)}`);
  // and the quantization did something: the float model differs by more than that
  assert.ok(maxDiff(await run(model, { X: [X, [3, 16]] }), want) > 1e-3);
});

function convModel(opset: number, W: Float32Array, B: Float32Array): Uint8Array {
  return buildModel({
    opset, inputs: [['X', [1, 3, 6, 6]]], outputs: [['Y', [1, 1, 1, 4]]],
    inits: [{ name: 'W', dims: [4, 3, 3, 3], data: W }, { name: 'B', dims: [4], data: B }],
    nodes: [
      { name: 'conv', op: 'Conv', inputs: ['X', 'W', 'B'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { name: 'mean', op: 'ReduceMean', inputs: ['c'], outputs: ['m'], attrs: { axes: [2, 3], keepdims: 1 } },
      { name: 'tr', op: 'Transpose', inputs: ['m'], outputs: ['Y'], attrs: { perm: [0, 2, 3, 1] } },
    ],
  });
}

async function checkConvExport(opset: number, q: QuantizedWeight, expectStored: string, expectOpset: number): Promise<onnx.ModelProto> {
  const r = rng(5);
  const W = randn(r, 4 * 27, 0.5), B = randn(r, 4, 0.1);
  const exported = exportQdq(convModel(opset, W, B), { layers: { conv: { weights: { 1: q } } } }, 'conv.onnx');
  assert.equal(exported.notes[0].stored, expectStored);
  assert.equal(exported.opset, expectOpset);
  const X = randn(r, 3 * 36);
  const got = await run(exported.bytes, { X: [X, [1, 3, 6, 6]] });
  const want = await run(convModel(opset, dequantizeRecord(q), B), { X: [X, [1, 3, 6, 6]] });
  assert.ok(maxDiff(got, want) < 1e-5, `${q.format}: max diff ${maxDiff(got, want)}`);
  return onnx.ModelProto.decode(exported.bytes);
}

const W = randn(rng(5), 4 * 27, 0.5);
const fp8Normalised = (() => { const l = e4m3Levels(); return [...l.slice(1).reverse().map((v) => -v / 448), ...l.map((v) => v / 448)]; })();
const NF4 = [-1, -0.6962, -0.5251, -0.3949, -0.2844, -0.1848, -0.0911, 0, 0.0796, 0.1609, 0.2461, 0.3379, 0.4407, 0.5626, 0.723, 1];

test('FP8 levels (normalised table) export exactly as float8e4m3fn at opset 19, ReduceMean axes converted', async () => {
  const q = quantizeWeight(W, [4, 3, 3, 3], { kind: 'channel', axis: 0 }, { format: 'fp8_e4m3', kind: 'table', table: fp8Normalised });
  const m = await checkConvExport(13, q, 'float8e4m3fn', 19);
  const mean = ((m.graph as onnx.GraphProto).node as onnx.NodeProto[]).find((n) => n.opType === 'ReduceMean');
  assert.equal(mean?.input.length, 2, 'axes became an input at opset ≥ 18');
  assert.equal(Number(m.irVersion), 9);
});

test('FP4 (E2M1) and ternary levels are stored exactly in wider containers', async () => {
  const fp4 = [-6, -4, -3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, 4, 6];
  await checkConvExport(17, quantizeWeight(W, [4, 3, 3, 3], { kind: 'channel', axis: 0 }, { format: 'fp4_e2m1', kind: 'table', table: fp4 }), 'int8', 17);
  await checkConvExport(17, quantizeWeight(W, [4, 3, 3, 3], { kind: 'tensor' }, { format: 'ternary', kind: 'table', table: [-1, 0, 1] }), 'int4', 21);
});

test('NF4 cannot be represented: dequantized FP32 weights, recorded in metadata', async () => {
  const q = quantizeWeight(W, [4, 3, 3, 3], { kind: 'channel', axis: 0 }, { format: 'nf4', kind: 'table', table: NF4 });
  const m = await checkConvExport(13, q, 'float32 (dequantized)', 13);
  const meta = m.metadataProps.find((p) => p.key === 'quantlens.export');
  assert.match(meta?.value ?? '', /"format":"nf4".*"stored":"float32 \(dequantized\)"/);
});

test('per-channel scales on an opset-11 model fall back to dequantized weights (the opset is not raised below 13)', async () => {
  const q = quantizeWeight(W, [4, 3, 3, 3], { kind: 'channel', axis: 0 }, { format: 'int8', kind: 'int', bits: 8 });
  await checkConvExport(11, q, 'float32 (dequantized)', 11);
  const t = quantizeWeight(W, [4, 3, 3, 3], { kind: 'tensor' }, { format: 'int8', kind: 'int', bits: 8 });
  await checkConvExport(11, t, 'int8', 11);
});

test('a config naming a node the model lacks is a config error', () => {
  const q = quantizeWeight(W, [4, 3, 3, 3], { kind: 'tensor' }, { format: 'int8', kind: 'int', bits: 8 });
  assert.throws(() => exportQdq(convModel(13, W, W.slice(0, 4)), { layers: { nope: { weights: { 1: q } } } }, 'conv.onnx'), /conv\.onnx: .*'nope'/);
  assert.throws(() => exportQdq(Uint8Array.of(1, 2, 3), { layers: {} }, 'bad.onnx'), /bad\.onnx: not a readable ONNX model/);
});
