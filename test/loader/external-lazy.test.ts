// SPDX-License-Identifier: Apache-2.0
// externalData: 'lazy' validates external data at load time but reads each tensor only when used, so
// weights-only statistics stream one tensor at a time; the layer table matches the eager load exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { describeLayers } from '../../analysis/layers';
import { isLazyTensor, loadModel } from '../../analysis/onnx/load';
import { isQuantLensError } from '../../engine/errors';
import { FLOAT, encodeModel, node, vi } from './onnxBuild';

function externalLinearModel(dir: string, layers: number, k: number): string {
  const blob = new Float32Array(layers * k * k);
  for (let i = 0; i < blob.length; i++) blob[i] = Math.sin(i * 0.37) * (1 + (i % 97 === 0 ? 20 : 0));
  writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(blob.buffer));
  const initializer: onnx.ITensorProto[] = Array.from({ length: layers }, (_, l) => ({
    name: `w${l}`, dims: [k, k], dataType: FLOAT, dataLocation: 1,
    externalData: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: String(l * k * k * 4) }, { key: 'length', value: String(k * k * 4) }],
  }));
  const nodes = Array.from({ length: layers }, (_, l) => node('MatMul', [l ? `h${l - 1}` : 'x', `w${l}`], [l === layers - 1 ? 'y' : `h${l}`], {}, `fc${l}`));
  const file = path.join(dir, 'model.onnx');
  writeFileSync(file, encodeModel({ input: [vi('x', [1, k])], output: [vi('y', [1, k])], initializer, node: nodes }));
  return file;
}

test('lazy external weights give the same layer statistics as eager ones', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ql-lazy-'));
  const file = externalLinearModel(dir, 4, 64);
  const eager = await loadModel(file);
  const lazy = await loadModel(file, { externalData: 'lazy' });
  assert.ok(!isLazyTensor(eager.model.graph.initializers.get('w0')!));
  assert.ok(isLazyTensor(lazy.model.graph.initializers.get('w0')!));
  assert.deepEqual(lazy.external, { bytes: 4 * 64 * 64 * 4, tensors: 4 });
  assert.deepEqual(describeLayers(lazy), describeLayers(eager));
  assert.equal(describeLayers(lazy)[3].weightStats!.count, 64 * 64);
});

test('lazy loading still refuses escaping or short external data at load time', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ql-lazy-'));
  const file = externalLinearModel(dir, 2, 16);
  writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(100)); // shorter than 2 × 16 × 16 × 4
  await assert.rejects(loadModel(file, { externalData: 'lazy' }), (e: unknown) => isQuantLensError(e) && e.kind === 'external-data' && /has only 100/.test(e.message));
});

test('lazy tensors do not count against the resident memory cap, but each still meets the per-tensor cap', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ql-lazy-'));
  const file = externalLinearModel(dir, 4, 64); // 16 KiB per tensor, 64 KiB in all
  await assert.rejects(loadModel(file, { limits: { maxTotalBytes: 32 * 1024 } }), (e: unknown) => isQuantLensError(e) && e.kind === 'limit');
  await loadModel(file, { externalData: 'lazy', limits: { maxTotalBytes: 32 * 1024 } });
  await assert.rejects(loadModel(file, { externalData: 'lazy', limits: { maxTensorBytes: 8 * 1024 } }), (e: unknown) => isQuantLensError(e) && e.kind === 'limit');
});
