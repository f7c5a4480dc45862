// SPDX-License-Identifier: Apache-2.0
/** Runs the loader (and shape inference) on fuzz inputs sent by the harness; reports outcome and time. */
import { parentPort } from 'node:worker_threads';
import { loadModelBytesSync } from '../../analysis/onnx/load';
import { inferShapes } from '../../analysis/shapes/infer';
import { isQuantLensError } from '../../engine/errors';

export interface FuzzRequest { id: number; bytes: Uint8Array; file: string }
export interface FuzzResult {
  id: number;
  outcome: 'model' | 'error' | 'crash';
  kind?: string;
  message?: string;
  /** Wall-clock time. */
  ms: number;
  /** CPU time of the process while handling the input (the worker's work; robust to a busy machine). */
  cpuMs: number;
  /** Growth of this process's external (ArrayBuffer) memory while handling the input. */
  externalBytes: number;
}

/** Caps for fuzzing: small enough that a lying size field cannot make us allocate much. */
const LIMITS = { maxTensorBytes: 64 * 1024 * 1024, maxTotalBytes: 256 * 1024 * 1024 };

parentPort!.on('message', (req: FuzzRequest) => {
  const before = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let res: Omit<FuzzResult, 'ms' | 'cpuMs' | 'externalBytes'>;
  try {
    const loaded = loadModelBytesSync(req.bytes, req.file, { limits: LIMITS });
    peak = process.memoryUsage().arrayBuffers - before;
    try {
      inferShapes(loaded.model, req.file);
      res = { id: req.id, outcome: 'model' };
    } catch (e) {
      res = isQuantLensError(e) ? { id: req.id, outcome: 'error', kind: e.kind, message: e.message } : crash(req.id, e);
    }
  } catch (e) {
    res = isQuantLensError(e) ? { id: req.id, outcome: 'error', kind: e.kind, message: e.message } : crash(req.id, e);
  }
  peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
  const cpu = process.cpuUsage(c0);
  parentPort!.postMessage({ ...res, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, externalBytes: peak } satisfies FuzzResult);
});

function crash(id: number, e: unknown): Omit<FuzzResult, 'ms' | 'cpuMs' | 'externalBytes'> {
  const err = e as Error;
  return { id, outcome: 'crash', message: `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}\n${err?.stack ?? ''}` };
}
