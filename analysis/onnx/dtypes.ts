// SPDX-License-Identifier: Apache-2.0
/**
 * The ONNX element-type table: TensorProto.DataType codes ↔ the IR's DType names, their stored widths and
 * decoders for the narrow float formats. onnx-proto (ONNX 1.10) predates float8/int4/float4, but data_type
 * and elem_type are plain int32 fields, so codes 17–23 are mapped here.
 */
import type { DType } from '../../engine/ir';

/** code → [dtype, bits per element as stored in raw_data]. */
const CODES: Record<number, [DType, number]> = {
  1: ['float32', 32], 2: ['uint8', 8], 3: ['int8', 8], 4: ['uint16', 16], 5: ['int16', 16], 6: ['int32', 32],
  7: ['int64', 64], 8: ['string', 0], 9: ['bool', 8], 10: ['float16', 16], 11: ['float64', 64], 12: ['uint32', 32],
  13: ['uint64', 64], 14: ['complex64', 64], 15: ['complex128', 128], 16: ['bfloat16', 16],
  17: ['float8e4m3fn', 8], 18: ['float8e4m3fnuz', 8], 19: ['float8e5m2', 8], 20: ['float8e5m2fnuz', 8],
  21: ['uint4', 4], 22: ['int4', 4], 23: ['float4e2m1', 4],
};

const CODE_OF = new Map<DType, number>(Object.entries(CODES).map(([c, [d]]) => [d, Number(c)]));

/** The DType for an ONNX data_type code, or undefined for 0/unknown codes. */
export function dtypeOf(code: number | null | undefined): DType | undefined {
  return code == null ? undefined : CODES[code]?.[0];
}

/** The ONNX data_type code for a DType (for encoders and exporters). */
export function codeOf(dtype: DType): number {
  return CODE_OF.get(dtype) ?? 0;
}

/** Bytes raw_data must hold for n elements (4-bit types pack two per byte); 0 for strings. */
export function rawByteLength(dtype: DType, n: number): number {
  const bits = CODES[codeOf(dtype)]?.[1] ?? 0;
  return bits === 4 ? Math.ceil(n / 2) : (n * bits) / 8;
}

/** Bytes the decoded TensorData takes for n elements (narrow floats widen to float32, 4-bit ints to bytes). */
export function decodedByteLength(dtype: DType, n: number): number {
  switch (dtype) {
    case 'float16': case 'bfloat16': case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2':
    case 'float8e5m2fnuz': case 'float4e2m1': return 4 * n;
    case 'int4': case 'uint4': return n;
    case 'complex64': return 8 * n;
    case 'complex128': return 16 * n;
    case 'string': return 16 * n;
    default: return rawByteLength(dtype, n);
  }
}

/** Narrow float formats that the IR stores decoded as Float32Array. */
export function isNarrowFloat(dtype: DType): boolean {
  return dtype === 'float16' || dtype === 'bfloat16' || dtype.startsWith('float8') || dtype === 'float4e2m1';
}

/** IEEE half → number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** A minifloat decoder: exponent/mantissa widths, bias, and how the format spends its top codes. */
function minifloat(expBits: number, manBits: number, bias: number, special: 'ieee' | 'fn' | 'fnuz' | 'none') {
  return (code: number): number => {
    const signBit = 1 << (expBits + manBits);
    const neg = (code & signBit) !== 0;
    const e = (code >> manBits) & ((1 << expBits) - 1);
    const m = code & ((1 << manBits) - 1);
    const eMax = (1 << expBits) - 1;
    if (special === 'fnuz' && code === signBit) return NaN;
    if (special === 'fn' && e === eMax && m === (1 << manBits) - 1) return NaN;
    if (special === 'ieee' && e === eMax) return m ? NaN : neg ? -Infinity : Infinity;
    const v = e === 0 ? (m / (1 << manBits)) * 2 ** (1 - bias) : (1 + m / (1 << manBits)) * 2 ** (e - bias);
    return neg ? -v : v;
  };
}

function table(size: number, f: (code: number) => number): Float32Array {
  const t = new Float32Array(size);
  for (let i = 0; i < size; i++) t[i] = f(i);
  return t;
}

let luts: Partial<Record<DType, Float32Array>> | undefined;

/** Code → value lookup tables for the 8- and 4-bit float formats (and float16), built once on first use. */
export function decodeTable(dtype: DType): Float32Array | undefined {
  luts ??= {
    float16: table(65536, halfToFloat),
    float8e4m3fn: table(256, minifloat(4, 3, 7, 'fn')),
    float8e4m3fnuz: table(256, minifloat(4, 3, 8, 'fnuz')),
    float8e5m2: table(256, minifloat(5, 2, 15, 'ieee')),
    float8e5m2fnuz: table(256, minifloat(5, 2, 16, 'fnuz')),
    float4e2m1: table(16, minifloat(2, 1, 1, 'none')),
  };
  return luts[dtype];
}
