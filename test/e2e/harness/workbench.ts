// SPDX-License-Identifier: Apache-2.0
// Drives the VS Code workbench served by code-server with playwright-core and Debian's chromium: open the
// workbench, open a file by path, run a palette command, find an extension's webview frame, take screenshots.
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, extensionHostLog, startCodeServer, type CodeServer, type StartOptions } from './codeServer';

/** Chromium flags: headless in a container, no GPU, and nothing that phones home. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps'];
/** The extension under test. */
export const EXTENSION_ID = 'quantlens.quantlens';

/** A code-server with a browser page showing its workbench. */
export interface Workbench {
  server: CodeServer;
  browser: Browser;
  page: Page;
  /** Browser console errors seen so far. */
  consoleErrors: string[];
  close(): Promise<void>;
}

/** Starts code-server (installing the .vsix) and loads the workbench in headless chromium at 1280×800. */
export async function openWorkbench(opts: StartOptions = {}): Promise<Workbench> {
  const server = await startCodeServer(opts);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const consoleErrors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await page.goto(`${server.url}/?folder=${encodeURIComponent(server.workspace)}`);
    // The workbench is usable once the explorer shows the workspace folder's files.
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 90_000 });
    const b = browser;
    return { server, browser: b, page, consoleErrors, async close() { await b.close().catch(() => {}); await server.stop(); } };
  } catch (e) {
    await browser?.close().catch(() => {});
    await server.stop();
    throw e;
  }
}

/** Opens the command palette, runs the command with this exact title (e.g. "QuantLens: Open Sample Model"). */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: title }) }).first();
  await row.waitFor({ timeout: 15_000 });
  await row.click();
  await input.waitFor({ state: 'hidden' });
}

/** Opens a workspace file through Quick Open by its path relative to the workspace folder. */
export async function openFile(page: Page, relPath: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(relPath);
  const base = path.basename(relPath);
  const row = page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: base }) }).first();
  await row.waitFor({ timeout: 15_000 });
  // click the matching row: Enter could still pick the first row of the list before it was filtered (a recent file)
  await row.click();
  await input.waitFor({ state: 'hidden' });
}

/** Picks the item with this label in an open quick pick (e.g. the format choice of "Quantize Layer…"). */
export async function pickQuickItem(page: Page, label: string | RegExp): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  if (typeof label === 'string') await input.fill(label);
  const row = page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: label }) }).first();
  await row.waitFor({ timeout: 15_000 });
  await row.click();
}

/** Right-clicks `selector` inside a webview frame and chooses `item` from the workbench context menu it opens. */
export async function webviewContextMenu(page: Page, frame: Frame, selector: string, item: string): Promise<void> {
  await frame.locator(selector).first().click({ button: 'right' });
  const entry = page.locator('.context-view .monaco-menu .action-label', { hasText: item }).first();
  await entry.waitFor({ timeout: 15_000 });
  await entry.click();
}

/** Waits for a notification toast whose message matches `text`; returns its full text. */
export async function waitForNotification(page: Page, text: string | RegExp, timeout = 60_000): Promise<string> {
  const toast = page.locator('.notification-toast .notification-list-item-message', { hasText: text }).first();
  await toast.waitFor({ timeout });
  return (await toast.textContent()) ?? '';
}

/** The label of the active editor tab. */
export async function activeTabLabel(page: Page): Promise<string> {
  return (await page.locator('.tabs-container .tab.active .label-name').first().textContent())?.trim() ?? '';
}

/**
 * Waits for the content frame of a webview owned by `extensionId` (VS Code nests it as iframe.webview >
 * iframe#active-frame) that contains `selector`, and returns it for queries.
 */
export async function waitForWebviewFrame(page: Page, opts: { selector?: string; extensionId?: string; timeout?: number } = {}): Promise<Frame> {
  const { selector = 'body', extensionId = EXTENSION_ID, timeout = 60_000 } = opts;
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const frame of page.frames()) {
      const parent = frame.parentFrame();
      if (!parent || !parent.url().includes(`extensionId=${encodeURIComponent(extensionId)}`)) continue;
      if (frame.name() !== 'active-frame' && !frame.url().includes('fake.html')) continue;
      if (await frame.$(selector).catch(() => null)) return frame;
    }
    if (Date.now() > deadline) {
      const urls = page.frames().map((f) => f.url()).join('\n  ');
      throw new Error(`no webview of ${extensionId} containing ${selector} within ${timeout} ms; frames:\n  ${urls}`);
    }
    await page.waitForTimeout(250);
  }
}

/** Saves a PNG of the whole workbench page to test-artifacts/e2e/<name>.png; returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Waits until the extension host log says the extension was activated; returns the log line. */
export async function waitForActivation(wb: Workbench, extensionId = EXTENSION_ID, timeout = 60_000): Promise<string> {
  const deadline = Date.now() + timeout;
  const re = new RegExp(`^.*(?:activating extension|ExtensionService#_doActivateExtension) '?${extensionId.replace('.', '\\.')}'?.*$`, 'im');
  for (;;) {
    const m = re.exec(extensionHostLog(wb.server));
    if (m) return m[0];
    if (Date.now() > deadline) throw new Error(`${extensionId} did not activate within ${timeout} ms; extension host log:\n${extensionHostLog(wb.server).slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Runs one scenario step; if it throws, saves test-artifacts/e2e/<name>-failure.png and rethrows with the tail of
 * the extension host log and the browser console errors attached, so a CI failure explains itself.
 */
export async function step<T>(wb: Workbench, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const shot = await screenshot(wb.page, `${name}-failure`).catch(() => '(no screenshot)');
    const err = e instanceof Error ? e : new Error(String(e));
    err.message += `\n--- screenshot: ${shot}\n--- extension host log (tail):\n${extensionHostLog(wb.server).slice(-3000)}` +
      `\n--- browser console errors:\n${wb.consoleErrors.slice(-10).join('\n')}`;
    throw err;
  }
}
