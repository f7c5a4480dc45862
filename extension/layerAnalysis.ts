// SPDX-License-Identifier: Apache-2.0
/**
 * What the panels show, computed with the analysis functions: one layer's weight quantization (grid, clip
 * points, error metrics), the config that quantizes only that layer (its accuracy delta is measured on the
 * engine by an `evaluate` worker job), and one layer's output-activation histogram with each calibration
 * method's clip range and up to three formats' grids with their error.
 */
import { collectActivationStats } from '../analysis/activations/collect';
import { OrtReference } from '../analysis/activations/ortReference';
import { quantizableLayers, weightQuantSpec } from '../analysis/config/toQuantSpec';
import { QUANT_CONFIG_VERSION, type QuantConfig, type TensorQuantSpec } from '../analysis/config/types';
import { bitsPerElement, calibrate, calibrateFromHistogram, getFormat, granularityLabel, quantize } from '../analysis/quant';
import type { CalibrationMethod, QuantParams } from '../analysis/quant';
import type { RunningHistogram } from '../analysis/quant/histogram';
import type { EvalReport, Histogram, QuantizationResult } from '../analysis/report';
import { downsampleHistogram } from '../analysis/sensitivity/analyzeLayers';
import { histogram as histogramOf } from '../analysis/stats/tensorStats';
import { QuantLensError } from '../engine/errors';
import type { ClipRange, FormatGrid, HistogramData } from '../webview/protocol';
import type { Sources } from './dataSources';
import type { OnnxModelDocument } from './modelDocument';

/** The weight side of "Quantize Layer…": metrics, grid and clip range, and the FP32 weight histogram. */
export function quantizeLayerWeights(doc: OnnxModelDocument, layer: string, spec: TensorQuantSpec): { result: QuantizationResult; histogram: Histogram } {
  const ql = quantizableLayers(doc.loaded.model.graph).find((l) => l.node.name === layer);
  if (!ql) throw new QuantLensError('usage', `${doc.path}: layer '${layer}' has no constant weight QuantLens can quantize (Conv, ConvTranspose, Gemm, MatMul)`, doc.path);
  const data = ql.tensor.data as Float32Array;
  const q = weightQuantSpec(spec, ql.node, ql.dims);
  const params = calibrate({ data, dims: ql.dims }, q);
  const res = quantize({ data, dims: ql.dims }, params);
  let lo = Infinity, hi = -Infinity;
  for (const v of data) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const m = res.metrics;
  return {
    histogram: histogramOf(data, 128, [Math.min(lo, res.clipRange[0]), Math.max(hi, res.clipRange[1])]),
    result: {
      layer, format: spec.format, granularity: granularityLabel(params.granularity), calibration: params.calibration,
      mse: m.mse, sqnrDb: m.sqnrDb, cosine: m.cosine, maxAbsError: m.maxAbsError, clipFraction: m.clipFraction,
      bitsPerElement: bitsPerElement(getFormat(spec.format), params.granularity, ql.dims, { symmetric: params.symmetric }),
      grid: Array.from(res.grid), clipRange: res.clipRange,
    },
  };
}

/** A config that quantizes only `layer`'s weights with `spec` (everything else stays FP32). */
export function singleLayerConfig(doc: OnnxModelDocument, layer: string, spec: TensorQuantSpec): QuantConfig {
  return { version: QUANT_CONFIG_VERSION, model: { path: doc.path, sha256: doc.sha256 }, defaults: { weights: null, activations: null }, layers: { [layer]: { weights: spec } } };
}

/** The accuracy delta of an evaluation: top-1 accuracy with labels, else top-1 agreement, else output SQNR. */
export function accuracyDelta(e: EvalReport): NonNullable<QuantizationResult['accuracyDelta']> {
  if (e.accuracy) return { metric: 'top-1 accuracy', fp32: e.accuracy.fp32, quantized: e.accuracy.quantized, delta: e.accuracy.delta };
  if (e.top1Agreement !== null) return { metric: 'top-1 agreement with FP32', fp32: 1, quantized: e.top1Agreement, delta: e.top1Agreement - 1 };
  return { metric: 'output SQNR (dB)', fp32: Infinity, quantized: e.sqnrDb, delta: -e.sqnrDb };
}

