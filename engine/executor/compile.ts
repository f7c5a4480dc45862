// SPDX-License-Identifier: Apache-2.0
/**
 * Graph IR (+ quantization config) → Program: schedule, resolve every node's op in the registry (an op the engine
 * lacks fails here, before any run), fold weight-only subgraphs, and bind quantized layers to their kernels
 * (engine/quantized) or, when no kernel fits, to the fake-quant fallback.
 */
import { QuantLensError } from '../errors';
import { fakeQuantRunner } from '../fakeQuant';
import type { Graph, Model, Node, Tensor } from '../ir';
import type { QuantizedNodeFactory } from '../kernel-api';
import type { EngineQuantConfig } from '../quant-types';
import { Arena } from '../ops/arena';
import { resolveOp } from '../ops/registry';
import { createQuantizedNode } from '../quantized';
import type { OpFactory } from '../ops/types';
import type { CompileOptions, CompiledNode, FoldedNode, Program, ValueSummary } from './program';
import { schedule } from './schedule';
import { findFusions } from './fuse';

function isModel(m: Model | Graph): m is Model {
  return 'graph' in m && 'opsets' in m;
}

/** Compiles a model (or a graph with `options.opsets`) under an optional quantization config. */
export function compile(model: Model | Graph, config?: EngineQuantConfig, options: CompileOptions = {}): Program {
  const graph = isModel(model) ? model.graph : model;
  const opsets = isModel(model) ? model.opsets : options.opsets;
  if (!opsets) throw new QuantLensError('usage', `compile: graph '${graph.name}' needs options.opsets (pass the Model to use its own)`);
  const factory: QuantizedNodeFactory = options.quantizedFactory ?? createQuantizedNode;
  const layers = config?.layers ?? {};
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  for (const name of Object.keys(layers)) {
    if (!byName.has(name)) throw new QuantLensError('config', `quantization config names node '${name}', which is not in graph '${graph.name}'`);
  }

  const order = schedule(graph);
  // Resolve every op first: an unsupported op anywhere fails compile with the op type, node and opset.
  const impls = order.map((n) => resolveOp(n, opsetOf(opsets, n)));

  const constants = new Map<string, Tensor>(graph.initializers);
  const folded: FoldedNode[] = [];
  const nodes: CompiledNode[] = [];
  const producers = new Map<string, number>();
  const foldedProducer = new Map<string, string>();
  order.forEach((node, i) => {
    const opset = opsetOf(opsets, node);
    const consts = node.inputs.map((v) => (v === '' ? undefined : constants.get(v)));
    const quant = layers[node.name];
    const allConst = node.inputs.every((v, j) => v === '' || consts[j] !== undefined);
    if (options.foldConstants !== false && !quant && allConst) {
      const run = impls[i](node, { opset, constants: consts });
      const outs = run(consts);
      node.outputs.forEach((o, j) => { if (o !== '' && outs[j]) { constants.set(o, outs[j]); foldedProducer.set(o, node.name); } });
      folded.push({ node, run });
      return;
    }
    const compiled = quant ? bindQuantized(node, impls[i], opset, consts, graph, config!, factory) : {
      node, run: impls[i](node, { opset, constants: consts }), path: 'fp32' as const, packedBytes: 0, captured: new Set<string>(),
    };
    for (const o of node.outputs) if (o !== '') producers.set(o, nodes.length);
    nodes.push(compiled);
  });

  const outputShapes: Program['outputShapes'] = {};
  for (const o of graph.outputs) outputShapes[o.name] = o.shape;
  const fusions = options.fuse === false ? new Map()
    : findFusions(nodes, constants, graph.outputs.map((o) => o.name), config, (n) => opsetOf(opsets, n));
  return {
    graph, opsets, nodes, constants, folded, producers, plans: new Map(), arena: new Arena(), fusions,
    inputNames: graph.inputs.map((v) => v.name),
    outputNames: graph.outputs.map((v) => v.name),
    outputShapes,
    values: summarize(graph, nodes, constants, foldedProducer),
  };
}

function opsetOf(opsets: Record<string, number>, node: Node): number {
  const v = opsets[node.domain];
  if (v === undefined) {
    throw new QuantLensError('unsupported-op', `${node.opType} in node '${node.name}': the model imports no opset for domain '${node.domain || 'ai.onnx'}'`);
  }
  return v;
}

/** A quantized layer: the kernel factory's runner, or fake-quant around the FP32 op when it returns null. */
function bindQuantized(node: Node, impl: OpFactory, opset: number, consts: (Tensor | undefined)[], graph: Graph,
  config: EngineQuantConfig, factory: QuantizedNodeFactory): CompiledNode {
  const cfg = config.layers[node.name];
  const weightIdx = Object.keys(cfg.weights ?? {}).map(Number);
  const shapeOf = (v: string): number[] | undefined => {
    const t = consts[node.inputs.indexOf(v)];
    if (t) return t.dims;
    const s = graph.valueInfo.get(v)?.shape ?? graph.inputs.find((x) => x.name === v)?.shape;
    return s && s.every((d): d is number => typeof d === 'number') ? s : undefined;
  };
  if (cfg.kernel !== 'fake-quant') {
    const q = factory({ node, config: cfg, constants: consts, opset, inputShapes: node.inputs.map((v) => (v === '' ? undefined : shapeOf(v))) });
    if (q) {
      const captured = new Set(node.inputs.filter((v, j) => v !== '' && consts[j] !== undefined));
      return { node, run: q.run, path: q.path, packedBytes: q.packedBytes, captured, fuseEpilogue: q.fuseEpilogue };
    }
  }
  const fp32 = impl(node, { opset, constants: consts });
  const run = fakeQuantRunner(node, cfg, fp32, node.inputs.map((v, j) => consts[j]?.dims ?? (v === '' ? undefined : shapeOf(v))));
  return { node, run, path: 'fake-quant', packedBytes: 0, captured: new Set(weightIdx.map((j) => node.inputs[j]).filter((v) => v)) };
}

function summarize(graph: Graph, nodes: CompiledNode[], constants: Map<string, Tensor>, foldedProducer: Map<string, string>): ValueSummary[] {
  const out: ValueSummary[] = graph.inputs.map((v) => ({ name: v.name, kind: 'input', dtype: v.dtype, shape: v.shape }));
  for (const [name, t] of constants) {
    out.push({ name, kind: 'constant', dtype: t.dtype, shape: [...t.dims], producer: foldedProducer.get(name) });
  }
  for (const c of nodes) {
    for (const o of c.node.outputs) {
      if (o === '') continue;
      const info = graph.valueInfo.get(o) ?? graph.outputs.find((v) => v.name === o);
      out.push({ name: o, kind: 'intermediate', dtype: info?.dtype, shape: info?.shape, producer: c.node.name });
    }
  }
  return out;
}
