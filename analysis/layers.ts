// SPDX-License-Identifier: Apache-2.0
/**
 * Layers as the user sees them, and the single source for "which input of a node is its weight, which axis
 * of that weight is the output channel and which the reduction axis". Quantizers, sensitivity, allocation
 * and export all ask here instead of re-deriving it per op.
 */
import type { Dim, Graph, Node } from '../engine/ir';
import type { LoadedModel } from './onnx/load';
import type { LayerReport } from './report';
import { nodeCost } from './shapes/cost';
import { inferShapes, type ShapeInfo } from './shapes/infer';
import { histogram, tensorStats } from './stats/tensorStats';

const intAttr = (node: Node, name: string, dflt: number): number => {
  const a = node.attrs[name];
  return a?.type === 'int' ? a.value : dflt;
};

/** Input positions that hold a weight, by op: the candidates before checking they are constant. */
function candidateWeightInputs(node: Node): number[] {
  if (node.domain !== '' && node.domain !== 'com.microsoft') return [];
  switch (node.opType) {
    case 'Conv': case 'ConvTranspose': case 'Gemm': case 'MatMul': case 'ConvInteger': case 'MatMulInteger':
      return [1];
    case 'QLinearConv': case 'QLinearMatMul':
      return [3];
    case 'Gather':
      return [0]; // an embedding table: Gather(data = constant table, indices)
    default:
      return [];
  }
}

/**
 * Indices of the node's inputs that are weights. With a graph, only inputs that are constants
 * (initializers or folded Constant nodes) count — a MatMul of two activations has no weight, and a Gather
 * is an embedding only when its table is a float constant.
 */
export function weightInputIndices(node: Node, graph?: Graph): number[] {
  const cands = candidateWeightInputs(node).filter((i) => (node.inputs[i] ?? '') !== '');
  if (!graph) return node.opType === 'Gather' ? [] : cands;
  return cands.filter((i) => {
    const t = graph.initializers.get(node.inputs[i]);
    if (!t) return false;
    if (node.opType === 'Gather') return t.dtype.startsWith('float') || t.dtype === 'bfloat16';
    return true;
  });
}

/**
 * The output-channel axis of the weight (per-channel scales run along it): Conv 0, ConvTranspose 1
 * ([C_in, C_out/group, k…]), Gemm B 1 or 0 with transB, MatMul B its last axis, embeddings their rows (0).
 */
export function channelAxisFor(node: Node, weightDims: readonly number[]): number {
  const rank = weightDims.length;
  if (rank <= 1) return 0;
  switch (node.opType) {
    case 'ConvTranspose': return 1;
    case 'Gemm': return intAttr(node, 'transB', 0) ? 0 : 1;
    case 'MatMul': case 'MatMulInteger': case 'QLinearMatMul': return rank - 1;
    default: return 0;
  }
}

/**
 * The axis a weight's dot products run over (the input-feature axis; for convolutions the input-channel
 * axis, with the kernel axes after it reduced too): Conv 1, ConvTranspose 0, Gemm B 0 or 1 with transB,
 * MatMul B its second-to-last axis, embeddings their feature axis.
 */
export function reductionAxisFor(node: Node, weightDims: readonly number[]): number {
  const rank = weightDims.length;
  if (rank <= 1) return 0;
  switch (node.opType) {
    case 'ConvTranspose': return 0;
    case 'Gemm': return intAttr(node, 'transB', 0) ? 1 : 0;
    case 'MatMul': case 'MatMulInteger': case 'QLinearMatMul': return rank - 2;
    case 'Gather': return rank - 1;
    default: return 1;
  }
}

export interface DescribeOptions {
  /** Shapes from inferShapes (with the user's --shape overrides); inferred without overrides when absent. */
  shapes?: ShapeInfo;
  /** Compute weight statistics (default true). */
  weightStats?: boolean;
  /** Attach a weight histogram with this many bins (default none). */
  histogramBins?: number;
}

/** The layer table: one LayerReport per node, with shapes, params, MACs and weight statistics. */
export function describeLayers(loaded: LoadedModel, opts: DescribeOptions = {}): LayerReport[] {
  const graph = loaded.model.graph;
  const info = opts.shapes ?? inferShapes(loaded.model, loaded.file);
  const shapeOf = (name: string): Dim[] => (name ? info.shapes.get(name) ?? [null] : []);
  return graph.nodes.map((node) => {
    const { params, macs } = nodeCost(node, info);
    const layer: LayerReport = {
      name: node.name,
      op: node.domain ? `${node.domain}.${node.opType}` : node.opType,
      inputShapes: node.inputs.map(shapeOf),
      outputShapes: node.outputs.map(shapeOf),
      params,
      macs,
      tags: [],
    };
    const wi = candidateWeightInputs(node).find((i) => info.constants.has(node.inputs[i] ?? ''));
    const wShape = wi === undefined ? undefined : info.shapes.get(node.inputs[wi]);
    if (wShape && wShape.every((d) => typeof d === 'number') && !(node.opType === 'Gather' && !weightInputIndices(node, graph).length)) {
      layer.weightShape = wShape as number[];
    }
    const weight = wi === undefined ? undefined : graph.initializers.get(node.inputs[wi]);
    if (weight && weight.dtype !== 'string' && weightInputIndices(node, graph).includes(wi!)) {
      layer.weightShape = weight.dims.slice();
      if (opts.weightStats !== false) {
        // read `data` once: for lazily loaded external weights each access reads the file, and dropping it
        // after this layer keeps peak memory at one tensor
        const data = weight.data as Exclude<typeof weight.data, string[]>;
        layer.weightStats = tensorStats(data, weight.dims, channelAxisFor(node, weight.dims));
        if (opts.histogramBins) layer.weightHistogram = histogram(data, opts.histogramBins);
      }
    }
    return layer;
  });
}
