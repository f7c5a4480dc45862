// SPDX-License-Identifier: Apache-2.0
/**
 * The calibration statistics GPTQ rounding needs: XᵀX of each layer's input rows (Gemm/MatMul input vectors, Conv
 * im2col patches), accumulated over every calibration sample by FP32 engine runs. A K×K float64 matrix per layer
 * (per conv group) can be large — 170 MB for a 3×3×512 convolution — so layers are taken in passes that each hold
 * at most `maxBytes` of matrices, rerunning the calibration samples per pass rather than holding them all at once.
 */
import { run, type Program } from '../../engine/index';
import { QuantLensError } from '../../engine/errors';
import type { Tensor } from '../../engine/ir';
import type { QuantConfig } from '../config/types';
import { resolveLayer } from '../config/types';
import { quantizableLayers, type QuantizableLayer } from '../config/toQuantSpec';
import type { CalibrationSource } from '../data/source';
import type { LayerGram } from '../quant/gptq';
import { forEachLayerRow, layerGeometry, type LayerGeometry } from '../sensitivity/layerInputs';

export type LayerGrams = ReadonlyMap<string, LayerGram>;

export interface GramOptions {
  batchSize?: number;
  /** Largest total size of the matrices held in one pass (default 512 MB). */
  maxBytes?: number;
  signal?: AbortSignal;
}

/** The layers whose weights a config rounds with GPTQ. */
export function gptqLayers(program: Program, config: QuantConfig): QuantizableLayer[] {
  return quantizableLayers(program.graph, program.constants).filter((l) => resolveLayer(config, l.node.name).weights?.rounding === 'gptq');
}

/** Geometry of a layer GPTQ can round, or a message naming what it cannot handle. */
export function gptqGeometry(l: QuantizableLayer): LayerGeometry {
  const g = layerGeometry(l.node, l.tensor);
  if (!g) throw new QuantLensError('format', `layer '${l.node.name}': GPTQ rounding supports 2-D Conv, Gemm and MatMul weights, not ${l.node.opType} [${l.dims.join(', ')}]; set its weights' rounding to "nearest"`);
  return g;
}

/** XᵀX per layer over every sample of `source`, by FP32 runs of `program` (a compile() of the float model). */
export async function collectLayerGrams(program: Program, layers: readonly QuantizableLayer[], source: CalibrationSource,
  opts: GramOptions = {}): Promise<Map<string, LayerGram>> {
  const out = new Map<string, LayerGram>();
  const maxBytes = opts.maxBytes ?? 512 * 2 ** 20;
  const pending = layers.map((l) => ({ layer: l, geometry: gptqGeometry(l) }));
  const bytesOf = (g: LayerGeometry): number => 8 * g.groups * (g.K / g.groups) ** 2;
  while (pending.length > 0) {
    // at least one layer per pass, however large
    const pass = [pending.shift()!];
    let bytes = bytesOf(pass[0].geometry);
    while (pending.length > 0 && bytes + bytesOf(pending[0].geometry) <= maxBytes) {
      bytes += bytesOf(pending[0].geometry);
      pass.push(pending.shift()!);
    }
    const acc = pass.map(({ layer, geometry }) => new GramAccumulator(layer, geometry));
    const inputs = new Set(program.inputNames);
    const taps = [...new Set(pass.map(({ layer }) => layer.node.inputs[0]).filter((n) => !inputs.has(n)))];
    for await (const b of source.batches(opts.batchSize ?? 16)) {
      if (opts.signal?.aborted) throw new QuantLensError('cancelled', 'GPTQ calibration cancelled');
      const r = await run(program, b.feeds, { taps, ...(opts.signal ? { signal: opts.signal } : {}) });
      for (const a of acc) {
        const x: Tensor | undefined = b.feeds[a.layer.node.inputs[0]] ?? r.taps?.[a.layer.node.inputs[0]];
        if (!x || !(x.data instanceof Float32Array)) {
          throw new QuantLensError('calibration', `GPTQ: no float input for layer '${a.layer.node.name}' ('${a.layer.node.inputs[0]}') in the calibration run`);
        }
        a.add(x);
      }
    }
    for (const a of acc) out.set(a.layer.node.name, a.result());
  }
  return out;
}

/** Sums x xᵀ over a layer's rows, group by group (upper triangle while summing, mirrored at the end). */
export class GramAccumulator {
  private readonly Kg: number;
  private readonly gram: Float64Array[];
  private rows = 0;
  private samples = 0;

  constructor(readonly layer: QuantizableLayer, private readonly geometry: LayerGeometry) {
    this.Kg = geometry.K / geometry.groups;
    this.gram = Array.from({ length: geometry.groups }, () => new Float64Array(this.Kg * this.Kg));
  }

  add(x: Tensor): void {
    const { Kg, gram } = this;
    this.samples += forEachLayerRow(this.layer.node, this.geometry, x, (make) => {
      const r = make();
      this.rows++;
      for (let g = 0; g < gram.length; g++) {
        const H = gram[g], o = g * Kg;
        for (let i = 0; i < Kg; i++) {
          const xi = r[o + i];
          if (xi === 0) continue;
          const row = i * Kg;
          for (let j = i; j < Kg; j++) H[row + j] += xi * r[o + j];
        }
      }
    });
  }

  result(): LayerGram {
    const { Kg } = this;
    for (const H of this.gram) for (let i = 0; i < Kg; i++) for (let j = i + 1; j < Kg; j++) H[j * Kg + i] = H[i * Kg + j];
    if (this.rows === 0) throw new QuantLensError('calibration', `GPTQ: layer '${this.layer.node.name}' saw no calibration rows`);
    return { gram: this.gram, Kg, rows: this.rows, samples: this.samples };
  }
}

/**
 * The statistics a config's GPTQ layers need, collecting only those `existing` lacks (empty when the config
 * rounds nothing with GPTQ, so no calibration pass runs).
 */
export async function gramsForConfig(program: Program, config: QuantConfig, source: CalibrationSource | undefined,
  existing?: LayerGrams, opts: GramOptions = {}): Promise<LayerGrams> {
  const missing = gptqLayers(program, config).filter((l) => !existing?.has(l.node.name));
  if (missing.length === 0) return existing ?? new Map();
  if (!source) {
    throw new QuantLensError('usage', `the config rounds ${missing.length === 1 ? `layer '${missing[0].node.name}'` : `${missing.length} layers`} with GPTQ, which needs calibration data (--calib DIR, --data DIR or the config's calibration.data)`);
  }
  const fresh = await collectLayerGrams(program, missing, source, opts);
  return new Map([...(existing ?? new Map()), ...fresh]);
}
