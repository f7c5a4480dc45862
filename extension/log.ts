// SPDX-License-Identifier: Apache-2.0
/** The QuantLens output channel, and the one way errors reach the user: a notification plus a log line. */
import * as vscode from 'vscode';
import { isQuantLensError } from '../engine/errors';

let channel: vscode.LogOutputChannel | undefined;

/** The output channel (created on first use, so activation stays cheap). */
export function log(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('QuantLens', { log: true });
  return channel;
}

/** True for errors that are the user's cancellation, which are neither shown nor logged as failures. */
export function isCancellation(e: unknown): boolean {
  return (isQuantLensError(e) && e.kind === 'cancelled') || e instanceof vscode.CancellationError || (e as { kind?: string })?.kind === 'cancelled';
}

/** One-line message of an error: QuantLensErrors already name the file and the problem. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Show an error as a notification (with "Show Log") and write it, with its stack for internal errors, to the channel. */
export function reportError(context: string, e: unknown): void {
  if (isCancellation(e)) { log().info(`${context}: cancelled`); return; }
  const msg = errorMessage(e);
  if (isQuantLensError(e)) log().error(`${context}: [${e.kind}] ${msg}`);
  else log().error(`${context}: internal error: ${e instanceof Error ? e.stack ?? msg : msg}`);
  void vscode.window.showErrorMessage(`QuantLens: ${context}: ${msg}`, 'Show Log').then((pick) => { if (pick) log().show(true); });
}
