// SPDX-License-Identifier: Apache-2.0
// The quantized-node factory: which kernel path each weight/activation combination takes, and that the
// runners compute the quantized node semantics exactly (quantize input → integer GEMM/conv → int32 + bias →
// dequantize or requantize), including an onnxruntime QDQ model for the requantized int8 MatMul.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import type { Node, Tensor } from '../../../engine/ir';
import type { ActivationQuant, LayerQuantConfig, QuantizedWeight } from '../../../engine/quant-types';
import { createQuantizedNodeFactory, KernelModule } from '../../../engine/quantized/index';
import { defaultSimdLevel } from '../../../engine/kernels/wasm-module';
import { roundHalfEven } from '../../../engine/kernels/requant';
import { formatStorageBytes } from '../../../engine/kernels/packing';
import { createRequire } from 'node:module';
import { randInt, rng } from './rng';

const level = defaultSimdLevel();
const { onnx } = createRequire(__filename)('onnx-proto') as { onnx: any };
const factory = createQuantizedNodeFactory(new KernelModule(level));
const f = Math.fround;

function node(opType: string, attrs: Node['attrs'] = {}): Node {
  return { name: `${opType.toLowerCase()}0`, opType, domain: '', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs };
}
function act(scale: number, zp: number, signed = false): ActivationQuant {
  return { format: signed ? 'int8' : 'uint8', kind: 'int', bits: 8, signed, layout: { kind: 'tensor' }, scales: new Float32Array([scale]), zeroPoints: new Int32Array([zp]) };
}
function intWeight(dims: number[], bits: number, r: () => number, perChannelAxis?: number, format = `int${bits}`): QuantizedWeight {
  const count = dims.reduce((a, b) => a * b, 1);
  const lo = -(2 ** (bits - 1)), hi = 2 ** (bits - 1) - 1;
  const nCh = perChannelAxis === undefined ? 1 : dims[perChannelAxis];
  return { format, kind: 'int', bits, signed: true, dims, codes: Int32Array.from({ length: count }, () => randInt(r, lo, hi)),
    layout: perChannelAxis === undefined ? { kind: 'tensor' } : { kind: 'channel', axis: perChannelAxis },
    scales: Float32Array.from({ length: nCh }, () => 0.01 + r() * 0.05) };
}
function f32(dims: number[], r: () => number, amp = 2): Tensor {
  return { dtype: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (r() - 0.5) * amp) };
}
const qa = (x: number, a: ActivationQuant) => Math.min(Math.max(roundHalfEven(f(x / a.scales[0])) + a.zeroPoints![0], 0), 255);

/** Scalar semantics of a quantized MatMul: int accumulation, int32 bias, f32 dequantization. */
function matmulSemantics(x: Float32Array, m: number, k: number, w: QuantizedWeight, a: ActivationQuant, bias?: Float32Array): Float32Array {
  const n = w.dims[1];
  const za = a.zeroPoints![0], sa = a.scales[0];
  const out = new Float32Array(m * n);
  for (let j = 0; j < n; j++) {
    const sw = w.scales[w.layout.kind === 'tensor' ? 0 : j];
    const deq = f(sa * sw);
    const bq = bias ? roundHalfEven(bias[j] / deq) : 0;
    for (let i = 0; i < m; i++) {
      let acc = 0;
      for (let q = 0; q < k; q++) acc += (qa(x[i * k + q], a) - za) * w.codes[q * n + j];
      out[i * n + j] = f(f(acc + bq) * deq);
    }
  }
  return out;
}

