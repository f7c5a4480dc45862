// SPDX-License-Identifier: Apache-2.0
/**
 * The FP32 reference: onnxruntime-node running a copy of the model with chosen intermediate tensors exposed
 * as outputs. Converts between the engine's Tensor and ort.Tensor and keeps the time spent inside onnxruntime,
 * so reports can say how much of a run was onnxruntime and how much was ours.
 */
import * as ort from 'onnxruntime-node';
import type { DType, Tensor } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';
import { exposeOutputs } from './expose';

const ORT_TYPES: Partial<Record<DType, ort.Tensor.Type>> = {
  float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', int8: 'int8', uint8: 'uint8',
  int16: 'int16', uint16: 'uint16', uint32: 'uint32', uint64: 'uint64', bool: 'bool', float16: 'float16',
};

/** Our Tensor → ort.Tensor (float16 inputs are fed as float32 only when the model says float32). */
export function toOrt(t: Tensor): ort.Tensor {
  const type = ORT_TYPES[t.dtype];
  if (!type || Array.isArray(t.data)) throw new QuantLensError('calibration', `cannot feed a ${t.dtype} tensor to onnxruntime`);
  if (t.dtype === 'float16') {
    throw new QuantLensError('calibration', 'float16 model inputs are not supported by the FP32 reference run');
  }
  return new ort.Tensor(type, t.data as ort.Tensor.DataType, t.dims);
}

/** ort.Tensor → our Tensor (float32/int data shared, not copied). */
export function fromOrt(t: ort.Tensor): Tensor {
  const dtype = (t.type === 'bool' ? 'bool' : t.type) as DType;
  return { dtype, dims: [...t.dims], data: t.data as Tensor['data'] };
}

export class OrtReference {
  /** Milliseconds spent inside onnxruntime (session creation + runs). */
  ortMs = 0;
  private constructor(private readonly session: ort.InferenceSession, readonly outputNames: readonly string[],
    readonly modelOutputs: readonly string[]) {}

  /** Create a session on a copy of `modelBytes` that also outputs `expose`. */
  static async create(modelBytes: Uint8Array, expose: readonly string[], file: string,
    modelOutputs: readonly string[]): Promise<OrtReference> {
    const t0 = performance.now();
    const bytes = expose.length ? exposeOutputs(modelBytes, expose, file) : modelBytes;
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        graphOptimizationLevel: 'disabled', // keep every exposed tensor exactly as the graph defines it
        intraOpNumThreads: 1, interOpNumThreads: 1,
      });
    } catch (e) {
      throw new QuantLensError('model-format', `${file}: onnxruntime cannot load the model (${(e as Error).message.split('\n')[0]})`, file);
    }
    const ref = new OrtReference(session, session.outputNames, modelOutputs);
    ref.ortMs += performance.now() - t0;
    return ref;
  }

  /** Run on `feeds`; returns the requested outputs (all by default) as our Tensors. */
  async run(feeds: Record<string, Tensor>, fetch: readonly string[] = this.outputNames): Promise<Map<string, Tensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
    const t0 = performance.now();
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(ortFeeds, [...fetch]);
    } catch (e) {
      throw new QuantLensError('calibration', `onnxruntime failed on the calibration batch (${(e as Error).message.split('\n')[0]})`);
    }
    this.ortMs += performance.now() - t0;
    const res = new Map<string, Tensor>();
    for (const name of fetch) {
      const v = out[name];
      if (v) res.set(name, fromOrt(v as ort.Tensor));
    }
    return res;
  }

  async dispose(): Promise<void> { await this.session.release(); }
}
