// SPDX-License-Identifier: Apache-2.0
/** Typed access to the `quantlens.*` settings (declared in package.json `contributes.configuration`). */
import * as vscode from 'vscode';
import path from 'node:path';

export interface QuantLensSettings {
  /** Folder of .npy calibration samples; empty → `random` generated samples. */
  calibrationData: string;
  /** Folder of .npy evaluation samples, optionally with labels.npy (gives accuracy). */
  evaluationData: string;
  /** Number of samples used for calibration and evaluation. */
  sampleCount: number;
  /** Formats offered first and used by analysis. */
  defaultWeightFormat: string;
  defaultActivationFormat: string;
  /** Formats sensitivity is measured for. */
  sensitivityFormats: string[];
  /** Worker threads for analysis (0 = automatic). */
  threads: number;
  /** Memory cap for analysis, MB. */
  memoryLimitMB: number;
}

/** Current settings for a resource's workspace folder; a relative data folder resolves against that folder. */
export function getSettings(resource?: vscode.Uri): QuantLensSettings {
  const c = vscode.workspace.getConfiguration('quantlens', resource);
  const folder = resource ? vscode.workspace.getWorkspaceFolder(resource)?.uri.fsPath ?? path.dirname(resource.fsPath) : undefined;
  const dir = (key: string): string => {
    const v = c.get<string>(key, '').trim();
    return v && !path.isAbsolute(v) && folder ? path.join(folder, v) : v;
  };
  return {
    calibrationData: dir('calibrationData'),
    evaluationData: dir('evaluationData'),
    sampleCount: Math.max(1, c.get<number>('sampleCount', 64)),
    defaultWeightFormat: c.get<string>('defaultFormats.weights', 'int8'),
    defaultActivationFormat: c.get<string>('defaultFormats.activations', 'int8'),
    sensitivityFormats: c.get<string[]>('sensitivityFormats', ['int8', 'int4']),
    threads: Math.max(0, c.get<number>('threads', 0)),
    memoryLimitMB: Math.max(256, c.get<number>('memoryLimitMB', 4096)),
  };
}