test(`factory picks the kernel path per format (${level})`, () => {
  const r = rng(1);
  const k = 64, n = 8;
  const cfg = (w: QuantizedWeight, withAct = true, kernel?: LayerQuantConfig['kernel']): LayerQuantConfig =>
    ({ weights: { 1: w }, inputs: withAct ? { 0: act(0.02, 128) } : undefined, kernel });
  const req = (c: LayerQuantConfig) => ({ node: node('MatMul'), config: c, constants: [], opset: 13 });
  assert.equal(factory(req(cfg(intWeight([k, n], 8, r))))!.path, 'int8');
  assert.equal(factory(req(cfg(intWeight([k, n], 4, r, 1))))!.path, 'int4');
  assert.equal(factory(req(cfg(intWeight([k, n], 3, r))))!.path, 'int4');
  assert.equal(factory(req(cfg(intWeight([k, n], 2, r))))!.path, 'int2');
  const tern = intWeight([k, n], 2, r, undefined, 'ternary');
  tern.codes = tern.codes.map((c) => Math.max(-1, Math.min(1, c)));
  assert.equal(factory(req(cfg(tern)))!.path, 'ternary');
  const bin: QuantizedWeight = { ...intWeight([k, n], 1, r), format: 'binary', kind: 'table', signed: false, table: new Float32Array([-1, 1]),
    codes: Int32Array.from({ length: k * n }, () => randInt(r, 0, 1)) };
  assert.equal(factory(req(cfg(bin)))!.path, 'binary');
  const nf4: QuantizedWeight = { ...intWeight([k, n], 4, r), format: 'nf4', kind: 'table', signed: false,
    table: Float32Array.from({ length: 16 }, (_, i) => Math.sign(i - 7.5) * ((i - 7.5) / 7.5) ** 2), codes: Int32Array.from({ length: k * n }, () => randInt(r, 0, 15)) };
  assert.equal(factory(req(cfg(nf4)))!.path, 'decode-table');
  assert.equal(factory(req(cfg(intWeight([k, n], 4, r), false)))!.path, 'weight-only');
  const blocked = intWeight([k, n], 4, r);
  blocked.layout = { kind: 'block', axis: 0, blockSize: 32 };
  blocked.scales = Float32Array.from({ length: 2 * n }, () => 0.03);
  assert.equal(factory(req(cfg(blocked)))!.path, 'weight-only');
  assert.equal(factory(req(cfg(intWeight([k, n], 8, r), true, 'fake-quant'))), null);
  const fp8Act: LayerQuantConfig = { weights: { 1: intWeight([k, n], 8, r) }, inputs: { 0: { ...act(0.1, 0), kind: 'table', table: new Float32Array(256) } } };
  assert.equal(factory(req(fp8Act)), null);
  assert.equal(factory({ ...req(cfg(intWeight([k, n], 8, r))), node: node('Relu') }), null);
});

test(`packed weight bytes match the format storage (${level})`, () => {
  const r = rng(2);
  for (const [bits, format] of [[8, 'int8'], [4, 'int4'], [2, 'int2'], [2, 'ternary']] as const) {
    const w = intWeight([256, 16], bits, r, 1, format);
    if (format === 'ternary') w.codes = w.codes.map((c) => Math.max(-1, Math.min(1, c)));
    const qn = factory({ node: node('MatMul'), config: { weights: { 1: w }, inputs: { 0: act(0.02, 128) } }, constants: [], opset: 13 })!;
    assert.equal(qn.packedBytes, formatStorageBytes(bits, 256 * 16), format);
  }
  const bin: QuantizedWeight = { format: 'binary', kind: 'table', bits: 1, signed: false, dims: [256, 16], layout: { kind: 'tensor' },
    scales: new Float32Array([0.1]), table: new Float32Array([-1, 1]), codes: Int32Array.from({ length: 4096 }, () => randInt(r, 0, 1)) };
  const qb = factory({ node: node('MatMul'), config: { weights: { 1: bin }, inputs: { 0: act(0.02, 128) } }, constants: [], opset: 13 })!;
  assert.equal(qb.packedBytes, 4096 / 8);
});

test(`int8/int4/int2/LUT MatMul and Gemm runners compute the quantized semantics exactly (${level})`, () => {
  const r = rng(3);
  for (const [bits, kernel] of [[8, 'auto'], [4, 'auto'], [2, 'auto'], [4, 'lut'], [2, 'lut']] as const) for (const [m, k, n] of [[1, 17, 5], [7, 64, 33], [3, 255, 4]]) {
    const w = intWeight([k, n], bits, r, bits === 8 ? 1 : undefined);
    const a = act(0.015, randInt(r, 100, 150));
    const x = f32([m, k], r);
    const mm = factory({ node: node('MatMul'), config: { weights: { 1: w }, inputs: { 0: a }, kernel }, constants: [], opset: 13 })!;
    assert.equal(mm.path, kernel === 'lut' ? 'lut' : `int${bits}`);
    const got = mm.run([x])[0];
    assert.deepEqual(got.dims, [m, n]);
    assert.deepEqual(Array.from(got.data as Float32Array), Array.from(matmulSemantics(x.data as Float32Array, m, k, w, a)), `MatMul bits=${bits} ${m}x${k}x${n}`);
    const bias: Tensor = f32([n], r);
    const gemm = factory({ node: node('Gemm'), config: { weights: { 1: w }, inputs: { 0: a }, kernel }, constants: [undefined, undefined, bias], opset: 13 })!;
    const gy = gemm.run([x, undefined, bias])[0].data as Float32Array;
    assert.deepEqual(Array.from(gy), Array.from(matmulSemantics(x.data as Float32Array, m, k, w, a, bias.data as Float32Array)), `Gemm bits=${bits}`);
  }
});

