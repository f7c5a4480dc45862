// SPDX-License-Identifier: Apache-2.0
// Layer-local Hessian: tr(ΔW H ΔWᵀ) from sampled im2col rows equals the output error onnxruntime measures
// when the conv runs with W and with W + ΔW, and equals the explicit K×K H computed in the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelBytesSync } from '../../analysis/onnx/load';
import { OrtReference } from '../../analysis/activations/ortReference';
import { RowReservoir, layerGeometry } from '../../analysis/sensitivity/layerInputs';
import { OrtRowProducts, layerHessianError } from '../../analysis/sensitivity/layerHessian';
import { buildModel, randn } from './helpers/tinyModels';
import type { Tensor } from '../../engine/ir';

// grouped, strided, padded, dilated conv: 4 in, 6 out, 2 groups, 3x3
const W = randn(6 * 2 * 3 * 3, 1, 0.3);
const DW = randn(W.length, 2, 0.01);
const WQ = W.map((v, i) => v + DW[i]);
const X = randn(3 * 4 * 7 * 6, 3);
const convAttrs = { group: 2, strides: [2, 1], pads: [1, 0, 1, 2], dilations: [1, 2] };
const convModel = (w: Float32Array) => buildModel({
  inputs: [['x', ['N', 4, 7, 6]]], outputs: [['y', ['N', 6, 'H', 'W']]],
  nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], name: 'conv', attrs: convAttrs }],
  inits: [{ name: 'w', dims: [6, 2, 3, 3], data: w }, { name: 'b', dims: [6], data: Float32Array.of(1, 2, 3, 4, 5, 6) }],
});

async function convOut(w: Float32Array): Promise<Float32Array> {
  const ref = await OrtReference.create(convModel(w), [], 'conv', ['y']);
  const out = await ref.run({ x: { dtype: 'float32', dims: [3, 4, 7, 6], data: X } });
  await ref.dispose();
  return out.get('y')!.data as Float32Array;
}

test('layer Hessian error equals the measured conv output error (all rows kept) and explicit H', async () => {
  const { model } = loadModelBytesSync(convModel(W), 'conv.onnx');
  const node = model.graph.nodes[0];
  const geo = layerGeometry(node, model.graph.initializers.get(node.inputs[1]))!;
  assert.equal(geo.kind, 'conv2d');
  const res = new RowReservoir(node, geo, 100000);
  const x: Tensor = { dtype: 'float32', dims: [3, 4, 7, 6], data: X };
  res.add(x);
  const est = layerHessianError(res, W, WQ);
  const [y0, y1] = [await convOut(W), await convOut(WQ)];
  let measured = 0;
  for (let i = 0; i < y0.length; i++) measured += (y1[i] - y0[i]) ** 2;
  measured /= 3; // per calibration sample
  assert.equal(res.total, y0.length / 6, 'one row per output position');
  assert.ok(Math.abs(est.value - measured) / measured < 1e-4, `est ${est.value} vs measured ${measured}`);
  assert.equal(est.stdError, 0, 'every row kept: no sampling error');

  // explicit H = XᵀX / S per group, tr(ΔW_g H_g ΔW_gᵀ) summed over groups
  const K = geo.K, kg = K / 2;
  const H = new Float64Array(K * K);
  for (const r of res.rows) for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) H[a * K + b] += (r[a] * r[b]) / 3;
  let tr = 0;
  for (let o = 0; o < 6; o++) {
    const g = Math.floor(o / 3);
    for (let a = 0; a < kg; a++) for (let b = 0; b < kg; b++) tr += DW[o * kg + a] * H[(g * kg + a) * K + g * kg + b] * DW[o * kg + b];
  }
  assert.ok(Math.abs(tr - est.value) / tr < 1e-4, `explicit ${tr} vs ${est.value}`);
});

