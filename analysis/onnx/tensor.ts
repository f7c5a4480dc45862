// SPDX-License-Identifier: Apache-2.0
/**
 * TensorProto → IR Tensor. Sizes are validated from the declared dims BEFORE anything is allocated (dim
 * product ≤ 2^53, decoded bytes ≤ the caps, raw_data length = what dims × type need); raw_data of aligned
 * types becomes a view on the file buffer rather than a copy.
 */
import type { onnx } from 'onnx-proto';
import type { DType, Tensor, TensorData } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';
import { decodeTable, decodedByteLength, dtypeOf, rawByteLength } from './dtypes';
import { checkExternalWindow, parseExternalRef, readExternalData } from './externalData';
import { formatBytes, type LoadLimits } from './limits';

/** What decoding needs to know besides the proto: where it came from and how much it may allocate. */
export interface DecodeContext {
  file: string;
  /** Folder that external data must stay inside. */
  baseDir: string;
  limits: LoadLimits;
  /** Decoded bytes so far for this model (checked against limits.maxTotalBytes). */
  budget: { used: number };
  warnings: string[];
  /** Leave external data on disk and read it on each access of `data` (streaming statistics of huge models). */
  lazyExternal?: boolean;
  /** Total bytes of external data referenced so far. */
  external?: { bytes: number; tensors: number };
}

const lazyTensors = new WeakSet<Tensor>();

/** True for a tensor whose `data` is read from its external file on every access (see LoadOptions.externalData). */
export function isLazyTensor(t: Tensor): boolean {
  return lazyTensors.has(t);
}

type Int64Like = number | { low: number; high: number; unsigned?: boolean; toNumber(): number } | null | undefined;

const TWO63 = 2 ** 63;

/** int64 (number or protobufjs Long) → number, clamped to ±2^63. */
export function toNumber(v: Int64Like): number {
  if (v == null) return 0;
  const n = typeof v === 'number' ? v : v.toNumber();
  return Math.max(-TWO63, Math.min(TWO63, n));
}

function toBigInt(v: Int64Like, unsigned: boolean): bigint {
  if (v == null) return 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  const big = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return unsigned ? big : BigInt.asIntN(64, big);
}

/** Validated dims and element count; a negative, fractional or overflowing dim is a typed error. */
export function checkedDims(raw: Int64Like[] | null | undefined, file: string, what: string): { dims: number[]; count: number } {
  const dims: number[] = [];
  let count = 1;
  for (const d of raw ?? []) {
    const v = toNumber(d);
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new QuantLensError('model-format', `${file}: ${what} has an invalid dimension ${String(v)}`, file);
    }
    dims.push(v);
    count *= v;
    if (!Number.isSafeInteger(count) && !dims.includes(0)) {
      throw new QuantLensError('limit', `${file}: ${what} has dims [${(raw ?? []).map((x) => toNumber(x)).join(', ')}] whose product overflows 2^53`, file);
    }
  }
  return { dims, count: dims.includes(0) ? 0 : count };
}

/** Typed array over `raw` without copying when aligned; copies once otherwise (protobuf gives no alignment). */
function view<T extends ArrayBufferView>(
  raw: Uint8Array, width: number, n: number, C: { new (b: ArrayBuffer, o: number, l: number): T; new (l: number): T },
): T {
  if (raw.byteOffset % width === 0) return new C(raw.buffer as ArrayBuffer, raw.byteOffset, n);
  const out = new C(n);
  new Uint8Array(out.buffer as ArrayBuffer).set(raw.subarray(0, n * width));
  return out;
}

function fromRaw(dtype: DType, raw: Uint8Array, n: number): TensorData {
  switch (dtype) {
    case 'float32': return view(raw, 4, n, Float32Array);
    case 'float64': return view(raw, 8, n, Float64Array);
    case 'complex64': return view(raw, 4, 2 * n, Float32Array);
    case 'complex128': return view(raw, 8, 2 * n, Float64Array);
    case 'int32': return view(raw, 4, n, Int32Array);
    case 'uint32': return view(raw, 4, n, Uint32Array);
    case 'int16': return view(raw, 2, n, Int16Array);
    case 'uint16': return view(raw, 2, n, Uint16Array);
    case 'int64': return view(raw, 8, n, BigInt64Array);
    case 'uint64': return view(raw, 8, n, BigUint64Array);
    case 'int8': return new Int8Array(raw.buffer, raw.byteOffset, n);
    case 'uint8': case 'bool': return raw.subarray(0, n);
    case 'float16': {
      const lut = decodeTable('float16')!;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = lut[raw[2 * i] | (raw[2 * i + 1] << 8)];
      return out;
    }
    case 'bfloat16': {
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = ((raw[2 * i] | (raw[2 * i + 1] << 8)) << 16) >>> 0;
      return new Float32Array(bits.buffer);
    }
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz': {
      const lut = decodeTable(dtype)!;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = lut[raw[i]];
      return out;
    }
    case 'int4': case 'uint4': case 'float4e2m1': return unpackNibbles(dtype, (i) => raw[i], n);
    default: throw new Error(`unreachable dtype ${dtype}`);
  }
}

