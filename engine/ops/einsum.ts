// SPDX-License-Identifier: Apache-2.0
/**
 * Einsum by direct summation over every index combination (explicit or implicit output, repeated letters for
 * diagonals). Meant for the small contractions exporters emit; ellipsis ('...') is reported as unsupported.
 */
import { QuantLensError } from '../errors';
import { fromNumbers, numbers } from './tensor';
import type { OpFactory } from './types';
import { Attrs } from './types';

export const Einsum: OpFactory = (node) => {
  const a = new Attrs(node);
  const eq = a.string('equation', '').replace(/\s+/g, '');
  if (eq.includes('.')) throw a.unsupported(`an Einsum equation with an ellipsis ('${eq}')`);
  const [lhs, rhsGiven] = eq.split('->');
  const terms = lhs.split(',');
  if (terms.some((t) => !/^[a-zA-Z]*$/.test(t)) || (rhsGiven !== undefined && !/^[a-zA-Z]*$/.test(rhsGiven))) {
    throw new QuantLensError('model-format', `Einsum node '${node.name}': malformed equation '${eq}'`);
  }
  const counts = new Map<string, number>();
  for (const ch of terms.join('')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const rhs = rhsGiven ?? [...counts.keys()].filter((c) => counts.get(c) === 1).sort().join('');
  const letters = [...new Set([...rhs, ...terms.join('')])];
  return (inputs) => {
    if (inputs.length !== terms.length || inputs.some((t) => !t)) {
      throw new QuantLensError('model-format', `Einsum node '${node.name}': ${terms.length} operands in '${eq}', ${inputs.length} inputs`);
    }
    const size = new Map<string, number>();
    terms.forEach((t, i) => {
      const dims = inputs[i]!.dims;
      if (dims.length !== t.length) throw new QuantLensError('shape', `Einsum node '${node.name}': operand ${i} has rank ${dims.length}, '${t}' needs ${t.length}`);
      [...t].forEach((ch, j) => {
        const prev = size.get(ch);
        if (prev !== undefined && prev !== dims[j] && prev !== 1 && dims[j] !== 1) {
          throw new QuantLensError('shape', `Einsum node '${node.name}': index '${ch}' is ${prev} and ${dims[j]}`);
        }
        size.set(ch, Math.max(prev ?? 1, dims[j]));
      });
    });
    const L = letters.length;
    const dimsOf = letters.map((ch) => size.get(ch)!);
    // Per operand (and output) the stride of each letter; broadcast (size-1) axes get stride 0.
    const strideOf = (t: string, dims: readonly number[]): number[] => {
      const s = new Array<number>(L).fill(0);
      let acc = 1;
      for (let j = t.length - 1; j >= 0; j--) {
        const li = letters.indexOf(t[j]);
        if (dims[j] !== 1) s[li] += acc;
        acc *= dims[j];
      }
      return s;
    };
    const outDims = [...rhs].map((ch) => size.get(ch)!);
    const ops = inputs.map((t) => numbers(t!));
    const st = terms.map((t, i) => strideOf(t, inputs[i]!.dims));
    const so = strideOf(rhs, outDims);
    const out = new Float64Array(outDims.reduce((p, d) => p * d, 1));
    const idx = new Array<number>(L).fill(0);
    const offs = new Array<number>(terms.length).fill(0);
    let oo = 0;
    const total = dimsOf.reduce((p, d) => p * d, 1);
    for (let n = 0; n < total; n++) {
      let prod = 1;
      for (let i = 0; i < ops.length; i++) prod *= ops[i][offs[i]];
      out[oo] += prod;
      for (let d = L - 1; d >= 0; d--) {
        idx[d]++; oo += so[d];
        for (let i = 0; i < offs.length; i++) offs[i] += st[i][d];
        if (idx[d] < dimsOf[d]) break;
        oo -= so[d] * idx[d];
        for (let i = 0; i < offs.length; i++) offs[i] -= st[i][d] * idx[d];
        idx[d] = 0;
      }
    }
    return [fromNumbers(inputs[0]!.dtype, outDims, out)];
  };
};
