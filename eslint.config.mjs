// SPDX-License-Identifier: Apache-2.0
// Lint enforces the one-way layering of DESIGN.md: extension → analysis → engine; webview talks to
// the host only through webview/protocol.ts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscode = { name: 'vscode', message: 'analysis/ and engine/ run in the CLI and plain Node: never import vscode.' };
const layer = (group, message) => ({ group, message });

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'engine/wasm/assembly/**', 'test-artifacts/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', performance: 'readonly', URL: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', WebAssembly: 'readonly', SharedArrayBuffer: 'readonly', Atomics: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly', __dirname: 'readonly', require: 'readonly', module: 'writable', globalThis: 'readonly', window: 'readonly', document: 'readonly', navigator: 'readonly', crypto: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', MessageChannel: 'readonly', fetch: 'readonly', acquireVsCodeApi: 'readonly', HTMLElement: 'readonly', getComputedStyle: 'readonly', ResizeObserver: 'readonly', requestAnimationFrame: 'readonly', MessageEvent: 'readonly', Event: 'readonly', KeyboardEvent: 'readonly', MouseEvent: 'readonly', HTMLInputElement: 'readonly', HTMLSelectElement: 'readonly', HTMLDivElement: 'readonly', HTMLCanvasElement: 'readonly', SVGSVGElement: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  { files: ['**/*.js', '**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  {
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noVscode],
        patterns: [
          layer(['**/analysis', '**/analysis/**'], 'engine/ is the lowest layer: it never imports analysis/.'),
          layer(['**/extension', '**/extension/**', '**/webview/**'], 'engine/ never imports extension/ or webview/.'),
        ],
      }],
    },
  },
  {
    files: ['analysis/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noVscode],
        patterns: [layer(['**/extension', '**/extension/**', '**/webview/**'], 'analysis/ never imports extension/ or webview/.')],
      }],
    },
  },
  {
    files: ['webview/**/*.ts', 'webview/**/*.tsx'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'The webview reaches the host only through messages (webview/protocol.ts).' }],
        patterns: [
          layer(['**/extension', '**/extension/**'], 'The webview talks to the host only through webview/protocol.ts.'),
          layer(['**/engine', '**/engine/**'], 'The webview does not run the engine; ask the host through webview/protocol.ts.'),
          { group: ['**/analysis/**', '!**/analysis/report', '!**/analysis/report.ts'], allowTypeImports: true, message: 'The webview may only import types from analysis/report.' },
        ],
      }],
    },
  },
);
