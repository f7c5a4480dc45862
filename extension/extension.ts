// SPDX-License-Identifier: Apache-2.0
/**
 * Activation only registers things. It is cheap: no model is read and onnxruntime is not loaded until a model
 * is opened and the user asks for work that runs it (activation is implicit from package.json contributions).
 */
import * as vscode from 'vscode';
import { Actions } from './actions';
import { registerCommands } from './commands';
import { ConfigDiagnostics } from './configDiagnostics';
import { LayerTreeProvider } from './layerTree';
import { ModelEditorProvider } from './modelEditorProvider';
import { ModelRegistry } from './modelRegistry';
import { PanelManager } from './panels';
import { registerPanelSerializers } from './panelSerializer';

export function activate(context: vscode.ExtensionContext): void {
  const registry = new ModelRegistry();
  const panels = new PanelManager(context.extensionUri);
  const actions = new Actions(context.extensionUri, registry, panels);
  context.subscriptions.push(
    registry, panels, actions,
    ModelEditorProvider.register(context, registry, actions),
    LayerTreeProvider.register(registry),
    ConfigDiagnostics.register(registry),
    ...registerCommands(context, registry, actions),
    ...registerPanelSerializers(registry, panels, actions),
  );
}

export function deactivate(): void {}
