// SPDX-License-Identifier: Apache-2.0
/**
 * `--data DIR`: a folder of `.npy` files (one sample per file, or a batch along dim 0) or PNG/JPEG images; for a
 * model with several inputs, one sub-folder per input name. Every file's header is checked against the model
 * before any data is read, and every problem names the file, the expected and the actual shape.
 */
import { readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Tensor } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';
import { readNpyHeader, readNpy } from './npy';
import { IMAGE_EXTENSIONS, type ImageLayout, type Preprocessing, imageLayoutFor, loadImageSample } from './images';
import { checkLabelCount, readLabels } from './labels';
import {
  type CalibrationBatch, type CalibrationSource, type InputSpec, allocateFor, copyConverted, countNonFinite,
  dtypeCompatible, effectiveBatchSize, sampleElements,
} from './source';

interface Entry { file: string; kind: 'npy' | 'image'; samples: number }

const fmt = (s: readonly number[]) => `[${s.map((d) => (d < 0 ? '?' : d)).join(', ')}]`;

export interface FolderOptions {
  preprocessing?: Preprocessing;
  labelsFile?: string;
}

/** Open a calibration folder for the given model inputs; throws a calibration error naming the bad file. */
export function folderSource(dir: string, inputSpecs: InputSpec[], opts: FolderOptions = {}): CalibrationSource {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new QuantLensError('io', `${dir}: calibration folder does not exist or is not a folder`, dir);
  }
  const inputs = inputSpecs.map((s) => ({ ...s, sampleShape: [...s.sampleShape] }));
  const perInput = inputs.map((spec) => {
    const sub = path.join(dir, spec.name);
    const folder = inputs.length > 1 || (existsSync(sub) && statSync(sub).isDirectory()) ? sub : dir;
    if (inputs.length > 1 && !(existsSync(sub) && statSync(sub).isDirectory())) {
      throw new QuantLensError('calibration',
        `${dir}: the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); expected one sub-folder per input, '${spec.name}/' is missing`, dir);
    }
    return scanFolder(folder, spec, opts.preprocessing, opts.labelsFile);
  });
  const counts = perInput.map((entries) => entries.reduce((a, e) => a + e.samples, 0));
  counts.forEach((c, k) => {
    if (c !== counts[0]) {
      throw new QuantLensError('calibration',
        `${path.join(dir, inputs[k].name)}: ${c} samples, but '${inputs[0].name}' has ${counts[0]} (every input needs the same count)`, dir);
    }
  });
  const sampleCount = counts[0];
  let labels: Int32Array | undefined;
  if (opts.labelsFile) {
    labels = readLabels(opts.labelsFile);
    checkLabelCount(labels, sampleCount, opts.labelsFile);
  }
  const warnings: string[] = [];
  const files = perInput.reduce((a, e) => a + e.length, 0);
  return {
    description: `${sampleCount} samples from ${files} file(s) in ${dir}`,
    sampleCount,
    inputs,
    warnings,
    ...(labels ? { labels } : {}),
    batches: (bs) => folderBatches(inputs, perInput, sampleCount, bs, labels, warnings, opts.preprocessing),
  };
}

function scanFolder(folder: string, spec: InputSpec, prep?: Preprocessing, labelsFile?: string): Entry[] {
  // the labels file may sit next to the samples (samples/data/eval/{x,labels}.npy): it is not a sample
  const skip = labelsFile ? path.resolve(labelsFile) : '';
  const names = readdirSync(folder).filter((n) => !n.startsWith('.') && path.resolve(folder, n) !== skip).sort(naturalCompare);
  const entries: Entry[] = [];
  let imageLayout: ImageLayout | null | undefined;
  for (const name of names) {
    const file = path.join(folder, name);
    const ext = path.extname(name).toLowerCase();
    if (ext === '.npy') {
      const h = readNpyHeader(file);
      if (!dtypeCompatible(h.dtype, spec.dtype)) {
        throw new QuantLensError('calibration',
          `${file}: dtype ${h.dtype} cannot feed input '${spec.name}' of type ${spec.dtype}`, file);
      }
      entries.push({ file, kind: 'npy', samples: samplesInFile(file, h.shape, spec) });
    } else if (IMAGE_EXTENSIONS.includes(ext)) {
      if (imageLayout === undefined) {
        if (prep?.size && spec.sampleShape.length === 3) fillImageSize(spec, prep);
        imageLayout = imageLayoutFor(spec.sampleShape, prep);
      }
      if (!imageLayout) {
        throw new QuantLensError('calibration',
          `${file}: input '${spec.name}' with sample shape ${fmt(spec.sampleShape)} does not look like an image ([C,H,W] or [H,W,C] with 1 or 3 channels)`, file);
      }
      if (imageLayout.height < 0 || imageLayout.width < 0) {
        throw new QuantLensError('calibration', `${file}: input '${spec.name}' has an unknown image size; give --shape or a preprocessing size`, file);
      }
      entries.push({ file, kind: 'image', samples: 1 });
    }
  }
  if (entries.length === 0) {
    throw new QuantLensError('calibration',
      `${folder}: no usable calibration files for input '${spec.name}' (expected .npy, .png or .jpg files)`, folder);
  }
  return entries;
}

