// SPDX-License-Identifier: Apache-2.0
/**
 * What GPTQ rounding costs per layer, measured, never asserted: `node --import tsx test/bench/gptq.bench.ts
 * [--k 1152,2304,4608] [--samples 32]`. For each row length K a 3×3 convolution with K/9 input channels and 512
 * outputs on 7×7 inputs (ResNet's last stage): accumulating XᵀX over the samples' im2col rows (the code eval and
 * suggest run), factorising H (inverseUpperFactor), and rounding the 512 output rows with the factor cached.
 * There is no peer to compare with in this process (onnxruntime has no GPTQ), so the figures are absolute.
 */
import { GramAccumulator } from '../../analysis/eval/layerGram';
import { calibrate } from '../../analysis/quant/calibrate';
import { GPTQ_DAMP, gptqRound, inverseUpperFactor } from '../../analysis/quant/gptq';
import { layerGeometry } from '../../analysis/sensitivity/layerInputs';
import type { Node, Tensor } from '../../engine/ir';
import { normal } from '../quant/gen';

const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : dflt; };
const KS = arg('--k', '1152,2304,4608').split(',').map(Number);
const SAMPLES = Number(arg('--samples', '32'));
const OUT = 512, HW = 7;

const seconds = (t0: number) => (performance.now() - t0) / 1000;
for (const K of KS) {
  const cin = K / 9;
  const node: Node = { name: 'conv', opType: 'Conv', domain: '', inputs: ['x', 'w'], outputs: ['y'], attrs: { pads: { type: 'ints', value: [1, 1, 1, 1] } } };
  const dims = [OUT, cin, 3, 3];
  const w = normal(OUT * K, 1, 0.05);
  const weight: Tensor = { dtype: 'float32', dims, data: w };
  const geometry = layerGeometry(node, weight)!;
  const layer = { node, weightIndex: 1, weightName: 'w', dims, tensor: weight };
  const acc = new GramAccumulator(layer, geometry);
  let t0 = performance.now();
  for (let s = 0; s < SAMPLES; s++) acc.add({ dtype: 'float32', dims: [1, cin, HW, HW], data: normal(cin * HW * HW, 100 + s) });
  const gramS = seconds(t0);
  const gram = acc.result();
  t0 = performance.now();
  inverseUpperFactor(gram.gram[0], K, GPTQ_DAMP);
  const factorS = seconds(t0);
  const params = calibrate({ data: w, dims }, { format: 'int4', granularity: { kind: 'channel', axis: 0 }, calibration: { kind: 'mse' } });
  gptqRound(w, dims, params, geometry, gram); // computes and caches the factor
  t0 = performance.now();
  gptqRound(w, dims, params, geometry, gram);
  const roundS = seconds(t0);
  console.log(`K=${K}: XᵀX ${(1000 * gramS / gram.rows).toFixed(2)} ms/row (${gram.rows} rows, ${gramS.toFixed(1)} s), factorisation ${factorS.toFixed(1)} s, rounding ${OUT} output rows ${roundS.toFixed(1)} s`);
}
