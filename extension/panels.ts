// SPDX-License-Identifier: Apache-2.0
/**
 * The side panels (Quantize Layer, activation histogram, allocation, accuracy): one panel per view and model,
 * reused when asked again, each a webview with the shared HTML/CSP and a WebviewConnection.
 */
import * as vscode from 'vscode';
import type { RpcHandlers, ViewData, ViewName } from '../webview/protocol';
import { Disposable } from './dispose';
import type { OnnxModelDocument } from './modelDocument';
import { buildWebviewHtml, webviewOptions } from './webviewHtml';
import { WebviewConnection } from './webviewConnection';

const TITLES: Record<Exclude<ViewName, 'modelEditor'>, string> = {
  quantizeLayer: 'Quantize Layer', histogram: 'Activation Histogram', allocation: 'Sensitivity & Allocation', accuracy: 'Accuracy Delta',
};

/** One open panel. */
export class Panel extends Disposable {
  readonly connection: WebviewConnection;
  private readonly _onDidDispose = this._register(new vscode.EventEmitter<void>());
  public readonly onDidDispose = this._onDidDispose.event;

  constructor(readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, readonly view: ViewName, handlers: RpcHandlers) {
    super();
    panel.webview.html = buildWebviewHtml(panel.webview, extensionUri, view, panel.title);
    this.connection = this._register(new WebviewConnection(panel.webview, handlers, view));
    this._register(panel.onDidDispose(() => { this._onDidDispose.fire(); this.dispose(); }));
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.panel.dispose();
  }
}

export class PanelManager extends Disposable {
  private readonly open = new Map<string, Panel>();

  constructor(private readonly extensionUri: vscode.Uri) { super(); }

  /** The open panel of `view` for `doc`, if any. */
  get(view: ViewName, doc: OnnxModelDocument): Panel | undefined {
    return this.open.get(`${view}|${doc.uri.toString()}`);
  }

  /** Show (create or reveal) the panel of `view` for `doc` with `data`; handlers serve its requests. */
  show(view: Exclude<ViewName, 'modelEditor'>, doc: OnnxModelDocument, data: ViewData, handlers: RpcHandlers): Panel {
    const key = `${view}|${doc.uri.toString()}`;
    let p = this.open.get(key);
    if (!p) {
      const name = doc.uri.path.split('/').pop() ?? 'model';
      const wp = vscode.window.createWebviewPanel(`quantlens.${view}`, `${TITLES[view]}: ${name}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
        { ...webviewOptions(this.extensionUri) });
      wp.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
      p = this._register(new Panel(wp, this.extensionUri, view, handlers));
      this.open.set(key, p);
      const created = p;
      created.onDidDispose(() => { if (this.open.get(key) === created) this.open.delete(key); });
      doc.onDidDispose(() => created.dispose());
    } else {
      p.panel.reveal(undefined, false);
    }
    p.connection.setData(data);
    return p;
  }
}
