// SPDX-License-Identifier: Apache-2.0
// Activation statistics (streamed moments, per-channel ranges, the ORT pass with exposed intermediates) and
// the outlier metrics + tags built on them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { ActivationAccumulator, activationChannelAxis } from '../../analysis/activations/accumulator';
import { OrtReference } from '../../analysis/activations/ortReference';
import { collectActivationStats } from '../../analysis/activations/collect';
import { tensorStatsFrom } from '../../analysis/outliers/metrics';
import { addLayerTags, tagTensor } from '../../analysis/outliers/tags';
import { SeededRandom, randomSource } from '../../analysis/data/random';
import { loadModel } from '../../analysis/onnx/load';
import { inputSpecsFromGraph } from '../../analysis/data/source';

const ROOT = path.join(__dirname, '../..');
const rng = new SeededRandom(42);
const fill = (n: number, g: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => g(i));

function accumulate(data: Float32Array, dims: number[], batches = 4, axis = activationChannelAxis) {
  const a = new ActivationAccumulator('t', axis);
  const per = data.length / batches;
  for (let b = 0; b < batches; b++) a.add(data.subarray(b * per, (b + 1) * per), [dims[0] / batches, ...dims.slice(1)]);
  return a;
}

test('streamed central moments match a direct computation, even with a large mean', () => {
  const data = fill(40000, () => 1000 + 2 * rng.normal());
  const a = accumulate(data, [40, 1000]);
  const n = data.length;
  const mean = data.reduce((s, x) => s + x, 0) / n;
  let m2 = 0, m4 = 0;
  for (const x of data) { const d = x - mean; m2 += d * d; m4 += d ** 4; }
  assert.ok(Math.abs(a.mean - mean) < 1e-9 * 1000);
  assert.ok(Math.abs(a.std - Math.sqrt(m2 / n)) < 1e-9);
  assert.ok(Math.abs(a.kurtosis - (n * m4) / (m2 * m2)) < 1e-6);
  assert.ok(Math.abs(a.kurtosis - 3) < 0.1, `normal kurtosis ≈ 3, got ${a.kurtosis}`);
  assert.ok(a.histogram.bins >= 2048);
});

test('per-channel ranges find the outlier channel (NCHW: axis 1)', () => {
  const dims = [4, 16, 5, 5];
  const data = fill(4 * 16 * 25, (i) => (Math.floor(i / 25) % 16 === 11 ? 40 : 1) * rng.normal());
  const s = tensorStatsFrom(accumulate(data, dims, 2));
  assert.ok(s.channelRangeRatio > 8, `ratio ${s.channelRangeRatio}`);
  assert.deepEqual(s.outlierChannels, [11]);
  const tags = tagTensor(s, undefined, { kind: 'activation' });
  const t = tags.find((x) => x.id === 'inter-channel-variance');
  assert.ok(t && t.suggestion === 'mosf' && t.reason.includes('11'));
});

test('tags: post-Softmax power law, heavy tail, bimodal, near-constant, none on a plain Gaussian', () => {
  // softmax over 64 logits per row
  const rows = 200, cols = 64;
  const sm = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const z = Array.from({ length: cols }, () => 3 * rng.normal());
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, c) => { sm[r * cols + c] = v / s; });
  }
  const a = accumulate(sm, [rows, cols]);
  const pl = tagTensor(tensorStatsFrom(a), a.histogram, { kind: 'activation', skewness: a.skewness });
  assert.equal(pl.find((t) => t.id === 'power-law')?.suggestion, 'log2');

  const heavy = fill(20000, (i) => (i % 997 === 0 ? 60 : 1) * rng.normal());
  const h = accumulate(heavy, [20, 1000]);
  const hs = tensorStatsFrom(h);
  assert.ok(hs.kurtosis > 10 && hs.beyond6Sigma > 0 && (hs.absBeyond6 ?? 0) > 0 && (hs.maxOverMedian ?? 0) > 20);
  assert.ok(tagTensor(hs, h.histogram, { kind: 'activation' }).some((t) => t.id === 'heavy-tailed'));

  const bi = fill(20000, (i) => (i % 2 ? -3 : 3) + 0.4 * rng.normal());
  const b = accumulate(bi, [20, 1000]);
  assert.ok(tagTensor(tensorStatsFrom(b), b.histogram, { kind: 'activation' }).some((t) => t.id === 'bimodal'));

  const c = accumulate(fill(1000, () => 0.5), [10, 100]);
  assert.deepEqual(tagTensor(tensorStatsFrom(c), c.histogram, { kind: 'weight' }).map((t) => t.id), ['near-constant']);

  const g = accumulate(fill(20000, () => rng.normal()), [20, 1000]);
  assert.deepEqual(tagTensor(tensorStatsFrom(g), g.histogram, { kind: 'activation', skewness: g.skewness }), []);
});

