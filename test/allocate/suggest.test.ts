// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { candidateSpec, suggest } from '../../analysis/allocate/suggest';
import { checkConfigText } from '../../analysis/config/load';
import { serializeConfig } from '../../analysis/config/serialize';
import { resolveLayer } from '../../analysis/config/types';
import { openCalibration } from '../../analysis/data/index';
import { loadModel } from '../../analysis/onnx/load';

const samples = path.resolve(__dirname, '../../samples');

test('suggest on the CNN sample: budget met, pins honoured, frontier verified on the engine, config valid', async () => {
  const file = path.join(samples, 'cnn.onnx');
  const loaded = await loadModel(file);
  const calib = () => openCalibration(loaded.model.graph, { data: path.join(samples, 'data/calib') });
  const r = await suggest({
    loaded, modelBytes: readFileSync(file), modelPath: 'cnn.onnx', budget: { kind: 'avg-bits', value: 4.5 },
    formats: ['int8', 'int4', 'int3', 'int2'], activation: { format: 'uint8', granularity: 'tensor', calibration: 'minmax', symmetric: false },
    sensitivity: 'perturbation', pins: { '/fc/Gemm': 'int8' }, calibSource: calib(), verifySource: calib(), paretoSteps: 5, toolVersion: 'test',
    maxAccuracyDrop: 0.05,
  });
  // --max-accuracy-drop: the cheapest verified point within the budget whose measured drop (1 − agreement here) fits
  const drop = (p: typeof r.chosen) => 1 - (p.measured.top1Agreement ?? 0);
  assert.ok(drop(r.chosen) <= 0.05);
  for (const p of r.frontier) if (p.cost < r.chosen.cost - 1e-9 && p.cost <= 4.5) assert.ok(drop(p) > 0.05, `cheaper point ${p.cost} also fits`);
  assert.ok(r.chosen.avgWeightBits <= 4.5 + 1e-9, `avg bits ${r.chosen.avgWeightBits}`);
  assert.equal(r.chosen.choices['/fc/Gemm'], 'int8');
  assert.equal(resolveLayer(r.config, '/fc/Gemm').weights?.format, 'int8');
  assert.equal(resolveLayer(r.config, '/fc/Gemm').pinned, true);
  // measured figures accompany every predicted point; more bits → lower predicted loss along the frontier
  assert.ok(r.frontier.length >= 2);
  for (let i = 1; i < r.frontier.length; i++) assert.ok(r.frontier[i].predictedLoss < r.frontier[i - 1].predictedLoss);
  for (const p of [...r.frontier, r.chosen]) assert.ok(p.measured.kl !== null && p.measured.top1Agreement !== null);
  // predicted and measured agree in direction: the cheapest point is measurably worse than the richest
  assert.ok((r.frontier[0].measured.kl ?? 0) > (r.frontier[r.frontier.length - 1].measured.kl ?? 0));
  assert.equal(r.config.provenance?.method, 'ilp');
  assert.deepEqual(checkConfigText(serializeConfig(r.config)).problems, []);
});

test('without a drop limit the written point is the best measured of the ILP optimum, the frontier and the uniform allocations within the budget', async () => {
  const file = path.join(samples, 'cnn.onnx');
  const loaded = await loadModel(file);
  const calib = () => openCalibration(loaded.model.graph, { data: path.join(samples, 'data/calib') });
  const r = await suggest({
    loaded, modelBytes: readFileSync(file), modelPath: 'cnn.onnx', budget: { kind: 'avg-bits', value: 4.5 },
    formats: ['int8', 'int6', 'int4', 'int3', 'int2'], activation: { format: 'uint8', granularity: 'tensor', calibration: 'minmax', symmetric: false },
    sensitivity: 'perturbation', calibSource: calib(), verifySource: calib(), paretoSteps: 4, toolVersion: 'test',
  });
  // uniform int4 (per channel, MSE clip) fits 4.5 bits on this model; int6/int8 do not
  const ids = r.baselines.map((b) => b.label);
  assert.ok(ids.includes('uniform int4') && ids.includes('uniform int2'), `baselines: ${ids.join(', ')}`);
  assert.ok(!ids.includes('uniform int8'), 'uniform int8 is over the budget');
  for (const b of r.baselines) {
    assert.ok(b.avgWeightBits <= 4.5 + 1e-9);
    assert.ok(Object.values(b.choices).every((c) => c === b.label!.slice('uniform '.length)), `${b.label} is one format everywhere`);
  }
  assert.ok(r.chosen.cost <= 4.5 + 1e-9);
  const kl = (p: { measured: { kl: number | null } }) => p.measured.kl!;
  for (const p of [...r.frontier.filter((f) => f.cost <= 4.5 + 1e-9), ...r.baselines]) {
    assert.ok(kl(r.chosen) <= kl(p), `written KL ${kl(r.chosen)} vs ${p.label ?? p.budget} ${kl(p)}`);
  }
  assert.match(r.selection, /ILP optimum/);
});

test('GPTQ candidates (FMT+gptq): the ILP can pick them, and a nearest layer under a GPTQ default says so explicitly', async () => {
  assert.deepEqual(candidateSpec('int4+gptq'), { format: 'int4', granularity: 'channel', calibration: 'mse', rounding: 'gptq' });
  assert.deepEqual(candidateSpec('int6:tensor'), { format: 'int6', granularity: 'tensor', calibration: 'minmax' });
  assert.throws(() => candidateSpec('int4+adaround'), /rounding after '\+' is gptq or nearest/);
  const file = path.join(samples, 'cnn.onnx');
  const loaded = await loadModel(file);
  const calib = () => openCalibration(loaded.model.graph, { data: path.join(samples, 'data/calib') });
  const r = await suggest({
    loaded, modelBytes: readFileSync(file), modelPath: 'cnn.onnx', budget: { kind: 'avg-bits', value: 4.5 },
    formats: ['int8', 'int4', 'int4+gptq'], activation: null, pins: { '/conv1/Conv': 'int8' },
    sensitivity: 'perturbation', calibSource: calib(), verifySource: calib(), paretoSteps: 3, toolVersion: 'test',
  });
  // int4+gptq has the bits of int4 and a lower measured loss on every layer, so no layer takes plain int4
  assert.ok(!Object.values(r.chosen.choices).includes('int4'), JSON.stringify(r.chosen.choices));
  assert.equal(resolveLayer(r.config, '/conv2/Conv').weights?.rounding, 'gptq');
  const conv1 = resolveLayer(r.config, '/conv1/Conv').weights;
  assert.equal(conv1?.format, 'int8');
  assert.equal(conv1?.rounding, r.config.defaults.weights?.rounding === 'gptq' ? 'nearest' : undefined);
  assert.deepEqual(checkConfigText(serializeConfig(r.config)).problems, []);
});
