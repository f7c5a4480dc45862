// SPDX-License-Identifier: Apache-2.0
/**
 * QDQ ONNX export. Starts from the original ModelProto bytes (decoded with onnx-proto, edited as a copy, encoded
 * again — the user's file is never touched) and the engine records the quantizer produced:
 * - each quantized weight becomes an initializer of codes + DequantizeLinear (per-channel `axis`, `block_size`
 *   at opset ≥ 21), rewired into its consumer only;
 * - each quantized input activation becomes QuantizeLinear → DequantizeLinear in front of its consumer;
 * - a format ONNX cannot hold exactly becomes dequantized FP32 weights (activations: left in float), and every
 *   such choice is recorded in `metadata_props` and returned as a note for the CLI to print.
 * The default-domain opset is raised to what the chosen containers need, converting the few ops whose
 * signature changed between the model's opset and the target (Reduce* `axes` moved to an input at 18).
 */
import { onnx } from 'onnx-proto';
import { QuantLensError } from '../../engine/errors';
import type { ActivationQuant, EngineQuantConfig, QuantizedWeight } from '../../engine/quant-types';
import { DT, packCodes, type Container } from './onnxTypes';
import { dequantizeRecord } from '../quant/toEngine';
import { representForOnnx, type OnnxEncoding } from './represent';

export interface QdqExportNote {
  node: string;
  tensor: string;
  role: 'weight' | 'activation';
  format: string;
  /** ONNX container name, 'float32 (dequantized)' or 'float (not quantized)'. */
  stored: string;
  reason?: string;
}

export interface QdqExportResult {
  bytes: Uint8Array;
  opset: number;
  notes: QdqExportNote[];
}

export interface QdqExportOptions {
  /** Highest default-domain opset the export may raise the model to (onnxruntime 1.30 runs up to 22). */
  maxOpset?: number;
  /** Extra metadata_props entries (e.g. the config's path and sha256). */
  metadata?: Record<string, string>;
}

const REDUCE_AXES_TO_INPUT_AT_18 = new Set(['ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare']);
/** Ops whose signature changed between 13 and 21 in ways this exporter does not convert. */
const BLOCKS_OPSET_BUMP = new Set(['DFT', 'GridSample']);

