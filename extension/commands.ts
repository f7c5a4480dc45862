// SPDX-License-Identifier: Apache-2.0
/**
 * The `quantlens.*` commands (declared in package.json). Each takes its layer from where it was invoked: a
 * layer row's `data-vscode-context` (webview/context menu), a tree item (view/item/context), or, from the
 * command palette, the selected layer or a quick pick.
 */
import * as vscode from 'vscode';
import path from 'node:path';
import type { LayerReport } from '../analysis/report';
import type { Actions } from './actions';
import { configPathFor } from './configStore';
import { log, reportError } from './log';
import type { OnnxModelDocument } from './modelDocument';
import type { ModelRegistry } from './modelRegistry';

/** What VS Code passes to a command: a webview context object, a tree item, a URI, or nothing. */
type CommandArg = { layerName?: unknown } | { kind: 'layer'; layer: LayerReport } | vscode.Uri | undefined;

function layerFromArg(arg: CommandArg): string | undefined {
  if (!arg || arg instanceof vscode.Uri) return undefined;
  if ('layerName' in arg && typeof arg.layerName === 'string') return arg.layerName;
  if ('kind' in arg && arg.kind === 'layer') return arg.layer.name;
  return undefined;
}

export function registerCommands(context: vscode.ExtensionContext, registry: ModelRegistry, actions: Actions): vscode.Disposable[] {
  const activeModel = async (): Promise<OnnxModelDocument> => {
    const doc = registry.activeDocument;
    if (doc) return doc;
    throw new Error('open an .onnx model first (or run "QuantLens: Open Sample Model")');
  };
  const pickLayer = async (doc: OnnxModelDocument, arg: CommandArg, filter: (l: LayerReport) => boolean, title: string): Promise<string | undefined> => {
    const given = layerFromArg(arg);
    if (given) return given;
    const items = doc.report.layers.filter(filter).map((l) => ({ label: l.name, description: l.op }));
    const selected = registry.selectedLayer(doc);
    items.sort((a, b) => (a.label === selected ? -1 : b.label === selected ? 1 : 0));
    return (await vscode.window.showQuickPick(items, { title, placeHolder: 'Layer', matchOnDescription: true }))?.label;
  };
  /** Wrap a command so every failure is reported once (notification + output channel). */
  const command = (id: string, fn: (arg: CommandArg) => Promise<unknown>): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (arg: CommandArg) => {
      try { await fn(arg); } catch (e) { reportError(id.replace('quantlens.', ''), e); }
    });

  return [
    command('quantlens.openSample', async () => {
      const sample = vscode.Uri.joinPath(context.extensionUri, 'samples', 'cnn.onnx');
      await vscode.commands.executeCommand('vscode.openWith', sample, 'quantlens.modelEditor');
    }),
    command('quantlens.quantizeLayer', async (arg) => {
      const doc = await activeModel();
      const layer = await pickLayer(doc, arg, (l) => l.weightShape !== undefined, 'Quantize Layer…');
      if (layer) await actions.quantizeLayer(doc, layer);
    }),
    command('quantlens.showHistogram', async (arg) => {
      const doc = await activeModel();
      await actions.showHistogram(doc, layerFromArg(arg));
    }),
    command('quantlens.analyze', async () => { await actions.analyze(await activeModel()).catch(() => undefined); }),
    command('quantlens.openAllocation', async () => actions.openPanel(await activeModel(), 'allocation')),
    command('quantlens.openAccuracy', async () => actions.openPanel(await activeModel(), 'accuracy').catch(() => undefined)),
    command('quantlens.exportQdq', async () => actions.exportQdq(await activeModel())),
    command('quantlens.openConfig', async () => {
      const doc = await activeModel();
      const file = doc.config?.path ?? configPathFor(doc.path);
      try {
        await vscode.window.showTextDocument(vscode.Uri.file(file));
      } catch {
        void vscode.window.showInformationMessage(`No ${path.basename(file)} yet: use Quantize Layer… or Apply in the allocation view to create it.`);
      }
    }),
    command('quantlens.showLog', async () => log().show()),
  ];
}