/** Calibration methods whose clip ranges the histogram panel compares. */
const CLIP_METHODS: { label: string; method: CalibrationMethod }[] = [
  { label: 'min/max', method: { kind: 'minmax' } },
  { label: 'percentile 99.99', method: { kind: 'percentile', p: 99.99 } },
  { label: 'MSE', method: { kind: 'mse' } },
  { label: 'KL', method: { kind: 'kl' } },
];

/** Quantize the histogram's bin centres (weighted by count): the grid, the clip range and the error. */
function gridOnHistogram(h: RunningHistogram, params: QuantParams): { grid: number[]; clipRange: [number, number]; mse: number; sqnrDb: number } {
  const centers = Float32Array.from(h.centers());
  const res = quantize({ data: centers, dims: [centers.length] }, params);
  let se = 0, sx = 0, n = 0;
  const counts = h.counts;
  for (let i = 0; i < centers.length; i++) {
    const c = counts[i];
    if (!c) continue;
    const d = centers[i] - res.dequantized[i];
    se += c * d * d; sx += c * centers[i] * centers[i]; n += c;
  }
  const mse = n ? se / n : 0;
  return { grid: Array.from(res.grid), clipRange: res.clipRange, mse, sqnrDb: se > 0 ? Math.min(400, 10 * Math.log10(sx / se)) : 400 };
}

/** The output activation of `layer` over the calibration samples, with clip ranges and format grids. */
export async function activationHistogram(doc: OnnxModelDocument, layer: string, formats: string[], sources: Sources, signal: AbortSignal): Promise<NonNullable<HistogramData['activation']>> {
  const graph = doc.loaded.model.graph;
  const node = graph.nodes.find((n) => n.name === layer);
  if (!node) throw new QuantLensError('usage', `${doc.path}: no node named '${layer}'`, doc.path);
  const tensor = node.outputs[0];
  const outputs = graph.outputs.map((o) => o.name);
  const ref = await OrtReference.create(doc.bytes, outputs.includes(tensor) ? [] : [tensor], doc.path, outputs);
  let acc;
  try {
    acc = (await collectActivationStats(ref, sources.calib, [tensor], { signal })).get(tensor);
  } finally {
    await ref.dispose();
  }
  if (!acc || acc.histogram.count === 0) throw new QuantLensError('calibration', `${doc.path}: the output of '${layer}' is not a float tensor, so it has no histogram`, doc.path);
  const h = acc.histogram;
  const channels = acc.channels();
  const channelRanges = channels ? Array.from(channels.min, (min, c) => ({ channel: c, min, max: channels.max[c] })) : [];
  const clipRanges: ClipRange[] = CLIP_METHODS.map(({ label, method }) => {
    // a non-negative tensor (Softmax, ReLU output) clips one-sided: unsigned codes
    const p = calibrateFromHistogram(h, { format: h.min >= 0 ? 'uint8' : 'int8', granularity: { kind: 'tensor' }, calibration: method });
    const { clipRange } = gridOnHistogram(h, p);
    return { method: label, min: clipRange[0], max: clipRange[1] };
  });
  const grids: FormatGrid[] = formats.slice(0, 3).map((format) => {
    const p = calibrateFromHistogram(h, { format, granularity: { kind: 'tensor' }, calibration: { kind: 'mse' } });
    return { format, ...gridOnHistogram(h, p) };
  });
  return {
    layer, op: node.opType, histogram: downsampleHistogram(h, 160) ?? { edges: [0, 1], counts: [0] },
    channelRanges, outlierChannels: outlierChannels(channelRanges), clipRanges, grids, samples: sources.calib.sampleCount,
  };
}

/** Channels whose range is more than 8× the median channel range (the report's outlier rule). */
export function outlierChannels(ranges: { channel: number; min: number; max: number }[]): number[] {
  if (ranges.length < 2) return [];
  const widths = ranges.map((r) => r.max - r.min).sort((a, b) => a - b);
  const median = widths[Math.floor(widths.length / 2)];
  return median > 0 ? ranges.filter((r) => r.max - r.min > 8 * median).map((r) => r.channel) : [];
}
