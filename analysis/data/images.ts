// SPDX-License-Identifier: Apache-2.0
/**
 * Image calibration samples: PNG (pngjs) and JPEG (jpeg-js) decoded, resized with bilinear interpolation and
 * normalised by a preprocessing spec ((x/255 − mean) / std per channel, RGB or BGR order, NCHW or NHWC layout).
 */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { QuantLensError } from '../../engine/errors';
import type { CalibrationSettings } from '../config/types';

export type Preprocessing = NonNullable<CalibrationSettings['preprocessing']>;

/** The resolved layout of one image sample for a model input. */
export interface ImageLayout {
  layout: 'nchw' | 'nhwc';
  channels: 1 | 3;
  height: number;
  width: number;
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

/** Work out how an image maps onto a sample shape ([C,H,W] or [H,W,C]); null when the input is not image-like. */
export function imageLayoutFor(sampleShape: readonly number[], prep: Preprocessing = {}): ImageLayout | null {
  if (sampleShape.length !== 3) return null;
  const [a, b, c] = sampleShape;
  const chw = (a === 1 || a === 3) ? { layout: 'nchw' as const, channels: a as 1 | 3, height: b, width: c } : null;
  const hwc = (c === 1 || c === 3) ? { layout: 'nhwc' as const, channels: c as 1 | 3, height: a, width: b } : null;
  if (prep.layout === 'nchw') return chw;
  if (prep.layout === 'nhwc') return hwc;
  return chw ?? hwc;
}

interface Rgba { width: number; height: number; data: Uint8Array }

function decode(file: string): Rgba {
  let bytes: Buffer;
  try { bytes = readFileSync(file); } catch (e) {
    throw new QuantLensError('io', `${file}: cannot read (${(e as Error).message})`, file);
  }
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50) {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, data: png.data };
    }
    if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch (e) {
    throw new QuantLensError('calibration', `${file}: cannot decode image (${(e as Error).message})`, file);
  }
  throw new QuantLensError('calibration', `${file}: not a PNG or JPEG image`, file);
}

/** Bilinear sample of channel `ch` (0..3 of RGBA) at fractional source coordinates (pixel centres aligned). */
function bilinear(img: Rgba, x: number, y: number, ch: number): number {
  const x0 = Math.max(0, Math.min(img.width - 1, Math.floor(x)));
  const y0 = Math.max(0, Math.min(img.height - 1, Math.floor(y)));
  const x1 = Math.min(img.width - 1, x0 + 1);
  const y1 = Math.min(img.height - 1, y0 + 1);
  const fx = Math.max(0, Math.min(1, x - x0));
  const fy = Math.max(0, Math.min(1, y - y0));
  const at = (xx: number, yy: number) => img.data[(yy * img.width + xx) * 4 + ch];
  const top = at(x0, y0) * (1 - fx) + at(x1, y0) * fx;
  const bottom = at(x0, y1) * (1 - fx) + at(x1, y1) * fx;
  return top * (1 - fy) + bottom * fy;
}

/** Decode, resize and normalise one image file into a Float32Array of the layout's size. */
export function loadImageSample(file: string, layout: ImageLayout, prep: Preprocessing = {}): Float32Array {
  const img = decode(file);
  const { channels, height: H, width: W } = layout;
  const mean = prep.mean ?? [0, 0, 0];
  const std = prep.std ?? [1, 1, 1];
  if (std.some((s) => s === 0)) throw new QuantLensError('usage', 'preprocessing std must not contain 0');
  const bgr = prep.channelOrder === 'bgr';
  const out = new Float32Array(channels * H * W);
  const sx = img.width / W;
  const sy = img.height / H;
  for (let y = 0; y < H; y++) {
    const srcY = (y + 0.5) * sy - 0.5;
    for (let x = 0; x < W; x++) {
      const srcX = (x + 0.5) * sx - 0.5;
      const r = bilinear(img, srcX, srcY, 0);
      const g = bilinear(img, srcX, srcY, 1);
      const b = bilinear(img, srcX, srcY, 2);
      const px = channels === 1 ? [0.299 * r + 0.587 * g + 0.114 * b] : bgr ? [b, g, r] : [r, g, b];
      for (let c = 0; c < channels; c++) {
        const v = (px[c] / 255 - (mean[c] ?? mean[0] ?? 0)) / (std[c] ?? std[0] ?? 1);
        const idx = layout.layout === 'nchw' ? (c * H + y) * W + x : (y * W + x) * channels + c;
        out[idx] = v;
      }
    }
  }
  return out;
}
