// SPDX-License-Identifier: Apache-2.0
/**
 * ConvTranspose (N-D, groups, dilation, output_padding, output_shape, auto_pad): per image and group,
 * col[(M/g)·K × P_in] = W_gᵀ · X_g by the blocked GEMM, then col2im scatters the columns into the output.
 */
import { QuantLensError } from '../errors';
import { elementCount } from '../ir';
import { matView, sgemm } from './gemm';
import { floatData } from './tensor';
import type { OpFactory } from './types';
import { Attrs, need } from './types';
import { allocF32 } from './arena';

export const ConvTranspose: OpFactory = (node) => {
  const a = new Attrs(node);
  const autoPad = a.string('auto_pad', 'NOTSET');
  const group = a.int('group', 1);
  const what = `ConvTranspose node '${node.name}'`;
  const attrKernel = a.ints('kernel_shape'), attrStrides = a.ints('strides'), attrDil = a.ints('dilations');
  const attrPads = a.ints('pads'), outPad = a.ints('output_padding'), outShape = a.ints('output_shape');
  return (inputs) => {
    const x = need(inputs, 0, node), w = need(inputs, 1, node), bias = inputs[2];
    const r = x.dims.length - 2;
    if (r < 1 || w.dims.length !== x.dims.length) throw new QuantLensError('shape', `${what}: input [${x.dims}] and weight [${w.dims}] ranks do not fit`);
    const [N, C] = x.dims;
    const Mg = w.dims[1], M = Mg * group, Cg = C / group;
    if (w.dims[0] !== C || C % group !== 0) throw new QuantLensError('shape', `${what}: ${C} input channels do not match weight [${w.dims}] with group ${group}`);
    const inSize = x.dims.slice(2), kernel = attrKernel ?? w.dims.slice(2);
    const strides = attrStrides ?? new Array<number>(r).fill(1), dil = attrDil ?? new Array<number>(r).fill(1);
    const opad = outPad ?? new Array<number>(r).fill(0);
    const padBegin = new Array<number>(r).fill(0), out = new Array<number>(r);
    for (let i = 0; i < r; i++) {
      const ext = (kernel[i] - 1) * dil[i] + 1;
      const full = strides[i] * (inSize[i] - 1) + opad[i] + ext;
      if (outShape) {
        out[i] = outShape[outShape.length - r + i];
        const total = full - out[i];
        padBegin[i] = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
      } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
        out[i] = inSize[i] * strides[i];
        const total = Math.max(0, full - out[i]);
        padBegin[i] = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
      } else {
        const pads = attrPads ?? new Array<number>(2 * r).fill(0);
        padBegin[i] = autoPad === 'VALID' ? 0 : pads[i];
        out[i] = full - (autoPad === 'VALID' ? 0 : pads[i] + pads[i + r]);
      }
      if (out[i] < 1) throw new QuantLensError('shape', `${what}: output size ${out[i]} on axis ${i + 2}`);
    }
    const xd = floatData(x), wd = floatData(w);
    const kCount = elementCount(kernel), Pin = elementCount(inSize), Pout = elementCount(out);
    const rows = Mg * kCount;
    const col = new Float32Array(rows * Pin);
    const y = allocF32(N * M * Pout);
    for (let n = 0; n < N; n++) {
      for (let g = 0; g < group; g++) {
        // W_g is [Cg × rows] row-major; its transpose is the A operand.
        sgemm(rows, Pin, Cg, matView(wd, g * Cg * rows, rows, true), matView(xd, (n * C + g * Cg) * Pin, Pin), col, 0, Pin, false);
        col2im(col, Mg, kernel, inSize, out, strides, dil, padBegin, y, (n * M + g * Mg) * Pout);
      }
    }
    if (bias) {
      const b = floatData(bias);
      for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) {
        const o = (n * M + m) * Pout;
        for (let p = 0; p < Pout; p++) y[o + p] += b[m];
      }
    }
    return [{ dtype: x.dtype, dims: [N, M, ...out], data: y }];
  };
};

function col2im(col: Float32Array, Mg: number, kernel: number[], inSize: number[], out: number[], strides: number[],
  dil: number[], padBegin: number[], y: Float32Array, yOff: number): void {
  const r = kernel.length, kCount = elementCount(kernel), Pin = elementCount(inSize), Pout = elementCount(out);
  const kIdx = new Array<number>(r), iIdx = new Array<number>(r);
  for (let m = 0; m < Mg; m++) {
    for (let k = 0; k < kCount; k++) {
      let rem = k;
      for (let d = r - 1; d >= 0; d--) { kIdx[d] = rem % kernel[d]; rem = Math.floor(rem / kernel[d]); }
      const src = (m * kCount + k) * Pin;
      iIdx.fill(0);
      for (let q = 0; q < Pin; q++) {
        let off = 0, inside = true;
        for (let d = 0; d < r; d++) {
          const o = iIdx[d] * strides[d] - padBegin[d] + kIdx[d] * dil[d];
          if (o < 0 || o >= out[d]) { inside = false; break; }
          off = off * out[d] + o;
        }
        if (inside) y[yOff + m * Pout + off] += col[src + q];
        for (let d = r - 1; d >= 0; d--) { if (++iIdx[d] < inSize[d]) break; iIdx[d] = 0; }
      }
    }
  }
}
