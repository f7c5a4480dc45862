// SPDX-License-Identifier: Apache-2.0
// The extension's whole-model work runs in the analysis worker: evaluate, suggest and export jobs answer with
// the same data the CLI commands produce, structured-clone intact, write nothing, and a model that changed on
// disk since the owner opened it is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { runJob } from '../../analysis/jobs/runJob';
import { loadModel } from '../../analysis/onnx/load';
import { presetConfig } from '../../analysis/presets';
import { QuantLensError } from '../../engine/errors';

const ROOT = path.join(__dirname, '../..');
const MODEL = path.join(ROOT, 'samples/cnn.onnx');
const DATA = { calib: { data: path.join(ROOT, 'samples/data/calib') } };

test('an export job returns QDQ bytes that onnxruntime runs', async () => {
  const { sha256 } = await loadModel(MODEL);
  const stages: string[] = [];
  const { export: out } = await runJob({ kind: 'export', model: MODEL, sha256, config: presetConfig('w8a8', { path: MODEL, sha256 }), data: DATA, metadata: { 'quantlens.test': 'yes' } },
    { onProgress: (s) => stages.push(s) });
  assert.ok(out.bytes instanceof Uint8Array && out.bytes.length > 1000);
  assert.ok(stages.includes('export'));
  const session = await ort.InferenceSession.create(out.bytes);
  const x = new Float32Array(8 * 8).fill(0.5);
  const y = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [1, 1, 8, 8]) });
  assert.equal((y[session.outputNames[0]].data as Float32Array).length, 10);
  await session.release();
});

test('a suggest job answers with a config within its budget and the verified points', async () => {
  const { sha256 } = await loadModel(MODEL);
  const { suggest } = await runJob({
    kind: 'suggest', model: MODEL, sha256, data: DATA,
    request: { modelPath: './cnn.onnx', budget: { kind: 'avg-bits', value: 6 }, formats: ['int8', 'int4'], activation: null, sensitivity: 'hessian', paretoSteps: 2, toolVersion: 'test' },
  });
  assert.ok(suggest.chosen.avgWeightBits <= 6 + 1e-9, `avg bits ${suggest.chosen.avgWeightBits}`);
  assert.ok(Object.keys(suggest.config.layers ?? {}).length > 0);
  assert.ok(suggest.frontier.length >= 1);
  assert.equal(typeof suggest.chosen.measured.sqnrDb, 'number');
});

test('an evaluate job on a model that changed since it was opened is refused, naming the file', async () => {
  const sha = 'f'.repeat(64);
  assert.notEqual(sha, (await loadModel(MODEL)).sha256);
  await assert.rejects(runJob({ kind: 'evaluate', model: MODEL, sha256: sha, config: presetConfig('w8a8', { path: MODEL, sha256: sha }), data: DATA, perLayer: false }),
    (e: unknown) => e instanceof QuantLensError && e.kind === 'model-format' && e.message.includes(MODEL) && /changed on disk/.test(e.message));
  assert.ok(readFileSync(MODEL).length > 0);
});
