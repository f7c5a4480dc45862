// SPDX-License-Identifier: Apache-2.0
// Item 4 of the robustness issue, end to end through the built CLI: NaN/Inf/denormal weights are counted by
// inspect and analyze, all-zero / constant weights and a zero-size initializer work, and broken numbers never
// reach a recommendation silently (a tag suggestion or a `suggest` choice).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Report } from '../../analysis/report';
import { NUMBER_LAYERS, numbersModel } from './numbersModel';

const BIN = path.join(__dirname, '../../bin/quantlens.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ql-numbers-'));
const MODEL = path.join(dir, 'numbers.onnx');
writeFileSync(MODEL, numbersModel());

function cli(...args: string[]): { code: number; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stderr: r.stderr, stdout: r.stdout };
}
const layerOf = (r: Report, name: string) => r.layers.find((l) => l.name === name)!;

test('inspect counts NaN, Inf and denormal weights; zero and constant weights and a zero-size tensor load', () => {
  const json = path.join(dir, 'inspect.json');
  const r = cli('inspect', MODEL, '--json', json);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
  const w = layerOf(report, NUMBER_LAYERS.nonFinite).weightStats!;
  assert.deepEqual([w.nanCount, w.infCount, w.denormalCount], [1, 2, 2]);
  assert.equal(w.count, 72 - 3, 'finite values only in the statistics');
  assert.match(r.stderr, new RegExp(`warning: layer '${NUMBER_LAYERS.nonFinite}': its weights hold 1 NaN and 2 Inf`));
  assert.ok(report.warnings.some((m) => m.includes(NUMBER_LAYERS.nonFinite)));
  assert.equal(layerOf(report, NUMBER_LAYERS.zero).weightStats!.max, 0);
  assert.equal(layerOf(report, NUMBER_LAYERS.constant).weightStats!.std, 0);
});

test('analyze tags non-finite weights and activations and computes no sensitivity for the broken layer', () => {
  const json = path.join(dir, 'analyze.json');
  const r = cli('analyze', MODEL, '--random', '4', '--formats', 'int8', '--json', json);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
  const broken = layerOf(report, NUMBER_LAYERS.nonFinite);
  assert.match(broken.tags.find((t) => t.id === 'non-finite')?.reason ?? '', /1 NaN and 2 Inf/);
  assert.match(JSON.stringify(broken.sensitivity?.notApplicable ?? {}), /NaN\/Inf/);
  // NaN flows downstream: the later layers' activations are counted and tagged too
  for (const name of [NUMBER_LAYERS.zero, NUMBER_LAYERS.constant]) {
    const l = layerOf(report, name);
    assert.ok((l.activationStats?.nanCount ?? 0) > 0, name);
    assert.ok(l.tags.some((t) => t.id === 'non-finite'), name);
  }
});

test('a layer tagged non-finite carries no tag suggestion (weight and activation tags merged per layer)', () => {
  const report = JSON.parse(readFileSync(path.join(dir, 'analyze.json'), 'utf8')) as Report;
  for (const l of report.layers) {
    if (!l.tags.some((t) => t.id === 'non-finite')) continue;
    assert.deepEqual(l.tags.filter((t) => t.suggestion).map((t) => `${t.id}→${t.suggestion}`), [], l.name);
  }
});

test('suggest never silently assigns a format to a layer whose weights hold NaN/Inf', () => {
  const out = path.join(dir, 'numbers.quant.json');
  const r = cli('suggest', MODEL, '--random', '8', '--budget', 'avg-bits=4', '--activations', 'none', '--steps', '2', '--out', out);
  const named = new RegExp(`${NUMBER_LAYERS.nonFinite}[^\\n]*(NaN|Inf|non-finite)`);
  if (r.code === 1) { assert.match(r.stderr, named); assert.equal(existsSync(out), false); return; }
  assert.equal(r.code, 0, r.stderr);
  // succeeded: the layer must be excluded from quantization or flagged, with its reason printed
  assert.match(r.stderr, named, 'a warning names the layer and its NaN/Inf values');
  const cfg = JSON.parse(readFileSync(out, 'utf8')) as { layers: Record<string, unknown> };
  assert.deepEqual(cfg.layers[NUMBER_LAYERS.nonFinite], { weights: null, pinned: true }, 'the broken layer stays FP32, pinned');
});
