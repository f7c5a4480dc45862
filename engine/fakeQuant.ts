// SPDX-License-Identifier: Apache-2.0
/**
 * Fake-quant: the fallback for quantized layers that have no integer/LUT/decode-table kernel. Weights are
 * dequantized from their codes (ONNX DequantizeLinear semantics, per tensor / channel / block, 'int' and 'table'
 * kinds); configured activation inputs (and outputs) are quantized then dequantized (round half to even, saturating; 'table'
 * kinds snap to the nearest level); the FP32 op then runs on the result. The same maths backs the engine's
 * QuantizeLinear / DequantizeLinear ops, so QDQ exports run here too.
 */
import { QuantLensError } from './errors';
import type { Node, Tensor } from './ir';
import { elementCount } from './ir';
import type { NodeRunner } from './kernel-api';
import type { ActivationQuant, LayerQuantConfig, QuantLayout, QuantParams, QuantizedWeight } from './quant-types';

/** Round half to even, as QuantizeLinear rounds. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The representable code range of a quantization record. */
export function codeRange(p: Pick<QuantParams, 'bits' | 'signed'>): [number, number] {
  return p.signed ? [-(2 ** (p.bits - 1)), 2 ** (p.bits - 1) - 1] : [0, 2 ** p.bits - 1];
}

/**
 * Index of the scale/zero-point that applies to each element of a tensor of `dims` under `layout`
 * (DequantizeLinear's axis and block_size rules).
 */
export function scaleIndex(dims: readonly number[], layout: QuantLayout, scaleCount: number, what: string): Int32Array {
  const n = elementCount(dims);
  const out = new Int32Array(n);
  if (layout.kind === 'tensor') {
    if (scaleCount !== 1) throw new QuantLensError('config', `${what}: a per-tensor layout needs 1 scale, got ${scaleCount}`);
    return out;
  }
  const axis = layout.axis < 0 ? layout.axis + dims.length : layout.axis;
  if (axis < 0 || axis >= dims.length) throw new QuantLensError('config', `${what}: axis ${layout.axis} is out of range for [${dims}]`);
  const len = dims[axis], inner = elementCount(dims.slice(axis + 1));
  const groups = layout.kind === 'channel' ? len : Math.ceil(len / layout.blockSize);
  const expect = layout.kind === 'channel' ? len : (elementCount(dims) / len) * groups;
  if (scaleCount !== expect) throw new QuantLensError('config', `${what}: expected ${expect} scales for [${dims}], got ${scaleCount}`);
  const block = layout.kind === 'block' ? layout.blockSize : 1;
  for (let i = 0; i < n; i++) {
    const inIdx = i % inner, a = Math.floor(i / inner) % len, outer = Math.floor(i / (inner * len));
    out[i] = layout.kind === 'channel' ? a : (outer * groups + Math.floor(a / block)) * inner + inIdx;
  }
  return out;
}

/** Decodes codes to real values: (code − zp)·scale for 'int', table[code − offset]·scale for 'table'. */
export function dequantizeCodes(codes: ArrayLike<number>, dims: readonly number[], p: QuantParams, what: string): Float32Array {
  const si = scaleIndex(dims, p.layout, p.scales.length, what);
  const out = new Float32Array(codes.length);
  if (p.kind === 'table') {
    const table = p.table;
    if (!table) throw new QuantLensError('config', `${what}: a 'table' quantization without a table`);
    const off = p.tableOffset ?? 0;
    for (let i = 0; i < codes.length; i++) {
      const level = table[codes[i] - off];
      if (level === undefined) throw new QuantLensError('config', `${what}: code ${codes[i]} has no table entry`);
      out[i] = level * p.scales[si[i]];
    }
    return out;
  }
  const zp = p.zeroPoints;
  for (let i = 0; i < codes.length; i++) out[i] = (codes[i] - (zp ? zp[si[i]] : 0)) * p.scales[si[i]];
  return out;
}

/** A QuantizedWeight as the FP32 tensor the fake-quant path multiplies with. */
export function dequantizeWeight(w: QuantizedWeight, what: string): Tensor {
  if (w.codes.length !== elementCount(w.dims)) throw new QuantLensError('config', `${what}: ${w.codes.length} codes for dims [${w.dims}]`);
  return { dtype: 'float32', dims: [...w.dims], data: dequantizeCodes(w.codes, w.dims, w, what) };
}

