// SPDX-License-Identifier: Apache-2.0
/**
 * Whole-model work (analysis, accuracy on the engine, allocation, export) runs in the analysis worker
 * (analysis/jobs), never on the extension host's thread: the editor stays responsive while the engine runs,
 * and a crash of the work cannot take the host down. The host job's progress and cancellation drive the worker.
 */
import * as vscode from 'vscode';
import path from 'node:path';
import type { JobRequest, JobResultOf } from '../analysis/jobs/protocol';
import { runJob as runWorkerJob } from '../analysis/jobs/runJob';
import type { JobContext } from './jobs';

/** Run `job` in a fresh analysis worker as part of the host job `ctx`. */
export function inWorker<J extends JobRequest>(extensionUri: vscode.Uri, job: J, ctx: JobContext): Promise<JobResultOf<J>> {
  return runWorkerJob(job, {
    signal: ctx.signal,
    onProgress: (stage, done, total) => ctx.progress(total ? done / total : 0, stage),
    workerPath: path.join(extensionUri.fsPath, 'dist', 'analysisWorker.js'),
  });
}
