// SPDX-License-Identifier: Apache-2.0
/**
 * The one HTML/CSP builder for every QuantLens webview. Strict CSP: nothing by default, scripts only by nonce
 * (a fresh crypto-random one per page), styles and images only from the extension's dist/webview folder (plus
 * constructed stylesheets the bundles adopt), no remote resource of any kind.
 */
import type * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { ViewName } from '../webview/protocol';

/** A fresh nonce: 128 random bits, base64. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

/** The Content-Security-Policy every QuantLens page carries. */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** `base/parts…` (Uri.with keeps this module free of a run-time `vscode` import, so it is testable in Node). */
function under(base: vscode.Uri, ...parts: string[]): vscode.Uri {
  return base.with({ path: posix.join(base.path, ...parts) });
}

/** Webview options: scripts on, resources only from dist/webview and media/. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [under(extensionUri, 'dist', 'webview'), under(extensionUri, 'media')],
  };
}

/** The page that boots `dist/webview/<view>.js`. Nothing model-provided ever goes into this HTML. */
export function buildWebviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, view: ViewName, title: string): string {
  const nonce = makeNonce();
  const script = webview.asWebviewUri(under(extensionUri, 'dist', 'webview', `${view}.js`));
  return renderPage({ csp: contentSecurityPolicy(webview.cspSource, nonce), nonce, scriptUri: script.toString(), title, view });
}

const escapeAttr = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Pure HTML template (tested without VS Code). The `csp-nonce` meta is where the toolkit's FAST components look for
 * the nonce of the one <style> they add (a `:focus-visible` support probe); with it the CSP needs no relaxation.
 */
export function renderPage(p: { csp: string; nonce: string; scriptUri: string; title: string; view: ViewName }): string {
  return /* html */ `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(p.csp)}">
<meta property="csp-nonce" content="${escapeAttr(p.nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeAttr(p.title)}</title>
</head>
<body data-view="${escapeAttr(p.view)}">
<div id="root"></div>
<script nonce="${escapeAttr(p.nonce)}" src="${escapeAttr(p.scriptUri)}"></script>
</body>
</html>`;
}
