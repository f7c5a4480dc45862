// SPDX-License-Identifier: Apache-2.0
/**
 * Data shared between projects lives beside the repository, in ../shared (on a fresh clone too: .ci/run checks it).
 * Tests resolve it from the repository, never from an absolute path, and fail loudly when it is missing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Repository root. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** The ONNX backend conformance models: `<repo>/../shared/onnx-conformance`. Throws if the folder is missing. */
export function conformanceDir(): string {
  const dir = path.resolve(REPO_ROOT, '../shared/onnx-conformance');
  if (!existsSync(dir)) throw new Error(`ONNX conformance models not found at ${dir}: put ../shared/onnx-conformance beside the repository`);
  return dir;
}
