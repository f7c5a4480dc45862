// SPDX-License-Identifier: Apache-2.0
/** Calibration data entry point: picks the source (`--data DIR` or `--random N`) for a model's inputs. */
import type { Graph } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';
import { folderSource } from './folder';
import type { Preprocessing } from './images';
import { checkLabelCount, readLabels } from './labels';
import { integerRanges, randomSource } from './random';
import { type CalibrationSource, inputSpecsFromGraph } from './source';

export type { CalibrationSource, CalibrationBatch, InputSpec } from './source';

export interface CalibrationOptions {
  data?: string;
  random?: number;
  seed?: number;
  labels?: string;
  /** `--shape` overrides: input name → full shape (dim 0 = batch). */
  shapes?: Record<string, number[]>;
  preprocessing?: Preprocessing;
}

/** Default number of random samples when neither --data nor --random is given. */
export const DEFAULT_RANDOM_SAMPLES = 8;

/** Open the calibration source the options ask for (random samples when none is given). */
export function openCalibration(graph: Graph, opts: CalibrationOptions): CalibrationSource {
  if (opts.data !== undefined && opts.random !== undefined) {
    throw new QuantLensError('usage', 'give either --data DIR or --random N, not both');
  }
  if (opts.data !== undefined) {
    const inputs = inputSpecsFromGraph(graph.inputs, opts.shapes, true);
    return folderSource(opts.data, inputs, {
      ...(opts.preprocessing ? { preprocessing: opts.preprocessing } : {}),
      ...(opts.labels ? { labelsFile: opts.labels } : {}),
    });
  }
  const inputs = inputSpecsFromGraph(graph.inputs, opts.shapes);
  const src = randomSource(inputs, opts.random ?? DEFAULT_RANDOM_SAMPLES, opts.seed ?? 0, integerRanges(graph));
  if (opts.labels) {
    const labels = readLabels(opts.labels);
    checkLabelCount(labels, src.sampleCount, opts.labels);
    src.labels = labels;
  }
  return src;
}
