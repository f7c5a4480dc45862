// SPDX-License-Identifier: Apache-2.0
// Starts and stops a real VS Code (code-server, installed into .e2e/ by scripts/e2e-setup.sh) with the QuantLens
// .vsix installed, on 127.0.0.1 without auth, in throw-away user-data, extensions and config folders.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Repository root. */
export const REPO = path.resolve(__dirname, '../../..');
/** Where scripts/e2e-setup.sh installs code-server (override with QUANTLENS_E2E_DIR). */
export const E2E_DIR = process.env.QUANTLENS_E2E_DIR ?? path.join(REPO, '.e2e');
/** Screenshots and logs of the e2e runs. */
export const ARTIFACTS = path.join(REPO, 'test-artifacts', 'e2e');
const ENTRY = path.join(E2E_DIR, 'node_modules/code-server/out/node/entry.js');

/** Settings that keep the workbench quiet and deterministic: no welcome page, trust prompt, tips or updates. */
const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
  'workbench.colorTheme': 'Default Dark Modern',
};

/** A running code-server and the folders it owns. */
export interface CodeServer {
  url: string;
  port: number;
  workspace: string;
  userDataDir: string;
  extensionsDir: string;
  /** Everything code-server printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The .vsix to install; built with scripts/package.mjs when omitted (or taken from QUANTLENS_VSIX). */
  vsix?: string;
  /** Folder opened as the workspace; defaults to a fresh temporary folder holding a copy of samples/, so
   *  whatever a test writes (configs, exports) never lands in the repository. */
  workspace?: string;
  /** User settings merged over the defaults. */
  settings?: Record<string, unknown>;
  /** Keep VS Code's workspace trust on (default: off, so the workspace is trusted without a prompt). */
  workspaceTrust?: boolean;
}

/** Fails with a clear message when the setup script has not been run. */
export function assertInstalled(): void {
  if (!existsSync(ENTRY)) throw new Error(`code-server is not installed at ${E2E_DIR}; run \`bash scripts/e2e-setup.sh\` first`);
}

/** Builds the platform .vsix once per process (about 30 s) unless QUANTLENS_VSIX names one. */
let builtVsix: string | undefined;
export function ensureVsix(): string {
  if (process.env.QUANTLENS_VSIX) return path.resolve(process.env.QUANTLENS_VSIX);
  if (builtVsix && existsSync(builtVsix)) return builtVsix;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quantlens-e2e-vsix-'));
  builtVsix = path.join(dir, 'quantlens.vsix');
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [path.join(REPO, 'scripts/package.mjs'), '--out', builtVsix], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/package.mjs failed:\n${r.stdout}\n${r.stderr}`);
  return builtVsix;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Environment that keeps code-server's config and logs out of the user's home. */
function isolatedEnv(root: string): NodeJS.ProcessEnv {
  return { ...process.env, XDG_CONFIG_HOME: path.join(root, 'config'), XDG_DATA_HOME: path.join(root, 'data'), XDG_CACHE_HOME: path.join(root, 'cache'), VSCODE_CLI: undefined, ELECTRON_RUN_AS_NODE: undefined };
}

/** Installs the .vsix, then launches code-server and waits until it answers /healthz. */
export async function startCodeServer(opts: StartOptions = {}): Promise<CodeServer> {
  assertInstalled();
  const root = mkdtempSync(path.join(os.tmpdir(), 'quantlens-code-server-'));
  const userDataDir = path.join(root, 'user-data');
  const extensionsDir = path.join(root, 'extensions');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(path.join(userDataDir, 'User/settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...opts.settings }, null, 2));
  const env = isolatedEnv(root);
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--config', path.join(root, 'config.yaml')];

  const vsix = opts.vsix ?? ensureVsix();
  const inst = spawnSync(process.execPath, [ENTRY, ...common, '--install-extension', vsix], { env, encoding: 'utf8', timeout: 120_000 });
  if (inst.status !== 0 || !/successfully installed/i.test(inst.stdout + inst.stderr)) {
    throw new Error(`code-server --install-extension ${vsix} failed (${inst.status}):\n${inst.stdout}\n${inst.stderr}`);
  }

  const port = await freePort();
  let workspace = opts.workspace ? path.resolve(opts.workspace) : path.join(root, 'workspace');
  if (!opts.workspace) cpSync(path.join(REPO, 'samples'), path.join(workspace, 'samples'), { recursive: true });
  workspace = realpathSync(workspace);
  let log = '';
  const child: ChildProcess = spawn(process.execPath, [ENTRY, ...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']), '--disable-getting-started-override',
    '--ignore-last-opened', workspace], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout!.on('data', (d) => { log += d; });
  child.stderr!.on('data', (d) => { log += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${log}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } throw new Error(`code-server did not answer on ${url} within 60 s:\n${log}`); }
    await new Promise((r) => setTimeout(r, 250));
  }

  return {
    url, port, workspace, userDataDir, extensionsDir,
    output: () => log,
    async stop() {
      // code-server runs in its own process group: stopping the group also ends the extension host and the
      // file watcher, which would otherwise still write into user-data while it is being removed.
      const signalGroup = (sig: NodeJS.Signals) => { try { process.kill(-child.pid!, sig); } catch { /* already gone */ } };
      if (child.exitCode === null) {
        signalGroup('SIGTERM');
        const killer = setTimeout(() => signalGroup('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
      signalGroup('SIGKILL');
      rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    },
  };
}

/** Extension ids code-server reports as installed in this server's extensions folder. */
export function installedExtensions(server: CodeServer): string[] {
  return readdirSync(server.extensionsDir).filter((d) => statSync(path.join(server.extensionsDir, d)).isDirectory())
    .map((d) => { try { const m = JSON.parse(readFileSync(path.join(server.extensionsDir, d, 'package.json'), 'utf8')); return `${m.publisher}.${m.name}`; } catch { return ''; } })
    .filter(Boolean);
}

/** The remote extension host's log (activation messages and extension errors land here). */
export function extensionHostLog(server: CodeServer): string {
  const logs = path.join(server.userDataDir, 'logs');
  if (!existsSync(logs)) return '';
  const files: string[] = [];
  const walk = (d: string) => { for (const n of readdirSync(d)) { const p = path.join(d, n); if (statSync(p).isDirectory()) walk(p); else if (/^(remoteexthost|exthost)\.log$/.test(n)) files.push(p); } };
  walk(logs);
  return files.map((f) => readFileSync(f, 'utf8')).join('\n');
}
