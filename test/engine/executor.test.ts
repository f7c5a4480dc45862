// SPDX-License-Identifier: Apache-2.0
// The executor's API: taps, timings, feeding intermediate values, per-run weight overrides, constant folding,
// liveness, and the errors for cycles, unsupported ops, missing/mismatched inputs and bad configs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile, run, runSync } from '../../engine/index';
import { QuantLensError } from '../../engine/errors';
import type { Tensor } from '../../engine/ir';
import { model, node, input, randomTensor, smallCnn } from './graphs';
import { compareTensors } from './helpers';

const feeds = (): Record<string, Tensor> => ({ x: randomTensor([1, 3, 8, 8], 9) });
const same = (a: Tensor, b: Tensor, what: string): void => assert.equal(compareTensors(a, b, what), undefined);
const kind = (k: QuantLensError['kind'], re?: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof QuantLensError, String(e));
  assert.equal(e.kind, k, e.message);
  if (re) assert.match(e.message, re);
  return true;
};

test('weight-only subgraphs are folded at compile time and listed as constants', () => {
  const p = compile(smallCnn());
  assert.deepEqual(p.folded.map((f) => f.node.name), ['wt']);
  assert.deepEqual(p.nodes.map((c) => c.node.name), ['conv', 'relu', 'gap', 'flat', 'fc']);
  const w2t = p.values.find((v) => v.name === 'W2t');
  assert.deepEqual(w2t, { name: 'W2t', kind: 'constant', dtype: 'float32', shape: [4, 5], producer: 'wt' });
  assert.ok(p.values.some((v) => v.name === 'r' && v.kind === 'intermediate' && v.producer === 'relu'));
});

test('taps return intermediate values and timings name every node with its path', async () => {
  const p = compile(smallCnn());
  const r = await run(p, feeds(), { taps: ['c', 'f'], timings: true });
  assert.deepEqual(Object.keys(r.taps!), ['c', 'f']);
  assert.deepEqual(r.taps!.c.dims, [1, 4, 8, 8]);
  assert.deepEqual(r.outputs.y.dims, [1, 5]);
  assert.deepEqual(r.timings!.map((t) => [t.node, t.op, t.path]), [
    ['conv', 'Conv', 'fp32'], ['relu', 'Relu', 'fp32'], ['gap', 'GlobalAveragePool', 'fp32'], ['flat', 'Flatten', 'fp32'], ['fc', 'Gemm', 'fp32'],
  ]);
  assert.ok(r.timings!.every((t) => t.ms >= 0));
});

test('feeding an intermediate value runs only the nodes downstream of it', () => {
  const p = compile(smallCnn());
  const full = runSync(p, feeds(), { taps: ['r'] });
  const part = runSync(p, { r: full.taps!.r }, { timings: true });
  assert.deepEqual(part.timings!.map((t) => t.node), ['gap', 'flat', 'fc']);
  same(part.outputs.y, full.outputs.y, 'y');
});

test('weight overrides apply to one run, reach folded constants, and leave the program unchanged', () => {
  const m = smallCnn();
  const p = compile(m);
  const x = feeds();
  const before = runSync(p, x).outputs.y;
  const W = randomTensor([4, 3, 3, 3], 77), W2 = randomTensor([5, 4], 78);
  const overridden = runSync(p, x, { weightOverrides: { W, W2 } }).outputs.y;
  m.graph.initializers.set('W', W);
  m.graph.initializers.set('W2', W2);
  same(overridden, runSync(compile(m), x).outputs.y, 'override vs recompiled');
  assert.notEqual(compareTensors(overridden, before, 'changed'), undefined);
  same(runSync(p, x).outputs.y, before, 'next run uses the compiled weights again');
  assert.throws(() => runSync(p, x, { weightOverrides: { W: randomTensor([4, 3], 1) } }), kind('shape', /override of 'W'/));
  assert.throws(() => runSync(p, x, { weightOverrides: { nope: W } }), kind('usage', /'nope'/));
});

test('values are released after their last reader', () => {
  const p = compile(smallCnn());
  runSync(p, feeds());
  const [plan] = [...p.plans.values()];
  const names = p.nodes.map((c) => c.node.name);
  const released = Object.fromEntries(plan.release.flatMap((vs, step) => vs.map((v) => [v, names[plan.order[step]]])));
  assert.deepEqual(released, { c: 'relu', r: 'gap', g: 'flat', f: 'fc' });
});

test('a cycle, a dangling output or a dangling input is rejected as a model-format error', () => {
  const m = model([node('a', 'Relu', ['x'], ['p']), node('b', 'Add', ['p', 'q'], ['q2']), node('c', 'Relu', ['q2'], ['q'])],
    [input('x', [2])], ['q']);
  assert.throws(() => compile(m), kind('model-format', /cycle/));
  const dangling = model([node('a', 'Relu', ['x'], ['p'])], [input('x', [2])], ['nowhere']);
  assert.throws(() => compile(dangling), kind('model-format', /output 'nowhere' is not produced/));
  const reads = model([node('a', 'Add', ['x', 'ghost'], ['y'])], [input('x', [2])], ['y']);
  assert.throws(() => compile(reads), kind('model-format', /node 'a' reads 'ghost'/));
});

