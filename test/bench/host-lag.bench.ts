// SPDX-License-Identifier: Apache-2.0
/**
 * Host health (robustness issue item 8), measured, never asserted: `node --import tsx test/bench/host-lag.bench.ts
 * [--model samples/vit.onnx] [--repeats 3]`. Through the worker job runner the extension uses (analysis/jobs):
 *  1. the main thread's event-loop delay (perf_hooks.monitorEventLoopDelay) during a full analysis of a sample
 *     on the calibration folder — target max < 50 ms — next to the same analysis run on the main thread; then
 *     the other jobs the extension runs in the worker (evaluate, suggest, export), evaluate also in-thread;
 *  2. cancellation latency: abort once the statistics pass is under way → time until the job settles (< 1 s);
 *  3. a worker killed mid-run (test/robustness/crashingWorker.ts ends its thread) → reported as an error, then
 *     the next job still completes.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { analyzeModel, type AnalyzeOptions } from '../../analysis/analyze';
import type { JobData } from '../../analysis/jobs/protocol';
import { runJob } from '../../analysis/jobs/runJob';
import { evaluate } from '../../analysis/eval/evaluate';
import { openCalibration } from '../../analysis/data';
import { loadModel } from '../../analysis/onnx/load';
import { presetConfig } from '../../analysis/presets';
import { readFileSync } from 'node:fs';
import { QuantLensError } from '../../engine/errors';

const ROOT = path.resolve(__dirname, '../..');
const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : dflt; };
const MODEL = path.resolve(ROOT, arg('--model', 'samples/cnn.onnx'));
const REPEATS = Number(arg('--repeats', '3'));
const FULL: AnalyzeOptions = { data: path.join(ROOT, 'samples/data/calib') };
/** The bundle the extension starts (dist/analysisWorker.js) when built, else the TypeScript source. */
const BUNDLED = path.join(ROOT, 'dist/analysisWorker.js');
const WORKER = existsSync(BUNDLED) ? { workerPath: BUNDLED } : {};
const ms = (ns: number) => ns / 1e6;

interface LagRow { label: string; wallMs: number; maxMs: number; p99Ms: number; meanMs: number }

/** Run `work` while sampling the event loop every 10 ms; the histogram's max is the longest stall. */
async function withLag(label: string, work: () => Promise<unknown>): Promise<LagRow> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const t0 = performance.now();
  await work();
  const wallMs = performance.now() - t0;
  h.disable();
  // the histogram counts the 10 ms sampling period itself: subtract it to get the stall
  const lag = (ns: number) => Math.max(0, ms(ns) - 10);
  return { label, wallMs, maxMs: lag(h.max), p99Ms: lag(h.percentile(99)), meanMs: lag(h.mean) };
}

async function cancelLatency(): Promise<{ latencyMs: number; kind: string }> {
  const abort = new AbortController();
  let cancelledAt = 0;
  const p = runJob({ kind: 'analyze', model: MODEL, options: { ...FULL, batchSize: 1 } }, {
    ...WORKER,
    signal: abort.signal,
    onProgress: (stage, done) => { if (!cancelledAt && stage === 'statistics' && done > 0) { cancelledAt = performance.now(); abort.abort(); } },
  });
  try { await p; return { latencyMs: Number.NaN, kind: 'finished before cancel' }; } catch (e) {
    return { latencyMs: performance.now() - cancelledAt, kind: e instanceof QuantLensError ? e.kind : `untyped: ${(e as Error).message}` };
  }
}

async function crashThenRecover(): Promise<{ crash: string; next: string }> {
  process.env.QUANTLENS_TEST_CRASH = 'exit';
  let crash = 'no error (unexpected)';
  try {
    await runJob({ kind: 'analyze', model: MODEL, options: FULL }, { workerPath: path.join(ROOT, 'test/robustness/crashingWorker.ts') });
  } catch (e) { crash = `${e instanceof QuantLensError ? e.kind : 'internal'}: ${(e as Error).message}`; }
  delete process.env.QUANTLENS_TEST_CRASH;
  const { report } = await runJob({ kind: 'analyze', model: MODEL, options: FULL }, WORKER);
  return { crash, next: `completed, ${report.layers.length} layers` };
}

