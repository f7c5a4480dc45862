// SPDX-License-Identifier: Apache-2.0
/**
 * The one op registry: rows [opType, domain, sinceVersion, untilVersion, implementation] keyed by ONNX op type
 * and opset range. Ops whose semantics change across opsets (Softmax, Squeeze, Split, Slice, Clip, Pad, Reduce*,
 * Resize) read ctx.opset in their implementation. Ops the engine knows it lacks are listed as data with the reason,
 * so the UI can badge them and the error can say why.
 */
import { QuantLensError } from '../errors';
import type { Node } from '../ir';
import * as B from './binary';
import { Conv } from './conv';
import { ConvTranspose } from './convTranspose';
import { Einsum } from './einsum';
import * as I from './indexing';
import * as L from './layout';
import { Gemm, MatMul } from './matmul';
import * as Nrm from './normalization';
import * as P from './pool';
import { DequantizeLinear, QuantizeLinear } from './qdq';
import * as R from './reduce';
import { Resize, Upsample } from './resize';
import * as S from './shape';
import type { OpFactory } from './types';
import * as U from './unary';

/** [opType, domain ('' = ai.onnx), sinceVersion, untilVersion (inclusive) or undefined, implementation]. */
export type OpRow = readonly [string, string, number, number | undefined, OpFactory];

