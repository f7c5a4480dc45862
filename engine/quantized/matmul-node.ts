// SPDX-License-Identifier: Apache-2.0
/**
 * Quantized MatMul and Gemm: FP32 activation → quantize (per tensor) → integer GEMM on packed weights →
 * int32 + bias → dequantize (or requantize to the output activation quant) → FP32. Without an int activation
 * quant the weight-only / decode-table kernel multiplies FP32 activations by weights decoded in register.
 */
import { QuantLensError } from '../errors';
import type { Tensor } from '../ir';
import type { QuantizedNode, QuantizedNodeRequest } from '../kernel-api';
import type { KernelModule } from '../kernels/wasm-module';
import { gemmWithEpilogue, quantizeActs } from '../kernels/int-gemm';
import { decodeGemm, putF32Rows } from '../kernels/decode-gemm';
import { actQuantOf, fakeQuantInPlace, prepareWeights } from './plan';
import { codesToFloat, floatsOut, planIntEpilogue } from './epilogue-plan';

function attrInt(req: QuantizedNodeRequest, name: string, def: number): number {
  const a = req.node.attrs[name];
  return a && a.type === 'int' ? a.value : def;
}
function attrFloat(req: QuantizedNodeRequest, name: string, def: number): number {
  const a = req.node.attrs[name];
  return a && a.type === 'float' ? a.value : def;
}

function floatData(t: Tensor | undefined, node: string, what: string): Float32Array {
  if (!t || !(t.data instanceof Float32Array)) throw new QuantLensError('unsupported-op', `node ${node}: quantized kernel needs a float32 ${what}`);
  return t.data;
}

/** Adds beta·C broadcast (unidirectionally) to an m × n result. */
function addBroadcast(out: Float32Array, m: number, n: number, c: Tensor, beta: number, node: string): void {
  const cd = floatData(c, node, 'C input');
  const dims = c.dims.length === 0 ? [1, 1] : c.dims.length === 1 ? [1, c.dims[0]] : c.dims.slice(-2);
  const [cm, cn] = dims;
  if ((cm !== 1 && cm !== m) || (cn !== 1 && cn !== n)) throw new QuantLensError('shape', `node ${node}: C of shape [${c.dims.join(',')}] does not broadcast to [${m},${n}]`);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    out[i * n + j] = Math.fround(out[i * n + j] + Math.fround(beta * cd[(cm === 1 ? 0 : i) * cn + (cn === 1 ? 0 : j)]));
  }
}

/** Builds the runner of a MatMul or Gemm node whose input 1 is a quantized constant weight. */
export function createMatMulNode(mod: KernelModule, req: QuantizedNodeRequest): QuantizedNode | null {
  const { node, config } = req;
  const isGemm = node.opType === 'Gemm';
  const q = config.weights?.[1];
  if (!q) return null;
  const transA = isGemm ? attrInt(req, 'transA', 0) : 0;
  const transB = isGemm ? attrInt(req, 'transB', 0) : 0;
  const alpha = isGemm ? attrFloat(req, 'alpha', 1) : 1;
  const beta = isGemm ? attrFloat(req, 'beta', 1) : 1;
  const actCfg = config.inputs?.[0];
  const act = actQuantOf(actCfg);
  if (actCfg && !act) return null; // a non-integer activation format: the executor fake-quants the node
  const outAct = actQuantOf(config.outputs?.[0]);
  if (config.outputs?.[0] && !outAct) return null;
  const prep = prepareWeights(mod, q, transB ? 'nk' : 'kn', node.name, act !== null, config.kernel);
  if (!prep) return null;
  const { n, k } = prep;

  // a constant per-column Gemm bias goes into the int32 epilogue; anything else is added in FP32
  const cConst = isGemm ? req.constants[2] : undefined;
  const vecBias = cConst && cConst.data instanceof Float32Array && cConst.data.length === n && (cConst.dims.length === 1 || (cConst.dims.length === 2 && cConst.dims[0] === 1))
    ? Float32Array.from(cConst.data, (b) => Math.fround(beta * b)) : undefined;
  const intPlan = prep.kind === 'int' && act ? planIntEpilogue(mod, act, prep.colScale, alpha, vecBias, outAct) : undefined;

  const run = (inputs: (Tensor | undefined)[]): Tensor[] => {
    const a = inputs[0];
    let x = floatData(a, node.name, 'input A');
    const dims = a!.dims;
    if (!transA && (dims.length < 1 || dims[dims.length - 1] !== k)) {
      throw new QuantLensError('shape', `node ${node.name}: input A of shape [${dims.join(',')}] does not match weight K=${k}`);
    }
    let m: number;
    let outDims: number[];
    if (transA) {
      if (dims.length !== 2 || dims[0] !== k) throw new QuantLensError('shape', `node ${node.name}: transposed A of shape [${dims.join(',')}] does not match K=${k}`);
      m = dims[1];
      const t = new Float32Array(m * k);
      for (let i = 0; i < k; i++) for (let j = 0; j < m; j++) t[j * k + i] = x[i * m + j];
      x = t;
      outDims = [m, n];
    } else {
      m = x.length / k;
      outDims = dims.length === 1 ? [n] : [...dims.slice(0, -1), n];
    }
    mod.resetScratch();
    const outPtr = mod.scratch(m * n * 4);
    let out: Float32Array;
    if (prep.kind === 'int' && act && intPlan) {
      const qa = quantizeActs(mod, prep.w, x, m, k, prep.w.kp, act);
      gemmWithEpilogue(mod, prep.w, qa, m, act, intPlan.biasPtr, intPlan.epi, outPtr, n, 1);
      out = intPlan.outQuant ? codesToFloat(mod.i32(outPtr, m * n), intPlan.outQuant) : floatsOut(mod, outPtr, m * n);
      if (intPlan.fp32Bias) {
        const b = intPlan.fp32Bias;
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] = Math.fround(out[i * n + j] + b[j]);
      }
      if (intPlan.postFakeQuant) fakeQuantInPlace(out, intPlan.postFakeQuant);
    } else if (prep.kind === 'decode') {
      let xs = x;
      if (act) { xs = x.slice(); fakeQuantInPlace(xs, act); }
      const xp = putF32Rows(mod, xs, m, k, prep.w.kp4);
      decodeGemm(mod, prep.w, xp, m, 0, n, outPtr, n);
      out = floatsOut(mod, outPtr, m * n);
      if (alpha !== 1) for (let i = 0; i < out.length; i++) out[i] = Math.fround(alpha * out[i]);
      if (vecBias) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] = Math.fround(out[i * n + j] + vecBias[j]);
      if (outAct) fakeQuantInPlace(out, outAct);
    } else {
      throw new QuantLensError('unsupported-op', `node ${node.name}: no kernel prepared`);
    }
    const c = isGemm ? inputs[2] : undefined;
    if (c && !vecBias) addBroadcast(out, m, n, c, beta, node.name);
    return [{ dtype: 'float32', dims: outDims, data: out }];
  };
  return { run, path: prep.path, packedBytes: prep.w.packedBytes };
}
