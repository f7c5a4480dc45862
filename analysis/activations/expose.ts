// SPDX-License-Identifier: Apache-2.0
/**
 * Expose intermediate tensors as extra graph outputs, on a COPY of the model bytes (the user's file is only
 * ever read). onnxruntime then returns them from the same FP32 run, so every statistic comes from one pass.
 */
import { onnx } from 'onnx-proto';
import { QuantLensError } from '../../engine/errors';

/** Return new model bytes whose graph outputs also list `names` (names already outputs are kept once). */
export function exposeOutputs(modelBytes: Uint8Array, names: readonly string[], file = 'model'): Uint8Array {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(modelBytes);
  } catch (e) {
    throw new QuantLensError('model-format', `${file}: cannot decode the model to expose intermediate tensors (${(e as Error).message})`, file);
  }
  const graph = model.graph;
  if (!graph) throw new QuantLensError('model-format', `${file}: the model has no graph`, file);
  graph.output = graph.output ?? [];
  const have = new Set(graph.output.map((o) => o.name ?? ''));
  const known = new Map((graph.valueInfo ?? []).map((v) => [v.name ?? '', v]));
  for (const name of names) {
    if (have.has(name)) continue;
    have.add(name);
    // onnxruntime accepts an output with only a name; keep the type when shape inference recorded one
    const vi = known.get(name);
    graph.output!.push(vi ? onnx.ValueInfoProto.create({ name, type: vi.type }) : onnx.ValueInfoProto.create({ name }));
  }
  return onnx.ModelProto.encode(model).finish();
}
