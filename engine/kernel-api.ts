// SPDX-License-Identifier: Apache-2.0
/**
 * The seam between the graph executor (engine/executor) and the quantized kernels (engine/quantized):
 * for a node listed in the quantization config, the executor asks `createQuantizedNode` for a runner;
 * null means "no integer/LUT/decode-table kernel for this combination" and the executor falls back to
 * fake-quant (dequantize → FP32 op), reporting that path.
 */
import type { Node, Tensor } from './ir';
import type { KernelPath, LayerQuantConfig } from './quant-types';

/** Runs one node: inputs in node-input order (undefined for omitted optionals), outputs in node-output order. */
export type NodeRunner = (inputs: (Tensor | undefined)[]) => Tensor[];

/** An activation a kernel epilogue can apply: clamp covers ReLU (lo 0) and Clip. */
export type EpilogueActivation =
  | { kind: 'clamp'; lo: number; hi: number } | { kind: 'hardswish' }
  | { kind: 'hardsigmoid'; alpha: number; beta: number } | { kind: 'leaky'; alpha: number };

/** A per-output-channel affine (a folded BatchNormalization) and an activation on a node's FP32 output. */
export interface OutputEpilogue {
  affine?: { k: ArrayLike<number>; b: ArrayLike<number> };
  activation?: EpilogueActivation;
}

export interface QuantizedNode {
  run: NodeRunner;
  path: KernelPath;
  /** Packed weight bytes actually held by the kernel (for size reports). */
  packedBytes: number;
  /**
   * A runner that applies `e` inside the kernel's own epilogue (no extra pass over the output), or null when this
   * node cannot (the executor then applies it in a separate pass). Called at compile time.
   */
  fuseEpilogue?: (e: OutputEpilogue) => NodeRunner | null;
}

export interface QuantizedNodeRequest {
  node: Node;
  config: LayerQuantConfig;
  /** Constant inputs (weights, bias) by input index; undefined for runtime inputs. */
  constants: (Tensor | undefined)[];
  /** Opset version of the node's domain. */
  opset: number;
  /** Concrete input shapes when shape inference knows them. */
  inputShapes?: (number[] | undefined)[];
}

export type QuantizedNodeFactory = (req: QuantizedNodeRequest) => QuantizedNode | null;
