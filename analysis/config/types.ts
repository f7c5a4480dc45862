// SPDX-License-Identifier: Apache-2.0
/**
 * The `*.quant.json` config (DESIGN.md contract 3): which format each layer's weights and input activations use.
 * Its JSON Schema is schemas/quant-config.schema.json; keep the two in step (a test checks they agree).
 */

export const QUANT_CONFIG_VERSION = 1;

/** Granularity string as the CLI takes it: `tensor`, `channel`, or `group:N` (blocks of N along the reduction axis). */
export type GranularitySpec = string;

/** How one tensor (a weight, or a layer's input activation) is quantized. */
export interface TensorQuantSpec {
  /** Format id from analysis/quant/formats.ts. */
  format: string;
  granularity?: GranularitySpec;
  /** `minmax`, `percentile:P`, `mse`, `kl` or `mosf`. */
  calibration?: string;
  symmetric?: boolean;
  /**
   * Weights only: `nearest` (the default) rounds each weight to its nearest grid point; `gptq` picks grid points
   * that minimise the layer's output error on the calibration data (analysis/quant/gptq.ts).
   */
  rounding?: WeightRounding;
}

export type WeightRounding = 'nearest' | 'gptq';

/** A layer override: fields merge over the defaults; `null` keeps that side in floating point. */
export interface LayerOverride {
  weights?: Partial<TensorQuantSpec> | null;
  activations?: Partial<TensorQuantSpec> | null;
  /** `quantlens suggest` keeps this layer's choice. */
  pinned?: boolean;
}

export interface CalibrationSettings {
  data?: string;
  random?: number;
  samples?: number;
  seed?: number;
  shapes?: Record<string, number[]>;
  preprocessing?: {
    size?: [number, number];
    mean?: number[];
    std?: number[];
    channelOrder?: 'rgb' | 'bgr';
    layout?: 'nchw' | 'nhwc';
  };
}

export type BudgetKind = 'avg-bits' | 'size-mb' | 'bops' | 'latency-ms';

export interface Provenance {
  method: 'preset' | 'ilp' | 'manual';
  preset?: string;
  budget?: { kind: BudgetKind; value: number };
  sensitivity?: string;
  predicted?: { loss?: number; avgWeightBits?: number; sizeMB?: number; bops?: number; latencyMs?: number };
  measured?: { metric: string; fp32: number; quantized: number; delta: number; samples?: number };
  tool?: { name: string; version: string };
  createdAt?: string;
}

export interface QuantConfig {
  $schema?: string;
  version: typeof QUANT_CONFIG_VERSION;
  model: { path: string; sha256?: string };
  defaults: { weights: TensorQuantSpec | null; activations: TensorQuantSpec | null };
  layers?: Record<string, LayerOverride>;
  calibration?: CalibrationSettings;
  provenance?: Provenance;
}

/** A layer's effective specs after merging its override over the defaults. */
export interface ResolvedLayerSpec {
  weights: TensorQuantSpec | null;
  activations: TensorQuantSpec | null;
  pinned: boolean;
}

/** Merge a layer's override over the config defaults. */
export function resolveLayer(config: QuantConfig, nodeName: string): ResolvedLayerSpec {
  const o = config.layers?.[nodeName];
  return {
    weights: mergeSpec(config.defaults.weights, o?.weights),
    activations: mergeSpec(config.defaults.activations, o?.activations),
    pinned: o?.pinned ?? false,
  };
}

function mergeSpec(base: TensorQuantSpec | null, over: Partial<TensorQuantSpec> | null | undefined): TensorQuantSpec | null {
  if (over === null) return null;
  if (over === undefined) return base;
  const merged = { ...(base ?? {}), ...over };
  // an override that names no format on top of a float default leaves the tensor in float
  return typeof merged.format === 'string' ? (merged as TensorQuantSpec) : null;
}

/** Parse `group:N` / `channel` / `tensor`; undefined means the format's default. */
export function parseGranularity(g: GranularitySpec | undefined): { kind: 'tensor' } | { kind: 'channel' } | { kind: 'group'; size: number } | undefined {
  if (g === undefined) return undefined;
  if (g === 'tensor' || g === 'channel') return { kind: g };
  const m = /^group:([1-9][0-9]*)$/.exec(g);
  return m ? { kind: 'group', size: Number(m[1]) } : undefined;
}
