// SPDX-License-Identifier: Apache-2.0
/**
 * `quantlens quantize-layer <model> --layer NAME --format FMT [--granularity tensor|channel|group:N]
 *  [--calib minmax|percentile:P|mse|kl|mosf] [--bits N] [--asymmetric] [--shape NAME=DIMS] [--json FILE]`:
 * quantizes one layer's weight and prints its error metrics; --json writes the Report with `quantization`
 * (grid, clip range and a weight histogram for the UI overlay). Activation and accuracy parts are added by
 * the analysis/engine side.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { calibrationInputs } from '../../analyze';
import { openCalibration } from '../../data';
import { layerDelta } from '../../sensitivity/layerDelta';
import { compile } from '../../../engine';
import { QuantLensError, isQuantLensError } from '../../../engine/errors';
import type { Model, Node, Tensor } from '../../../engine/ir';
import { type QuantizableLayer, quantizableLayers } from '../../config/toQuantSpec';
import { channelAxisFor, describeLayers, reductionAxisFor } from '../../layers';
import { loadModel } from '../../onnx/load';
import { calibrate } from '../../quant/calibrate';
import { type Granularity, type QuantFormat, bitsPerElement, getFormat } from '../../quant/formats';
import { granularityLabel } from '../../quant/layout';
import { quantize } from '../../quant/quantize';
import type { CalibrationMethod, QuantizeResult } from '../../quant/types';
import type { QuantizationResult, Report } from '../../report';
import { newReport } from '../../reportModel';
import { inferShapes } from '../../shapes/infer';
import { histogram, tensorStats } from '../../stats/tensorStats';
import type { ShapeOverrides } from '../../shapes/inputs';
import { addJsonOption, addLimitOptions, addShapeOption, formatTable, loadOptionsFrom, stat, terminalSafe, writeJsonOutput } from '../options';

export interface QuantizeLayerFlags {
  layer: string;
  format: string;
  granularity?: string;
  calib?: string;
  bits?: string;
  asymmetric?: boolean;
  json?: string;
  shape?: ShapeOverrides;
  maxTensorMb?: number;
  maxMemoryMb?: number;
  /** Calibration data for the activation side and the accuracy delta (analysis/sensitivity/layerDelta.ts). */
  data?: string;
  random?: string;
  labels?: string;
  actFormat?: string;
  actCalib?: string;
}

/** Grids longer than this (int16) are left out of the report: the overlay cannot show them anyway. */
const MAX_GRID = 4096;
const HISTOGRAM_BINS = 256;

/** Parses --granularity for a weight: channel → its output-channel axis, group:N → its reduction axis. */
export function parseGranularity(text: string | undefined, format: QuantFormat, node: Node, dims: readonly number[]): Granularity {
  const channel = channelAxisFor(node, dims), reduction = reductionAxisFor(node, dims);
  const t = text ?? format.defaultGranularity;
  if (dims.length === 0 || t === 'tensor') return { kind: 'tensor' };
  if (t === 'channel') return { kind: 'channel', axis: channel };
  const m = /^group(?::(\d+))?$/.exec(t);
  if (m) {
    const size = m[1] ? Number(m[1]) : format.blockSize ?? 32;
    if (!(size >= 1)) throw new QuantLensError('usage', `--granularity group:N needs N ≥ 1, got '${t}'`);
    return { kind: 'group', axis: reduction, size };
  }
  throw new QuantLensError('usage', `--granularity must be tensor, channel or group:N, got '${t}'`);
}

