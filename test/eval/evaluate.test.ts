// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openCalibration } from '../../analysis/data/index';
import { evaluate } from '../../analysis/eval/evaluate';
import { loadModel } from '../../analysis/onnx/load';
import { presetConfig } from '../../analysis/presets';

const root = path.resolve(__dirname, '../..');
const samples = path.join(root, 'samples');

async function evalPreset(model: string, preset: string, labels = true) {
  const file = path.join(samples, `${model}.onnx`);
  const loaded = await loadModel(file);
  const graph = loaded.model.graph;
  // without labels, evaluate on the (unlabelled) calibration folder
  const evalSource = labels
    ? openCalibration(graph, { data: path.join(samples, 'data/eval'), labels: path.join(samples, 'data/eval/labels.npy') })
    : openCalibration(graph, { data: path.join(samples, 'data/calib') });
  const calibSource = openCalibration(graph, { data: path.join(samples, 'data/calib') });
  return evaluate({ loaded, modelBytes: readFileSync(file), config: presetConfig(preset, { path: file }), evalSource, calibSource });
}

test('W8A8 on the CNN sample: within 1 point of FP32 top-1, engine FP32 matches onnxruntime, every layer reported', async () => {
  const { eval: e, built } = await evalPreset('cnn', 'w8a8');
  assert.ok(e.accuracy, 'labels give accuracy');
  assert.ok(Math.abs(e.accuracy.fp32 - 0.9889) < 0.001, `FP32 top-1 ${e.accuracy.fp32} matches the samples README`);
  assert.ok(e.accuracy.delta > -0.01, `W8A8 delta ${e.accuracy.delta}`);
  // the paired test accounts for the delta sample by sample: gained − lost = Δcorrect, from the misses lists
  const { paired, fp32Misses = [], quantizedMisses = [] } = e.accuracy;
  assert.ok(paired, 'labels give a paired test');
  assert.equal(paired.gained - paired.lost, Math.round(e.accuracy.delta * 450));
  assert.equal(quantizedMisses.length - fp32Misses.length, paired.lost - paired.gained);
  assert.equal(fp32Misses.length, Math.round((1 - e.accuracy.fp32) * 450));
  assert.ok(paired.pValue > 0.05, `W8A8's one-sample delta is not significant (p ${paired.pValue})`);
  assert.ok(e.parity.maxRelDiff < 1e-4, `parity ${JSON.stringify(e.parity)}`);
  assert.equal(e.samples, 450);
  assert.ok(e.sqnrDb > 20 && e.sqnrDb < 60, `output SQNR ${e.sqnrDb}`);
  assert.ok((e.top1Agreement ?? 0) > 0.98);
  // every quantized layer has a finite SQNR and a non-fp32 kernel path; the rest ran fp32
  const quantized = new Set(Object.keys(built.engine.layers));
  assert.deepEqual([...quantized].sort(), ['/conv1/Conv', '/conv2/Conv', '/fc/Gemm']);
  for (const l of e.layers) {
    if (quantized.has(l.name)) {
      assert.notEqual(l.kernel, 'fp32', l.name);
      assert.ok(Number.isFinite(l.sqnrDb), `${l.name} SQNR`);
    }
    assert.ok(l.latencyMs >= 0);
  }
  assert.ok(e.weights && e.weights.avgBits > 8 && e.weights.avgBits < 9, `avg bits ${e.weights?.avgBits} count scales`);
});

test('without labels, accuracy says why it is missing; W2A8 loses more than W8A8 (error propagates)', async () => {
  const w2 = (await evalPreset('cnn', 'w2a8', false)).eval;
  const w8 = (await evalPreset('cnn', 'w8a8', false)).eval;
  assert.equal(w2.accuracy, undefined);
  assert.match(w2.notApplicable?.accuracy ?? '', /no labels/);
  assert.ok(w2.sqnrDb < w8.sqnrDb - 10, `W2 ${w2.sqnrDb} dB vs W8 ${w8.sqnrDb} dB`);
  assert.ok((w2.kl ?? 0) > (w8.kl ?? 0));
});

test('GPTQ rounding on the calibration data: same int4 grid and bits as round-to-nearest, closer to FP32 on held-out samples', async () => {
  const nearest = (await evalPreset('vit', 'w4a8')).eval;
  const gptq = (await evalPreset('vit', 'w4a8-gptq')).eval;
  assert.equal(gptq.weights?.avgBits, nearest.weights?.avgBits, 'GPTQ changes which grid points, not the storage');
  // measured on the eval set, which the GPTQ statistics (calibration set) never saw
  assert.ok(gptq.sqnrDb > nearest.sqnrDb + 1, `output SQNR: GPTQ ${gptq.sqnrDb} dB vs nearest ${nearest.sqnrDb} dB`);
  assert.ok((gptq.kl ?? 1) < 0.75 * (nearest.kl ?? 0), `KL: GPTQ ${gptq.kl} vs nearest ${nearest.kl}`);
});