/** Write a QDQ model for `quant`; `modelFile` only names the file in errors. */
export function exportQdq(modelBytes: Uint8Array, quant: EngineQuantConfig, modelFile: string, options: QdqExportOptions = {}): QdqExportResult {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(modelBytes);
  } catch (e) {
    throw new QuantLensError('model-format', `${modelFile}: not a readable ONNX model (${(e as Error).message})`, modelFile);
  }
  const graph = model.graph as onnx.GraphProto | null;
  if (!graph) throw new QuantLensError('model-format', `${modelFile}: the model has no graph`, modelFile);
  const defaultOpset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  const srcOpset = defaultOpset ? toNum(defaultOpset.version) : 1;
  // raising the opset is only safe from 13 (Squeeze/Split/… moved attributes to inputs there) and without ops we do not convert
  const canBump = srcOpset >= 13 && !(graph.node as onnx.NodeProto[]).some((n) => BLOCKS_OPSET_BUMP.has(n.opType));
  const maxOpset = canBump ? Math.max(srcOpset, options.maxOpset ?? 21) : srcOpset;

  const names = new Set<string>();
  for (const n of graph.node as onnx.NodeProto[]) for (const t of [...n.input, ...n.output]) names.add(t);
  for (const t of graph.initializer as onnx.TensorProto[]) names.add(t.name);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 1; names.has(name); k++) name = `${base}_${k}`;
    names.add(name);
    return name;
  };

  const nodes = graph.node as onnx.NodeProto[];
  const nodesByName = new Map(nodes.map((n) => [n.name, n] as const));
  const notes: QdqExportNote[] = [];
  const newInitializers: onnx.ITensorProto[] = [];
  const inserted = new Map<onnx.INodeProto, onnx.INodeProto[]>();
  let needOpset = 10;

  for (const [nodeName, layer] of Object.entries(quant.layers)) {
    const node = nodesByName.get(nodeName);
    if (!node) throw new QuantLensError('config', `${modelFile}: the config quantizes node '${nodeName}', which the model does not have`, modelFile);
    const before: onnx.INodeProto[] = [];
    for (const [k, w] of Object.entries(layer.weights ?? {}) as [string, QuantizedWeight][]) {
      const idx = Number(k);
      const tensor = node.input[idx];
      if (!tensor) throw new QuantLensError('config', `${modelFile}: node '${nodeName}' has no input ${idx} to hold a weight`, modelFile);
      const enc = representForOnnx(w, w.codes, maxOpset);
      if ('reason' in enc) {
        const values = dequantizeRecord(w);
        const name = fresh(`${tensor}_dequantized`);
        newInitializers.push(floatTensor(name, w.dims, values));
        node.input[idx] = name;
        notes.push({ node: nodeName, tensor, role: 'weight', format: w.format, stored: 'float32 (dequantized)', reason: enc.reason });
        continue;
      }
      needOpset = Math.max(needOpset, enc.minOpset);
      const q = fresh(`${tensor}_quantized`);
      newInitializers.push(codesTensor(q, w.dims, enc));
      const out = fresh(`${tensor}_dequantized`);
      const dq = dequantizeNode(fresh(`${tensor}_DequantizeLinear`), q, out, enc, w, fresh, newInitializers);
      before.push(dq);
      node.input[idx] = out;
      notes.push({ node: nodeName, tensor, role: 'weight', format: w.format, stored: enc.container.name, ...(enc.note ? { reason: enc.note } : {}) });
    }
    for (const [k, a] of Object.entries(layer.inputs ?? {}) as [string, ActivationQuant][]) {
      const idx = Number(k);
      const tensor = node.input[idx];
      if (!tensor) throw new QuantLensError('config', `${modelFile}: node '${nodeName}' has no input ${idx} to quantize`, modelFile);
      // the activation's codes are not known ahead; its table (if any) decides the container
      const probe = representForOnnx(a, a.kind === 'table' ? finiteCodes(a) : activationRangeCodes(a), maxOpset);
      if ('reason' in probe || (a.kind === 'table' && probe.container.range !== undefined)) {
        const reason = 'reason' in probe ? probe.reason : `${a.format} levels need a rounding rule QuantizeLinear does not have`;
        notes.push({ node: nodeName, tensor, role: 'activation', format: a.format, stored: 'float (not quantized)', reason });
        continue;
      }
      needOpset = Math.max(needOpset, probe.minOpset);
      const scale = fresh(`${tensor}_scale`);
      const zp = fresh(`${tensor}_zero_point`);
      newInitializers.push(floatTensor(scale, [], probe.scales), codesTensor(zp, [], { ...probe, elements: probe.zeroPoints }));
      const qOut = fresh(`${tensor}_QuantizeLinear_out`);
      const dqOut = fresh(`${tensor}_DequantizeLinear_out`);
      before.push(
        { name: fresh(`${tensor}_QuantizeLinear`), opType: 'QuantizeLinear', input: [tensor, scale, zp], output: [qOut], attribute: [] },
        { name: fresh(`${tensor}_DequantizeLinear`), opType: 'DequantizeLinear', input: [qOut, scale, zp], output: [dqOut], attribute: [] },
      );
      node.input[idx] = dqOut;
      notes.push({ node: nodeName, tensor, role: 'activation', format: a.format, stored: probe.container.name });
    }
    if (before.length > 0) inserted.set(node, before);
  }

  // insert each node's Q/DQ right before it, which keeps the node list topologically sorted
  graph.node = nodes.flatMap((n) => [...(inserted.get(n) ?? []), n]);
  graph.initializer.push(...(newInitializers as onnx.TensorProto[]));
  dropUnused(graph);
  const opset = Math.max(srcOpset, needOpset);
  if (opset > srcOpset) raiseOpset(model, graph, srcOpset, opset);
  setMetadata(model, {
    'quantlens.export': JSON.stringify(notes.filter((n) => n.reason !== undefined)),
    ...(options.metadata ?? {}),
  });
  return { bytes: onnx.ModelProto.encode(model).finish(), opset, notes };
}

function dequantizeNode(
  name: string, codesName: string, out: string, enc: OnnxEncoding, w: QuantizedWeight,
  fresh: (b: string) => string, inits: onnx.ITensorProto[],
): onnx.INodeProto {
  const scaleDims = w.layout.kind === 'tensor' ? [] : w.layout.kind === 'channel' ? [w.scales.length]
    : w.dims.map((d, i) => (i === normAxis(w.layout, w.dims) ? Math.ceil(d / (w.layout as { blockSize: number }).blockSize) : d));
  const scale = fresh(`${codesName}_scale`);
  const zp = fresh(`${codesName}_zero_point`);
  inits.push(floatTensor(scale, scaleDims, enc.scales), codesTensor(zp, scaleDims, { ...enc, elements: enc.zeroPoints }));
  const attribute: onnx.IAttributeProto[] = [];
  if (w.layout.kind !== 'tensor') attribute.push({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: normAxis(w.layout, w.dims) });
  if (w.layout.kind === 'block') attribute.push({ name: 'block_size', type: onnx.AttributeProto.AttributeType.INT, i: w.layout.blockSize });
  return { name, opType: 'DequantizeLinear', input: [codesName, scale, zp], output: [out], attribute };
}

