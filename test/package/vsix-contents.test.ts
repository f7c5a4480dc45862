// SPDX-License-Identifier: Apache-2.0
// Builds the platform .vsix with `scripts/package.mjs` (the same script as `npm run package`), then checks what
// it carries: everything the extension loads at run time, only this platform's onnxruntime binaries, no sources,
// tests or stray node_modules, a size under the limit, and that the onnxruntime-node inside it really runs a
// sample model. Set QUANTLENS_VSIX=path to check an existing package instead of building one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extractZip, listZip, readZipEntry, type ZipEntry } from './zip';

const repo = path.resolve(__dirname, '../..');
const target = `${process.platform}-${process.arch}`;
const ortDir = target.replace('-', '/'); // bin/napi-v6/<platform>/<arch>
/** The limit we hold the package to; onnxruntime's shared library alone is ≈ 16 MiB compressed. */
const MAX_VSIX_BYTES = 25 * 2 ** 20;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'quantlens-vsix-test-'));
let vsix = process.env.QUANTLENS_VSIX ?? '';
let buf: Buffer;
let entries: ZipEntry[];
let names: string[];

before(() => {
  if (!vsix) {
    vsix = path.join(tmp, `quantlens-${target}.vsix`);
    execFileSync(process.execPath, [path.join(repo, 'scripts/package.mjs'), '--out', vsix], { cwd: repo, stdio: 'pipe' });
  }
  buf = readFileSync(vsix);
  entries = listZip(buf);
  names = entries.map((e) => e.name);
  console.log(`vsix ${path.basename(vsix)}: ${(buf.length / 2 ** 20).toFixed(2)} MiB, ${entries.length} entries, ` +
    `${(entries.reduce((s, e) => s + e.size, 0) / 2 ** 20).toFixed(1)} MiB uncompressed`);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const has = (name: string) => names.includes(`extension/${name}`);

test('the vsix carries the bundles, wasm kernels, webviews, schemas, samples and eval data', () => {
  const manifest = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
  const required = ['package.json', 'readme.md', 'LICENSE.txt', manifest.main.replace(/^\.\//, ''),
    'samples/cnn.onnx', 'samples/vit.onnx', 'samples/mobilenet.onnx', 'samples/data/eval/x.npy', 'samples/data/eval/labels.npy'];
  for (const f of readdirSync(path.join(repo, 'schemas'))) required.push(`schemas/${f}`);
  if (existsSync(path.join(repo, 'analysis/cli/main.ts'))) required.push('dist/cli.js');
  if (existsSync(path.join(repo, 'analysis/jobs/worker.ts'))) required.push('dist/analysisWorker.js');
  const views = path.join(repo, 'webview/views');
  if (existsSync(views)) for (const v of readdirSync(views)) if (existsSync(path.join(views, v, 'index.tsx'))) required.push(`dist/webview/${v}.js`);
  if (existsSync(path.join(repo, 'dist/wasm'))) for (const w of readdirSync(path.join(repo, 'dist/wasm'))) if (w.endsWith('.wasm')) required.push(`dist/wasm/${w}`);
  for (const c of (manifest.contributes?.jsonValidation ?? []) as { url: string }[]) if (c.url.startsWith('./')) required.push(c.url.slice(2));
  if (manifest.icon) required.push(manifest.icon);
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  for (const m of readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g)) if (!/^[a-z]+:/i.test(m[1]) && existsSync(path.join(repo, m[1]))) required.push(m[1]);
  const missing = required.filter((f) => !has(f));
  assert.deepEqual(missing, [], `missing from the vsix: ${missing.join(', ')}`);
  assert.equal(names.filter((n) => /^extension\/samples\/data\/calib\/\d{3}\.npy$/.test(n)).length, 64, '64 calibration samples');
});

test('the runtime packages are there with this platform\'s onnxruntime binaries and no other platform\'s', () => {
  for (const f of ['onnxruntime-node/package.json', 'onnxruntime-node/dist/index.js', 'onnxruntime-node/dist/binding.js',
    `onnxruntime-node/bin/napi-v6/${ortDir}/onnxruntime_binding.node`, 'onnxruntime-common/package.json',
    'onnxruntime-common/dist/cjs/index.js', 'highs/package.json', 'highs/build/highs.js', 'highs/build/highs.wasm']) {
    assert.ok(has(`node_modules/${f}`), `node_modules/${f} is in the vsix`);
  }
  const binaries = names.filter((n) => n.includes('/bin/napi-v6/'));
  const foreign = binaries.filter((n) => !n.includes(`/bin/napi-v6/${ortDir}/`));
  assert.deepEqual(foreign, [], 'no other platform\'s binaries');
  const packages = new Set(names.filter((n) => n.startsWith('extension/node_modules/')).map((n) => n.split('/')[2]));
  assert.deepEqual([...packages].sort(), ['highs', 'onnxruntime-common', 'onnxruntime-node']);
  const vsixManifest = readZipEntry(buf, entries.find((e) => e.name === 'extension.vsixmanifest')!).toString('utf8');
  assert.match(vsixManifest, new RegExp(`TargetPlatform="${target}"`), 'the manifest declares the target platform');
});

test('no sources, tests, maps, type declarations or development files are packed', () => {
  // docs/ ships only the images the README shows (VS Code renders them from the installed extension).
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  const readmeImages = new Set([...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g)].map((m) => m[1]));
  const junk = names.filter((n) =>
    /\.(ts|tsx|map|py|mjs|sh)$/.test(n) ||
    /^extension\/(test|scripts|engine|analysis|extension|webview|out|test-artifacts|\.e2e|\.ci|\.git|bin)\//.test(n) ||
    (n.startsWith('extension/docs/') && !readmeImages.has(n.slice('extension/'.length))) ||
    /^extension\/(tsconfig\.json|eslint\.config\.mjs|package-lock\.json|\.npmrc|\.gitignore|\.vscodeignore)$/.test(n) ||
    /^extension\/samples\/.*README/.test(n));
  assert.deepEqual(junk, []);
  const manifest = JSON.parse(readZipEntry(buf, entries.find((e) => e.name === 'extension/package.json')!).toString('utf8'));
  assert.equal(manifest.devDependencies, undefined, 'packed manifest has no devDependencies');
  assert.equal(manifest.scripts, undefined, 'packed manifest has no scripts');
  assert.deepEqual(Object.keys(manifest.dependencies).sort(), ['highs', 'onnxruntime-node']);
});

test(`the vsix is under ${MAX_VSIX_BYTES / 2 ** 20} MiB`, () => {
  const size = statSync(vsix).size;
  console.log(`vsix size: ${size} bytes (${(size / 2 ** 20).toFixed(2)} MiB), limit ${MAX_VSIX_BYTES / 2 ** 20} MiB`);
  assert.ok(size < MAX_VSIX_BYTES, `${size} bytes`);
});

test('the onnxruntime-node inside the vsix runs the packed sample model on its own', () => {
  const dir = path.join(tmp, 'unpacked');
  extractZip(vsix, dir);
  const ext = path.join(dir, 'extension');
  // A separate process with no access to the repository's node_modules: only what the vsix carries resolves.
  const script = `
    const ort = require(${JSON.stringify(path.join(ext, 'node_modules/onnxruntime-node'))});
    (async () => {
      const s = await ort.InferenceSession.create(${JSON.stringify(path.join(ext, 'samples/cnn.onnx'))});
      const out = await s.run({ input: new ort.Tensor('float32', new Float32Array(2 * 64).fill(0.5), [2, 1, 8, 8]) });
      console.log(JSON.stringify(out.logits.dims));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: os.tmpdir(), encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '[2,10]');
});

test('packaging for a platform onnxruntime-node has no binaries for stops with one clear line', () => {
  const r = spawnSync(process.execPath, [path.join(repo, 'scripts/package.mjs'), '--target', 'alpine-x64'], { cwd: repo, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr.trim(), /^package: no onnxruntime-node binaries for target "alpine-x64"; supported: linux-x64, /);
});
