// SPDX-License-Identifier: Apache-2.0
// Activation stays cheap: loading dist/extension.js and calling activate() must not load onnxruntime or the
// engine, and must only register things. VS Code's API is replaced by a recorder for this process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const bundle = path.resolve(__dirname, '..', '..', 'dist', 'extension.js');

test('activate registers the editor, tree, diagnostics and commands without loading onnxruntime', { skip: !existsSync(bundle) && 'build first' }, () => {
  const registered: string[] = [];
  const disposable = { dispose() {} };
  const emitter = class { event = () => disposable; fire() {} dispose() {} };
  const vscode = {
    EventEmitter: emitter,
    window: {
      registerCustomEditorProvider: (id: string) => { registered.push(`editor:${id}`); return disposable; },
      createTreeView: (id: string) => { registered.push(`tree:${id}`); return { ...disposable, onDidChangeSelection: () => disposable }; },
      createOutputChannel: () => ({ ...disposable, info() {}, warn() {}, error() {} }),
      registerWebviewPanelSerializer: (id: string) => { registered.push(`serializer:${id}`); return disposable; },
    },
    commands: { registerCommand: (id: string) => { registered.push(`command:${id}`); return disposable; }, executeCommand: async () => undefined },
    languages: { createDiagnosticCollection: () => ({ ...disposable, set() {}, delete() {} }) },
    workspace: { onDidOpenTextDocument: () => disposable, onDidChangeTextDocument: () => disposable, onDidCloseTextDocument: () => disposable, textDocuments: [], onDidGrantWorkspaceTrust: () => disposable, isTrusted: true },
    Uri: { joinPath: () => ({}) },
  };
  const load = (Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown })._load;
  const loaded: string[] = [];
  (Module as unknown as { _load: unknown })._load = (req: string, ...rest: unknown[]) => {
    loaded.push(req);
    return req === 'vscode' ? vscode : load(req, ...rest);
  };
  try {
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS bundle, loaded as VS Code loads it
    const ext = require(bundle) as { activate(ctx: unknown): void };
    ext.activate({ subscriptions: [], extensionUri: { fsPath: '/x', path: '/x', with: () => ({}) } });
    const ms = performance.now() - t0;
    console.log(`require + activate: ${ms.toFixed(1)} ms`);
  } finally {
    (Module as unknown as { _load: unknown })._load = load;
  }
  assert.ok(!loaded.includes('onnxruntime-node'), `onnxruntime-node was loaded at activation: ${loaded.join(', ')}`);
  assert.ok(registered.includes('editor:quantlens.modelEditor'));
  assert.ok(registered.includes('tree:quantlens.layers'));
  // every panel view type restores after a window reload (package.json declares its onWebviewPanel event)
  const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { activationEvents: string[] };
  const panelTypes = manifest.activationEvents.filter((e) => e.startsWith('onWebviewPanel:')).map((e) => e.slice('onWebviewPanel:'.length));
  assert.ok(panelTypes.length >= 4, `activation events: ${manifest.activationEvents.join(', ')}`);
  for (const t of panelTypes) assert.ok(registered.includes(`serializer:${t}`), `serializer for ${t}`);
  for (const c of ['openSample', 'quantizeLayer', 'showHistogram', 'analyze', 'openAllocation', 'openAccuracy', 'exportQdq', 'openConfig', 'showLog']) {
    assert.ok(registered.includes(`command:quantlens.${c}`), c);
  }
});
