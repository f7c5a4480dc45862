// SPDX-License-Identifier: Apache-2.0
/**
 * Where calibration and evaluation samples come from, per the settings: `quantlens.calibrationData` /
 * `quantlens.evaluationData` folders, else the `data/calib` and `data/eval` folders next to the model (the
 * bundled samples' layout), else seeded random samples (no accuracy then, only agreement with FP32).
 * The choice is plain options (`JobData`) so the analysis worker can open the same samples.
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openCalibration, type CalibrationSource } from '../analysis/data';
import type { JobData } from '../analysis/jobs/protocol';
import type { OnnxModelDocument } from './modelDocument';
import { getSettings } from './settings';

export interface Sources { calib: CalibrationSource; eval: CalibrationSource; label: string }

function firstExisting(...dirs: string[]): string | undefined {
  return dirs.find((d) => d && existsSync(d));
}

/** The samples for a model as worker-job options, and a label saying where they come from. */
export function dataFor(doc: OnnxModelDocument): { data: JobData; label: string } {
  const s = getSettings(doc.uri);
  const dir = path.dirname(doc.path);
  const calibDir = firstExisting(s.calibrationData, path.join(dir, 'data', 'calib'));
  const evalDir = firstExisting(s.evaluationData, path.join(dir, 'data', 'eval'));
  const data: JobData = { calib: calibDir ? { data: calibDir } : { random: s.sampleCount, seed: 0 } };
  if (evalDir) {
    const labels = path.join(evalDir, 'labels.npy');
    data.eval = { data: evalDir, ...(existsSync(labels) ? { labels } : {}) };
  }
  const label = `${calibDir ? vscode.workspace.asRelativePath(calibDir) : `${s.sampleCount} random samples`} (calibration), ${evalDir ? vscode.workspace.asRelativePath(evalDir) : 'same samples'} (evaluation)`;
  return { data, label };
}

/** Open the calibration and evaluation sources for a model (for work that stays on the host). */
export function openSources(doc: OnnxModelDocument): Sources {
  const { data, label } = dataFor(doc);
  const graph = doc.loaded.model.graph;
  const calib = openCalibration(graph, data.calib);
  return { calib, eval: data.eval ? openCalibration(graph, data.eval) : calib, label };
}