test('a small reservoir estimates the same error within its stated standard error', () => {
  const { model } = loadModelBytesSync(convModel(W), 'conv.onnx');
  const node = model.graph.nodes[0];
  const full = new RowReservoir(node, layerGeometry(node, model.graph.initializers.get(node.inputs[1]))!, 100000);
  const x: Tensor = { dtype: 'float32', dims: [3, 4, 7, 6], data: X };
  full.add(x);
  const exact = layerHessianError(full, W, WQ).value;
  let within = 0;
  for (let seed = 0; seed < 20; seed++) {
    const r = new RowReservoir(node, layerGeometry(node, model.graph.initializers.get(node.inputs[1]))!, 24, seed);
    r.add(x);
    const e = layerHessianError(r, W, WQ);
    assert.ok(e.stdError! > 0);
    if (Math.abs(e.value - exact) <= 2 * e.stdError!) within++;
  }
  assert.ok(within >= 15, `${within}/20 estimates within 2 SE`);
});

test('Gemm with transB and MatMul rows map onto W as [outputs × K]', async () => {
  const B = randn(5 * 3, 4);
  const BQ = B.map((v, i) => v + (i % 2 ? 0.02 : -0.01));
  const A = randn(8 * 5, 5);
  for (const [op, attrs, dims] of [['Gemm', { transB: 1 }, [3, 5]], ['MatMul', {}, [5, 3]]] as const) {
    const bytes = (b: Float32Array) => buildModel({
      inputs: [['a', [8, 5]]], outputs: [['y', [8, 3]]],
      nodes: [{ op, inputs: ['a', 'b'], outputs: ['y'], attrs: attrs as Record<string, number> }],
      inits: [{ name: 'b', dims: [...dims], data: b }],
    });
    const { model } = loadModelBytesSync(bytes(B), 'm.onnx');
    const res = new RowReservoir(model.graph.nodes[0], layerGeometry(model.graph.nodes[0], model.graph.initializers.get('b'))!, 1000);
    res.add({ dtype: 'float32', dims: [8, 5], data: A });
    const est = layerHessianError(res, B, BQ).value;
    const run = async (b: Float32Array) => {
      const ref = await OrtReference.create(bytes(b), [], 'm', ['y']);
      const y = (await ref.run({ a: { dtype: 'float32', dims: [8, 5], data: A } })).get('y')!.data as Float32Array;
      await ref.dispose();
      return y;
    };
    const [y0, y1] = [await run(B), await run(BQ)];
    let m = 0;
    for (let i = 0; i < y0.length; i++) m += (y1[i] - y0[i]) ** 2;
    m /= 8;
    assert.ok(Math.abs(est - m) / m < 1e-4, `${op}: ${est} vs ${m}`);
  }
});

test('row products on onnxruntime give the same estimate as the JS path (ungrouped conv), and grouped convs fall back', async () => {
  const w1 = randn(6 * 4 * 3 * 3, 5, 0.3);
  const q1 = w1.map((v, i) => v + DW[i % DW.length]);
  const ungrouped = buildModel({
    inputs: [['x', ['N', 4, 7, 6]]], outputs: [['y', ['N', 6, 'H', 'W']]],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], name: 'conv', attrs: { pads: [1, 1, 1, 1] } }],
    inits: [{ name: 'w', dims: [6, 4, 3, 3], data: w1 }],
  });
  const x: Tensor = { dtype: 'float32', dims: [3, 4, 7, 6], data: X };
  const rows = await OrtRowProducts.create();
  try {
    for (const [bytes, w, wq] of [[ungrouped, w1, q1], [convModel(W), W, WQ]] as const) {
      const { model } = loadModelBytesSync(bytes, 'conv.onnx');
      const node = model.graph.nodes[0];
      const res = new RowReservoir(node, layerGeometry(node, model.graph.initializers.get(node.inputs[1]))!, 20, 3);
      res.add(x);
      const js = layerHessianError(res, w, wq);
      const viaOrt = await rows.error(res, OrtRowProducts.pack(res), w, wq);
      assert.ok(Math.abs(viaOrt.value - js.value) / js.value < 1e-4, `ort ${viaOrt.value} vs js ${js.value}`);
      assert.ok(Math.abs(viaOrt.stdError! - js.stdError!) / js.stdError! < 1e-3, `se ${viaOrt.stdError} vs ${js.stdError}`);
    }
  } finally { await rows.dispose(); }
});