function fillImageSize(spec: InputSpec, prep: Preprocessing): void {
  const [h, w] = prep.size!;
  const s = spec.sampleShape;
  if (s[0] === 1 || s[0] === 3) { if (s[1] < 0) s[1] = h; if (s[2] < 0) s[2] = w; } else { if (s[0] < 0) s[0] = h; if (s[1] < 0) s[1] = w; }
}

/** How many samples a file of this shape holds for `spec`; fixes unknown dims from the first file. */
function samplesInFile(file: string, shape: number[], spec: InputSpec): number {
  const want = spec.sampleShape;
  const matches = (s: number[]) => s.length === want.length && s.every((d, i) => want[i] < 0 || d === want[i]);
  const fix = (s: number[]) => { s.forEach((d, i) => { if (want[i] < 0) want[i] = d; }); };
  if (matches(shape)) { fix(shape); return 1; }
  if (shape.length === want.length + 1 && matches(shape.slice(1))) { fix(shape.slice(1)); return shape[0]; }
  throw new QuantLensError('calibration',
    `${file}: shape ${fmt(shape)} does not match input '${spec.name}': expected ${fmt(want)} for one sample or [N, ${want.map((d) => (d < 0 ? '?' : d)).join(', ')}] for a batch`, file);
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Reads one input's files in order, handing out `n` samples at a time. Holds at most one file. */
class InputCursor {
  private entry = 0;
  private within = 0;
  private current: { data: Exclude<Tensor['data'], string[]>; samples: number } | null = null;
  constructor(private readonly spec: InputSpec, private readonly entries: Entry[],
    private readonly warnings: string[], private readonly prep?: Preprocessing) {}

  take(dst: Exclude<Tensor['data'], string[]>, at: number, n: number): void {
    const per = sampleElements(this.spec);
    let done = 0;
    while (done < n) {
      if (!this.current || this.within >= this.current.samples) this.load();
      const k = Math.min(n - done, this.current!.samples - this.within);
      copyConverted(dst, (at + done) * per, this.current!.data, this.within * per, k * per);
      this.within += k;
      done += k;
    }
  }

  private load(): void {
    const e = this.entries[this.entry++];
    if (!e) throw new QuantLensError('calibration', `input '${this.spec.name}': ran out of calibration samples`);
    let data: Exclude<Tensor['data'], string[]>;
    if (e.kind === 'image') {
      data = loadImageSample(e.file, imageLayoutFor(this.spec.sampleShape, this.prep)!, this.prep);
    } else {
      const t = readNpy(e.file);
      data = t.data as Exclude<Tensor['data'], string[]>;
      if (t.dtype === 'float16' || t.dtype === 'float64' || t.dtype === 'uint8') {
        const f = allocateFor(this.spec.dtype, data.length);
        copyConverted(f, 0, data);
        data = f;
      }
    }
    const bad = countNonFinite(data);
    if (bad === data.length && bad > 0) {
      throw new QuantLensError('calibration', `${e.file}: every value is NaN or Inf; no usable calibration data in it`, e.file);
    }
    if (bad > 0) this.warnings.push(`${e.file}: ${bad} of ${data.length} values are NaN or Inf`);
    this.current = { data, samples: e.samples };
    this.within = 0;
  }
}

async function* folderBatches(inputs: InputSpec[], perInput: Entry[][], count: number, requested: number,
  labels: Int32Array | undefined, warnings: string[], prep?: Preprocessing): AsyncGenerator<CalibrationBatch> {
  const bs = effectiveBatchSize(inputs, requested);
  const fixed = inputs.some((i) => i.fixedBatch !== null);
  const cursors = inputs.map((spec, k) => new InputCursor(spec, perInput[k], warnings, prep));
  for (let offset = 0; offset < count; offset += bs) {
    const size = Math.min(bs, count - offset);
    if (fixed && size < bs) {
      warnings.push(`the model fixes the batch size to ${bs}: the last ${size} sample(s) were skipped`);
      return;
    }
    const feeds: CalibrationBatch['feeds'] = {};
    inputs.forEach((spec, k) => {
      const data = allocateFor(spec.dtype, size * sampleElements(spec));
      cursors[k].take(data, 0, size);
      feeds[spec.name] = { dtype: spec.dtype, dims: [size, ...spec.sampleShape], data };
    });
    yield { feeds, size, offset, ...(labels ? { labels: labels.subarray(offset, offset + size) } : {}) };
  }
}
