// SPDX-License-Identifier: Apache-2.0
/**
 * Messages between a job's owner (the CLI or the extension host) and the analysis worker. String-typed
 * discriminated unions, structured-clone safe. Every `start` ends in exactly one `result` or `error`.
 */
import type { ErrorKind } from '../../engine/errors';
import type { AnalyzeOptions } from '../analyze';
import type { Report } from '../report';

export interface AnalyzeJob {
  kind: 'analyze';
  model: string;
  options: AnalyzeOptions;
  /** Files to write when (and only when) the job completes; written atomically. */
  outputs?: { json?: string; html?: string };
}

export type JobRequest = AnalyzeJob;

export type ToWorker =
  | { type: 'start'; job: JobRequest }
  | { type: 'cancel' };

export type FromWorker =
  | { type: 'progress'; stage: string; done: number; total: number }
  | { type: 'result'; report: Report; written: string[] }
  | { type: 'error'; kind: ErrorKind | 'internal'; message: string; file?: string };
