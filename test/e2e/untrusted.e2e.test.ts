// SPDX-License-Identifier: Apache-2.0
// Workspace trust in a real VS Code (code-server + headless chromium): in Restricted Mode QuantLens opens and
// inspects a model (layer table, weight statistics) and says why it does no more; the commands and controls that
// would execute the model (analyse, accuracy, export) are disabled, and nothing is written next to the model.
// Runs only with QUANTLENS_E2E=1 after scripts/e2e-setup.sh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { extensionHostLog, openFile, openWorkbench, screenshot, waitForWebviewFrame, type Workbench } from './harness';

let wb: Workbench;

before(async () => {
  // trust enabled, never asked: the fresh workspace folder opens untrusted (Restricted Mode)
  wb = await openWorkbench({ workspaceTrust: true, settings: { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.untrustedFiles': 'open' } });
}, { timeout: 240_000 });
after(async () => { await wb?.close(); });

test('in Restricted Mode the model editor inspects the model and says why it does not execute it', { timeout: 240_000 }, async () => {
  const before = readdirSync(path.join(wb.server.workspace, 'samples')).sort();
  await openFile(wb.page, 'samples/cnn.onnx');
  const editor = await waitForWebviewFrame(wb.page, { selector: '.trow', timeout: 120_000 });
  assert.ok(await editor.locator('.trow', { hasText: 'Conv' }).count() >= 2, 'the layer table lists the convolutions');
  await screenshot(wb.page, 'untrusted-model-editor');
  assert.ok(await wb.page.locator('.statusbar', { hasText: 'Restricted Mode' }).count() > 0, 'the workbench is in Restricted Mode');
  const banner = await editor.locator('[data-testid="trust-banner"]').innerText();
  assert.match(banner, /not trusted/);
  assert.match(banner, /does not execute it/);

  // the commands that execute the model are disabled (enablement: isWorkspaceTrusted), so the palette omits them
  await wb.page.keyboard.press('F1');
  const input = wb.page.locator('.quick-input-widget input');
  await input.fill('>QuantLens:');
  const rows = wb.page.locator('.quick-input-list .monaco-list-row .label-name');
  await rows.filter({ hasText: 'QuantLens: Show Log' }).first().waitFor({ timeout: 15_000 });
  const offered = await rows.allInnerTexts();
  assert.ok(offered.some((t) => t.includes('Quantize Layer')), `inspection commands stay: ${offered.join(' | ')}`);
  for (const title of ['Analyse Activations and Sensitivity', 'Accuracy Delta', 'Export QDQ Model']) {
    assert.ok(!offered.some((t) => t.includes(title)), `${title} is not offered in Restricted Mode: ${offered.join(' | ')}`);
  }
  await wb.page.keyboard.press('Escape');

  // the editor's own Analyse control is disabled, its tooltip giving the reason
  const analyse = editor.locator('[data-testid="analyse"]');
  const disabled = (await analyse.getAttribute('disabled')) !== null || (await analyse.getAttribute('aria-disabled')) === 'true';
  assert.ok(disabled, 'Analyse is disabled in Restricted Mode');
  assert.match((await analyse.getAttribute('title')) ?? '', /not trusted/);
  
  assert.deepEqual(readdirSync(path.join(wb.server.workspace, 'samples')).sort(), before, 'nothing written next to the model');
  assert.doesNotMatch(extensionHostLog(wb.server), /Activating extension 'quantlens\.quantlens' failed/);
});