/** Codes of a table activation's finite levels. */
function finiteCodes(a: ActivationQuant): Int32Array {
  const codes: number[] = [];
  (a.table ?? []).forEach((v, i) => { if (Number.isFinite(v)) codes.push(i + (a.tableOffset ?? 0)); });
  return Int32Array.from(codes);
}

/** Codes spanning an integer activation's range, so the container choice covers every value it can take. */
function activationRangeCodes(a: ActivationQuant): Int32Array {
  const lo = a.signed ? -(2 ** (a.bits - 1)) : 0;
  const hi = a.signed ? 2 ** (a.bits - 1) - 1 : 2 ** a.bits - 1;
  return Int32Array.from([lo, hi]);
}

function codesTensor(name: string, dims: number[], enc: { container: Container; elements: Int32Array }): onnx.ITensorProto {
  return { name, dims, dataType: enc.container.dataType, rawData: packCodes(enc.elements, enc.container) };
}

function floatTensor(name: string, dims: number[], values: Float32Array): onnx.ITensorProto {
  const copy = new Float32Array(values);
  return { name, dims, dataType: DT.FLOAT, rawData: new Uint8Array(copy.buffer) };
}

/**
 * Remove what no longer feeds an output: nodes whose outputs nobody reads (the Transpose that fed a replaced
 * weight, its Constant), then unread initializers (the replaced FP32 weights). ONNX ops have no side effects.
 */
function dropUnused(graph: onnx.IGraphProto): void {
  const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  let used = new Set<string>();
  for (let changed = true; changed;) {
    used = new Set(outputs);
    for (const n of graph.node ?? []) for (const t of n.input ?? []) used.add(t);
    const before = graph.node?.length ?? 0;
    graph.node = (graph.node ?? []).filter((n) => (n.output ?? []).some((o) => used.has(o))) as onnx.NodeProto[];
    changed = graph.node.length !== before;
  }
  graph.initializer = (graph.initializer ?? []).filter((t) => used.has(t.name ?? '')) as onnx.TensorProto[];
  // IR < 4 lists initializers as graph inputs too
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const produced = new Set((graph.node ?? []).flatMap((n) => n.output ?? []));
  graph.input = (graph.input ?? []).filter((i) => used.has(i.name ?? '') || inits.has(i.name ?? '') || !produced.has(i.name ?? '')) as onnx.ValueInfoProto[];
}

/** Raise the default-domain opset, converting Reduce* `axes` attributes to inputs when crossing 18. */
function raiseOpset(model: onnx.ModelProto, graph: onnx.IGraphProto, from: number, to: number): void {
  if (from < 18 && to >= 18) {
    for (const n of graph.node ?? []) {
      if (!REDUCE_AXES_TO_INPUT_AT_18.has(n.opType ?? '') || (n.domain && n.domain !== 'ai.onnx')) continue;
      const axes = (n.attribute ?? []).find((a) => a.name === 'axes');
      if (!axes) continue;
      n.attribute = (n.attribute ?? []).filter((a) => a !== axes);
      const name = `${n.name || n.output?.[0]}_axes`;
      const values = (axes.ints ?? []).map(toNum);
      graph.initializer?.push({ name, dims: [values.length], dataType: DT.INT64, int64Data: values } as onnx.TensorProto);
      n.input = [n.input?.[0] ?? '', name];
    }
  }
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (entry) entry.version = to;
  else model.opsetImport.push({ domain: '', version: to } as onnx.OperatorSetIdProto);
  // IR version each opset needs (onnx/helper.py VERSION_TABLE): 19 → 9, 21/22 → 10
  const ir = to >= 21 ? 10 : to >= 19 ? 9 : to >= 15 ? 8 : 7;
  if (toNum(model.irVersion) < ir) model.irVersion = ir;
}

function setMetadata(model: onnx.ModelProto, entries: Record<string, string>): void {
  const props = model.metadataProps.filter((p) => !((p.key ?? '') in entries));
  for (const [key, value] of Object.entries(entries)) props.push({ key, value } as onnx.StringStringEntryProto);
  model.metadataProps = props;
}

function normAxis(layout: { kind: string; axis?: number }, dims: number[]): number {
  const a = layout.axis ?? 0;
  return a < 0 ? a + dims.length : a;
}

function toNum(x: number | { toNumber(): number } | null | undefined): number {
  if (x === null || x === undefined) return 0;
  return typeof x === 'number' ? x : x.toNumber();
}
