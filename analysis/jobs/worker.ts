// SPDX-License-Identifier: Apache-2.0
/**
 * The analysis worker entry (bundled to dist/analysisWorker.js). It waits for one `start`, runs the job with
 * progress messages, honours `cancel` through an AbortSignal, and answers with exactly one result or error.
 */
import { parentPort } from 'node:worker_threads';
import { isQuantLensError } from '../../engine/errors';
import { executeJob } from './execute';
import type { FromWorker, ToWorker } from './protocol';

const port = parentPort;
if (port) {
  const abort = new AbortController();
  let started = false;
  const post = (m: FromWorker) => port.postMessage(m);
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'cancel') { abort.abort(); return; }
    if (msg.type !== 'start' || started) return;
    started = true;
    let last = 0;
    executeJob(msg.job, abort.signal, (stage, done, total) => {
      // throttle: at most ~20 progress messages a second, but always the last of a stage
      const t = performance.now();
      if (done < total && t - last < 50) return;
      last = t;
      post({ type: 'progress', stage, done, total });
    }).then((result) => post({ type: 'result', result }), (e: unknown) => {
      if (isQuantLensError(e)) post({ type: 'error', kind: abort.signal.aborted ? 'cancelled' : e.kind, message: e.message, ...(e.file ? { file: e.file } : {}) });
      else post({ type: 'error', kind: 'internal', message: (e as Error)?.stack ?? String(e) });
    }).finally(() => port.close());
  });
}
