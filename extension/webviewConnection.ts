// SPDX-License-Identifier: Apache-2.0
/**
 * The host end of one webview: validates every incoming message against webview/protocol.ts (anything else is
 * logged and dropped), holds outgoing messages until the webview's `ready`, serves RPC requests with
 * cancellation, and disposes everything with the webview.
 */
import * as vscode from 'vscode';
import { parseFromWebview, ProtocolError, RpcChannel, type RpcHandlers, type ToWebview, type ViewData } from '../webview/protocol';
import { Disposable } from './dispose';
import { log } from './log';
import { trustInfo } from './trust';

export class WebviewConnection extends Disposable {
  private readonly rpc: RpcChannel;
  private ready = false;
  private readonly queue: ToWebview[] = [];
  private current: ViewData | undefined;

  private readonly _onDidSelectLayer = this._register(new vscode.EventEmitter<string | null>());
  /** The user selected a layer in this webview. */
  public readonly onDidSelectLayer = this._onDidSelectLayer.event;

  constructor(private readonly webview: vscode.Webview, private readonly handlers: RpcHandlers, private readonly label: string) {
    super();
    this.rpc = new RpcChannel((m) => this.post(m as ToWebview));
    this._register(webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)));
    this._register({ dispose: () => this.rpc.dispose() });
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => { if (this.current) this.init(this.current); }));
  }

  /** Send the view's data: as `init` (with trust) the first time and after a reload, else as `update`. */
  setData(data: ViewData): void {
    const first = this.current === undefined;
    this.current = data;
    if (first) this.init(data);
    else this.post({ type: 'update', data });
  }

  /** Tell the webview which layer is selected elsewhere (tree view, another panel). */
  select(layer: string | null): void { this.post({ type: 'selection', layer }); }

  busy(label: string | null): void { this.post({ type: 'busy', label }); }

  private init(data: ViewData): void {
    this.post({ type: 'init', trust: trustInfo(), data });
  }

  private post(msg: ToWebview): void {
    if (this.isDisposed) return;
    if (!this.ready) { this.queue.push(msg); return; }
    void this.webview.postMessage(msg);
  }

  private receive(raw: unknown): void {
    let msg;
    try { msg = parseFromWebview(raw); } catch (e) {
      if (e instanceof ProtocolError) { log().warn(`${this.label}: refused a webview message: ${e.message}`); return; }
      throw e;
    }
    switch (msg.type) {
      case 'ready': {
        // a (re)loaded webview starts from scratch: send the current data as init, then anything queued
        this.ready = true;
        const queued = this.queue.splice(0).filter((m) => m.type !== 'init' && m.type !== 'update');
        if (this.current) this.init(this.current);
        for (const m of queued) this.post(m);
        return;
      }
      case 'request': case 'cancel': void this.rpc.serve(msg, this.handlers); return;
      case 'selectLayer': this._onDidSelectLayer.fire(msg.layer); return;
      case 'log': (msg.level === 'error' ? log().error : log().info).call(log(), `${this.label} webview: ${msg.message}`); return;
      default: msg satisfies never;
    }
  }
}
