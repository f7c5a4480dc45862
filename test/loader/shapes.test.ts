// SPDX-License-Identifier: Apache-2.0
// Shape inference behaviours: --shape overrides, batch defaults, the error asking for --shape, constant
// propagation through Shape → Gather → Concat → Reshape, contradictions as typed errors, params and MACs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelBytesSync } from '../../analysis/onnx/load';
import { describeLayers } from '../../analysis/layers';
import { inferShapes } from '../../analysis/shapes/infer';
import { isQuantLensError } from '../../engine/errors';
import { encodeModel, floatTensor, int64Tensor, node, tinyModel, vi } from './onnxBuild';

const load = (bytes: Uint8Array) => loadModelBytesSync(bytes, '/tmp/m.onnx');

test('a symbolic batch dim defaults to 1 with a warning; --shape overrides it', () => {
  const m = load(tinyModel()).model;
  const auto = inferShapes(m, 'm.onnx');
  assert.deepEqual(auto.shapes.get('y'), [1, 3]);
  assert.match(auto.warnings.join('\n'), /batch 1/);
  const four = inferShapes(m, 'm.onnx', { overrides: { x: [4, 1, 4, 4] } });
  assert.deepEqual(four.shapes.get('y'), [4, 3]);
  assert.equal(four.warnings.length, 0);
});

test('a non-batch symbolic dim without --shape is a shape error that names the flag', () => {
  const m = load(encodeModel({ input: [vi('tokens', [1, 'seq'])], output: [vi('y', [1, 'seq'])], node: [node('Relu', ['tokens'], ['y'])] })).model;
  assert.throws(() => inferShapes(m, 'm.onnx'), (e: unknown) => isQuantLensError(e) && e.kind === 'shape' && /--shape tokens=1xN/.test(e.message));
  assert.deepEqual(inferShapes(m, 'm.onnx', { overrides: { seq: [7] } }).shapes.get('y'), [1, 7]);
  assert.throws(() => inferShapes(m, 'm.onnx', { overrides: { nope: [1] } }), (e: unknown) => isQuantLensError(e) && e.kind === 'usage');
});

test('Shape → Gather → Unsqueeze → Concat → Reshape resolves to concrete dims', () => {
  const m = load(encodeModel({
    input: [vi('x', ['n', 3, 4, 5])],
    output: [vi('y', undefined)],
    initializer: [int64Tensor('zero', [0], []), int64Tensor('minus1', [-1])],
    node: [
      node('Shape', ['x'], ['s']),
      node('Gather', ['s', 'zero'], ['n0'], { axis: 0 }),
      node('Unsqueeze', ['n0'], ['n1'], { axes: [0] }, 'unsq'),
      node('Concat', ['n1', 'minus1'], ['target'], { axis: 0 }),
      node('Reshape', ['x', 'target'], ['y']),
    ],
  }, 11)).model;
  const info = inferShapes(m, 'm.onnx', { overrides: { x: [2, 3, 4, 5] } });
  assert.deepEqual(info.values.get('target')?.v, [2, -1]);
  assert.deepEqual(info.shapes.get('y'), [2, 60]);
  assert.deepEqual(m.graph.valueInfo.get('y')?.shape, [2, 60]);
});

test('contradicting shapes are a shape error naming the node', () => {
  const m = load(encodeModel({
    input: [vi('a', [2, 3]), vi('b', [4, 5])], output: [vi('y', undefined)], node: [node('MatMul', ['a', 'b'], ['y'], {}, 'mm')],
  })).model;
  assert.throws(() => inferShapes(m, 'm.onnx'), (e: unknown) => isQuantLensError(e) && e.kind === 'shape' && /'mm' \(MatMul\)/.test(e.message) && /m\.onnx/.test(e.message));
});

test('layers carry shapes, params, MACs and weight statistics (Constant-node bias counted)', () => {
  const loaded = load(tinyModel());
  const layers = describeLayers(loaded);
  const conv = layers.find((l) => l.op === 'Conv')!;
  assert.deepEqual(conv.outputShapes, [[1, 2, 2, 2]]);
  assert.equal(conv.params, 2 * 9 + 2);
  assert.equal(conv.macs, 2 * 2 * 2 * 9);
  assert.deepEqual(conv.weightShape, [2, 1, 3, 3]);
  assert.ok(conv.weightStats && conv.weightStats.count === 18);
  const gemm = layers.find((l) => l.op === 'Gemm')!;
  assert.equal(gemm.params, 24 + 3);
  assert.equal(gemm.macs, 3 * 8);
  assert.deepEqual(gemm.weightShape, [3, 8]);
});

test('conv/pool arithmetic: strides, pads, dilation, ceil_mode, auto_pad, groups', () => {
  const m = load(encodeModel({
    input: [vi('x', [1, 4, 11, 11])],
    output: [vi('p', undefined), vi('q', undefined), vi('r', undefined)],
    initializer: [floatTensor('w', [8, 2, 3, 3])],
    node: [
      node('Conv', ['x', 'w'], ['c'], { strides: [2, 2], pads: [1, 1, 1, 1], dilations: [2, 2], group: 2 }),
      node('MaxPool', ['c'], ['p'], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }),
      node('AveragePool', ['x'], ['q'], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }),
      node('Conv', ['x', 'w'], ['r'], { group: 2, auto_pad: 'VALID' }),
    ],
  })).model;
  const info = inferShapes(m, 'm.onnx');
  assert.deepEqual(info.shapes.get('c'), [1, 8, 5, 5]);
  assert.deepEqual(info.shapes.get('p'), [1, 8, 3, 3]);
  assert.deepEqual(info.shapes.get('q'), [1, 4, 6, 6]);
  assert.deepEqual(info.shapes.get('r'), [1, 8, 9, 9]);
});

test('unnamed nodes get <OpType>_<index> without taking an explicit name; duplicates get a suffix', () => {
  const m = load(encodeModel({
    input: [vi('x', [1])], output: [vi('d', [1])],
    node: [node('Relu', ['x'], ['a']), node('Neg', ['a'], ['b'], {}, 'Relu_0'), node('Abs', ['b'], ['c'], {}, 'same'), node('Abs', ['c'], ['d'], {}, 'same')],
  })).model;
  assert.deepEqual(m.graph.nodes.map((n) => n.name), ['Relu_0_1', 'Relu_0', 'same', 'same_1']);
});
