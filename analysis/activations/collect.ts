// SPDX-License-Identifier: Apache-2.0
/**
 * One streamed FP32 pass over the calibration set: each batch runs in onnxruntime with the needed
 * intermediate tensors exposed, feeds every per-tensor accumulator, and is handed to `onBatch` (layer-Hessian
 * row sampling, perturbation baselines) before it is dropped. Memory is bounded by the batch.
 */
import type { Tensor } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';
import type { CalibrationSource } from '../data/source';
import { ActivationAccumulator, activationChannelAxis } from './accumulator';
import type { OrtReference } from './ortReference';

export interface CollectOptions {
  batchSize?: number;
  /** Called with each batch's feeds and fetched tensors (inputs included) before they are released. */
  onBatch?: (values: Map<string, Tensor>, batch: { offset: number; size: number }) => void | Promise<void>;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  bins?: number;
  /** More values to fetch and hand to onBatch without accumulating statistics for them. */
  extraFetch?: readonly string[];
}

/** Run the reference over `source`, accumulating statistics for `names` (float tensors only). */
export async function collectActivationStats(ref: OrtReference, source: CalibrationSource, names: readonly string[],
  opts: CollectOptions = {}): Promise<Map<string, ActivationAccumulator>> {
  const acc = new Map<string, ActivationAccumulator>();
  const inputNames = new Set(source.inputs.map((i) => i.name));
  const fetch = [...new Set([...names, ...(opts.extraFetch ?? []), ...ref.modelOutputs])].filter((n) => !inputNames.has(n));
  for await (const batch of source.batches(opts.batchSize ?? 8)) {
    if (opts.signal?.aborted) throw new QuantLensError('cancelled', 'analysis cancelled');
    const values = await ref.run(batch.feeds, fetch);
    for (const [k, v] of Object.entries(batch.feeds)) values.set(k, v);
    for (const name of names) {
      const t = values.get(name);
      if (!t || !(t.data instanceof Float32Array)) continue;
      let a = acc.get(name);
      if (!a) acc.set(name, (a = new ActivationAccumulator(name, activationChannelAxis, opts.bins)));
      a.add(t.data, t.dims);
    }
    await opts.onBatch?.(values, { offset: batch.offset, size: batch.size });
    opts.onProgress?.(Math.min(source.sampleCount, batch.offset + batch.size), source.sampleCount);
  }
  return acc;
}
