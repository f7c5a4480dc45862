// SPDX-License-Identifier: Apache-2.0
// `quantlens analyze` end to end through the CLI entry: the table and files on success, one clear line and
// exit code 1 for bad calibration input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeNpy } from '../../analysis/data/npy';
import { quantizeLayer } from '../../analysis/cli/commands/quantizeLayer';

const ROOT = path.join(__dirname, '../..');
const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'analysis/cli/main.ts'), ...args],
  { cwd: ROOT, encoding: 'utf8', timeout: 120000 });

test('analyze prints the layer table and writes --json and --html', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ql-cli-'));
  try {
    const json = path.join(dir, 'r.json'), html = path.join(dir, 'r.html');
    const r = cli('analyze', 'samples/cnn.onnx', '--data', 'samples/data/calib', '--formats', 'int8,int4', '--probes', '4',
      '--perturbation-samples', '16', '--json', json, '--html', html);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /pert@int8/);
    assert.match(r.stdout, /\/conv1\/Conv/);
    assert.match(r.stdout, /time share +onnxruntime/);
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(rep.analysis.samples, 64);
    assert.deepEqual(rep.analysis.formats, ['int8', 'int4']);
    const conv = rep.layers.find((l: { name: string }) => l.name === '/conv1/Conv');
    assert.ok(conv.sensitivity.perturbation.int4.value > 0 && conv.activationHistogram.counts.length === 128);
    assert.match(readFileSync(html, 'utf8'), /<svg/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('bad calibration input: one line naming the file, exit code 1, nothing written', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ql-cli-'));
  try {
    const data = path.join(dir, 'calib');
    mkdirSync(data);
    writeFileSync(path.join(data, 'a.npy'), encodeNpy({ dtype: 'float32', dims: [1, 8, 8], data: new Float32Array(64) }));
    writeFileSync(path.join(data, 'b.npy'), encodeNpy({ dtype: 'float32', dims: [1, 8, 9], data: new Float32Array(72) }));
    const json = path.join(dir, 'r.json');
    const r = cli('analyze', 'samples/cnn.onnx', '--data', data, '--json', json);
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /b\.npy: shape \[1, 8, 9\] does not match input 'input': expected \[1, 8, 8\]/);
    assert.equal(existsSync(json), false);
    const both = cli('analyze', 'samples/cnn.onnx', '--data', data, '--random', '4');
    assert.equal(both.status, 1);
    assert.match(both.stderr, /either --data DIR or --random N/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('quantize-layer with data adds the activation side and the layer accuracy delta', async () => {
  const r = await quantizeLayer(path.join(ROOT, 'samples/cnn.onnx'), {
    layer: '/conv2/Conv', format: 'int4', data: path.join(ROOT, 'samples/data/eval'), labels: path.join(ROOT, 'samples/data/eval/labels.npy'),
  });
  const q = r.quantization!;
  assert.equal(q.activation!.format, 'int4');
  assert.ok(q.activation!.sqnrDb > 5 && q.activation!.sqnrDb < 60);
  assert.equal(q.accuracyDelta!.metric, 'top1Accuracy');
  assert.ok(q.accuracyDelta!.fp32 > 0.9, 'the sample CNN is accurate in FP32');
  assert.ok(Math.abs(q.accuracyDelta!.delta - (q.accuracyDelta!.quantized - q.accuracyDelta!.fp32)) < 1e-12);
  const noLabels = await quantizeLayer(path.join(ROOT, 'samples/cnn.onnx'), { layer: '/fc/Gemm', format: 'int8', random: '8', actFormat: 'none' });
  assert.equal(noLabels.quantization!.activation, undefined);
  assert.equal(noLabels.quantization!.accuracyDelta!.metric, 'top1AgreementWithFp32');
  assert.ok(noLabels.quantization!.accuracyDelta!.quantized >= 0.75);
});

test('quantize-layer with an MX format quantizes the activation per 32-element block along the reduction axis', async () => {
  const conv = await quantizeLayer(path.join(ROOT, 'samples/cnn.onnx'), { layer: '/conv2/Conv', format: 'mxfp4', data: path.join(ROOT, 'samples/data/calib') });
  assert.equal(conv.quantization!.activation!.format, 'mxfp4');
  assert.equal(conv.quantization!.activation!.granularity, 'group:1:32', 'NCHW conv input: blocks along the channels');
  const mm = await quantizeLayer(path.join(ROOT, 'samples/vit.onnx'), { layer: '/blocks.0/attn/qkv/MatMul', format: 'mxfp6_e3m2', data: path.join(ROOT, 'samples/data/calib') });
  const a = mm.quantization!.activation!;
  assert.equal(a.granularity, 'group:2:32', 'MatMul input [batch, tokens, features]: blocks along the features');
  assert.ok(a.sqnrDb > 15 && a.sqnrDb < 60, `mxfp6 activation SQNR ${a.sqnrDb}`);
  const fp4 = await quantizeLayer(path.join(ROOT, 'samples/vit.onnx'), { layer: '/blocks.0/attn/qkv/MatMul', format: 'mxfp4', data: path.join(ROOT, 'samples/data/calib') });
  assert.ok(fp4.quantization!.activation!.sqnrDb < a.sqnrDb - 3, 'a 4-bit block format loses more than a 6-bit one');
});
