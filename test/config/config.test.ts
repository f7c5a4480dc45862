// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfigAgainstModel, checkConfigText, parseConfig } from '../../analysis/config/load';
import { serializeConfig } from '../../analysis/config/serialize';
import { resolveLayer, type QuantConfig } from '../../analysis/config/types';
import { isQuantLensError } from '../../engine/errors';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const full: QuantConfig = {
  $schema: '../schemas/quant-config.schema.json',
  version: 1,
  model: { path: 'cnn.onnx', sha256: 'a'.repeat(64) },
  defaults: {
    weights: { format: 'int8', granularity: 'channel', calibration: 'minmax', symmetric: true },
    activations: { format: 'uint8', granularity: 'tensor', calibration: 'percentile:99.99' },
  },
  layers: {
    conv10: { weights: { format: 'int4', granularity: 'group:32' }, pinned: true },
    conv2: { activations: null },
    fc: { weights: null },
  },
  calibration: { data: 'data/calib', samples: 64, seed: 0, shapes: { x: [1, 1, 8, 8] }, preprocessing: { size: [8, 8], mean: [0], std: [1], channelOrder: 'rgb', layout: 'nchw' } },
  provenance: {
    method: 'ilp', budget: { kind: 'avg-bits', value: 4.5 }, sensitivity: 'perturbation',
    predicted: { loss: 0.01, avgWeightBits: 4.4 }, measured: { metric: 'top1', fp32: 0.97, quantized: 0.96, delta: -0.01, samples: 360 },
    tool: { name: 'quantlens', version: '0.1.0' }, createdAt: '2026-01-01T00:00:00.000Z',
  },
};

function problemsOf(text: string) {
  return checkConfigText(text).problems;
}

test('a fully populated config satisfies the schema and round-trips through serialize', () => {
  const text = serializeConfig(full);
  assert.deepEqual(problemsOf(text), []);
  assert.deepEqual(parseConfig(text, 'x.quant.json'), full);
});

