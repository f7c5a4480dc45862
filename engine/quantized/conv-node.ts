// SPDX-License-Identifier: Apache-2.0
/**
 * Quantized Conv (1-D and 2-D; groups, depthwise, dilation, auto_pad): FP32 input → per-tensor codes →
 * im2col + integer GEMM per image and group on packed weights → int32 + bias → FP32 (or requantized output
 * codes). Without int activations, the weight-only / decode-table kernel runs on an FP32 im2col.
 */
import { QuantLensError } from '../errors';
import type { Tensor } from '../ir';
import type { EpilogueActivation, NodeRunner, OutputEpilogue, QuantizedNode, QuantizedNodeRequest } from '../kernel-api';
import type { KernelModule } from '../kernels/wasm-module';
import { convWithEpilogue, quantizeActs, type ConvGeometry } from '../kernels/int-gemm';
import { decodeGemm } from '../kernels/decode-gemm';
import { winogradWeights } from '../kernels/winograd-int';
import { actQuantOf, fakeQuantInPlace, prepareWeights } from './plan';
import { codesToFloat, floatsOut, planIntEpilogue } from './epilogue-plan';

function ints(req: QuantizedNodeRequest, name: string): number[] | undefined {
  const a = req.node.attrs[name];
  return a && a.type === 'ints' ? a.value : undefined;
}

/** Output geometry of a Conv for a concrete input shape (ONNX pads/auto_pad rules). */
export function convGeometry(req: QuantizedNodeRequest, xDims: number[], wDims: number[]): ConvGeometry {
  const name = req.node.name;
  const spatial = xDims.length - 2;
  if (spatial < 1 || spatial > 2 || wDims.length !== xDims.length) throw new QuantLensError('shape', `node ${name}: quantized Conv supports 1-D and 2-D inputs, got [${xDims.join(',')}]`);
  const groupAttr = req.node.attrs.group;
  const group = groupAttr && groupAttr.type === 'int' ? groupAttr.value : 1;
  const in2 = spatial === 1 ? [1, xDims[2]] : [xDims[2], xDims[3]];
  const k2 = spatial === 1 ? [1, wDims[2]] : [wDims[2], wDims[3]];
  const lift = (v: number[] | undefined, d: number) => (v ? (spatial === 1 ? [d, v[0]] : v) : [d, d]);
  const strides = lift(ints(req, 'strides'), 1);
  const dil = lift(ints(req, 'dilations'), 1);
  const padsAttr = ints(req, 'pads');
  let pads = padsAttr ? (spatial === 1 ? [0, padsAttr[0], 0, padsAttr[1]] : padsAttr) : [0, 0, 0, 0];
  const autoPad = req.node.attrs.auto_pad;
  const mode = autoPad && autoPad.type === 'string' ? autoPad.value : 'NOTSET';
  if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') {
    pads = [0, 0, 0, 0];
    for (let d = 0; d < 2; d++) {
      const out = Math.ceil(in2[d] / strides[d]);
      const total = Math.max(0, (out - 1) * strides[d] + (k2[d] - 1) * dil[d] + 1 - in2[d]);
      const small = Math.floor(total / 2);
      pads[d] = mode === 'SAME_UPPER' ? small : total - small;
      pads[d + 2] = total - pads[d];
    }
  } else if (mode === 'VALID') {
    pads = [0, 0, 0, 0];
  }
  const o = [0, 1].map((d) => Math.floor((in2[d] + pads[d] + pads[d + 2] - ((k2[d] - 1) * dil[d] + 1)) / strides[d]) + 1);
  const cin = xDims[1];
  const cout = wDims[0];
  if (cin % group !== 0 || cout % group !== 0 || wDims[1] * group !== cin || o[0] < 1 || o[1] < 1) {
    throw new QuantLensError('shape', `node ${name}: Conv input [${xDims.join(',')}] does not fit weight [${wDims.join(',')}] with group ${group}`);
  }
  return { batch: xDims[0], cin, h: in2[0], w: in2[1], cout, group, kh: k2[0], kw: k2[1], sh: strides[0], sw: strides[1],
    padTop: pads[0], padLeft: pads[1], dh: dil[0], dw: dil[1], oh: o[0], ow: o[1] };
}

/** FP32 im2col of one image/group into rows of kp4 floats (zero padding). */
function im2colF32(x: Float32Array, base: number, g: ConvGeometry, cpg: number, kp4: number): Float32Array {
  const out = new Float32Array(g.oh * g.ow * kp4);
  for (let oy = 0; oy < g.oh; oy++) for (let ox = 0; ox < g.ow; ox++) {
    let j = (oy * g.ow + ox) * kp4;
    for (let c = 0; c < cpg; c++) for (let ky = 0; ky < g.kh; ky++) for (let kx = 0; kx < g.kw; kx++, j++) {
      const iy = oy * g.sh - g.padTop + ky * g.dh;
      const ix = ox * g.sw - g.padLeft + kx * g.dw;
      if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) out[j] = x[base + (c * g.h + iy) * g.w + ix];
    }
  }
  return out;
}

