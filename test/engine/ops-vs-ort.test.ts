// SPDX-License-Identifier: Apache-2.0
// Each single-op case of op-cases.ts, built as a one-node ONNX model, gives the same outputs in the engine as in
// onnxruntime-node (|Δ| ≤ 1e-5 + 1e-4·|reference|; integer and bool outputs exactly).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadModelBytes } from '../../analysis/onnx/load';
import { compile, runSync, supportedOpTypes } from '../../engine/index';
import type { Tensor } from '../../engine/ir';
import { compareTensors, conformanceFixtures, lightModels, load } from './helpers';
import { OP_CASES } from './op-cases';
import { buildOpModel } from './opModel';

async function ortRunBytes(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, { dims: readonly number[]; data: unknown; type: string }>> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, logSeverityLevel: 3 });
  const f: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const [k, t] of Object.entries(feeds)) f[k] = new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims);
  const out = await session.run(f);
  await session.release();
  return out as never;
}

test('every op case agrees with onnxruntime-node', async () => {
  const failures: string[] = [];
  for (const [i, c] of OP_CASES.entries()) {
    try {
      const { bytes, feeds } = buildOpModel(c, 100 + i);
      const model = (await loadModelBytes(bytes, `${c.name}.onnx`)).model;
      const { outputs } = runSync(compile(model), feeds);
      const ref = await ortRunBytes(bytes, feeds);
      for (const [k, r] of Object.entries(ref)) {
        const want: Tensor = { dtype: 'float32', dims: [...r.dims], data: r.data as Float32Array };
        const got = outputs[k];
        if (!got) { failures.push(`${c.name}: output ${k} missing`); continue; }
        const err = compareTensors(got, want, `${c.name} '${k}'`);
        if (err) failures.push(err);
      }
    } catch (e) {
      failures.push(`${c.name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  assert.deepEqual(failures, []);
});

/** Registered ops no test reaches through a model, with the reason. */
const NOT_IN_MODELS: Record<string, string> = {
  Constant: 'the loader folds Constant nodes into initializers (registry.test.ts runs one on hand-built IR)',
};

test('every registered op is exercised by an op case or a conformance model', async () => {
  const seen = new Set(OP_CASES.map((c) => c.op));
  for (const file of [...conformanceFixtures().map((f) => f.model), ...lightModels()]) {
    for (const n of (await load(file)).graph.nodes) seen.add(n.opType);
  }
  assert.deepEqual(supportedOpTypes().filter((op) => !seen.has(op) && !NOT_IN_MODELS[op]), []);
});
