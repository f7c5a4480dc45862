// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { openCalibration } from '../../analysis/data/index';
import { activationTensorsFor, buildEngineConfig } from '../../analysis/eval/engineConfig';
import { calibrateActivations } from '../../analysis/eval/evaluate';
import { gramsForConfig } from '../../analysis/eval/layerGram';
import { exportQdq } from '../../analysis/export/qdq';
import { loadModel } from '../../analysis/onnx/load';
import { presetConfig } from '../../analysis/presets';
import { compile, run } from '../../engine/index';

const samples = path.resolve(__dirname, '../../samples');

/**
 * The exported QDQ model in onnxruntime and the engine's quantized graph compute the same quantized network:
 * their outputs differ by far less than quantization moved either away from FP32 (well inside one quantization
 * step), and they agree on the class of (nearly) every sample.
 */
async function checkModel(model: string, preset: string, expectOpset: number): Promise<void> {
  const file = path.join(samples, `${model}.onnx`);
  const bytes = readFileSync(file);
  const loaded = await loadModel(file);
  const graph = loaded.model.graph;
  const fp = compile(loaded.model);
  const config = presetConfig(preset, { path: file });
  const calib = openCalibration(graph, { data: path.join(samples, 'data/calib') });
  const stats = await calibrateActivations(loaded, bytes, activationTensorsFor(graph, config, fp.constants), calib);
  const built = buildEngineConfig(graph, config, stats, fp.constants, await gramsForConfig(fp, config, calib));
  const exported = exportQdq(bytes, built.engine, file);
  assert.equal(exported.opset, expectOpset);
  assert.ok(exported.notes.every((n) => n.reason === undefined || !n.stored.startsWith('float')), JSON.stringify(exported.notes));
  assert.ok(exported.bytes.length < bytes.length, 'FP32 weights are replaced, not kept alongside');

  const session = await ort.InferenceSession.create(exported.bytes);
  const reference = await ort.InferenceSession.create(bytes);
  const qp = compile(loaded.model, built.engine);
  let dq = 0, dfp = 0, agree = 0, n = 0;
  for await (const b of openCalibration(graph, { data: path.join(samples, 'data/eval'), labels: path.join(samples, 'data/eval/labels.npy') }).batches(150)) {
    const x = b.feeds.input;
    const feeds = { input: new ort.Tensor('float32', x.data as Float32Array, x.dims) };
    const qdq = (await session.run(feeds)).logits.data as Float32Array;
    const f32 = (await reference.run(feeds)).logits.data as Float32Array;
    const eng = (await run(qp, b.feeds)).outputs.logits.data as Float32Array;
    for (let i = 0; i < eng.length; i++) {
      dq = Math.max(dq, Math.abs(qdq[i] - eng[i]));
      dfp = Math.max(dfp, Math.abs(f32[i] - eng[i]));
    }
    for (let r = 0; r < b.size; r++) {
      const arg = (a: Float32Array) => { let k = 0; for (let j = 1; j < 10; j++) if (a[r * 10 + j] > a[r * 10 + k]) k = j; return k; };
      if (arg(qdq) === arg(eng)) agree++;
      n++;
    }
  }
  await session.release();
  await reference.release();
  assert.ok(dq < 0.25 * dfp, `${model} ${preset}: onnxruntime QDQ vs engine max diff ${dq}, FP32 vs engine ${dfp}`);
  assert.ok(agree / n >= 0.99, `${model} ${preset}: top-1 agreement ${agree / n}`);
}

test('CNN W8A8: the QDQ export runs in onnxruntime and matches the engine', () => checkModel('cnn', 'w8a8', 17));
test('ViT W4A8 (int4 weights → opset 21): the QDQ export runs in onnxruntime and matches the engine', () => checkModel('vit', 'w4a8', 21));
test('MobileNet FP8 (float8e4m3fn weights and activations): the QDQ export runs in onnxruntime and matches the engine', () => checkModel('mobilenet', 'fp8', 19));
test('MobileNet W4A8 with GPTQ rounding (depthwise groups included): the QDQ export runs in onnxruntime and matches the engine', () => checkModel('mobilenet', 'w4a8-gptq', 21));
