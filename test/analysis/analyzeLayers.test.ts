// SPDX-License-Identifier: Apache-2.0
// The statistics + sensitivity pipeline on the sample CNN and on hand-built graphs: all three methods give
// finite scores with errors, int4 is more sensitive than int8, non-logit outputs say "not applicable", and a
// NaN weight never gets a sensitivity or a suggestion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadModel, loadModelBytesSync } from '../../analysis/onnx/load';
import { openCalibration } from '../../analysis/data';
import { randomSource } from '../../analysis/data/random';
import { analyzeLayers } from '../../analysis/sensitivity/analyzeLayers';
import { buildModel, randn } from './helpers/tinyModels';

const ROOT = path.join(__dirname, '../..');

test('sample CNN: three methods per layer and format, int4 above int8, agreement reported', async () => {
  const file = path.join(ROOT, 'samples/cnn.onnx');
  const { model } = await loadModel(file);
  const src = openCalibration(model.graph, { data: path.join(ROOT, 'samples/data/calib') });
  const stages = new Set<string>();
  const r = await analyzeLayers(model, readFileSync(file), file, src, {
    formats: ['int8', 'int4'], perturbationSamples: 16, maxProbes: 8, onProgress: (s) => stages.add(s),
  });
  assert.equal(r.outputKind, 'logits');
  assert.deepEqual([...stages].sort(), ['layer-hessian', 'sensitivity', 'statistics']);
  assert.equal(r.perturbationSamples, 16);
  assert.ok(r.layers.size >= 3);
  for (const la of r.layers.values()) {
    const s = la.sensitivity;
    for (const m of [s.perturbation, s.hessianTrace, s.layerHessian]) {
      assert.ok(m, `${la.name}: a method is missing`);
      assert.ok(m.int4.value > m.int8.value, `${la.name}: int4 ${m.int4.value} should exceed int8 ${m.int8.value}`);
      assert.ok(Number.isFinite(m.int8.stdError!) && m.int8.stdError! >= 0);
    }
    assert.ok(s.trace!.value > 0 && s.traceProbes! >= 4);
    assert.ok(s.activationPerturbation?.int4);
    assert.ok(s.top1Agreement!.int8! >= 0.9, 'int8 weights keep the argmax');
    assert.ok(la.weightStats && la.activationStats && la.weightHistogram && la.activationHistogram);
    assert.equal(la.weightHistogram.counts.reduce((a, b) => a + b, 0), la.weightStats.count);
  }
  assert.ok(Object.keys(r.agreement).some((k) => k.startsWith('perturbation~hessianTrace@')));
  assert.ok(r.onnxruntimeMs > 0 && r.engineMs > 0 && r.backend === 'engine', 'the engine runs the downstream passes by default');
});

test('a model whose output is not logits: MSE sensitivity, agreement metrics not applicable', async () => {
  const bytes = buildModel({
    inputs: [['x', ['N', 2, 6, 6]]], outputs: [['y', ['N', 3, 6, 6]]],
    nodes: [
      { op: 'Conv', inputs: ['x', 'w1'], outputs: ['h'], name: 'c1', attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['h'], outputs: ['r'] },
      { op: 'Conv', inputs: ['r', 'w2'], outputs: ['y'], name: 'c2' },
    ],
    inits: [{ name: 'w1', dims: [4, 2, 3, 3], data: randn(72, 5, 0.4) }, { name: 'w2', dims: [3, 4, 1, 1], data: randn(12, 6, 0.5) }],
  });
  const { model } = loadModelBytesSync(bytes, 'img.onnx');
  const src = randomSource([{ name: 'x', dtype: 'float32', sampleShape: [2, 6, 6], fixedBatch: null }], 6, 1);
  const r = await analyzeLayers(model, bytes, 'img.onnx', src, { formats: ['int4'], maxProbes: 4 });
  assert.equal(r.outputKind, 'other');
  assert.match(r.notApplicable.top1Agreement, /not \[batch, classes\]/);
  for (const la of r.layers.values()) {
    assert.equal(la.sensitivity.perturbationMetric, 'mse');
    assert.equal(la.sensitivity.top1Agreement!.int4, null);
    assert.ok(la.sensitivity.perturbation!.int4.value > 0);
  }
});

