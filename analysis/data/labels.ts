// SPDX-License-Identifier: Apache-2.0
/** `--labels FILE`: class ids as a `.npy` integer array or a JSON array, checked against the sample count. */
import { readFileSync } from 'node:fs';
import { QuantLensError } from '../../engine/errors';
import { readNpy } from './npy';

/** Read labels (one class id per sample; a 2-D one-hot / score array is reduced by argmax). */
export function readLabels(file: string): Int32Array {
  if (file.toLowerCase().endsWith('.npy')) {
    const t = readNpy(file);
    const data = t.data as Exclude<typeof t.data, string[]>;
    if (t.dims.length === 2) return argmaxRows(data, t.dims[0], t.dims[1]);
    if (t.dims.length > 2) {
      throw new QuantLensError('calibration', `${file}: labels must be 1-D class ids (or 2-D one-hot), got shape [${t.dims.join(', ')}]`, file);
    }
    const out = new Int32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = Number(data[i]);
      if (!Number.isInteger(v)) throw new QuantLensError('calibration', `${file}: label ${i} is ${v}, not an integer class id`, file);
      out[i] = v;
    }
    return out;
  }
  let parsed: unknown;
  try { parsed = JSON.parse(readFileSync(file, 'utf8')); } catch (e) {
    throw new QuantLensError(e instanceof SyntaxError ? 'calibration' : 'io', `${file}: cannot read labels (${(e as Error).message})`, file);
  }
  if (!Array.isArray(parsed)) throw new QuantLensError('calibration', `${file}: labels must be a JSON array of class ids`, file);
  return Int32Array.from(parsed, (v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new QuantLensError('calibration', `${file}: label ${i} is ${JSON.stringify(v)}, not an integer class id`, file);
    }
    return v;
  });
}

function argmaxRows(data: Exclude<ReturnType<typeof readNpy>['data'], string[]>, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (Number(data[r * cols + c]) > Number(data[r * cols + best])) best = c;
    out[r] = best;
  }
  return out;
}

/** Check the label count against the sample count, naming the labels file. */
export function checkLabelCount(labels: Int32Array, sampleCount: number, file: string): void {
  if (labels.length !== sampleCount) {
    throw new QuantLensError('calibration',
      `${file}: ${labels.length} labels for ${sampleCount} calibration samples (counts must match)`, file);
  }
}
