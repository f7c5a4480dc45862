// SPDX-License-Identifier: Apache-2.0
/**
 * Runs a built webview bundle (dist/webview/<view>.js) in real headless Chromium, inside the same HTML and CSP
 * the extension serves, with a mocked host: `acquireVsCodeApi()` is replaced by a transport that hands every
 * posted message to this Node process, which answers RPC requests with handlers the test supplies.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { existsSync, mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { contentSecurityPolicy, makeNonce, renderPage } from '../../extension/webviewHtml';
import { parseFromWebview, type FromWebview, type RpcMethod, type ToWebview, type TrustInfo, type ViewData, type ViewName } from '../../webview/protocol';

export const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(__dirname, '..', '..');
export const ARTIFACTS = path.join(root, 'test-artifacts', 'webview');

/** Whether the browser tests can run here (Chromium installed and the bundles built). */
export function canRunBrowser(view: ViewName): boolean {
  return existsSync(CHROMIUM) && existsSync(path.join(root, 'dist', 'webview', `${view}.js`));
}

/** VS Code's default Dark Modern / Light Modern values for the theme variables the views use. */
export const THEMES = {
  dark: {
    'font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif', 'font-size': '13px', 'editor-font-family': '"DejaVu Sans Mono", monospace', 'editor-font-size': '12px',
    foreground: '#cccccc', 'editor-background': '#1f1f1f', descriptionForeground: '#9d9d9d', 'panel-border': '#2b2b2b',
    'list-hoverBackground': '#2a2d2e', 'list-activeSelectionBackground': '#04395e', 'list-activeSelectionForeground': '#ffffff',
    focusBorder: '#0078d4', 'input-background': '#313131', 'input-foreground': '#cccccc', 'input-border': '#3c3c3c',
    'badge-background': '#616161', 'badge-foreground': '#f8f8f8', 'textLink-foreground': '#4daafc', errorForeground: '#f85149',
    'editorWarning-foreground': '#cca700', 'textBlockQuote-background': '#2b2b2b', 'charts-foreground': '#cccccc',
    'charts-red': '#f14c4c', 'charts-blue': '#3794ff', 'charts-yellow': '#cca700', 'charts-orange': '#d18616', 'charts-green': '#89d185', 'charts-purple': '#b180d7',
    'editorHoverWidget-background': '#202020', 'editorHoverWidget-border': '#454545', 'editorHoverWidget-foreground': '#cccccc',
    // read by the webview-ui-toolkit controls
    'button-background': '#0078d4', 'button-foreground': '#ffffff', 'button-hoverBackground': '#026ec1', 'button-border': '#ffffff12',
    'button-secondaryBackground': '#313131', 'button-secondaryForeground': '#cccccc', 'button-secondaryHoverBackground': '#3c3c3c',
    'checkbox-background': '#313131', 'checkbox-border': '#3c3c3c', 'checkbox-foreground': '#cccccc', 'dropdown-background': '#313131',
    'dropdown-border': '#3c3c3c', 'dropdown-foreground': '#cccccc', 'input-placeholderForeground': '#989898', 'progressBar-background': '#0078d4',
    'settings-dropdownListBorder': '#454545', 'panel-background': '#181818',
  },
  light: {
    'font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif', 'font-size': '13px', 'editor-font-family': '"DejaVu Sans Mono", monospace', 'editor-font-size': '12px',
    foreground: '#3b3b3b', 'editor-background': '#ffffff', descriptionForeground: '#717171', 'panel-border': '#e5e5e5',
    'list-hoverBackground': '#f2f2f2', 'list-activeSelectionBackground': '#e8e8e8', 'list-activeSelectionForeground': '#000000',
    focusBorder: '#005fb8', 'input-background': '#ffffff', 'input-foreground': '#3b3b3b', 'input-border': '#cecece',
    'badge-background': '#cccccc', 'badge-foreground': '#3b3b3b', 'textLink-foreground': '#005fb8', errorForeground: '#e51400',
    'editorWarning-foreground': '#bf8803', 'textBlockQuote-background': '#f8f8f8', 'charts-foreground': '#616161',
    'charts-red': '#e51400', 'charts-blue': '#1a85ff', 'charts-yellow': '#bf8803', 'charts-orange': '#d18616', 'charts-green': '#388a34', 'charts-purple': '#652d90',
    'editorHoverWidget-background': '#f8f8f8', 'editorHoverWidget-border': '#c8c8c8', 'editorHoverWidget-foreground': '#3b3b3b',
    'button-background': '#005fb8', 'button-foreground': '#ffffff', 'button-hoverBackground': '#0258a8', 'button-border': '#0000001a',
    'button-secondaryBackground': '#e5e5e5', 'button-secondaryForeground': '#3b3b3b', 'button-secondaryHoverBackground': '#cccccc',
    'checkbox-background': '#f8f8f8', 'checkbox-border': '#cecece', 'checkbox-foreground': '#3b3b3b', 'dropdown-background': '#ffffff',
    'dropdown-border': '#cecece', 'dropdown-foreground': '#3b3b3b', 'input-placeholderForeground': '#767676', 'progressBar-background': '#005fb8',
    'settings-dropdownListBorder': '#cecece', 'panel-background': '#f8f8f8',
  },
} as const;

