// SPDX-License-Identifier: Apache-2.0
/**
 * A NumPy `.npy` reader (format versions 1, 2 and 3; C order only). Calibration data and labels arrive as
 * `.npy` files written by numpy.save; we read the header first so a folder can be checked against the model
 * before any array data is loaded.
 */
import { openSync, readSync, closeSync, fstatSync, readFileSync } from 'node:fs';
import type { DType, Tensor } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';

/** What the header of a `.npy` file declares. */
export interface NpyHeader {
  dtype: DType;
  shape: number[];
  /** Byte offset of the array data. */
  dataOffset: number;
  /** Bytes per element as stored. */
  itemSize: number;
  bigEndian: boolean;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** numpy dtype character codes → our dtypes (kind + item size). */
const DESCR: Record<string, { dtype: DType; itemSize: number }> = {
  f4: { dtype: 'float32', itemSize: 4 },
  f2: { dtype: 'float16', itemSize: 2 },
  f8: { dtype: 'float64', itemSize: 8 },
  i8: { dtype: 'int64', itemSize: 8 },
  i4: { dtype: 'int32', itemSize: 4 },
  i2: { dtype: 'int16', itemSize: 2 },
  i1: { dtype: 'int8', itemSize: 1 },
  u8: { dtype: 'uint64', itemSize: 8 },
  u4: { dtype: 'uint32', itemSize: 4 },
  u2: { dtype: 'uint16', itemSize: 2 },
  u1: { dtype: 'uint8', itemSize: 1 },
  b1: { dtype: 'bool', itemSize: 1 },
};

/** Parse the header at the start of `head` (which must hold at least the whole header). */
export function parseNpyHeader(head: Uint8Array, file: string): NpyHeader {
  const bad = (why: string) => new QuantLensError('calibration', `${file}: not a readable .npy file (${why})`, file);
  if (head.length < 10 || MAGIC.some((b, i) => head[i] !== b)) throw bad('missing \\x93NUMPY magic');
  const major = head[6];
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = head[8] | (head[9] << 8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (head.length < 12) throw bad('truncated header');
    headerLen = (head[8] | (head[9] << 8) | (head[10] << 16)) + head[11] * 2 ** 24;
    start = 12;
  } else {
    throw bad(`unsupported format version ${major}`);
  }
  if (start + headerLen > head.length) throw bad('truncated header');
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(head.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw bad('malformed header dictionary');
  if (fortran === 'True') {
    throw new QuantLensError('calibration',
      `${file}: Fortran-order (column-major) arrays are not supported; save it with np.ascontiguousarray first`, file);
  }
  const order = descr[0];
  const code = descr.slice(1);
  const known = DESCR[code] ?? (descr === '|b1' ? DESCR.b1 : undefined);
  if (!known || !'<>|='.includes(order)) {
    throw new QuantLensError('calibration',
      `${file}: unsupported dtype '${descr}' (use float32, float16, float64, int64, int32, int16, int8, uint8 or bool)`, file);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const n = Number(s.replace(/L$/, ''));
    if (!Number.isSafeInteger(n) || n < 0) throw bad(`bad dimension '${s}'`);
    return n;
  });
  return { dtype: known.dtype, shape, dataOffset: start + headerLen, itemSize: known.itemSize, bigEndian: order === '>' };
}

/** Read only the header of a `.npy` file (a few hundred bytes), so folders can be validated cheaply. */
export function readNpyHeader(file: string): NpyHeader & { fileSize: number } {
  let fd: number;
  try { fd = openSync(file, 'r'); } catch (e) {
    throw new QuantLensError('io', `${file}: cannot open (${(e as Error).message})`, file);
  }
  try {
    const fileSize = fstatSync(fd).size;
    const buf = new Uint8Array(Math.min(fileSize, 65536 + 12));
    readSync(fd, buf, 0, buf.length, 0);
    const h = parseNpyHeader(buf, file);
    checkSize(h, fileSize, file);
    return { ...h, fileSize };
  } finally {
    closeSync(fd);
  }
}

function checkSize(h: NpyHeader, fileSize: number, file: string): void {
  const count = h.shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count * h.itemSize)) {
    throw new QuantLensError('limit', `${file}: declared shape [${h.shape.join(', ')}] is too large`, file);
  }
  if (h.dataOffset + count * h.itemSize > fileSize) {
    throw new QuantLensError('calibration',
      `${file}: truncated: shape [${h.shape.join(', ')}] needs ${count * h.itemSize} data bytes, file holds ${fileSize - h.dataOffset}`, file);
  }
}

/** Parse a whole `.npy` buffer into a Tensor (float16 decoded to Float32Array, bool as 0/1 bytes). */
export function parseNpy(bytes: Uint8Array, file: string): Tensor {
  const h = parseNpyHeader(bytes, file);
  checkSize(h, bytes.length, file);
  const count = h.shape.reduce((a, b) => a * b, 1);
  // copy into an aligned buffer, swapping bytes for big-endian files
  const raw = new Uint8Array(count * h.itemSize);
  raw.set(bytes.subarray(h.dataOffset, h.dataOffset + raw.length));
  if (h.bigEndian && h.itemSize > 1) {
    for (let i = 0; i < raw.length; i += h.itemSize) raw.subarray(i, i + h.itemSize).reverse();
  }
  const buf = raw.buffer;
  const data = ((): Tensor['data'] => {
    switch (h.dtype) {
      case 'float32': return new Float32Array(buf);
      case 'float64': return new Float64Array(buf);
      case 'float16': return halfToFloat(new Uint16Array(buf));
      case 'int64': return new BigInt64Array(buf);
      case 'uint64': return new BigUint64Array(buf);
      case 'int32': return new Int32Array(buf);
      case 'uint32': return new Uint32Array(buf);
      case 'int16': return new Int16Array(buf);
      case 'uint16': return new Uint16Array(buf);
      case 'int8': return new Int8Array(buf);
      case 'uint8': return new Uint8Array(buf);
      case 'bool': return raw.map((b) => (b ? 1 : 0));
      default: throw new QuantLensError('calibration', `${file}: unsupported dtype ${h.dtype}`, file);
    }
  })();
  return { dtype: h.dtype, dims: h.shape, data };
}

/** Read and parse a `.npy` file. */
export function readNpy(file: string): Tensor {
  let bytes: Uint8Array;
  try { bytes = readFileSync(file); } catch (e) {
    throw new QuantLensError('io', `${file}: cannot read (${(e as Error).message})`, file);
  }
  return parseNpy(bytes, file);
}

/** IEEE half → float32 (handles subnormals, Inf and NaN). */
export function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const x = h[i];
    const sign = x & 0x8000 ? -1 : 1;
    const exp = (x >> 10) & 0x1f;
    const frac = x & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** Serialise a Tensor as a version-1 `.npy` (used by tests and fixture scripts; C order, little-endian). */
export function encodeNpy(t: Tensor): Uint8Array {
  const codes: Partial<Record<DType, string>> = {
    float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4', int16: '<i2', int8: '|i1', uint8: '|u1', bool: '|b1',
  };
  const descr = codes[t.dtype];
  if (!descr || Array.isArray(t.data)) throw new QuantLensError('format', `encodeNpy: dtype ${t.dtype} not supported`);
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const data = t.data as Exclude<Tensor['data'], string[]>;
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(10 + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1; out[7] = 0;
  out[8] = header.length & 0xff; out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}
