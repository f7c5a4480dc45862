// SPDX-License-Identifier: Apache-2.0
// Calibration data: the .npy reader (numpy-written fixtures), folders, random samples, images and labels,
// and the bad-input cases (no usable files, mixed shapes, NaN-filled arrays, wrong label counts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { readNpy, encodeNpy, readNpyHeader } from '../../analysis/data/npy';
import { folderSource } from '../../analysis/data/folder';
import { randomSource, integerRanges } from '../../analysis/data/random';
import { inputSpecsFromGraph, type CalibrationSource, type InputSpec } from '../../analysis/data/source';
import { openCalibration } from '../../analysis/data';
import type { Graph, Tensor } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';

const FIX = path.join(__dirname, 'fixtures/npy');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'ql-data-'));
const f32 = (dims: number[], fill: (i: number) => number): Tensor =>
  ({ dtype: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)) });

async function collect(src: CalibrationSource, bs: number) {
  const out = [];
  for await (const b of src.batches(bs)) out.push(b);
  return out;
}

function rejects(fn: () => unknown, kind: string, ...fragments: string[]) {
  try { fn(); } catch (e) {
    assert.ok(e instanceof QuantLensError, `expected QuantLensError, got ${String(e)}`);
    assert.equal(e.kind, kind);
    for (const f of fragments) assert.ok(e.message.includes(f), `message '${e.message}' lacks '${f}'`);
    return;
  }
  assert.fail('expected an error');
}

test('npy reader decodes numpy files of every supported dtype and header version', () => {
  const a = readNpy(path.join(FIX, 'f32.npy'));
  assert.deepEqual(a.dims, [2, 3]);
  assert.deepEqual([...(a.data as Float32Array)], [0, 0.25, 0.5, 0.75, 1, 1.25]);
  for (const f of ['v2.npy', 'v3.npy', 'be.npy', 'f64.npy']) {
    const t = readNpy(path.join(FIX, f));
    assert.deepEqual(t.dims, [2, 3], f);
    assert.deepEqual(Array.from(t.data as Float32Array, Number), [0, 0.25, 0.5, 0.75, 1, 1.25], f);
  }
  const h = readNpy(path.join(FIX, 'f16.npy'));
  assert.equal(h.dtype, 'float16');
  const hv = h.data as Float32Array;
  assert.deepEqual([hv[0], hv[1], hv[2], hv[4]], [1.5, -2, 65504, Infinity]);
  assert.ok(Math.abs(hv[3] - 5.96e-8) < 1e-9, 'half subnormal');
  assert.deepEqual([...(readNpy(path.join(FIX, 'i64.npy')).data as BigInt64Array)], [3n, -1n, 7n]);
  assert.deepEqual([...(readNpy(path.join(FIX, 'i32.npy')).data as Int32Array)], [3, -1, 7]);
  assert.deepEqual([...(readNpy(path.join(FIX, 'u8.npy')).data as Uint8Array)], [0, 255, 7]);
  assert.deepEqual([...(readNpy(path.join(FIX, 'i8.npy')).data as Int8Array)], [-128, 127, 7]);
  const b = readNpy(path.join(FIX, 'bool.npy'));
  assert.equal(b.dtype, 'bool');
  assert.deepEqual([...(b.data as Uint8Array)], [1, 0, 1]);
  assert.deepEqual(readNpy(path.join(FIX, 'scalar.npy')).dims, []);
});

