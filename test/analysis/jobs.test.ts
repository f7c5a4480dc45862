// SPDX-License-Identifier: Apache-2.0
// The analysis worker: progress events, one result with the files written atomically, typed errors across
// the thread boundary, and cancellation that stops the worker and leaves no file behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runJob } from '../../analysis/jobs/runJob';
import { QuantLensError } from '../../engine/errors';

const ROOT = path.join(__dirname, '../..');
const MODEL = path.join(ROOT, 'samples/cnn.onnx');

test('a job reports progress and writes its JSON and HTML only when done', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ql-job-'));
  try {
    const stages = new Set<string>();
    const json = path.join(dir, 'r.json'), html = path.join(dir, 'r.html');
    const { report, written } = await runJob({
      kind: 'analyze', model: MODEL, options: { random: 8, formats: ['int8'], maxProbes: 4 }, outputs: { json, html },
    }, { onProgress: (s) => stages.add(s) });
    assert.deepEqual(written, [json, html]);
    assert.ok(stages.has('statistics') && stages.has('sensitivity'));
    const onDisk = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(onDisk.command, 'analyze');
    assert.equal(onDisk.layers.length, report.layers.length);
    assert.ok(readFileSync(html, 'utf8').startsWith('<!DOCTYPE html>'));
    assert.deepEqual(readdirSync(dir).sort(), ['r.html', 'r.json'], 'no temp files left');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('user errors cross the thread as typed QuantLensErrors naming the file', async () => {
  await assert.rejects(runJob({ kind: 'analyze', model: '/nonexistent/m.onnx', options: {} }),
    (e: unknown) => e instanceof QuantLensError && e.kind === 'io' && e.message.includes('/nonexistent/m.onnx'));
  await assert.rejects(runJob({ kind: 'analyze', model: MODEL, options: { formats: ['int9'] } }),
    (e: unknown) => e instanceof QuantLensError && e.kind === 'format' && e.message.includes('int9'));
});

test('cancelling stops the worker within a second and leaves no output file', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ql-job-'));
  try {
    const json = path.join(dir, 'r.json'), html = path.join(dir, 'r.html');
    const abort = new AbortController();
    let cancelledAt = 0;
    const p = runJob({ kind: 'analyze', model: MODEL, options: { random: 256, batchSize: 4, formats: ['int8', 'int4'] }, outputs: { json, html } }, {
      signal: abort.signal,
      onProgress: (stage) => { if (stage === 'statistics' && !cancelledAt) { cancelledAt = performance.now(); abort.abort(); } },
    });
    await assert.rejects(p, (e: unknown) => e instanceof QuantLensError && e.kind === 'cancelled');
    assert.ok(cancelledAt > 0, 'progress arrived before the cancel');
    assert.ok(performance.now() - cancelledAt < 1500, `stopped ${performance.now() - cancelledAt} ms after cancel`);
    assert.equal(existsSync(json), false);
    assert.equal(existsSync(html), false);
    assert.deepEqual(readdirSync(dir), [], 'not even a temp file');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
