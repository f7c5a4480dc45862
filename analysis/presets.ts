// SPDX-License-Identifier: Apache-2.0
/**
 * Named uniform configurations (`--preset NAME`), in format-table ids. "WxAy" follows the usual notation:
 * x-bit weights, y-bit activations; A16 means weight-only (activations stay in floating point).
 */
import { QuantLensError } from '../engine/errors';
import { QUANT_CONFIG_VERSION, type QuantConfig, type TensorQuantSpec } from './config/types';

export interface Preset {
  description: string;
  weights: TensorQuantSpec | null;
  activations: TensorQuantSpec | null;
}

/** Input activations: unsigned 8-bit per tensor with a zero point (u8s8, what onnxruntime runs fastest). */
const A8: TensorQuantSpec = { format: 'uint8', granularity: 'tensor', calibration: 'minmax', symmetric: false };

export const PRESETS: Readonly<Record<string, Preset>> = Object.freeze({
  w8a8: { description: 'int8 per-channel weights, uint8 per-tensor activations', weights: { format: 'int8', granularity: 'channel', calibration: 'minmax' }, activations: A8 },
  w8a16: { description: 'int8 per-channel weights only', weights: { format: 'int8', granularity: 'channel', calibration: 'minmax' }, activations: null },
  w4a8: { description: 'int4 per-channel weights (MSE clip), uint8 activations', weights: { format: 'int4', granularity: 'channel', calibration: 'mse' }, activations: A8 },
  'w4a8-gptq': { description: 'int4 per-channel weights (MSE clip) rounded by GPTQ on the calibration data, uint8 activations', weights: { format: 'int4', granularity: 'channel', calibration: 'mse', rounding: 'gptq' }, activations: A8 },
  w4a16: { description: 'int4 weights in groups of 32 (MSE clip), weight-only', weights: { format: 'int4', granularity: 'group:32', calibration: 'mse' }, activations: null },
  w2a8: { description: 'int2 per-channel weights (MSE clip), uint8 activations', weights: { format: 'int2', granularity: 'channel', calibration: 'mse' }, activations: A8 },
  fp8: { description: 'FP8 E4M3 weights (per channel) and activations (per tensor)', weights: { format: 'fp8_e4m3', granularity: 'channel', calibration: 'minmax' }, activations: { format: 'fp8_e4m3', granularity: 'tensor', calibration: 'minmax' } },
  nf4: { description: 'NF4 weights in blocks of 64, weight-only (QLoRA style)', weights: { format: 'nf4', granularity: 'group:64', calibration: 'minmax' }, activations: null },
  mxfp4: { description: 'OCP MXFP4 weights (32-element blocks, E8M0 scales), weight-only', weights: { format: 'mxfp4', calibration: 'minmax' }, activations: null },
  ternary: { description: 'BitNet b1.58 ternary weights, uint8 activations', weights: { format: 'ternary', granularity: 'tensor', calibration: 'minmax' }, activations: A8 },
});

export const PRESET_NAMES: readonly string[] = Object.freeze(Object.keys(PRESETS));

/** The config a preset stands for, for a model at `modelPath`. */
export function presetConfig(name: string, model: { path: string; sha256?: string }): QuantConfig {
  const p = PRESETS[name];
  if (!p) throw new QuantLensError('usage', `unknown preset '${name}'; presets: ${PRESET_NAMES.join(', ')}`);
  return {
    version: QUANT_CONFIG_VERSION,
    model: { ...model },
    defaults: { weights: p.weights && { ...p.weights }, activations: p.activations && { ...p.activations } },
    layers: {},
    provenance: { method: 'preset', preset: name },
  };
}