test(`conv runner (groups, stride, padding) computes the quantized semantics exactly (${level})`, () => {
  const r = rng(4);
  for (const [c, cout, group, stride, pad, bits] of [[3, 8, 1, 1, 1, 8], [8, 8, 8, 1, 1, 8], [6, 4, 2, 2, 0, 4], [5, 7, 1, 1, 1, 2]]) {
    const h = 9, wd = 7, kk = 3;
    const wq = intWeight([cout, c / group, kk, kk], bits, r, 0);
    const a = act(0.02, 120);
    const x = f32([1, c, h, wd], r);
    const bias = f32([cout], r);
    const qn = factory({ node: node('Conv', { group: { type: 'int', value: group }, strides: { type: 'ints', value: [stride, stride] }, pads: { type: 'ints', value: [pad, pad, pad, pad] }, kernel_shape: { type: 'ints', value: [kk, kk] } }),
      config: { weights: { 1: wq }, inputs: { 0: a } }, constants: [undefined, undefined, bias], opset: 13 })!;
    const y = qn.run([x, undefined, bias])[0];
    const oh = Math.floor((h + 2 * pad - kk) / stride) + 1, ow = Math.floor((wd + 2 * pad - kk) / stride) + 1;
    assert.deepEqual(y.dims, [1, cout, oh, ow]);
    const xd = x.data as Float32Array, yd = y.data as Float32Array;
    const cpg = c / group, opg = cout / group;
    for (let o = 0; o < cout; o++) {
      const deq = f(a.scales[0] * wq.scales[o]);
      const bq = roundHalfEven((bias.data as Float32Array)[o] / deq);
      for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
        let acc = 0;
        for (let ci = 0; ci < cpg; ci++) for (let ky = 0; ky < kk; ky++) for (let kx = 0; kx < kk; kx++) {
          const iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
          if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
          const cin = Math.floor(o / opg) * cpg + ci;
          acc += (qa(xd[(cin * h + iy) * wd + ix], a) - 120) * wq.codes[((o * cpg + ci) * kk + ky) * kk + kx];
        }
        assert.equal(yd[(o * oh + oy) * ow + ox], f(f(acc + bq) * deq), `conv c=${c} group=${group} bits=${bits} at ${o},${oy},${ox}`);
      }
    }
  }
});

test(`decode-table and weight-only runners match FP32 on dequantized weights (${level})`, () => {
  const r = rng(5);
  const k = 100, n = 6, m = 3;
  const table = Float32Array.from({ length: 16 }, (_, i) => Math.sign(i - 7.5) * ((i - 7.5) / 7.5) ** 2);
  const w: QuantizedWeight = { format: 'nf4', kind: 'table', bits: 4, signed: false, dims: [k, n], layout: { kind: 'block', axis: 0, blockSize: 32 },
    scales: Float32Array.from({ length: 4 * n }, () => 0.5 + r()), table, codes: Int32Array.from({ length: k * n }, () => randInt(r, 0, 15)) };
  const x = f32([m, k], r);
  const qn = factory({ node: node('MatMul'), config: { weights: { 1: w } }, constants: [], opset: 13 })!;
  assert.equal(qn.path, 'decode-table');
  const y = qn.run([x])[0].data as Float32Array;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let q = 0; q < k; q++) s += (x.data as Float32Array)[i * k + q] * f(table[w.codes[q * n + j]] * w.scales[Math.floor(q / 32) * n + j]);
    assert.ok(Math.abs(y[i * n + j] - s) <= 1e-5 * (1 + Math.abs(s)), `decode-table ${i},${j}: ${y[i * n + j]} vs ${s}`);
  }
});

