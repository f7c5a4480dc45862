// SPDX-License-Identifier: Apache-2.0
// `npm run package -- --target X` builds a package for another platform than this machine's: it declares X and
// carries X's onnxruntime binaries and nothing else (linux-arm64 here: the smallest of the other platforms).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listZip, readZipEntry } from './zip';

const repo = path.resolve(__dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'quantlens-vsix-cross-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('--target linux-arm64 packs only the linux/arm64 onnxruntime binaries and declares that platform', () => {
  const vsix = path.join(tmp, 'quantlens-linux-arm64.vsix');
  execFileSync(process.execPath, [path.join(repo, 'scripts/package.mjs'), '--target', 'linux-arm64', '--out', vsix], { cwd: repo, stdio: 'pipe' });
  const buf = readFileSync(vsix);
  const entries = listZip(buf);
  const binaries = entries.map((e) => e.name).filter((n) => n.includes('/bin/napi-v6/'));
  assert.deepEqual(binaries.sort(), [
    'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/libonnxruntime.so.1',
    'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node',
  ]);
  const manifest = readZipEntry(buf, entries.find((e) => e.name === 'extension.vsixmanifest')!).toString('utf8');
  assert.match(manifest, /TargetPlatform="linux-arm64"/);
  console.log(`linux-arm64 vsix: ${(buf.length / 2 ** 20).toFixed(2)} MiB`);
});
