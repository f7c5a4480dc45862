// SPDX-License-Identifier: Apache-2.0
/**
 * The read-only custom editor for `*.onnx` (viewType `quantlens.modelEditor`, as in package.json). It only wires
 * webviews to OnnxModelDocument; the document owns the model, the actions own the work.
 * This provider:
 * - loads the model once per document (several editors on one file share it),
 * - tracks the active model and the selected layer in the ModelRegistry,
 * - answers the editor webview's requests through the typed protocol.
 */
import * as vscode from 'vscode';
import type { ModelEditorData } from '../webview/protocol';
import { Disposable } from './dispose';
import { openModelDocument, type OnnxModelDocument } from './modelDocument';
import type { ModelRegistry } from './modelRegistry';
import type { Actions } from './actions';
import { buildWebviewHtml, webviewOptions } from './webviewHtml';
import { WebviewConnection } from './webviewConnection';

export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider<OnnxModelDocument> {
  static readonly viewType = 'quantlens.modelEditor';

  /** Register the provider; called once from activate. */
  static register(context: vscode.ExtensionContext, registry: ModelRegistry, actions: Actions): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(ModelEditorProvider.viewType, new ModelEditorProvider(context, registry, actions), {
      supportsMultipleEditorsPerDocument: true,
      // the view keeps its state in vscode.setState; keeping hidden webviews alive would cost memory
      webviewOptions: { retainContextWhenHidden: false },
    });
  }

  private nextEditorId = 1;

  private constructor(private readonly context: vscode.ExtensionContext, private readonly registry: ModelRegistry, private readonly actions: Actions) {}

  /** Called by VS Code when a model is opened: parse it (no execution). */
  async openCustomDocument(uri: vscode.Uri): Promise<OnnxModelDocument> {
    const doc = await openModelDocument(uri);
    this.registry.add(doc);
    return doc;
  }

  /** Called by VS Code for each editor tab on a document. */
  async resolveCustomEditor(document: OnnxModelDocument, panel: vscode.WebviewPanel): Promise<void> {
    new EditorBinding(this.context, this.registry, this.actions, document, panel, `editor:${this.nextEditorId++}`);
  }
}

/** One editor tab: its webview connection and listeners, disposed with the panel. */
class EditorBinding extends Disposable {
  private readonly connection: WebviewConnection;

  constructor(context: vscode.ExtensionContext, registry: ModelRegistry, actions: Actions, document: OnnxModelDocument, panel: vscode.WebviewPanel, id: string) {
    super();
    panel.webview.options = webviewOptions(context.extensionUri);
    panel.webview.html = buildWebviewHtml(panel.webview, context.extensionUri, 'modelEditor', document.uri.path.split('/').pop() ?? 'model');
    this.connection = this._register(new WebviewConnection(panel.webview, {
      analyze: async (_p, ctx) => { await actions.analyze(document, ctx.signal); return document.report; },
      quantizeLayer: async (p) => ({ opened: await actions.quantizeLayer(document, p.layer, p) }),
      openPanel: async (p) => {
        if (p.layer) registry.select(document, p.layer, id);
        await actions.openPanel(document, p.panel, p.layer);
        return { opened: true };
      },
    }, 'model editor'));
    const send = (): void => this.connection.setData(editorData(document));
    send();
    this._register(document.onDidChangeReport(send));
    this._register(actions.onDidChangeBusy(({ document: d, label }) => { if (d === document) this.connection.busy(label); }));
    // selecting (or right-clicking) a row makes this model the active one before any command runs on it
    this._register(this.connection.onDidSelectLayer((layer) => { registry.setActive(document); registry.select(document, layer, id); }));
    this._register(registry.onDidChangeSelection(({ document: d, layer, source }) => { if (d === document && source !== id) this.connection.select(layer); }));
    this._register(panel.onDidChangeViewState((e) => { if (e.webviewPanel.active) registry.setActive(document); }));
    if (panel.active || !registry.activeDocument) registry.setActive(document);
    this._register(panel.onDidDispose(() => this.dispose()));
  }
}

function editorData(document: OnnxModelDocument): ModelEditorData {
  return { view: 'modelEditor', report: document.report, analysed: document.analysed, ...(document.config ? { configPath: document.config.path } : {}) };
}
