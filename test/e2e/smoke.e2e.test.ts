// SPDX-License-Identifier: Apache-2.0
// Smoke test in a real VS Code (code-server + headless chromium): the packaged .vsix installs, the extension
// activates when a model is opened, and samples/cnn.onnx opens in the QuantLens model editor webview.
// Runs only with QUANTLENS_E2E=1 after `bash scripts/e2e-setup.sh` (.ci/run does both).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  EXTENSION_ID, REPO, activeTabLabel, extensionHostLog, installedExtensions, openFile, openWorkbench, runCommand,
  screenshot, step, waitForActivation, waitForWebviewFrame, type Workbench,
} from './harness';

let wb: Workbench;

before(async () => { wb = await openWorkbench(); }, { timeout: 240_000 });
after(async () => { await wb?.close(); });

test('the packaged extension is installed in code-server', () => {
  assert.ok(installedExtensions(wb.server).includes(EXTENSION_ID), `installed: ${installedExtensions(wb.server).join(', ')}`);
});

test('the extension is not activated by startup alone', async () => {
  // Activation must be lazy (onCustomEditor / commands): once the eager extensions are up, QuantLens is not.
  const deadline = Date.now() + 60_000;
  while (!extensionHostLog(wb.server).includes('Eager extensions activated') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  assert.match(extensionHostLog(wb.server), /Eager extensions activated/);
  assert.doesNotMatch(extensionHostLog(wb.server), /ExtensionService#_doActivateExtension quantlens\.quantlens/);
});

test('opening samples/cnn.onnx activates QuantLens and shows the model editor webview', { timeout: 180_000 }, async () => {
  const manifest = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  const editor = manifest.contributes.customEditors.find((e: { viewType: string }) => e.viewType === 'quantlens.modelEditor');
  assert.ok(editor, 'package.json contributes the quantlens.modelEditor custom editor');

  await step(wb, 'smoke-open-model', async () => {
    await openFile(wb.page, 'samples/cnn.onnx');
    assert.match(await waitForActivation(wb), /activationEvent: 'onCustomEditor:quantlens\.modelEditor'/);
    assert.equal(await activeTabLabel(wb.page), 'cnn.onnx');
    // The webview shows the model: the CNN's BatchNormalization layers appear in its document.
    const frame = await waitForWebviewFrame(wb.page, { timeout: 120_000 });
    await frame.waitForFunction(() => document.body.innerText.includes('BatchNormalization'), undefined, { timeout: 120_000 });
  });
  const file = await screenshot(wb.page, 'smoke-model-editor');
  console.log(`screenshot: ${path.relative(REPO, file)}`);
  assert.doesNotMatch(extensionHostLog(wb.server), /Activating extension 'quantlens\.quantlens' failed/);
});

test('"QuantLens: Open Sample Model" from the command palette opens a sample in the model editor', { timeout: 120_000 }, async () => {
  await step(wb, 'smoke-open-sample', async () => {
    await runCommand(wb.page, 'View: Close All Editors');
    await wb.page.locator('.tabs-container .tab').first().waitFor({ state: 'detached' });
    await runCommand(wb.page, 'QuantLens: Open Sample Model');
    await wb.page.waitForFunction(() => /\.onnx$/.test(document.querySelector('.tabs-container .tab.active .label-name')?.textContent?.trim() ?? ''), undefined, { timeout: 60_000 });
    await waitForWebviewFrame(wb.page, { selector: '[role=grid]', timeout: 60_000 });
  });
  await screenshot(wb.page, 'smoke-open-sample');
});