/** 4-bit types pack two elements per byte, low nibble first. */
function unpackNibbles(dtype: DType, byteAt: (i: number) => number, n: number): TensorData {
  const nib = (i: number) => (byteAt(i >> 1) >> ((i & 1) * 4)) & 0xf;
  if (dtype === 'uint4') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = nib(i);
    return out;
  }
  if (dtype === 'int4') {
    const out = new Int8Array(n);
    for (let i = 0; i < n; i++) out[i] = (nib(i) << 28) >> 28;
    return out;
  }
  const lut = decodeTable('float4e2m1')!;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lut[nib(i)];
  return out;
}

/** The typed repeated field a dtype uses when raw_data is absent, and how many entries n elements need. */
function fromTypedFields(dtype: DType, p: onnx.ITensorProto, n: number, fail: (got: number, need: number, field: string) => never): TensorData {
  const need = (arr: ArrayLike<unknown> | null | undefined, count: number, field: string) => {
    const got = arr?.length ?? 0;
    if (got !== count) fail(got, count, field);
    return arr!;
  };
  switch (dtype) {
    case 'float32': return Float32Array.from(need(p.floatData, n, 'float_data') as number[]);
    case 'complex64': return Float32Array.from(need(p.floatData, 2 * n, 'float_data') as number[]);
    case 'float64': return Float64Array.from(need(p.doubleData, n, 'double_data') as number[]);
    case 'complex128': return Float64Array.from(need(p.doubleData, 2 * n, 'double_data') as number[]);
    case 'int32': return Int32Array.from(need(p.int32Data, n, 'int32_data') as number[]);
    case 'int16': return Int16Array.from(need(p.int32Data, n, 'int32_data') as number[]);
    case 'uint16': return Uint16Array.from(need(p.int32Data, n, 'int32_data') as number[]);
    case 'int8': return Int8Array.from(need(p.int32Data, n, 'int32_data') as number[]);
    case 'uint8': return Uint8Array.from(need(p.int32Data, n, 'int32_data') as number[]);
    case 'bool': return Uint8Array.from(need(p.int32Data, n, 'int32_data') as number[], (v) => (v ? 1 : 0));
    case 'float16': {
      const lut = decodeTable('float16')!;
      return Float32Array.from(need(p.int32Data, n, 'int32_data') as number[], (v) => lut[v & 0xffff]);
    }
    case 'bfloat16': {
      const src = need(p.int32Data, n, 'int32_data') as number[];
      return new Float32Array(Uint32Array.from(src, (v) => ((v & 0xffff) << 16) >>> 0).buffer);
    }
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz': {
      const lut = decodeTable(dtype)!;
      return Float32Array.from(need(p.int32Data, n, 'int32_data') as number[], (v) => lut[v & 0xff]);
    }
    case 'int4': case 'uint4': case 'float4e2m1': {
      const src = need(p.int32Data, Math.ceil(n / 2), 'int32_data') as number[];
      return unpackNibbles(dtype, (i) => src[i] & 0xff, n);
    }
    case 'int64': return BigInt64Array.from(need(p.int64Data, n, 'int64_data') as Int64Like[], (v) => toBigInt(v, false));
    case 'uint32': return Uint32Array.from(need(p.uint64Data, n, 'uint64_data') as Int64Like[], (v) => toNumber(v));
    case 'uint64': return BigUint64Array.from(need(p.uint64Data, n, 'uint64_data') as Int64Like[], (v) => toBigInt(v, true));
    case 'string': {
      const dec = new TextDecoder();
      return (need(p.stringData, n, 'string_data') as Uint8Array[]).map((b) => dec.decode(b));
    }
    default: throw new Error(`unreachable dtype ${dtype}`);
  }
}

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Decodes one TensorProto; `what` names it in messages (e.g. "initializer 'conv1.weight'"). */
export function decodeTensor(p: onnx.ITensorProto, ctx: DecodeContext, what: string): Tensor {
  const { file, limits } = ctx;
  const dtype = dtypeOf(p.dataType);
  if (!dtype) throw new QuantLensError('model-format', `${file}: ${what} has unknown data type ${p.dataType ?? 0}`, file);
  const { dims, count: n } = checkedDims(p.dims as Int64Like[], file, what);
  const bytes = decodedByteLength(dtype, n);
  if (bytes > limits.maxTensorBytes) {
    throw new QuantLensError('limit',
      `${file}: ${what} [${dims.join('x')}] ${dtype} needs ${formatBytes(bytes)}, over the ${formatBytes(limits.maxTensorBytes)} per-tensor cap`, file);
  }
  if (p.segment && hasOwn(p, 'segment')) {
    throw new QuantLensError('model-format', `${file}: ${what} is a segment of a larger tensor, which QuantLens does not support`, file);
  }
  const expectRaw = rawByteLength(dtype, n);
  const external = p.dataLocation === 1;
  if (external && dtype === 'string') throw new QuantLensError('model-format', `${file}: ${what} is a string tensor stored externally`, file);
  if (external && ctx.lazyExternal) {
    // validated now (location inside the folder, window inside the file), read only when `data` is used;
    // such tensors are streamed one at a time, so they do not count against the resident-memory cap
    const ref = parseExternalRef(p.externalData, file, what);
    checkExternalWindow(ctx.baseDir, ref, expectRaw, file, what);
    if (ctx.external) { ctx.external.bytes += expectRaw; ctx.external.tensors++; }
    const baseDir = ctx.baseDir;
    const t = { dtype, dims } as Tensor;
    Object.defineProperty(t, 'data', { enumerable: true, get: () => fromRaw(dtype, readExternalData(baseDir, ref, expectRaw, file, what), n) });
    lazyTensors.add(t);
    return t;
  }
  if (ctx.budget.used + bytes > limits.maxTotalBytes) {
    throw new QuantLensError('limit',
      `${file}: ${what} would bring the model's tensors to ${formatBytes(ctx.budget.used + bytes)}, over the ${formatBytes(limits.maxTotalBytes)} memory cap`, file);
  }
  ctx.budget.used += bytes;
  let raw: Uint8Array | undefined;
  if (external) {
    raw = readExternalData(ctx.baseDir, parseExternalRef(p.externalData, file, what), expectRaw, file, what);
    if (ctx.external) { ctx.external.bytes += expectRaw; ctx.external.tensors++; }
  } else if (p.rawData && p.rawData.length > 0) {
    raw = p.rawData;
  }
  if (raw) {
    if (dtype === 'string') throw new QuantLensError('model-format', `${file}: ${what} is a string tensor with raw_data`, file);
    if (raw.length !== expectRaw) {
      throw new QuantLensError('model-format',
        `${file}: ${what} declares [${dims.join('x')}] ${dtype} (${expectRaw} bytes) but its data holds ${raw.length} bytes`, file);
    }
    return { dtype, dims, data: fromRaw(dtype, raw, n) };
  }
  const data = fromTypedFields(dtype, p, n, (got, need, field) => {
    throw new QuantLensError('model-format',
      `${file}: ${what} declares [${dims.join('x')}] ${dtype} (${need} values) but ${field} holds ${got}`, file);
  });
  return { dtype, dims, data };
}

