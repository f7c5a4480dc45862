// SPDX-License-Identifier: Apache-2.0
// `quantlens quantize-layer` on the sample models: the Report equals the library's numbers on the same weight,
// flags parse to the layer's axes, and user mistakes are one-line errors with exit code 1. Most checks run
// in-process (quantizeLayer()); two spawn the real CLI for exit codes, stdout and --json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatQuantizeLayer, quantizeLayer } from '../../analysis/cli/commands/quantizeLayer';
import { loadModel } from '../../analysis/onnx/load';
import { calibrate } from '../../analysis/quant/calibrate';
import { quantize } from '../../analysis/quant/quantize';
import type { Report } from '../../analysis/report';
import { QuantLensError } from '../../engine/errors';

const root = path.resolve(__dirname, '../..');
const cnn = path.join(root, 'samples/cnn.onnx');
const vit = path.join(root, 'samples/vit.onnx');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'analysis/cli/main.ts'), 'quantize-layer', ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const usageError = (re: RegExp) => (e: unknown) => e instanceof QuantLensError && re.test(e.message);

test('the CLI prints the metrics and writes a Report whose quantization matches the library', async () => {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'ql-')), 'r.json');
  const r = cli(cnn, '--layer', '/conv2/Conv', '--format', 'int4', '--calib', 'mse', '--json', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /granularity channel:0/);
  assert.match(r.stdout, /sqnr dB/);
  const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
  const q = report.quantization!;
  assert.equal(report.command, 'quantize-layer');
  assert.equal(q.layer, '/conv2/Conv');
  assert.equal(q.format, 'int4');
  assert.equal(q.calibration, 'mse');
  assert.equal(q.grid!.length, 16);
  assert.equal(q.histogram!.edges.length, q.histogram!.counts.length + 1);
  assert.equal(q.histogram!.counts.reduce((a, b) => a + b, 0), 32 * 16 * 9);
  assert.ok(Math.abs(q.bitsPerElement! - (4 + 32 * 32 / (32 * 16 * 9))) < 1e-12);
  assert.equal(report.layers.length, 1);
  assert.deepEqual(report.layers[0].weightShape, [32, 16, 3, 3]);
  // the same weight through the library directly
  const loaded = await loadModel(cnn);
  const node = loaded.model.graph.nodes.find((n) => n.name === '/conv2/Conv')!;
  const w = loaded.model.graph.initializers.get(node.inputs[1])!;
  const t = { data: w.data as Float32Array, dims: w.dims };
  const lib = quantize(t, calibrate(t, { format: 'int4', granularity: { kind: 'channel', axis: 0 }, calibration: { kind: 'mse' } }));
  assert.equal(q.mse, lib.metrics.mse);
  assert.equal(q.sqnrDb, lib.metrics.sqnrDb);
  assert.deepEqual(q.clipRange, lib.clipRange);
});

test('block formats default to blocks along the reduction axis; group:N, percentile and mosf parse', async () => {
  const mx = await quantizeLayer(cnn, { layer: '/fc/Gemm', format: 'mxfp4' });
  assert.equal(mx.quantization!.granularity, 'group:1:32');
  const nf = await quantizeLayer(cnn, { layer: '/conv1/Conv', format: 'nf4', granularity: 'group:3', calib: 'percentile:99.9' });
  assert.match(formatQuantizeLayer(nf), /group:1:3 {3}calibration percentile:99.9/);
  const mosf = await quantizeLayer(cnn, { layer: '/conv2/Conv', format: 'int8', granularity: 'tensor', calib: 'mosf' });
  assert.equal(mosf.quantization!.calibration, 'mosf:0');
  const log3 = await quantizeLayer(cnn, { layer: '/conv2/Conv', format: 'log2', bits: '3' });
  assert.match(formatQuantizeLayer(log3), /log2 \(3-bit\)/);
  assert.equal(log3.quantization!.format, 'log2');
});

test('a MatMul weight folded from a Transpose of the stored weight quantizes per output column', async () => {
  const r = await quantizeLayer(vit, { layer: '/blocks.0/fc1/MatMul', format: 'int8' });
  assert.deepEqual(r.layers[0].weightShape, [32, 64]);
  assert.equal(r.quantization!.granularity, 'channel:1');
  const g = await quantizeLayer(vit, { layer: '/blocks.0/fc1/MatMul', format: 'int4', granularity: 'group:16' });
  assert.equal(g.quantization!.granularity, 'group:0:16');
  const m = await quantizeLayer(vit, { layer: '/blocks.0/fc1/MatMul', format: 'int8', granularity: 'tensor', calib: 'mosf' });
  assert.equal(m.quantization!.calibration, 'mosf:1');
});

test('user mistakes are QuantLensErrors naming the problem; the CLI exits 1 with one line', async () => {
  const missing = cli(cnn, '--layer', 'conv2', '--format', 'int4');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no layer named 'conv2'; close matches: \/conv2\/Conv/);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  await assert.rejects(quantizeLayer(cnn, { layer: '/conv2/Conv', format: 'int9' }), usageError(/unknown quantization format 'int9'; valid formats: int2, .*nf4/));
  await assert.rejects(quantizeLayer(cnn, { layer: '/Relu', format: 'int4' }), usageError(/has no constant float weight to quantize; layers with weights: \/conv1\/Conv/));
  await assert.rejects(quantizeLayer(cnn, { layer: '/fc/Gemm', format: 'mxfp4', granularity: 'group:16' }), usageError(/fixed blocks of 32/));
  await assert.rejects(quantizeLayer(cnn, { layer: '/fc/Gemm', format: 'int8', bits: '4' }), usageError(/does not support 4 bits/));
  await assert.rejects(quantizeLayer(cnn, { layer: '/fc/Gemm', format: 'int8', granularity: 'rows' }), usageError(/--granularity must be tensor, channel or group:N/));
  await assert.rejects(quantizeLayer(cnn, { layer: '/fc/Gemm', format: 'int8', calib: 'percentile:200' }), usageError(/0 < P ≤ 100/));
});
