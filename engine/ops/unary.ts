// SPDX-License-Identifier: Apache-2.0
/** Elementwise one-input ops, built by one factory from a scalar function (plus attribute parsing where the op has attributes). */
import { roundHalfEven } from '../fakeQuant';
import type { Node } from '../ir';
import type { Attrs as AttrsT, OpFactory } from './types';
import { Attrs, need } from './types';
import { fromNumbers, isIntegerType, numbers } from './tensor';
import { allocF32 } from './arena';

type ScalarFn = (x: number) => number;

/** A float32 loop of its own for a hot op: the shared loop below calls many different `fn`s and is not inlined. */
type F32Loop = (src: Float32Array, out: Float32Array) => void;

/** An op whose output has the input's dtype and shape, computing `make(attrs)` per element. */
export function unaryOp(make: (a: AttrsT, node: Node) => ScalarFn, f32Loop?: F32Loop): OpFactory {
  return (node) => {
    const fn = make(new Attrs(node), node);
    return (inputs) => {
      const x = need(inputs, 0, node);
      if (x.data instanceof Float32Array) {
        const src = x.data;
        const out = allocF32(src.length, false);
        if (f32Loop) f32Loop(src, out);
        else for (let i = 0; i < src.length; i++) out[i] = fn(src[i]);
        return [{ dtype: x.dtype, dims: [...x.dims], data: out }];
      }
      const v = numbers(x);
      const res = new Float64Array(v.length);
      for (let i = 0; i < v.length; i++) res[i] = fn(v[i]);
      if (isIntegerType(x.dtype)) for (let i = 0; i < res.length; i++) res[i] = Math.trunc(res[i]);
      return [fromNumbers(x.dtype, x.dims, res)];
    };
  };
}

/** A unary op without attributes. */
const simple = (fn: ScalarFn): OpFactory => unaryOp(() => fn);

const SQRT1_2 = Math.SQRT1_2;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf to float64 accuracy: a Taylor series near 0, the complementary continued fraction elsewhere. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2) {
    // Taylor series: converges fast below 2 and keeps full relative accuracy near zero.
    let term = x, sum = x;
    const x2 = x * x;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * sum;
  }
  if (ax > 6) return Math.sign(x);
  // Lentz continued fraction for erfc(ax).
  const z = ax;
  let f = z, c = z, d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = z + an * d; d = d === 0 ? 1e-300 : 1 / d;
    c = z + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-z * z) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number): number => (x > 20 ? x : Math.log1p(Math.exp(x)));

// (v + |v|)/2 is exact and has no branch: `v > 0 ? v : 0` mispredicts on every other element of real activations
export const Relu = unaryOp(() => (x) => (x > 0 ? x : 0), (src, out) => {
  for (let i = 0; i < src.length; i++) { const v = src[i]; out[i] = (v + Math.abs(v)) * 0.5; }
});
export const Sigmoid = simple(sigmoid);
export const Tanh = simple(Math.tanh);
export const Erf = simple(erf);
export const Exp = simple(Math.exp);
export const Log = simple(Math.log);
export const Sqrt = simple(Math.sqrt);
export const Neg = simple((x) => -x);
export const Abs = simple(Math.abs);
export const Reciprocal = simple((x) => 1 / x);
export const Floor = simple(Math.floor);
export const Ceil = simple(Math.ceil);
export const Round = simple(roundHalfEven);
export const Sign = simple(Math.sign);
export const Sin = simple(Math.sin);
export const Cos = simple(Math.cos);
export const Softplus = simple(softplus);
export const Softsign = simple((x) => x / (1 + Math.abs(x)));
export const Mish = simple((x) => x * Math.tanh(softplus(x)));
export const Not = simple((x) => (x ? 0 : 1));
export const Tan = simple(Math.tan);
export const Asin = simple(Math.asin);
export const Acos = simple(Math.acos);
export const Atan = simple(Math.atan);
export const Sinh = simple(Math.sinh);
export const Cosh = simple(Math.cosh);

export const LeakyRelu = unaryOp((a) => { const alpha = a.float('alpha', 0.01); return (x) => (x >= 0 ? x : alpha * x); });
export const Elu = unaryOp((a) => { const alpha = a.float('alpha', 1); return (x) => (x >= 0 ? x : alpha * (Math.exp(x) - 1)); });
export const Celu = unaryOp((a) => { const alpha = a.float('alpha', 1); return (x) => Math.max(0, x) + Math.min(0, alpha * (Math.exp(x / alpha) - 1)); });
export const ThresholdedRelu = unaryOp((a) => { const alpha = a.float('alpha', 1); return (x) => (x > alpha ? x : 0); });
export const Selu = unaryOp((a) => {
  const alpha = a.float('alpha', 1.67326319217681884765625);
  const gamma = a.float('gamma', 1.05070102214813232421875);
  return (x) => (x > 0 ? gamma * x : gamma * (alpha * Math.exp(x) - alpha));
});
export const HardSigmoid = unaryOp((a) => {
  const alpha = a.float('alpha', 0.2), beta = a.float('beta', 0.5);
  return (x) => Math.max(0, Math.min(1, alpha * x + beta));
});
export const HardSwish = simple((x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)));
export const Shrink = unaryOp((a) => {
  const lambd = a.float('lambd', 0.5), bias = a.float('bias', 0);
  return (x) => (x < -lambd ? x + bias : x > lambd ? x - bias : 0);
});
export const Gelu = unaryOp((a) => {
  const approx = a.string('approximate', 'none');
  if (approx === 'tanh') {
    const k = Math.sqrt(2 / Math.PI);
    return (x) => 0.5 * x * (1 + Math.tanh(k * (x + 0.044715 * x * x * x)));
  }
  if (approx !== 'none') throw a.unsupported(`approximate='${approx}'`);
  return (x) => 0.5 * x * (1 + erf(x * SQRT1_2));
});
