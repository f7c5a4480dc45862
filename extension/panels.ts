// SPDX-License-Identifier: Apache-2.0
/**
 * The side panels (Quantize Layer, activation histogram, allocation, accuracy): one panel per view and model,
 * reused when asked again, each a webview with the shared HTML/CSP and a WebviewConnection. Panels VS Code restores
 * after a window reload are adopted (panelSerializer.ts) and refilled by the same show().
 */
import * as vscode from 'vscode';
import type { PanelViewName, RpcHandlers, ViewData, ViewName } from '../webview/protocol';
import { Disposable } from './dispose';
import type { OnnxModelDocument } from './modelDocument';
import { buildWebviewHtml, webviewOptions } from './webviewHtml';
import { WebviewConnection } from './webviewConnection';

const TITLES: Record<PanelViewName, string> = {
  quantizeLayer: 'Quantize Layer', histogram: 'Activation Histogram', allocation: 'Sensitivity & Allocation', accuracy: 'Accuracy Delta',
};

/**
 * An Allocate result is the allocation view's new data: it becomes the panel's data as well, so the webview shows
 * it again after it is hidden and shown, or restored after a window reload.
 */
function resultsAsData(handlers: RpcHandlers, connection: () => WebviewConnection): RpcHandlers {
  const allocate = handlers.allocate;
  if (!allocate) return handlers;
  return { ...handlers, allocate: async (p, ctx) => { const data = await allocate(p, ctx); connection().setData(data); return data; } };
}

/** One open panel. */
export class Panel extends Disposable {
  readonly connection: WebviewConnection;
  private readonly _onDidDispose = this._register(new vscode.EventEmitter<void>());
  public readonly onDidDispose = this._onDidDispose.event;

  constructor(readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, readonly view: ViewName, handlers: RpcHandlers) {
    super();
    panel.webview.html = buildWebviewHtml(panel.webview, extensionUri, view, panel.title);
    this.connection = this._register(new WebviewConnection(panel.webview, resultsAsData(handlers, () => this.connection), view));
    this._register(panel.onDidDispose(() => { this._onDidDispose.fire(); this.dispose(); }));
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.panel.dispose();
  }
}

/** The webview panel view type of a panel view (what `onWebviewPanel:` activation events and serializers name). */
export function panelViewType(view: PanelViewName): string {
  return `quantlens.${view}`;
}

export class PanelManager extends Disposable {
  private readonly open = new Map<string, Panel>();
  /** Panels VS Code restored after a window reload, waiting for the show() that refills them. */
  private readonly adopted = new Map<string, vscode.WebviewPanel>();

  constructor(private readonly extensionUri: vscode.Uri) { super(); }

  /**
   * Take over a panel VS Code restored (see panelSerializer.ts): it shows the view's loading page at once, and the
   * next show() of this view for `doc` fills it instead of opening a new panel.
   */
  adopt(view: PanelViewName, doc: OnnxModelDocument, panel: vscode.WebviewPanel): void {
    const key = `${view}|${doc.uri.toString()}`;
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = buildWebviewHtml(panel.webview, this.extensionUri, view, panel.title);
    const previous = this.adopted.get(key);
    this.adopted.set(key, panel);
    previous?.dispose(); // two restored panels of one view and model: keep one, as show() would
  }

  /** Close a restored panel that no show() took over (its restore failed); a no-op once it was taken. */
  releaseAdopted(panel: vscode.WebviewPanel): void {
    for (const [key, p] of this.adopted) {
      if (p === panel) { this.adopted.delete(key); panel.dispose(); }
    }
  }

  /** The open panel of `view` for `doc`, if any. */
  get(view: ViewName, doc: OnnxModelDocument): Panel | undefined {
    return this.open.get(`${view}|${doc.uri.toString()}`);
  }

  /** Show (create or reveal) the panel of `view` for `doc` with `data`; handlers serve its requests. */
  show(view: PanelViewName, doc: OnnxModelDocument, data: ViewData, handlers: RpcHandlers): Panel {
    const key = `${view}|${doc.uri.toString()}`;
    let p = this.open.get(key);
    if (!p) {
      const name = doc.uri.path.split('/').pop() ?? 'model';
      const restored = this.adopted.get(key);
      this.adopted.delete(key);
      const wp = restored ?? vscode.window.createWebviewPanel(panelViewType(view), `${TITLES[view]}: ${name}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
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
