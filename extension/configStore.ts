// SPDX-License-Identifier: Apache-2.0
/**
 * The model's `*.quant.json` next to it (`model.onnx` → `model.quant.json`): read, record layer overrides,
 * write a whole config. Writes are atomic (temp + rename) and canonical (serializeConfig), so the file diffs
 * cleanly; the model file itself is only ever read.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../analysis/config/load';
import { serializeConfig } from '../analysis/config/serialize';
import { QUANT_CONFIG_VERSION, type LayerOverride, type QuantConfig, type TensorQuantSpec } from '../analysis/config/types';
import { atomicWriteFile } from '../analysis/io/atomicWrite';

/** The config path for a model: same folder, `.onnx` replaced by `.quant.json`. */
export function configPathFor(modelPath: string): string {
  return path.join(path.dirname(modelPath), `${path.basename(modelPath).replace(/\.onnx$/i, '')}.quant.json`);
}

/** Read the model's config when it exists (throws QuantLensError('config') naming file:line:col when invalid). */
export function readConfig(modelPath: string): { path: string; config: QuantConfig } | undefined {
  const file = configPathFor(modelPath);
  return existsSync(file) ? { path: file, config: loadConfig(file) } : undefined;
}

/** A fresh config for the model: everything in floating point until overrides or a suggestion say otherwise. */
export function emptyConfig(modelPath: string, sha256: string): QuantConfig {
  return {
    version: QUANT_CONFIG_VERSION,
    model: { path: `./${path.basename(modelPath)}`, sha256 },
    defaults: { weights: null, activations: null },
    layers: {},
    provenance: { method: 'manual', createdAt: new Date().toISOString() },
  };
}

/** Write a config atomically (canonical text). */
export function writeConfig(file: string, config: QuantConfig): void {
  atomicWriteFile(file, serializeConfig(config));
}

/**
 * Record a layer's weight choice as an override in the model's config (creating the config when needed).
 * Returns the config file written.
 */
export function recordLayerOverride(modelPath: string, sha256: string, layer: string, weights: TensorQuantSpec): { path: string; config: QuantConfig } {
  const existing = readConfig(modelPath);
  const file = existing?.path ?? configPathFor(modelPath);
  const config = existing?.config ?? emptyConfig(modelPath, sha256);
  if (existing && JSON.stringify(config.layers?.[layer]?.weights) === JSON.stringify(weights)) return existing; // already recorded: no rewrite
  const override: LayerOverride = { ...(config.layers?.[layer] ?? {}), weights };
  const next: QuantConfig = {
    ...config,
    layers: { ...(config.layers ?? {}), [layer]: override },
    provenance: { ...(config.provenance ?? { method: 'manual' }), method: config.provenance?.method ?? 'manual' },
  };
  writeConfig(file, next);
  return { path: file, config: next };
}

