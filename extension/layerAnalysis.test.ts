// SPDX-License-Identifier: Apache-2.0
// The panel computations on the bundled samples with the real analysis functions, onnxruntime and the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openCalibration } from '../analysis/data';
import { loadModelBytes } from '../analysis/onnx/load';
import { runJob } from '../analysis/jobs/runJob';
import { accuracyDelta, activationHistogram, outlierChannels, quantizeLayerWeights, singleLayerConfig } from './layerAnalysis';
import type { OnnxModelDocument } from './modelDocument';
import type { Sources } from './dataSources';

const samples = path.resolve(__dirname, '..', 'samples');

/** The parts of a model document the computations read (the class itself needs VS Code). */
async function doc(name: string): Promise<OnnxModelDocument> {
  const file = path.join(samples, name);
  const bytes = new Uint8Array(readFileSync(file));
  const loaded = await loadModelBytes(bytes, file);
  return { path: file, bytes, loaded, sha256: loaded.sha256 } as unknown as OnnxModelDocument;
}

function sources(d: OnnxModelDocument): Sources {
  const graph = d.loaded.model.graph;
  return {
    calib: openCalibration(graph, { data: path.join(samples, 'data', 'calib') }),
    eval: openCalibration(graph, { data: path.join(samples, 'data', 'eval'), labels: path.join(samples, 'data', 'eval', 'labels.npy') }),
    label: 'samples',
  };
}

test('Quantize Layer at int4: 16 grid points, clip range inside the histogram, SQNR well below int8', async () => {
  const d = await doc('cnn.onnx');
  const layer = d.loaded.model.graph.nodes.find((n) => n.opType === 'Conv')!.name;
  const i4 = quantizeLayerWeights(d, layer, { format: 'int4', granularity: 'tensor', calibration: 'minmax' });
  const i8 = quantizeLayerWeights(d, layer, { format: 'int8', granularity: 'tensor', calibration: 'minmax' });
  assert.equal(i4.result.grid?.length, 16);
  assert.equal(i4.histogram.counts.reduce((a, b) => a + b, 0), 144, 'every weight of the 16×1×3×3 conv is in the histogram');
  assert.ok(i4.histogram.edges[0] <= i4.result.clipRange![0] && i4.result.clipRange![1] <= i4.histogram.edges.at(-1)!);
  assert.ok(i8.result.sqnrDb > i4.result.sqnrDb + 15, `int8 ${i8.result.sqnrDb} dB vs int4 ${i4.result.sqnrDb} dB`);
  assert.throws(() => quantizeLayerWeights(d, '/Relu', { format: 'int4' }), /has no constant weight/);
});

test('the accuracy delta with one layer quantized is measured on the engine, in the worker, with labels', async () => {
  const d = await doc('cnn.onnx');
  const layer = d.loaded.model.graph.nodes.find((n) => n.opType === 'Gemm')!.name;
  const { eval: e } = await runJob({
    kind: 'evaluate', model: d.path, sha256: d.sha256, config: singleLayerConfig(d, layer, { format: 'int2', granularity: 'tensor' }), perLayer: false,
    data: { calib: { data: path.join(samples, 'data', 'calib') }, eval: { data: path.join(samples, 'data', 'eval'), labels: path.join(samples, 'data', 'eval', 'labels.npy') } },
  });
  const a = accuracyDelta(e);
  assert.equal(a.metric, 'top-1 accuracy');
  assert.ok(Math.abs(a.fp32 - 0.9889) < 0.001, `FP32 top-1 ${a.fp32}`);
  assert.ok(a.delta < 0 && a.delta > -1, `int2 on the classifier head costs accuracy (${a.delta})`);
});

test('the Softmax activation of the ViT: histogram in [0, 1], one-sided clip ranges, log2 and Tan grids with errors', async () => {
  const d = await doc('vit.onnx');
  const sm = d.loaded.model.graph.nodes.find((n) => n.opType === 'Softmax')!.name;
  const a = await activationHistogram(d, sm, ['log2', 'tan', 'uint8'], sources(d), new AbortController().signal);
  assert.ok(a.histogram.edges[0] >= 0 && a.histogram.edges.at(-1)! <= 1 + 1e-6);
  assert.deepEqual(a.clipRanges.map((c) => c.method), ['min/max', 'percentile 99.99', 'MSE', 'KL']);
  for (const c of a.clipRanges) assert.ok(c.min >= 0 && c.max > 0 && c.max <= 1.01, `${c.method}: ${c.min}…${c.max}`);
  assert.deepEqual(a.grids.map((g) => g.format), ['log2', 'tan', 'uint8']);
  for (const g of a.grids) assert.ok(Number.isFinite(g.sqnrDb) && g.mse >= 0 && g.grid.length > 1, g.format);
  assert.ok(a.grids[2].sqnrDb > a.grids[0].sqnrDb, 'uint8 (256 levels) beats 4-bit log2 on error');
  assert.equal(a.samples, 64);
});

test('outlier channels are those whose range exceeds 8× the median', () => {
  const r = [0.1, 0.12, 0.09, 2, 0.11].map((w, channel) => ({ channel, min: -w / 2, max: w / 2 }));
  assert.deepEqual(outlierChannels(r), [3]);
});