export const OP_ROWS: readonly OpRow[] = [
  // Elementwise, one input.
  ['Relu', '', 1, undefined, U.Relu], ['Sigmoid', '', 1, undefined, U.Sigmoid], ['Tanh', '', 1, undefined, U.Tanh],
  ['Erf', '', 9, undefined, U.Erf], ['Exp', '', 1, undefined, U.Exp], ['Log', '', 1, undefined, U.Log],
  ['Sqrt', '', 1, undefined, U.Sqrt], ['Neg', '', 1, undefined, U.Neg], ['Abs', '', 1, undefined, U.Abs],
  ['Reciprocal', '', 1, undefined, U.Reciprocal], ['Floor', '', 1, undefined, U.Floor], ['Ceil', '', 1, undefined, U.Ceil],
  ['Round', '', 11, undefined, U.Round], ['Sign', '', 9, undefined, U.Sign], ['Sin', '', 7, undefined, U.Sin],
  ['Cos', '', 7, undefined, U.Cos], ['Softplus', '', 1, undefined, U.Softplus], ['Softsign', '', 1, undefined, U.Softsign],
  ['Mish', '', 18, undefined, U.Mish], ['Not', '', 1, undefined, U.Not], ['Tan', '', 7, undefined, U.Tan],
  ['Asin', '', 7, undefined, U.Asin], ['Acos', '', 7, undefined, U.Acos], ['Atan', '', 7, undefined, U.Atan],
  ['Sinh', '', 9, undefined, U.Sinh], ['Cosh', '', 9, undefined, U.Cosh],
  ['LeakyRelu', '', 1, undefined, U.LeakyRelu], ['Elu', '', 1, undefined, U.Elu], ['Celu', '', 12, undefined, U.Celu],
  ['ThresholdedRelu', '', 10, undefined, U.ThresholdedRelu], ['Selu', '', 1, undefined, U.Selu],
  ['HardSigmoid', '', 1, undefined, U.HardSigmoid], ['HardSwish', '', 14, undefined, U.HardSwish],
  ['Shrink', '', 9, undefined, U.Shrink], ['Gelu', '', 20, undefined, U.Gelu],
  // Elementwise with broadcasting.
  ['Add', '', 1, undefined, B.Add], ['Sub', '', 1, undefined, B.Sub], ['Mul', '', 1, undefined, B.Mul],
  ['Div', '', 1, undefined, B.Div], ['Pow', '', 1, undefined, B.Pow], ['Mod', '', 10, undefined, B.Mod],
  ['Equal', '', 1, undefined, B.Equal], ['Less', '', 1, undefined, B.Less], ['LessOrEqual', '', 12, undefined, B.LessOrEqual],
  ['Greater', '', 1, undefined, B.Greater], ['GreaterOrEqual', '', 12, undefined, B.GreaterOrEqual],
  ['And', '', 1, undefined, B.And], ['Or', '', 1, undefined, B.Or], ['Xor', '', 1, undefined, B.Xor],
  ['Sum', '', 1, undefined, B.Sum], ['Mean', '', 1, undefined, B.Mean], ['Max', '', 1, undefined, B.Max], ['Min', '', 1, undefined, B.Min],
  ['Where', '', 9, undefined, B.Where], ['PRelu', '', 1, undefined, B.PRelu], ['Clip', '', 1, undefined, B.Clip],
  // Linear algebra and convolution.
  ['Conv', '', 1, undefined, Conv], ['ConvTranspose', '', 1, undefined, ConvTranspose],
  ['Gemm', '', 1, undefined, Gemm], ['MatMul', '', 1, undefined, MatMul],
  // Normalisation and softmax.
  ['BatchNormalization', '', 1, undefined, Nrm.BatchNormalization], ['InstanceNormalization', '', 1, undefined, Nrm.InstanceNormalization],
  ['LayerNormalization', '', 17, undefined, Nrm.LayerNormalization], ['LRN', '', 1, undefined, Nrm.LRN],
  ['GroupNormalization', '', 18, undefined, Nrm.GroupNormalization], ['MeanVarianceNormalization', '', 9, undefined, Nrm.MeanVarianceNormalization],
  ['LpNormalization', '', 1, undefined, Nrm.LpNormalization],
  ['Softmax', '', 1, undefined, Nrm.Softmax], ['LogSoftmax', '', 1, undefined, Nrm.LogSoftmax], ['Hardmax', '', 1, undefined, Nrm.Hardmax],
  // Pooling.
  ['MaxPool', '', 1, undefined, P.MaxPool], ['AveragePool', '', 1, undefined, P.AveragePool],
  ['GlobalAveragePool', '', 1, undefined, P.GlobalAveragePool], ['GlobalMaxPool', '', 1, undefined, P.GlobalMaxPool],
  // Reductions.
  ['ReduceSum', '', 1, undefined, R.ReduceSum], ['ReduceMean', '', 1, undefined, R.ReduceMean], ['ReduceMax', '', 1, undefined, R.ReduceMax],
  ['ReduceMin', '', 1, undefined, R.ReduceMin], ['ReduceProd', '', 1, undefined, R.ReduceProd], ['ReduceL1', '', 1, undefined, R.ReduceL1],
  ['ReduceL2', '', 1, undefined, R.ReduceL2], ['ReduceSumSquare', '', 1, undefined, R.ReduceSumSquare],
  ['ReduceLogSum', '', 1, undefined, R.ReduceLogSum], ['ReduceLogSumExp', '', 1, undefined, R.ReduceLogSumExp],
  ['ArgMax', '', 1, undefined, R.ArgMax], ['ArgMin', '', 1, undefined, R.ArgMin],
  // Shapes and constants.
  ['Reshape', '', 1, undefined, S.Reshape], ['Flatten', '', 1, undefined, S.Flatten], ['Squeeze', '', 1, undefined, S.Squeeze],
  ['Unsqueeze', '', 1, undefined, S.Unsqueeze], ['Shape', '', 1, undefined, S.Shape], ['Size', '', 1, undefined, S.Size],
  ['Expand', '', 8, undefined, S.Expand], ['ConstantOfShape', '', 9, undefined, S.ConstantOfShape], ['Range', '', 11, undefined, S.Range],
  ['Identity', '', 1, undefined, S.Identity], ['Dropout', '', 1, undefined, S.Dropout], ['Constant', '', 1, undefined, S.Constant],
  ['Cast', '', 6, undefined, S.Cast],
  // Data movement.
  ['Transpose', '', 1, undefined, L.Transpose], ['Concat', '', 1, undefined, L.Concat], ['Split', '', 2, undefined, L.Split],
  ['Slice', '', 1, undefined, L.Slice], ['Gather', '', 1, undefined, L.Gather], ['Tile', '', 6, undefined, L.Tile],
  ['Pad', '', 2, undefined, L.Pad], ['DepthToSpace', '', 1, undefined, L.DepthToSpace], ['SpaceToDepth', '', 1, undefined, L.SpaceToDepth],
  ['Resize', '', 10, undefined, Resize], ['Upsample', '', 7, 9, Upsample],
  ['GatherElements', '', 11, undefined, I.GatherElements], ['ScatterElements', '', 11, undefined, I.ScatterElements],
  ['ScatterND', '', 11, undefined, I.ScatterND], ['TopK', '', 10, undefined, I.TopK], ['CumSum', '', 11, undefined, I.CumSum],
  ['Trilu', '', 14, undefined, I.Trilu], ['NonZero', '', 9, undefined, I.NonZero], ['OneHot', '', 9, undefined, I.OneHot],
  ['Einsum', '', 12, undefined, Einsum],
  // Quantize/dequantize (QDQ graphs).
  ['QuantizeLinear', '', 10, undefined, QuantizeLinear], ['DequantizeLinear', '', 10, undefined, DequantizeLinear],
];