test('npy reader refuses Fortran order, bad magic and truncated data, naming the file', () => {
  rejects(() => readNpy(path.join(FIX, 'fortran.npy')), 'calibration', 'fortran.npy', 'Fortran');
  const dir = tmp();
  try {
    writeFileSync(path.join(dir, 'junk.npy'), 'hello world, not numpy');
    rejects(() => readNpy(path.join(dir, 'junk.npy')), 'calibration', 'junk.npy', 'magic');
    const full = encodeNpy(f32([4, 4], (i) => i));
    writeFileSync(path.join(dir, 'cut.npy'), full.subarray(0, full.length - 8));
    rejects(() => readNpyHeader(path.join(dir, 'cut.npy')), 'calibration', 'cut.npy', 'truncated');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('encodeNpy round-trips through the reader', () => {
  const dir = tmp();
  try {
    const t = f32([3, 1, 2], (i) => i * 0.5 - 1);
    writeFileSync(path.join(dir, 'x.npy'), encodeNpy(t));
    const r = readNpy(path.join(dir, 'x.npy'));
    assert.deepEqual(r.dims, [3, 1, 2]);
    assert.deepEqual([...(r.data as Float32Array)], [...(t.data as Float32Array)]);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

const spec = (name: string, sampleShape: number[], fixedBatch: number | null = null): InputSpec =>
  ({ name, dtype: 'float32', sampleShape, fixedBatch });

test('a folder of single samples and batch files streams in batches with labels', async () => {
  const dir = tmp();
  try {
    writeFileSync(path.join(dir, 'a1.npy'), encodeNpy(f32([2, 2], (i) => i)));            // one sample
    writeFileSync(path.join(dir, 'a2.npy'), encodeNpy(f32([3, 2, 2], (i) => 100 + i)));   // a batch of 3
    writeFileSync(path.join(dir, 'README.txt'), 'ignored');
    writeFileSync(path.join(dir, 'labels.json'), '[0, 1, 2, 3]');
    const src = folderSource(dir, [spec('x', [2, 2])], { labelsFile: path.join(dir, 'labels.json') });
    assert.equal(src.sampleCount, 4);
    const batches = await collect(src, 3);
    assert.deepEqual(batches.map((b) => b.size), [3, 1]);
    assert.deepEqual(batches[0].feeds.x.dims, [3, 2, 2]);
    const x0 = batches[0].feeds.x.data as Float32Array;
    assert.deepEqual([...x0.subarray(0, 6)], [0, 1, 2, 3, 100, 101]);
    assert.deepEqual([...(batches[1].feeds.x.data as Float32Array)], [108, 109, 110, 111]);
    assert.deepEqual([...batches[1].labels!], [3]);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('bad folders: no usable files, mixed shapes, wrong dtype, all-NaN arrays, label count', async () => {
  const dir = tmp();
  try {
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(path.join(empty, 'notes.txt'), 'x');
    rejects(() => folderSource(empty, [spec('x', [2, 2])]), 'calibration', 'empty', 'no usable');

    const mixed = path.join(dir, 'mixed');
    mkdirSync(mixed);
    writeFileSync(path.join(mixed, '0.npy'), encodeNpy(f32([2, 2], (i) => i)));
    writeFileSync(path.join(mixed, '1.npy'), encodeNpy(f32([2, 3], (i) => i)));
    rejects(() => folderSource(mixed, [spec('x', [2, 2])]), 'calibration', '1.npy', '[2, 3]', '[2, 2]');
    // symbolic dims are fixed by the first file, then a different file is a mismatch naming it
    rejects(() => folderSource(mixed, [spec('x', [-1, -1])]), 'calibration', '1.npy', '[2, 3]', '[2, 2]');

    const ints = path.join(dir, 'ints');
    mkdirSync(ints);
    writeFileSync(path.join(ints, '0.npy'), encodeNpy({ dtype: 'float32', dims: [2], data: new Float32Array(2) }));
    rejects(() => folderSource(ints, [{ name: 'ids', dtype: 'int64', sampleShape: [2], fixedBatch: null }]),
      'calibration', '0.npy', 'float32', 'int64');

    const nan = path.join(dir, 'nan');
    mkdirSync(nan);
    writeFileSync(path.join(nan, '0.npy'), encodeNpy(f32([2, 2], () => NaN)));
    await assert.rejects(collect(folderSource(nan, [spec('x', [2, 2])]), 4),
      (e: unknown) => e instanceof QuantLensError && e.message.includes('0.npy') && e.message.includes('NaN'));
    writeFileSync(path.join(nan, '0.npy'), encodeNpy(f32([2, 2], (i) => (i === 1 ? Infinity : i))));
    const partial = folderSource(nan, [spec('x', [2, 2])]);
    await collect(partial, 4);
    assert.equal(partial.warnings.length, 1);
    assert.match(partial.warnings[0], /0\.npy: 1 of 4 values are NaN or Inf/);

    writeFileSync(path.join(dir, 'labels.json'), '[1, 2]');
    rejects(() => folderSource(mixed.replace('mixed', 'nan'), [spec('x', [2, 2])], { labelsFile: path.join(dir, 'labels.json') }),
      'calibration', 'labels.json', '2 labels for 1');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('multi-input models read one sub-folder per input and pair samples in order', async () => {
  const dir = tmp();
  try {
    mkdirSync(path.join(dir, 'a'));
    mkdirSync(path.join(dir, 'b'));
    for (let i = 0; i < 3; i++) {
      writeFileSync(path.join(dir, 'a', `${i}.npy`), encodeNpy(f32([2], () => i)));
      writeFileSync(path.join(dir, 'b', `${i}.npy`), encodeNpy({ dtype: 'int32', dims: [1], data: Int32Array.of(10 + i) }));
    }
    const src = folderSource(dir, [spec('a', [2]), { name: 'b', dtype: 'int64', sampleShape: [1], fixedBatch: null }]);
    const [batch] = await collect(src, 8);
    assert.deepEqual([...(batch.feeds.a.data as Float32Array)], [0, 0, 1, 1, 2, 2]);
    assert.deepEqual([...(batch.feeds.b.data as BigInt64Array)], [10n, 11n, 12n]);
    rmSync(path.join(dir, 'b', '2.npy'));
    const bSpec: InputSpec = { name: 'b', dtype: 'int64', sampleShape: [1], fixedBatch: null };
    rejects(() => folderSource(dir, [spec('a', [2]), bSpec]), 'calibration', 'b', '2 samples');
    rejects(() => folderSource(dir, [spec('a', [2]), spec('c', [1])]), 'calibration', "'c/' is missing");
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('random samples are seeded, respect a fixed batch dim and draw integer ids in range', async () => {
  const a = await collect(randomSource([spec('x', [4])], 5, 7), 2);
  const b = await collect(randomSource([spec('x', [4])], 5, 7), 2);
  assert.deepEqual(a.map((x) => x.size), [2, 2, 1]);
  assert.deepEqual([...(a[2].feeds.x.data as Float32Array)], [...(b[2].feeds.x.data as Float32Array)]);
  const c = await collect(randomSource([spec('x', [4])], 5, 8), 2);
  assert.notDeepEqual([...(a[0].feeds.x.data as Float32Array)], [...(c[0].feeds.x.data as Float32Array)]);
  // a model whose batch dim is fixed to 1 runs one sample at a time
  const fixed = await collect(randomSource([spec('x', [4], 1)], 3, 0), 16);
  assert.deepEqual(fixed.map((x) => x.feeds.x.dims[0]), [1, 1, 1]);
  // Gather indices are drawn below the table size
  const graph: Graph = {
    name: 'g', nodes: [{ name: 'g0', opType: 'Gather', domain: '', inputs: ['emb', 'ids'], outputs: ['y'], attrs: {} }],
    inputs: [{ name: 'ids', dtype: 'int64', shape: ['N', 6] }], outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: new Map([['emb', f32([5, 3], (i) => i)]]), constantSources: new Map(), valueInfo: new Map(),
  };
  assert.deepEqual(integerRanges(graph), { ids: [0, 5] });
  const src = openCalibration(graph, { random: 40 });
  for await (const batch of src.batches(40)) {
    const ids = [...(batch.feeds.ids.data as BigInt64Array)].map(Number);
    assert.ok(ids.every((v) => v >= 0 && v < 5));
    assert.ok(new Set(ids).size === 5, 'all ids drawn');
  }
});

test('symbolic dims need --shape for random data, and the message says how', () => {
  rejects(() => inputSpecsFromGraph([{ name: 'x', dtype: 'float32', shape: ['N', 'C', 8] }]), 'shape', "'x'", '--shape x=NxNx8');
  const [s] = inputSpecsFromGraph([{ name: 'x', dtype: 'float32', shape: ['N', 'C', 8] }], { x: [2, 3, 8] });
  assert.deepEqual(s.sampleShape, [3, 8]);
  assert.equal(s.fixedBatch, null);
});

test('image folders are decoded, resized bilinearly and normalised (PNG and JPEG, NCHW and NHWC, BGR)', async () => {
  const dir = tmp();
  try {
    // a 4x4 PNG: left half red (255,0,0), right half blue (0,0,255)
    const png = new PNG({ width: 4, height: 4 });
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) {
      const o = (y * 4 + x) * 4;
      png.data[o] = x < 2 ? 255 : 0; png.data[o + 1] = 0; png.data[o + 2] = x < 2 ? 0 : 255; png.data[o + 3] = 255;
    }
    writeFileSync(path.join(dir, 'a.png'), PNG.sync.write(png));
    const src = folderSource(dir, [spec('img', [3, 2, 2])], { preprocessing: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } });
    const [batch] = await collect(src, 1);
    const v = batch.feeds.img.data as Float32Array;
    // channel R: left column 1, right column -1; channel B the opposite; G all -1
    assert.deepEqual([...v].map((x) => Math.round(x * 100) / 100), [1, -1, 1, -1, -1, -1, -1, -1, -1, 1, -1, 1]);
    const bgr = folderSource(dir, [spec('img', [2, 2, 3])], { preprocessing: { channelOrder: 'bgr' } });
    const [b2] = await collect(bgr, 1);
    assert.deepEqual([...(b2.feeds.img.data as Float32Array)].slice(0, 6), [0, 0, 1, 1, 0, 0]);

    rmSync(path.join(dir, 'a.png'));
    const raw = Buffer.alloc(8 * 8 * 4, 200);
    writeFileSync(path.join(dir, 'b.jpg'), jpeg.encode({ data: raw, width: 8, height: 8 }, 95).data);
    const [b3] = await collect(folderSource(dir, [spec('img', [1, 4, 4])]), 1);
    for (const x of b3.feeds.img.data as Float32Array) assert.ok(Math.abs(x - 200 / 255) < 0.03);
    rejects(() => folderSource(dir, [spec('img', [5, 4])]), 'calibration', 'b.jpg', 'does not look like an image');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