test('serialization is deterministic: same content in any key order gives the same bytes', () => {
  const shuffled = JSON.parse(JSON.stringify(full), (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v) as QuantConfig;
  assert.equal(serializeConfig(shuffled), serializeConfig(full));
  const text = serializeConfig(full);
  assert.ok(text.indexOf('"version"') < text.indexOf('"model"') && text.indexOf('"defaults"') < text.indexOf('"layers"'));
  // node names sort numerically: conv2 before conv10
  assert.ok(text.indexOf('"conv2"') < text.indexOf('"conv10"'));
  assert.ok(text.endsWith('}\n'));
});

test('a JSON syntax error reports the line and column', () => {
  const text = '{\n  "version": 1,\n  "model": { "path": "m.onnx" \n  "defaults": {}\n}';
  const [p] = problemsOf(text);
  assert.equal(p.line, 4);
  assert.match(p.message, /invalid JSON/);
});

test('an unknown property is reported at its key, with line and column', () => {
  const text = '{\n  "version": 1,\n  "model": { "path": "m.onnx" },\n  "defaults": { "weights": null, "activations": null },\n  "layres": {}\n}';
  const [p] = problemsOf(text);
  assert.deepEqual([p.line, p.column], [5, 3]);
  assert.match(p.message, /unknown property 'layres'/);
});

test('a bad value deep in an override points at that value', () => {
  const text = [
    '{',
    '  "version": 1,',
    '  "model": { "path": "m.onnx" },',
    '  "defaults": { "weights": { "format": "int8" }, "activations": null },',
    '  "layers": {',
    '    "conv1": { "weights": { "granularity": "rows" } }',
    '  }',
    '}',
  ].join('\n');
  const problems = problemsOf(text);
  const p = problems.find((q) => q.path === '/layers/conv1/weights/granularity');
  assert.ok(p, JSON.stringify(problems));
  assert.equal(p.line, 6);
  assert.equal(p.column, text.split('\n')[5].indexOf('"rows"') + 1);
});

test('parseConfig throws one config error naming file:line:col', () => {
  try {
    parseConfig('{ "version": 2, "model": { "path": "m.onnx" }, "defaults": { "weights": null, "activations": null } }', 'cfg.quant.json');
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(isQuantLensError(e));
    assert.equal(e.kind, 'config');
    assert.match(e.message, /^cfg\.quant\.json:1:14: \/version /);
    assert.ok(!e.message.includes('\n'));
  }
});

test('model checks reject unknown format ids and node names, at their positions', () => {
  const cfg: QuantConfig = { version: 1, model: { path: 'm.onnx' }, defaults: { weights: { format: 'int9' }, activations: null }, layers: { ghost: { weights: { format: 'int4' } } } };
  const text = serializeConfig(cfg);
  const problems = checkConfigAgainstModel(cfg, text, { formatIds: ['int8', 'int4'], nodeNames: ['conv1'] });
  assert.equal(problems.length, 2);
  assert.match(problems[0].message, /unknown format 'int9'.*int8, int4/);
  assert.match(problems[1].message, /no node named 'ghost'/);
  assert.equal(text.split('\n')[problems[1].line - 1].trim().startsWith('"ghost"'), true);
});

test('weight rounding (gptq) is schema-valid for weights; on activations the schema refuses it at its key', () => {
  const ok: QuantConfig = {
    version: 1, model: { path: 'm.onnx' },
    defaults: { weights: { format: 'int4', rounding: 'gptq' }, activations: { format: 'uint8' } },
    layers: { conv1: { weights: { rounding: 'nearest' } } },
  };
  assert.deepEqual(checkConfigText(serializeConfig(ok)).problems, []);
  assert.equal(resolveLayer(ok, 'conv1').weights?.rounding, 'nearest', 'an override can turn GPTQ off');
  // activations are rounded at run time: rounding is refused in the defaults and in an override, where it is written
  const bad = { ...ok, defaults: { ...ok.defaults, activations: { format: 'uint8', rounding: 'gptq' } }, layers: { conv1: { activations: { rounding: 'nearest' } } } } as QuantConfig;
  const text = serializeConfig(bad);
  const problems = problemsOf(text);
  assert.deepEqual(problems.map((p) => [p.path, p.message]), [
    ['/defaults/activations', "unknown property 'rounding'"],
    ['/layers/conv1/activations', "unknown property 'rounding'"],
  ]);
  for (const p of problems) assert.match(text.split('\n')[p.line - 1].trim(), /^"rounding": "(gptq|nearest)"$/);
  assert.ok(problemsOf(serializeConfig(ok).replace('"rounding": "nearest"', '"rounding": "adaround"')).some((p) => p.path.endsWith('/rounding')), 'unknown rounding');
});

test('overrides merge over defaults; null keeps a side in float', () => {
  assert.deepEqual(resolveLayer(full, 'conv10').weights, { format: 'int4', granularity: 'group:32', calibration: 'minmax', symmetric: true });
  assert.equal(resolveLayer(full, 'conv10').pinned, true);
  assert.equal(resolveLayer(full, 'conv2').activations, null);
  assert.equal(resolveLayer(full, 'fc').weights, null);
  assert.deepEqual(resolveLayer(full, 'other'), { weights: full.defaults.weights, activations: full.defaults.activations, pinned: false });
});

test('the extension ships the schema for *.quant.json (contributes.jsonValidation)', () => {
  const root = path.resolve(__dirname, '../..');
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { contributes: { jsonValidation: { fileMatch: string; url: string }[] } };
  const entry = pkg.contributes.jsonValidation.find((j) => j.fileMatch === '*.quant.json');
  assert.ok(entry);
  const schema = JSON.parse(readFileSync(path.join(root, entry.url), 'utf8')) as { properties: Record<string, unknown> };
  for (const key of ['model', 'defaults', 'layers', 'calibration', 'provenance']) assert.ok(key in schema.properties, key);
});