type Handlers = Partial<Record<RpcMethod, (params: any) => unknown>>;

let browser: Browser | undefined;

/** One shared headless Chromium per test process. */
export async function getBrowser(): Promise<Browser> {
  browser ??= await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-default-apps', '--no-first-run'] });
  return browser;
}

export async function closeBrowser(): Promise<void> { await browser?.close(); browser = undefined; }

/** A view page plus the mocked host's record of what the view posted. */
export class MockHostPage {
  readonly posted: FromWebview[] = [];
  readonly refused: string[] = [];
  readonly consoleErrors: string[] = [];
  /** Content-Security-Policy violations the page reported ("directive: blocked URI or 'inline'"). */
  readonly cspViolations: string[] = [];
  private readyWaiters: (() => void)[] = [];
  private isReady = false;

  private constructor(readonly page: Page, private readonly handlers: Handlers) {}

  /** Open `view` with the given theme; resolves once the view has posted `ready`. */
  static async open(view: ViewName, opts: { handlers?: Handlers; theme?: keyof typeof THEMES; width?: number; height?: number; state?: unknown } = {}): Promise<MockHostPage> {
    const b = await getBrowser();
    const page = await b.newPage({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 } });
    const host = new MockHostPage(page, opts.handlers ?? {});
    page.on('console', (m) => { if (m.type() === 'error') host.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => host.consoleErrors.push(String(e)));
    if (process.env.QL_DEBUG) page.on('console', (m) => console.log('[page]', m.type(), m.text()));
    if (process.env.QL_DEBUG) page.on('pageerror', (e) => console.log('[pageerror]', e));
    await page.exposeFunction('__quantlensHostReceive', (m: unknown) => host.receive(m));
    await page.exposeFunction('__quantlensCspViolation', (v: string) => host.cspViolations.push(v));
    const theme = THEMES[opts.theme ?? 'dark'];
    // a plain string: functions serialised from tsx-compiled code would reference its helpers
    await page.addInitScript(`(() => {
      let saved = ${JSON.stringify(opts.state ?? null)};
      window.acquireVsCodeApi = () => ({
        postMessage: (m) => window.__quantlensHostReceive(m),
        getState: () => saved,
        setState: (s) => { saved = s; window.__savedState = s; },
      });
      document.addEventListener('securitypolicyviolation', (e) => window.__quantlensCspViolation(e.violatedDirective + ': ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile.split('/').pop() + ':' + e.lineNumber));
      document.addEventListener('DOMContentLoaded', () => {
        for (const [k, v] of Object.entries(${JSON.stringify(theme)})) document.documentElement.style.setProperty('--vscode-' + k, v);
      });
    })();`);
    const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-webview-'));
    const nonce = makeNonce();
    const scriptUri = pathToFileURL(path.join(root, 'dist', 'webview', `${view}.js`)).toString();
    const html = renderPage({ csp: contentSecurityPolicy('file:', nonce), nonce, scriptUri, title: view, view });
    writeFileSync(path.join(dir, 'index.html'), html);
    await page.goto(pathToFileURL(path.join(dir, 'index.html')).toString());
    await host.waitReady();
    return host;
  }

  private receive(raw: unknown): void {
    let msg: FromWebview;
    try { msg = parseFromWebview(raw); } catch (e) { this.refused.push((e as Error).message); return; }
    this.posted.push(msg);
    if (msg.type === 'ready') { this.isReady = true; this.readyWaiters.splice(0).forEach((f) => f()); }
    if (msg.type === 'request') void this.answer(msg);
  }

  private async answer(msg: Extract<FromWebview, { type: 'request' }>): Promise<void> {
    const h = this.handlers[msg.method];
    try {
      if (!h) throw Object.assign(new Error(`mock host has no '${msg.method}'`), { kind: 'usage' });
      const result = await h(msg.params);
      await this.send({ type: 'response', inReplyTo: msg.id, result });
    } catch (e) {
      await this.send({ type: 'errorReply', inReplyTo: msg.id, error: { kind: (e as { kind?: string }).kind ?? 'internal', message: (e as Error).message } });
    }
  }

  waitReady(): Promise<void> {
    return this.isReady ? Promise.resolve() : new Promise((r) => this.readyWaiters.push(r));
  }

  /** Post a host → webview message (as VS Code's postMessage does). */
  async send(msg: ToWebview | Record<string, unknown>): Promise<void> {
    // as a JSON string: Playwright's structured argument serialisation is slow for large reports
    await this.page.evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(msg));
  }

  async init(data: ViewData, trust: TrustInfo = { canExecute: true }): Promise<void> {
    await this.send({ type: 'init', trust, data });
  }

  /** Posted messages of one type. */
  ofType<T extends FromWebview['type']>(type: T): Extract<FromWebview, { type: T }>[] {
    return this.posted.filter((m) => m.type === type) as Extract<FromWebview, { type: T }>[];
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  async close(): Promise<void> { await this.page.close(); }
}