/** The accuracy, allocation and export jobs the extension also runs in the worker (evaluate also in-thread). */
async function otherJobs(): Promise<LagRow[]> {
  const loaded = await loadModel(MODEL);
  const config = presetConfig('w8a8', { path: MODEL, sha256: loaded.sha256 });
  const evalDir = path.join(ROOT, 'samples/data/eval');
  const data: JobData = { calib: { data: FULL.data! }, eval: { data: evalDir, labels: path.join(evalDir, 'labels.npy') } };
  const base = { model: MODEL, sha256: loaded.sha256, data };
  const graph = loaded.model.graph;
  return [
    await withLag('worker evaluate (w8a8 on the eval set, per-layer)', () => runJob({ kind: 'evaluate', ...base, config, perLayer: true }, WORKER)),
    await withLag('same evaluate on the main thread (for contrast)', () => evaluate({
      loaded, modelBytes: readFileSync(MODEL), config, perLayer: true,
      calibSource: openCalibration(graph, data.calib), evalSource: openCalibration(graph, data.eval!),
    })),
    await withLag('worker suggest (avg-bits 4.5, verified points)', () => runJob({ kind: 'suggest', ...base, request: {
      modelPath: MODEL, budget: { kind: 'avg-bits', value: 4.5 }, formats: ['int8', 'int6', 'int4', 'int2'], activation: config.defaults.activations,
      sensitivity: 'perturbation', paretoSteps: 4, toolVersion: 'bench',
    } }, WORKER)),
    await withLag('worker export (w8a8 QDQ)', () => runJob({ kind: 'export', ...base, config, metadata: {} }, WORKER)),
  ];
}

async function main(): Promise<void> {
  const rel = path.relative(ROOT, MODEL);
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} cores; worker ${WORKER.workerPath ? path.relative(ROOT, WORKER.workerPath) : 'analysis/jobs/worker.ts (tsx)'}`);
  console.log(`host-lag bench: ${rel}, full analysis on samples/data/calib (64 samples, all three sensitivity methods), ${REPEATS} repeats`);
  const rows: LagRow[] = [];
  for (let i = 0; i < REPEATS; i++) rows.push(await withLag(`worker (analysis/jobs) #${i + 1}`, () => runJob({ kind: 'analyze', model: MODEL, options: FULL }, WORKER)));
  rows.push(await withLag('same analysis on the main thread (for contrast)', () => analyzeModel(MODEL, FULL)));
  rows.push(...await otherJobs());
  // the machine's own scheduling noise: an idle main thread for as long as one worker run took
  rows.push(await withLag('idle main thread, no job (machine noise)', () => new Promise((r) => setTimeout(r, rows[0].wallMs))));
  console.log('\n| run | wall s | loop delay max ms | p99 ms | mean ms |\n|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.label} | ${(r.wallMs / 1000).toFixed(2)} | ${r.maxMs.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.meanMs.toFixed(2)} |`);
  const worst = Math.max(...rows.filter((r) => r.label.startsWith('worker')).map((r) => r.maxMs));
  console.log(`\nworker runs: worst event-loop stall ${worst.toFixed(1)} ms (target < 50 ms: ${worst < 50 ? 'met' : 'NOT met'})`);

  console.log('\n| cancellation # | settled as | latency ms |\n|---|---|---:|');
  const lat: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const c = await cancelLatency();
    lat.push(c.latencyMs);
    console.log(`| ${i + 1} | ${c.kind} | ${c.latencyMs.toFixed(1)} |`);
  }
  const worstCancel = Math.max(...lat.filter(Number.isFinite));
  console.log(`\ncancellation: worst ${worstCancel.toFixed(1)} ms (target < 1000 ms: ${worstCancel < 1000 ? 'met' : 'NOT met'})`);

  const c = await crashThenRecover();
  console.log(`\nworker killed mid-run → ${c.crash}\nnext job → ${c.next}`);
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
