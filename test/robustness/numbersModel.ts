// SPDX-License-Identifier: Apache-2.0
/**
 * A small model whose weights carry every awkward number: NaN, ±Inf and denormals in one Conv, an all-zero
 * Conv, a constant Gemm, and a zero-size initializer. Built with the loader tests' ONNX encoder.
 */
import { encodeModel, floatTensor, node, vi } from '../loader/onnxBuild';

/** Layer names of the model below, by what their weights hold. */
export const NUMBER_LAYERS = { nonFinite: 'conv_nonfinite', zero: 'conv_zero', constant: 'fc_constant' } as const;

/** Encodes the model: x[batch,2,6,6] → Conv(NaN/Inf/denormal) → Relu → Conv(all zero) → Flatten → Gemm(constant). */
export function numbersModel(): Uint8Array {
  const w1 = Array.from({ length: 4 * 2 * 3 * 3 }, (_, i) => ((i % 9) - 4) / 8);
  w1[0] = Number.NaN; w1[5] = Number.POSITIVE_INFINITY; w1[11] = Number.NEGATIVE_INFINITY;
  w1[13] = 1e-40; w1[17] = -2e-41; // float32 denormals
  const w2 = new Array(4 * 4 * 3 * 3).fill(0);
  const fc = new Array(3 * 4 * 2 * 2).fill(0.25);
  return encodeModel({
    input: [vi('x', ['batch', 2, 6, 6])],
    output: [vi('y', ['batch', 3])],
    initializer: [
      floatTensor('w_nonfinite', [4, 2, 3, 3], w1),
      floatTensor('w_zero', [4, 4, 3, 3], w2),
      floatTensor('fc', [3, 16], fc),
      floatTensor('empty', [0, 3], []),
    ],
    node: [
      node('Conv', ['x', 'w_nonfinite'], ['c1'], {}, NUMBER_LAYERS.nonFinite),
      node('Relu', ['c1'], ['r1'], {}, 'relu1'),
      node('Conv', ['r1', 'w_zero'], ['c2'], {}, NUMBER_LAYERS.zero),
      node('Flatten', ['c2'], ['f'], {}, 'flatten'),
      node('Gemm', ['f', 'fc'], ['y'], { transB: 1 }, NUMBER_LAYERS.constant),
    ],
  });
}
