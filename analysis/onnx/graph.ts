// SPDX-License-Identifier: Apache-2.0
/**
 * GraphProto → IR Graph: Constant nodes folded into initializers, unnamed nodes named `<OpType>_<index>`,
 * domains normalised, subgraph attributes converted (depth-capped), and the graph checked to be a DAG whose
 * every input is defined — the executor and shape inference rely on both.
 */
import type { onnx } from 'onnx-proto';
import type { Attr, DType, Dim, Graph, Node, Tensor, ValueInfo } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';
import { dtypeOf } from './dtypes';
import { decodeTensor, densifySparse, toNumber, type DecodeContext } from './tensor';

/** 'ai.onnx' and '' are the same default domain. */
export function normaliseDomain(domain: string | null | undefined): string {
  return !domain || domain === 'ai.onnx' ? '' : domain;
}

const utf8 = new TextDecoder();
const str = (b: Uint8Array | null | undefined) => (b ? utf8.decode(b) : '');
const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** The dtype and shape of a TypeProto; sequences/optionals/maps report their element tensor's type. */
function typeInfo(t: onnx.ITypeProto | null | undefined): { dtype: DType; shape?: Dim[] } {
  if (!t) return { dtype: 'float32' };
  if (t.tensorType) {
    const shape = t.tensorType.shape
      ? (t.tensorType.shape.dim ?? []).map((d): Dim => {
        if (hasOwn(d, 'dimValue')) return toNumber(d.dimValue as number);
        if (hasOwn(d, 'dimParam') && d.dimParam) return d.dimParam;
        return null;
      })
      : undefined;
    return { dtype: dtypeOf(t.tensorType.elemType) ?? 'float32', shape };
  }
  if (t.sparseTensorType) return { dtype: dtypeOf(t.sparseTensorType.elemType) ?? 'float32' };
  const inner = t.sequenceType?.elemType ?? t.optionalType?.elemType ?? t.mapType?.valueType;
  return { dtype: typeInfo(inner).dtype };
}

export function valueInfoOf(v: onnx.IValueInfoProto): ValueInfo {
  const { dtype, shape } = typeInfo(v.type);
  const info: ValueInfo = { name: v.name ?? '', dtype };
  if (shape) info.shape = shape;
  if (v.docString) info.doc = v.docString;
  return info;
}

/** AttributeProto.AttributeType codes. */
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10, SPARSE_TENSOR: 11 } as const;

/** Old exporters leave AttributeProto.type at 0; infer it from the field that is set. */
function attrType(a: onnx.IAttributeProto): number {
  if (a.type) return a.type;
  if (hasOwn(a, 'f')) return ATTR.FLOAT;
  if (hasOwn(a, 'i')) return ATTR.INT;
  if (hasOwn(a, 's')) return ATTR.STRING;
  if (hasOwn(a, 't')) return ATTR.TENSOR;
  if (hasOwn(a, 'g')) return ATTR.GRAPH;
  if (a.floats?.length) return ATTR.FLOATS;
  if (a.ints?.length) return ATTR.INTS;
  if (a.strings?.length) return ATTR.STRINGS;
  if (a.tensors?.length) return ATTR.TENSORS;
  if (a.graphs?.length) return ATTR.GRAPHS;
  if (hasOwn(a, 'sparseTensor')) return ATTR.SPARSE_TENSOR;
  return 0;
}

/** Converts the graphs of one model; carries the decode context and subgraph depth. */
export class GraphConverter {
  constructor(private readonly ctx: DecodeContext) {}

  /** Names read by a subgraph but defined outside it (its implicit inputs), per converted Graph. */
  readonly freeNames = new WeakMap<Graph, Set<string>>();

