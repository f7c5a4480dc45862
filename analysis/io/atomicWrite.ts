// SPDX-License-Identifier: Apache-2.0
/**
 * The one place QuantLens writes user-visible files: a temp file in the same folder, fsync, then rename, so a
 * crash or a full disk never leaves a half-written config or report. Refuses to replace an existing file
 * unless `overwrite` is set (exports must not clobber without --force).
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { QuantLensError } from '../../engine/errors';

export interface AtomicWriteOptions {
  /** Replace an existing file (default true for reports/configs; exports pass false unless --force). */
  overwrite?: boolean;
  mode?: number;
}

/** Writes `data` to `file` atomically. */
export function atomicWriteFile(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const target = path.resolve(file);
  if (opts.overwrite === false && existsSync(target)) {
    throw new QuantLensError('usage', `${file}: already exists; pass --force to overwrite it`, file);
  }
  const dir = path.dirname(target);
  if (!existsSync(dir)) throw new QuantLensError('io', `${file}: folder ${dir} does not exist`, file);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
    fsyncDir(dir);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    if (e instanceof QuantLensError) throw e;
    throw new QuantLensError('io', `${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
}

/** Makes the rename durable; some file systems refuse to open folders, which is harmless. */
function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* best effort */ }
}

/** Writes a value as pretty JSON (trailing newline) atomically. */
export function atomicWriteJson(file: string, value: unknown, opts?: AtomicWriteOptions): void {
  atomicWriteFile(file, `${JSON.stringify(value, null, 2)}\n`, opts);
}