/** Parses --calib; MOSF folds the weight's output channels. */
export function parseCalibration(text: string | undefined, channelAxis: number): CalibrationMethod {
  const t = text ?? 'minmax';
  if (t === 'minmax' || t === 'mse' || t === 'kl') return { kind: t };
  if (t === 'mosf') return { kind: 'mosf', axis: channelAxis };
  const m = /^percentile(?::([0-9.]+))?$/.exec(t);
  if (m) {
    const p = m[1] === undefined ? 99.99 : Number(m[1]);
    if (!(p > 0 && p <= 100)) throw new QuantLensError('usage', `--calib percentile:P needs 0 < P ≤ 100, got '${t}'`);
    return { kind: 'percentile', p };
  }
  throw new QuantLensError('usage', `--calib must be minmax, percentile:P, mse, kl or mosf, got '${t}'`);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** Up to 5 layer names close to `name` (substring matches first, then small edit distance). */
export function closeMatches(name: string, names: string[]): string[] {
  const q = name.toLowerCase();
  return names
    .map((n) => {
      const l = n.toLowerCase();
      return { n, d: l.includes(q) || q.includes(l) ? 0 : editDistance(q, l) };
    })
    .filter((x) => x.d <= Math.max(2, Math.floor(q.length / 3)))
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .slice(0, 5)
    .map((x) => x.n);
}

/**
 * The layer's weight as the node sees it: an initializer, or a value the engine folds from weights alone
 * (exporters often feed MatMul a Transpose of the stored weight). Models the engine cannot compile still
 * work for plain initializers.
 */
function findWeightLayer(model: Model, file: string, name: string): QuantizableLayer {
  const graph = model.graph;
  let constants: ReadonlyMap<string, Tensor> = graph.initializers;
  try {
    constants = compile(model).constants;
  } catch (e) {
    if (!isQuantLensError(e)) throw e;
  }
  const layers = quantizableLayers(graph, constants);
  const found = layers.find((l) => l.node.name === name);
  if (found) return found;
  const list = (names: string[]) => `${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}`;
  const node = graph.nodes.find((n) => n.name === name);
  if (!node) {
    const close = closeMatches(name, graph.nodes.map((n) => n.name));
    const hint = close.length ? `close matches: ${close.join(', ')}` : `layers with weights: ${list(layers.map((l) => l.node.name))}`;
    throw new QuantLensError('usage', `${file}: no layer named '${name}'; ${hint}`, file);
  }
  throw new QuantLensError('usage', `${file}: layer '${name}' (${node.opType}) has no constant float weight to quantize; layers with weights: ${list(layers.map((l) => l.node.name))}`, file);
}

/** Runs quantize-layer and returns the Report (exported for the extension and tests). */
export async function quantizeLayer(file: string, flags: QuantizeLayerFlags): Promise<Report> {
  const t0 = performance.now();
  const format = getFormat(flags.format);
  const bits = flags.bits === undefined ? undefined : Number(flags.bits);
  if (bits !== undefined && !Number.isInteger(bits)) throw new QuantLensError('usage', `--bits expects an integer, got '${flags.bits}'`);
  const loaded = await loadModel(file, loadOptionsFrom(flags));
  const { node, weightName, tensor: weight } = findWeightLayer(loaded.model, file, flags.layer);
  const data = weight.data as Float32Array; // quantizableLayers keeps float32 weights only
  const t1 = performance.now();
  const dims = weight.dims;
  const channelAxis = channelAxisFor(node, dims);
  const granularity = parseGranularity(flags.granularity, format, node, dims);
  const calibration = parseCalibration(flags.calib, channelAxis);
  const spec = { format: format.id, bits, granularity, calibration, symmetric: flags.asymmetric ? false : undefined };
  const tensor = { data, dims };
  const params = calibrate(tensor, spec);
  const t2 = performance.now();
  const result = quantize(tensor, params);
  const t3 = performance.now();

  const shapes = inferShapes(loaded.model, file, { overrides: flags.shape ?? {} });
  const layers = describeLayers(loaded, { shapes, weightStats: false });
  const report = newReport('quantize-layer', loaded, shapes, layers);
  const layer = layers.find((l) => l.name === node.name)!;
  layer.weightShape = [...dims];
  layer.weightStats = tensorStats(data, dims, channelAxis);
  layer.format = { weights: format.id };
  report.layers = [layer];
  report.quantization = quantizationSection(node.name, result, bitsPerElement(format, params.granularity, dims, { bits, symmetric: params.symmetric }), data);
  if (result.grid.length > MAX_GRID) report.warnings.push(`grid of ${result.grid.length} levels left out of the report (more than ${MAX_GRID})`);
  if (result.metrics.nanCount || result.metrics.infCount) {
    report.warnings.push(`weight '${weightName}' has ${result.metrics.nanCount} NaN and ${result.metrics.infCount} Inf values (excluded from calibration and metrics)`);
  }
  report.timings = { load: t1 - t0, calibrate: t2 - t1, quantize: t3 - t2, report: performance.now() - t3 };
  if (flags.data !== undefined || flags.random !== undefined) {
    // activation side + accuracy delta for this layer, on calibration data
    const t4 = performance.now();
    const random = flags.random === undefined ? undefined : Number(flags.random);
    if (random !== undefined && !(Number.isInteger(random) && random > 0)) throw new QuantLensError('usage', `--random expects a positive integer, got '${flags.random}'`);
    const graph = loaded.model.graph;
    const source = openCalibration({ ...graph, inputs: calibrationInputs(graph, file, flags.shape ?? {}, flags.data !== undefined) }, {
      ...(flags.data !== undefined ? { data: flags.data } : {}), ...(random !== undefined ? { random } : {}),
      ...(flags.labels !== undefined ? { labels: flags.labels } : {}),
    });
    const actFormat = flags.actFormat ?? format.id;
    const actSpec = actFormat === 'none' ? null : { format: getFormat(actFormat).id, calibration: parseCalibration(flags.actCalib ?? 'mse', 0) };
    const delta = await layerDelta(loaded.model, readFileSync(file), file, node, weightName, [...dims], result.dequantized, source, actSpec);
    if (delta.activation) report.quantization.activation = delta.activation;
    report.quantization.accuracyDelta = delta.accuracyDelta;
    report.warnings.push(...source.warnings);
    report.timings.layerDelta = performance.now() - t4;
  }
  return report;
}

function quantizationSection(layer: string, r: QuantizeResult, bpe: number, data: Float32Array): QuantizationResult {
  const p = r.params;
  const m = r.metrics;
  const q: QuantizationResult = {
    // the stable id only (consumers look it up in the format table); a non-default width shows in bitsPerElement
    layer, format: p.format,
    granularity: granularityLabel(p.granularity), calibration: p.calibration,
    mse: m.mse, sqnrDb: m.sqnrDb, cosine: m.cosine, maxAbsError: m.maxAbsError, clipFraction: m.clipFraction,
    bitsPerElement: bpe, clipRange: r.clipRange,
    histogram: histogram(data, HISTOGRAM_BINS),
  };
  if (r.grid.length <= MAX_GRID) q.grid = Array.from(r.grid);
  return q;
}

function bitsNote(format: string, bpe: number): string {
  const f = getFormat(format);
  return f.bitsOptions && Math.floor(bpe) !== f.bits ? ` (${Math.floor(bpe)}-bit)` : '';
}

/** The human-readable result. */
export function formatQuantizeLayer(report: Report): string {
  const q = report.quantization!;
  const l = report.layers[0];
  const gridText = q.grid ? `${q.grid.length} levels${q.granularity === 'tensor' ? '' : ' (first scale group)'}` : 'omitted';
  const head = [
    `model       ${terminalSafe(report.model.path)}`,
    `layer       ${terminalSafe(q.layer)} (${terminalSafe(l.op)})   weight [${(l.weightShape ?? []).join(',')}]   ${l.params} params`,
    `format      ${q.format}${bitsNote(q.format, q.bitsPerElement!)}   granularity ${q.granularity}   calibration ${q.calibration}   ${q.bitsPerElement!.toFixed(3)} bits/element`,
    `clip range  [${stat(q.clipRange![0])}, ${stat(q.clipRange![1])}]   grid ${gridText}`,
  ];
  const rows = [[stat(q.mse), q.sqnrDb.toFixed(2), q.cosine.toFixed(6), stat(q.maxAbsError), `${(100 * q.clipFraction).toFixed(3)}%`]];
  const a = q.activation;
  if (a) rows.push([stat(a.mse), a.sqnrDb.toFixed(2), a.cosine.toFixed(6), stat(a.maxAbsError), `${(100 * a.clipFraction).toFixed(3)}%`]);
  const table = formatTable(['', 'mse', 'sqnr dB', 'cosine', 'max |err|', 'clipped'], rows.map((r, i) => [i ? `activation (${a!.format})` : 'weight', ...r]), [false, true, true, true, true, true]);
  const d = q.accuracyDelta;
  const delta = d ? `\n${d.metric}: FP32 ${stat(d.fp32)} → quantized ${stat(d.quantized)} (Δ ${d.delta >= 0 ? '+' : ''}${stat(d.delta)})\n` : '';
  return `${head.join('\n')}\n\n${table}\n${delta}`;
}

/** Registers `quantize-layer` on the CLI. */
export function register(program: Command): void {
  const cmd = program.command('quantize-layer').argument('<model>', 'an .onnx file')
    .description("quantize one layer's weight with a format and print its error metrics")
    .requiredOption('--layer <NAME>', 'node name of the layer')
    .requiredOption('--format <FMT>', 'format id (int8, int4, fp8_e4m3, mxfp4, nf4, log2, tan, ternary, …)')
    .option('--granularity <G>', 'tensor | channel | group:N (default: the format\'s)')
    .option('--calib <METHOD>', 'minmax | percentile:99.99 | mse | kl | mosf (default minmax)')
    .option('--bits <N>', 'code width for formats that allow several (log2, log_sqrt2, adalog, tan, pow2)')
    .option('--asymmetric', 'INT: asymmetric range with a zero point')
    .option('--data <DIR>', 'calibration data: adds the activation side and the accuracy delta of this layer')
    .option('--random <N>', 'N seeded random samples instead of --data')
    .option('--labels <FILE>', 'class ids (.npy or JSON) for a top-1 accuracy delta')
    .option('--act-format <FMT>', 'format of the layer input activation (default: --format; none = keep FP32)')
    .option('--act-calib <METHOD>', 'activation calibration from its histogram (default mse)');
  addShapeOption(cmd);
  addJsonOption(cmd);
  addLimitOptions(cmd);
  cmd.action(async (model: string, flags: QuantizeLayerFlags) => {
    const report = await quantizeLayer(model, flags);
    for (const w of report.warnings) process.stderr.write(`warning: ${terminalSafe(w)}\n`);
    process.stdout.write(formatQuantizeLayer(report));
    if (flags.json) writeJsonOutput(flags.json, report);
  });
}