test('a tag both the weight and the activation carry is one layer tag with both reasons', () => {
  const tags = addLayerTags([], 'weight', [{ id: 'bimodal', reason: 'two modes', suggestion: 'fp8_e4m3' }, { id: 'heavy-tailed', reason: 'k=9' }]);
  addLayerTags(tags, 'activation', [{ id: 'bimodal', reason: 'two modes too', suggestion: 'int8' }, { id: 'power-law', reason: 'softmax' }]);
  assert.deepEqual(tags.map((t) => t.id), ['bimodal', 'heavy-tailed', 'power-law']);
  assert.equal(tags[0].reason, 'weight: two modes; activation: two modes too');
  assert.equal(tags[0].suggestion, 'fp8_e4m3');
  assert.equal(tags[2].reason, 'activation: softmax');
});

test('NaN/Inf are counted, kept out of the moments, and strip every suggestion', () => {
  const data = fill(4000, (i) => (i === 7 ? NaN : i === 9 ? -Infinity : (i % 3 === 0 ? 50 : 1) * rng.normal()));
  const a = accumulate(data, [4, 1000]);
  const s = tensorStatsFrom(a);
  assert.equal(s.nanCount, 1);
  assert.equal(s.infCount, 1);
  assert.ok(Number.isFinite(s.mean) && Number.isFinite(s.std) && Number.isFinite(s.kurtosis));
  const tags = tagTensor(s, a.histogram, { kind: 'activation' });
  assert.equal(tags[0].id, 'non-finite');
  assert.ok(tags.every((t) => t.suggestion === undefined), JSON.stringify(tags));
  // denormals counted separately
  const d = accumulate(fill(100, (i) => (i < 5 ? 1e-40 : 1)), [1, 100], 1);
  assert.equal(tensorStatsFrom(d).denormalCount, 5);
});

test('the ORT reference exposes intermediates on a copy and streams their statistics (sample CNN)', async () => {
  const file = path.join(ROOT, 'samples/cnn.onnx');
  const bytes = readFileSync(file);
  const before = createHash('sha256').update(bytes).digest('hex');
  const { model } = await loadModel(file);
  const g = model.graph;
  const names = g.nodes.flatMap((n) => n.outputs).filter((o) => o !== 'logits');
  const ref = await OrtReference.create(bytes, names, file, g.outputs.map((o) => o.name));
  const src = randomSource(inputSpecsFromGraph(g.inputs), 12, 3);
  let seen = 0;
  const captured: Float32Array[] = [];
  const acc = await collectActivationStats(ref, src, [...names, 'logits'], {
    batchSize: 5,
    onBatch: (values) => { seen++; captured.push(new Float32Array(values.get(names[0])!.data as Float32Array)); },
  });
  assert.equal(seen, 3);
  assert.equal(acc.size, names.length + 1);
  // the first intermediate's statistics equal a direct computation over the captured batches
  const all = Float32Array.from(captured.flatMap((c) => [...c]));
  const s = tensorStatsFrom(acc.get(names[0])!);
  assert.equal(s.count, all.length);
  assert.ok(Math.abs(s.max - Math.max(...all)) < 1e-6);
  assert.ok(Math.abs(s.mean - all.reduce((x, y) => x + y, 0) / all.length) < 1e-5);
  assert.ok(ref.ortMs > 0);
  await ref.dispose();
  assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), before, 'user file untouched');
});
