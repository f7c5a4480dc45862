// SPDX-License-Identifier: Apache-2.0
// Runs every *.test.ts under the source folders and test/ with Node's own test runner (TypeScript via tsx).
// Browser and VS Code end-to-end suites live under test/e2e and run only when QUANTLENS_E2E=1 (set by .ci/run).
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const filter = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const withE2E = process.env.QUANTLENS_E2E === '1';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts') || name.endsWith('.test.tsx')) out.push(p);
  }
  return out;
}

let files = ['analysis', 'engine', 'extension', 'webview', 'test']
  .flatMap((d) => { try { return walk(path.join(root, d), []); } catch { return []; } })
  .filter((f) => withE2E || !f.includes(`${path.sep}e2e${path.sep}`))
  .sort();
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));

const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=8192`.trim() } });
process.exit(r.status ?? 1);