  convert(gp: onnx.IGraphProto, depth: number, outer: ReadonlySet<string>, label: string): Graph {
    const { file, limits } = this.ctx;
    if (depth > limits.maxGraphDepth) {
      throw new QuantLensError('limit', `${file}: subgraphs are nested more than ${limits.maxGraphDepth} deep (at ${label})`, file);
    }
    const graph: Graph = {
      name: gp.name ?? '', nodes: [], inputs: [], outputs: [], initializers: new Map(), constantSources: new Map(), valueInfo: new Map(),
    };
    if (gp.docString) graph.doc = gp.docString;
    const defined = new Set<string>();
    const define = (name: string, by: string) => {
      if (!name) return;
      if (defined.has(name)) throw new QuantLensError('model-format', `${file}: in graph '${label}', value '${name}' is defined twice (again by ${by})`, file);
      defined.add(name);
    };
    for (const t of gp.initializer ?? []) {
      const name = t.name ?? '';
      if (!name) throw new QuantLensError('model-format', `${file}: graph '${label}' has an initializer without a name`, file);
      define(name, 'an initializer');
      graph.initializers.set(name, decodeTensor(t, this.ctx, `initializer '${name}'`));
      graph.constantSources.set(name, 'initializer');
    }
    for (const s of gp.sparseInitializer ?? []) {
      const name = s.values?.name ?? '';
      define(name, 'a sparse initializer');
      graph.initializers.set(name, densifySparse(s, this.ctx, `sparse initializer '${name}'`));
      graph.constantSources.set(name, 'initializer');
    }
    for (const v of gp.input ?? []) {
      const info = valueInfoOf(v);
      if (graph.initializers.has(info.name)) continue;
      define(info.name, 'a graph input');
      graph.inputs.push(info);
    }
    for (const v of gp.valueInfo ?? []) graph.valueInfo.set(v.name ?? '', valueInfoOf(v));
    // every name this graph defines is visible to its subgraphs, whatever the node order
    const protos = gp.node ?? [];
    for (const [i, n] of protos.entries()) for (const o of n.output ?? []) define(o, `node ${i} (${n.opType ?? '?'})`);
    const scope = new Set([...outer, ...defined]);
    const used = new Set<string>();
    // explicit names are kept (configs key layers by them); generated ones avoid every explicit name
    const explicit = new Set(protos.map((n) => n.name ?? '').filter(Boolean));
    const names = new Set<string>();
    for (const [i, np] of protos.entries()) {
      const opType = np.opType ?? '';
      if (!opType) throw new QuantLensError('model-format', `${file}: graph '${label}' node ${i} has no op_type`, file);
      const domain = normaliseDomain(np.domain);
      const base = np.name || `${opType}_${i}`;
      let name = base;
      for (let k = 1; names.has(name) || (!np.name && explicit.has(name)); k++) name = `${base}_${k}`;
      names.add(name);
      const attrs: Record<string, Attr> = {};
      for (const a of np.attribute ?? []) {
        const attr = this.attr(a, depth, scope, `${label}/${name}`);
        if (attr) attrs[a.name ?? ''] = attr;
      }
      const inputs = (np.input ?? []).slice();
      const outputs = (np.output ?? []).slice();
      for (const x of inputs) if (x) used.add(x);
      if (opType === 'Constant' && domain === '' && outputs[0]) {
        graph.initializers.set(outputs[0], this.constantValue(attrs, name, label));
        graph.constantSources.set(outputs[0], 'constant-node');
        continue;
      }
      for (const a of Object.values(attrs)) {
        const subs = a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : [];
        for (const g of subs) for (const x of this.freeNames.get(g) ?? []) used.add(x);
      }
      const node: Node = { name, opType, domain, inputs, outputs, attrs };
      if (np.docString) node.doc = np.docString;
      graph.nodes.push(node);
    }
    graph.outputs = (gp.output ?? []).map(valueInfoOf);
    for (const o of graph.outputs) used.add(o.name);
    const free = new Set<string>();
    for (const x of used) {
      if (defined.has(x)) continue;
      if (!outer.has(x)) throw new QuantLensError('model-format', `${file}: in graph '${label}', value '${x}' is used but never defined`, file);
      free.add(x);
    }
    this.freeNames.set(graph, free);
    graph.nodes = topoSort(graph, this.freeNames, file, label, this.ctx.warnings);
    return graph;
  }

