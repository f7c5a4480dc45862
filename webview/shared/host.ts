// SPDX-License-Identifier: Apache-2.0
/**
 * The webview end of the protocol: one transport (VS Code's webview API, or a test's stand-in for it),
 * validation of every incoming message, typed handler registration, the RPC channel, and persisted view state.
 */
import { parseToWebview, RpcChannel, type FromWebview, type ToWebview } from '../protocol';

/** The slice of `acquireVsCodeApi()` a view uses; tests install a fake with the same shape. */
export interface WebviewTransport {
  postMessage(msg: FromWebview): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): WebviewTransport;

type Handler<T extends ToWebview['type']> = (msg: Extract<ToWebview, { type: T }>) => void;

/** One per page: owns the transport and dispatches validated host messages. */
export class WebviewHost {
  readonly rpc: RpcChannel;
  private readonly handlers = new Map<string, Set<(m: ToWebview) => void>>();

  constructor(private readonly transport: WebviewTransport, target: Pick<Window, 'addEventListener'> = window) {
    this.rpc = new RpcChannel((m) => transport.postMessage(m as FromWebview));
    target.addEventListener('message', (e) => this.receive((e as MessageEvent).data));
  }

  /** Register a handler for one message type; returns an unsubscribe function. */
  on<T extends ToWebview['type']>(type: T, fn: Handler<T>): () => void {
    const set = this.handlers.get(type) ?? new Set();
    set.add(fn as (m: ToWebview) => void);
    this.handlers.set(type, set);
    return () => set.delete(fn as (m: ToWebview) => void);
  }

  post(msg: FromWebview): void { this.transport.postMessage(msg); }

  /** Tell the host we can receive (the handshake). Call after handlers are registered. */
  ready(): void { this.post({ type: 'ready' }); }

  getState<T>(key: string, fallback: T): T {
    const s = this.transport.getState();
    return s && typeof s === 'object' && key in s ? ((s as Record<string, unknown>)[key] as T) : fallback;
  }

  setState(key: string, value: unknown): void {
    const s = this.transport.getState();
    this.transport.setState({ ...(s && typeof s === 'object' ? s : {}), [key]: value });
  }

  private receive(raw: unknown): void {
    let msg: ToWebview;
    try { msg = parseToWebview(raw); } catch (e) {
      this.post({ type: 'log', level: 'error', message: String((e as Error).message) });
      return;
    }
    if (this.rpc.handleReply(msg)) return;
    for (const fn of this.handlers.get(msg.type) ?? []) fn(msg);
  }
}

let singleton: WebviewHost | undefined;

/** The page's host connection (created on first use). */
export function getHost(): WebviewHost {
  singleton ??= new WebviewHost(acquireVsCodeApi());
  return singleton;
}
