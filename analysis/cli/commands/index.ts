// SPDX-License-Identifier: Apache-2.0
/** The explicit list of CLI commands (no import side effects). */
import type { Command } from 'commander';
import { register as analyze } from './analyze';
import { register as inspect } from './inspect';
import { register as evalCommand } from './eval';
import { register as exportCommand } from './export';
import { register as quantizeLayer } from './quantizeLayer';
import { register as suggestCommand } from './suggest';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [
  inspect,
  analyze,
  evalCommand,
  quantizeLayer,
  suggestCommand,
  exportCommand,
];
