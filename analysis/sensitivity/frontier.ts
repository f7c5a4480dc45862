// SPDX-License-Identifier: Apache-2.0
/**
 * The part of the graph a layer's quantization can change: the layer and every node downstream of it, and the
 * "frontier" — values produced upstream (or graph inputs) that those nodes read. Feeding the engine the
 * frontier values cached from the FP32 pass runs only the downstream part of the graph for that layer.
 */
import type { Graph, Node } from '../../engine/ir';

export interface Frontier {
  /** Names of the downstream nodes, the layer included. */
  downstream: Set<string>;
  /** Non-constant values the downstream nodes read but do not produce. */
  values: string[];
}

/**
 * Downstream set and frontier of `node`. `isConstant` says which values need no feeding (initializers, and
 * values the engine folded at compile time such as a Transpose of a stored weight).
 */
export function frontierOf(graph: Graph, node: Node, isConstant: (v: string) => boolean = (v) => graph.initializers.has(v)): Frontier {
  const consumers = new Map<string, Node[]>();
  for (const n of graph.nodes) for (const i of n.inputs) {
    if (!i) continue;
    let list = consumers.get(i);
    if (!list) consumers.set(i, (list = []));
    list.push(n);
  }
  const downstream = new Set<string>([node.name]);
  const produced = new Set<string>();
  const stack = [node];
  while (stack.length) {
    const n = stack.pop()!;
    for (const o of n.outputs) {
      if (!o) continue;
      produced.add(o);
      for (const c of consumers.get(o) ?? []) if (!downstream.has(c.name)) { downstream.add(c.name); stack.push(c); }
    }
  }
  const values = new Set<string>();
  for (const n of graph.nodes) {
    if (!downstream.has(n.name)) continue;
    for (const i of n.inputs) if (i && !produced.has(i) && !isConstant(i)) values.add(i);
  }
  return { downstream, values: [...values] };
}
