// SPDX-License-Identifier: Apache-2.0
/**
 * Seeded mutators over valid ONNX files: byte level (bit flips, truncation, random splices), wire level
 * (inflated length fields, duplicated/deleted fields, huge varints) and structure level (random tensors,
 * cycles, deep subgraph nesting, long chains, hostile external data, garbage attributes and dims).
 */
import { onnx } from 'onnx-proto';
import { allFields, encodeVarint, parseWire, serializeWire } from './wire';

/** mulberry32: small, fast, good enough to drive mutations reproducibly. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
}

export type Mutator = (seed: Uint8Array, rng: Rng) => Uint8Array;

/** A real copy: Node Buffers' slice() is a view, and seeds must never be mutated in place. */
const copy = (b: Uint8Array, end = b.length): Uint8Array => new Uint8Array(b.subarray(0, end));

const HUGE = [2 ** 31, 2 ** 32 + 7, 2 ** 53 + 2, 2 ** 62, 2 ** 64 - 1, 0, 1, 255, 2 ** 20];

const bitFlips: Mutator = (seed, rng) => {
  const b = copy(seed);
  const n = 1 + rng.int(8);
  for (let i = 0; i < n; i++) { const p = rng.int(b.length); b[p] ^= 1 << rng.int(8); }
  return b;
};

const truncate: Mutator = (seed, rng) => copy(seed, rng.int(seed.length));

const splice: Mutator = (seed, rng) => {
  const b = copy(seed);
  const at = rng.int(b.length), len = 1 + rng.int(32);
  for (let i = at; i < Math.min(b.length, at + len); i++) b[i] = rng.int(256);
  return b;
};

function wireEdit(edit: (fields: ReturnType<typeof allFields>, rng: Rng) => void): Mutator {
  return (seed, rng) => {
    const tree = parseWire(seed);
    if (!tree) return bitFlips(seed, rng);
    const all = allFields(tree);
    edit(all, rng);
    return serializeWire(tree);
  };
}

const inflateLength = wireEdit((all, rng) => {
  const lens = all.filter((x) => x.f.wireType === 2);
  if (!lens.length) return;
  const { f } = rng.pick(lens);
  const size = f.children ? serializeWire(f.children).length : f.raw.length;
  f.lengthLie = rng.pick([size + 1 + rng.int(64), size * 2 + 16, 2 ** 31 - 1, 2 ** 32 + 3, 2 ** 40]);
});

const duplicateField = wireEdit((all, rng) => {
  const { f, parent } = rng.pick(all);
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) parent.splice(parent.indexOf(f) + 1, 0, { ...f });
});

const deleteField = wireEdit((all, rng) => {
  const { f, parent } = rng.pick(all);
  parent.splice(parent.indexOf(f), 1);
});

const hugeVarint = wireEdit((all, rng) => {
  const vs = all.filter((x) => x.f.wireType === 0);
  if (!vs.length) return;
  rng.pick(vs).f.raw = Uint8Array.from(encodeVarint(rng.pick(HUGE)));
});

/** Decodes the seed, applies a structural edit, re-encodes. */
function structural(edit: (m: onnx.ModelProto, rng: Rng) => void): Mutator {
  return (seed, rng) => {
    const m = onnx.ModelProto.decode(seed);
    if (!m.graph) return seed;
    m.graph.node ??= [];
    m.graph.initializer ??= [];
    edit(m, rng);
    return onnx.ModelProto.encode(m).finish();
  };
}

const DTYPES = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 22, 23, 24, 99];

const randomTensor = structural((m, rng) => {
  const rank = rng.int(5);
  const dims = Array.from({ length: rank }, () => rng.pick([0, 1, 2, 3, 7, 64, -1, 2 ** 31, 2 ** 40]));
  const dataType = rng.pick(DTYPES);
  const t: onnx.ITensorProto = { name: '', dims, dataType };
  const kind = rng.int(4);
  if (kind === 0) t.rawData = Uint8Array.from({ length: rng.int(256) }, () => rng.int(256));
  else if (kind === 1) t.floatData = Array.from({ length: rng.int(64) }, () => rng.next());
  else if (kind === 2) t.int64Data = Array.from({ length: rng.int(64) }, () => rng.int(1000) - 500);
  else t.int32Data = Array.from({ length: rng.int(64) }, () => rng.int(1000));
  const inits = m.graph!.initializer!;
  if (inits.length && rng.next() < 0.7) { const i = rng.int(inits.length); t.name = inits[i].name; inits[i] = onnx.TensorProto.create(t); }
  else {
    const nodes = m.graph!.node!;
    const target = nodes.length ? rng.pick(nodes) : undefined;
    t.name = `fuzz_${rng.int(1e6)}`;
    inits.push(onnx.TensorProto.create(t));
    if (target) target.input = [...(target.input ?? []), t.name];
  }
});

const cycle = structural((m, rng) => {
  const nodes = m.graph!.node!;
  if (nodes.length < 2) return;
  const i = rng.int(nodes.length - 1), j = i + 1 + rng.int(nodes.length - i - 1);
  const out = nodes[j].output?.[0];
  if (out && nodes[i].input?.length) nodes[i].input[rng.int(nodes[i].input.length)] = out;
});

