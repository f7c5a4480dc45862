// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../analysis/config/load';
import { configPathFor, readConfig, recordLayerOverride } from './configStore';
import { sensitiveLayerFindings } from './sensitivityRank';
import { report } from '../test/webview/reportFixtures';

const sha = 'a'.repeat(64);

test('the config sits next to the model as <name>.quant.json', () => {
  assert.equal(configPathFor('/m/dir/cnn.onnx'), path.join('/m/dir', 'cnn.quant.json'));
  assert.equal(configPathFor('/m/Model.ONNX'), path.join('/m', 'Model.quant.json'));
});

test('recording overrides creates a schema-valid config, keeps earlier overrides, and leaves no temp file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ql-config-'));
  const model = path.join(dir, 'cnn.onnx');
  writeFileSync(model, 'not read');
  recordLayerOverride(model, sha, '/conv1/Conv', { format: 'int4', granularity: 'channel', calibration: 'mse' });
  const { path: file } = recordLayerOverride(model, sha, '/fc/Gemm', { format: 'int8' });
  const cfg = parseConfig(readFileSync(file, 'utf8'), file);
  assert.deepEqual(Object.keys(cfg.layers ?? {}), ['/conv1/Conv', '/fc/Gemm']);
  assert.equal(cfg.layers?.['/conv1/Conv']?.weights?.format, 'int4');
  assert.deepEqual(cfg.model, { path: './cnn.onnx', sha256: sha });
  assert.deepEqual(cfg.defaults, { weights: null, activations: null });
  assert.deepEqual(readdirSync(dir).sort(), ['cnn.onnx', 'cnn.quant.json']);
  assert.equal(readFileSync(model, 'utf8'), 'not read', 'the model file is untouched');
  assert.equal(readConfig(model)?.path, file);
});

test('an invalid config next to the model is reported with file:line:col', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ql-config-'));
  const model = path.join(dir, 'm.onnx');
  writeFileSync(path.join(dir, 'm.quant.json'), '{ "version": 1,\n  "model": {"path": "m.onnx"},\n  "defaults": {"weights": 5, "activations": null} }');
  assert.throws(() => readConfig(model), /m\.quant\.json:3:\d+/);
});

test('a top-quarter sensitive layer set below 8 bits is a finding; one at 8 bits is not', () => {
  const r = report(24); // every 3rd layer (a Conv) has an int4 perturbation score
  const ranked = r.layers.filter((l) => l.sensitivity).sort((a, b) => b.sensitivity!.perturbation!.int4.value - a.sensitivity!.perturbation!.int4.value);
  const most = ranked[0].name, least = ranked.at(-1)!.name, second = ranked[1].name;
  const cfg = { version: 1 as const, model: { path: 'm.onnx' }, defaults: { weights: { format: 'int8' }, activations: null },
    layers: { [most]: { weights: { format: 'int4' } }, [least]: { weights: { format: 'int2' } }, [second]: { weights: { format: 'int8' } } } };
  const f = sensitiveLayerFindings(cfg, r);
  assert.deepEqual(f.map((x) => [x.layer, x.format, x.rank]), [[most, 'int4', 1]]);
});
