// SPDX-License-Identifier: Apache-2.0
/**
 * Runs one job to completion in the current thread (the worker calls this). An analysis writes its output
 * files only after the whole job succeeded, each atomically (temp file + rename), and the signal is checked
 * right before writing — so a cancelled run never leaves a file, half-written or whole. The other jobs return
 * data and write nothing: the owner decides where it goes.
 */
import { readFileSync } from 'node:fs';
import { QuantLensError } from '../../engine/errors';
import { suggest } from '../allocate/suggest';
import { analyzeModel } from '../analyze';
import { openCalibration, type CalibrationSource } from '../data';
import { evaluate } from '../eval/evaluate';
import { buildQdqExport } from '../export/exportModel';
import { renderReportHtml } from '../html/reportHtml';
import { atomicWriteFile, atomicWriteJson } from '../io/atomicWrite';
import { loadModelBytes, type LoadedModel } from '../onnx/load';
import type { AnalyzeJob, AnyJobResult, JobData, JobRequest, JobResultOf } from './protocol';

export type Progress = (stage: string, done: number, total: number) => void;

/** Execute `job`; throws QuantLensError('cancelled') when the signal fires first. */
export async function executeJob<J extends JobRequest>(job: J, signal: AbortSignal, onProgress: Progress): Promise<JobResultOf<J>> {
  const result = await dispatch(job, signal, onProgress);
  if (signal.aborted) throw new QuantLensError('cancelled', `${job.kind} cancelled`);
  return result as JobResultOf<J>;
}

async function dispatch(job: JobRequest, signal: AbortSignal, onProgress: Progress): Promise<AnyJobResult> {
  if (job.kind === 'analyze') return runAnalyze(job, signal, onProgress);
  const { loaded, bytes } = await openModel(job.model, job.sha256);
  const sources = openSources(loaded, job.data);
  switch (job.kind) {
    case 'evaluate': {
      onProgress('evaluation', 0, 1);
      const out = await evaluate({ loaded, modelBytes: bytes, config: job.config, evalSource: sources.eval, calibSource: sources.calib, perLayer: job.perLayer, signal });
      onProgress('evaluation', 1, 1);
      return { eval: out.eval };
    }
    case 'suggest': {
      const stages: string[] = [];
      const res = await suggest({
        ...job.request, loaded, modelBytes: bytes, calibSource: sources.calib, verifySource: sources.eval, signal,
        onProgress: (stage) => { if (!stages.includes(stage)) stages.push(stage); onProgress(stage, stages.length - 1, SUGGEST_STAGES); },
      });
      return { suggest: res };
    }
    case 'export': {
      onProgress('export', 0, 1);
      const { result } = await buildQdqExport(loaded, bytes, job.config, sources.calib, job.metadata);
      onProgress('export', 1, 1);
      return { export: result };
    }
  }
}

/** The stages `suggest` reports (calibration, sensitivity and latency, allocation, verification). */
const SUGGEST_STAGES = 4;

async function runAnalyze(job: AnalyzeJob, signal: AbortSignal, onProgress: Progress): Promise<AnyJobResult> {
  if (job.sha256) await openModel(job.model, job.sha256);
  const report = await analyzeModel(job.model, job.options, { signal, onProgress });
  if (signal.aborted) throw new QuantLensError('cancelled', 'analysis cancelled');
  const written: string[] = [];
  if (job.outputs?.json) { atomicWriteJson(job.outputs.json, report); written.push(job.outputs.json); }
  if (job.outputs?.html) { atomicWriteFile(job.outputs.html, renderReportHtml(report)); written.push(job.outputs.html); }
  return { report, written };
}

/** Read and decode the model; refuse it when it is no longer the file the owner opened. */
async function openModel(file: string, sha256: string | undefined): Promise<{ loaded: LoadedModel; bytes: Uint8Array }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new QuantLensError('io', `${file}: cannot read the model (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  const loaded = await loadModelBytes(bytes, file);
  if (sha256 && loaded.sha256 !== sha256) {
    throw new QuantLensError('model-format', `${file}: the file changed on disk since it was opened; reopen it to analyse the current version`, file);
  }
  return { loaded, bytes };
}

function openSources(loaded: LoadedModel, data: JobData): { calib: CalibrationSource; eval: CalibrationSource } {
  const graph = loaded.model.graph;
  const calib = openCalibration(graph, data.calib);
  return { calib, eval: data.eval ? openCalibration(graph, data.eval) : calib };
}