const deepNesting = structural((m, rng) => {
  const depth = rng.pick([2, 30, 63, 65, 200, 2000]);
  const outName = m.graph!.output?.[0]?.name ?? 'y';
  let body: onnx.IGraphProto = { name: 'body0', node: m.graph!.node, output: [{ name: outName }] };
  for (let i = 1; i < depth; i++) {
    body = { name: `body${i}`, node: [{ opType: 'If', input: ['fuzz_cond'], output: [outName], attribute: [{ name: 'then_branch', type: 5, g: body }, { name: 'else_branch', type: 5, g: { name: 'e', node: [], output: [{ name: outName }] } }] }], output: [{ name: outName }] };
  }
  m.graph!.node = body.node ?? [];
  m.graph!.input = [...(m.graph!.input ?? []), { name: 'fuzz_cond', type: { tensorType: { elemType: 9, shape: { dim: [] } } } }];
});

const longChain = structural((m, rng) => {
  const nodes = m.graph!.node!;
  const out = m.graph!.output?.[0]?.name;
  if (!out) return;
  const n = rng.pick([100, 3000, 20000]);
  let prev = out;
  const producer = nodes.find((x) => x.output?.includes(out));
  if (!producer) return;
  producer.output = producer.output!.map((o) => (o === out ? 'chain_0' : o));
  prev = 'chain_0';
  for (let i = 1; i <= n; i++) {
    const next = i === n ? out : `chain_${i}`;
    nodes.push(onnx.NodeProto.create({ opType: rng.pick(['Identity', 'Relu', 'Neg']), input: [prev], output: [next] }));
    prev = next;
  }
});

const hostileExternal = structural((m, rng) => {
  const inits = m.graph!.initializer!;
  if (!inits.length) return;
  const t = rng.pick(inits);
  t.rawData = new Uint8Array(0);
  t.dataLocation = 1;
  t.externalData = [
    { key: 'location', value: rng.pick(['../../etc/passwd', '/etc/passwd', 'missing.bin', 'a/../../b', 'C:\\x', '', 'model.onnx', '.']) },
    ...(rng.next() < 0.5 ? [{ key: 'offset', value: rng.pick(['0', '-5', 'abc', '99999999999', '1e3']) }] : []),
    ...(rng.next() < 0.5 ? [{ key: 'length', value: rng.pick(['0', '4', '-1', '18446744073709551615']) }] : []),
  ];
});

const garbageAttributes = structural((m, rng) => {
  const nodes = m.graph!.node!;
  if (!nodes.length) return;
  const n = rng.pick(nodes);
  const name = rng.pick(['kernel_shape', 'strides', 'pads', 'dilations', 'axis', 'axes', 'perm', 'group', 'transB', 'to', 'value', 'split', 'keepdims', 'auto_pad', 'shape', 'starts', 'ends']);
  const kind = rng.int(5);
  const attr: onnx.IAttributeProto = { name };
  if (kind === 0) { attr.type = 2; attr.i = rng.pick([0, -1, 7, 2 ** 31, -(2 ** 40), 1e15]); }
  else if (kind === 1) { attr.type = 7; attr.ints = Array.from({ length: rng.int(9) }, () => rng.pick([0, -1, 1, 3, 1e9, -(2 ** 33)])); }
  else if (kind === 2) { attr.type = 3; attr.s = new TextEncoder().encode(rng.pick(['SAME_UPPER', 'VALID', 'NOTSET', '\u0000\u001b[31m', ''])); }
  else if (kind === 3) { attr.type = 1; attr.f = rng.pick([NaN, Infinity, -0, 1e38]); }
  else { attr.type = rng.int(16); }
  n.attribute = [...(n.attribute ?? []).filter((a) => a.name !== name), attr];
});

const garbageDims = structural((m, rng) => {
  const vis = [...(m.graph!.input ?? []), ...(m.graph!.output ?? []), ...(m.graph!.valueInfo ?? [])];
  if (!vis.length) return;
  const v = rng.pick(vis);
  const dims = Array.from({ length: rng.int(7) }, () => (rng.next() < 0.3 ? { dimParam: rng.pick(['N', 'seq', '']) } : { dimValue: rng.pick([0, 1, 3, -1, 2 ** 40, 2 ** 62]) }));
  v.type = { tensorType: { elemType: rng.pick(DTYPES), shape: { dim: dims } } };
});

const duplicateNames = structural((m, rng) => {
  const nodes = m.graph!.node!;
  if (nodes.length < 2) return;
  const a = rng.pick(nodes), b = rng.pick(nodes);
  if (a.output?.length && b.output?.length) b.output[0] = a.output[0];
  a.name = b.name = 'same';
});

/** All mutators, by name (the harness reports which one produced a crash). */
export const MUTATORS: Record<string, Mutator> = {
  bitFlips, truncate, splice, inflateLength, duplicateField, deleteField, hugeVarint,
  randomTensor, cycle, deepNesting, longChain, hostileExternal, garbageAttributes, garbageDims, duplicateNames,
};
