// SPDX-License-Identifier: Apache-2.0
/** Shared helpers for the engine parity tests: fixture discovery, seeded inputs, onnxruntime references, comparison. */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadModel, readTensorFile } from '../../analysis/onnx/load';
import { compile, runSync } from '../../engine/index';
import type { Model, Tensor, ValueInfo } from '../../engine/ir';
import { elementCount } from '../../engine/ir';
import { conformanceDir } from '../shared-data';

export const CONFORMANCE = conformanceDir();
export const REPO = path.resolve(__dirname, '..', '..');

/** Relative tolerance of the parity tests, and the absolute floor for values near zero. */
export const RTOL = 1e-4;
export const ATOL = 1e-5;

export interface Fixture { name: string; dir: string; model: string }

/** Every `<suite>/<test>/model.onnx` of the conformance data. */
export function conformanceFixtures(suites = ['pytorch-converted', 'pytorch-operator', 'simple']): Fixture[] {
  const out: Fixture[] = [];
  for (const suite of suites) {
    const root = path.join(CONFORMANCE, suite);
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      const model = path.join(root, name, 'model.onnx');
      if (existsSync(model)) out.push({ name: `${suite}/${name}`, dir: path.join(root, name), model });
    }
  }
  return out;
}

/** The light/ CNNs (no stored inputs). */
export function lightModels(): string[] {
  const root = path.join(CONFORMANCE, 'light');
  return existsSync(root) ? readdirSync(root).filter((f) => f.endsWith('.onnx')).sort().map((f) => path.join(root, f)) : [];
}

export async function load(file: string): Promise<Model> {
  return (await loadModel(file)).model;
}

/** test_data_set_0's inputs (keyed by graph input order) and outputs (keyed by graph output order). */
export function dataSet(fx: Fixture, model: Model): { feeds: Record<string, Tensor>; expected: Record<string, Tensor> } {
  const dir = path.join(fx.dir, 'test_data_set_0');
  const feeds: Record<string, Tensor> = {}, expected: Record<string, Tensor> = {};
  model.graph.inputs.forEach((v, i) => { feeds[v.name] = readTensorFile(path.join(dir, `input_${i}.pb`)); });
  model.graph.outputs.forEach((v, i) => { expected[v.name] = readTensorFile(path.join(dir, `output_${i}.pb`)); });
  return { feeds, expected };
}

/** Deterministic xorshift PRNG in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}

/** Seeded inputs for every graph input (symbolic dims → `symbolic`; floats in [-1, 1), integers in [0, 4)). */
export function randomFeeds(inputs: ValueInfo[], seed: number, symbolic = 1): Record<string, Tensor> {
  const r = rng(seed);
  const feeds: Record<string, Tensor> = {};
  for (const v of inputs) {
    const dims = (v.shape ?? []).map((d) => (typeof d === 'number' ? d : symbolic));
    const n = elementCount(dims);
    if (v.dtype === 'int64') feeds[v.name] = { dtype: 'int64', dims, data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 4))) };
    else if (v.dtype === 'int32') feeds[v.name] = { dtype: 'int32', dims, data: Int32Array.from({ length: n }, () => Math.floor(r() * 4)) };
    else if (v.dtype === 'bool') feeds[v.name] = { dtype: 'bool', dims, data: Uint8Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0)) };
    else feeds[v.name] = { dtype: v.dtype, dims, data: Float32Array.from({ length: n }, () => r() * 2 - 1) };
  }
  return feeds;
}

/** Runs onnxruntime-node on the model file with the same feeds (its own reference). */
export async function ortRun(file: string, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, logSeverityLevel: 3 });
  const ortFeeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const [k, t] of Object.entries(feeds)) {
    const type = t.dtype === 'float32' ? 'float32' : t.dtype === 'int64' ? 'int64' : t.dtype === 'int32' ? 'int32' : t.dtype === 'bool' ? 'bool' : 'float32';
    ortFeeds[k] = new ort.Tensor(type, t.data as Float32Array, t.dims);
  }
  const res = await session.run(ortFeeds);
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(res)) {
    out[k] = { dtype: v.type === 'float32' ? 'float32' : v.type === 'int64' ? 'int64' : v.type === 'bool' ? 'bool' : 'float32', dims: [...v.dims], data: v.data as Float32Array };
  }
  await session.release();
  return out;
}

/** Worst violation of |got − want| ≤ ATOL + RTOL·|want|, as a message, or undefined when within tolerance. */
export function compareTensors(got: Tensor, want: Tensor, what: string): string | undefined {
  if (got.dims.length !== want.dims.length || got.dims.some((d, i) => d !== want.dims[i])) {
    return `${what}: dims [${got.dims}] ≠ [${want.dims}]`;
  }
  const g = Array.from(got.data as ArrayLike<number | bigint>, Number), w = Array.from(want.data as ArrayLike<number | bigint>, Number);
  let worst = 0, at = -1;
  for (let i = 0; i < w.length; i++) {
    const err = Math.abs(g[i] - w[i]), lim = ATOL + RTOL * Math.abs(w[i]);
    if (Number.isNaN(g[i]) !== Number.isNaN(w[i]) || err > lim) {
      const ratio = Number.isNaN(err) ? Infinity : err / lim;
      if (ratio > worst) { worst = ratio; at = i; }
    }
  }
  return at < 0 ? undefined : `${what}: element ${at} is ${g[at]}, expected ${w[at]} (${worst.toFixed(1)}× the tolerance)`;
}

/** Registers one test per light/ model in `names`: the engine agrees with onnxruntime-node on seeded random inputs. */
export function lightModelTests(names: string[]): void {
  const all = lightModels();
  test(`light models ${names.join(', ')} are present`, () => {
    for (const n of names) assert.ok(all.some((f) => f.endsWith(n)), `${n} missing from ${CONFORMANCE}/light`);
  });
  for (const name of names) {
    const file = all.find((f) => f.endsWith(name));
    test(`${name} matches onnxruntime-node`, { skip: file ? false : 'missing' }, async () => {
      const model = await load(file!);
      const feeds = randomFeeds(model.graph.inputs, 7);
      const { outputs } = runSync(compile(model), feeds);
      const ref = await ortRun(file!, feeds);
      for (const k of Object.keys(ref)) assert.equal(compareTensors(outputs[k], ref[k], `${name} '${k}'`), undefined);
    });
  }
}
