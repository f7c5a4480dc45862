// SPDX-License-Identifier: Apache-2.0
/** The VS Code end-to-end harness: code-server lifecycle plus workbench helpers (see test/e2e/smoke.e2e.test.ts). */
export * from './codeServer';
export * from './workbench';
