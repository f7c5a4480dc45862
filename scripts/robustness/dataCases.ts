// SPDX-License-Identifier: Apache-2.0
/** Calibration data that does not fit the model, through analysis/data (openCalibration + reading every batch). */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openCalibration } from '../../analysis/data';
import { encodeNpy } from '../../analysis/data/npy';
import { loadModel } from '../../analysis/onnx/load';
import type { Graph, Tensor } from '../../engine/ir';
import { encodeModel, node, vi } from '../../test/loader/onnxBuild';
import { ROOT, expectError, type Case, type Section } from './case';

const f32 = (dims: number[], fill = 0.5): Tensor => ({ dtype: 'float32', dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(fill) } as Tensor);

/** Open the source and pull every batch, so errors found while reading count too. */
async function drain(graph: Graph, opts: Parameters<typeof openCalibration>[1]): Promise<void> {
  const src = openCalibration(graph, opts);
  for await (const b of src.batches(4)) void b;
}

/** The calibration section: `samples/cnn.onnx` (input [batch,1,8,8]) and a two-input Add model. */
export async function dataSection(dir: string): Promise<Section> {
  const cnn = (await loadModel(path.join(ROOT, 'samples/cnn.onnx'))).model.graph;
  const twoFile = path.join(dir, 'two-inputs.onnx');
  writeFileSync(twoFile, encodeModel({ input: [vi('a', ['n', 4]), vi('b', ['n', 4])], output: [vi('y', ['n', 4])], node: [node('Add', ['a', 'b'], ['y'])] }));
  const two = (await loadModel(twoFile)).model.graph;
  let n = 0;
  /** A folder of .npy files (name → tensor or raw bytes). */
  const folder = (files: Record<string, Tensor | Uint8Array>): string => {
    const d = path.join(dir, `calib-${n++}`);
    for (const [name, t] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(d, name)), { recursive: true });
      writeFileSync(path.join(d, name), t instanceof Uint8Array ? t : encodeNpy(t));
    }
    return d;
  };
  const good = () => folder({ '0.npy': f32([1, 1, 8, 8]), '1.npy': f32([1, 1, 8, 8]), '2.npy': f32([1, 1, 8, 8]) });
  const labels = (name: string, body: string | Tensor) => {
    const f = path.join(dir, `${n++}-${name}`);
    writeFileSync(f, typeof body === 'string' ? body : encodeNpy(body));
    return f;
  };
  const c = (name: string, expected: string, make: () => { graph: Graph; opts: Parameters<typeof openCalibration>[1]; names: string }, kind: Parameters<typeof expectError>[1], pattern: RegExp): Case => ({
    name, expected: `${kind} error naming ${expected}`,
    run: () => { const m = make(); return expectError(() => drain(m.graph, m.opts), kind, pattern, m.names); },
  });
  const cases: Case[] = [
    c('sample of shape [1,1,7,7] for input [batch,1,8,8]', 'the .npy file', () => { const d = folder({ 'bad.npy': f32([1, 1, 7, 7]) }); return { graph: cnn, opts: { data: d }, names: path.join(d, 'bad.npy') }; }, 'calibration', /shape|\[1, 1, 7, 7\]|7/),
    c('sample of dtype int64 for a float32 input', 'the .npy file', () => {
      const d = folder({ 'i64.npy': { dtype: 'int64', dims: [1, 1, 8, 8], data: new BigInt64Array(64) } as Tensor });
      return { graph: cnn, opts: { data: d }, names: path.join(d, 'i64.npy') };
    }, 'calibration', /int64|dtype|type/),
    c('a .npy file that is not a .npy (text)', 'the file', () => { const d = folder({ 'junk.npy': new TextEncoder().encode('hello, not numpy') }); return { graph: cnn, opts: { data: d }, names: path.join(d, 'junk.npy') }; }, 'calibration', /not a readable \.npy/),
    c('a sample whose every value is NaN', 'the file', () => { const d = folder({ 'nan.npy': f32([1, 1, 8, 8], Number.NaN) }); return { graph: cnn, opts: { data: d }, names: path.join(d, 'nan.npy') }; }, 'calibration', /NaN/),
    c('two-input model: 3 samples for a, 2 for b', 'the folder', () => {
      const d = folder({ 'a/0.npy': f32([1, 4]), 'a/1.npy': f32([1, 4]), 'a/2.npy': f32([1, 4]), 'b/0.npy': f32([1, 4]), 'b/1.npy': f32([1, 4]) });
      return { graph: two, opts: { data: d }, names: d };
    }, 'calibration', /same count|samples/),
    c("two-input model: sub-folder 'b/' missing", 'the folder', () => { const d = folder({ 'a/0.npy': f32([1, 4]) }); return { graph: two, opts: { data: d }, names: d }; }, 'calibration', /'b\/' is missing/),
    c('labels: 2 ids for 3 samples', 'the labels file', () => { const l = labels('labels.json', '[1, 2]'); return { graph: cnn, opts: { data: good(), labels: l }, names: l }; }, 'calibration', /2 labels for 3/),
    c('labels file missing', 'the labels file', () => { const l = path.join(dir, 'no-such-labels.npy'); return { graph: cnn, opts: { data: good(), labels: l }, names: l }; }, 'io', /cannot|ENOENT|not exist/),
    c('labels: non-integer class ids', 'the labels file', () => { const l = labels('labels-frac.json', '[0.5, 1, 2]'); return { graph: cnn, opts: { data: good(), labels: l }, names: l }; }, 'calibration', /not an integer/),
    c('labels: a 3-D array', 'the labels file', () => { const l = labels('labels-3d.npy', f32([3, 2, 2])); return { graph: cnn, opts: { data: good(), labels: l }, names: l }; }, 'calibration', /1-D|shape/),
    c('labels: not JSON', 'the labels file', () => { const l = labels('labels-bad.json', '[1, 2,'); return { graph: cnn, opts: { data: good(), labels: l }, names: l }; }, 'calibration', /cannot read labels|JSON/),
    c('calibration folder does not exist', 'the folder', () => { const d = path.join(dir, 'no-such-folder'); return { graph: cnn, opts: { data: d }, names: d }; }, 'io', /does not exist/),
  ];
  return { title: 'Calibration data that does not fit', intro: 'Each folder or labels file is opened with `openCalibration` (analysis/data) for the model named, and every batch is read.', cases };
}
