// SPDX-License-Identifier: Apache-2.0
/**
 * The one host ↔ webview message protocol (DESIGN.md contract 5). Both sides import this file: the host for the
 * types, the validators and the RPC helper; every webview bundle for the same. Messages are string-typed
 * discriminated unions; every message that crosses the boundary is checked at run time by `parseToWebview` /
 * `parseFromWebview`, which reject unknown types and unknown fields. The webview posts `ready` before the host
 * sends anything; every `request` gets exactly one `response` or `errorReply`.
 */
import type { EvalReport, Histogram, LayerReport, QuantizationResult, Report, Sensitivity } from '../analysis/report';

/** The webview bundles (dist/webview/<name>.js). */
export const VIEW_NAMES = ['modelEditor', 'quantizeLayer', 'histogram', 'allocation', 'accuracy'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

/** Whether the host may execute the model; when not, `reason` says why (shown in every view). */
export interface TrustInfo { canExecute: boolean; reason?: string }

/** A quantization format as the pickers show it (from analysis/quant/formats.ts, mapped by the host). */
export interface FormatChoice { id: string; label: string; bits: number; family: string; hasKernel: boolean }

// ---------- view payloads (what `init` and later `update` messages carry) ----------

/** The model editor: the loaded model's report (statistics added as analysis lands). */
export interface ModelEditorData { view: 'modelEditor'; report: Report; configPath?: string; analysed: boolean }

/** The "Quantize Layer…" panel for one layer and one choice of format. */
export interface QuantizeLayerData {
  view: 'quantizeLayer';
  modelPath: string;
  layer: string;
  op: string;
  result: QuantizationResult;
  /** Weight histogram of the layer (FP32), with the result's grid and clip range overlaid. */
  histogram: Histogram;
  /** The config file the override was recorded in, when one was written. */
  configPath?: string;
  pending: boolean;
}

/** One calibration method's clip range for an activation. */
export interface ClipRange { method: string; min: number; max: number }

/** One format's grid on an activation, with its error. */
export interface FormatGrid { format: string; grid: number[]; clipRange: [number, number]; mse: number; sqnrDb: number }

/** The activation histogram panel for one layer's output. */
export interface HistogramData {
  view: 'histogram';
  modelPath: string;
  layers: string[];
  layer: string | null;
  follow: boolean;
  formats: FormatChoice[];
  /** Formats currently overlaid (at most three). */
  selectedFormats: string[];
  activation?: {
    layer: string;
    op: string;
    histogram: Histogram;
    channelRanges: { channel: number; min: number; max: number }[];
    outlierChannels: number[];
    clipRanges: ClipRange[];
    grids: FormatGrid[];
    samples: number;
  };
}

/** One row of the suggested allocation. */
export interface AllocationRow {
  layer: string;
  op: string;
  format: string | null;
  bits: number;
  /** Predicted output change of this layer alone at its format (perturbation sensitivity). */
  predictedDelta: number;
  /** Measured SQNR (dB) of this layer's output on the engine with the whole allocation applied. */
  measuredSqnrDb?: number;
}

/** One point of the Pareto frontier. */
export interface ParetoPoint { cost: number; loss: number; measuredDelta?: number; label: string; chosen?: boolean }

export type BudgetKindName = 'avg-bits' | 'size-mb' | 'bops' | 'latency-ms';

/** Sensitivity & allocation view. */
export interface AllocationData {
  view: 'allocation';
  modelPath: string;
  sensitivity: { layer: string; op: string; sensitivity: Sensitivity }[];
  agreement: Record<string, number>;
  budget: { kind: BudgetKindName; value: number };
  budgetLimits: Record<BudgetKindName, { min: number; max: number; step: number }>;
  pareto: ParetoPoint[];
  rows: AllocationRow[];
  predicted?: { avgWeightBits?: number; sizeMB?: number; bops?: number; latencyMs?: number; loss?: number };
  measured?: { metric: string; fp32: number; quantized: number; delta: number };
  configPath?: string;
  exportPath?: string;
  warnings?: string[];
}

/** Accuracy delta view: FP32 vs quantized, per-layer error propagation. */
export interface AccuracyData { view: 'accuracy'; modelPath: string; configLabel: string; eval: EvalReport }

export type ViewData = ModelEditorData | QuantizeLayerData | HistogramData | AllocationData | AccuracyData;

// ---------- RPC methods the webview may call ----------

/** Method name → params and result. The host implements every one; params are validated by `RPC_PARAMS`. */
export interface RpcMethods {
  /** Run analysis (activation stats + sensitivity) for the editor's model; resolves with the updated report. */
  analyze: { params: Record<string, never>; result: Report };
  /** Open the Quantize Layer flow (quick picks on the host) for a layer. */
  quantizeLayer: { params: { layer: string; format?: string; granularity?: string; calibration?: string }; result: { opened: boolean } };
  /** Activation histogram of a layer's output with up to three format grids. */
  activationHistogram: { params: { layer: string; formats: string[] }; result: NonNullable<HistogramData['activation']> };
  /** Re-run the allocation with a new budget. */
  allocate: { params: { kind: BudgetKindName; value: number }; result: AllocationData };
  /** Write the suggested allocation to `<model>.quant.json` and open it. */
  applyAllocation: { params: Record<string, never>; result: { configPath: string } };
  /** Export a QDQ model next to the source; asks before overwriting. */
  exportQdq: { params: Record<string, never>; result: { path: string } | { cancelled: true } };
  /** Open a panel for a layer (the histogram panel, the accuracy view, the allocation view). */
  openPanel: { params: { panel: 'histogram' | 'allocation' | 'accuracy'; layer?: string }; result: { opened: boolean } };
}
export type RpcMethod = keyof RpcMethods;

// ---------- messages ----------

/** Host → webview. */
export type ToWebview =
  | { type: 'init'; trust: TrustInfo; data: ViewData; theme?: 'light' | 'dark' | 'high-contrast' }
  | { type: 'update'; data: ViewData }
  | { type: 'selection'; layer: string | null }
  | { type: 'busy'; label: string | null }
  | { type: 'response'; inReplyTo: number; result: unknown }
  | { type: 'errorReply'; inReplyTo: number; error: { kind: string; message: string } }
  | { type: 'progress'; inReplyTo: number; fraction: number; message: string };

/** Webview → host. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'request'; id: number; method: RpcMethod; params: unknown }
  | { type: 'cancel'; id: number }
  | { type: 'selectLayer'; layer: string | null }
  | { type: 'log'; level: 'info' | 'error'; message: string };

// ---------- runtime validation ----------

/** Why a message was refused (the host logs it; nothing else happens). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

type Check = (v: unknown) => boolean;
const isStr: Check = (v) => typeof v === 'string';
const isShortStr = (max: number): Check => (v) => typeof v === 'string' && v.length <= max;
const isInt: Check = (v) => Number.isSafeInteger(v);
const isNum: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrOrNull: Check = (v) => v === null || (typeof v === 'string' && v.length <= 4096);
const oneOf = (...xs: readonly unknown[]): Check => (v) => xs.includes(v);
const isViewData: Check = (v) => isObj(v) && (VIEW_NAMES as readonly unknown[]).includes(v.view);
const optional = (c: Check): Check & { optional: true } => Object.assign((v: unknown) => v === undefined || c(v), { optional: true as const });

type Shape = Record<string, Check>;

/** Checks `v` has exactly the fields of `shape` (optional ones may be absent) and nothing else. */
function matches(v: Record<string, unknown>, shape: Shape): string | undefined {
  for (const k of Object.keys(v)) if (!(k in shape)) return `unknown field '${k}'`;
  for (const [k, check] of Object.entries(shape)) {
    if (!(k in v) && !('optional' in check)) return `missing field '${k}'`;
    if (!check(v[k])) return `bad value for '${k}'`;
  }
  return undefined;
}

const TO_WEBVIEW: Record<ToWebview['type'], Shape> = {
  init: { type: isStr, trust: (v) => isObj(v) && typeof v.canExecute === 'boolean', data: isViewData, theme: optional(oneOf('light', 'dark', 'high-contrast')) },
  update: { type: isStr, data: isViewData },
  selection: { type: isStr, layer: isStrOrNull },
  busy: { type: isStr, label: isStrOrNull },
  response: { type: isStr, inReplyTo: isInt, result: () => true },
  errorReply: { type: isStr, inReplyTo: isInt, error: (v) => isObj(v) && isStr(v.kind) && isStr(v.message) },
  progress: { type: isStr, inReplyTo: isInt, fraction: isNum, message: isStr },
};

const RPC_METHOD_NAMES: readonly RpcMethod[] = ['analyze', 'quantizeLayer', 'activationHistogram', 'allocate', 'applyAllocation', 'exportQdq', 'openPanel'];

const FROM_WEBVIEW: Record<FromWebview['type'], Shape> = {
  ready: { type: isStr },
  request: { type: isStr, id: isInt, method: oneOf(...RPC_METHOD_NAMES), params: isObj },
  cancel: { type: isStr, id: isInt },
  selectLayer: { type: isStr, layer: isStrOrNull },
  log: { type: isStr, level: oneOf('info', 'error'), message: isShortStr(10_000) },
};

const layerName = isShortStr(4096);
const formatId = isShortStr(64);
const noParams: Shape = {};

/** Params of each RPC method; a request whose params do not match is answered with an error reply. */
export const RPC_PARAMS: Record<RpcMethod, Shape> = {
  analyze: noParams,
  quantizeLayer: { layer: layerName, format: optional(formatId), granularity: optional(isShortStr(32)), calibration: optional(isShortStr(32)) },
  activationHistogram: { layer: layerName, formats: (v) => Array.isArray(v) && v.length <= 3 && v.every(formatId) },
  allocate: { kind: oneOf('avg-bits', 'size-mb', 'bops', 'latency-ms'), value: (v) => isNum(v) && (v as number) > 0 },
  applyAllocation: noParams,
  exportQdq: noParams,
  openPanel: { panel: oneOf('histogram', 'allocation', 'accuracy'), layer: optional(layerName) },
};

function parseWith<T extends { type: string }>(raw: unknown, table: Record<string, Shape>, side: string): T {
  if (!isObj(raw) || typeof raw.type !== 'string') throw new ProtocolError(`${side}: message is not an object with a string 'type'`);
  const shape = Object.prototype.hasOwnProperty.call(table, raw.type) ? table[raw.type] : undefined;
  if (!shape) throw new ProtocolError(`${side}: unknown message type '${raw.type.slice(0, 64)}'`);
  const problem = matches(raw, shape);
  if (problem) throw new ProtocolError(`${side}: '${raw.type}' message has ${problem}`);
  return raw as T;
}

/** Validate a message the host received from a webview. Throws ProtocolError. */
export function parseFromWebview(raw: unknown): FromWebview {
  const msg = parseWith<FromWebview>(raw, FROM_WEBVIEW, 'from webview');
  if (msg.type === 'request') {
    const problem = matches(msg.params as Record<string, unknown>, RPC_PARAMS[msg.method]);
    if (problem) throw new ProtocolError(`from webview: params of '${msg.method}' have ${problem}`);
  }
  return msg;
}

/** Validate a message a webview received from the host. Throws ProtocolError. */
export function parseToWebview(raw: unknown): ToWebview {
  return parseWith<ToWebview>(raw, TO_WEBVIEW, 'to webview');
}

// ---------- panel state kept across a window reload ----------

/** The side panels (every view but the model editor, which VS Code restores as a custom editor). */
export const PANEL_VIEWS = ['quantizeLayer', 'histogram', 'allocation', 'accuracy'] as const;
export type PanelViewName = (typeof PANEL_VIEWS)[number];

/** The webview-state key a panel keeps its `PanelRestoreState` under. */
export const RESTORE_STATE_KEY = 'restore';

/**
 * What a panel keeps in its webview state so VS Code can bring it back after a window reload: which model and
 * which layer or budget, never the data (the host recomputes that when it restores the panel).
 */
export type PanelRestoreState =
  | { view: 'quantizeLayer'; modelPath: string; layer: string; format: string }
  | { view: 'histogram'; modelPath: string; layer: string | null }
  | { view: 'allocation'; modelPath: string; budget: { kind: BudgetKindName; value: number } }
  | { view: 'accuracy'; modelPath: string };

const isPath = isShortStr(4096);
const RESTORE_STATE: Record<PanelViewName, Shape> = {
  quantizeLayer: { view: isStr, modelPath: isPath, layer: isShortStr(4096), format: isShortStr(64) },
  histogram: { view: isStr, modelPath: isPath, layer: isStrOrNull },
  allocation: { view: isStr, modelPath: isPath, budget: (v) => isObj(v) && matches(v, RPC_PARAMS.allocate) === undefined },
  accuracy: { view: isStr, modelPath: isPath },
};

/**
 * The restore state of a `view` panel from the webview state VS Code hands back after a reload (it comes from the
 * webview, so it is checked like a message). Throws ProtocolError when it is missing or malformed.
 */
export function parsePanelRestoreState(view: PanelViewName, webviewState: unknown): PanelRestoreState {
  const raw = isObj(webviewState) ? webviewState[RESTORE_STATE_KEY] : undefined;
  if (!isObj(raw)) throw new ProtocolError(`${view} panel: no restore state`);
  if (raw.view !== view) throw new ProtocolError(`${view} panel: restore state is for '${String(raw.view).slice(0, 64)}'`);
  const problem = matches(raw, RESTORE_STATE[view]);
  if (problem) throw new ProtocolError(`${view} panel: restore state has ${problem}`);
  return raw as PanelRestoreState;
}

// ---------- the one RPC helper ----------

/** Raised in the webview when a request is answered with an error reply. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(readonly kind: string, message: string) { super(message); }
}

/** What a host-side handler gets besides its params. */
export interface RpcContext {
  /** Aborted when the webview sends `cancel` for this request, or the panel closes. */
  signal: AbortSignal;
  progress(fraction: number, message: string): void;
}

export type RpcHandlers = { [M in RpcMethod]?: (params: RpcMethods[M]['params'], ctx: RpcContext) => Promise<RpcMethods[M]['result']> };

/**
 * Request/reply correlation for both ends of a webview. The webview side calls `request()`; the host side
 * calls `serve()` for each validated `request` and `cancel`. Each request id gets exactly one reply.
 */
export class RpcChannel {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; onProgress?: (f: number, m: string) => void }>();
  private readonly running = new Map<number, AbortController>();

  constructor(private readonly post: (msg: ToWebview | FromWebview) => void) {}

  /** Webview side: call a host method. Aborting `signal` sends `cancel` and rejects with kind 'cancelled'. */
  request<M extends RpcMethod>(method: M, params: RpcMethods[M]['params'], opts: { signal?: AbortSignal; onProgress?: (f: number, m: string) => void } = {}): Promise<RpcMethods[M]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) { reject(new RpcError('cancelled', 'cancelled')); return; }
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: opts.onProgress });
      opts.signal?.addEventListener('abort', () => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        this.post({ type: 'cancel', id });
        reject(new RpcError('cancelled', 'cancelled'));
      }, { once: true });
      this.post({ type: 'request', id, method, params });
    });
  }

  /** Webview side: route a reply; returns false when the message is not a reply. */
  handleReply(msg: ToWebview): boolean {
    if (msg.type !== 'response' && msg.type !== 'errorReply' && msg.type !== 'progress') return false;
    const p = this.pending.get(msg.inReplyTo);
    if (!p) return true; // late reply to a cancelled request
    if (msg.type === 'progress') { p.onProgress?.(msg.fraction, msg.message); return true; }
    this.pending.delete(msg.inReplyTo);
    if (msg.type === 'response') p.resolve(msg.result);
    else p.reject(new RpcError(msg.error.kind, msg.error.message));
    return true;
  }

  /** Host side: run a validated request or cancel against `handlers`, posting the reply. */
  async serve(msg: Extract<FromWebview, { type: 'request' | 'cancel' }>, handlers: RpcHandlers): Promise<void> {
    if (msg.type === 'cancel') { this.running.get(msg.id)?.abort(); return; }
    const handler = handlers[msg.method] as ((p: unknown, c: RpcContext) => Promise<unknown>) | undefined;
    if (!handler) { this.post({ type: 'errorReply', inReplyTo: msg.id, error: { kind: 'usage', message: `this view cannot '${msg.method}'` } }); return; }
    const ac = new AbortController();
    this.running.set(msg.id, ac);
    try {
      const result = await handler(msg.params, { signal: ac.signal, progress: (fraction, message) => this.post({ type: 'progress', inReplyTo: msg.id, fraction, message }) });
      this.post({ type: 'response', inReplyTo: msg.id, result });
    } catch (e) {
      const kind = ac.signal.aborted ? 'cancelled' : typeof (e as { kind?: unknown })?.kind === 'string' ? (e as { kind: string }).kind : 'internal';
      this.post({ type: 'errorReply', inReplyTo: msg.id, error: { kind, message: e instanceof Error ? e.message : String(e) } });
    } finally {
      this.running.delete(msg.id);
    }
  }

  /** Host side: abort every running request (the panel closed). Webview side: reject every pending one. */
  dispose(): void {
    for (const ac of this.running.values()) ac.abort();
    this.running.clear();
    for (const p of this.pending.values()) p.reject(new RpcError('cancelled', 'the view was closed'));
    this.pending.clear();
  }
}

export type { LayerReport, Report };
