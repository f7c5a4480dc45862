// SPDX-License-Identifier: Apache-2.0
/**
 * `--random N`: seeded generated calibration samples. Float inputs draw from N(0, 1); integer inputs draw
 * uniformly from a valid range (e.g. the vocabulary size when the input indexes a Gather table), so the same
 * seed always gives the same samples and the same report.
 */
import type { Graph } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';
import {
  type CalibrationBatch, type CalibrationSource, type InputSpec, allocateFor, effectiveBatchSize, sampleElements,
} from './source';

/** A small, fast, seedable PRNG (mulberry32) with a normal sampler (Box–Muller). */
export class SeededRandom {
  private state: number;
  private spare: number | null = null;
  constructor(seed: number) { this.state = (seed >>> 0) ^ 0x9e3779b9; }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal. */
  normal(): number {
    if (this.spare !== null) { const s = this.spare; this.spare = null; return s; }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  /** Random sign ±1 (Rademacher). */
  sign(): number { return this.next() < 0.5 ? -1 : 1; }
  /** Integer in [lo, hi). */
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo)); }
}

/** Integer value range [lo, hi) per input, from what the input feeds (Gather indices → table size). */
export function integerRanges(graph: Graph): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const node of graph.nodes) {
    if (node.opType !== 'Gather' && node.opType !== 'GatherElements') continue;
    const idx = node.inputs[1];
    const table = graph.initializers.get(node.inputs[0]);
    if (!table || !graph.inputs.some((i) => i.name === idx)) continue;
    const axisAttr = node.attrs.axis;
    const axisRaw = axisAttr && axisAttr.type === 'int' ? axisAttr.value : 0;
    const axis = axisRaw < 0 ? axisRaw + table.dims.length : axisRaw;
    const size = table.dims[axis] ?? 1;
    const prev = out[idx];
    out[idx] = [0, prev ? Math.min(prev[1], size) : size];
  }
  return out;
}

/** Default integer range when nothing in the graph says better. */
function defaultRange(spec: InputSpec): [number, number] {
  if (spec.dtype === 'bool') return [0, 2];
  if (spec.dtype === 'uint8') return [0, 256];
  if (spec.dtype === 'int8') return [-128, 128];
  return [0, 2];
}

/** A source of `count` seeded random samples for the given inputs. */
export function randomSource(inputs: InputSpec[], count: number, seed = 0,
  ranges: Record<string, [number, number]> = {}): CalibrationSource {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new QuantLensError('usage', `--random needs a positive sample count, got ${count}`);
  }
  return {
    description: `${count} random samples (seed ${seed})`,
    sampleCount: count,
    inputs,
    warnings: [],
    batches: (batchSize) => randomBatches(inputs, count, seed, ranges, batchSize),
  };
}

async function* randomBatches(inputs: InputSpec[], count: number, seed: number,
  ranges: Record<string, [number, number]>, requested: number): AsyncGenerator<CalibrationBatch> {
  const bs = effectiveBatchSize(inputs, requested);
  // one generator per input, so adding an input never changes another input's samples
  const rngs = inputs.map((_, i) => new SeededRandom(seed * 1000003 + i));
  for (let offset = 0; offset < count; offset += bs) {
    const size = inputs.some((i) => i.fixedBatch !== null) ? bs : Math.min(bs, count - offset);
    const feeds: CalibrationBatch['feeds'] = {};
    inputs.forEach((spec, k) => {
      const n = size * sampleElements(spec);
      const data = allocateFor(spec.dtype, n);
      const rng = rngs[k];
      if (data instanceof Float32Array || data instanceof Float64Array) {
        for (let i = 0; i < n; i++) data[i] = rng.normal();
      } else {
        const [lo, hi] = ranges[spec.name] ?? defaultRange(spec);
        if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
          for (let i = 0; i < n; i++) data[i] = BigInt(rng.int(lo, hi));
        } else {
          for (let i = 0; i < n; i++) data[i] = rng.int(lo, hi);
        }
      }
      feeds[spec.name] = { dtype: spec.dtype, dims: [size, ...spec.sampleShape], data };
    });
    // a fixed model batch dim may round the last batch up: those extra samples are real random samples too
    yield { feeds, size, offset };
  }
}
