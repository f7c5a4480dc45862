// SPDX-License-Identifier: Apache-2.0
/**
 * A `*.quant.json` → the engine's quantization records: every quantizable layer's weight is calibrated and
 * quantized by analysis/quant, its input activation calibrated from the FP32 activation histograms, and both
 * handed over as engine/quant-types records (which also drive the QDQ export). Weight quantizations are
 * cached per tensor and spec, so sweeping many configs (suggest) quantizes each (weight, format) once.
 */
import type { Graph, Tensor } from '../../engine/ir';
import type { ActivationQuant, EngineQuantConfig, LayerQuantConfig, QuantizedWeight } from '../../engine/quant-types';
import type { ActivationAccumulator } from '../activations/accumulator';
import { activationQuantSpec, quantizableLayers, weightQuantSpec, type QuantizableLayer } from '../config/toQuantSpec';
import { resolveLayer, type QuantConfig, type TensorQuantSpec } from '../config/types';
import { calibrate, calibrateFromHistogram } from '../quant/calibrate';
import { bitsPerElement, getFormat } from '../quant/formats';
import { gptqRound, type LayerGram } from '../quant/gptq';
import { errorMetrics, quantize } from '../quant/quantize';
import { toEngineActivation, toEngineWeight } from '../quant/toEngine';
import { QuantLensError } from '../../engine/errors';
import { gptqGeometry, type LayerGrams } from './layerGram';

/** What a layer became under a config, for reports and allocation. */
export interface BuiltLayer {
  name: string;
  op: string;
  weightName: string;
  params: number;
  weightFormat: string | null;
  activationFormat: string | null;
  /** Weight storage in bits (codes + scales + metadata); 32 · params when the weight stays FP32. */
  weightBits: number;
  /** SQNR of the quantized weight against FP32 (dB), when quantized. */
  weightSqnrDb?: number;
}

export interface BuiltQuant {
  engine: EngineQuantConfig;
  layers: BuiltLayer[];
}

// keyed by the FP32 tensor, or for GPTQ by the calibration statistics the rounding depends on
const weightCache = new WeakMap<object, Map<string, { record: QuantizedWeight; sqnrDb: number; bits: number }>>();

/** The activation tensors a config quantizes (inputs of its quantized layers), to calibrate beforehand. */
export function activationTensorsFor(graph: Graph, config: QuantConfig, constants?: ReadonlyMap<string, Tensor>): string[] {
  const names = new Set<string>();
  for (const l of quantizableLayers(graph, constants)) {
    if (resolveLayer(config, l.node.name).activations) names.add(l.node.inputs[0]);
  }
  return [...names];
}

/**
 * Quantize one layer's weight under a spec (cached). `gram` (the layer's calibration input statistics,
 * eval/layerGram.ts) is required when the spec rounds with GPTQ.
 */
export function quantizeLayerWeight(layer: QuantizableLayer, spec: TensorQuantSpec, gram?: LayerGram): { record: QuantizedWeight; sqnrDb: number; bits: number } {
  const gptq = spec.rounding === 'gptq';
  if (gptq && !gram) throw new QuantLensError('calibration', `layer '${layer.node.name}': GPTQ rounding needs calibration data (the layer's inputs)`);
  const owner: object = gptq ? gram! : layer.tensor;
  const key = `${layer.node.name}|${JSON.stringify(spec)}`;
  let cache = weightCache.get(owner);
  if (!cache) weightCache.set(owner, (cache = new Map()));
  const hit = cache.get(key);
  if (hit) return hit;
  const q = weightQuantSpec(spec, layer.node, layer.dims);
  const data = layer.tensor.data as Float32Array;
  const params = calibrate({ data, dims: layer.dims }, q);
  // GPTQ keeps the calibrated grid and only changes which grid point each weight takes
  const rounded = gptq ? gptqRound(data, layer.dims, params, gptqGeometry(layer), gram!) : data;
  const result = quantize({ data: rounded, dims: layer.dims }, params);
  const sqnrDb = gptq ? errorMetrics(data, result.dequantized).sqnrDb : result.metrics.sqnrDb;
  const bits = bitsPerElement(getFormat(spec.format), result.params.granularity, layer.dims, { symmetric: result.params.symmetric }) * data.length;
  const out = { record: toEngineWeight(result, q, layer.dims), sqnrDb, bits };
  cache.set(key, out);
  return out;
}

/** Calibrate one activation from its FP32 statistics. */
export function quantizeActivation(spec: TensorQuantSpec, stats: ActivationAccumulator): ActivationQuant {
  // MOSF folds per-channel scales into one tensor scale, so it needs the streamed per-channel ranges
  return toEngineActivation(calibrateFromHistogram(stats.histogram, activationQuantSpec(spec), stats.channels() ?? undefined));
}

/**
 * Build the engine records for a config; `stats` must hold the tensors activationTensorsFor() named, and `grams`
 * the layers gptqLayers() named.
 */
export function buildEngineConfig(graph: Graph, config: QuantConfig, stats: ReadonlyMap<string, ActivationAccumulator>,
  constants?: ReadonlyMap<string, Tensor>, grams?: LayerGrams): BuiltQuant {
  const engine: EngineQuantConfig = { layers: {} };
  const layers: BuiltLayer[] = [];
  for (const l of quantizableLayers(graph, constants)) {
    const spec = resolveLayer(config, l.node.name);
    const params = l.dims.reduce((a, b) => a * b, 1);
    const lc: LayerQuantConfig = {};
    const built: BuiltLayer = { name: l.node.name, op: l.node.opType, weightName: l.weightName, params, weightFormat: null, activationFormat: null, weightBits: 32 * params };
    if (spec.weights) {
      const w = quantizeLayerWeight(l, spec.weights, grams?.get(l.node.name));
      lc.weights = { [l.weightIndex]: w.record };
      built.weightFormat = spec.weights.format;
      built.weightBits = w.bits;
      built.weightSqnrDb = w.sqnrDb;
    }
    if (spec.activations) {
      const acc = stats.get(l.node.inputs[0]);
      const broken = acc ? acc.histogram.nanCount + acc.histogram.infCount : 0;
      if (!acc || acc.n === 0) {
        throw new QuantLensError('calibration', `no calibration statistics for '${l.node.inputs[0]}', the input of '${l.node.name}'${broken
          ? `: all ${broken} calibration values are NaN/Inf (non-finite weights upstream?); quantize its weights only (activations null) or fix the model` : ''}`);
      }
      lc.inputs = { 0: quantizeActivation(spec.activations, acc) };
      built.activationFormat = spec.activations.format;
    }
    if (lc.weights || lc.inputs) engine.layers[l.node.name] = lc;
    layers.push(built);
  }
  return { engine, layers };
}
