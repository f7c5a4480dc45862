// SPDX-License-Identifier: Apache-2.0
/** Type-checked builders for hand-made graph IR in executor tests. */
import type { Attr, Graph, Model, Node, Tensor, ValueInfo } from '../../engine/ir';
import { rng } from './helpers';

/** A node; attrs given as IR attributes. */
export function node(name: string, opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): Node {
  return { name, opType, domain: '', inputs, outputs, attrs };
}

/** A float32 tensor with seeded values in [-1, 1). */
export function randomTensor(dims: number[], seed: number): Tensor {
  const r = rng(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', dims, data: Float32Array.from({ length: n }, () => r() * 2 - 1) };
}

export function input(name: string, shape: number[]): ValueInfo {
  return { name, dtype: 'float32', shape };
}

/** A model around nodes, graph inputs/outputs and initializers, at opset 17. */
export function model(nodes: Node[], inputs: ValueInfo[], outputs: string[], inits: Record<string, Tensor> = {}, opset = 17): Model {
  const graph: Graph = {
    name: 'test',
    nodes,
    inputs,
    outputs: outputs.map((name) => ({ name, dtype: 'float32' })),
    initializers: new Map(Object.entries(inits)),
    constantSources: new Map(Object.keys(inits).map((k) => [k, 'initializer' as const])),
    valueInfo: new Map(),
  };
  return { irVersion: 8, opsets: { '': opset }, producerName: 't', producerVersion: '', domain: '', modelVersion: 1, doc: '', metadata: {}, graph };
}

/**
 * x[1,3,8,8] → Conv(W, B) → Relu → GlobalAveragePool → Flatten → Gemm(Wt = Transpose(W2)) → y[1,5].
 * W2 reaches Gemm through a Transpose of an initializer, which compile folds.
 */
export function smallCnn(): Model {
  return model([
    node('conv', 'Conv', ['x', 'W', 'B'], ['c'], { pads: { type: 'ints', value: [1, 1, 1, 1] } }),
    node('relu', 'Relu', ['c'], ['r']),
    node('gap', 'GlobalAveragePool', ['r'], ['g']),
    node('flat', 'Flatten', ['g'], ['f']),
    node('wt', 'Transpose', ['W2'], ['W2t']),
    node('fc', 'Gemm', ['f', 'W2t'], ['y']),
  ], [input('x', [1, 3, 8, 8])], ['y'], {
    W: randomTensor([4, 3, 3, 3], 1), B: randomTensor([4], 2), W2: randomTensor([5, 4], 3),
  });
}
