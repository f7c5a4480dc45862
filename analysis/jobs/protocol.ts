// SPDX-License-Identifier: Apache-2.0
/**
 * Messages between a job's owner (the CLI or the extension host) and the analysis worker. String-typed
 * discriminated unions, structured-clone safe. Every `start` ends in exactly one `result` or `error`.
 * Each job names its model by path (the worker reads it; `sha256` makes it refuse a file that changed since
 * the owner opened it) and its samples by the same options the CLI's --data/--random take.
 */
import type { ErrorKind } from '../../engine/errors';
import type { SuggestRequest, SuggestResult } from '../allocate/suggest';
import type { AnalyzeOptions } from '../analyze';
import type { QuantConfig } from '../config/types';
import type { CalibrationOptions } from '../data';
import type { QdqExportResult } from '../export/qdq';
import type { EvalReport, Report } from '../report';

/** Where a job's samples come from: calibration, and evaluation/verification (default: the calibration ones). */
export interface JobData { calib: CalibrationOptions; eval?: CalibrationOptions }

interface ModelJob {
  model: string;
  /** sha256 of the bytes the owner has open; the worker refuses a model file that no longer matches. */
  sha256?: string;
}

export interface AnalyzeJob extends ModelJob {
  kind: 'analyze';
  options: AnalyzeOptions;
  /** Files to write when (and only when) the job completes; written atomically. */
  outputs?: { json?: string; html?: string };
}

/** `quantlens eval`: FP32 reference against the config on the engine. */
export interface EvaluateJob extends ModelJob {
  kind: 'evaluate';
  config: QuantConfig;
  data: JobData;
  perLayer: boolean;
}

/** `quantlens suggest`: the ILP allocation, its Pareto sweep and the verified points. */
export interface SuggestJob extends ModelJob {
  kind: 'suggest';
  request: Omit<SuggestRequest, 'loaded' | 'modelBytes' | 'calibSource' | 'verifySource' | 'onProgress' | 'signal'>;
  data: JobData;
}

/** `quantlens export`: the QDQ model bytes (the owner decides where they go and never overwrites unasked). */
export interface ExportJob extends ModelJob {
  kind: 'export';
  config: QuantConfig;
  data: JobData;
  metadata: Record<string, string>;
}

export type JobRequest = AnalyzeJob | EvaluateJob | SuggestJob | ExportJob;

/** What each kind of job answers with. */
export interface JobResults {
  analyze: { report: Report; written: string[] };
  evaluate: { eval: EvalReport };
  suggest: { suggest: SuggestResult };
  export: { export: QdqExportResult };
}

export type JobResultOf<J extends JobRequest> = JobResults[J['kind']];
export type AnyJobResult = JobResults[keyof JobResults];

export type ToWorker =
  | { type: 'start'; job: JobRequest }
  | { type: 'cancel' };

export type FromWorker =
  | { type: 'progress'; stage: string; done: number; total: number }
  | { type: 'result'; result: AnyJobResult }
  | { type: 'error'; kind: ErrorKind | 'internal'; message: string; file?: string };
