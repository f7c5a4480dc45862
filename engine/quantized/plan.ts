// SPDX-License-Identifier: Apache-2.0
/**
 * Chooses and prepares the kernel path of one quantized weight: an integer kernel (int8 / int4 / int2 /
 * ternary / binary) when the codes are an integer grid with one scale per output channel, otherwise the
 * decode path (weight-only for int codes, decode-table for non-uniform level tables), packing the codes once.
 */
import { QuantLensError } from '../errors';
import type { ActivationQuant, KernelPath, LayerQuantConfig, QuantizedWeight } from '../quant-types';
import type { KernelModule } from '../kernels/wasm-module';
import { containerBits } from '../kernels/packing';
import { packIntWeights, type ActQuant, type IntWeights } from '../kernels/int-gemm';
import { packDecodeWeights, type DecodeWeights } from '../kernels/decode-gemm';
import { roundHalfEven } from '../kernels/requant';
import { codeRange, weightMatrix, type WeightMatrix, type WeightRole } from './weights';

export type PreparedWeights =
  | { kind: 'int'; path: KernelPath; w: IntWeights; colScale: Float32Array; n: number; k: number }
  | { kind: 'decode'; path: 'weight-only' | 'decode-table'; w: DecodeWeights; n: number; k: number };

/** Per-tensor int activation quantization usable by the integer kernels (≤ 8 bits), else null. */
export function actQuantOf(a: ActivationQuant | undefined): ActQuant | null {
  if (!a || a.kind !== 'int' || a.bits > 8 || a.scales.length < 1) return null;
  const [qmin, qmax] = codeRange(a.bits, a.signed);
  return { scale: Math.fround(a.scales[0]), zp: a.zeroPoints ? a.zeroPoints[0] : 0, qmin, qmax, signed: a.signed };
}

/** Quantize-dequantize in FP32 with the kernels' rounding (for paths that take FP32 activations). */
export function fakeQuantInPlace(x: Float32Array, a: ActQuant): void {
  const s = a.scale;
  for (let i = 0; i < x.length; i++) {
    const q = Math.min(Math.max(roundHalfEven(Math.fround(x[i] / s)) + a.zp, a.qmin), a.qmax);
    x[i] = Math.fround((q - a.zp) * s);
  }
}

/** Integer view of a weight: w = unit·scale[n]·(gain·stored − zw[n]) with stored in the kernel's container. */
interface IntView { cbits: 1 | 2 | 4 | 8; stored: Int32Array; zw: Int32Array; gain: number; unit: number }

function intView(q: QuantizedWeight, m: WeightMatrix, nodeName: string): IntView | null {
  if (m.nb !== 1 || q.bits > 8) return null;
  const cbits = containerBits(q.bits);
  const [cmin, cmax] = codeRange(q.bits, q.signed);
  // stored = code − base: signed bytes for the u8s8 kernel, unsigned codes for the low-bit kernels
  const base = cbits === 8 ? (q.signed || q.bits < 8 ? 0 : 128) : cmin;
  const stored = new Int32Array(m.codes.length);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < m.codes.length; i++) {
    const c = m.codes[i];
    if (c < cmin || c > cmax) throw new QuantLensError('config', `node ${nodeName}: weight code ${c} is outside the ${q.bits}-bit ${q.signed ? 'signed' : 'unsigned'} range of format ${q.format}`);
    stored[i] = c - base;
    if (c < lo) lo = c;
    if (c > hi) hi = c;
  }
  if (q.kind === 'int') {
    const zw = Int32Array.from(m.zeroPoints, (z) => z - base);
    return { cbits, stored, zw, gain: 1, unit: 1 };
  }
  // an evenly spaced level table is an integer grid: t[i] = unit·(gain·i + R) for the levels in use
  const t = q.table;
  const off = q.tableOffset ?? 0;
  if (!t || lo === hi) return null;
  const imin = lo - off, imax = hi - off;
  if (imin < 0 || imax >= t.length) return null;
  const d = (t[imax] - t[imin]) / (imax - imin);
  if (!(d !== 0 && Number.isFinite(d))) return null;
  for (let i = imin; i <= imax; i++) if (t[i] !== t[imin] + (i - imin) * d) return null;
  const r = t[imin] / d;
  const gain = Number.isInteger(r) ? 1 : Number.isInteger(2 * r) ? 2 : 0;
  if (!gain) return null;
  // value/unit = gain·(code − off − imin) + gain·r, and code = stored + base
  const z = -(gain * (base - off - imin) + gain * r);
  return { cbits, stored, zw: new Int32Array(m.n).fill(z), gain, unit: d / gain };
}