test('an op the engine lacks fails compile naming op type, node and opset, even off the output path', () => {
  const m = model([node('ok', 'Relu', ['x'], ['y']), node('odd', 'StringNormalizer', ['x'], ['z'])], [input('x', [2])], ['y']);
  assert.throws(() => compile(m), kind('unsupported-op', /^StringNormalizer \(domain 'ai\.onnx', opset 17\) in node 'odd' is not supported by the engine: string tensors/));
  const custom = model([{ ...node('ms', 'FusedGemm', ['x'], ['y']), domain: 'com.microsoft' }], [input('x', [2])], ['y']);
  custom.opsets['com.microsoft'] = 1;
  assert.throws(() => compile(custom), kind('unsupported-op', /FusedGemm \(domain 'com\.microsoft', opset 1\) in node 'ms'/));
  const old = model([node('g', 'Gelu', ['x'], ['y'])], [input('x', [2])], ['y'], {}, 17);
  assert.throws(() => compile(old), kind('unsupported-op', /Gelu .* opset 17\) in node 'g' is not supported by the engine at this opset/));
  const crop = model([node('rs', 'Resize', ['x', '', 's'], ['y'], { coordinate_transformation_mode: { type: 'string', value: 'tf_crop_and_resize' } })],
    [input('x', [1, 1, 2, 2])], ['y'], { s: { dtype: 'float32', dims: [4], data: Float32Array.from([1, 1, 2, 2]) } });
  assert.throws(() => compile(crop), kind('unsupported-op', /Resize node 'rs': coordinate_transformation_mode 'tf_crop_and_resize'/));
});

test('missing, unknown and mismatched feeds are usage/shape errors', () => {
  const p = compile(smallCnn());
  assert.throws(() => runSync(p, {}), kind('usage', /input 'x' is needed but was not fed/));
  assert.throws(() => runSync(p, { ...feeds(), bogus: randomTensor([1], 1) }), kind('usage', /feed 'bogus'/));
  assert.throws(() => runSync(p, { x: randomTensor([1, 3, 8, 9], 1) }), kind('shape', /input 'x' expects shape \[1,3,8,8\]/));
  assert.throws(() => runSync(p, { x: { dtype: 'int32', dims: [1, 3, 8, 8], data: new Int32Array(192) } }), kind('usage', /expects float32/));
  assert.throws(() => runSync(p, feeds(), { taps: ['nowhere'] }), kind('usage', /'nowhere'/));
});

test('a bare graph needs opsets; a config naming a missing node is a config error', () => {
  const m = smallCnn();
  assert.throws(() => compile(m.graph), kind('usage', /opsets/));
  assert.doesNotThrow(() => compile(m.graph, undefined, { opsets: { '': 17 } }));
  assert.throws(() => compile(m, { layers: { ghost: {} } }), kind('config', /'ghost'/));
});

test('an async run can be cancelled', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(run(compile(smallCnn()), feeds(), { signal: ac.signal }), kind('cancelled'));
});

test('released buffers are reused across nodes and runs without touching returned outputs', () => {
  // Reshape aliases its input's buffer: the Relu output must stay alive until the Reshape's reader is done.
  const m = model([
    node('r1', 'Relu', ['x'], ['a']),
    node('rs', 'Reshape', ['a', 'shape'], ['b']),
    node('neg', 'Neg', ['b'], ['c']),
    node('r2', 'Relu', ['c'], ['d']),
    node('add', 'Add', ['d', 'b'], ['y']),
  ], [input('x', [4, 6])], ['y'], { shape: { dtype: 'int64', dims: [2], data: BigInt64Array.from([6n, 4n]) } });
  const p = compile(m);
  const x1 = randomTensor([4, 6], 1), x2 = randomTensor([4, 6], 2);
  const first = runSync(p, { x: x1 });
  const kept = Float32Array.from(first.outputs.y.data as Float32Array);
  const second = runSync(p, { x: x2 });
  assert.ok(p.arena.reused > 0, 'the second run reuses buffers released by the first');
  assert.deepEqual(Array.from(first.outputs.y.data as Float32Array), Array.from(kept), 'an earlier result is never recycled');
  // y = relu(−relu(x)) + relu(x) = relu(x); a recycled alias of 'b' would corrupt it.
  const expect = (x: Tensor): number[] => Array.from(x.data as Float32Array, (v) => Math.max(0, v));
  assert.deepEqual(Array.from(second.outputs.y.data as Float32Array), expect(x2));
});
