// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfigText } from '../../analysis/config/load';
import { serializeConfig } from '../../analysis/config/serialize';
import { PRESET_NAMES, presetConfig } from '../../analysis/presets';

test('every preset is a schema-valid config', () => {
  for (const name of PRESET_NAMES) {
    const cfg = presetConfig(name, { path: 'm.onnx', sha256: '0'.repeat(64) });
    assert.deepEqual(checkConfigText(serializeConfig(cfg)).problems, [], name);
    assert.equal(cfg.provenance?.preset, name);
  }
  for (const required of ['w8a8', 'w4a8', 'w4a16', 'w2a8', 'fp8', 'ternary']) assert.ok(PRESET_NAMES.includes(required), required);
});

test('an unknown preset is a usage error listing the presets', () => {
  assert.throws(() => presetConfig('w3a3', { path: 'm.onnx' }), /unknown preset 'w3a3'; presets: w8a8, /);
});
