// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { quantizableLayers } from '../../analysis/config/toQuantSpec';
import { openCalibration } from '../../analysis/data/index';
import { collectLayerGrams, gramsForConfig } from '../../analysis/eval/layerGram';
import { loadModel } from '../../analysis/onnx/load';
import { presetConfig } from '../../analysis/presets';
import { RowReservoir, layerGeometry } from '../../analysis/sensitivity/layerInputs';
import { compile, run } from '../../engine/index';

const samples = path.resolve(__dirname, '../../samples');

test('layer input Gram matrices equal XᵀX of every input row, however the layers are split into passes', async () => {
  const loaded = await loadModel(path.join(samples, 'mobilenet.onnx'));
  const graph = loaded.model.graph;
  const program = compile(loaded.model);
  const layers = quantizableLayers(graph, program.constants);
  const calib = () => openCalibration(graph, { data: path.join(samples, 'data/calib') });
  const onePass = await collectLayerGrams(program, layers, calib());
  const perLayer = await collectLayerGrams(program, layers, calib(), { maxBytes: 1, batchSize: 5 });
  // the reference: every row kept by a reservoir larger than the row count, then summed here
  const reservoirs = layers.map((l) => new RowReservoir(l.node, layerGeometry(l.node, l.tensor)!, 1e6));
  for await (const b of calib().batches(16)) {
    const r = await run(program, b.feeds, { taps: layers.map((l) => l.node.inputs[0]).filter((n) => !(n in b.feeds)) });
    for (const res of reservoirs) res.add(b.feeds[res.node.inputs[0]] ?? r.taps![res.node.inputs[0]]);
  }
  for (const [i, l] of layers.entries()) {
    const res = reservoirs[i], g = res.geometry, Kg = g.K / g.groups;
    const a = onePass.get(l.node.name)!, b = perLayer.get(l.node.name)!;
    assert.equal(a.rows, res.total, `${l.node.name} rows`);
    assert.equal(a.samples, 64);
    assert.equal(a.gram.length, g.groups);
    for (let q = 0; q < g.groups; q++) {
      for (let x = 0; x < Kg; x++) {
        for (let y = 0; y < Kg; y++) {
          let ref = 0;
          for (const row of res.rows) ref += row[q * Kg + x] * row[q * Kg + y];
          const tol = 1e-9 * Math.max(1, Math.abs(ref));
          assert.ok(Math.abs(a.gram[q][x * Kg + y] - ref) <= tol, `${l.node.name} group ${q} (${x}, ${y}): ${a.gram[q][x * Kg + y]} vs ${ref}`);
          assert.ok(Math.abs(b.gram[q][x * Kg + y] - ref) <= tol, `${l.node.name} split passes`);
        }
      }
    }
  }
});

test('a config without GPTQ needs no calibration pass; with GPTQ and no data the message says what to give', async () => {
  const loaded = await loadModel(path.join(samples, 'cnn.onnx'));
  const program = compile(loaded.model);
  const none = await gramsForConfig(program, presetConfig('w4a8', { path: 'cnn.onnx' }), undefined);
  assert.equal(none.size, 0);
  await assert.rejects(gramsForConfig(program, presetConfig('w4a8-gptq', { path: 'cnn.onnx' }), undefined),
    /rounds 3 layers with GPTQ, which needs calibration data \(--calib DIR, --data DIR or the config's calibration.data\)/);
});
