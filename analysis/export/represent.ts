// SPDX-License-Identifier: Apache-2.0
/**
 * How a quantized tensor (engine record: codes + scales in DequantizeLinear layout) can be written as ONNX
 * DequantizeLinear input. Integer formats go into the smallest integer container that holds every code; table
 * formats whose levels are (a common multiple of) integers go into an integer container too (ternary, binary),
 * and those whose levels lie on a scaled FP8 grid go into float8 (FP8, and FP6/FP4 which are sub-grids of E4M3).
 * Anything else cannot be represented exactly and is left to the dequantized-FP32 fallback.
 */
import type { QuantParams } from '../../engine/quant-types';
import { FP8_CONTAINERS, INT_CONTAINERS, decodeFp8, encodeFp8, fp8Max, type Container } from './onnxTypes';

/** Codes re-expressed for an ONNX container: value = (element − zeroPoint) · scale (float8: element · scale). */
export interface OnnxEncoding {
  container: Container;
  /** Integer values, or FP8 bit patterns, one per tensor element. */
  elements: Int32Array;
  scales: Float32Array;
  /** Same length as scales, in the container's domain (float8: bit patterns, all 0). */
  zeroPoints: Int32Array;
  /** Default-domain opset DequantizeLinear needs for this encoding, layout included. */
  minOpset: number;
  /** Why the container differs from the format's own width, for the export notes. */
  note?: string;
}

/** Choose a container for codes under the given opset ceiling, or say why none fits. */
export function representForOnnx(p: QuantParams, codes: Int32Array, maxOpset: number): OnnxEncoding | { reason: string } {
  const layoutOpset = p.layout.kind === 'tensor' ? 10 : p.layout.kind === 'channel' ? 13 : 21;
  if (layoutOpset > maxOpset) return { reason: `${p.layout.kind} scales need opset ${layoutOpset}, the model allows ${maxOpset}` };
  const zps = p.zeroPoints ?? new Int32Array(p.scales.length);
  const fits = (c: Container, lo: number, hi: number): boolean =>
    c.range !== undefined && lo >= c.range[0] && hi <= c.range[1] && Math.max(c.minOpset, layoutOpset) <= maxOpset;
  const intEncoding = (elements: Int32Array, scales: Float32Array, zp: Int32Array, preferSigned: boolean, note?: string): OnnxEncoding | undefined => {
    let lo = Infinity, hi = -Infinity;
    for (const v of elements) { if (v < lo) lo = v; if (v > hi) hi = v; }
    for (const v of zp) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (elements.length === 0) lo = hi = 0;
    const order = [...INT_CONTAINERS].sort((a, b) => bitsOf(a) - bitsOf(b) || (isSigned(a) === preferSigned ? -1 : 1) - (isSigned(b) === preferSigned ? -1 : 1));
    const c = order.find((k) => fits(k, lo, hi));
    if (!c) return undefined;
    const widened = bitsOf(c) > p.bits ? `${p.bits}-bit codes stored in ${c.name}` : undefined;
    return { container: c, elements, scales, zeroPoints: zp, minOpset: Math.max(c.minOpset, layoutOpset), ...(note ?? widened ? { note: note ?? widened } : {}) };
  };

  if (p.kind === 'int') {
    return intEncoding(codes, p.scales, zps, p.signed) ?? { reason: `no integer container for ${p.bits}-bit codes at opset ${maxOpset}` };
  }
  const table = p.table;
  if (!table) return { reason: `table format ${p.format} has no table` };
  const off = p.tableOffset ?? 0;
  // NaN/Inf codes (FP8's special patterns) are never produced by quantization: only finite levels must fit
  const levels = Array.from(table).filter((v) => Number.isFinite(v));
  const maxAbs = levels.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const zeros = new Int32Array(p.scales.length);

  // levels that are integer multiples of their smallest magnitude (ternary {−1,0,1}, binary {±1}, shifts…)
  const minPos = levels.reduce((m, v) => (v !== 0 && Math.abs(v) < m ? Math.abs(v) : m), Infinity);
  for (const f of [1, Number.isFinite(minPos) ? 1 / minPos : 1]) {
    if (!levels.every((v) => Math.abs(v * f - Math.round(v * f)) <= 1e-6 * Math.max(1, Math.abs(v * f)))) continue;
    const elements = Int32Array.from(codes, (c) => Math.round(table[c - off] * f));
    const enc = intEncoding(elements, divide(p.scales, f), zeros, true, `${p.format} levels stored as integer codes`);
    if (enc) return enc;
  }
  // levels on a (power-of-two or max-aligned) scaled FP8 grid
  for (const c of FP8_CONTAINERS) {
    if (Math.max(c.minOpset, layoutOpset) > maxOpset || maxAbs === 0) continue;
    const name = c.name as 'float8e4m3fn' | 'float8e5m2';
    const candidates = [1, 2 ** Math.floor(Math.log2(fp8Max(name) / maxAbs)), fp8Max(name) / maxAbs];
    for (const f of candidates) {
      const exact = levels.every((v) => {
        const x = v * f;
        return Math.abs(x) <= fp8Max(name) && Math.abs(decodeFp8(encodeFp8(x, name), name) - x) <= 1e-6 * Math.max(Math.abs(x), 1e-30);
      });
      if (!exact) continue;
      const elements = Int32Array.from(codes, (code) => encodeFp8(table[code - off] * f, name));
      const note = p.format.startsWith('fp8') ? undefined : `${p.format} levels stored in ${c.name}`;
      return { container: c, elements, scales: divide(p.scales, f), zeroPoints: zeros, minOpset: Math.max(c.minOpset, layoutOpset), ...(note ? { note } : {}) };
    }
  }
  return { reason: `${p.format} levels are not on an integer or FP8 grid` };
}

/** Flat element index → index into the scales array, following DequantizeLinear's layout rules. */
export function scaleIndexer(p: QuantParams, dims: number[]): (i: number) => number {
  const layout = p.layout;
  if (layout.kind === 'tensor') return () => 0;
  const axis = layout.axis < 0 ? layout.axis + dims.length : layout.axis;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const d = dims[axis];
  if (layout.kind === 'channel') return (i) => Math.floor(i / inner) % d;
  const nb = Math.ceil(d / layout.blockSize);
  return (i) => {
    const outer = Math.floor(i / (inner * d));
    const a = Math.floor(i / inner) % d;
    return (outer * nb + Math.floor(a / layout.blockSize)) * inner + (i % inner);
  };
}

function divide(s: Float32Array, f: number): Float32Array {
  return f === 1 ? s : Float32Array.from(s, (v) => v / f);
}

function bitsOf(c: Container): number {
  return c.name.endsWith('4') ? 4 : c.name.endsWith('16') ? 16 : 8;
}

function isSigned(c: Container): boolean {
  return !c.name.startsWith('u');
}
