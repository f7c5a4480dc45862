// SPDX-License-Identifier: Apache-2.0
/** Sliding-window geometry shared by Conv and the pooling ops: kernel, strides, dilations, pads and auto_pad → output size. */
import { QuantLensError } from '../errors';
import type { Node } from '../ir';
import { Attrs } from './types';

/** Window attributes parsed once per node; `kernel` may come from the weight shape (Conv) at run time. */
export interface WindowAttrs {
  autoPad: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
  kernel?: number[];
  strides?: number[];
  dilations?: number[];
  pads?: number[];
  ceilMode: boolean;
}

/** Concrete geometry for one input shape. */
export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Padding at the start of each spatial axis (the end padding is implied by `out`). */
  padBegin: number[];
  padEnd: number[];
  inSize: number[];
  out: number[];
}

/** Reads auto_pad, kernel_shape, strides, dilations, pads and ceil_mode. */
export function parseWindow(node: Node): WindowAttrs {
  const a = new Attrs(node);
  const autoPad = a.string('auto_pad', 'NOTSET');
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) {
    throw new QuantLensError('model-format', `${node.opType} node '${node.name}': unknown auto_pad '${autoPad}'`);
  }
  return {
    autoPad: autoPad as WindowAttrs['autoPad'],
    kernel: a.ints('kernel_shape'), strides: a.ints('strides'), dilations: a.ints('dilations'), pads: a.ints('pads'),
    ceilMode: a.int('ceil_mode', 0) === 1,
  };
}

/** Resolves the window for spatial input sizes `inSize` and kernel `kernel`. */
export function resolveWindow(w: WindowAttrs, inSize: readonly number[], kernel: readonly number[], what: string): Window {
  const r = inSize.length;
  const strides = w.strides ?? new Array<number>(r).fill(1);
  const dilations = w.dilations ?? new Array<number>(r).fill(1);
  const pads = w.pads ?? new Array<number>(2 * r).fill(0);
  if (kernel.length !== r || strides.length !== r || dilations.length !== r || pads.length !== 2 * r) {
    throw new QuantLensError('shape', `${what}: window attributes do not match ${r} spatial dimensions`);
  }
  const padBegin = new Array<number>(r), padEnd = new Array<number>(r), out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const ext = (kernel[i] - 1) * dilations[i] + 1;
    if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') {
      out[i] = Math.ceil(inSize[i] / strides[i]);
      const total = Math.max(0, (out[i] - 1) * strides[i] + ext - inSize[i]);
      padBegin[i] = w.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      padEnd[i] = total - padBegin[i];
    } else if (w.autoPad === 'VALID') {
      padBegin[i] = 0; padEnd[i] = 0;
      out[i] = Math.floor((inSize[i] - ext) / strides[i]) + 1;
    } else {
      padBegin[i] = pads[i]; padEnd[i] = pads[i + r];
      const span = inSize[i] + padBegin[i] + padEnd[i] - ext;
      out[i] = (w.ceilMode ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
      // ceil_mode: a window must start inside the input or the left padding.
      if (w.ceilMode && (out[i] - 1) * strides[i] >= inSize[i] + padBegin[i]) out[i]--;
    }
    if (out[i] < 1) throw new QuantLensError('shape', `${what}: input size ${inSize[i]} is smaller than the window ${ext}`);
  }
  return { kernel: [...kernel], strides, dilations, padBegin, padEnd, inSize: [...inSize], out };
}
