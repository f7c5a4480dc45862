// SPDX-License-Identifier: Apache-2.0
/**
 * Calibration data as a stream of batches. Every source (a `.npy` folder, an image folder, seeded random
 * samples) validates what it can up front (shapes, dtypes, counts, naming the offending file) and then yields
 * batches one at a time, so memory is bounded by the batch, never by the dataset.
 */
import type { DType, Dim, Tensor, ValueInfo } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';

/** A model input as calibration sees it: dim 0 is the batch dim, the rest is one sample's concrete shape. */
export interface InputSpec {
  name: string;
  dtype: DType;
  /** Shape of one sample (the input's dims after dim 0); -1 only while a data folder has yet to fix a dim. */
  sampleShape: number[];
  /** The model fixes the batch dim to this number (e.g. 1); null when it is symbolic. */
  fixedBatch: number | null;
}

/** One batch: a tensor per model input with dims [size, ...sampleShape], and the matching labels if given. */
export interface CalibrationBatch {
  feeds: Record<string, Tensor>;
  size: number;
  /** Index of the first sample of this batch in the whole set. */
  offset: number;
  labels?: Int32Array;
}

export interface CalibrationSource {
  /** One line for reports: where the data came from. */
  description: string;
  sampleCount: number;
  inputs: InputSpec[];
  /** Problems that did not stop the run (e.g. non-finite values in a file), each naming the file. */
  warnings: string[];
  /** Labels for every sample (class ids), when --labels was given. */
  labels?: Int32Array;
  /** Stream the samples in batches of at most `batchSize` (a fixed model batch dim overrides it). */
  batches(batchSize: number): AsyncIterable<CalibrationBatch>;
}

/**
 * Input specs from the graph's inputs, applying `--shape NAME=AxBxC` overrides (whole shape, dim 0 = batch).
 * A symbolic dim other than the batch dim that no override fixes is an error that names the input.
 */
export function inputSpecsFromGraph(inputs: readonly ValueInfo[], overrides: Record<string, number[]> = {},
  /** Leave unknown dims as -1 (a data folder fills them from its first file). */
  allowUnknown = false): InputSpec[] {
  return inputs.map((vi) => {
    const declared: Dim[] | undefined = overrides[vi.name] ?? vi.shape;
    if (!declared || declared.length === 0) {
      throw new QuantLensError('shape',
        `input '${vi.name}' has no known shape with a batch dim; give one with --shape ${vi.name}=1x…`);
    }
    const sampleShape = declared.slice(1).map((d, i) => {
      if (typeof d === 'number' && d > 0) return d;
      if (allowUnknown) return -1;
      throw new QuantLensError('shape',
        `input '${vi.name}' has a symbolic or unknown dim ${i + 1} ('${d}'); fix it with --shape ${vi.name}=${declared.map((x) => (typeof x === 'number' ? x : 'N')).join('x')}`);
    });
    const d0 = declared[0];
    const fixedBatch = overrides[vi.name] ? null : typeof d0 === 'number' && d0 > 0 ? d0 : null;
    return { name: vi.name, dtype: vi.dtype, sampleShape, fixedBatch };
  });
}

/** The batch size actually used: a model with a fixed batch dim takes exactly that many per run. */
export function effectiveBatchSize(inputs: readonly InputSpec[], requested: number): number {
  const fixed = inputs.map((i) => i.fixedBatch).filter((b): b is number => b !== null);
  if (fixed.length > 0) {
    if (fixed.some((b) => b !== fixed[0])) {
      throw new QuantLensError('shape', `model inputs fix different batch sizes (${fixed.join(', ')})`);
    }
    return fixed[0];
  }
  return Math.max(1, Math.floor(requested));
}

/** Elements in one sample of an input. */
export function sampleElements(spec: InputSpec): number {
  return spec.sampleShape.reduce((a, b) => a * b, 1);
}

/** A typed array of `n` elements of the storage type QuantLens uses for `dtype` (see engine/ir TensorData). */
export function allocateFor(dtype: DType, n: number): Exclude<Tensor['data'], string[]> {
  switch (dtype) {
    case 'float32': case 'float16': case 'bfloat16': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'uint64': return new BigUint64Array(n);
    case 'int32': return new Int32Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'int16': return new Int16Array(n);
    case 'uint16': return new Uint16Array(n);
    case 'int8': return new Int8Array(n);
    case 'uint8': case 'bool': return new Uint8Array(n);
    default: throw new QuantLensError('calibration', `inputs of type ${dtype} cannot be calibrated`);
  }
}

/** Whether data of dtype `from` may feed a model input of dtype `to` (converted losslessly enough). */
export function dtypeCompatible(from: DType, to: DType): boolean {
  const isFloat = (d: DType) => d === 'float32' || d === 'float16' || d === 'float64' || d === 'bfloat16';
  const isInt = (d: DType) => /^u?int(8|16|32|64)$/.test(d) || d === 'bool';
  if (isFloat(to)) return isFloat(from) || from === 'uint8';
  if (isInt(to)) return isInt(from);
  return from === to;
}

/** Copy `src` (any numeric typed array) into `dst` at `at`, converting element types. */
export function copyConverted(dst: Exclude<Tensor['data'], string[]>, at: number, src: Exclude<Tensor['data'], string[]>,
  from = 0, count = src.length - from): void {
  const dstBig = dst instanceof BigInt64Array || dst instanceof BigUint64Array;
  const srcBig = src instanceof BigInt64Array || src instanceof BigUint64Array;
  if (dstBig === srcBig) {
    (dst as Float32Array).set((src as Float32Array).subarray(from, from + count), at);
  } else if (dstBig) {
    const d = dst as BigInt64Array;
    for (let i = 0; i < count; i++) d[at + i] = BigInt(Math.trunc(Number((src as Float32Array)[from + i])));
  } else {
    const d = dst as Float32Array;
    for (let i = 0; i < count; i++) d[at + i] = Number((src as BigInt64Array)[from + i]);
  }
}

/** Count NaN/±Inf in floating data (integers are always finite). */
export function countNonFinite(data: Tensor['data']): number {
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return 0;
  let n = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) n++;
  return n;
}
