// SPDX-License-Identifier: Apache-2.0
/**
 * The model loader: an .onnx file (or its bytes) → the engine's graph IR, decoded with onnx-proto
 * (protobufjs with the ONNX schema). Every problem a file can have becomes a QuantLensError naming the file;
 * sizes are checked before allocation (see limits.ts), external data never leaves the model's folder.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import type { Model, Tensor } from '../../engine/ir';
import { QuantLensError, isQuantLensError } from '../../engine/errors';
import { GraphConverter, normaliseDomain } from './graph';
import { formatBytes, resolveLimits, type LoadLimits } from './limits';
import { decodeTensor, toNumber, type DecodeContext } from './tensor';

export { isLazyTensor } from './tensor';

export interface LoadOptions {
  /** Overrides of the resource caps (bytes / depth). */
  limits?: Partial<LoadLimits>;
  /**
   * 'eager' (default) reads external data at load time. 'lazy' validates it at load time but reads a
   * tensor's bytes on each access of its `data`, so weights-only statistics of models larger than memory
   * stream one tensor at a time (see isLazyTensor).
   */
  externalData?: 'eager' | 'lazy';
}

export interface LoadedModel {
  model: Model;
  /** The path as given. */
  file: string;
  /** sha256 of the .onnx bytes (configs pin the model by it). */
  sha256: string;
  sizeBytes: number;
  /** Things the user should know that did not stop loading. */
  warnings: string[];
  /** Bytes and count of tensors stored as external data. */
  external: { bytes: number; tensors: number };
}

/** A tensor read from a standalone TensorProto file, with the name it carries. */
export interface NamedTensor extends Tensor {
  name: string;
}

/** Reads a file with the size cap checked first; missing/unreadable files are 'io' errors. */
function readCapped(file: string, limits: LoadLimits): Buffer {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new QuantLensError('io', `${file}: not a regular file`, file);
    size = st.size;
  } catch (e) {
    if (isQuantLensError(e)) throw e;
    throw new QuantLensError('io', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  if (size > limits.maxFileBytes) {
    throw new QuantLensError('limit',
      `${file}: is ${formatBytes(size)}, over the ${formatBytes(limits.maxFileBytes)} cap for one file (store large weights as external data)`, file);
  }
  try {
    return readFileSync(file);
  } catch (e) {
    throw new QuantLensError('io', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
}

/** protobufjs throws plain Errors (and V8 RangeErrors on absurd nesting); make them typed. */
function decodeProto<T>(decode: () => T, file: string, what: string): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new QuantLensError('limit', `${file}: ${what} is nested too deeply to decode`, file);
    }
    throw new QuantLensError('model-format', `${file}: not a valid ${what} (${(e as Error).message})`, file);
  }
}

/** Loads an .onnx file. */
export async function loadModel(file: string, opts?: LoadOptions): Promise<LoadedModel> {
  const limits = resolveLimits(opts?.limits);
  const bytes = readCapped(file, limits);
  return loadModelBytes(bytes, file, opts);
}

/** Loads a model from bytes already in memory; `file` names it in messages and locates external data. */
export async function loadModelBytes(bytes: Uint8Array, file: string, opts?: LoadOptions): Promise<LoadedModel> {
  return loadModelBytesSync(bytes, file, opts);
}

/** Synchronous core of loadModelBytes (for workers and the fuzzer's per-input timing). */
export function loadModelBytesSync(bytes: Uint8Array, file: string, opts?: LoadOptions): LoadedModel {
  const limits = resolveLimits(opts?.limits);
  if (bytes.length === 0) throw new QuantLensError('model-format', `${file}: the file is empty, not an ONNX model`, file);
  if (bytes.length > limits.maxFileBytes) {
    throw new QuantLensError('limit', `${file}: is ${formatBytes(bytes.length)}, over the ${formatBytes(limits.maxFileBytes)} cap for one file`, file);
  }
  const proto = decodeProto(() => onnx.ModelProto.decode(bytes), file, 'ONNX model (protobuf decoding failed)');
  if (!proto.graph || !Object.prototype.hasOwnProperty.call(proto, 'graph')) {
    throw new QuantLensError('model-format', `${file}: decodes as protobuf but has no graph, so it is not an ONNX model (truncated or another format?)`, file);
  }
  const warnings: string[] = [];
  const external = { bytes: 0, tensors: 0 };
  const ctx: DecodeContext = {
    file, baseDir: path.dirname(path.resolve(file)), limits, budget: { used: 0 }, warnings, lazyExternal: opts?.externalData === 'lazy', external,
  };
  const opsets: Record<string, number> = {};
  for (const o of proto.opsetImport ?? []) opsets[normaliseDomain(o.domain)] = toNumber(o.version as number);
  const metadata: Record<string, string> = {};
  for (const kv of proto.metadataProps ?? []) metadata[kv.key ?? ''] = kv.value ?? '';
  let graph;
  try {
    graph = new GraphConverter(ctx).convert(proto.graph, 0, new Set(), proto.graph.name || 'main');
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new QuantLensError('limit', `${file}: the graph is nested too deeply to load`, file);
    }
    throw e;
  }
  const model: Model = {
    irVersion: toNumber(proto.irVersion as number),
    opsets,
    producerName: proto.producerName ?? '',
    producerVersion: proto.producerVersion ?? '',
    domain: proto.domain ?? '',
    modelVersion: toNumber(proto.modelVersion as number),
    doc: proto.docString ?? '',
    metadata,
    graph,
  };
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { model, file, sha256, sizeBytes: bytes.length, warnings, external };
}

/** Decodes a serialized TensorProto (bytes or an already decoded proto); `file` names it in messages. */
export function decodeTensorProto(src: Uint8Array | onnx.ITensorProto, file: string, opts?: LoadOptions): NamedTensor {
  const limits = resolveLimits(opts?.limits);
  let proto: onnx.ITensorProto;
  if (src instanceof Uint8Array) {
    if (src.length === 0) throw new QuantLensError('model-format', `${file}: the file is empty, not a TensorProto`, file);
    proto = decodeProto(() => onnx.TensorProto.decode(src), file, 'TensorProto');
  } else {
    proto = src;
  }
  const ctx: DecodeContext = { file, baseDir: path.dirname(path.resolve(file)), limits, budget: { used: 0 }, warnings: [] };
  const name = proto.name ?? '';
  const tensor = decodeTensor(proto, ctx, name ? `tensor '${name}'` : 'tensor');
  return { ...tensor, name };
}

/** Reads a `*.pb` TensorProto file (the ONNX test-data format). */
export function readTensorFile(file: string, opts?: LoadOptions): NamedTensor {
  return decodeTensorProto(readCapped(file, resolveLimits(opts?.limits)), file, opts);
}
