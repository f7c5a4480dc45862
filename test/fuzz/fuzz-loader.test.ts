// SPDX-License-Identifier: Apache-2.0
// A short seeded fuzz run of the loader (the long one is `npm run fuzz`): every mutated ONNX file yields a
// model or a QuantLensError, within 1 s of CPU, without a hang or memory growth past the cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSummary, runFuzz } from './harness';

test('250 seeded mutations of valid models: models or typed errors only, crashes = 0', async () => {
  const s = await runFuzz({ seed: 20261122, count: 250 });
  console.log(formatSummary(s));
  assert.deepEqual(s.crashReports, []);
  assert.equal(s.crashes, 0);
  assert.equal(s.slow, 0);
  assert.equal(s.overMemory, 0);
  assert.equal(s.inputs, 250);
  // the mutations must actually reach the loader's defences, not just produce valid files
  assert.ok((s.errorsByKind['model-format'] ?? 0) > 20, JSON.stringify(s.errorsByKind));
  assert.ok(s.models > s.inputs * 0.25, `only ${s.models} inputs loaded: are the seeds intact?`);
});
