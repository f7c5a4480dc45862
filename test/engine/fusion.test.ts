// SPDX-License-Identifier: Apache-2.0
/**
 * Conv/Gemm → BatchNormalization → activation fusion: the fused program matches the unfused one (compile option
 * `fuse: false`) on the sample models under a calibrated W8A8 config and in FP32, taps of a chain's intermediate
 * values run that chain unfused, and timings attribute the folded nodes to the Conv. Residual Add → Relu pairs fuse
 * too.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { compile, runSync } from '../../engine/index';
import type { EngineQuantConfig, Program } from '../../engine/index';
import type { Tensor } from '../../engine/ir';
import { loadModel } from '../../analysis/onnx/load';
import { presetConfig } from '../../analysis/presets';
import { openCalibration } from '../../analysis/data/index';
import { activationTensorsFor, buildEngineConfig } from '../../analysis/eval/engineConfig';
import { calibrateActivations } from '../../analysis/eval/evaluate';
import { input, model, node, randomTensor } from './graphs';

const REPO = path.resolve(__dirname, '..', '..');

interface Setup { model: Awaited<ReturnType<typeof loadModel>>['model']; engine: EngineQuantConfig; feeds: Record<string, Tensor> }

async function setup(name: string): Promise<Setup> {
  const file = path.join(REPO, 'samples', `${name}.onnx`);
  const loaded = await loadModel(file);
  const graph = loaded.model.graph;
  const config = presetConfig('w8a8', { path: file, sha256: loaded.sha256 });
  const fp = compile(loaded.model);
  const calib = openCalibration(graph, { data: path.join(REPO, 'samples/data/calib'), shapes: {} });
  const stats = await calibrateActivations(loaded, readFileSync(file), activationTensorsFor(graph, config, fp.constants), calib);
  const built = buildEngineConfig(graph, config, stats, fp.constants);
  let feeds: Record<string, Tensor> | undefined;
  for await (const b of calib.batches(8)) { feeds = b.feeds; break; }
  assert.ok(feeds, `no calibration samples for ${name}`);
  return { model: loaded.model, engine: built.engine, feeds };
}

function assertClose(actual: Tensor, expected: Tensor, what: string): void {
  assert.deepEqual(actual.dims, expected.dims, `${what}: dims`);
  const a = actual.data as Float32Array, e = expected.data as Float32Array;
  let peak = 0;
  for (let i = 0; i < e.length; i++) peak = Math.max(peak, Math.abs(e[i]));
  for (let i = 0; i < e.length; i++) {
    assert.ok(Math.abs(a[i] - e[i]) <= 1e-5 * Math.max(Math.abs(e[i]), peak * 1e-3), `${what}[${i}]: fused ${a[i]} vs unfused ${e[i]}`);
  }
}

/** The node names folded into another node by a run's timings. */
function foldedNodes(program: Program, feeds: Record<string, Tensor>, taps?: string[]): Map<string, string> {
  const r = runSync(program, feeds, { timings: true, taps });
  const out = new Map<string, string>();
  for (const t of r.timings!) if (t.fusedInto) { assert.equal(t.ms, 0, `${t.node} is folded but timed`); out.set(t.node, t.fusedInto); }
  return out;
}

for (const name of ['cnn', 'mobilenet']) {
  test(`${name}: fused W8A8 and FP32 runs match the unfused runs and fold every BN and activation after a Conv`, async () => {
    const s = await setup(name);
    for (const cfg of [s.engine, undefined]) {
      const fused = compile(s.model, cfg);
      const plain = compile(s.model, cfg, { fuse: false });
      const want = runSync(plain, s.feeds).outputs;
      const got = runSync(fused, s.feeds).outputs;
      for (const k of Object.keys(want)) assertClose(got[k], want[k], `${name} ${cfg ? 'W8A8' : 'FP32'} output ${k}`);

      const folded = foldedNodes(fused, s.feeds);
      const nodes = s.model.graph.nodes;
      const expected = nodes.filter((n, i) => (n.opType === 'BatchNormalization' && nodes[i - 1]?.opType === 'Conv')
        || (['Relu', 'HardSwish'].includes(n.opType) && nodes[i - 1]?.opType === 'BatchNormalization'));
      assert.ok(expected.length >= 4, `${name} has Conv→BN→act chains`);
      assert.deepEqual([...folded.keys()].sort(), expected.map((n) => n.name).sort());
      for (const [member, head] of folded) assert.equal(nodes.find((n) => n.name === head)?.opType, 'Conv', `${member} folded into ${head}`);
      assert.equal(foldedNodes(plain, s.feeds).size, 0, 'fuse: false folds nothing');
      if (cfg) {
        const timings = runSync(fused, s.feeds, { timings: true }).timings!;
        const convPaths = timings.filter((t) => t.op === 'Conv').map((t) => t.path);
        assert.ok(convPaths.every((p) => p === 'int8'), `fused Convs still report their kernel path (${convPaths.join(',')})`);
        // BN → ReLU / HardSwish ride in the integer kernel's epilogue
        for (const chain of fused.fusions!.values()) {
          const last = fused.nodes[chain.members[chain.members.length - 1]].node.opType;
          assert.ok(chain.inKernel, `${fused.nodes[chain.head].node.name} → ${last}: in kernel`);
        }
      }
    }
  });
}

