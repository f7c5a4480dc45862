// SPDX-License-Identifier: Apache-2.0
/**
 * Workspace-trust gating. In an untrusted workspace QuantLens parses and inspects models (pure TypeScript) but
 * never executes them: no onnxruntime session, no engine run, no custom-op library. Every view says why.
 */
import * as vscode from 'vscode';
import { QuantLensError } from '../engine/errors';
import type { TrustInfo } from '../webview/protocol';

export const UNTRUSTED_REASON = 'this workspace is not trusted, so QuantLens only inspects the model (structure, shapes, weight statistics) and does not execute it. Trust the workspace to calibrate, measure sensitivity and accuracy.';

export function trustInfo(): TrustInfo {
  return vscode.workspace.isTrusted ? { canExecute: true } : { canExecute: false, reason: UNTRUSTED_REASON };
}

/** Throws before any model execution when the workspace is untrusted. */
export function requireTrust(action: string): void {
  if (!vscode.workspace.isTrusted) throw new QuantLensError('usage', `${action} needs a trusted workspace: ${UNTRUSTED_REASON}`);
}
