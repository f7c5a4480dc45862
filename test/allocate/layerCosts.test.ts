// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { allocatableLayers, buildCostTable } from '../../analysis/allocate/layerCosts';
import { candidateSpec } from '../../analysis/allocate/suggest';
import { openCalibration } from '../../analysis/data/index';
import { calibrateActivations } from '../../analysis/eval/evaluate';
import { loadModel } from '../../analysis/onnx/load';
import { bitsPerElement } from '../../analysis/quant/formats';
import { compile } from '../../engine/index';

const samples = path.resolve(__dirname, '../../samples');

test('cost table on the ViT sample: folded MatMul weights included, both sensitivities rank int2 above int8, bits count scales', async () => {
  const file = path.join(samples, 'vit.onnx');
  const loaded = await loadModel(file);
  const bytes = readFileSync(file);
  const program = compile(loaded.model);
  const layers = allocatableLayers(loaded, program);
  // the eight block MatMuls read a Transpose of their stored weight: they must be allocatable too
  assert.equal(layers.filter((l) => l.node.opType === 'MatMul').length, 8);
  const source = () => openCalibration(loaded.model.graph, { data: path.join(samples, 'data/calib') });
  const stats = await calibrateActivations(loaded, bytes, [...new Set(layers.map((l) => l.node.inputs[0]))], source());
  const candidates = ['int8', 'int2'].map((id) => ({ id, spec: candidateSpec(id) }));
  const activation = { format: 'uint8', granularity: 'tensor', calibration: 'minmax', symmetric: false };
  for (const sensitivity of ['perturbation', 'hessian'] as const) {
    const some = layers.filter((l) => ['/blocks.0/fc1/MatMul', '/head/Gemm'].includes(l.node.name));
    const t = await buildCostTable({ loaded, modelBytes: bytes, program, layers: some, candidates, activation, activationStats: stats, source: source(), sensitivity });
    assert.equal(t.outputKind, 'logits');
    for (const l of t.problem.layers) {
      const [c8, c2] = l.choices;
      assert.ok(c2.loss > c8.loss, `${sensitivity} ${l.name}: int2 ${c2.loss} vs int8 ${c8.loss}`);
      const layer = some.find((x) => x.node.name === l.name)!;
      const axis = layer.node.opType === 'MatMul' ? 1 : 0;
      assert.equal(c8.weightBits, bitsPerElement('int8', { kind: 'channel', axis }, layer.dims) * l.params);
      assert.ok(c8.weightBits > 8 * l.params, 'scales are counted');
      assert.equal(c8.bops, 4 * c2.bops, 'BOPs scale with weight bits');
    }
  }
});
