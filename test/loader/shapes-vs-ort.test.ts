// SPDX-License-Identifier: Apache-2.0
// Inferred output shapes of every conformance model equal the shapes onnxruntime-node actually produces
// (with the model's stored test inputs when it has them, random inputs otherwise). For models ORT itself
// refuses (old opsets, training ops, missing locales) the stored expected outputs are the reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModel, readTensorFile, type NamedTensor } from '../../analysis/onnx/load';
import { inferShapes } from '../../analysis/shapes/infer';
import type { Dim } from '../../engine/ir';
import { conformanceDir } from '../shared-data';

const ROOT = conformanceDir();

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.onnx') && name !== 'LICENSE.onnx') out.push(p);
  }
  return out.sort();
}

function testData(model: string, prefix: 'input' | 'output'): NamedTensor[] | undefined {
  const dir = path.join(path.dirname(model), 'test_data_set_0');
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir).filter((f) => f.startsWith(`${prefix}_`) && f.endsWith('.pb'))
    .sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]));
  return files.map((f) => readTensorFile(path.join(dir, f)));
}

function ortTensor(t: { dtype: string; dims: number[]; data: unknown }): ort.Tensor {
  const data = Array.isArray(t.data) ? t.data.slice() : (t.data as Float32Array).slice();
  return new ort.Tensor(t.dtype as 'float32', data as Float32Array, t.dims);
}

function randomTensor(dtype: string, dims: number[], seed: number): ort.Tensor | undefined {
  const n = dims.reduce((a, b) => a * b, 1);
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  switch (dtype) {
    case 'float32': return new ort.Tensor('float32', Float32Array.from({ length: n }, () => rnd() * 2 - 1), dims);
    case 'float64': return new ort.Tensor('float64', Float64Array.from({ length: n }, () => rnd() * 2 - 1), dims);
    case 'int64': return new ort.Tensor('int64', BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rnd() * 3))), dims);
    case 'int32': return new ort.Tensor('int32', Int32Array.from({ length: n }, () => Math.floor(rnd() * 3)), dims);
    case 'bool': return new ort.Tensor('bool', Uint8Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : 0)), dims);
    default: return undefined;
  }
}

const fmt = (s: readonly Dim[] | undefined) => (s ? `[${s.join(',')}]` : 'unknown');

test('inferred output shapes match onnxruntime-node on every conformance model it runs', async () => {
  const models = walk(ROOT);
  const tally = { models: models.length, checkedOrt: 0, checkedStored: 0, ortRefused: 0, unresolvedOutputs: 0, outputsCompared: 0 };
  const mismatches: string[] = [];
  const unresolved: string[] = [];
  for (const file of models) {
    const { model } = await loadModel(file);
    const inputs = testData(file, 'input');
    const useData = inputs && inputs.length === model.graph.inputs.length;
    const overrides: Record<string, number[]> = {};
    if (useData) model.graph.inputs.forEach((i, k) => { if (i.shape?.some((d) => typeof d !== 'number')) overrides[i.name] = inputs[k].dims; });
    const info = inferShapes(model, file, { overrides });
    let actual: Record<string, readonly number[]> | undefined;
    try {
      const session = await ort.InferenceSession.create(file, { logSeverityLevel: 4 });
      const feeds: Record<string, ort.Tensor> = {};
      model.graph.inputs.forEach((i, k) => {
        const t = useData ? ortTensor(inputs[k]) : randomTensor(i.dtype, info.inputShapes.get(i.name)!, 1234 + k);
        if (t) feeds[i.name] = t;
      });
      const out = await session.run(feeds);
      actual = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.dims]));
      tally.checkedOrt++;
    } catch {
      tally.ortRefused++;
      const stored = useData ? testData(file, 'output') : undefined;
      if (stored && stored.length === model.graph.outputs.length) {
        actual = Object.fromEntries(model.graph.outputs.map((o, k) => [o.name, stored[k].dims]));
        tally.checkedStored++;
      }
    }
    if (!actual) continue;
    for (const o of model.graph.outputs) {
      const want = actual[o.name];
      if (!want) continue; // a sequence output: ORT returns no tensor dims for it
      const got = info.shapes.get(o.name);
      tally.outputsCompared++;
      if (!got || got.some((d) => typeof d !== 'number')) { tally.unresolvedOutputs++; unresolved.push(`${path.relative(ROOT, file)} ${o.name}: ${fmt(got)}`); continue; }
      if (got.length !== want.length || got.some((d, i) => d !== want[i])) mismatches.push(`${path.relative(ROOT, file)} ${o.name}: inferred ${fmt(got)}, actual ${fmt(want)}`);
    }
  }
  console.log(`shape check: ${JSON.stringify(tally)}\nunresolved (data-dependent): ${unresolved.join('; ')}`);
  assert.deepEqual(mismatches, []);
  assert.ok(tally.checkedOrt >= 100, `ORT ran only ${tally.checkedOrt} models`);
  // only outputs whose size depends on input VALUES may stay unresolved: Expand to a shape fed at run time,
  // StringNormalizer dropping stopwords
  assert.deepEqual(unresolved.filter((u) => !/test_expand_shape_model|test_strnorm_model/.test(u)), []);
});
