// SPDX-License-Identifier: Apache-2.0
// The op registry covers every op issue #5 §1 names, keeps one row per (op, domain, opset range), and the
// decomposed LayerNorm pattern (ReduceMean/Sub/Pow/Sqrt/Div) computes the same as LayerNormalization.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile, OP_ROWS, runSync, supportedOpTypes, UNSUPPORTED_OPS, unsupportedNodes } from '../../engine/index';
import type { Tensor } from '../../engine/ir';
import { input, model, node, randomTensor } from './graphs';
import { compareTensors } from './helpers';

const ISSUE_OPS = [
  'Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'BatchNormalization', 'Relu', 'LeakyRelu', 'PRelu', 'Clip', 'Sigmoid', 'HardSigmoid',
  'HardSwish', 'Tanh', 'Erf', 'Gelu', 'Softmax', 'LogSoftmax', 'LayerNormalization', 'ReduceMean', 'Sub', 'Pow', 'Sqrt', 'Div',
  'Add', 'Mul', 'Exp', 'Log', 'Neg', 'Abs', 'Reciprocal', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Flatten', 'Reshape',
  'Transpose', 'Concat', 'Split', 'Slice', 'Squeeze', 'Unsqueeze', 'Gather', 'Shape', 'Cast', 'ConstantOfShape', 'Expand', 'Pad',
  'Resize', 'ReduceSum', 'ReduceMax', 'Identity', 'Dropout',
];

test('every op named in the engine issue is registered', () => {
  const have = new Set(supportedOpTypes());
  assert.deepEqual(ISSUE_OPS.filter((op) => !have.has(op)), []);
});

test('registry rows do not overlap and unsupported ops are not also registered', () => {
  for (const [i, [op, domain, since, until]] of OP_ROWS.entries()) {
    for (const [op2, domain2, since2, until2] of OP_ROWS.slice(i + 1)) {
      if (op !== op2 || domain !== domain2) continue;
      const overlap = since <= (until2 ?? Infinity) && since2 <= (until ?? Infinity);
      assert.ok(!overlap, `${op} has overlapping opset rows`);
    }
  }
  const registered = new Set(supportedOpTypes());
  assert.deepEqual(Object.keys(UNSUPPORTED_OPS).filter((op) => registered.has(op)), []);
});

test('the decomposed LayerNorm pattern matches LayerNormalization', () => {
  const f = (dims: number[], v: number[]): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(v) });
  const axes: Tensor = { dtype: 'int64', dims: [1], data: BigInt64Array.from([-1n]) };
  const inits = { axes, two: f([], [2]), eps: f([], [1e-5]), gamma: randomTensor([16], 2), beta: randomTensor([16], 3) };
  const decomposed = model([
    node('mean', 'ReduceMean', ['x', 'axes'], ['m']),
    node('center', 'Sub', ['x', 'm'], ['d']),
    node('square', 'Pow', ['d', 'two'], ['d2']),
    node('var', 'ReduceMean', ['d2', 'axes'], ['v']),
    node('addeps', 'Add', ['v', 'eps'], ['ve']),
    node('std', 'Sqrt', ['ve'], ['s']),
    node('norm', 'Div', ['d', 's'], ['n']),
    node('scale', 'Mul', ['n', 'gamma'], ['g']),
    node('shift', 'Add', ['g', 'beta'], ['y']),
  ], [input('x', [2, 5, 16])], ['y'], inits, 18);
  const fused = model([node('ln', 'LayerNormalization', ['x', 'gamma', 'beta'], ['y'])], [input('x', [2, 5, 16])], ['y'],
    { gamma: inits.gamma, beta: inits.beta }, 18);
  const x = randomTensor([2, 5, 16], 11);
  const a = runSync(compile(decomposed), { x }).outputs.y, b = runSync(compile(fused), { x }).outputs.y;
  assert.equal(compareTensors(a, b, 'y'), undefined);
});

test('unsupportedNodes lists what compile would refuse, without throwing', () => {
  const m = model([node('a', 'Relu', ['x'], ['y']), node('s', 'SequenceEmpty', [], ['q']), node('g', 'Gelu', ['x'], ['z'])], [input('x', [2])], ['y'], {}, 17);
  assert.deepEqual(unsupportedNodes(m.graph.nodes, m.opsets).map((u) => [u.node, u.opType]), [['s', 'SequenceEmpty'], ['g', 'Gelu']]);
  assert.match(unsupportedNodes(m.graph.nodes, m.opsets)[1].reason, /at this opset/);
  assert.deepEqual(unsupportedNodes([node('a', 'Relu', ['x'], ['y'])], { '': 13 }), []);
});

test('a Constant node handed to the engine directly is folded at compile time', () => {
  const m = model([
    node('k', 'Constant', [], ['c'], { value_floats: { type: 'floats', value: [1, -2, 3] } }),
    node('add', 'Add', ['x', 'c'], ['y']),
  ], [input('x', [3])], ['y']);
  const p = compile(m);
  assert.deepEqual(p.folded.map((f) => f.node.name), ['k']);
  const y = runSync(p, { x: { dtype: 'float32', dims: [3], data: Float32Array.from([1, 1, 1]) } }).outputs.y;
  assert.deepEqual(Array.from(y.data as Float32Array), [2, -1, 4]);
});
