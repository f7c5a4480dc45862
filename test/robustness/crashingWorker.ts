// SPDX-License-Identifier: Apache-2.0
/**
 * The real analysis worker (analysis/jobs/worker.ts), made to crash once the analysis is under way: after
 * its first progress message it throws an uncaught error (QUANTLENS_TEST_CRASH=throw, the default) or ends
 * its thread abruptly (=exit), as a native fault or an out-of-memory kill would. Used by the robustness test
 * and the host-lag benchmark to show a crash is reported and the next job still works.
 */
import { parentPort } from 'node:worker_threads';

const port = parentPort;
if (port) {
  const mode = process.env.QUANTLENS_TEST_CRASH === 'exit' ? 'exit' : 'throw';
  const post = port.postMessage.bind(port);
  let armed = true, crashing = false;
  port.postMessage = (m: unknown) => {
    const type = (m as { type?: string })?.type;
    // A job that finishes before the timer fires (fast engine passes never yield) must not answer first:
    // once the crash is scheduled, the worker's reply is held back, so the crash is always what the host sees.
    if (crashing && type !== 'progress') return;
    post(m);
    if (!armed || type !== 'progress') return;
    armed = false;
    crashing = true;
    setTimeout(() => {
      if (mode === 'exit') process.exit(70);
      throw new Error('simulated worker crash mid-analysis');
    }, 0);
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../../analysis/jobs/worker');
}
