// SPDX-License-Identifier: Apache-2.0
/** MatMul (numpy semantics: 1-D promotion, batched, broadcast batch dims) and Gemm (transA/transB, alpha, beta, broadcast C) over the blocked GEMM. */
import { QuantLensError } from '../errors';
import type { Tensor } from '../ir';
import { elementCount } from '../ir';
import { broadcast2, runOf } from './binary';
import { matView, sgemm } from './gemm';
import { broadcastShapes, broadcastStrides, floatData, fromNumbers, isIntegerType, numbers, stridesOf } from './tensor';
import type { OpFactory } from './types';
import { Attrs, need } from './types';
import { allocF32 } from './arena';

/** Numpy matmul of two float tensors; exported for fake-quant references. */
export function matmul(a: Tensor, b: Tensor, what: string): Tensor {
  const aDims = a.dims.length === 1 ? [1, a.dims[0]] : a.dims;
  const bDims = b.dims.length === 1 ? [b.dims[0], 1] : b.dims;
  if (aDims.length < 2 || bDims.length < 2) throw new QuantLensError('shape', `${what}: MatMul of scalars`);
  const M = aDims[aDims.length - 2], K = aDims[aDims.length - 1];
  const K2 = bDims[bDims.length - 2], N = bDims[bDims.length - 1];
  if (K !== K2) throw new QuantLensError('shape', `${what}: inner dimensions differ ([${a.dims}] × [${b.dims}])`);
  const aBatch = aDims.slice(0, -2), bBatch = bDims.slice(0, -2);
  const batch = broadcastShapes([aBatch, bBatch], what);
  const outDims = [...batch, M, N];
  if (a.dims.length === 1) outDims.splice(outDims.length - 2, 1);
  if (b.dims.length === 1) outDims.splice(outDims.length - 1, 1);
  const ad = floatData(a), bd = floatData(b);
  const nb = elementCount(batch);
  const y = allocF32(nb * M * N, false);
  if (bBatch.every((d) => d === 1)) {
    // Weights without batch dims: fold A's batch into rows, one GEMM.
    const rowsA = elementCount(aBatch) * M;
    if (elementCount(aBatch) === nb) {
      sgemm(rowsA, N, K, matView(ad, 0, K), matView(bd, 0, N), y, 0, N, false);
      return { dtype: a.dtype, dims: outDims, data: y };
    }
  }
  const sa = broadcastStrides(aBatch, batch), sb = broadcastStrides(bBatch, batch);
  const bs = stridesOf(batch);
  for (let i = 0; i < nb; i++) {
    let oa = 0, ob = 0, rem = i;
    for (let d = 0; d < batch.length; d++) {
      const idx = Math.floor(rem / bs[d]); rem -= idx * bs[d];
      oa += idx * sa[d]; ob += idx * sb[d];
    }
    sgemm(M, N, K, matView(ad, oa * M * K, K), matView(bd, ob * K * N, N), y, i * M * N, N, false);
  }
  return { dtype: a.dtype, dims: outDims, data: y };
}

/** Integer MatMul for shape arithmetic (small; exact in float64). */
function matmulInt(a: Tensor, b: Tensor, what: string): Tensor {
  const f = matmul({ dtype: 'float32', dims: a.dims, data: Float32Array.from(numbers(a)) },
    { dtype: 'float32', dims: b.dims, data: Float32Array.from(numbers(b)) }, what);
  return fromNumbers(a.dtype, f.dims, f.data as Float32Array);
}

export const MatMul: OpFactory = (node) => (inputs) => {
  const a = need(inputs, 0, node), b = need(inputs, 1, node);
  const what = `MatMul node '${node.name}'`;
  return [isIntegerType(a.dtype) ? matmulInt(a, b, what) : matmul(a, b, what)];
};

export const Gemm: OpFactory = (node) => {
  const at = new Attrs(node);
  const transA = at.int('transA', 0) === 1, transB = at.int('transB', 0) === 1;
  const alpha = at.float('alpha', 1), beta = at.float('beta', 1);
  const what = `Gemm node '${node.name}'`;
  return (inputs) => {
    const a = need(inputs, 0, node), b = need(inputs, 1, node), c = inputs[2];
    if (a.dims.length !== 2 || b.dims.length !== 2) throw new QuantLensError('shape', `${what}: A [${a.dims}] and B [${b.dims}] must be 2-D`);
    const M = transA ? a.dims[1] : a.dims[0], K = transA ? a.dims[0] : a.dims[1];
    const K2 = transB ? b.dims[1] : b.dims[0], N = transB ? b.dims[0] : b.dims[1];
    if (K !== K2) throw new QuantLensError('shape', `${what}: inner dimensions differ (A [${a.dims}], B [${b.dims}])`);
    const y = allocF32(M * N, false);
    sgemm(M, N, K, matView(floatData(a), 0, a.dims[1], transA), matView(floatData(b), 0, b.dims[1], transB), y, 0, N, false);
    if (alpha !== 1) for (let i = 0; i < y.length; i++) y[i] *= alpha;
    if (c && beta !== 0) {
      broadcastShapes([[M, N], c.dims], what); // validates unidirectional broadcast
      broadcast2(y, [M, N], floatData(c), c.dims, [M, N], y, runOf((v, cv) => v + beta * cv));
    }
    return [{ dtype: a.dtype, dims: [M, N], data: y }];
  };
};
