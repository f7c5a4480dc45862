// SPDX-License-Identifier: Apache-2.0
/**
 * The shape of one hostile case in the robustness report: what is tried, what should happen, and a run that
 * returns what did happen. Helpers turn a thrown error or a CLI run into one observed line, and check it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { isQuantLensError, type ErrorKind } from '../../engine/errors';

export const ROOT = path.resolve(__dirname, '../..');

/** What a case observed, and whether that is what was expected. */
export interface Observed { pass: boolean; observed: string }

export interface Case {
  name: string;
  expected: string;
  run: () => Promise<Observed> | Observed;
}

export interface Section { title: string; intro: string; cases: Case[]; extra?: () => string }

/** Temp paths in messages would change every run: show them relative to a placeholder. */
let scrubRoots: string[] = [];
export function setScrubRoots(roots: string[]): void { scrubRoots = roots; }
export function scrub(s: string): string {
  let out = s;
  for (const r of scrubRoots) out = out.split(r).join('<tmp>');
  return out.split(ROOT).join('.').replace(/\s+/g, ' ').trim();
}

/** One line describing an error: `kind: message` (QuantLensError) or `untyped Name: message`. */
export function describeError(e: unknown): string {
  if (isQuantLensError(e)) return `${e.kind}: ${scrub(e.message)}`;
  return `untyped ${(e as Error)?.name ?? typeof e}: ${scrub((e as Error)?.message ?? String(e))}`;
}

/** Runs `fn`, expecting a QuantLensError of `kind` whose message matches `pattern` (and names `file`, if given). */
export async function expectError(fn: () => unknown, kind: ErrorKind, pattern: RegExp, file?: string): Promise<Observed> {
  try {
    await fn();
    return { pass: false, observed: 'succeeded (no error)' };
  } catch (e) {
    const pass = isQuantLensError(e) && e.kind === kind && pattern.test(e.message) && (!file || e.message.includes(file));
    return { pass, observed: describeError(e) };
  }
}

/** Runs `fn`, expecting success; `check` returns the observed line, throwing when something is off. */
export async function expectSuccess(fn: () => unknown, check: (v: unknown) => string): Promise<Observed> {
  try {
    const v = await fn();
    return { pass: true, observed: `success: ${scrub(check(v))}` };
  } catch (e) {
    return { pass: false, observed: describeError(e) };
  }
}

export interface CliRun { code: number; stderr: string[]; stdout: string }

/** Node's own warnings (e.g. a dependency's DEP0005) are not QuantLens output. */
const nodeNoise = (l: string) => /^\(node:\d+\) |^\(Use `node --trace|onnxruntime:/.test(l);

/** Runs the built CLI (bin/quantlens.js) in a child process. */
export function cli(args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = {}): CliRun {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/quantlens.js'), ...args], { cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, ...env } });
  const stderr = (r.stderr ?? '').split('\n').filter((l) => l.trim() && !nodeNoise(l));
  return { code: r.status ?? -1, stderr, stdout: r.stdout ?? '' };
}

/** A user error through the CLI: exit 1, exactly one stderr line matching `pattern`, no stack trace. */
export function expectCliUserError(args: string[], pattern: RegExp, cwd?: string): Observed {
  const r = cli(args, cwd);
  const stack = r.stderr.some((l) => /^\s+at /.test(l));
  const pass = r.code === 1 && r.stderr.length === 1 && pattern.test(r.stderr[0]) && !stack;
  return { pass, observed: `exit ${r.code}, ${r.stderr.length} stderr line(s)${stack ? ' WITH a stack trace' : ''}: ${scrub(r.stderr.join(' ⏎ ').slice(0, 300))}` };
}

/** Markdown table cell: no pipes or newlines, bounded length. */
export function cell(s: string, max = 260): string {
  const t = s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
