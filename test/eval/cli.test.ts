// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { execFile } from 'node:child_process';

const root = path.resolve(__dirname, '../..');
const cnn = path.join(root, 'samples/cnn.onnx');
const calib = path.join(root, 'samples/data/calib');

/** Run the CLI as a user would (a child process: exit code, stdout and stderr are the contract). */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(root, 'analysis/cli/main.ts'), ...args], { cwd: root }, (e, out, err) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 2) : 0, out, err });
    });
  });
}

test('eval: exactly one of --config/--preset; a broken config is one line naming file:line:col', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ql-cli-'));
  try {
    const both = await cli(['eval', cnn, '--preset', 'w8a8', '--config', 'x.quant.json', '--random', '2']);
    assert.equal(both.code, 1);
    assert.match(both.err, /exactly one of --config FILE or --preset NAME/);
    const cfg = path.join(dir, 'bad.quant.json');
    writeFileSync(cfg, '{\n  "version": 1,\n  "model": { "path": "cnn.onnx" },\n  "defaults": { "weights": { "format": "int9" }, "activations": null }\n}\n');
    const bad = await cli(['eval', cnn, '--config', cfg, '--random', '2']);
    assert.equal(bad.code, 1);
    assert.equal(bad.err.trim().split('\n').length, 1);
    assert.match(bad.err, /bad\.quant\.json:4:\d+: \/defaults\/weights\/format unknown format 'int9'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export writes a QDQ model, refuses to overwrite it (or the model) without --force, and writes overrides', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ql-cli-'));
  try {
    const out = path.join(dir, 'cnn.qdq.onnx');
    const before = statSync(cnn).mtimeMs;
    const first = await cli(['export', cnn, '--preset', 'w8a8', '--calib', calib, '--out', out, '--overrides', path.join(dir, 'o.json')]);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /wrote .*cnn\.qdq\.onnx \(opset 17; 3 × int8, 3 × uint8\)/);
    const m = onnx.ModelProto.decode(readFileSync(out));
    assert.equal((m.graph?.node ?? []).filter((n) => n.opType === 'DequantizeLinear').length, 6);
    assert.ok(JSON.parse(readFileSync(path.join(dir, 'o.json'), 'utf8'))['conv1.weight']);
    const again = await cli(['export', cnn, '--preset', 'w8a8', '--calib', calib, '--out', out]);
    assert.equal(again.code, 1);
    assert.match(again.err, /already exists; pass --force/);
    assert.equal((await cli(['export', cnn, '--preset', 'w8a8', '--calib', calib, '--out', out, '--force'])).code, 0);
    const self = await cli(['export', cnn, '--preset', 'w4a16', '--out', cnn, '--force']);
    assert.equal(self.code, 1);
    assert.match(self.err, /is the input model/);
    assert.equal(statSync(cnn).mtimeMs, before, 'the model file is never written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('suggest: an unreachable budget is a usage error and writes nothing', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ql-cli-'));
  try {
    const out = path.join(dir, 'x.quant.json');
    const r = await cli(['suggest', cnn, '--budget', 'avg-bits=1', '--data', calib, '--out', out, '--formats', 'int8,int4']);
    assert.equal(r.code, 1);
    assert.match(r.err, /the budget cannot be met: avg-bits ≥ 4\.3/);
    assert.equal(existsSync(out), false);
    const bad = await cli(['suggest', cnn, '--budget', 'bits=4', '--out', out]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /--budget 'bits=4': expected KIND=VALUE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('eval --fail-on-drop gates CI: exit 3 with one line when the drop exceeds the limit, 0 when within it, report still written', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ql-gate-'));
  try {
    const evalDir = path.join(root, 'samples/data/eval');
    const base = ['eval', cnn, '--data', evalDir, '--labels', path.join(evalDir, 'labels.npy'), '--calib', calib];
    const json = path.join(dir, 'r.json');
    const fail = await cli([...base, '--preset', 'w2a8', '--fail-on-drop', '1', '--json', json]);
    assert.equal(fail.code, 3, fail.err);
    assert.match(fail.err, /cnn\.onnx: top-1 accuracy dropped \d+\.\d\d points, over the --fail-on-drop limit of 1/);
    assert.match(fail.out, /top-1 {5}fp32/, 'the summary is still printed');
    assert.ok(existsSync(json), 'the report is still written');
    const pass = await cli([...base, '--preset', 'w8a8', '--fail-on-drop', '1']);
    assert.equal(pass.code, 0, pass.err);
    assert.match(pass.err, /gate {6}passed: top-1 accuracy dropped -?\d+\.\d\d points \(limit 1\)/);
    const bad = await cli([...base, '--preset', 'w8a8', '--fail-on-drop', 'lots']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /--fail-on-drop expects a non-negative number/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
