// SPDX-License-Identifier: Apache-2.0
/**
 * The activation side and the model-level effect of quantizing ONE layer (for `quantize-layer`): the layer's
 * input activation is calibrated from its streamed FP32 histogram and quantized (error metrics over the
 * calibration samples), then the part of the graph downstream of the layer runs with Q(W) and the quantized
 * input, fed the cached FP32 frontier, and the output is compared with FP32: top-1 accuracy against labels
 * when given, else top-1 agreement, else (non-logit outputs) output MSE.
 */
import type { Model, Node, Tensor } from '../../engine/ir';
import { compile } from '../../engine';
import { onnx } from 'onnx-proto';
import type { QuantizationResult } from '../report';
import type { CalibrationSource } from '../data/source';
import { collectActivationStats } from '../activations/collect';
import { OrtReference } from '../activations/ortReference';
import { OutputComparison } from '../eval/metrics';
import { calibrate, calibrateFromHistogram, getFormat, granularityLabel, quantize } from '../quant';
import type { QuantSpec } from '../quant';
import { ortRunner } from './downstream';
import { frontierFeeds } from './perturbation';
import { frontierOf } from './frontier';
import { classifyOutput, perSampleLoss } from './outputMetrics';

export interface LayerDelta {
  activation?: Omit<QuantizationResult, 'layer' | 'activation' | 'accuracyDelta'>;
  accuracyDelta: NonNullable<QuantizationResult['accuracyDelta']>;
  samples: number;
}

/** Measure the activation quantization and the output effect of quantizing `node` (weight → `wq`). */
export async function layerDelta(model: Model, modelBytes: Uint8Array, file: string, node: Node, weightName: string,
  weightDims: number[], wq: Float32Array, source: CalibrationSource, activationSpec: QuantSpec | null,
  opts: { batchSize?: number; maxSamples?: number } = {}): Promise<LayerDelta> {
  const graph = model.graph;
  const program = compile(model);
  const isConstant = (v: string) => program.constants.has(v);
  const output = graph.outputs[0].name;
  const frontier = frontierOf(graph, node, isConstant);
  const input = node.inputs[0];
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  const expose = [...new Set([...frontier.values, input])].filter((n) => !inputNames.has(n) && n !== output && !isConstant(n));
  const ref = await OrtReference.create(modelBytes, expose, file, graph.outputs.map((o) => o.name));
  const cached: Map<string, Tensor>[] = [];
  const labels: (Int32Array | undefined)[] = [];
  let samples = 0;
  const limit = opts.maxSamples ?? 256;
  let acc;
  try {
    acc = await collectActivationStats(ref, source, isConstant(input) ? [] : [input], {
      batchSize: opts.batchSize ?? 8, extraFetch: frontier.values,
      onBatch: (values, b) => {
        if (samples >= limit) return;
        cached.push(values);
        labels.push(source.labels?.subarray(b.offset, b.offset + b.size));
        samples += b.size;
      },
    });
  } finally {
    await ref.dispose();
  }
  const hist = acc.get(input)?.histogram;
  // block-scaled formats (MX) set each 32-element block's scale from that block at run time, so the activation is
  // quantized per batch along the layer's reduction axis; every other format is calibrated once on the histogram
  const actFormat = activationSpec ? getFormat(activationSpec.format) : undefined;
  const perBlock = actFormat?.blockSizeFixed === true;
  const blockSpec = (x: Tensor): QuantSpec => ({
    ...activationSpec!, granularity: { kind: 'group', axis: node.opType === 'Conv' ? 1 : x.dims.length - 1, size: actFormat!.blockSize! },
  });
  let params = activationSpec && !perBlock && hist && hist.count > 0 ? calibrateFromHistogram(hist, { ...activationSpec, granularity: { kind: 'tensor' } }) : null;

  // activation error metrics over the cached samples, and the downstream run with both quantized
  let sx = 0, se = 0, sxy = 0, syy = 0, maxE = 0, n = 0, clipped = 0;
  const layer = { weightName, weightDims, frontier, frontierTypes: new Map(frontier.values.map((v) => [v, cached[0]?.get(v)?.dtype ?? 'float32'] as const)) };
  const downstreamOutputs = new Set(graph.nodes.filter((x) => frontier.downstream.has(x.name)).flatMap((x) => x.outputs));
  const runner = await ortRunner(onnx.ModelProto.decode(modelBytes), layer, downstreamOutputs, isConstant, output, file);
  const cmp = new OutputComparison(output);
  const kind = cached[0]?.get(output) ? classifyOutput(cached[0].get(output)!) : 'other';
  let mseSum = 0, mseN = 0;
  try {
    for (const [k, values] of cached.entries()) {
      const feeds = frontierFeeds(values, frontier.values, node.name);
      const x = values.get(input);
      if ((params || perBlock) && x && x.data instanceof Float32Array) {
        if (perBlock) params = calibrate({ data: x.data, dims: x.dims }, blockSpec(x));
        const r = quantize({ data: x.data, dims: x.dims }, params!);
        for (let i = 0; i < x.data.length; i++) {
          const a = x.data[i], b = r.dequantized[i];
          if (!Number.isFinite(a)) continue;
          const e = a - b;
          sx += a * a; se += e * e; sxy += a * b; syy += b * b; n++;
          if (Math.abs(e) > maxE) maxE = Math.abs(e);
        }
        clipped += r.metrics.clipFraction * r.metrics.count;
        feeds[input] = { ...x, data: r.dequantized };
      }
      const ref0 = values.get(output)!;
      const out = await runner.run(feeds, wq);
      cmp.add(ref0.data as Float32Array, out.data as Float32Array, ref0.dims, labels[k]);
      if (kind === 'other') for (const l of perSampleLoss(ref0, out, 'other')) { mseSum += l; mseN++; }
    }
  } finally {
    await runner.dispose();
  }
  const res = cmp.result();
  let accuracyDelta: LayerDelta['accuracyDelta'];
  if (res.accuracy) accuracyDelta = { metric: 'top1Accuracy', fp32: res.accuracy.reference, quantized: res.accuracy.test, delta: res.accuracy.test - res.accuracy.reference };
  else if (res.top1Agreement !== null) accuracyDelta = { metric: 'top1AgreementWithFp32', fp32: 1, quantized: res.top1Agreement, delta: res.top1Agreement - 1 };
  else { const mse = mseN ? mseSum / mseN : 0; accuracyDelta = { metric: 'outputMse', fp32: 0, quantized: mse, delta: mse }; }
  const out: LayerDelta = { accuracyDelta, samples };
  if (params && n > 0) {
    out.activation = {
      format: params.format, granularity: granularityLabel(params.granularity), calibration: params.calibration,
      mse: se / n, sqnrDb: se === 0 ? 400 : Math.min(400, 10 * Math.log10(sx / se)),
      cosine: sx === 0 || syy === 0 ? (sx === syy ? 1 : 0) : sxy / Math.sqrt(sx * syy), maxAbsError: maxE, clipFraction: clipped / n,
    };
  }
  return out;
}