function intPath(cbits: 1 | 2 | 4 | 8, q: QuantizedWeight): KernelPath {
  if (cbits === 8) return 'int8';
  if (cbits === 4) return 'int4';
  if (cbits === 1) return 'binary';
  return q.format.includes('ternary') ? 'ternary' : 'int2';
}

/**
 * Prepares the weight of a node. `intAllowed` is false when activations are not int-quantized (the integer
 * kernels need integer activations). Returns null when no kernel covers the weight's layout or width.
 */
export function prepareWeights(mod: KernelModule, q: QuantizedWeight, role: WeightRole, nodeName: string,
  intAllowed: boolean, kernel: LayerQuantConfig['kernel'], groups = 1): PreparedWeights | null {
  const m = weightMatrix(q, role, nodeName);
  if (!m) return null;
  const wantsDecode = kernel === 'weight-only' || kernel === 'decode-table';
  if (intAllowed && !wantsDecode) {
    const v = intView(q, m, nodeName);
    if (v) {
      // the lookup-table kernel on request (MatMul/Gemm, ≤4-bit); otherwise the integer kernels
      const lut = kernel === 'lut' && v.cbits !== 8 && role !== 'conv';
      const layout = lut ? 'lut' : v.cbits !== 8 ? 'lowbit' : role === 'conv' ? 'rows' : 'panels';
      const w = packIntWeights(mod, v.stored, m.n, m.k, v.cbits, v.zw, v.gain, layout, layout === 'lowbit' ? groups : 1);
      const colScale = Float32Array.from(m.scales, (s) => Math.fround(s * v.unit));
      return { kind: 'int', path: lut ? 'lut' : intPath(v.cbits, q), w, colScale, n: m.n, k: m.k };
    }
  }
  if (q.bits > 8) return null;
  const cbits = containerBits(q.bits);
  const [cmin, cmax] = codeRange(q.bits, q.signed);
  const u = new Int32Array(m.codes.length);
  for (let i = 0; i < u.length; i++) {
    const c = m.codes[i];
    if (c < cmin || c > cmax) throw new QuantLensError('config', `node ${nodeName}: weight code ${c} is outside the ${q.bits}-bit range of format ${q.format}`);
    u[i] = c - cmin;
  }
  const lut = new Float32Array(1 << cbits);
  let zps: Float32Array;
  if (q.kind === 'int') {
    for (let i = 0; i < lut.length; i++) lut[i] = i + cmin;
    zps = Float32Array.from(m.zeroPoints);
  } else {
    const t = q.table;
    if (!t) throw new QuantLensError('config', `node ${nodeName}: format ${q.format} has kind 'table' but no table`);
    const off = q.tableOffset ?? 0;
    for (let i = 0; i < lut.length; i++) { const ti = i + cmin - off; lut[i] = ti >= 0 && ti < t.length ? t[ti] : 0; }
    zps = new Float32Array(m.scales.length);
  }
  const w = packDecodeWeights(mod, u, m.n, m.k, cbits, lut, m.scales, zps, m.nb, m.bs);
  return { kind: 'decode', path: q.kind === 'int' ? 'weight-only' : 'decode-table', w, n: m.n, k: m.k };
}