test('tapping an intermediate value of a chain runs that chain unfused and returns the true intermediate', async () => {
  const s = await setup('cnn');
  const nodes = s.model.graph.nodes;
  const conv = nodes.find((n) => n.opType === 'Conv')!;
  const bn = nodes.find((n) => n.inputs[0] === conv.outputs[0])!;
  const act = nodes.find((n) => n.inputs[0] === bn.outputs[0])!;
  assert.equal(bn.opType, 'BatchNormalization');
  const fused = compile(s.model, s.engine);
  const plain = compile(s.model, s.engine, { fuse: false });
  for (const tap of [conv.outputs[0], bn.outputs[0]]) {
    const ref = runSync(plain, s.feeds, { taps: [tap] });
    const got = runSync(fused, s.feeds, { taps: [tap] });
    assertClose(got.taps![tap], ref.taps![tap], `tap ${tap}`);
    for (const k of Object.keys(ref.outputs)) assertClose(got.outputs[k], ref.outputs[k], `output ${k} with tap ${tap}`);
    const folded = foldedNodes(fused, s.feeds, [tap]);
    assert.ok(!folded.has(bn.name) && !folded.has(act.name), `tap ${tap} keeps ${conv.name}'s chain unfused`);
    assert.ok(folded.size >= 2, 'the other chains stay fused');
  }
  // the chain's final value is not inside the chain: tapping it keeps the fusion
  const folded = foldedNodes(fused, s.feeds, [act.outputs[0]]);
  assert.equal(folded.get(act.name), conv.name);
});

test('a per-run override of a folded BatchNormalization parameter runs that chain unfused with the new value', async () => {
  const s = await setup('cnn');
  const bn = s.model.graph.nodes.find((n) => n.opType === 'BatchNormalization')!;
  const biasName = bn.inputs[2];
  const fused = compile(s.model, s.engine);
  const plain = compile(s.model, s.engine, { fuse: false });
  const bias = fused.constants.get(biasName)!;
  const shifted: Tensor = { ...bias, data: Float32Array.from(bias.data as Float32Array, (v) => v + 0.5) };
  const ref = runSync(plain, s.feeds, { weightOverrides: { [biasName]: shifted } }).outputs;
  const got = runSync(fused, s.feeds, { weightOverrides: { [biasName]: shifted } }).outputs;
  for (const k of Object.keys(ref)) assertClose(got[k], ref[k], `output ${k} with overridden ${biasName}`);
  const base = runSync(plain, s.feeds).outputs;
  const k0 = Object.keys(base)[0];
  assert.ok((got[k0].data as Float32Array).some((v, i) => v !== (base[k0].data as Float32Array)[i]), 'the override reaches the output');
});

test('a residual Add → Relu runs as one pass and equals the unfused pair bit for bit; broadcasting operands run unfused', () => {
  const g = (bShape: number[]) => model([node('add', 'Add', ['a', 'b'], ['s']), node('relu', 'Relu', ['s'], ['y'])],
    [input('a', [2, 3, 4, 5]), input('b', bShape)], ['y']);
  for (const bShape of [[2, 3, 4, 5], [1, 3, 1, 1]]) {
    const feeds = { a: randomTensor([2, 3, 4, 5], 1), b: randomTensor(bShape, 2) };
    const fused = compile(g(bShape)), plain = compile(g(bShape), undefined, { fuse: false });
    assert.equal(fused.fusions?.size, 1, 'Add → Relu is a chain');
    const got = runSync(fused, feeds).outputs.y.data as Float32Array;
    const want = runSync(plain, feeds).outputs.y.data as Float32Array;
    assert.deepEqual([...got], [...want], `b ${bShape.join('x')}`);
    assert.ok(got.some((v) => v === 0) && got.some((v) => v > 0), 'both sides of the Relu are exercised');
    assert.deepEqual([...foldedNodes(fused, feeds).entries()], [['relu', 'add']]);
  }
});
