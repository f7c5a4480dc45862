// SPDX-License-Identifier: Apache-2.0
// `quantlens inspect`: prints the summary and layer table, writes the Report with --json, and turns user
// mistakes into exit code 1 with one line on stderr naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tinyModel } from './onnxBuild';
import { conformanceDir } from '../shared-data';

const ROOT = path.resolve(__dirname, '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'ql-inspect-'));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'analysis/cli/main.ts'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('inspect prints the summary and an aligned layer table and writes the Report JSON', () => {
  const model = path.join(dir, 'tiny.onnx');
  writeFileSync(model, tinyModel());
  const json = path.join(dir, 'report.json');
  const r = cli('inspect', model, '--shape', 'x=2x1x4x4', '--json', json);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /producer\s+quantlens-test/);
  assert.match(r.out, /params 47/);
  const rows = r.out.split('\n').filter((l) => /\s(Conv|Relu|Flatten|Gemm)\s/.test(l));
  assert.equal(rows.length, 4);
  const col = rows.map((l) => l.indexOf(l.trim().split(/\s+/)[2]));
  assert.ok(col.every((c) => c === col[0]), 'op column aligned');
  const report = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(report.schemaVersion, 1);
  assert.equal(report.command, 'inspect');
  assert.match(report.model.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(report.model.inputs[0].shape, [2, 1, 4, 4]);
  assert.deepEqual(report.model.outputs[0].shape, [2, 3]);
  assert.equal(report.layers.length, 4);
  assert.equal(report.layers[0].weightStats.count, 18);
});

test('inspect of a conformance CNN reports its MACs', () => {
  const r = cli('inspect', path.join(conformanceDir(), 'light/light_resnet50.onnx'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /params 25\.61M\s+MACs 4\.09G/);
});

for (const [what, setup, pattern] of [
  ['a missing file', () => path.join(dir, 'missing.onnx'), /missing\.onnx: cannot read \(ENOENT\)/],
  ['a text file', () => { const p = path.join(dir, 'notes.onnx'); writeFileSync(p, 'hello, I am not a model\n'); return p; }, /notes\.onnx: .*not/],
  ['an empty file', () => { const p = path.join(dir, 'empty.onnx'); writeFileSync(p, ''); return p; }, /empty\.onnx: the file is empty/],
] as const) {
  test(`inspect of ${what} exits 1 with one line naming the file`, () => {
    const r = cli('inspect', setup());
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, pattern);
  });
}

test('a malformed --shape is a usage error (exit 1)', () => {
  const model = path.join(dir, 'tiny2.onnx');
  writeFileSync(model, tinyModel());
  const r = cli('inspect', model, '--shape', 'x=1xfoo');
  assert.equal(r.code, 1);
  assert.match(r.err, /--shape expects NAME=DIMS/);
});
