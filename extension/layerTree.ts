// SPDX-License-Identifier: Apache-2.0
/** The "Layers" tree view: the active model's layers grouped by op type; right-click offers Quantize Layer…. */
import * as vscode from 'vscode';
import type { LayerReport } from '../analysis/report';
import { Disposable } from './dispose';
import type { ModelRegistry } from './modelRegistry';

type Item = { kind: 'op'; op: string; count: number } | { kind: 'layer'; layer: LayerReport };

export class LayerTreeProvider extends Disposable implements vscode.TreeDataProvider<Item> {
  static readonly viewId = 'quantlens.layers';
  private readonly _onDidChangeTreeData = this._register(new vscode.EventEmitter<Item | undefined>());
  public readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  private readonly view: vscode.TreeView<Item>;
  private byName = new Map<string, Item>();

  /** Register the tree view with its provider. */
  static register(registry: ModelRegistry): vscode.Disposable {
    return new LayerTreeProvider(registry);
  }

  private constructor(private readonly registry: ModelRegistry) {
    super();
    this.view = this._register(vscode.window.createTreeView(LayerTreeProvider.viewId, { treeDataProvider: this, showCollapseAll: true }));
    let reportListener: vscode.Disposable | undefined;
    this._register(registry.onDidChangeActive((doc) => {
      reportListener?.dispose();
      reportListener = doc?.onDidChangeReport(() => this.refresh());
      this.refresh();
    }));
    this._register({ dispose: () => reportListener?.dispose() });
    this._register(this.view.onDidChangeSelection((e) => {
      const item = e.selection[0];
      const doc = registry.activeDocument;
      if (doc && item?.kind === 'layer') registry.select(doc, item.layer.name, 'tree');
    }));
    this._register(registry.onDidChangeSelection(({ document, layer, source }) => {
      const found = layer ? document.report.layers.find((l) => l.name === layer) : undefined;
      const item = layer ? this.byName.get(layer) ?? (found && { kind: 'layer' as const, layer: found }) : undefined;
      if (source !== 'tree' && document === registry.activeDocument && item && this.view.visible) void this.view.reveal(item, { select: true, focus: false });
    }));
  }

  private refresh(): void {
    this.byName.clear();
    const doc = this.registry.activeDocument;
    this.view.description = doc ? doc.uri.path.split('/').pop() : undefined;
    this.view.message = doc ? undefined : 'Open an .onnx model to see its layers.';
    this._onDidChangeTreeData.fire(undefined);
  }

  getTreeItem(item: Item): vscode.TreeItem {
    if (item.kind === 'op') {
      const t = new vscode.TreeItem(item.op, vscode.TreeItemCollapsibleState.Collapsed);
      t.description = String(item.count);
      t.contextValue = 'quantlens.op';
      t.id = `op:${item.op}`;
      return t;
    }
    const l = item.layer;
    const t = new vscode.TreeItem(l.name, vscode.TreeItemCollapsibleState.None);
    t.description = [l.format?.weights, l.tags.map((g) => g.id).join(' ')].filter(Boolean).join(' · ');
    t.tooltip = new vscode.MarkdownString(undefined, false); // plain text only: names come from the model file
    t.tooltip.appendText(`${l.name}\n${l.op} · ${l.params} params · ${l.macs} MACs${l.tags.length ? `\n${l.tags.map((g) => `${g.id}: ${g.reason}`).join('\n')}` : ''}`);
    t.contextValue = l.weightShape ? 'quantlens.layer.weighted' : 'quantlens.layer';
    t.id = `layer:${l.name}`;
    return t;
  }

  getChildren(item?: Item): Item[] {
    const doc = this.registry.activeDocument;
    if (!doc) return [];
    const layers = doc.report.layers;
    if (!item) {
      const counts = new Map<string, number>();
      for (const l of layers) counts.set(l.op, (counts.get(l.op) ?? 0) + 1);
      return [...counts].sort((a, b) => b[1] - a[1]).map(([op, count]) => ({ kind: 'op', op, count }));
    }
    if (item.kind === 'layer') return [];
    const children: Item[] = layers.filter((l) => l.op === item.op).map((layer) => ({ kind: 'layer', layer }));
    for (const c of children) if (c.kind === 'layer') this.byName.set(c.layer.name, c);
    return children;
  }

  getParent(item: Item): Item | undefined {
    if (item.kind === 'op') return undefined;
    const doc = this.registry.activeDocument;
    const count = doc ? doc.report.layers.filter((l) => l.op === item.layer.op).length : 0;
    return { kind: 'op', op: item.layer.op, count };
  }
}
