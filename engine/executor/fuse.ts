// SPDX-License-Identifier: Apache-2.0
/**
 * Compile-time fusion of Conv/Gemm → BatchNormalization → activation chains: the BN becomes a per-channel affine
 * (k·x + b, the same k and b the BN op computes) and the activation runs in the same pass over the Conv/Gemm output
 * buffer, so the intermediate tensors are never materialised. The quantized weights are untouched, so a fused run
 * equals the unfused one up to float rounding. The run loop uses a chain only when no value inside it is tapped,
 * fed or overridden (see run.ts); otherwise the member nodes run one by one as compiled. Behind an int8 Conv the
 * affine and the activation (all but Sigmoid) go into the kernel's own epilogue. A residual Add → Relu is a chain of its own.
 */
import type { Node, Tensor } from '../ir';
import type { EngineQuantConfig } from '../quant-types';
import type { EpilogueActivation, NodeRunner } from '../kernel-api';
import { Attrs } from '../ops/types';
import { allocF32 } from '../ops/arena';
import type { CompiledNode } from './program';

/** One fused chain: the head (Conv/Gemm) node, the BN/activation nodes folded into it, and its fused runner. */
export interface FusedChain {
  /** Index in `Program.nodes` of the Conv/Gemm node. */
  head: number;
  /** Indices in `Program.nodes` of the folded BN/activation nodes, in chain order. */
  members: number[];
  /** Values that exist only inside the chain (the head's output and the members' outputs but the last). */
  intermediates: string[];
  /** Constant inputs the fused epilogue captured at compile time (BN parameters, Clip bounds). */
  params: string[];
  /** The chain's final value (the last member's output). */
  output: string;
  /** Runs the head on its inputs and returns [final output]. */
  run: NodeRunner;
  /** The affine and activation run inside the head's integer kernel epilogue (else in a pass after it). */
  inKernel: boolean;
}

type Act =
  | { kind: 'relu' } | { kind: 'clip'; lo: number; hi: number } | { kind: 'leaky'; alpha: number }
  | { kind: 'hardsigmoid'; alpha: number; beta: number } | { kind: 'hardswish' } | { kind: 'sigmoid' };

/** BN as y = k[c]·x + b[c] (float64, as the BatchNormalization op computes them). */
interface Affine { k: Float64Array; b: Float64Array }

const f32 = (t: Tensor | undefined): Float32Array | undefined => (t && t.data instanceof Float32Array ? t.data : undefined);

function affineOf(node: Node, constants: ReadonlyMap<string, Tensor>): Affine | null {
  const a = new Attrs(node);
  if (a.int('training_mode', 0) !== 0 || node.outputs.slice(1).some((o) => o !== '') || a.int('spatial', 1) !== 1) return null;
  const p = node.inputs.slice(1, 5).map((v) => f32(constants.get(v)));
  if (p.length !== 4 || p.some((d) => !d)) return null;
  const [scale, bias, mean, variance] = p as Float32Array[];
  const C = scale.length;
  if (bias.length !== C || mean.length !== C || variance.length !== C) return null;
  const eps = a.float('epsilon', 1e-5);
  const k = new Float64Array(C), b = new Float64Array(C);
  for (let c = 0; c < C; c++) { k[c] = scale[c] / Math.sqrt(variance[c] + eps); b[c] = bias[c] - mean[c] * k[c]; }
  return { k, b };
}

function scalarConst(v: string | undefined, constants: ReadonlyMap<string, Tensor>, dflt: number): number | null {
  if (v === undefined || v === '') return dflt;
  const t = constants.get(v);
  const d = f32(t);
  return d && d.length === 1 ? d[0] : null;
}

