// SPDX-License-Identifier: Apache-2.0
// Host health through the worker job runner the extension uses (analysis/jobs): a cancelled job settles with a
// 'cancelled' QuantLensError and leaves no output (an older file at the output path stays as it was), and a
// worker that crashes mid-analysis is reported as an error while the next job still runs. Untimed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runJob } from '../../analysis/jobs/runJob';
import type { AnalyzeJob } from '../../analysis/jobs/protocol';
import { QuantLensError } from '../../engine/errors';

const ROOT = path.join(__dirname, '../..');
const MODEL = path.join(ROOT, 'samples/cnn.onnx');
const CRASHING = path.join(__dirname, 'crashingWorker.ts');
const small = (outputs?: AnalyzeJob['outputs']): AnalyzeJob => ({
  kind: 'analyze', model: MODEL, options: { random: 4, formats: ['int8'], maxProbes: 2, methods: ['perturbation'] }, ...(outputs ? { outputs } : {}),
});

test('a cancelled job settles as cancelled and writes nothing; an existing output keeps its old content', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ql-robust-'));
  try {
    const json = path.join(dir, 'report.json'), html = path.join(dir, 'report.html');
    writeFileSync(json, '{"old": true}\n');
    const abort = new AbortController();
    let progressed = false;
    const p = runJob({ ...small({ json, html }), options: { random: 256, batchSize: 4, formats: ['int8', 'int4'] } }, {
      signal: abort.signal,
      onProgress: () => { if (!progressed) { progressed = true; abort.abort(); } },
    });
    await assert.rejects(p, (e: unknown) => e instanceof QuantLensError && e.kind === 'cancelled');
    assert.ok(progressed, 'the job was cancelled mid-run, after progress arrived');
    assert.equal(readFileSync(json, 'utf8'), '{"old": true}\n');
    assert.deepEqual(readdirSync(dir), ['report.json'], 'no html, no temp file');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

for (const mode of ['throw', 'exit'] as const) {
  test(`a worker that crashes mid-analysis (${mode}) is reported as an error, and the next job works`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ql-robust-'));
    const saved = process.env.QUANTLENS_TEST_CRASH;
    try {
      process.env.QUANTLENS_TEST_CRASH = mode;
      const json = path.join(dir, 'r.json');
      let progressed = false;
      await assert.rejects(runJob(small({ json }), { workerPath: CRASHING, onProgress: () => { progressed = true; } }), (e: unknown) => {
        assert.ok(!(e instanceof QuantLensError), 'a crash is an internal error, not a user error');
        assert.match((e as Error).message, mode === 'throw' ? /worker crashed: simulated worker crash/ : /exited with code 70 before answering/);
        return true;
      });
      assert.ok(progressed, 'the crash happened mid-run');
      assert.deepEqual(readdirSync(dir), [], 'nothing written by the crashed job');
      const { report, written } = await runJob(small({ json }));
      assert.deepEqual(written, [json]);
      assert.ok(report.layers.length > 0);
    } finally {
      if (saved === undefined) delete process.env.QUANTLENS_TEST_CRASH; else process.env.QUANTLENS_TEST_CRASH = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
