// SPDX-License-Identifier: Apache-2.0
/** Builds the model part of the Report (ModelSummary) and an empty Report for a command. */
import type { Dim } from '../engine/ir';
import type { LoadedModel } from './onnx/load';
import { REPORT_SCHEMA_VERSION, type LayerReport, type ModelSummary, type Report } from './report';
import { modelParams } from './shapes/cost';
import type { ShapeInfo } from './shapes/infer';

const TOOL_VERSION = '0.1.0';

/** The model summary: identity (path, sha256), producer, opsets, params, MACs, size, inputs/outputs. */
export function modelSummary(loaded: LoadedModel, shapes?: ShapeInfo, layers?: LayerReport[]): ModelSummary {
  const { model } = loaded;
  const g = model.graph;
  const shapeOf = (name: string, declared?: Dim[]): Dim[] => shapes?.inputShapes.get(name) ?? shapes?.shapes.get(name) ?? declared ?? [];
  const summary: ModelSummary = {
    path: loaded.file,
    sha256: loaded.sha256,
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    irVersion: model.irVersion,
    opsets: { ...model.opsets },
    params: modelParams(g, shapes),
    macs: (layers ?? []).reduce((s, l) => s + l.macs, 0),
    sizeBytes: loaded.sizeBytes,
    inputs: g.inputs.map((i) => ({ name: i.name, dtype: i.dtype, shape: shapeOf(i.name, i.shape) })),
    outputs: g.outputs.map((o) => ({ name: o.name, dtype: shapes?.dtypes.get(o.name) ?? o.dtype, shape: shapeOf(o.name, o.shape) })),
    nodeCount: g.nodes.length,
  };
  if (Object.keys(model.metadata).length) summary.metadata = { ...model.metadata };
  return summary;
}

/** A Report for `command` on a loaded model, carrying the loader's warnings; callers fill the rest. */
export function newReport(command: string, loaded: LoadedModel, shapes?: ShapeInfo, layers: LayerReport[] = []): Report {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'quantlens', version: TOOL_VERSION },
    command,
    createdAt: new Date().toISOString(),
    model: modelSummary(loaded, shapes, layers),
    layers,
    warnings: [...loaded.warnings, ...(shapes?.warnings ?? [])],
    timings: {},
  };
}