/** A sparse tensor (values + indices) made dense, for sparse initializers and sparse Constant values. */
export function densifySparse(p: onnx.ISparseTensorProto, ctx: DecodeContext, what: string): Tensor {
  const { file } = ctx;
  if (!p.values) throw new QuantLensError('model-format', `${file}: sparse ${what} has no values`, file);
  const values = decodeTensor(p.values, ctx, what);
  const { dims, count } = checkedDims(p.dims as Int64Like[], file, what);
  const indices = p.indices ? decodeTensor(p.indices, ctx, `${what} indices`) : undefined;
  const nnz = values.dims[0] ?? 0;
  const dense = denseLike(values.data, count, ctx, what);
  const idx = indices ? Array.from(indices.data as ArrayLike<bigint | number>, Number) : [];
  const rank = dims.length;
  const linear = indices?.dims.length === 1;
  const strides = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let k = 0; k < nnz; k++) {
    const at = linear ? idx[k] : strides.reduce((acc, s, j) => acc + s * (idx[k * rank + j] ?? -1), 0);
    if (!(at >= 0 && at < count)) throw new QuantLensError('model-format', `${file}: sparse ${what} has an index out of range`, file);
    (dense as unknown as unknown[])[at] = (values.data as unknown as unknown[])[k];
  }
  return { dtype: values.dtype, dims, data: dense };
}

function denseLike(like: TensorData, n: number, ctx: DecodeContext, what: string): TensorData {
  if (n * 8 > ctx.limits.maxTensorBytes) {
    throw new QuantLensError('limit', `${ctx.file}: sparse ${what} densifies to ${n} elements, over the per-tensor cap`, ctx.file);
  }
  if (Array.isArray(like)) return new Array<string>(n).fill('');
  const C = like.constructor as new (n: number) => TensorData;
  return new C(n);
}