/** Quantizes real values to codes (saturating; 'table' kinds pick the nearest level's code). */
export function quantizeValues(x: Float32Array, dims: readonly number[], p: QuantParams, what: string): Int32Array {
  const si = scaleIndex(dims, p.layout, p.scales.length, what);
  const [lo, hi] = codeRange(p);
  const codes = new Int32Array(x.length);
  if (p.kind === 'table') {
    const snap = tableSnapper(p, what);
    for (let i = 0; i < x.length; i++) codes[i] = snap(x[i] / p.scales[si[i]]);
    return codes;
  }
  const zp = p.zeroPoints;
  for (let i = 0; i < x.length; i++) {
    const q = roundHalfEven(x[i] / p.scales[si[i]]) + (zp ? zp[si[i]] : 0);
    codes[i] = q < lo ? lo : q > hi ? hi : Number.isNaN(q) ? 0 : q;
  }
  return codes;
}

/** value → code of the nearest table level within the code range (ties to the lower level). */
function tableSnapper(p: QuantParams, what: string): (v: number) => number {
  const table = p.table;
  if (!table) throw new QuantLensError('config', `${what}: a 'table' quantization without a table`);
  const off = p.tableOffset ?? 0;
  const [lo, hi] = codeRange(p);
  const entries: { level: number; code: number }[] = [];
  for (let i = 0; i < table.length; i++) {
    const code = i + off;
    if (code >= lo && code <= hi && Number.isFinite(table[i])) entries.push({ level: table[i], code });
  }
  if (entries.length === 0) throw new QuantLensError('config', `${what}: the table has no level inside the code range`);
  entries.sort((a, b) => a.level - b.level || a.code - b.code);
  const levels = Float64Array.from(entries, (e) => e.level);
  return (v) => {
    let a = 0, b = levels.length - 1;
    if (!(v > levels[0])) return entries[0].code;
    if (v >= levels[b]) return entries[b].code;
    while (b - a > 1) { const m = (a + b) >> 1; if (levels[m] <= v) a = m; else b = m; }
    return v - levels[a] <= levels[b] - v ? entries[a].code : entries[b].code;
  };
}

/** Quantize → dequantize an activation tensor (per-tensor), keeping its shape. */
export function fakeQuantize(x: Tensor, q: ActivationQuant, what: string): Tensor {
  const data = x.data instanceof Float32Array ? x.data : Float32Array.from(x.data as ArrayLike<number>);
  const codes = quantizeValues(data, x.dims, q, what);
  return { dtype: 'float32', dims: [...x.dims], data: dequantizeCodes(codes, x.dims, q, what) };
}

/**
 * Wraps an FP32 node runner so it sees dequantized weights and fake-quantized activation inputs.
 * `weightDims` gives the model's own weight shapes (by input index) to check the config against.
 */
export function fakeQuantRunner(node: Node, cfg: LayerQuantConfig, fp32: NodeRunner, weightDims: (number[] | undefined)[]): NodeRunner {
  const what = `quantization config for node '${node.name}'`;
  const weights = new Map<number, Tensor>();
  for (const [k, w] of Object.entries(cfg.weights ?? {})) {
    const i = Number(k);
    if (!Number.isInteger(i) || i < 0 || i >= node.inputs.length) throw new QuantLensError('config', `${what}: weight input index ${k} does not exist`);
    const own = weightDims[i];
    if (own && (own.length !== w.dims.length || own.some((d, j) => d !== w.dims[j]))) {
      throw new QuantLensError('config', `${what}: weight dims [${w.dims}] differ from the model's [${own}]`);
    }
    weights.set(i, dequantizeWeight(w, `${what}, input ${i}`));
  }
  const acts = Object.entries(cfg.inputs ?? {}).map(([k, q]) => [Number(k), q] as const);
  const outs = Object.entries(cfg.outputs ?? {}).map(([k, q]) => [Number(k), q] as const);
  return (inputs) => {
    const xs = [...inputs];
    for (const [i, t] of weights) xs[i] = t;
    for (const [i, q] of acts) { const t = xs[i]; if (t) xs[i] = fakeQuantize(t, q, `${what}, input ${i}`); }
    const ys = fp32(xs);
    for (const [i, q] of outs) { const t = ys[i]; if (t) ys[i] = fakeQuantize(t, q, `${what}, output ${i}`); }
    return ys;
  };
}
