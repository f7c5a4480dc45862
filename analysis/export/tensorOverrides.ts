// SPDX-License-Identifier: Apache-2.0
/**
 * The quantization as other tools' per-tensor settings:
 * - onnxruntime's `TensorQuantOverrides` (extra_options of onnxruntime.quantization.quantize_static): tensor
 *   name → [{quant_type, symmetric, axis | scale + zero_point}], with quant_type as the QuantType member name
 *   (`QInt8`, `QUInt4`, `QFLOAT8E4M3FN`, …) for a script to map with `QuantType[name]`;
 * - a llama.cpp-style list `tensor=type` (ggml type names as `llama-quantize --tensor-type` takes them).
 * Formats a tool has no type for are left out and listed, so the caller can say so.
 */
import type { EngineQuantConfig, QuantParams } from '../../engine/quant-types';

export interface OverrideEntry {
  quant_type: string;
  symmetric?: boolean;
  axis?: number;
  block_size?: number;
  scale?: number;
  zero_point?: number;
}

export interface Unmapped {
  tensor: string;
  format: string;
  reason: string;
}

interface NodeLike { name: string; inputs: string[] }

/** onnxruntime TensorQuantOverrides for the engine records of a config. */
export function tensorQuantOverrides(nodes: readonly NodeLike[], quant: EngineQuantConfig): { overrides: Record<string, OverrideEntry[]>; unmapped: Unmapped[] } {
  const overrides: Record<string, OverrideEntry[]> = {};
  const unmapped: Unmapped[] = [];
  const byName = new Map(nodes.map((n) => [n.name, n] as const));
  const add = (tensor: string, p: QuantParams, isWeight: boolean): void => {
    const type = ortQuantType(p);
    if (!type) {
      unmapped.push({ tensor, format: p.format, reason: 'onnxruntime has no QuantType for it' });
      return;
    }
    const zps = p.zeroPoints;
    const symmetric = !zps || zps.every((z) => z === 0);
    const e: OverrideEntry = { quant_type: type, symmetric };
    if (p.layout.kind === 'channel') e.axis = p.layout.axis;
    else if (p.layout.kind === 'block') { e.axis = p.layout.axis; e.block_size = p.layout.blockSize; }
    else if (!isWeight) { e.scale = p.scales[0]; e.zero_point = zps?.[0] ?? 0; }
    const prev = overrides[tensor]?.[0];
    if (prev && JSON.stringify(prev) !== JSON.stringify(e)) {
      unmapped.push({ tensor, format: p.format, reason: 'consumers quantize this tensor differently; the first one is kept' });
      return;
    }
    overrides[tensor] = [e];
  };
  for (const [nodeName, layer] of Object.entries(quant.layers)) {
    const node = byName.get(nodeName);
    if (!node) continue;
    for (const [k, w] of Object.entries(layer.weights ?? {})) add(node.inputs[Number(k)], w, true);
    for (const [k, a] of Object.entries(layer.inputs ?? {})) add(node.inputs[Number(k)], a, false);
  }
  return { overrides, unmapped };
}

function ortQuantType(p: QuantParams): string | undefined {
  if (p.kind === 'int') {
    const signed = p.signed;
    if (p.bits <= 4) return signed ? 'QInt4' : 'QUInt4';
    if (p.bits <= 8) return signed ? 'QInt8' : 'QUInt8';
    if (p.bits <= 16) return signed ? 'QInt16' : 'QUInt16';
    return undefined;
  }
  return p.format === 'fp8_e4m3' ? 'QFLOAT8E4M3FN' : undefined;
}

/** ggml type for a weight's format and layout, as llama.cpp names it; undefined when none matches. */
export function ggmlType(p: QuantParams): string | undefined {
  const asym = p.zeroPoints?.some((z) => z !== 0) ?? false;
  switch (p.format) {
    case 'int8': return 'q8_0';
    case 'int5': case 'uint5': return asym ? 'q5_1' : 'q5_0';
    case 'int4': case 'uint4': return asym ? 'q4_1' : 'q4_0';
    case 'int6': return 'q6_k';
    case 'int3': return 'q3_k';
    case 'int2': return 'q2_k';
    case 'ternary': return 'tq2_0';
    case 'mxfp4': return 'mxfp4';
    default: return undefined;
  }
}

/** `tensor=type` lines for every quantized weight whose format has a ggml type; float weights are `f32`. */
export function llamaTypeList(nodes: readonly NodeLike[], quant: EngineQuantConfig, floatWeights: readonly string[] = []): { text: string; unmapped: Unmapped[] } {
  const lines = new Map<string, string>();
  const unmapped: Unmapped[] = [];
  const byName = new Map(nodes.map((n) => [n.name, n] as const));
  for (const [nodeName, layer] of Object.entries(quant.layers)) {
    const node = byName.get(nodeName);
    if (!node) continue;
    for (const [k, w] of Object.entries(layer.weights ?? {})) {
      const tensor = node.inputs[Number(k)];
      const t = ggmlType(w);
      if (t) lines.set(tensor, t);
      else unmapped.push({ tensor, format: w.format, reason: 'llama.cpp has no matching ggml type' });
    }
  }
  for (const t of floatWeights) if (!lines.has(t)) lines.set(t, 'f32');
  const text = [...lines].map(([k, v]) => `${k}=${v}`).join('\n');
  return { text: text ? `${text}\n` : '', unmapped };
}