test('a NaN in a weight: counted, tagged non-finite, no sensitivity and no suggestion', async () => {
  const w = randn(12, 7);
  w[3] = NaN;
  const bytes = buildModel({
    inputs: [['x', ['N', 4]]], outputs: [['y', ['N', 3]]],
    nodes: [{ op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], name: 'fc', attrs: { transB: 1 } }],
    inits: [{ name: 'w', dims: [3, 4], data: w }],
  });
  const { model } = loadModelBytesSync(bytes, 'nan.onnx');
  const src = randomSource([{ name: 'x', dtype: 'float32', sampleShape: [4], fixedBatch: null }], 4, 1);
  const r = await analyzeLayers(model, bytes, 'nan.onnx', src, { formats: ['int8'] });
  const la = r.layers.get('fc')!;
  assert.equal(la.weightStats!.nanCount, 1);
  assert.equal(la.tags[0].id, 'non-finite');
  const weightTags = la.tags.filter((t) => t.reason.startsWith('weight:'));
  assert.ok(weightTags.length >= 1 && weightTags.every((t) => t.suggestion === undefined), JSON.stringify(la.tags));
  assert.equal(la.sensitivity.perturbation, undefined);
  assert.match(la.sensitivity.notApplicable!.all, /NaN/);
});

test('sample ViT: folded Transpose weights are analysed and post-Softmax inputs are tagged power-law → log2', async () => {
  const file = path.join(ROOT, 'samples/vit.onnx');
  const { model } = await loadModel(file);
  const src = openCalibration(model.graph, { random: 8 });
  const r = await analyzeLayers(model, readFileSync(file), file, src, { formats: ['int8'], methods: ['layerHessian'] });
  assert.ok([...r.layers.keys()].some((n) => n.endsWith('fc1/MatMul')), 'MatMul fed a Transpose of a stored weight');
  const fc1 = [...r.layers.values()].find((l) => l.name.endsWith('fc1/MatMul'))!;
  assert.ok(fc1.sensitivity.layerHessian!.int8.value > 0);
  const softmaxed = [...r.layers.values()].filter((l) => l.tags.some((t) => t.id === 'power-law'));
  assert.ok(softmaxed.length >= 1, 'attention probabilities are tagged');
  assert.equal(softmaxed[0].tags.find((t) => t.id === 'power-law')!.suggestion, 'log2');
});

test('engine and onnxruntime downstream backends give the same sensitivities', async () => {
  const file = path.join(ROOT, 'samples/cnn.onnx');
  const { model } = await loadModel(file);
  const bytes = readFileSync(file);
  const run = async (backend: 'engine' | 'onnxruntime') => analyzeLayers(model, bytes, file, randomSource(
    [{ name: 'input', dtype: 'float32', sampleShape: [1, 8, 8], fixedBatch: null }], 8, 3),
  { formats: ['int4'], backend, maxProbes: 4, minProbes: 4, methods: ['perturbation', 'hessianTrace'] });
  const [e, o] = [await run('engine'), await run('onnxruntime')];
  assert.equal(e.backend, 'engine');
  assert.ok(e.engineMs > 0 && o.engineMs === 0);
  for (const [name, le] of e.layers) {
    const lo = o.layers.get(name)!;
    const pe = le.sensitivity.perturbation!.int4.value, po = lo.sensitivity.perturbation!.int4.value;
    assert.ok(Math.abs(pe - po) <= 1e-3 * po, `${name}: perturbation engine ${pe} vs onnxruntime ${po}`);
    const ae = le.sensitivity.activationPerturbation!.int4.value, ao = lo.sensitivity.activationPerturbation!.int4.value;
    assert.ok(Math.abs(ae - ao) <= 1e-3 * ao, `${name}: activation perturbation ${ae} vs ${ao}`);
    const te = le.sensitivity.trace!.value, to = lo.sensitivity.trace!.value;
    assert.ok(Math.abs(te - to) <= 0.02 * to, `${name}: trace engine ${te} vs onnxruntime ${to}`);
  }
});
