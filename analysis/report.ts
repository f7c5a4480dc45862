// SPDX-License-Identifier: Apache-2.0
/**
 * The one Report type: the CLI's --json, the --html page and every webview read this. Versioned; add fields,
 * never rename (DESIGN.md contract 2). Pure types + a constructor, so the webview may import it type-only.
 */
import type { Dim } from '../engine/ir';

export const REPORT_SCHEMA_VERSION = 1;

export interface TensorStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Excess-free (Pearson) kurtosis: 3 for a normal distribution. */
  kurtosis: number;
  /** Fraction of finite values with |x − mean| > 6σ. */
  beyond6Sigma: number;
  zeroFraction: number;
  /** max channel range / median channel range, over the output-channel axis (1 when per-tensor). */
  channelRangeRatio: number;
  nanCount: number;
  infCount: number;
  /** Values below the smallest normal float32 (denormals), counted separately. */
  denormalCount?: number;
  /** max |x| / median |x| (outlier metric). */
  maxOverMedian?: number;
  /** Fraction with |x| ≥ 6 (the LLM.int8 threshold). */
  absBeyond6?: number;
  outlierChannels?: number[];
}

export interface Histogram {
  /** Bin edges: `bins.length + 1` values. */
  edges: number[];
  counts: number[];
}

export interface Tag {
  /** 'power-law' | 'heavy-tailed' | 'bimodal' | 'inter-channel-variance' | 'near-constant' | 'non-finite' | … */
  id: string;
  reason: string;
  /** Suggested format id or technique. */
  suggestion?: string;
}

export interface ScoreWithError {
  value: number;
  /** Standard error of the estimate, when it is a stochastic estimate. */
  stdError?: number;
}

export interface Sensitivity {
  /** Format id → output change (KL for classifiers, else MSE) with that layer alone quantized. */
  perturbation?: Record<string, ScoreWithError>;
  /** Format id → Ω = Tr(H)/n · ‖Q(W) − W‖² (HAWQ-V2). */
  hessianTrace?: Record<string, ScoreWithError>;
  /** Raw trace estimate with its standard error. */
  trace?: ScoreWithError;
  /** Format id → tr(ΔW H ΔWᵀ) with H = XᵀX from calibration inputs. */
  layerHessian?: Record<string, ScoreWithError>;
  /** Format id → output change with only this layer's input activation quantized (same metric as perturbation). */
  activationPerturbation?: Record<string, ScoreWithError>;
  /** What perturbation values measure: per-sample KL for classifier outputs, MSE otherwise. */
  perturbationMetric?: 'kl' | 'mse';
  /** Format id → top-1 agreement with FP32 (weights quantized); null when the output is not logits. */
  top1Agreement?: Record<string, number | null>;
  /** Format id → SQNR (dB) of the model output with this layer's weights quantized. */
  outputSqnrDb?: Record<string, number>;
  /** Hutchinson probes used for `trace`. */
  traceProbes?: number;
  /** Method → why it was not computed for this layer. */
  notApplicable?: Record<string, string>;
}

export interface LayerReport {
  name: string;
  op: string;
  inputShapes: Dim[][];
  outputShapes: Dim[][];
  weightShape?: number[];
  params: number;
  macs: number;
  weightStats?: TensorStats;
  activationStats?: TensorStats;
  weightHistogram?: Histogram;
  activationHistogram?: Histogram;
  tags: Tag[];
  sensitivity?: Sensitivity;
  /** Current format from the config, when one is loaded. */
  format?: { weights?: string; activations?: string };
}

export interface QuantizationResult {
  layer: string;
  format: string;
  granularity: string;
  calibration: string;
  mse: number;
  sqnrDb: number;
  cosine: number;
  maxAbsError: number;
  clipFraction: number;
  bitsPerElement?: number;
  /** Representable values after scaling (per-tensor or first channel), for overlays. */
  grid?: number[];
  clipRange?: [number, number];
  histogram?: Histogram;
  activation?: Omit<QuantizationResult, 'layer' | 'activation' | 'accuracyDelta'>;
  accuracyDelta?: { metric: string; fp32: number; quantized: number; delta: number };
}

export interface EvalLayer {
  name: string;
  op: string;
  sqnrDb: number;
  kernel: string;
  latencyMs: number;
}

/** Top-1 accuracy of both graphs against the labels, and whether their difference is more than borderline flips. */
export interface EvalAccuracy {
  fp32: number;
  quantized: number;
  delta: number;
  /** Labelled samples. */
  samples?: number;
  /** Indices of the samples each graph gets wrong (in eval order), so two reports can be compared sample by sample. */
  fp32Misses?: number[];
  quantizedMisses?: number[];
  /** Paired (McNemar) test: samples FP32 gets right and the quantized graph wrong (lost), the reverse (gained). */
  paired?: { lost: number; gained: number; pValue: number };
}

export interface EvalReport {
  parity: { maxAbsDiff: number; maxRelDiff: number };
  /** null when it does not apply (outputs are not logits); `notApplicable` says why. */
  top1Agreement: number | null;
  kl: number | null;
  sqnrDb: number;
  cosine?: number;
  accuracy?: EvalAccuracy;
  notApplicable?: Record<string, string>;
  layers: EvalLayer[];
  latencyMs?: { fp32: number; quantized: number };
  /** Samples compared. */
  samples?: number;
  /** Every model output's comparison (the top-level figures are the first output's). */
  outputs?: { name: string; sqnrDb: number; cosine: number; maxAbsDiff: number; maxRelDiff: number; top1Agreement: number | null; kl: number | null; notApplicable?: string }[];
  /** Weight storage of the quantized layers under the config (codes + scales + metadata). */
  weights?: { avgBits: number; sizeMB: number; fp32SizeMB: number };
}

export interface ModelSummary {
  path: string;
  sha256: string;
  producer: string;
  irVersion: number;
  opsets: Record<string, number>;
  params: number;
  macs: number;
  sizeBytes: number;
  inputs: { name: string; dtype: string; shape: Dim[] }[];
  outputs: { name: string; dtype: string; shape: Dim[] }[];
  nodeCount: number;
  metadata?: Record<string, string>;
}

export interface Report {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  tool: { name: 'quantlens'; version: string };
  command: string;
  createdAt: string;
  model: ModelSummary;
  layers: LayerReport[];
  warnings: string[];
  quantization?: QuantizationResult;
  eval?: EvalReport;
  /** Spearman rank agreement between sensitivity methods, keyed 'perturbation~hessianTrace' etc. */
  agreement?: Record<string, number>;
  allocation?: unknown;
  /** Stage name → milliseconds. */
  timings: Record<string, number>;
  /** How `analyze` ran: data, formats, output kind and the sample counts behind each method. */
  analysis?: AnalysisSummary;
}

export interface AnalysisSummary {
  /** Where the calibration data came from. */
  calibration: string;
  samples: number;
  formats: string[];
  /** 'logits' / 'probabilities' → KL and top-1 apply; 'other' → MSE/SQNR only. */
  outputKind: 'logits' | 'probabilities' | 'other';
  output: string;
  /** Metric → why it does not apply to this model. */
  notApplicable?: Record<string, string>;
  /** Where the downstream forward passes of perturbation and Hessian trace ran. */
  backend?: 'engine' | 'onnxruntime';
  methods: {
    perturbation?: { samples: number };
    hessianTrace?: { samples: number; targetRelError: number; maxProbes: number };
    layerHessian?: { maxRows: number };
  };
  /** Milliseconds inside onnxruntime, inside the engine, and in QuantLens's own code. */
  timeShares?: { onnxruntimeMs: number; engineMs: number; oursMs: number };
}
