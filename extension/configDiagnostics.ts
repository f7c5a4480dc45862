// SPDX-License-Identifier: Apache-2.0
/**
 * Problems-panel diagnostics for `*.quant.json`: syntax and schema problems (line:column), overrides naming
 * nodes the model lacks, unknown formats, and findings from the analysis, e.g. a layer the sensitivity
 * analysis ranks among the most sensitive set below 8 bits ("should stay at 8 bits").
 */
import * as vscode from 'vscode';
import path from 'node:path';
import { checkConfigAgainstModel, checkConfigText, type ConfigProblem } from '../analysis/config/load';
import type { QuantConfig } from '../analysis/config/types';
import { FORMAT_IDS } from '../analysis/quant/formats';
import { Disposable } from './dispose';
import type { ModelRegistry } from './modelRegistry';
import { sensitiveLayerFindings } from './sensitivityRank';

const SOURCE = 'QuantLens';

function toDiagnostic(p: ConfigProblem, severity = vscode.DiagnosticSeverity.Error): vscode.Diagnostic {
  const pos = new vscode.Position(Math.max(0, p.line - 1), Math.max(0, p.column - 1));
  const d = new vscode.Diagnostic(new vscode.Range(pos, pos.translate(0, 1)), p.path ? `${p.path}: ${p.message}` : p.message, severity);
  d.source = SOURCE;
  return d;
}

export class ConfigDiagnostics extends Disposable {
  private readonly collection = this._register(vscode.languages.createDiagnosticCollection('quantlens'));

  /** Watch open `*.quant.json` documents and the models' analyses. */
  static register(registry: ModelRegistry): vscode.Disposable {
    return new ConfigDiagnostics(registry);
  }

  private constructor(private readonly registry: ModelRegistry) {
    super();
    const check = (d: vscode.TextDocument): void => { if (d.uri.path.endsWith('.quant.json')) this.check(d); };
    this._register(vscode.workspace.onDidOpenTextDocument(check));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => check(e.document)));
    this._register(vscode.workspace.onDidCloseTextDocument((d) => this.collection.delete(d.uri)));
    this._register(registry.onDidChangeActive((doc) => {
      if (doc) this._register(doc.onDidChangeReport(() => vscode.workspace.textDocuments.forEach(check)));
      vscode.workspace.textDocuments.forEach(check);
    }));
    vscode.workspace.textDocuments.forEach(check);
  }

  private check(doc: vscode.TextDocument): void {
    const text = doc.getText();
    const { value, problems } = checkConfigText(text);
    const diags = problems.map((p) => toDiagnostic(p));
    if (problems.length === 0 && value) {
      const config = value as QuantConfig;
      const modelPath = path.resolve(path.dirname(doc.uri.fsPath), config.model.path);
      const model = this.registry.all.find((m) => m.path === modelPath);
      if (model) {
        diags.push(...checkConfigAgainstModel(config, text, { formatIds: FORMAT_IDS, nodeNames: model.loaded.model.graph.nodes.map((n) => n.name) }).map((p) => toDiagnostic(p)));
        if (config.model.sha256 && config.model.sha256 !== model.sha256) {
          diags.push(toDiagnostic({ line: 1, column: 1, path: '/model/sha256', message: `does not match ${path.basename(modelPath)} (the model changed since this config was written)` }, vscode.DiagnosticSeverity.Warning));
        }
        for (const f of sensitiveLayerFindings(config, model.report)) {
          const d = diagnosticAt(doc, f.layer, `layer '${f.layer}' is the #${f.rank} most sensitive of ${f.of}: it should stay at 8 bits (it is set to ${f.format})`);
          diags.push(d);
        }
      }
    }
    this.collection.set(doc.uri, diags);
  }
}

/** A warning on the first mention of `layer` as a JSON key. */
function diagnosticAt(doc: vscode.TextDocument, layer: string, message: string): vscode.Diagnostic {
  const needle = JSON.stringify(layer);
  const at = doc.getText().indexOf(`${needle}:`);
  const start = doc.positionAt(at >= 0 ? at : 0);
  const d = new vscode.Diagnostic(new vscode.Range(start, start.translate(0, at >= 0 ? needle.length : 1)), message, vscode.DiagnosticSeverity.Warning);
  d.source = SOURCE;
  d.code = 'sensitive-layer-below-8-bits';
  return d;
}
