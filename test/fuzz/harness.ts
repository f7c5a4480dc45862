// SPDX-License-Identifier: Apache-2.0
/**
 * The loader fuzz harness: seeded mutations of valid ONNX files, each run in a worker under a watchdog.
 * An input passes when it yields a model or a QuantLensError within the time limit without growing memory
 * past the cap; anything else (another exception, a hang, an out-of-memory) is a crash, saved for replay.
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { MUTATORS, Rng } from './mutate';
import type { FuzzRequest, FuzzResult } from './fuzzWorker';

export interface FuzzOptions {
  seed: number;
  count: number;
  /** Per-input limit on CPU time (the requirement is 1 s); no answer within 20× this (wall) is a hang. */
  timeLimitMs?: number;
  /** Largest ArrayBuffer growth tolerated for one input. */
  memoryCapBytes?: number;
  /** Where crashing inputs are written. */
  artifactDir?: string;
  log?: (line: string) => void;
}

export interface FuzzSummary {
  seed: number;
  inputs: number;
  models: number;
  errorsByKind: Record<string, number>;
  crashes: number;
  hangs: number;
  slow: number;
  overMemory: number;
  /** Largest CPU time for one input. */
  maxMs: number;
  maxWallMs: number;
  byMutator: Record<string, number>;
  crashReports: string[];
}

const ROOT = path.resolve(__dirname, '../..');

/** Valid seed models: the smaller conformance models, the samples, and the test builder's tiny model. */
export function seedCorpus(maxBytes = 256 * 1024): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try { names = readdirSync(dir); } catch { return; }
    for (const n of names) {
      const p = path.join(dir, n);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (n.endsWith('.onnx') && n !== 'LICENSE.onnx' && st.size <= maxBytes) out.push({ name: path.relative(ROOT, p), bytes: new Uint8Array(readFileSync(p)) });
    }
  };
  walk('/work/shared/onnx-conformance');
  walk(path.join(ROOT, 'samples'));
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

class Runner {
  private worker!: Worker;
  private pending?: { resolve: (r: FuzzResult | 'hang' | 'died') => void; timer: NodeJS.Timeout };
  constructor() { this.spawn(); }

  private spawn(): void {
    // workers do not inherit tsx's ESM hooks for their entry file, so register its CommonJS hook explicitly
    const entry = JSON.stringify(path.join(__dirname, 'fuzzWorker.ts'));
    const w = new Worker(`require('tsx/cjs/api').register(); require(${entry});`, {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: 1024, stackSizeMb: 4 },
    });
    // events of a worker already replaced (after a hang) must not settle the next input's request
    w.on('message', (r: FuzzResult) => { if (w === this.worker) this.settle(r); });
    w.on('error', () => { if (w === this.worker) this.settle('died'); });
    w.on('exit', () => { if (w === this.worker) this.settle('died'); });
    this.worker = w;
  }

  private settle(r: FuzzResult | 'hang' | 'died'): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve(r);
  }

  run(req: FuzzRequest, watchdogMs: number): Promise<FuzzResult | 'hang' | 'died'> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle('hang'), watchdogMs);
      this.pending = { resolve: (r) => { if (r === 'died' || r === 'hang') this.replace(); resolve(r); }, timer };
      this.worker.postMessage(req);
    });
  }

  private replace(): void {
    const old = this.worker;
    this.spawn();
    void old.terminate();
  }

  close(): Promise<number> {
    const w = this.worker;
    this.worker = undefined as unknown as Worker;
    return w.terminate();
  }
}

/** Runs `count` seeded mutations and returns the tally; never throws for a crashing input. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const timeLimit = opts.timeLimitMs ?? 1000;
  const memCap = opts.memoryCapBytes ?? 512 * 1024 * 1024;
  const corpus = seedCorpus();
  const rng = new Rng(opts.seed);
  const names = Object.keys(MUTATORS);
  const summary: FuzzSummary = {
    seed: opts.seed, inputs: 0, models: 0, errorsByKind: {}, crashes: 0, hangs: 0, slow: 0, overMemory: 0, maxMs: 0, maxWallMs: 0, byMutator: {}, crashReports: [],
  };
  const runner = new Runner();
  const fail = (what: string, seedName: string, chain: string[], bytes: Uint8Array, detail: string) => {
    const id = `${opts.seed}-${summary.inputs}`;
    const dir = opts.artifactDir ?? path.join(ROOT, 'test-artifacts', 'fuzz');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${what}-${id}.onnx`), bytes);
    const line = `${what} #${summary.inputs} (${seedName} via ${chain.join('+')}): ${detail.split('\n').slice(0, 4).join(' | ')} [saved ${what}-${id}.onnx]`;
    summary.crashReports.push(line);
    opts.log?.(line);
  };
  try {
    for (let i = 0; i < opts.count; i++) {
      const seed = corpus[rng.int(corpus.length)];
      let bytes = seed.bytes;
      const chain: string[] = [];
      for (let k = 0, n = 1 + (rng.next() < 0.3 ? rng.int(3) : 0); k < n; k++) {
        const name = rng.pick(names);
        chain.push(name);
        try { bytes = MUTATORS[name](bytes, rng); } catch { bytes = MUTATORS.bitFlips(bytes, rng); chain.push('bitFlips'); }
      }
      for (const c of chain) summary.byMutator[c] = (summary.byMutator[c] ?? 0) + 1;
      summary.inputs++;
      // the watchdog allows slack for a busy machine; the 1 s requirement is checked on CPU time
      const r = await runner.run({ id: i, bytes, file: path.join('/nonexistent-fuzz-dir', `fuzz-${i}.onnx`) }, Math.max(20000, timeLimit * 20));
      if (r === 'hang') { summary.hangs++; summary.crashes++; fail('hang', seed.name, chain, bytes, 'no answer from the worker'); continue; }
      if (r === 'died') { summary.crashes++; fail('crash', seed.name, chain, bytes, 'worker died (out of memory?)'); continue; }
      summary.maxMs = Math.max(summary.maxMs, r.cpuMs);
      summary.maxWallMs = Math.max(summary.maxWallMs, r.ms);
      if (r.outcome === 'crash') { summary.crashes++; fail('crash', seed.name, chain, bytes, r.message ?? ''); continue; }
      if (r.cpuMs > timeLimit) { summary.slow++; fail('slow', seed.name, chain, bytes, `${r.cpuMs.toFixed(0)} ms CPU, ${r.ms.toFixed(0)} ms wall`); }
      if (r.externalBytes > memCap) { summary.overMemory++; fail('memory', seed.name, chain, bytes, `${r.externalBytes} bytes`); }
      if (r.outcome === 'model') summary.models++;
      else summary.errorsByKind[r.kind ?? '?'] = (summary.errorsByKind[r.kind ?? '?'] ?? 0) + 1;
    }
  } finally {
    await runner.close();
  }
  return summary;
}

/** One-paragraph report of a run. */
export function formatSummary(s: FuzzSummary): string {
  const kinds = Object.entries(s.errorsByKind).sort().map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    `fuzz seed ${s.seed}: ${s.inputs} inputs tried, ${s.models} loaded as models, ${s.inputs - s.models - s.crashes} typed errors (${kinds || 'none'})`,
    `crashes = ${s.crashes} (hangs ${s.hangs}), slower than limit = ${s.slow}, over memory cap = ${s.overMemory}, slowest input ${s.maxMs.toFixed(0)} ms CPU (${s.maxWallMs.toFixed(0)} ms wall)`,
  ].join('\n');
}
