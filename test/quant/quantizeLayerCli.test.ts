// SPDX-License-Identifier: Apache-2.0
// `quantlens quantize-layer` end to end on the sample CNN: exit codes, one-line errors, and a --json Report whose
// numbers equal the library's on the same weight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModel } from '../../analysis/onnx/load';
import { calibrate } from '../../analysis/quant/calibrate';
import { quantize } from '../../analysis/quant/quantize';
import type { Report } from '../../analysis/report';

const root = path.resolve(__dirname, '../..');
const model = path.join(root, 'samples/cnn.onnx');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'analysis/cli/main.ts'), 'quantize-layer', ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('quantize-layer prints the metrics and writes a Report whose quantization matches the library', async () => {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'ql-')), 'r.json');
  const r = cli(model, '--layer', '/conv2/Conv', '--format', 'int4', '--calib', 'mse', '--json', out);
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
  // same weight through the library directly
  const loaded = await loadModel(model);
  const node = loaded.model.graph.nodes.find((n) => n.name === '/conv2/Conv')!;
  const w = loaded.model.graph.initializers.get(node.inputs[1])!;
  const t = { data: w.data as Float32Array, dims: w.dims };
  const lib = quantize(t, calibrate(t, { format: 'int4', granularity: { kind: 'channel', axis: 0 }, calibration: { kind: 'mse' } }));
  assert.equal(q.mse, lib.metrics.mse);
  assert.equal(q.sqnrDb, lib.metrics.sqnrDb);
  assert.deepEqual(q.clipRange, lib.clipRange);
});

test('block formats default to blocks along the reduction axis; group:N and mosf parse', () => {
  const r = cli(model, '--layer', '/fc/Gemm', '--format', 'mxfp4');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /granularity group:1:32/);
  const n = cli(model, '--layer', '/conv1/Conv', '--format', 'nf4', '--granularity', 'group:3', '--calib', 'percentile:99.9');
  assert.equal(n.code, 0, n.stderr);
  assert.match(n.stdout, /group:1:3 {3}calibration percentile:99.9/);
  const m = cli(model, '--layer', '/conv2/Conv', '--format', 'int8', '--granularity', 'tensor', '--calib', 'mosf');
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /calibration mosf:0/);
});

test('user mistakes exit 1 with one line naming the problem', () => {
  const missing = cli(model, '--layer', 'conv2', '--format', 'int4');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no layer named 'conv2'; close matches: \/conv2\/Conv/);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  const fmt = cli(model, '--layer', '/conv2/Conv', '--format', 'int9');
  assert.equal(fmt.code, 1);
  assert.match(fmt.stderr, /unknown quantization format 'int9'; valid formats: int2, .*nf4/);
  const noWeight = cli(model, '--layer', '/Relu', '--format', 'int4');
  assert.equal(noWeight.code, 1);
  assert.match(noWeight.stderr, /has no constant weight/);
  const mx = cli(model, '--layer', '/fc/Gemm', '--format', 'mxfp4', '--granularity', 'group:16');
  assert.equal(mx.code, 1);
  assert.match(mx.stderr, /fixed blocks of 32/);
  const bits = cli(model, '--layer', '/fc/Gemm', '--format', 'int8', '--bits', '4');
  assert.equal(bits.code, 1);
  assert.match(bits.stderr, /does not support 4 bits/);
});
