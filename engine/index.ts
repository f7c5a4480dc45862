// SPDX-License-Identifier: Apache-2.0
/**
 * The engine's public API: compile a graph (under an optional quantization config) into a program, then run it.
 *
 *   const program = compile(model, config);
 *   const { outputs, taps, timings } = await run(program, { input: tensor }, { taps: ['conv1_out'], timings: true });
 *
 * Feeds may also name intermediate values (only downstream nodes run) and `weightOverrides` swaps initializers
 * for one run without recompiling.
 */
export { compile } from './executor/compile';
export { run, runSync } from './executor/run';
export type {
  CompileOptions, CompiledNode, NodeTiming, Program, RunOptions, RunResult, ValueSummary,
} from './executor/program';
export { OP_ROWS, UNSUPPORTED_OPS, supportedOpTypes, unsupportedNodes } from './ops/registry';
export { dequantizeWeight, fakeQuantize, quantizeValues, dequantizeCodes } from './fakeQuant';
export type { EngineQuantConfig, KernelPath, LayerQuantConfig, QuantizedWeight, ActivationQuant } from './quant-types';
