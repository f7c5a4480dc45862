// SPDX-License-Identifier: Apache-2.0
// Builds everything into dist/: WebAssembly kernels (AssemblyScript), the extension host bundle, the analysis
// worker, the CLI, and one browser bundle per webview (webview/views/<name>/index.tsx → dist/webview/<name>.js).
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, mkdirSync, cpSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
// --outdir DIR writes the bundles to DIR instead of dist/ (scripts/package.mjs builds into its staging folder
// so a production build never rewrites dist/ under tests that are running from it).
const outdirArg = process.argv.indexOf('--outdir');
const outRoot = outdirArg > 0 ? path.resolve(process.argv[outdirArg + 1]) : path.join(root, 'dist');
const outFile = (distPath) => path.join(outRoot, path.relative('dist', distPath));
mkdirSync(path.join(root, 'dist'), { recursive: true });

// 1. WebAssembly kernels first: the bundles load dist/wasm/*.wasm at run time.
if (existsSync(path.join(root, 'scripts/build-wasm.mjs'))) {
  execFileSync(process.execPath, [path.join(root, 'scripts/build-wasm.mjs')], { stdio: 'inherit', cwd: root });
  if (outRoot !== path.join(root, 'dist') && existsSync(path.join(root, 'dist/wasm'))) {
    cpSync(path.join(root, 'dist/wasm'), path.join(outRoot, 'wasm'), { recursive: true });
  }
}

const nodeCommon = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  // native addons and packages that locate files next to themselves stay outside the bundle
  external: ['vscode', 'onnxruntime-node', 'highs'],
  // jsonc-parser's "main" is a UMD build whose internal require('./impl/…') breaks once bundled: prefer ESM entries
  mainFields: ['module', 'main'],
  logLevel: 'warning',
};

const nodeEntries = [
  ['extension/extension.ts', 'dist/extension.js'],
  ['analysis/jobs/worker.ts', 'dist/analysisWorker.js'],
  ['analysis/cli/main.ts', 'dist/cli.js'],
].filter(([src]) => existsSync(path.join(root, src)));

const webviewDir = path.join(root, 'webview/views');
const webviewEntries = existsSync(webviewDir)
  ? readdirSync(webviewDir).filter((v) => existsSync(path.join(webviewDir, v, 'index.tsx'))).map((v) => [
      `webview/views/${v}/index.tsx`, `dist/webview/${v}.js`])
  : [];

const contexts = [];
for (const [src, out] of nodeEntries) {
  contexts.push(await esbuild.context({ ...nodeCommon, entryPoints: [path.join(root, src)], outfile: outFile(out) }));
}
for (const [src, out] of webviewEntries) {
  contexts.push(await esbuild.context({
    bundle: true, platform: 'browser', format: 'iife', target: 'es2022', sourcemap: !production, minify: production,
    entryPoints: [path.join(root, src)], outfile: outFile(out), logLevel: 'warning',
    define: { 'process.env.NODE_ENV': production ? '"production"' : '"development"' },
    loader: { '.css': 'text' },
  }));
}

if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('watching…');
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  console.log(`built ${nodeEntries.length} node bundle(s), ${webviewEntries.length} webview bundle(s)`);
}
