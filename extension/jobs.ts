// SPDX-License-Identifier: Apache-2.0
/**
 * Long work with progress and cancellation: a `window.withProgress` notification whose Cancel button, a
 * webview's cancel, or a closed panel all abort one AbortSignal that the analysis functions check. Errors are
 * reported once (notification + output channel); cancellation is not an error.
 */
import * as vscode from 'vscode';
import { QuantLensError } from '../engine/errors';
import { isCancellation, log, reportError } from './log';

export interface JobContext {
  signal: AbortSignal;
  /** Report progress: fraction 0..1 of the whole job and what is happening. */
  progress(fraction: number, message: string): void;
}

/** Run `work` under a cancellable progress notification; `outer` (a webview's request) also cancels it. */
export async function runJob<T>(title: string, work: (ctx: JobContext) => Promise<T>, opts: { outer?: AbortSignal; onProgress?: (f: number, m: string) => void; quiet?: boolean; inStatusBar?: boolean } = {}): Promise<T> {
  const ac = new AbortController();
  const onOuter = (): void => ac.abort();
  opts.outer?.addEventListener('abort', onOuter, { once: true });
  const t0 = performance.now();
  log().info(`${title}: started`);
  try {
    // work a panel already shows (and cancels when closed) reports in the status bar instead of a toast
    const location = opts.inStatusBar ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification;
    return await vscode.window.withProgress({ location, title: `QuantLens: ${title}`, cancellable: !opts.inStatusBar }, async (progress, token) => {
      token.onCancellationRequested(() => ac.abort());
      let last = 0;
      const ctx: JobContext = {
        signal: ac.signal,
        progress: (fraction, message) => {
          const f = Math.max(last, Math.min(1, fraction));
          progress.report({ message, increment: (f - last) * 100 });
          last = f;
          opts.onProgress?.(f, message);
        },
      };
      const result = await work(ctx);
      if (ac.signal.aborted) throw new QuantLensError('cancelled', `${title} cancelled`);
      return result;
    });
  } catch (e) {
    if (ac.signal.aborted && !isCancellation(e)) throw new QuantLensError('cancelled', `${title} cancelled`);
    if (!opts.quiet) reportError(title, e);
    throw e;
  } finally {
    opts.outer?.removeEventListener('abort', onOuter);
    log().info(`${title}: ${ac.signal.aborted ? 'cancelled' : 'finished'} after ${Math.round(performance.now() - t0)} ms`);
  }
}

/** Throw the typed cancellation when `signal` is aborted (between steps of host-side work). */
export function checkCancelled(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw new QuantLensError('cancelled', `${what} cancelled`);
}
