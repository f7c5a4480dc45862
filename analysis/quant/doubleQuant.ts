// SPDX-License-Identifier: Apache-2.0
/**
 * QLoRA double quantization (Dettmers et al. 2023, §3): the per-block absmax scales of NF4 are themselves
 * quantized to 8 bits — their mean is subtracted, then each run of `blockSize` scales shares one FP32 scale and
 * the centred scales are stored as 8-bit floats. QLoRA stores them with bitsandbytes' dynamic 8-bit type; we use
 * OCP FP8 E4M3 (same width, same per-256 FP32 second-level scale), so the storage cost is identical:
 * 8 + 32/256 bits per 64-weight block plus one FP32 mean, 4.127 bits per weight instead of 4.5.
 */
import { minifloatCodec } from './levels';
import type { MinifloatSpec } from './formats';

/** Second-level quantization of a format's scales (formats.ts `doubleQuant`). */
export interface DoubleQuantSpec {
  /** Scales sharing one FP32 second-level scale. */
  blockSize: number;
  /** Element format of the centred scales. */
  minifloat: MinifloatSpec;
}

/** Smallest scale kept: a centred scale that rounds below zero must not flip or zero its block. */
const MIN_SCALE = 2 ** -126;

/** Replaces `scales` in place by their double-quantized values (what the stored model decodes to). */
export function doubleQuantizeScales(scales: Float32Array, dq: DoubleQuantSpec): void {
  if (scales.length === 0) return;
  const codec = minifloatCodec(dq.minifloat);
  const max = codec.maxLevel(0);
  let sum = 0;
  for (const s of scales) sum += s;
  const mean = Math.fround(sum / scales.length);
  for (let b = 0; b < scales.length; b += dq.blockSize) {
    const end = Math.min(scales.length, b + dq.blockSize);
    let amax = 0;
    for (let k = b; k < end; k++) amax = Math.max(amax, Math.abs(scales[k] - mean));
    const s2 = Math.fround(amax / max);
    if (!(s2 > 0) || !Number.isFinite(s2)) { for (let k = b; k < end; k++) scales[k] = Math.max(mean, MIN_SCALE); continue; }
    for (let k = b; k < end; k++) {
      const centred = codec.level(codec.encode((scales[k] - mean) / s2, 0), 0);
      scales[k] = Math.max(Math.fround(Math.fround(centred * s2) + mean), MIN_SCALE);
    }
  }
}
