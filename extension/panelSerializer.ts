// SPDX-License-Identifier: Apache-2.0
/**
 * Brings the side panels back after a window reload. VS Code hands over each panel it restores together with the
 * state its webview kept (webview/protocol.ts `PanelRestoreState`: which model, which layer); we make sure the
 * model is open, let the PanelManager adopt the panel, and run the same action that filled it the first time, so
 * the data is recomputed rather than stored. The view types are declared as `onWebviewPanel:` activation events.
 */
import * as vscode from 'vscode';
import { PANEL_VIEWS, parsePanelRestoreState, type PanelRestoreState, type PanelViewName } from '../webview/protocol';
import type { Actions } from './actions';
import { errorMessage, log } from './log';
import type { OnnxModelDocument } from './modelDocument';
import { ModelEditorProvider } from './modelEditorProvider';
import type { ModelRegistry } from './modelRegistry';
import { panelViewType, type PanelManager } from './panels';

/** Register one serializer per panel view type (called once from activate). */
export function registerPanelSerializers(registry: ModelRegistry, panels: PanelManager, actions: Actions): vscode.Disposable[] {
  return PANEL_VIEWS.map((view) => vscode.window.registerWebviewPanelSerializer(panelViewType(view), {
    deserializeWebviewPanel: (panel, state) => restorePanel(view, panel, state, registry, panels, actions),
  }));
}

async function restorePanel(view: PanelViewName, panel: vscode.WebviewPanel, state: unknown, registry: ModelRegistry, panels: PanelManager, actions: Actions): Promise<void> {
  let restore: PanelRestoreState;
  try {
    restore = parsePanelRestoreState(view, state);
  } catch (e) {
    log().warn(`not restoring a ${view} panel: ${errorMessage(e)}`);
    panel.dispose();
    return;
  }
  try {
    const doc = await openModel(registry, restore.modelPath);
    panels.adopt(view, doc, panel);
    await refill(restore, doc, actions);
    log().info(`restored the ${view} panel of ${restore.modelPath}`);
  } catch (e) {
    // a restore nobody asked for just now: a log line, not a notification (e.g. the model was deleted, or the
    // workspace is no longer trusted and the panel would execute the model)
    log().warn(`not restoring the ${view} panel of ${restore.modelPath}: ${errorMessage(e)}`);
  } finally {
    panels.releaseAdopted(panel);
  }
}

/** Run the action that fills the panel, from the restore state. */
async function refill(restore: PanelRestoreState, doc: OnnxModelDocument, actions: Actions): Promise<void> {
  switch (restore.view) {
    case 'quantizeLayer': {
      // the choice was recorded as an override in the model's config: restore what is recorded there now
      const spec = doc.config?.config.layers?.[restore.layer]?.weights;
      if (!spec || spec.format !== restore.format) throw new Error(`the config has no ${restore.format} override for ${restore.layer} any more`);
      await actions.quantizeLayer(doc, restore.layer, spec);
      return;
    }
    case 'histogram': return actions.showHistogram(doc, restore.layer ?? undefined);
    case 'allocation': return actions.showAllocation(doc);
    case 'accuracy': return actions.showAccuracy(doc);
    default: restore satisfies never;
  }
}

/**
 * The open document of a model, opening its model editor when VS Code has not resolved it yet (a panel lives only
 * while its model is open, so the editor tab is normally there; it is opened in its own group, without focus).
 */
async function openModel(registry: ModelRegistry, modelPath: string): Promise<OnnxModelDocument> {
  const find = (): OnnxModelDocument | undefined => registry.all.find((d) => d.path === modelPath);
  const open = find();
  if (open) return open;
  const uri = vscode.Uri.file(modelPath);
  const group = vscode.window.tabGroups.all.find((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputCustom
    && t.input.viewType === ModelEditorProvider.viewType && t.input.uri.fsPath === uri.fsPath));
  await vscode.commands.executeCommand('vscode.openWith', uri, ModelEditorProvider.viewType,
    { viewColumn: group?.viewColumn ?? vscode.ViewColumn.One, preserveFocus: true, preview: false });
  const doc = find();
  if (!doc) throw new Error(`${modelPath} did not open`);
  return doc;
}
