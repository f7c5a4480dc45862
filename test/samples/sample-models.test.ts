// SPDX-License-Identifier: Apache-2.0
// The committed sample models are everyone's fixtures: check they have the architecture the README promises,
// the I/O contract (input [batch,1,8,8] → logits [batch,10]), sane accuracy, and that the accuracies recorded in
// samples/README.md and README.md are the ones onnxruntime-node measures today (scripts/check-samples.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { onnx } from 'onnx-proto';

const repo = path.resolve(__dirname, '../..');
const samples = path.join(repo, 'samples');
const MODELS = ['cnn.onnx', 'vit.onnx', 'mobilenet.onnx'];

interface Row { model: string; inputShape: (string | number)[]; outputShape: (string | number)[]; bytes: number; samples: number; top1: number }

const measured: Row[] = JSON.parse(execFileSync(process.execPath, [path.join(repo, 'scripts/check-samples.mjs'), '--json'], { encoding: 'utf8' }));

function decode(file: string): onnx.ModelProto {
  return onnx.ModelProto.decode(readFileSync(path.join(samples, file)));
}

/** `| `name.onnx` | … | 98.89 % |` rows of a Markdown table → accuracy by model file. */
function tableAccuracies(markdown: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of markdown.matchAll(/^\|\s*`?(?:samples\/)?([\w-]+\.onnx)`?\s*\|.*?\|\s*([\d.]+)\s*%\s*\|\s*$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

/** .npy header: dtype descr and shape. */
function npyHeader(file: string): { descr: string; shape: number[] } {
  const buf = readFileSync(file);
  assert.equal(buf.subarray(1, 6).toString('latin1'), 'NUMPY', `${file} is a .npy file`);
  const text = buf.subarray(10, 10 + buf.readUInt16LE(8)).toString('latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)![1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)![1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return { descr, shape };
}

test('all three sample models exist, are small, and take [batch,1,8,8] → [batch,10] with a symbolic batch dim', () => {
  assert.deepEqual(measured.map((r) => r.model).sort(), [...MODELS].sort());
  for (const r of measured) {
    assert.ok(r.bytes < 1024 * 1024, `${r.model} is ${r.bytes} bytes, over 1 MiB`);
    assert.deepEqual(r.inputShape, ['batch', 1, 8, 8], `${r.model} input shape`);
    assert.deepEqual(r.outputShape, ['batch', 10], `${r.model} output shape`);
  }
});

test('every sample classifies the held-out digits well in onnxruntime-node', () => {
  for (const r of measured) {
    assert.equal(r.samples, 450);
    assert.ok(r.top1 >= 90, `${r.model} top-1 ${r.top1} % is below 90 %`);
  }
});

test('the accuracies recorded in samples/README.md and README.md are the measured ones', () => {
  for (const readme of ['samples/README.md', 'README.md']) {
    const recorded = tableAccuracies(readFileSync(path.join(repo, readme), 'utf8'));
    for (const r of measured) assert.equal(recorded[r.model], r.top1, `${readme} records ${recorded[r.model]} % for ${r.model}, onnxruntime-node measures ${r.top1} %`);
  }
});

test('the CNN keeps BatchNormalization as separate nodes after its convolutions', () => {
  const ops = decode('cnn.onnx').graph!.node!.map((n) => n.opType);
  assert.deepEqual(ops.filter((o) => ['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'GlobalAveragePool', 'Gemm'].includes(o!)),
    ['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'Conv', 'BatchNormalization', 'Relu', 'GlobalAveragePool', 'Gemm']);
});

test('the ViT has a patch Conv, LayerNormalization, 2 attention Softmaxes over 2 heads, Erf-GELU, residual Adds and a Gemm head', () => {
  const model = decode('vit.onnx');
  assert.equal(model.opsetImport![0].version?.toString(), '17');
  const ops = model.graph!.node!.map((n) => n.opType!);
  const count = (op: string) => ops.filter((o) => o === op).length;
  const patch = model.graph!.node!.find((n) => n.opType === 'Conv')!;
  const strides = patch.attribute!.find((a) => a.name === 'strides')!.ints!.map(Number);
  assert.deepEqual(strides, [2, 2], 'patch embedding Conv has stride = patch size');
  assert.equal(count('Softmax'), 2, 'one Softmax per block');
  assert.equal(count('LayerNormalization'), 5, 'two per block plus the final one');
  assert.ok(count('MatMul') >= 4 * 2, 'q·kᵀ, ·v and the Linear layers are MatMuls');
  assert.equal(count('Erf'), 2, 'one GELU per block');
  assert.ok(count('Add') >= 4, 'residual adds');
  assert.equal(ops.at(-1), 'Gemm');
  const headsReshape = model.graph!.node!.some((n) => n.opType === 'Transpose' && n.attribute!.some((a) => a.name === 'perm' && a.ints!.map(Number).join() === '2,0,3,1,4'));
  assert.ok(headsReshape, 'qkv is split into heads with a [3,b,heads,t,d] transpose');
});

test('the MobileNet has depthwise (group = channels) and pointwise convolutions with BatchNorm and HardSwish', () => {
  const model = decode('mobilenet.onnx');
  const convs = model.graph!.node!.filter((n) => n.opType === 'Conv');
  const group = (n: onnx.INodeProto) => Number(n.attribute!.find((a) => a.name === 'group')?.i ?? 1);
  const kernel = (n: onnx.INodeProto) => n.attribute!.find((a) => a.name === 'kernel_shape')!.ints!.map(Number);
  const weightDims = (n: onnx.INodeProto) => model.graph!.initializer!.find((t) => t.name === n.input![1])!.dims!.map(Number);
  const depthwise = convs.filter((n) => group(n) > 1);
  assert.equal(depthwise.length, 3);
  for (const n of depthwise) assert.equal(group(n), weightDims(n)[0], 'depthwise: one filter per channel');
  assert.equal(convs.filter((n) => kernel(n).join() === '1,1').length, 3, 'three pointwise 1×1 convs');
  const ops = model.graph!.node!.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === 'BatchNormalization').length, 7);
  assert.equal(ops.filter((o) => o === 'HardSwish').length, 7);
});

test('the eval set is [N,1,8,8] float32 with N int64 labels, and calibration is 64 single samples', () => {
  const x = npyHeader(path.join(samples, 'data/eval/x.npy'));
  const y = npyHeader(path.join(samples, 'data/eval/labels.npy'));
  assert.deepEqual(x, { descr: '<f4', shape: [450, 1, 8, 8] });
  assert.deepEqual(y, { descr: '<i8', shape: [450] });
  const calib = readdirSync(path.join(samples, 'data/calib')).filter((f) => f.endsWith('.npy'));
  assert.equal(calib.length, 64);
  for (const f of calib) {
    const file = path.join(samples, 'data/calib', f);
    assert.deepEqual(npyHeader(file), { descr: '<f4', shape: [1, 1, 8, 8] });
    assert.equal(statSync(file).size, 128 + 64 * 4);
  }
});