/** Builds the runner of a Conv node whose input 1 is a quantized constant weight. */
export function createConvNode(mod: KernelModule, req: QuantizedNodeRequest): QuantizedNode | null {
  const { node, config } = req;
  const q = config.weights?.[1];
  if (!q || (q.dims.length !== 3 && q.dims.length !== 4)) return null;
  const actCfg = config.inputs?.[0];
  const act = actQuantOf(actCfg);
  if (actCfg && !act) return null;
  const outAct = actQuantOf(config.outputs?.[0]);
  if (config.outputs?.[0] && !outAct) return null;
  const groupAttr = node.attrs.group;
  const groups = groupAttr && groupAttr.type === 'int' ? groupAttr.value : 1;
  if (q.dims[0] % groups !== 0) return null;
  const prep = prepareWeights(mod, q, 'conv', node.name, act !== null, config.kernel, groups);
  if (!prep) return null;
  const unit = (v: number[] | undefined) => !v || v.every((d) => d === 1);
  if (prep.kind === 'int' && act && groups === 1 && q.dims.length === 4 && q.dims[2] === 3 && q.dims[3] === 3
    && unit(ints(req, 'strides')) && unit(ints(req, 'dilations'))) {
    prep.w.winograd = winogradWeights(mod, prep.w, q.dims[0], q.dims[1]) ?? undefined;
  }
  const bConst = req.constants[2];
  const bias = bConst && bConst.data instanceof Float32Array && bConst.data.length === prep.n ? Float32Array.from(bConst.data) : undefined;
  const intPlan = prep.kind === 'int' && act ? planIntEpilogue(mod, act, prep.colScale, 1, bias, outAct) : undefined;

  /** The runner; `fused` is a BN affine and activation the dequantize epilogue applies (see fuseEpilogue). */
  const makeRun = (fused?: { affine?: { k: Float32Array; b: Float32Array }; activation?: EpilogueActivation }) => (inputs: (Tensor | undefined)[]): Tensor[] => {
    const xt = inputs[0];
    if (!xt || !(xt.data instanceof Float32Array)) throw new QuantLensError('unsupported-op', `node ${node.name}: quantized Conv needs a float32 input`);
    const g = convGeometry(req, xt.dims, q.dims);
    const x = xt.data;
    const pixels = g.oh * g.ow;
    const outDims = xt.dims.length === 3 ? [g.batch, g.cout, g.ow] : [g.batch, g.cout, g.oh, g.ow];
    const total = g.batch * g.cout * pixels;
    mod.resetScratch();
    const outPtr = mod.scratch(total * 4);
    let out: Float32Array;
    let biasLeft = !intPlan || intPlan.biasPtr === 0 ? (bias ?? (inputs[2]?.data instanceof Float32Array ? inputs[2].data : undefined)) : undefined;
    if (prep.kind === 'int' && act && intPlan) {
      let epi = intPlan.epi;
      if (fused && epi.kind === 'dequant') {
        // per call in scratch: a compiled chain holds no kernel memory of its own
        const put = (v: Float32Array) => { const ptr = mod.scratch(v.byteLength); mod.put(ptr, v); return ptr; };
        epi = { ...epi, affine: fused.affine && { kPtr: put(fused.affine.k), bPtr: put(fused.affine.b) }, activation: fused.activation };
      }
      const xq = quantizeActs(mod, prep.w, x, 1, x.length, x.length, act);
      convWithEpilogue(mod, prep.w, xq, g, act, intPlan.biasPtr, epi, outPtr);
      out = intPlan.outQuant ? codesToFloat(mod.i32(outPtr, total), intPlan.outQuant) : floatsOut(mod, outPtr, total);
      if (!intPlan.fp32Bias && intPlan.biasPtr) biasLeft = undefined;
    } else if (prep.kind === 'decode') {
      let xs = x;
      if (act) { xs = x.slice(); fakeQuantInPlace(xs, act); }
      const cpg = g.cin / g.group, opg = g.cout / g.group;
      out = new Float32Array(total);
      for (let b = 0; b < g.batch; b++) for (let gi = 0; gi < g.group; gi++) {
        mod.resetScratch();
        const cols = im2colF32(xs, (b * g.cin + gi * cpg) * g.h * g.w, g, cpg, prep.w.kp4);
        const xp = mod.scratch(cols.byteLength);
        mod.put(xp, cols);
        const tmp = mod.scratch(pixels * opg * 4);
        decodeGemm(mod, prep.w, xp, pixels, gi * opg, opg, tmp, opg);
        const r = mod.f32(tmp, pixels * opg);
        for (let p = 0; p < pixels; p++) for (let o = 0; o < opg; o++) out[((b * g.cout) + gi * opg + o) * pixels + p] = r[p * opg + o];
      }
    } else {
      throw new QuantLensError('unsupported-op', `node ${node.name}: no kernel prepared`);
    }
    if (biasLeft) {
      for (let b = 0; b < g.batch; b++) for (let o = 0; o < g.cout; o++) {
        const base = (b * g.cout + o) * pixels;
        for (let p = 0; p < pixels; p++) out[base + p] = Math.fround(out[base + p] + biasLeft[o]);
      }
    }
    const post = intPlan ? intPlan.postFakeQuant : outAct;
    if (post) fakeQuantInPlace(out, post);
    return [{ dtype: 'float32', dims: outDims, data: out }];
  };

  // The epilogue can take a fused affine and activation only when nothing else runs after it: FP32 output, bias in int32
  // (or none), no output fake-quant.
  const fuseEpilogue = (e: OutputEpilogue): NodeRunner | null => {
    const p = intPlan;
    const biasInKernel = (node.inputs[2] ?? '') === '' || (p?.biasPtr ?? 0) !== 0;
    if (!p || p.epi.kind !== 'dequant' || p.fp32Bias || p.postFakeQuant || !biasInKernel) return null;
    if (e.affine && (e.affine.k.length !== prep.n || e.affine.b.length !== prep.n)) return null;
    const affine = e.affine && { k: Float32Array.from(e.affine.k), b: Float32Array.from(e.affine.b) };
    return makeRun({ affine, activation: e.activation });
  };
  return { run: makeRun(), path: prep.path, packedBytes: prep.w.packedBytes, fuseEpilogue };
}
