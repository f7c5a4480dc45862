// SPDX-License-Identifier: Apache-2.0
// The issue-7 scenarios in a real VS Code (code-server + headless chromium), on copies of the bundled samples:
// right-click a layer → Quantize Layer… → int4 shows a histogram and an accuracy delta; the allocation view's
// Apply writes a config that validates; the histogram panel of an attention Softmax output shows log/Tan grids.
// Screenshots of each view go to test-artifacts/e2e/. Runs only with QUANTLENS_E2E=1 after scripts/e2e-setup.sh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Frame } from 'playwright-core';
import { parseConfig } from '../../analysis/config/load';
import { typeInto } from '../webview/toolkitDriver';
import { extensionHostLog, openFile, openWorkbench, pickQuickItem, runCommand, screenshot, waitForWebviewFrame, webviewContextMenu, type Workbench } from './harness';

let wb: Workbench;

/** Right-click a row and choose `item`; clicks again when the menu ignored a click that came too soon after it opened. */
async function rowMenu(frame: Frame, selector: string, item: string): Promise<void> {
  await webviewContextMenu(wb.page, frame, selector, item);
  await wb.page.waitForTimeout(1000);
  const entry = wb.page.locator('.context-view .monaco-menu .action-label', { hasText: item }).first();
  if (await entry.isVisible()) await entry.click();
}
const THEME = process.env.QUANTLENS_E2E_THEME ?? 'Default Dark Modern';
const shot = (name: string): Promise<string> => screenshot(wb.page, `ui-${name}-${/light/i.test(THEME) ? 'light' : 'dark'}`);

before(async () => { wb = await openWorkbench({ settings: { 'workbench.colorTheme': THEME } }); }, { timeout: 240_000 });
after(async () => { await wb?.close(); });

test('right-click a layer → Quantize Layer… → int4: the panel shows the weight histogram and the accuracy delta', { timeout: 300_000 }, async () => {
  await openFile(wb.page, 'samples/cnn.onnx');
  const editor = await waitForWebviewFrame(wb.page, { selector: '.trow', timeout: 120_000 });
  await shot('model-editor');
  const conv = editor.locator('.trow', { hasText: 'Conv' }).first();
  const name = await conv.getAttribute('data-layer');
  assert.ok(name, 'a Conv row');
  await rowMenu(editor, `.trow[data-layer="${name}"]`, 'Quantize Layer…');
  try {
    await pickQuickItem(wb.page, 'int4');
  } catch (e) {
    await shot('failure');
    console.log(extensionHostLog(wb.server).slice(-3000));
    throw e;
  }
  await pickQuickItem(wb.page, 'channel');
  await pickQuickItem(wb.page, 'mse');
  const panel = await waitForWebviewFrame(wb.page, { selector: '[data-testid="weight-histogram"] svg', timeout: 120_000 });
  await panel.locator('[data-testid="accuracy-delta"]', { hasText: 'pts' }).waitFor({ timeout: 180_000 });
  const text = await panel.locator('[data-testid="accuracy-delta"]').innerText();
  assert.match(text, /top-1 accuracy/);
  assert.ok(await panel.locator('.grid-line').count() > 3, 'the int4 grid is drawn over the histogram');
  assert.ok(existsSync(path.join(wb.server.workspace, 'samples', 'cnn.quant.json')), 'the override is recorded in cnn.quant.json');
  await shot('quantize-layer');
});

test('the allocation view suggests formats; Apply writes cnn.quant.json, which validates against the schema', { timeout: 600_000 }, async () => {
  await runCommand(wb.page, 'View: Close All Editors');
  await openFile(wb.page, 'samples/cnn.onnx');
  await waitForWebviewFrame(wb.page, { selector: '.trow', timeout: 120_000 });
  await runCommand(wb.page, 'QuantLens: Sensitivity and Bit Allocation');
  const view = await waitForWebviewFrame(wb.page, { selector: '[data-testid="allocation-table"] tbody tr', timeout: 480_000 });
  await shot('allocation');
  await view.locator('[data-testid="apply"]').click();
  // the config exists already (Quantize Layer recorded an override): VS Code asks before replacing it
  const replace = wb.page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Replace' });
  await replace.waitFor({ timeout: 30_000 });
  await replace.click();
  await view.locator('[data-testid="note"]', { hasText: 'Wrote' }).waitFor({ timeout: 60_000 });
  const file = path.join(wb.server.workspace, 'samples', 'cnn.quant.json');
  const config = parseConfig(readFileSync(file, 'utf8'), file);
  assert.equal(config.provenance?.method, 'ilp');
  await wb.page.locator('.tabs-container .tab .label-name', { hasText: 'cnn.quant.json' }).first().waitFor({ timeout: 30_000 });
  await shot('config');
  // the analysed model: sensitivity column with its colour scale, and a layer's detail pane
  await runCommand(wb.page, 'View: Close All Editors');
  await openFile(wb.page, 'samples/cnn.onnx');
  const editor = await waitForWebviewFrame(wb.page, { selector: '.trow', timeout: 120_000 });
  await editor.locator('.trow .sens').first().waitFor({ timeout: 30_000 }); // the analysis was kept: sensitivity column
  await runCommand(wb.page, 'View: Toggle Primary Side Bar Visibility');
  await editor.locator('.trow', { hasText: 'conv2' }).first().click();
  await editor.locator('[data-testid="layer-detail"] svg').first().waitFor({ timeout: 30_000 });
  await shot('model-editor-selected');
  await runCommand(wb.page, 'View: Toggle Primary Side Bar Visibility');
});