function activationOf(node: Node, opset: number, constants: ReadonlyMap<string, Tensor>): Act | null {
  const a = new Attrs(node);
  switch (node.opType) {
    case 'Relu': return { kind: 'relu' };
    case 'Sigmoid': return { kind: 'sigmoid' };
    case 'HardSwish': return { kind: 'hardswish' };
    case 'LeakyRelu': return { kind: 'leaky', alpha: a.float('alpha', 0.01) };
    case 'HardSigmoid': return { kind: 'hardsigmoid', alpha: a.float('alpha', 0.2), beta: a.float('beta', 0.5) };
    case 'Clip': {
      if (opset < 11) return { kind: 'clip', lo: a.float('min', -Infinity), hi: a.float('max', Infinity) };
      const lo = scalarConst(node.inputs[1], constants, -Infinity), hi = scalarConst(node.inputs[2], constants, Infinity);
      return lo === null || hi === null ? null : { kind: 'clip', lo, hi };
    }
    default: return null;
  }
}

/**
 * Applies the affine (per channel: dims[1], `inner` contiguous elements each) and then the activation in place, in
 * one pass. The affine result is rounded to float32 first, as the unfused BatchNormalization output is.
 */
function applyEpilogue(y: Float32Array, dims: readonly number[], aff: Affine | null, act: Act | null): boolean {
  const N = dims[0] ?? 1, C = dims.length > 1 ? dims[1] : 1;
  const inner = C === 0 || N === 0 ? 0 : y.length / (N * C);
  if (aff && aff.k.length !== C) return false;
  const fr = Math.fround;
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
    const o = (n * C + c) * inner, e = o + inner;
    const k = aff ? aff.k[c] : 1, b = aff ? aff.b[c] : 0;
    switch (act?.kind) {
      case undefined: for (let i = o; i < e; i++) y[i] = y[i] * k + b; break;
      case 'relu': for (let i = o; i < e; i++) { const v = fr(y[i] * k + b); y[i] = v > 0 ? v : 0; } break;
      case 'clip': { const lo = act.lo, hi = act.hi; for (let i = o; i < e; i++) { const v = fr(y[i] * k + b); y[i] = v < lo ? lo : v > hi ? hi : v; } break; }
      case 'leaky': { const al = act.alpha; for (let i = o; i < e; i++) { const v = fr(y[i] * k + b); y[i] = v >= 0 ? v : al * v; } break; }
      case 'hardsigmoid': { const al = act.alpha, be = act.beta; for (let i = o; i < e; i++) { const t = al * fr(y[i] * k + b) + be; y[i] = t < 0 ? 0 : t > 1 ? 1 : t; } break; }
      case 'hardswish': for (let i = o; i < e; i++) { const v = fr(y[i] * k + b); const t = v / 6 + 0.5; y[i] = t <= 0 ? 0 : t >= 1 ? v : v * t; } break;
      case 'sigmoid': for (let i = o; i < e; i++) { const v = fr(y[i] * k + b); y[i] = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)); } break;
    }
  }
  return true;
}

/**
 * A residual Add → Relu (ResNet blocks): one pass over both operands instead of two full passes. Operands of
 * different shapes (broadcasting) or dtypes run as compiled.
 */
function addReluChain(add: CompiledNode, addAt: number, relu: CompiledNode, reluAt: number): FusedChain {
  const run: NodeRunner = (inputs) => {
    const [a, b] = inputs;
    if (a && b && a.dtype === 'float32' && b.dtype === 'float32' && a.data instanceof Float32Array && b.data instanceof Float32Array
      && a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i])) {
      const x = a.data, y = b.data, out = allocF32(x.length, false);
      // the sum is rounded to float32 as the Add output is; (s + |s|)/2 is Relu without a branch (see ops/unary.ts)
      for (let i = 0; i < x.length; i++) { const v = Math.fround(x[i] + y[i]); out[i] = (v + Math.abs(v)) * 0.5; }
      return [{ dtype: 'float32', dims: [...a.dims], data: out }];
    }
    return relu.run([add.run(inputs)[0]]);
  };
  return { head: addAt, members: [reluAt], intermediates: [add.node.outputs[0]], params: [], output: relu.node.outputs[0], run, inKernel: false };
}

/** The kernel-epilogue form of an activation; null when it has none. */
function kernelActivation(act: Act): EpilogueActivation | null {
  switch (act.kind) {
    case 'relu': return { kind: 'clamp', lo: 0, hi: Infinity };
    case 'clip': return { kind: 'clamp', lo: act.lo, hi: act.hi };
    case 'hardswish': return act;
    case 'hardsigmoid': return act;
    case 'leaky': return act;
    case 'sigmoid': return null;
  }
}

