// SPDX-License-Identifier: Apache-2.0
/**
 * A config file read for a particular model (schema, known format ids, existing node names, sha256 pinning),
 * a config written atomically in its canonical form, and paths inside a config resolved against its folder.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { QuantLensError } from '../../engine/errors';
import { atomicWriteFile } from '../io/atomicWrite';
import type { LoadedModel } from '../onnx/load';
import { FORMAT_IDS } from '../quant/formats';
import { checkConfigAgainstModel, configError, parseConfig } from './load';
import { serializeConfig } from './serialize';
import type { QuantConfig } from './types';

/** Load `file` and check it against `loaded`; a different model hash is a warning, bad names are errors. */
export function loadConfigForModel(file: string, loaded: LoadedModel): { config: QuantConfig; warnings: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new QuantLensError('io', `${file}: cannot read config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  const config = parseConfig(text, file);
  const problems = checkConfigAgainstModel(config, text, { formatIds: FORMAT_IDS, nodeNames: loaded.model.graph.nodes.map((n) => n.name) });
  if (problems.length > 0) throw configError(file, problems);
  const warnings: string[] = [];
  if (config.model.sha256 && config.model.sha256 !== loaded.sha256) {
    warnings.push(`${file}: written for a model with sha256 ${config.model.sha256.slice(0, 12)}…, but ${loaded.file} has ${loaded.sha256.slice(0, 12)}…`);
  }
  return { config, warnings };
}

/** Write a config in canonical form, atomically (temp file + rename). */
export function saveConfig(file: string, config: QuantConfig): void {
  atomicWriteFile(file, serializeConfig(config));
}

/** A path from inside a config (calibration data, model), resolved against the config file's folder. */
export function resolveFromConfig(configFile: string, p: string): string {
  return path.resolve(path.dirname(path.resolve(configFile)), p);
}

/** The model path to store in a config written to `configFile`: relative to its folder, with forward slashes. */
export function modelPathFor(configFile: string, modelFile: string): string {
  const rel = path.relative(path.dirname(path.resolve(configFile)), path.resolve(modelFile));
  return rel.split(path.sep).join('/');
}
