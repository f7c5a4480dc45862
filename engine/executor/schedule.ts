// SPDX-License-Identifier: Apache-2.0
/** Topological scheduling of a graph's nodes and the liveness-based release plan for one run. */
import { QuantLensError } from '../errors';
import type { Graph, Node } from '../ir';
import type { Plan } from './program';

/** Orders nodes so every input is produced first (stable w.r.t. file order); rejects cycles and dangling inputs. */
export function schedule(graph: Graph): Node[] {
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (o === '') continue;
      if (producer.has(o) || graph.initializers.has(o)) {
        throw new QuantLensError('model-format', `graph '${graph.name}': value '${o}' is produced more than once (node '${n.name}')`);
      }
      producer.set(o, i);
    }
  });
  const available = new Set<string>([...graph.inputs.map((v) => v.name), ...graph.initializers.keys()]);
  for (const o of graph.outputs) {
    if (!available.has(o.name) && !producer.has(o.name)) {
      throw new QuantLensError('model-format', `graph '${graph.name}': output '${o.name}' is not produced by any node, input or initializer`);
    }
  }
  const pending = graph.nodes.map((n) => new Set(n.inputs.filter((v) => v !== '' && !available.has(v))));
  const readers = new Map<string, number[]>();
  graph.nodes.forEach((n, i) => {
    for (const v of pending[i]) {
      if (!producer.has(v)) throw new QuantLensError('model-format', `graph '${graph.name}': node '${n.name}' reads '${v}', which no node, input or initializer provides`);
      const r = readers.get(v) ?? [];
      r.push(i);
      readers.set(v, r);
    }
  });
  // Kahn's algorithm with a min-index queue keeps the file order where it is already valid.
  const ready: number[] = [];
  graph.nodes.forEach((_, i) => { if (pending[i].size === 0) ready.push(i); });
  const order: Node[] = [];
  const done = new Array<boolean>(graph.nodes.length).fill(false);
  while (ready.length) {
    ready.sort((a, b) => b - a);
    const i = ready.pop()!;
    done[i] = true;
    order.push(graph.nodes[i]);
    for (const o of graph.nodes[i].outputs) {
      for (const r of readers.get(o) ?? []) {
        pending[r].delete(o);
        if (pending[r].size === 0 && !done[r] && !ready.includes(r)) ready.push(r);
      }
    }
  }
  if (order.length !== graph.nodes.length) {
    const stuck = graph.nodes.filter((_, i) => !done[i]).slice(0, 5).map((n) => `'${n.name}'`);
    throw new QuantLensError('model-format', `graph '${graph.name}': the nodes contain a cycle (involving ${stuck.join(', ')})`);
  }
  return order;
}

/**
 * The nodes (indices into `nodes`) needed to compute `wanted` from `fed` values and constants, in schedule order,
 * with each value released after its last reader unless it is wanted or fed.
 */
export function planRun(nodes: readonly Node[], producers: ReadonlyMap<string, number>, isConstant: (v: string) => boolean,
  inputNames: ReadonlySet<string>, fed: ReadonlySet<string>, wanted: readonly string[]): Plan {
  const need = new Set<number>();
  const stack: string[] = [...wanted];
  const seen = new Set<string>();
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v) || v === '') continue;
    seen.add(v);
    if (fed.has(v) || isConstant(v)) continue;
    const p = producers.get(v);
    if (p === undefined) {
      if (inputNames.has(v)) throw new QuantLensError('usage', `input '${v}' is needed but was not fed`);
      throw new QuantLensError('usage', `value '${v}' does not exist in the program`);
    }
    if (need.has(p)) continue;
    need.add(p);
    stack.push(...nodes[p].inputs);
  }
  const order = [...need].sort((a, b) => a - b);
  const keep = new Set<string>([...wanted, ...fed]);
  const lastUse = new Map<string, number>();
  order.forEach((ni, step) => { for (const v of nodes[ni].inputs) if (v !== '' && producers.has(v) && !keep.has(v)) lastUse.set(v, step); });
  // Outputs nobody reads (unused optional outputs) go right after their producer.
  order.forEach((ni, step) => { for (const v of nodes[ni].outputs) if (v !== '' && !keep.has(v) && !lastUse.has(v)) lastUse.set(v, step); });
  const release: string[][] = order.map(() => []);
  for (const [v, step] of lastUse) release[step].push(v);
  return { order, release };
}
