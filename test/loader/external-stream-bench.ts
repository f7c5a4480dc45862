// SPDX-License-Identifier: Apache-2.0
/**
 * Peak-RSS benchmark for models over 2 GB with external data (issue 8 item 2). Builds a MatMul chain whose
 * weights (default 10 × 256 MiB = 2.5 GiB) live in one external file, then runs the weight statistics of
 * `quantlens inspect` in a child process with lazy (streamed) external data and, with --compare, eager.
 *   node --import tsx test/loader/external-stream-bench.ts [--layers 10] [--k 8192] [--compare]
 * Prints peak RSS per mode; not a test (it writes a sparse multi-GiB file to a temp folder, deleted afterwards).
 * Measured (2.5 GiB of weights): lazy peak RSS 630 MiB, eager 2701 MiB.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeLayers } from '../../analysis/layers';
import { loadModel } from '../../analysis/onnx/load';
import { FLOAT, encodeModel, node, vi } from './onnxBuild';

const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(name); return i >= 0 ? Number(process.argv[i + 1]) : dflt; };

async function child(file: string, mode: 'lazy' | 'eager'): Promise<void> {
  const t0 = performance.now();
  const loaded = await loadModel(file, { externalData: mode, limits: { maxTotalBytes: 64 * 2 ** 30 } });
  const layers = describeLayers(loaded);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ mode, layers: layers.length, externalGiB: loaded.external.bytes / 2 ** 30, peakRssMiB: Math.round(maxRss / 2 ** 20), seconds: (performance.now() - t0) / 1000, firstStd: layers[0].weightStats?.std }));
}

function build(dir: string, layers: number, k: number): string {
  const bytesPer = k * k * 4;
  const fd = openSync(path.join(dir, 'weights.bin'), 'w');
  ftruncateSync(fd, layers * bytesPer); // sparse: zeros except a written pattern per tensor
  const pattern = Float32Array.from({ length: 1 << 18 }, (_, i) => Math.sin(i * 0.1));
  for (let l = 0; l < layers; l++) writeSync(fd, new Uint8Array(pattern.buffer), 0, pattern.byteLength, l * bytesPer);
  closeSync(fd);
  const initializer = Array.from({ length: layers }, (_, l) => ({
    name: `w${l}`, dims: [k, k], dataType: FLOAT, dataLocation: 1,
    externalData: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: String(l * bytesPer) }, { key: 'length', value: String(bytesPer) }],
  }));
  const nodes = Array.from({ length: layers }, (_, l) => node('MatMul', [l ? `h${l - 1}` : 'x', `w${l}`], [l === layers - 1 ? 'y' : `h${l}`]));
  const file = path.join(dir, 'big.onnx');
  writeFileSync(file, encodeModel({ input: [vi('x', [1, k])], output: [vi('y', [1, k])], initializer, node: nodes }));
  return file;
}

async function benchMain(): Promise<void> {
  const mode = process.argv[process.argv.indexOf('--child') + 1];
  if (process.argv.includes('--child')) return child(process.argv[process.argv.indexOf('--file') + 1], mode as 'lazy' | 'eager');
  const layers = arg('--layers', 10), k = arg('--k', 8192);
  const dir = mkdtempSync(path.join(tmpdir(), 'ql-bigext-'));
  try {
    const file = build(dir, layers, k);
    console.log(`model with ${layers} external weights of [${k}x${k}] float32 = ${(layers * k * k * 4 / 2 ** 30).toFixed(2)} GiB`);
    for (const m of process.argv.includes('--compare') ? ['lazy', 'eager'] : ['lazy']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', m, '--file', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      process.stdout.write(r.stdout);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void benchMain();
