// SPDX-License-Identifier: Apache-2.0
// Broken and hostile model files: each gives a QuantLensError of the right kind whose message names the
// file, never another exception, a hang or a huge allocation. External data stays inside the model folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { loadModel, loadModelBytesSync, readTensorFile } from '../../analysis/onnx/load';
import { isQuantLensError, type ErrorKind } from '../../engine/errors';
import { FLOAT, FLOAT16, FLOAT8E4M3FN, INT4, encodeModel, externalModel, floatTensor, node, tinyModel, vi } from './onnxBuild';

const root = mkdtempSync(path.join(tmpdir(), 'ql-hostile-'));
let counter = 0;

/** Writes a model (and optional side files) into its own folder; returns the model path. */
function place(bytes: Uint8Array, side: Record<string, Uint8Array> = {}): string {
  const dir = path.join(root, `m${counter++}`);
  mkdirSync(dir);
  for (const [name, data] of Object.entries(side)) writeFileSync(path.join(dir, name), data);
  const file = path.join(dir, 'model.onnx');
  writeFileSync(file, bytes);
  return file;
}

async function rejects(file: string, kind: ErrorKind, pattern: RegExp, opts?: Parameters<typeof loadModel>[1]): Promise<void> {
  await assert.rejects(loadModel(file, opts), (e: unknown) => {
    assert.ok(isQuantLensError(e), `not a QuantLensError: ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    assert.ok(e.message.includes(file), `message does not name the file: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

const weights = (n: number, offset = 0) => new Uint8Array(Float32Array.from({ length: n }, (_, i) => i + offset).buffer);

test('truncated, non-protobuf and empty files are model-format errors', async () => {
  const good = tinyModel();
  for (const cut of [1, 7, Math.floor(good.length / 2), good.length - 3]) {
    await rejects(place(good.subarray(0, cut)), 'model-format', /not a valid ONNX|no graph|declares/);
  }
  await rejects(place(new TextEncoder().encode('PK\u0003\u0004 definitely a zip, not a model')), 'model-format', /not a valid ONNX|no graph/);
  await rejects(place(new TextEncoder().encode('{"model": "json"}')), 'model-format', /not a valid ONNX|no graph/);
  await rejects(place(new Uint8Array(0)), 'model-format', /empty/);
});

test('a missing model file is an io error', async () => {
  await rejects(path.join(root, 'nope', 'model.onnx'), 'io', /ENOENT/);
});

test('external data is read with offset and length from inside the model folder', async () => {
  const blob = new Uint8Array(64);
  blob.set(weights(4, 10), 16);
  const file = place(externalModel('weights.bin', 4, { offset: '16', length: '16' }), { 'weights.bin': blob });
  const { model } = await loadModel(file);
  assert.deepEqual(Array.from(model.graph.initializers.get('w')!.data as Float32Array), [10, 11, 12, 13]);
  const nested = place(externalModel('sub/dir/w.bin'));
  mkdirSync(path.join(path.dirname(nested), 'sub/dir'), { recursive: true });
  writeFileSync(path.join(path.dirname(nested), 'sub/dir/w.bin'), weights(4));
  assert.equal((await loadModel(nested)).model.graph.initializers.get('w')!.dims[0], 4);
});

test('external data that is missing, escapes the folder or is too short is refused', async () => {
  const outside = path.join(root, 'secret.bin');
  writeFileSync(outside, weights(4));
  await rejects(place(externalModel('absent.bin')), 'external-data', /absent\.bin' does not exist/);
  await rejects(place(externalModel('../secret.bin')), 'external-data', /'\.\.'/);
  await rejects(place(externalModel('sub/../../secret.bin')), 'external-data', /'\.\.'/);
  await rejects(place(externalModel(outside)), 'external-data', /absolute path/);
  await rejects(place(externalModel('C:\\Windows\\win.ini')), 'external-data', /absolute path/);
  const viaLink = place(externalModel('link.bin'));
  symlinkSync(outside, path.join(path.dirname(viaLink), 'link.bin'));
  await rejects(viaLink, 'external-data', /symlink/);
  const viaDirLink = place(externalModel('d/secret.bin'));
  symlinkSync(root, path.join(path.dirname(viaDirLink), 'd'));
  await rejects(viaDirLink, 'external-data', /symlink/);
  await rejects(place(externalModel('short.bin', 4, { offset: '8' }), { 'short.bin': weights(4) }), 'external-data', /only 16/);
  await rejects(place(externalModel('w.bin', 4, { length: '8' }), { 'w.bin': weights(4) }), 'external-data', /length 8/);
  await rejects(place(externalModel('w.bin', 4, { offset: '-1' }), { 'w.bin': weights(4) }), 'external-data', /invalid external-data offset/);
});

test('a tensor declaring more elements than its bytes hold is refused', async () => {
  const short = { ...floatTensor('w', [4]), dims: [5] };
  await rejects(place(encodeModel({ input: [vi('x', [5])], output: [vi('y', [5])], initializer: [short], node: [node('Add', ['x', 'w'], ['y'])] })),
    'model-format', /declares \[5\] float32 \(20 bytes\) but its data holds 16/);
  const typed = { name: 'w', dims: [3], dataType: FLOAT, floatData: [1, 2] };
  await rejects(place(encodeModel({ input: [vi('x', [3])], output: [vi('y', [3])], initializer: [typed], node: [node('Add', ['x', 'w'], ['y'])] })),
    'model-format', /float_data holds 2/);
});

test('dim products over 2^53 and tensors over the cap are refused before allocation', async () => {
  const g = (t: onnx.ITensorProto) => encodeModel({ input: [vi('x', [1])], output: [vi('y', [1])], initializer: [t], node: [node('Add', ['x', 'w'], ['y'])] });
  await rejects(place(g({ name: 'w', dims: [2 ** 30, 2 ** 30, 2 ** 10], dataType: FLOAT, rawData: new Uint8Array(4) })), 'limit', /overflows 2\^53/);
  await rejects(place(g({ name: 'w', dims: [-3], dataType: FLOAT })), 'model-format', /invalid dimension -3/);
  const before = process.memoryUsage().arrayBuffers;
  // 64 GiB declared, 4 bytes present: the cap answers before anything is allocated or read
  await rejects(place(g({ name: 'w', dims: [2 ** 34], dataType: FLOAT, rawData: new Uint8Array(4) })), 'limit', /per-tensor cap/);
  await rejects(place(g({ name: 'w', dims: [2 ** 31], dataType: FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'huge.bin' }] })), 'limit', /per-tensor cap/);
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
  // a configurable cap: 1 KiB per tensor refuses a 4 KiB weight
  const ok = place(g(floatTensor('w', [1024])));
  await loadModel(ok);
  await rejects(ok, 'limit', /1\.0 KiB per-tensor cap/, { limits: { maxTensorBytes: 1024 } });
  await rejects(ok, 'limit', /memory cap/, { limits: { maxTotalBytes: 2048 } });
});

test('cyclic graphs, undefined inputs, duplicate definitions and deep subgraph nesting are typed errors', async () => {
  const cyc = encodeModel({ input: [vi('x', [1])], output: [vi('b', [1])], node: [node('Add', ['x', 'b'], ['a'], {}, 'n1'), node('Relu', ['a'], ['b'], {}, 'n2')] });
  await rejects(place(cyc), 'model-format', /cycle through node 'n[12]'/);
  const self = encodeModel({ input: [vi('x', [1])], output: [vi('a', [1])], node: [node('Add', ['x', 'a'], ['a'])] });
  await rejects(place(self), 'model-format', /cycle/);
  const undef = encodeModel({ input: [vi('x', [1])], output: [vi('y', [1])], node: [node('Add', ['x', 'ghost'], ['y'])] });
  await rejects(place(undef), 'model-format', /'ghost' is used but never defined/);
  const dup = encodeModel({ input: [vi('x', [1])], output: [vi('y', [1])], node: [node('Relu', ['x'], ['y']), node('Neg', ['x'], ['y'])] });
  await rejects(place(dup), 'model-format', /defined twice/);
  const leaf: onnx.IGraphProto = { name: 'leaf', output: [vi('z', [1])], node: [node('Identity', ['x'], ['z'])] };
  let body = leaf;
  for (let i = 0; i < 80; i++) body = { name: `level${i}`, output: [vi('z', [1])], node: [node('If', ['c'], ['z'], { then_branch: body, else_branch: leaf })] };
  const deep = encodeModel({ input: [vi('x', [1]), vi('c', [], 9)], output: [vi('z', [1])], node: body.node! });
  await rejects(place(deep), 'limit', /nested more than 64 deep/);
});

test('nodes out of dependency order are re-sorted with a warning; subgraphs may read outer values', async () => {
  const bytes = encodeModel({
    input: [vi('x', [2]), vi('c', [], 9)], output: [vi('z', [2])],
    node: [
      node('If', ['c'], ['z'], { then_branch: { name: 't', output: [vi('o', [2])], node: [node('Neg', ['r'], ['o'])] }, else_branch: { name: 'e', output: [vi('o', [2])], node: [node('Identity', ['r'], ['o'])] } }, 'if'),
      node('Relu', ['x'], ['r'], {}, 'relu'),
    ],
  });
  const { model, warnings } = loadModelBytesSync(bytes, 'm.onnx');
  assert.deepEqual(model.graph.nodes.map((n) => n.name), ['relu', 'if']);
  assert.match(warnings.join(), /re-sorted/);
  const sub = model.graph.nodes[1].attrs.then_branch;
  assert.ok(sub?.type === 'graph' && sub.value.nodes[0].opType === 'Neg');
});

test('element types decode from raw_data and typed fields: float16, int4, float8, bfloat16, bool, int64, int8', () => {
  const half = Uint16Array.of(0x3c00, 0xc000, 0x7c00, 0x0001);
  const f16 = readTensorFile(writeTensor({ dims: [4], dataType: FLOAT16, rawData: new Uint8Array(half.buffer) }));
  assert.deepEqual(Array.from(f16.data as Float32Array), [1, -2, Infinity, 2 ** -24]);
  const i4 = readTensorFile(writeTensor({ dims: [3], dataType: INT4, rawData: Uint8Array.of(0xf7, 0x08) }));
  assert.deepEqual(Array.from(i4.data as Int8Array), [7, -1, -8]);
  const f8 = readTensorFile(writeTensor({ dims: [3], dataType: FLOAT8E4M3FN, rawData: Uint8Array.of(0x38, 0xc0, 0x7f) }));
  assert.deepEqual(Array.from(f8.data as Float32Array).slice(0, 2), [1, -2]);
  assert.ok(Number.isNaN((f8.data as Float32Array)[2]));
  const bf16 = readTensorFile(writeTensor({ dims: [2], dataType: 16, int32Data: [0x3f80, 0xc040] }));
  assert.deepEqual(Array.from(bf16.data as Float32Array), [1, -3]);
  const bool = readTensorFile(writeTensor({ dims: [3], dataType: 9, int32Data: [0, 1, 5] }));
  assert.deepEqual(Array.from(bool.data as Uint8Array), [0, 1, 1]);
  const i64 = readTensorFile(writeTensor({ dims: [2], dataType: 7, int64Data: [-5, 2 ** 40] }));
  assert.deepEqual(Array.from(i64.data as BigInt64Array), [-5n, 2n ** 40n]);
  const i8 = readTensorFile(writeTensor({ dims: [2], dataType: 3, int32Data: [-128, 127] }));
  assert.deepEqual(Array.from(i8.data as Int8Array), [-128, 127]);
});

test('raw_data becomes a view on the file bytes, not a copy', () => {
  const bytes = encodeModel({ input: [vi('x', [8], 2)], output: [vi('y', [8], 2)], initializer: [{ name: 'w', dims: [8], dataType: 2, rawData: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }], node: [node('Add', ['x', 'w'], ['y'])] });
  const { model } = loadModelBytesSync(bytes, 'm.onnx');
  const w = model.graph.initializers.get('w')!.data as Uint8Array;
  assert.equal(w.buffer, bytes.buffer);
  assert.deepEqual(Array.from(w), [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('a model of 5000 nodes loads quickly (time printed, not asserted)', () => {
  const nodes = Array.from({ length: 5000 }, (_, i) => node(i % 2 ? 'Relu' : 'Neg', [i ? `v${i - 1}` : 'x'], [`v${i}`]));
  const bytes = encodeModel({ input: [vi('x', [1, 64])], output: [vi('v4999', [1, 64])], node: nodes });
  const t0 = performance.now();
  const { model } = loadModelBytesSync(bytes, 'chain.onnx');
  console.log(`5000-node chain: ${(performance.now() - t0).toFixed(1)} ms to load`);
  assert.equal(model.graph.nodes.length, 5000);
  assert.equal(new Set(model.graph.nodes.map((n) => n.name)).size, 5000);
});

function writeTensor(t: onnx.ITensorProto): string {
  const file = path.join(root, `t${counter++}.pb`);
  writeFileSync(file, onnx.TensorProto.encode(t).finish());
  return file;
}