test(`requantized int8 MatMul node equals onnxruntime running the QDQ model (${level})`, async () => {
  const r = rng(6);
  const m = 5, k = 48, n = 12;
  const w = intWeight([k, n], 8, r, 1);
  const a = act(0.02, 131), y = act(0.05, 127);
  const x = f32([m, k], r, 4);
  // x → Q → DQ ─┐
  //   wq → DQ ──MatMul → Q → DQ → y   (onnxruntime fuses this into QLinearMatMul)
  const t = (name: string, dt: number, dims: number[], raw: ArrayBufferView) => ({ name, dataType: dt, dims, rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) });
  const DT = onnx.TensorProto.DataType;
  const g = {
    name: 'qdq',
    node: [
      { opType: 'QuantizeLinear', input: ['x', 'sa', 'za'], output: ['xq'] },
      { opType: 'DequantizeLinear', input: ['xq', 'sa', 'za'], output: ['xd'] },
      { opType: 'DequantizeLinear', input: ['wq', 'sw', 'zw'], output: ['wd'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
      { opType: 'MatMul', input: ['xd', 'wd'], output: ['yf'] },
      { opType: 'QuantizeLinear', input: ['yf', 'sy', 'zy'], output: ['yq'] },
      { opType: 'DequantizeLinear', input: ['yq', 'sy', 'zy'], output: ['y'] },
    ],
    initializer: [
      t('sa', DT.FLOAT, [], new Float32Array([a.scales[0]])), t('za', DT.UINT8, [], new Uint8Array([131])),
      t('wq', DT.INT8, [k, n], Int8Array.from(w.codes)), t('sw', DT.FLOAT, [n], w.scales), t('zw', DT.INT8, [n], new Int8Array(n)),
      t('sy', DT.FLOAT, [], new Float32Array([y.scales[0]])), t('zy', DT.UINT8, [], new Uint8Array([127])),
    ],
    input: [{ name: 'x', type: { tensorType: { elemType: DT.FLOAT, shape: { dim: [{ dimValue: m }, { dimValue: k }] } } } }],
    output: [{ name: 'y', type: { tensorType: { elemType: DT.FLOAT, shape: { dim: [{ dimValue: m }, { dimValue: n }] } } } }],
  };
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.fromObject({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph: g })).finish();
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const ref = (await s.run({ x: new ort.Tensor('float32', x.data as Float32Array, [m, k]) })).y.data as Float32Array;
  const qn = factory({ node: node('MatMul'), config: { weights: { 1: w }, inputs: { 0: a }, outputs: { 0: y } }, constants: [], opset: 13 })!;
  const ours = qn.run([x])[0].data as Float32Array;
  assert.deepEqual(Array.from(ours), Array.from(ref));
});

/** Dequantized activation value as the kernels see it. */
const dq = (x: number, a: ActivationQuant) => (qa(x, a) - a.zeroPoints![0]) * a.scales[0];

test(`Gemm attributes (transA, transB, alpha, beta) and 1-D Conv with auto_pad follow ONNX (${level})`, () => {
  const r = rng(7);
  // Gemm: Y = alpha·A'·B' + beta·C with A given as [K, M] and B as [N, K]
  const m = 3, k = 20, n = 6, alpha = 0.5, beta = 2;
  const w = intWeight([n, k], 8, r, 0);
  const a = act(0.02, 128);
  const x = f32([k, m], r);
  const c = f32([n], r);
  const qn = factory({ node: node('Gemm', { transA: { type: 'int', value: 1 }, transB: { type: 'int', value: 1 }, alpha: { type: 'float', value: alpha }, beta: { type: 'float', value: beta } }),
    config: { weights: { 1: w }, inputs: { 0: a } }, constants: [undefined, undefined, c], opset: 13 })!;
  const y = qn.run([x, undefined, c])[0];
  assert.deepEqual(y.dims, [m, n]);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let q = 0; q < k; q++) s += dq((x.data as Float32Array)[q * m + i], a) * w.codes[j * k + q] * w.scales[j];
    const want = alpha * s + beta * (c.data as Float32Array)[j];
    const lsb = a.scales[0] * w.scales[j] * alpha;
    assert.ok(Math.abs((y.data as Float32Array)[i * n + j] - want) <= lsb + 1e-5 * Math.abs(want), `Gemm ${i},${j}`);
  }
  // Conv 1-D, stride 2, SAME_UPPER: output length ceil(L / 2)
  const L = 11, cin = 3, cout = 4, kw = 4;
  const wc = intWeight([cout, cin, kw], 8, r, 0);
  const xc = f32([2, cin, L], r);
  const conv = factory({ node: node('Conv', { auto_pad: { type: 'string', value: 'SAME_UPPER' }, strides: { type: 'ints', value: [2] }, kernel_shape: { type: 'ints', value: [kw] } }),
    config: { weights: { 1: wc }, inputs: { 0: a } }, constants: [], opset: 13 })!;
  const yc = conv.run([xc])[0];
  const ol = Math.ceil(L / 2);
  assert.deepEqual(yc.dims, [2, cout, ol]);
  const total = Math.max(0, (ol - 1) * 2 + kw - L), padL = Math.floor(total / 2);
  for (let b = 0; b < 2; b++) for (let o = 0; o < cout; o++) for (let p = 0; p < ol; p++) {
    let s = 0;
    for (let ci = 0; ci < cin; ci++) for (let t = 0; t < kw; t++) {
      const ix = p * 2 - padL + t;
      if (ix >= 0 && ix < L) s += dq((xc.data as Float32Array)[(b * cin + ci) * L + ix], a) * wc.codes[(o * cin + ci) * kw + t] * wc.scales[o];
    }
    assert.ok(Math.abs((yc.data as Float32Array)[(b * cout + o) * ol + p] - s) <= 1e-5 * (1 + Math.abs(s)), `Conv1d ${b},${o},${p}`);
  }
});
