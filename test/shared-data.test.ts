// SPDX-License-Identifier: Apache-2.0
// The conformance data is found beside the repository (a fresh clone next to ../shared finds it too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, conformanceDir } from './shared-data';

test('the conformance models resolve relative to the repository and hold the four suites', () => {
  const dir = conformanceDir();
  assert.equal(dir, path.resolve(REPO_ROOT, '..', 'shared', 'onnx-conformance'));
  for (const suite of ['light', 'pytorch-converted', 'pytorch-operator', 'simple']) {
    assert.ok(existsSync(path.join(dir, suite)) && readdirSync(path.join(dir, suite)).length > 0, `${suite} suite present`);
  }
});
