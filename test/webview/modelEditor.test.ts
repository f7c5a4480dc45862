// SPDX-License-Identifier: Apache-2.0
// The model editor webview in real headless Chromium, served with the extension's own HTML and CSP, against a
// mocked host transport.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canRunBrowser, closeBrowser, MockHostPage } from './mockHost';
import { HOSTILE_NAMES, report } from './reportFixtures';
import { isControlDisabled, typeInto } from './toolkitDriver';
import type { ModelEditorData } from '../../webview/protocol';

const skip = !canRunBrowser('modelEditor') && 'needs /usr/bin/chromium and a built dist/webview/modelEditor.js';
const data = (n: number, names: string[] = []): ModelEditorData => ({ view: 'modelEditor', report: report(n, names), analysed: true });

describe('model editor webview', { skip }, () => {
  let host: MockHostPage;
  before(async () => { host = await MockHostPage.open('modelEditor'); });
  after(async () => { await host?.close(); await closeBrowser(); });

  test('renders the summary and a virtualised table of 5000 layers quickly', async () => {
    const big = data(5000);
    const t0 = Date.now();
    await host.init(big);
    await host.page.getByTestId('row-count').filter({ hasText: '5000 of 5000 layers' }).waitFor();
    const tRender = Date.now() - t0;
    const rendered = await host.page.locator('.trow').count();
    assert.ok(rendered > 10 && rendered < 120, `only visible rows are in the DOM (got ${rendered})`);
    assert.match(await host.page.getByTestId('summary').innerText(), /pytorch 1\.13/);
    // scrolling to the end renders the last rows
    await host.page.getByTestId('layer-table').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await host.page.locator('[data-layer="layer_04999"]').waitFor();
    // a figure for the report, not a timed assertion (the machine is shared)
    console.log(`5000-layer table: first render ${tRender} ms, render + scroll to end ${Date.now() - t0} ms`);
  });

  test('sorts by a column and filters by op and by text', async () => {
    await host.page.locator('[data-sort="params"]').click(); // numeric columns sort descending first
    assert.equal(await host.page.locator('[data-sort="params"]').getAttribute('aria-sort'), 'descending');
    await host.page.getByTestId('layer-table').evaluate((el) => { el.scrollTop = 0; });
    // the virtualised table re-renders on the scroll event, after this call returns: wait for the top rows to be
    // drawn (the previous test left the table scrolled to its end) before reading the first one
    await host.page.waitForFunction(() => (document.querySelector('.trow') as HTMLElement | null)?.style.transform === 'translateY(0px)');
    const first = await host.page.locator('.trow').first().getAttribute('data-layer');
    assert.ok(first && Number(first.slice(6)) % 4 === 3, `largest params first, got ${first}`);
    await typeInto(host.page.getByTestId('filter'), 'op:Conv');
    await host.page.getByTestId('row-count').filter({ hasText: '1667 of 5000' }).waitFor();
    await typeInto(host.page.getByTestId('filter'), 'layer_0001');
    await host.page.getByTestId('row-count').filter({ hasText: '10 of 5000' }).waitFor();
    const saved = await host.page.evaluate(() => (window as any).__savedState);
    assert.equal(saved.query, 'layer_0001', 'the filter is kept in webview state');
    assert.deepEqual(saved.sort, { key: 'params', desc: true });
  });

  test('selecting a row opens the detail pane, tells the host, and carries the context-menu data', async () => {
    await host.page.locator('[data-layer="layer_00012"]').click();
    await host.page.getByTestId('detail-name').filter({ hasText: 'layer_00012' }).waitFor();
    assert.deepEqual(host.ofType('selectLayer').at(-1), { type: 'selectLayer', layer: 'layer_00012' });
    const ctx = JSON.parse((await host.page.locator('[data-layer="layer_00012"]').getAttribute('data-vscode-context'))!);
    assert.equal(ctx.webviewSection, 'layer');
    assert.equal(ctx.layerName, 'layer_00012');
    await host.page.getByTestId('detail-histogram').locator('svg').first().waitFor();
    await host.page.getByTestId('sensitivity-table').waitFor();
    // keyboard navigation moves the selection to the next row in table order
    const order = await host.page.locator('.trow').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-layer')));
    const next = order[order.indexOf('layer_00012') + 1]!;
    await host.page.getByTestId('layer-table').press('ArrowDown');
    await host.page.getByTestId('detail-name').filter({ hasText: next }).waitFor();
  });

  test('a host selection (tree view) selects and reveals the row', async () => {
    await typeInto(host.page.getByTestId('filter'), '');
    await host.send({ type: 'selection', layer: 'layer_03000' });
    await host.page.getByTestId('detail-name').filter({ hasText: 'layer_03000' }).waitFor();
    await host.page.locator('[data-layer="layer_03000"].selected').waitFor();
  });

  test('Quantize Layer… in the detail pane calls the host', async () => {
    await host.page.getByTestId('detail-quantize').click();
    await host.page.getByTestId('error-banner').waitFor(); // the mock host does not implement it: an error reply
    const req = host.ofType('request').at(-1)!;
    assert.equal(req.method, 'quantizeLayer');
    assert.deepEqual(req.params, { layer: 'layer_03000' });
    assert.match(await host.page.getByTestId('error-banner').innerText(), /mock host has no 'quantizeLayer'/);
  });

  test('messages that break the protocol are refused and reported, and the view keeps working', async () => {
    const before = host.ofType('log').length;
    await host.send({ type: 'init', trust: { canExecute: true }, data: { view: 'modelEditor' }, extra: 1 });
    await host.send({ type: 'evil', payload: '<script>' });
    await host.page.waitForFunction(() => true);
    await new Promise((r) => setTimeout(r, 200));
    const logs = host.ofType('log').slice(before);
    assert.equal(logs.length, 2);
    assert.match(logs[0].message, /unknown field 'extra'/);
    assert.match(logs[1].message, /unknown message type 'evil'/);
    assert.equal(await host.page.locator('.trow').count() > 0, true);
  });

  test('model-provided names with markup and script are shown as text, never executed', async () => {
    const violations: string[] = [];
    await host.page.exposeFunction('__cspViolation', (v: string) => violations.push(v));
    await host.page.evaluate(() => document.addEventListener('securitypolicyviolation', (e) => (window as any).__cspViolation(e.violatedDirective)));
    await host.send({ type: 'update', data: data(20, HOSTILE_NAMES) });
    await host.page.getByTestId('row-count').filter({ hasText: '20 of 20' }).waitFor();
    await typeInto(host.page.getByTestId('filter'), '');
    for (const name of HOSTILE_NAMES) {
      await host.page.locator('.trow').filter({ hasText: name }).first().click();
      await host.page.getByTestId('detail-name').filter({ hasText: name }).waitFor();
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await host.page.evaluate(() => (window as any).__pwned), undefined);
    assert.equal(await host.page.locator('#root img, #root script, #root svg[onload]').count(), 0);
    assert.deepEqual(violations, []);
  });

  test('reads well in the dark and light themes (screenshots)', async () => {
    for (const theme of ['dark', 'light'] as const) {
      const h = await MockHostPage.open('modelEditor', { theme, width: 1280, height: 720 });
      await h.init(data(400));
      await h.page.locator('[data-layer="layer_00003"]').click();
      await h.page.getByTestId('detail-histogram').locator('svg').first().waitFor();
      await h.screenshot(`model-editor-${theme}`);
      // the toolkit's web components style themselves with constructed stylesheets, which the nonce CSP allows
      assert.deepEqual(h.cspViolations, []);
      assert.equal(await h.page.locator('vscode-button').first().evaluate((el) => (el.shadowRoot?.adoptedStyleSheets.length ?? 0) > 0), true, 'the toolkit button is styled');
      await h.close();
    }
  });

  test('an untrusted workspace shows why, and execution buttons are disabled', async () => {
    await host.init(data(30), { canExecute: false, reason: 'the workspace is not trusted, so the model is not executed.' });
    await host.page.getByTestId('trust-banner').waitFor();
    assert.match(await host.page.getByTestId('trust-banner').innerText(), /not trusted/);
    assert.equal(await isControlDisabled(host.page.getByTestId('analyse')), true);
  });
});
