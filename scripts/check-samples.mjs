#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Measures each sample model's FP32 top-1 on the shared eval set by running the exported .onnx in
// onnxruntime-node (not torch), so the accuracy in the README is the one the ONNX file actually delivers.
//   node scripts/check-samples.mjs          prints a Markdown table
//   node scripts/check-samples.mjs --json   prints [{model, ops, inputShape, outputShape, bytes, samples, correct, top1}]
//   node scripts/check-samples.mjs --check  exits 1 unless samples/README.md records exactly these accuracies
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const samples = path.join(root, 'samples');

/** Minimal little-endian .npy reader for the two dtypes the fixtures use (the analysis has the full reader). */
function readNpy(file) {
  const buf = readFileSync(file);
  if (buf.readUInt32BE(0) !== 0x934e554d) throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const data = buf.subarray(start + headerLen);
  const copy = new Uint8Array(data).buffer; // aligned copy
  if (descr === '<f4') return { shape, data: new Float32Array(copy) };
  if (descr === '<i8') return { shape, data: new BigInt64Array(copy) };
  throw new Error(`${file}: dtype ${descr} not supported by this checker`);
}

/** Runs every samples/*.onnx on samples/data/eval and returns one row per model. */
export async function measureSamples() {
  const x = readNpy(path.join(samples, 'data/eval/x.npy'));
  const labels = readNpy(path.join(samples, 'data/eval/labels.npy'));
  const n = x.shape[0];
  if (labels.shape[0] !== n) throw new Error(`eval set: ${n} inputs but ${labels.shape[0]} labels`);
  const rows = [];
  for (const file of readdirSync(samples).filter((f) => f.endsWith('.onnx')).sort()) {
    const session = await ort.InferenceSession.create(path.join(samples, file));
    const [inName] = session.inputNames;
    const [outName] = session.outputNames;
    const out = await session.run({ [inName]: new ort.Tensor('float32', x.data, x.shape) });
    const logits = out[outName];
    const classes = logits.dims[1];
    let correct = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits.data[i * classes + c] > logits.data[i * classes + best]) best = c;
      if (BigInt(best) === labels.data[i]) correct++;
    }
    rows.push({
      model: file,
      inputShape: session.inputMetadata[0].shape,
      outputShape: session.outputMetadata[0].shape,
      bytes: statSync(path.join(samples, file)).size,
      samples: n,
      correct,
      top1: Number(((100 * correct) / n).toFixed(2)),
    });
    await session.release();
  }
  return rows;
}

/** Reads the `| model.onnx | … | 98.89 % |` rows of samples/README.md: model → recorded top-1 in percent. */
export function recordedAccuracies(readmeText) {
  const out = {};
  for (const m of readmeText.matchAll(/^\|\s*`?([\w-]+\.onnx)`?\s*\|.*?\|\s*([\d.]+)\s*%\s*\|\s*$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await measureSamples();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(rows, null, 2));
  } else {
    console.log('| model | size | eval samples | FP32 top-1 (onnxruntime-node) |');
    console.log('|---|---|---|---|');
    for (const r of rows) console.log(`| \`${r.model}\` | ${(r.bytes / 1024).toFixed(1)} KiB | ${r.samples} | ${r.top1.toFixed(2)} % |`);
  }
  if (process.argv.includes('--check')) {
    const recorded = recordedAccuracies(readFileSync(path.join(samples, 'README.md'), 'utf8'));
    const wrong = rows.filter((r) => recorded[r.model] !== r.top1);
    for (const r of wrong) console.error(`samples/README.md records ${recorded[r.model] ?? 'nothing'} % for ${r.model}, measured ${r.top1} %`);
    process.exit(wrong.length ? 1 : 0);
  }
}
