// SPDX-License-Identifier: Apache-2.0
/**
 * ONNX element types a QDQ export can store codes in, with the opset their DequantizeLinear needs, and the
 * FP8 bit encodings. The onnx-proto schema predates float8/int4, so the TensorProto.DataType numbers
 * (FLOAT8E4M3FN = 17 … INT4 = 22) are written here directly, as in onnx.proto.
 */

export const DT = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT64: 7,
  FLOAT8E4M3FN: 17, FLOAT8E5M2: 19, UINT4: 21, INT4: 22,
} as const;

/** A storage container for quantized codes. */
export interface Container {
  name: 'int4' | 'uint4' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'float8e4m3fn' | 'float8e5m2';
  dataType: number;
  /** Lowest default-domain opset whose DequantizeLinear accepts this type (per tensor). */
  minOpset: number;
  /** Integer range, for integer containers. */
  range?: [number, number];
}

export const INT_CONTAINERS: Container[] = [
  { name: 'int4', dataType: DT.INT4, minOpset: 21, range: [-8, 7] },
  { name: 'uint4', dataType: DT.UINT4, minOpset: 21, range: [0, 15] },
  { name: 'int8', dataType: DT.INT8, minOpset: 10, range: [-128, 127] },
  { name: 'uint8', dataType: DT.UINT8, minOpset: 10, range: [0, 255] },
  { name: 'int16', dataType: DT.INT16, minOpset: 21, range: [-32768, 32767] },
  { name: 'uint16', dataType: DT.UINT16, minOpset: 21, range: [0, 65535] },
];

export const FP8_CONTAINERS: Container[] = [
  { name: 'float8e4m3fn', dataType: DT.FLOAT8E4M3FN, minOpset: 19 },
  { name: 'float8e5m2', dataType: DT.FLOAT8E5M2, minOpset: 19 },
];

interface Fp8Spec { exp: number; man: number; bias: number; max: number; hasInf: boolean }
const FP8: Record<'float8e4m3fn' | 'float8e5m2', Fp8Spec> = {
  float8e4m3fn: { exp: 4, man: 3, bias: 7, max: 448, hasInf: false },
  float8e5m2: { exp: 5, man: 2, bias: 15, max: 57344, hasInf: true },
};

/** Largest finite value of an FP8 container. */
export function fp8Max(name: 'float8e4m3fn' | 'float8e5m2'): number {
  return FP8[name].max;
}

/**
 * Encode a float as FP8 bits, rounding to nearest even and saturating to ±max (ONNX QuantizeLinear's default
 * `saturate=1`). Exact for values already on the grid, which is what the export relies on.
 */
export function encodeFp8(x: number, name: 'float8e4m3fn' | 'float8e5m2'): number {
  const s = FP8[name];
  if (Number.isNaN(x)) return s.hasInf ? 0x7f : 0x7f;
  const sign = x < 0 || Object.is(x, -0) ? 0x80 : 0;
  const a = Math.min(Math.abs(x), s.max);
  if (a === 0) return sign;
  const minNormalExp = 1 - s.bias;
  let e = Math.max(Math.floor(Math.log2(a)), minNormalExp);
  let m = roundHalfEven((a / 2 ** e) * 2 ** s.man); // includes the implicit 1 for normals
  if (m >= 2 ** (s.man + 1)) { m /= 2; e += 1; }
  const normal = m >= 2 ** s.man;
  const expField = normal ? e + s.bias : 0;
  const manField = normal ? m - 2 ** s.man : m;
  return sign | (expField << s.man) | manField;
}

/** Decode FP8 bits to a float (NaN/Inf per the container's rules). */
export function decodeFp8(bits: number, name: 'float8e4m3fn' | 'float8e5m2'): number {
  const s = FP8[name];
  const sign = bits & 0x80 ? -1 : 1;
  const expField = (bits >> s.man) & ((1 << s.exp) - 1);
  const manField = bits & ((1 << s.man) - 1);
  const allOnes = (1 << s.exp) - 1;
  if (s.hasInf && expField === allOnes) return manField === 0 ? sign * Infinity : Number.NaN;
  if (!s.hasInf && expField === allOnes && manField === (1 << s.man) - 1) return Number.NaN;
  if (expField === 0) return sign * manField * 2 ** (1 - s.bias - s.man);
  return sign * (1 + manField / 2 ** s.man) * 2 ** (expField - s.bias);
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Pack integer codes into raw_data bytes for a container (int4/uint4: two per byte, low nibble first). */
export function packCodes(values: ArrayLike<number>, c: Container): Uint8Array {
  const n = values.length;
  switch (c.name) {
    case 'int4':
    case 'uint4': {
      const out = new Uint8Array(Math.ceil(n / 2));
      for (let i = 0; i < n; i++) out[i >> 1] |= (values[i] & 0x0f) << ((i & 1) * 4);
      return out;
    }
    case 'int8':
    case 'uint8':
    case 'float8e4m3fn':
    case 'float8e5m2': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = values[i] & 0xff;
      return out;
    }
    case 'int16':
    case 'uint16': {
      const out = new Uint8Array(n * 2);
      const view = new DataView(out.buffer);
      for (let i = 0; i < n; i++) view.setUint16(i * 2, values[i] & 0xffff, true);
      return out;
    }
  }
}
