// SPDX-License-Identifier: Apache-2.0
/**
 * Runs one job to completion in the current thread (the worker calls this): the analysis, then the output
 * files. Outputs are written only after the whole job succeeded, each atomically (temp file + rename), and the
 * signal is checked right before writing — so a cancelled run never leaves a file, half-written or whole.
 */
import { QuantLensError } from '../../engine/errors';
import { analyzeModel } from '../analyze';
import { renderReportHtml } from '../html/reportHtml';
import { atomicWriteFile, atomicWriteJson } from '../io/atomicWrite';
import type { Report } from '../report';
import type { JobRequest } from './protocol';

export interface JobResult { report: Report; written: string[] }

/** Execute `job`; throws QuantLensError('cancelled') when the signal fires first. */
export async function executeJob(job: JobRequest, signal: AbortSignal,
  onProgress: (stage: string, done: number, total: number) => void): Promise<JobResult> {
  const report = await analyzeModel(job.model, job.options, { signal, onProgress });
  if (signal.aborted) throw new QuantLensError('cancelled', 'analysis cancelled');
  const written: string[] = [];
  if (job.outputs?.json) { atomicWriteJson(job.outputs.json, report); written.push(job.outputs.json); }
  if (job.outputs?.html) { atomicWriteFile(job.outputs.html, renderReportHtml(report)); written.push(job.outputs.html); }
  return { report, written };
}
