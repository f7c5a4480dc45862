// SPDX-License-Identifier: Apache-2.0
/**
 * `npm run fuzz` (= this file with --long): a long seeded fuzz run of the ONNX loader.
 * Flags: --long (20000 inputs), --count N, --seed N. Exits 1 when any input crashed, hung, was slower than
 * 1 s or grew memory past the cap; crashing inputs are saved under test-artifacts/fuzz/.
 */
import { formatSummary, runFuzz } from './harness';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function cliMain(): Promise<number> {
  const seed = Number(flag('--seed') ?? Date.now() % 100000);
  const count = Number(flag('--count') ?? (process.argv.includes('--long') ? 20000 : 500));
  const t0 = performance.now();
  const summary = await runFuzz({ seed, count, log: (l) => console.error(l) });
  console.log(formatSummary(summary));
  console.log(`mutations applied: ${Object.entries(summary.byMutator).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s; replay with: node --import tsx test/fuzz/fuzz-loader.ts --seed ${seed} --count ${count}`);
  return summary.crashes + summary.slow + summary.overMemory > 0 ? 1 : 0;
}

cliMain().then((code) => { process.exitCode = code; });
