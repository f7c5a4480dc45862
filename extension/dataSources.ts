// SPDX-License-Identifier: Apache-2.0
/**
 * Where calibration and evaluation samples come from, per the settings: `quantlens.calibrationData` /
 * `quantlens.evaluationData` folders, else the `data/calib` and `data/eval` folders next to the model (the
 * bundled samples' layout), else seeded random samples (no accuracy then, only agreement with FP32).
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openCalibration, type CalibrationSource } from '../analysis/data';
import type { OnnxModelDocument } from './modelDocument';
import { getSettings } from './settings';

export interface Sources { calib: CalibrationSource; eval: CalibrationSource; label: string }

function firstExisting(...dirs: string[]): string | undefined {
  return dirs.find((d) => d && existsSync(d));
}

/** Open the calibration and evaluation sources for a model. */
export function openSources(doc: OnnxModelDocument): Sources {
  const s = getSettings(doc.uri);
  const dir = path.dirname(doc.path);
  const graph = doc.loaded.model.graph;
  const calibDir = firstExisting(s.calibrationData, path.join(dir, 'data', 'calib'));
  const evalDir = firstExisting(s.evaluationData, path.join(dir, 'data', 'eval'));
  const calib = calibDir ? openCalibration(graph, { data: calibDir }) : openCalibration(graph, { random: s.sampleCount, seed: 0 });
  let evalSrc = calib;
  if (evalDir) {
    const labels = path.join(evalDir, 'labels.npy');
    evalSrc = openCalibration(graph, { data: evalDir, ...(existsSync(labels) ? { labels } : {}) });
  }
  const label = `${calibDir ? vscode.workspace.asRelativePath(calibDir) : `${s.sampleCount} random samples`} (calibration), ${evalDir ? vscode.workspace.asRelativePath(evalDir) : 'same samples'} (evaluation)`;
  return { calib, eval: evalSrc, label };
}
