// SPDX-License-Identifier: Apache-2.0
/**
 * From a config's tensor spec (strings, as a user writes them) to the quantizer's QuantSpec for one layer:
 * `channel` and `group:N` get their axes from analysis/layers.ts (output-channel axis, reduction axis) rather
 * than the quantizer's generic defaults, so MatMul weights are scaled per output column, not per row.
 */
import type { Graph, Node, Tensor } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';
import { channelAxisFor, reductionAxisFor, weightInputIndices } from '../layers';
import { getFormat, type Granularity } from '../quant/formats';
import type { CalibrationMethod, QuantSpec } from '../quant/types';
import { parseGranularity, type TensorQuantSpec } from './types';

/** Ops whose weight and input activation a config quantizes. */
export const QUANTIZABLE_OPS: ReadonlySet<string> = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/** A layer a config can quantize: the node and the input index of its constant weight. */
export interface QuantizableLayer {
  node: Node;
  weightIndex: number;
  weightName: string;
  dims: number[];
  /** The FP32 weight as the node sees it (after folding, e.g. a Transpose of an initializer). */
  tensor: Tensor;
}

/**
 * Every node with a constant weight among the quantizable ops, in graph order. `constants` may add values
 * folded from weight-only subgraphs (the engine program's `constants`): exporters often feed MatMul a
 * Transpose of the stored weight.
 */
export function quantizableLayers(graph: Graph, constants: ReadonlyMap<string, Tensor> = graph.initializers): QuantizableLayer[] {
  const out: QuantizableLayer[] = [];
  for (const node of graph.nodes) {
    if (!QUANTIZABLE_OPS.has(node.opType) || node.domain !== '') continue;
    const [idx] = weightInputIndices(node);
    if (idx === undefined) continue;
    const t = constants.get(node.inputs[idx]) ?? graph.initializers.get(node.inputs[idx]);
    if (!t || !(t.data instanceof Float32Array) || t.dims.length < 2) continue;
    out.push({ node, weightIndex: idx, weightName: node.inputs[idx], dims: [...t.dims], tensor: t });
  }
  return out;
}

/** `minmax` | `percentile:P` | `mse` | `kl` | `mosf` → CalibrationMethod. */
export function parseCalibration(s: string | undefined): CalibrationMethod | undefined {
  if (s === undefined) return undefined;
  if (s === 'minmax' || s === 'mse' || s === 'kl' || s === 'mosf') return { kind: s };
  const m = /^percentile:([0-9]+(?:\.[0-9]+)?)$/.exec(s);
  if (m && Number(m[1]) > 0 && Number(m[1]) <= 100) return { kind: 'percentile', p: Number(m[1]) };
  throw new QuantLensError('config', `calibration '${s}' is not one of minmax, percentile:P (0 < P ≤ 100), mse, kl, mosf`);
}

/** The quantizer spec for a layer's weight. */
export function weightQuantSpec(spec: TensorQuantSpec, node: Node, dims: readonly number[]): QuantSpec {
  const format = getFormat(spec.format);
  const g = parseGranularity(spec.granularity);
  let granularity: Granularity;
  const kind = g?.kind ?? format.defaultGranularity;
  if (dims.length <= 1 || kind === 'tensor') granularity = { kind: 'tensor' };
  else if (kind === 'channel') granularity = { kind: 'channel', axis: channelAxisFor(node, dims) };
  else granularity = { kind: 'group', axis: reductionAxisFor(node, dims), size: g?.kind === 'group' ? g.size : format.blockSize ?? 32 };
  return withCommon({ format: spec.format, granularity }, spec);
}

/** The quantizer spec for an activation (always one scale per tensor). */
export function activationQuantSpec(spec: TensorQuantSpec): QuantSpec {
  getFormat(spec.format);
  const g = parseGranularity(spec.granularity);
  if (g && g.kind !== 'tensor') throw new QuantLensError('config', `activations are quantized per tensor; granularity '${spec.granularity}' is for weights`);
  if (spec.rounding !== undefined) throw new QuantLensError('config', `'rounding' applies to weights only; activations always round to nearest`);
  return withCommon({ format: spec.format, granularity: { kind: 'tensor' } }, spec);
}

function withCommon(q: QuantSpec, spec: TensorQuantSpec): QuantSpec {
  const calibration = parseCalibration(spec.calibration);
  if (calibration) q.calibration = calibration;
  if (spec.symmetric !== undefined) q.symmetric = spec.symmetric;
  return q;
}
