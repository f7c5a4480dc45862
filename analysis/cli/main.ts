// SPDX-License-Identifier: Apache-2.0
/**
 * `quantlens` entry point. Each command lives in cli/commands/<name>.ts and registers itself on the program;
 * this file only owns the exit-code contract: 0 success, 1 user/input error (one line on stderr), 2 internal,
 * 3 a CI gate not met (the report was still printed and written), 130 cancelled.
 */
import { Command, CommanderError } from 'commander';
import { isQuantLensError } from '../../engine/errors';
import { COMMANDS } from './commands';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('quantlens')
    .description('Quantization analysis for ONNX models')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);
  for (const register of COMMANDS) register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    return exitCodeFor(e);
  }
}

export const VERSION = '0.1.0';

function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) {
    // help and version exit 0; commander already printed its one-line usage error otherwise
    return e.exitCode === 0 ? 0 : 1;
  }
  if (isQuantLensError(e)) {
    process.stderr.write(`quantlens: ${e.message}\n`);
    return e.kind === 'cancelled' ? 130 : e.kind === 'gate' ? 3 : 1;
  }
  const err = e as Error;
  process.stderr.write(`quantlens: internal error: ${err?.message ?? String(e)}\n`);
  if (process.env.QUANTLENS_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
  return 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
