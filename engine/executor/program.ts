// SPDX-License-Identifier: Apache-2.0
/** The compiled program and the run options/results: the types of the engine's public API. */
import type { Dim, DType, Graph, Node, Tensor } from '../ir';
import type { NodeRunner, QuantizedNode, QuantizedNodeFactory } from '../kernel-api';
import type { Arena } from '../ops/arena';
import type { KernelPath } from '../quant-types';
import type { FusedChain } from './fuse';

export interface CompileOptions {
  /** domain → opset; required when compiling a bare Graph (a Model carries its own). */
  opsets?: Record<string, number>;
  /** Replaces the quantized-kernel factory of engine/quantized (tests, or to force the fake-quant path). */
  quantizedFactory?: QuantizedNodeFactory;
  /** Fold weight-only subgraphs at compile time (default true). */
  foldConstants?: boolean;
  /** Fuse Conv/Gemm → BatchNormalization → activation chains into one pass (default true). */
  fuse?: boolean;
}

/** One scheduled node. */
export interface CompiledNode {
  node: Node;
  run: NodeRunner;
  path: KernelPath;
  /** Packed weight bytes held by a quantized kernel (0 for FP32). */
  packedBytes: number;
  /** Constant inputs the node captured at compile time (a weight override of these needs a recompile). */
  captured: Set<string>;
  /** The quantized kernel's own fused epilogue, when it has one (see QuantizedNode.fuseEpilogue). */
  fuseEpilogue?: QuantizedNode['fuseEpilogue'];
}

/** A node evaluated at compile time because all its inputs are constants; re-run when a weight override reaches it. */
export interface FoldedNode {
  node: Node;
  run: NodeRunner;
}

/** What the program knows about one value (tensor name). */
export interface ValueSummary {
  name: string;
  kind: 'input' | 'constant' | 'intermediate';
  dtype?: DType;
  shape?: Dim[];
  /** The node producing it (intermediates and folded constants). */
  producer?: string;
}

export interface Program {
  graph: Graph;
  opsets: Record<string, number>;
  inputNames: string[];
  outputNames: string[];
  /** Declared output shapes (symbolic dims stay strings, unknown dims null). */
  outputShapes: Record<string, Dim[] | undefined>;
  /** Every value that exists in the program: inputs, constants, intermediates. */
  values: ValueSummary[];
  /** The schedule, without folded nodes. */
  nodes: CompiledNode[];
  /** Initializers plus folded values. */
  constants: Map<string, Tensor>;
  folded: FoldedNode[];
  /** value name → index in `nodes` of its producer. */
  producers: Map<string, number>;
  /** Execution plans cached by (fed names, wanted names). */
  plans: Map<string, Plan>;
  /** Recycles released activation buffers across nodes and runs. */
  arena: Arena;
  /** Fused chains by the index in `nodes` of their Conv/Gemm head (absent or empty: no fusion). */
  fusions?: Map<number, FusedChain>;
}

/** Which nodes to run for one set of feeds and wanted values, and when each value can be released. */
export interface Plan {
  order: number[];
  /** For each step, the values whose last reader it is. */
  release: string[][];
  /** Fused chains whose head and members are all in `order`, with the members' steps (run.ts drops overridden ones). */
  chains?: { step: number; memberSteps: number[]; chain: FusedChain }[];
}

export interface RunOptions {
  /** Intermediate (or any) values to return besides the outputs. */
  taps?: string[];
  /** Record per-node wall time and the kernel path that ran. */
  timings?: boolean;
  /** Replace initializers (or folded constants) for this run only; same dims as the original. */
  weightOverrides?: Record<string, Tensor>;
  /** Return only these outputs (default: all graph outputs). */
  outputs?: string[];
  /** Cancels an async run between nodes (QuantLensError 'cancelled'). */
  signal?: AbortSignal;
}

export interface NodeTiming {
  node: string;
  op: string;
  ms: number;
  path: KernelPath;
  /** Set on a node folded into a fused chain: the head node whose time includes it (this entry has ms 0). */
  fusedInto?: string;
}

export interface RunResult {
  outputs: Record<string, Tensor>;
  taps?: Record<string, Tensor>;
  timings?: NodeTiming[];
}
