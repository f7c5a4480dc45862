// SPDX-License-Identifier: Apache-2.0
/**
 * Whole-model W8A8 inference, single thread: the sample models compiled by the engine under the `w8a8` preset
 * (int8 per-channel weights, uint8 activations calibrated on samples/data/calib) against onnxruntime-web's WASM
 * backend and onnxruntime-node running the equivalent QDQ model exported by `quantlens export`. Batch of 32
 * samples per call; best-of-N process CPU time. `--json FILE` writes {case, ours, peer, peerValue, ratio, unit}.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { compile, run } from '../../engine/index';
import type { Tensor } from '../../engine/ir';
import { loadModel } from '../../analysis/onnx/load';
import { presetConfig } from '../../analysis/presets';
import { openCalibration, type CalibrationOptions } from '../../analysis/data/index';
import { activationTensorsFor, buildEngineConfig } from '../../analysis/eval/engineConfig';
import { calibrateActivations } from '../../analysis/eval/evaluate';
import { exportQdq } from '../../analysis/export/qdq';
import type { BenchRecord } from './kernels.bench';

const ortWeb = createRequire(__filename)('onnxruntime-web') as typeof ortNode;
ortWeb.env.wasm.numThreads = 1;
const root = path.resolve(__dirname, '..', '..');
const quick = process.argv.includes('--quick');

async function cpuBest(runners: (() => Promise<unknown>)[], minMs = quick ? 300 : 1500): Promise<number[]> {
  for (const r of runners) { await r(); await r(); }
  const samples: number[][] = runners.map(() => []);
  const start = performance.now();
  while (performance.now() - start < minMs * runners.length || samples[0].length < 5) {
    for (let i = 0; i < runners.length; i++) {
      const c0 = process.cpuUsage();
      await runners[i]();
      const c = process.cpuUsage(c0);
      samples[i].push((c.user + c.system) / 1000);
    }
  }
  return samples.map((s) => Math.min(...s));
}

/** A benchmarked model: its file and where its calibration (and benchmark) samples come from. */
interface BenchModel { name: string; file: string; calib: CalibrationOptions }

async function benchModel({ name, file, calib: calibOpts }: BenchModel, records: BenchRecord[], rows: string[]): Promise<void> {
  const bytes = readFileSync(file);
  const loaded = await loadModel(file);
  const graph = loaded.model.graph;
  const config = presetConfig('w8a8', { path: file, sha256: loaded.sha256 });
  const fp = compile(loaded.model);
  const calib = openCalibration(graph, calibOpts);
  const stats = await calibrateActivations(loaded, bytes, activationTensorsFor(graph, config, fp.constants), calib);
  const built = buildEngineConfig(graph, config, stats, fp.constants);
  const program = compile(loaded.model, built.engine);
  const qdq = exportQdq(bytes, built.engine, file).bytes;
  const web = await ortWeb.InferenceSession.create(qdq, { executionProviders: ['wasm'] });
  const nat = await ortNode.InferenceSession.create(qdq, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  let feeds: Record<string, Tensor> | undefined;
  for await (const b of calib.batches(32)) { feeds = b.feeds; break; }
  if (!feeds) throw new Error(`no calibration samples for ${name}`);
  const inName = graph.inputs[0].name;
  const x = feeds[inName];
  const batch = x.dims[0];
  const paths = [...new Set(program.nodes.map((n) => n.path))].join('/');
  const [ours, tWeb, tNat] = await cpuBest([
    () => run(program, feeds!),
    () => web.run({ [inName]: new ortWeb.Tensor('float32', x.data as Float32Array, x.dims) }),
    () => nat.run({ [inName]: new ortNode.Tensor('float32', x.data as Float32Array, x.dims) }),
  ]);
  const perSample = (ms: number) => (1000 * ms) / batch;
  const c = `${name} W8A8 batch ${batch} (engine paths ${paths})`;
  for (const [peer, t] of [['ort-web wasm QDQ', tWeb], ['ort-node QDQ', tNat]] as const) {
    records.push({ case: c, ours: +perSample(ours).toFixed(2), peer, peerValue: +perSample(t).toFixed(2), ratio: +(t / ours).toFixed(3), unit: 'µs/sample (ratio = peer time / ours)' });
    rows.push(`| ${c} | ${perSample(ours).toFixed(1)} | ${peer} | ${perSample(t).toFixed(1)} | ${(t / ours).toFixed(2)}× |`);
  }
}

/**
 * The ResNet-style model (test/bench/make_resnet_small.py: ResNet-18 topology at widths 16–128, 64×64 input,
 * residual Adds and BatchNormalization), generated once into test-artifacts/ with Debian's python3 + torch;
 * undefined (row skipped, said on stderr) when it cannot be generated.
 */
function resnetSmall(): string | undefined {
  const file = path.join(root, 'test-artifacts', 'resnet-small.onnx');
  if (existsSync(file)) return file;
  const r = spawnSync('/usr/bin/python3', [path.join(__dirname, 'make_resnet_small.py'), file], { stdio: 'inherit' });
  if (r.status === 0 && existsSync(file)) return file;
  console.error('model bench: could not generate test-artifacts/resnet-small.onnx (needs /usr/bin/python3 with torch); ResNet row skipped');
  return undefined;
}

async function main(): Promise<void> {
  const records: BenchRecord[] = [];
  const rows: string[] = [];
  const sampleCalib = { data: path.join(root, 'samples/data/calib'), shapes: {} };
  const models: BenchModel[] = ['cnn', 'mobilenet'].map((m) => ({ name: m, file: path.join(root, 'samples', `${m}.onnx`), calib: sampleCalib }));
  const resnet = resnetSmall();
  if (resnet) models.push({ name: 'resnet-small', file: resnet, calib: { random: 32, seed: 1 } });
  for (const m of models) await benchModel(m, records, rows);
  console.log('Whole-model W8A8 (single thread; µs per sample, lower is better; speed-up = peer time / ours)\n');
  console.log('| model | ours µs/sample | peer | peer µs/sample | speed-up |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  const i = process.argv.indexOf('--json');
  if (i > 0 && process.argv[i + 1]) writeFileSync(process.argv[i + 1], JSON.stringify(records, null, 2));
}

main().catch((e) => { console.error(e); process.exit(2); });
