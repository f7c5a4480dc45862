// SPDX-License-Identifier: Apache-2.0
/**
 * The quantized variants sensitivity compares: Q(W) for a layer's weight at each format (the same weight spec
 * a config with that format as its default gives: per-channel on the layer's output-channel axis, or blocks
 * along its reduction axis, as the format table says), and a
 * per-tensor fake-quantizer for its input activation calibrated (MSE) from the streamed histogram.
 */
import type { Node } from '../../engine/ir';
import { calibrate, calibrateFromHistogram, quantize } from '../quant';
import type { RunningHistogram } from '../quant/histogram';
import { weightQuantSpec } from '../config/toQuantSpec';

/** Dequantized Q(W) of a layer weight at `format`. */
export function quantizeWeight(node: Node, format: string, w: Float32Array, dims: readonly number[]): Float32Array {
  const t = { data: w, dims };
  return quantize(t, calibrate(t, weightQuantSpec({ format }, node, dims))).dequantized;
}

/** A fake-quantizer for an activation at `format`, per tensor, calibrated by MSE on its histogram. */
export function activationQuantizer(hist: RunningHistogram, format: string): (x: Float32Array, dims: readonly number[]) => Float32Array {
  const params = calibrateFromHistogram(hist, { format, granularity: { kind: 'tensor' }, calibration: { kind: 'mse' } });
  return (x, dims) => quantize({ data: x, dims }, params).dequantized;
}
