// SPDX-License-Identifier: Apache-2.0
/**
 * Sensitivity & allocation view data (analysis/allocate `suggest`: ILP under a budget, Pareto sweep, every
 * point verified on the engine), Apply (writes `<model>.quant.json` atomically and opens it as text), and
 * Export QDQ (a new `.onnx` next to the model; never overwrites without asking).
 */
import * as vscode from 'vscode';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { SuggestResult } from '../analysis/allocate/suggest';
import { atomicWriteFile } from '../analysis/io/atomicWrite';
import type { ExportJob, JobData, JobResultOf, SuggestJob } from '../analysis/jobs/protocol';
import { PRESETS } from '../analysis/presets';
import { FORMATS } from '../analysis/quant/formats';
import type { QuantConfig } from '../analysis/config/types';
import type { AllocationData, AllocationRow, BudgetKindName } from '../webview/protocol';
import { configPathFor, writeConfig } from './configStore';
import type { OnnxModelDocument } from './modelDocument';
import { sensitivityOf } from './sensitivityRank';

/** Candidate weight formats for the allocation (the INT ladder, as `quantlens suggest`). */
const LADDER = ['int8', 'int6', 'int5', 'int4', 'int3', 'int2'];

/** Budget slider ranges for a model: average bits 2–8; size and BOPs between the all-int2 and all-int8 models. */
export function budgetLimits(doc: OnnxModelDocument): AllocationData['budgetLimits'] {
  const params = doc.report.layers.reduce((s, l) => s + (l.weightShape ? l.params : 0), 0);
  const macs = doc.report.layers.reduce((s, l) => s + (l.weightShape ? l.macs : 0), 0);
  const mb = (bits: number): number => (params * bits) / 8e6;
  return {
    'avg-bits': { min: 2, max: 8, step: 0.25 },
    'size-mb': { min: mb(2), max: mb(8), step: Math.max(mb(6) / 48, 1e-4) },
    bops: { min: macs * 2 * 8, max: macs * 8 * 8, step: Math.max((macs * 48) / 48, 1) },
    'latency-ms': { min: 0.001, max: 1000, step: 0.001 },
  };
}

/** The worker job that allocates for a budget (ILP, Pareto sweep, every point verified on the engine). */
export function suggestJob(doc: OnnxModelDocument, data: JobData, budget: { kind: BudgetKindName; value: number }): SuggestJob {
  return {
    kind: 'suggest', model: doc.path, sha256: doc.sha256, data,
    request: {
      modelPath: `./${path.basename(doc.path)}`, budget, formats: LADDER, activation: PRESETS.w8a8.activations,
      sensitivity: 'perturbation', paretoSteps: 6, toolVersion: '0.1.0',
    },
  };
}

/** Shape an allocation for the view. */
export function allocationView(doc: OnnxModelDocument, res: SuggestResult, budget: { kind: BudgetKindName; value: number }, previous?: AllocationData): { data: AllocationData; config: QuantConfig } {
  const perLayerSqnr = new Map(res.eval.layers.map((l) => [l.name, l.sqnrDb] as const));
  const rows: AllocationRow[] = Object.entries(res.chosen.choices).map(([layer, format]) => {
    const l = doc.layer(layer);
    const predicted = l?.sensitivity?.perturbation?.[format]?.value;
    return {
      layer, op: l?.op ?? '', format, bits: FORMATS[format]?.bits ?? 32,
      predictedDelta: predicted ?? Number.NaN, ...(perLayerSqnr.has(layer) ? { measuredSqnrDb: perLayerSqnr.get(layer) } : {}),
    };
  });
  const measured = res.config.provenance?.measured;
  const deltaOf = (p: SuggestResult['chosen']): number | undefined => p.measured.accuracyDelta ?? (p.measured.top1Agreement !== null ? p.measured.top1Agreement - 1 : undefined);
  const data: AllocationData = {
    view: 'allocation', modelPath: doc.path,
    sensitivity: doc.report.layers.filter((l) => sensitivityOf(l) !== undefined).map((l) => ({ layer: l.name, op: l.op, sensitivity: l.sensitivity! })),
    agreement: doc.report.agreement ?? {},
    budget, budgetLimits: budgetLimits(doc),
    pareto: [...res.frontier, res.chosen].map((p, i, all) => ({
      cost: p.cost, loss: p.predictedLoss, label: `${p.avgWeightBits.toFixed(2)} bits · ${p.sizeMB.toFixed(3)} MB`,
      ...(deltaOf(p) !== undefined ? { measuredDelta: deltaOf(p) } : {}), ...(i === all.length - 1 ? { chosen: true } : {}),
    })),
    rows,
    predicted: { avgWeightBits: res.chosen.avgWeightBits, sizeMB: res.chosen.sizeMB, bops: res.chosen.bops, loss: res.chosen.predictedLoss },
    ...(measured ? { measured: { metric: measured.metric, fp32: measured.fp32, quantized: measured.quantized, delta: measured.delta } } : {}),
    ...(previous?.configPath ? { configPath: previous.configPath } : {}),
    warnings: res.warnings,
  };
  return { data, config: res.config };
}

/** Write the suggestion to the model's config (asking before replacing one) and open it as text. */
export async function applyConfig(doc: OnnxModelDocument, config: QuantConfig): Promise<string | undefined> {
  const file = configPathFor(doc.path);
  if (existsSync(file)) {
    const pick = await vscode.window.showWarningMessage(`Replace ${path.basename(file)} with the suggested allocation?`, { modal: true, detail: 'The current file is replaced atomically; use version control to compare.' }, 'Replace');
    if (pick !== 'Replace') return undefined;
  }
  writeConfig(file, config);
  doc.reloadConfig();
  await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false, viewColumn: vscode.ViewColumn.Beside });
  return file;
}

/**
 * Export a QDQ model for `config` next to the model (built by `run`, the analysis worker); asks before replacing
 * an existing file.
 */
export async function exportQdqModel(doc: OnnxModelDocument, config: QuantConfig, data: JobData,
  run: (job: ExportJob) => Promise<JobResultOf<ExportJob>>, signal: AbortSignal): Promise<string | undefined> {
  const { export: out } = await run({ kind: 'export', model: doc.path, sha256: doc.sha256, config, data, metadata: { 'quantlens.config.sha256': doc.sha256 } });
  if (signal.aborted) return undefined;
  let target = vscode.Uri.file(path.join(path.dirname(doc.path), `${path.basename(doc.path, '.onnx')}.qdq.onnx`));
  if (existsSync(target.fsPath)) {
    const pick = await vscode.window.showWarningMessage(`${path.basename(target.fsPath)} already exists.`, { modal: true }, 'Overwrite', 'Save As…');
    if (pick === 'Save As…') {
      const chosen = await vscode.window.showSaveDialog({ defaultUri: target, filters: { 'ONNX model': ['onnx'] } });
      if (!chosen) return undefined;
      target = chosen;
    } else if (pick !== 'Overwrite') {
      return undefined;
    }
  }
  if (path.resolve(target.fsPath) === path.resolve(doc.path)) throw new Error(`${doc.path}: QuantLens never writes over the source model; choose another name`);
  atomicWriteFile(target.fsPath, out.bytes);
  return target.fsPath;
}
