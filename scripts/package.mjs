#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// `npm run package [-- --target linux-x64] [--out FILE]` → quantlens-<target>.vsix for one platform.
//
// vsce's --no-dependencies leaves out node_modules entirely, and its npm mode packs every production dependency
// with all five platforms' onnxruntime binaries (≈290 MB). So we stage: a temporary folder with a production
// build (scripts/build.mjs --outdir), the manifest without scripts/devDependencies and with only the two runtime
// packages the bundles keep external (onnxruntime-node, highs), and copies of those packages holding only what
// runs: JS, the target's native binaries, highs' .wasm. node_modules itself is never touched. vsce then packs the
// stage in npm mode and the repository's .vscodeignore (a whitelist) decides what ships.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);

/** vsce target → onnxruntime-node's bin/napi-v6/<platform>/<arch> folder (only the ones its npm package ships). */
const ORT_BINARIES = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};
const target = option('--target', `${process.platform}-${process.arch}`);
if (!ORT_BINARIES[target]) {
  console.error(`package: no onnxruntime-node binaries for target "${target}"; supported: ${Object.keys(ORT_BINARIES).join(', ')}`);
  process.exit(1);
}
const outFile = path.resolve(option('--out', path.join(root, `quantlens-${target}.vsix`)));
const stage = mkdtempSync(path.join(os.tmpdir(), `quantlens-vsix-${target}-`));
const copy = (from, to = from) => cpSync(path.join(root, from), path.join(stage, to), { recursive: true });
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
/** Runs a step; a failure ends the script with one line (the step printed its own diagnostics above it). */
const run = (what, args, cwd) => {
  try {
    execFileSync(process.execPath, args, { stdio: 'inherit', cwd });
  } catch {
    console.error(`package: ${what} failed`);
    process.exitCode = 1;
    throw new Error(what);
  }
};

try {
  // 1. Production bundles straight into the stage.
  run('production build', [path.join(root, 'scripts/build.mjs'), '--production', '--outdir', path.join(stage, 'dist')], root);

  // 2. Manifest: what vsce and VS Code read, nothing for development.
  const manifest = readJson(path.join(root, 'package.json'));
  const runtime = ['onnxruntime-node', 'highs'];
  for (const key of ['scripts', 'devDependencies', 'bin']) delete manifest[key];
  manifest.dependencies = Object.fromEntries(runtime.map((n) => [n, manifest.dependencies[n]]));
  writeFileSync(path.join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');

  // 3. Files the extension reads at run time, and the README with the images it shows.
  for (const f of ['README.md', 'LICENSE', 'CHANGELOG.md', 'schemas', 'samples', 'media']) if (existsSync(path.join(root, f))) copy(f);
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g), ...readme.matchAll(/<img[^>]+src="([^"]+)"/g)]
    .map((m) => m[1]).filter((src) => !/^[a-z]+:/i.test(src) && existsSync(path.join(root, src)));
  for (const img of images) copy(img);

  // 4. Runtime packages: JS + this target's binaries only. onnxruntime-node's own dependencies (adm-zip,
  //    global-agent) serve its download-at-install script, which the extension never runs, so the staged
  //    manifest keeps only onnxruntime-common.
  const nm = (p) => path.join('node_modules', p);
  const ort = readJson(path.join(root, nm('onnxruntime-node/package.json')));
  delete ort.scripts;
  ort.dependencies = { 'onnxruntime-common': ort.dependencies['onnxruntime-common'] };
  mkdirSync(path.join(stage, nm('onnxruntime-node')), { recursive: true });
  writeFileSync(path.join(stage, nm('onnxruntime-node/package.json')), JSON.stringify(ort, null, 2) + '\n');
  copy(nm('onnxruntime-node/dist'));
  copy(nm(`onnxruntime-node/bin/napi-v6/${ORT_BINARIES[target]}`));
  for (const f of ['package.json', 'dist/cjs']) copy(nm(`onnxruntime-common/${f}`));
  for (const f of ['package.json', 'LICENSE', 'build/highs.js', 'build/highs.wasm']) copy(nm(`highs/${f}`));

  // 5. The whitelist, plus the README's images.
  const ignore = readFileSync(path.join(root, '.vscodeignore'), 'utf8') + images.map((i) => `!${i}\n`).join('');
  writeFileSync(path.join(stage, '.vscodeignore'), ignore);

  // 6. Pack. Relative README links stay relative: VS Code resolves them inside the installed extension.
  run('vsce package', [path.join(root, 'node_modules/@vscode/vsce/vsce'), 'package', '--target', target,
    '--out', outFile, '--no-rewrite-relative-links', '--allow-missing-repository', '--no-yarn'], stage);
  const files = readdirSync(stage, { recursive: true }).filter((f) => statSync(path.join(stage, f)).isFile()).length;
  console.log(`package: ${path.relative(process.cwd(), outFile)} (${target}, ${(statSync(outFile).size / 2 ** 20).toFixed(1)} MiB, staged ${files} files)`);
} catch (e) {
  if (!process.exitCode) throw e;
} finally {
  if (!argv.includes('--keep-stage')) rmSync(stage, { recursive: true, force: true });
  else console.log(`package: stage kept at ${stage}`);
}
