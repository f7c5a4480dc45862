// SPDX-License-Identifier: Apache-2.0
/**
 * Starts a job in a worker thread and returns its result. Progress arrives through `onProgress`; aborting
 * `signal` asks the worker to cancel and, if it has not stopped within `cancelGraceMs`, terminates it — either
 * way the promise rejects with QuantLensError('cancelled') and no output file exists. A worker crash becomes
 * an internal error; the caller keeps running.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { QuantLensError } from '../../engine/errors';
import type { FromWorker, JobRequest, JobResultOf, ToWorker } from './protocol';

export interface RunJobOptions {
  signal?: AbortSignal;
  onProgress?: (stage: string, done: number, total: number) => void;
  cancelGraceMs?: number;
  /** Override the worker script (default: dist/analysisWorker.js next to the bundle, or the TS source under tsx). */
  workerPath?: string;
}

/** The worker script: the bundled one beside this bundle, else the TypeScript source (tests, tsx). */
export function defaultWorker(): string {
  const bundled = path.join(__dirname, 'analysisWorker.js');
  return !__filename.endsWith('.ts') && existsSync(bundled) ? bundled : path.join(__dirname, 'worker.ts');
}

function startWorker(file: string): Worker {
  // loader flags (--import tsx) do not reach worker threads on Node 20: register tsx's require hook inside
  return file.endsWith('.ts')
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true })
    : new Worker(file);
}

/** Run `job` in a worker thread. */
export function runJob<J extends JobRequest>(job: J, opts: RunJobOptions = {}): Promise<JobResultOf<J>> {
  const worker = startWorker(opts.workerPath ?? defaultWorker());
  return new Promise<JobResultOf<J>>((resolve, reject) => {
    let settled = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => {
      worker.postMessage({ type: 'cancel' } satisfies ToWorker);
      killTimer = setTimeout(() => {
        void worker.terminate();
        finish(() => reject(new QuantLensError('cancelled', `${jobLabel(job)} cancelled`)));
      }, opts.cancelGraceMs ?? 1000);
    };
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'progress') opts.onProgress?.(m.stage, m.done, m.total);
      else if (m.type === 'result') finish(() => resolve(m.result as JobResultOf<J>));
      else if (m.type === 'error') {
        finish(() => reject(m.kind === 'internal' ? new Error(m.message) : new QuantLensError(m.kind, m.message, m.file)));
      }
    });
    worker.on('error', (e) => finish(() => reject(new Error(`analysis worker crashed: ${e.message}`))));
    worker.on('exit', (code) => finish(() => reject(opts.signal?.aborted
      ? new QuantLensError('cancelled', `${jobLabel(job)} cancelled`)
      : new Error(`analysis worker exited with code ${code} before answering`))));
    if (opts.signal?.aborted) { void worker.terminate(); finish(() => reject(new QuantLensError('cancelled', `${jobLabel(job)} cancelled`))); return; }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.postMessage({ type: 'start', job } satisfies ToWorker);
  });
}

/** How a job is named in messages ("analysis cancelled", "suggest cancelled"). */
function jobLabel(job: JobRequest): string {
  return job.kind === 'analyze' ? 'analysis' : job.kind;
}
