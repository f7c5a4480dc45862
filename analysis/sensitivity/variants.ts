// SPDX-License-Identifier: Apache-2.0
/**
 * The quantized variants sensitivity compares: Q(W) for a layer's weight at each format (per-channel along
 * the layer's output-channel axis, or blocks along its reduction axis, as the format table says), and a
 * per-tensor fake-quantizer for its input activation calibrated (MSE) from the streamed histogram.
 */
import type { Node } from '../../engine/ir';
import { calibrate, calibrateFromHistogram, getFormat, quantize } from '../quant';
import type { Granularity, QuantSpec } from '../quant';
import type { RunningHistogram } from '../quant/histogram';
import { channelAxisFor, reductionAxisFor } from '../layers';

/** The weight QuantSpec for a layer: the format's default granularity on the layer's own axes. */
export function weightSpecFor(node: Node, format: string, dims: readonly number[]): QuantSpec {
  const f = getFormat(format);
  let granularity: Granularity | undefined;
  if (dims.length >= 2) {
    if (f.defaultGranularity === 'channel') granularity = { kind: 'channel', axis: channelAxisFor(node, dims) };
    else if (f.defaultGranularity === 'group') granularity = { kind: 'group', axis: reductionAxisFor(node, dims), size: f.blockSize ?? 32 };
  }
  return granularity ? { format, granularity } : { format };
}

/** Dequantized Q(W) of a layer weight at `format`. */
export function quantizeWeight(node: Node, format: string, w: Float32Array, dims: readonly number[]): Float32Array {
  const t = { data: w, dims };
  return quantize(t, calibrate(t, weightSpecFor(node, format, dims))).dequantized;
}

/** A fake-quantizer for an activation at `format`, per tensor, calibrated by MSE on its histogram. */
export function activationQuantizer(hist: RunningHistogram, format: string): (x: Float32Array, dims: readonly number[]) => Float32Array {
  const params = calibrateFromHistogram(hist, { format, granularity: { kind: 'tensor' }, calibration: { kind: 'mse' } });
  return (x, dims) => quantize({ data: x, dims }, params).dequantized;
}