  private attr(a: onnx.IAttributeProto, depth: number, scope: ReadonlySet<string>, where: string): Attr | undefined {
    const what = `attribute '${a.name ?? ''}' of ${where}`;
    switch (attrType(a)) {
      case ATTR.FLOAT: return { type: 'float', value: a.f ?? 0 };
      case ATTR.INT: return { type: 'int', value: toNumber(a.i as number) };
      case ATTR.STRING: return { type: 'string', value: str(a.s) };
      case ATTR.TENSOR: return { type: 'tensor', value: decodeTensor(a.t ?? {}, this.ctx, what) };
      case ATTR.SPARSE_TENSOR: return { type: 'tensor', value: densifySparse(a.sparseTensor ?? {}, this.ctx, what) };
      case ATTR.GRAPH: return { type: 'graph', value: this.convert(a.g ?? {}, depth + 1, scope, `${where}.${a.name ?? ''}`) };
      case ATTR.FLOATS: return { type: 'floats', value: (a.floats ?? []).slice() };
      case ATTR.INTS: return { type: 'ints', value: (a.ints ?? []).map((v) => toNumber(v as number)) };
      case ATTR.STRINGS: return { type: 'strings', value: (a.strings ?? []).map(str) };
      case ATTR.TENSORS: return { type: 'tensors', value: (a.tensors ?? []).map((t, k) => decodeTensor(t, this.ctx, `${what}[${k}]`)) };
      case ATTR.GRAPHS:
        return { type: 'graphs', value: (a.graphs ?? []).map((g, k) => this.convert(g, depth + 1, scope, `${where}.${a.name ?? ''}[${k}]`)) };
      default: return undefined; // TypeProto attributes and unset ones carry nothing the IR models
    }
  }

  /** The tensor a Constant node produces, from whichever value_* attribute it sets. */
  private constantValue(attrs: Record<string, Attr>, name: string, label: string): Tensor {
    const v = attrs.value ?? attrs.sparse_value;
    if (v?.type === 'tensor') return v.value;
    const f = attrs.value_float, fs = attrs.value_floats, i = attrs.value_int, is = attrs.value_ints;
    const s = attrs.value_string, ss = attrs.value_strings;
    if (f?.type === 'float') return { dtype: 'float32', dims: [], data: Float32Array.of(f.value) };
    if (fs?.type === 'floats') return { dtype: 'float32', dims: [fs.value.length], data: Float32Array.from(fs.value) };
    if (i?.type === 'int') return { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(Math.trunc(clamp64(i.value)))) };
    if (is?.type === 'ints') return { dtype: 'int64', dims: [is.value.length], data: BigInt64Array.from(is.value, (x) => BigInt(Math.trunc(clamp64(x)))) };
    if (s?.type === 'string') return { dtype: 'string', dims: [], data: [s.value] };
    if (ss?.type === 'strings') return { dtype: 'string', dims: [ss.value.length], data: ss.value.slice() };
    const { file } = this.ctx;
    throw new QuantLensError('model-format', `${file}: Constant node '${name}' in graph '${label}' has no value attribute`, file);
  }
}

/** ±2^63 are not representable in int64; keep the nearest representable doubles. */
function clamp64(v: number): number {
  return Math.max(-(2 ** 63), Math.min(2 ** 63 - 1024, v));
}

/**
 * Nodes in dependency order: the file's order when it already is one (the common case, O(n)), else a
 * stable depth-first order with a warning. A cycle is a QuantLensError naming a node on it.
 */
export function topoSort(graph: Graph, freeNames: WeakMap<Graph, Set<string>>, file: string, label: string, warnings: string[]): Node[] {
  const nodes = graph.nodes;
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => { if (o) producer.set(o, i); }));
  const deps: number[][] = nodes.map((n) => {
    const names = [...n.inputs];
    for (const a of Object.values(n.attrs)) {
      const subs = a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : [];
      for (const g of subs) names.push(...(freeNames.get(g) ?? []));
    }
    const out: number[] = [];
    for (const x of names) { const p = producer.get(x); if (p !== undefined) out.push(p); }
    return out;
  });
  if (deps.every((d, i) => d.every((p) => p < i))) return nodes;
  const state = new Uint8Array(nodes.length); // 0 new, 1 on stack, 2 done
  const order: Node[] = [];
  for (let root = 0; root < nodes.length; root++) {
    if (state[root]) continue;
    // iterative DFS: a chain of 100k nodes must not overflow the JS stack
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [i, k] = top;
      if (k < deps[i].length) {
        top[1]++;
        const d = deps[i][k];
        if (state[d] === 1) {
          throw new QuantLensError('model-format', `${file}: graph '${label}' has a cycle through node '${nodes[d].name}'`, file);
        }
        if (state[d] === 0) { state[d] = 1; stack.push([d, 0]); }
      } else {
        state[i] = 2;
        order.push(nodes[i]);
        stack.pop();
      }
    }
  }
  warnings.push(`graph '${label}' lists nodes out of dependency order; they were re-sorted`);
  return order;
}