test('the histogram panel of an attention Softmax output shows log and Tan grids', { timeout: 300_000 }, async () => {
  await runCommand(wb.page, 'View: Close All Editors');
  await openFile(wb.page, 'samples/vit.onnx');
  const editor = await waitForWebviewFrame(wb.page, { selector: '.trow', timeout: 120_000 });
  await typeInto(editor.locator('[data-testid="filter"]'), 'op:Softmax');
  // wait for the filter to apply before reading the row (otherwise the first row of the unfiltered table is read)
  const softmax = editor.locator('.trow', { hasText: 'Softmax' }).first();
  await editor.locator('[data-testid="row-count"]', { hasText: /^2 of/ }).waitFor({ timeout: 30_000 });
  const name = await softmax.getAttribute('data-layer');
  await rowMenu(editor, `.trow[data-layer="${name}"]`, 'Show Activation Histogram');
  const panel = await waitForWebviewFrame(wb.page, { selector: '[data-testid="grid-errors"] tbody tr', timeout: 180_000 }).catch(async (e) => {
    await shot('failure-histogram');
    console.log(extensionHostLog(wb.server).slice(-3000));
    throw e;
  });
  const grids = await panel.locator('[data-testid="grid-errors"]').innerText();
  assert.match(grids, /log2/);
  assert.match(grids, /tan/);
  assert.equal(await panel.locator('[data-testid="activation-histogram"]').getAttribute('data-log'), 'log');
  await shot('histogram');
});

test('the accuracy view compares FP32 and the config and charts the error per layer', { timeout: 300_000 }, async () => {
  await runCommand(wb.page, 'View: Close All Editors');
  await openFile(wb.page, 'samples/cnn.onnx');
  await waitForWebviewFrame(wb.page, { selector: '.trow', timeout: 120_000 });
  await runCommand(wb.page, 'QuantLens: Accuracy Delta');
  const view = await waitForWebviewFrame(wb.page, { selector: '[data-testid="propagation-chart"] svg', timeout: 240_000 });
  assert.match(await view.locator('[data-testid="acc-delta"]').innerText(), /pts/);
  await shot('accuracy');
});

test('after a window reload the histogram and accuracy panels come back, refilled by the host', { timeout: 300_000 }, async () => {
  await runCommand(wb.page, 'View: Close All Editors');
  await openFile(wb.page, 'samples/cnn.onnx');
  const editor = await waitForWebviewFrame(wb.page, { selector: '.trow', timeout: 120_000 });
  await runCommand(wb.page, 'QuantLens: Accuracy Delta');
  await waitForWebviewFrame(wb.page, { selector: '[data-testid="propagation-chart"] svg', timeout: 240_000 });
  // then the histogram panel of a layer other than the first, in the same group: the accuracy tab goes to the back
  await editor.locator('.trow', { hasText: 'conv2' }).first().click();
  await runCommand(wb.page, 'QuantLens: Show Activation Histogram');
  const title = '[data-testid="activation-title"]:has-text("conv2")';
  await waitForWebviewFrame(wb.page, { selector: title, timeout: 180_000 });
  await runCommand(wb.page, 'Developer: Reload Window');
  await wb.page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  // the visible panel is restored at once, on the same layer, with data the host computed again (a webview keeps
  // only which model and layer it showed; without the panel serializer VS Code would drop the panel)
  const histogram = await waitForWebviewFrame(wb.page, { selector: title, timeout: 180_000 }).catch(async (e) => {
    await shot('failure-restore');
    console.log(extensionHostLog(wb.server).slice(-3000));
    throw e;
  });
  await histogram.locator('[data-testid="activation-histogram"] svg').first().waitFor({ timeout: 60_000 });
  await shot('restored-histogram');
  // a panel in a background tab is restored when it is shown
  await wb.page.locator('.tabs-container .tab .label-name', { hasText: 'Accuracy Delta' }).first().click();
  const accuracy = await waitForWebviewFrame(wb.page, { selector: '[data-testid="propagation-chart"] svg', timeout: 240_000 });
  assert.match(await accuracy.locator('[data-testid="acc-delta"]').innerText(), /pts/);
});