const HEADS = new Set(['Conv', 'Gemm']);
const ACTS = new Set(['Relu', 'Clip', 'LeakyRelu', 'HardSwish', 'HardSigmoid', 'Sigmoid']);

/**
 * Finds the fusable chains among the compiled nodes. A link is taken only when the value is read by exactly one
 * node input (and is no graph output), the reader is not itself in the quantization config, and its parameters
 * are compile-time constants.
 */
export function findFusions(nodes: CompiledNode[], constants: ReadonlyMap<string, Tensor>, graphOutputs: readonly string[],
  config: EngineQuantConfig | undefined, opsetOf: (n: Node) => number): Map<number, FusedChain> {
  const readers = new Map<string, number[]>();
  nodes.forEach((c, i) => { for (const v of c.node.inputs) if (v !== '') readers.set(v, [...(readers.get(v) ?? []), i]); });
  const outputs = new Set(graphOutputs);
  const layers = config?.layers ?? {};
  const soleReader = (v: string): number | undefined => {
    const r = readers.get(v);
    if (outputs.has(v) || !r || r.length !== 1) return undefined;
    const c = nodes[r[0]].node;
    if (layers[c.name] || c.domain !== '' || c.inputs[0] !== v) return undefined;
    return r[0];
  };
  const chains = new Map<number, FusedChain>();
  nodes.forEach((head, hi) => {
    const hn = head.node;
    if (hn.opType === 'Add' && hn.domain === '' && head.path === 'fp32' && !layers[hn.name] && hn.outputs.length === 1 && hn.outputs[0] !== '') {
      const next = soleReader(hn.outputs[0]);
      if (next !== undefined && nodes[next].node.opType === 'Relu') chains.set(hi, addReluChain(head, hi, nodes[next], next));
      return;
    }
    if (!HEADS.has(hn.opType) || hn.domain !== '' || hn.outputs.length !== 1 || hn.outputs[0] === '') return;
    const members: number[] = [];
    const params: string[] = [];
    let aff: Affine | null = null;
    let act: Act | null = null;
    let value = hn.outputs[0];
    let next = soleReader(value);
    if (next !== undefined && nodes[next].node.opType === 'BatchNormalization') {
      aff = affineOf(nodes[next].node, constants);
      if (aff) {
        members.push(next);
        params.push(...nodes[next].node.inputs.slice(1, 5));
        value = nodes[next].node.outputs[0];
        next = soleReader(value);
      }
    }
    if (next !== undefined && ACTS.has(nodes[next].node.opType) && nodes[next].node.outputs.length === 1) {
      const an = nodes[next].node;
      act = activationOf(an, opsetOf(an), constants);
      if (act) { members.push(next); params.push(...an.inputs.slice(1).filter((v) => v !== '')); }
    }
    if (!members.length) return;
    const memberNodes = members.map((m) => nodes[m]);
    const output = memberNodes[memberNodes.length - 1].node.outputs[0];
    const intermediates = [hn.outputs[0], ...memberNodes.slice(0, -1).map((m) => m.node.outputs[0])];
    const headRun = head.run;
    // after an integer kernel the affine and the activation run inside the kernel's own SIMD epilogue (not Sigmoid)
    const activation = act ? kernelActivation(act) : undefined;
    const native = head.fuseEpilogue && activation !== null ? head.fuseEpilogue({ affine: aff ?? undefined, activation }) : null;
    const run: NodeRunner = native ?? ((inputs) => {
      const t = headRun(inputs)[0];
      if (t.data instanceof Float32Array && applyEpilogue(t.data, t.dims, aff, act)) return [t];
      // an unexpected dtype or channel count: the member ops run as compiled (and report their own errors)
      let cur = t;
      for (const m of memberNodes) cur = m.run(m.node.inputs.map((v, j) => (j === 0 ? cur : v === '' ? undefined : constants.get(v))))[0];
      return [cur];
    });
    chains.set(hi, { head: hi, members, intermediates, params, output, run, inKernel: native !== null });
  });
  return chains;
}