/** Ops the engine knowingly does not run, with the reason shown to the user. */
export const UNSUPPORTED_OPS: Readonly<Record<string, string>> = {
  SequenceAt: 'sequence types are not supported', SequenceConstruct: 'sequence types are not supported',
  SequenceEmpty: 'sequence types are not supported', SequenceErase: 'sequence types are not supported',
  SequenceInsert: 'sequence types are not supported', SequenceLength: 'sequence types are not supported',
  SplitToSequence: 'sequence types are not supported', ConcatFromSequence: 'sequence types are not supported',
  StringNormalizer: 'string tensors are not supported', RegexFullMatch: 'string tensors are not supported',
  StringConcat: 'string tensors are not supported', StringSplit: 'string tensors are not supported',
  Gradient: 'training operators are not supported', If: 'control flow is not supported', Loop: 'control flow is not supported',
  Scan: 'control flow is not supported', RandomNormal: 'random operators are not deterministic', RandomUniform: 'random operators are not deterministic',
  RandomNormalLike: 'random operators are not deterministic', RandomUniformLike: 'random operators are not deterministic',
  Multinomial: 'random operators are not deterministic',
};

/** The implementation for a node at its domain's opset, or the engine's unsupported-op error. */
export function resolveOp(node: Node, opset: number): OpFactory {
  const row = OP_ROWS.find(([op, domain, since, until]) =>
    op === node.opType && domain === node.domain && since <= opset && (until === undefined || opset <= until));
  if (row) return row[4];
  const where = `${node.opType} (domain '${node.domain || 'ai.onnx'}', opset ${opset}) in node '${node.name}'`;
  const reason = UNSUPPORTED_OPS[node.opType];
  const known = OP_ROWS.some(([op, domain]) => op === node.opType && domain === node.domain);
  throw new QuantLensError('unsupported-op', `${where} is not supported by the engine${reason ? `: ${reason}` : known ? ' at this opset' : ''}`);
}

/** Every node the engine cannot run at its opset, with the reason (for a "not simulated" badge); empty when all run. */
export function unsupportedNodes(nodes: readonly Node[], opsets: Readonly<Record<string, number>>): { node: string; opType: string; reason: string }[] {
  const out: { node: string; opType: string; reason: string }[] = [];
  for (const n of nodes) {
    const opset = opsets[n.domain];
    try {
      if (opset === undefined) throw new QuantLensError('unsupported-op', `the model imports no opset for domain '${n.domain || 'ai.onnx'}'`);
      resolveOp(n, opset);
    } catch (e) {
      if (!(e instanceof QuantLensError)) throw e;
      out.push({ node: n.name, opType: n.opType, reason: e.message });
    }
  }
  return out;
}

/** Op types the engine runs (for listings and the UI). */
export function supportedOpTypes(): string[] {
  return [...new Set(OP_ROWS.map((r) => r[0]))].sort();
}
