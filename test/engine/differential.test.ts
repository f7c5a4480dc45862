// SPDX-License-Identifier: Apache-2.0
// Differential test against onnxruntime-node: every supported conformance model and every samples/*.onnx model
// (at batch 1 and 3 for their symbolic batch dim), fed seeded random inputs, gives the same outputs as
// onnxruntime within |Δ| ≤ 1e-5 + 1e-4·|reference|.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { compile, runSync } from '../../engine/index';
import { isQuantLensError } from '../../engine/errors';
import type { Tensor } from '../../engine/ir';
import { REPO, compareTensors, conformanceFixtures, dataSet, load, ortRun, randomFeeds } from './helpers';

const samplesDir = path.join(REPO, 'samples');
const samples = existsSync(samplesDir) ? readdirSync(samplesDir).filter((f) => f.endsWith('.onnx')).sort().map((f) => path.join(samplesDir, f)) : [];

/**
 * Conformance models that onnxruntime-node 1.30 cannot load (it has no kernel for these old opset-1/6 versions);
 * they are still checked against their stored outputs in conformance.test.ts.
 */
const ORT_CANNOT_RUN = new Set([
  ...['AvgPool1d', 'AvgPool1d_stride', 'AvgPool2d', 'AvgPool2d_stride', 'AvgPool3d', 'AvgPool3d_stride', 'AvgPool3d_stride1_pad0_gpu_input',
    'BatchNorm1d_3d_input_eval', 'BatchNorm2d_eval', 'BatchNorm2d_momentum_eval', 'BatchNorm3d_eval', 'BatchNorm3d_momentum_eval',
    'GLU', 'GLU_dim', 'Linear', 'PReLU_1d', 'PReLU_1d_multiparam', 'PReLU_2d', 'PReLU_2d_multiparam', 'PReLU_3d', 'PReLU_3d_multiparam',
    'PoissonNLLLLoss_no_reduce', 'Softsign'].map((n) => `pytorch-converted/test_${n}`),
  ...['add_broadcast', 'add_size1_broadcast', 'add_size1_right_broadcast', 'add_size1_singleton_broadcast', 'addconstant', 'addmm',
    'basic', 'mm', 'non_float_params', 'params', 'pow'].map((n) => `pytorch-operator/test_operator_${n}`),
]);

type Outcome = { failures: string[]; ran: boolean };

/** Random float inputs; integer inputs (indices, target shapes) come from `stored` when given, since random ones are meaningless. */
async function differential(file: string, label: string, seed: number, stored?: Record<string, Tensor>, batch = 1): Promise<Outcome> {
  const model = await load(file);
  let program;
  try {
    program = compile(model);
  } catch (e) {
    if (isQuantLensError(e) && e.kind === 'unsupported-op') return { failures: [], ran: false };
    throw e;
  }
  const feedsFor = (s: number): Record<string, Tensor> => {
    const f = randomFeeds(model.graph.inputs, s, batch);
    for (const v of model.graph.inputs) if (stored?.[v.name] && !v.dtype.startsWith('float')) f[v.name] = stored[v.name];
    return f;
  };
  const feeds = feedsFor(seed);
  let ref: Record<string, Tensor>;
  try {
    ref = await ortRun(file, feeds);
  } catch (e) {
    if (/Could not find an implementation/.test((e as Error).message)) return { failures: [], ran: false };
    throw e;
  }
  // A warm-up run on other inputs first, so this run reuses buffers the previous one released.
  runSync(program, feedsFor(seed + 1));
  const { outputs } = runSync(program, feeds);
  const failures = Object.keys(ref).map((k) => compareTensors(outputs[k], ref[k], `${label} '${k}'`)).filter((e): e is string => e !== undefined);
  return { failures, ran: true };
}

test('conformance models agree with onnxruntime-node on seeded random inputs', async () => {
  const failures: string[] = [];
  const ortRefused: string[] = [];
  let compared = 0;
  for (const [i, fx] of conformanceFixtures().entries()) {
    const model = await load(fx.model);
    let stored: Record<string, Tensor> | undefined;
    try { stored = dataSet(fx, model).feeds; } catch { stored = undefined; }
    const r = await differential(fx.model, fx.name, 1000 + i, stored);
    failures.push(...r.failures);
    if (r.ran) compared++;
    else if (ORT_CANNOT_RUN.has(fx.name)) ortRefused.push(fx.name);
  }
  assert.deepEqual(failures, []);
  assert.deepEqual(new Set(ortRefused), ORT_CANNOT_RUN);
  assert.ok(compared >= 90, `only ${compared} models compared`);
});

for (const file of samples) {
  test(`sample ${path.basename(file)} agrees with onnxruntime-node`, async () => {
    for (const batch of [1, 3]) {
      const r = await differential(file, `${path.basename(file)} batch ${batch}`, 42, undefined, batch);
      assert.ok(r.ran, 'the sample must compile and run in both engines');
      assert.deepEqual(r.failures, []);
    }
  });
}
