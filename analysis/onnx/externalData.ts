// SPDX-License-Identifier: Apache-2.0
/**
 * External tensor data (data_location = EXTERNAL). A model from anywhere must not make us read anywhere:
 * `location` must be a relative path without `..` whose real path (symlinks resolved) stays inside the
 * model's folder, and only the declared [offset, offset+length) window is read.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { QuantLensError } from '../../engine/errors';

export interface ExternalRef {
  location: string;
  offset: number;
  length?: number;
}

/** Parses the key/value entries of TensorProto.external_data. */
export function parseExternalRef(
  entries: { key?: string | null; value?: string | null }[] | null | undefined, file: string, what: string,
): ExternalRef {
  const kv = new Map<string, string>();
  for (const e of entries ?? []) kv.set(e.key ?? '', e.value ?? '');
  const location = kv.get('location');
  if (!location) throw new QuantLensError('external-data', `${file}: ${what} is stored externally but names no location`, file);
  const num = (key: string): number | undefined => {
    const raw = kv.get(key);
    if (raw === undefined || raw === '') return undefined;
    const v = Number(raw);
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new QuantLensError('external-data', `${file}: ${what} has an invalid external-data ${key} '${raw}'`, file);
    }
    return v;
  };
  return { location, offset: num('offset') ?? 0, length: num('length') };
}

/** The real path of `location` inside baseDir, or a QuantLensError('external-data') saying why not. */
export function resolveInside(baseDir: string, location: string, file: string, what: string): string {
  const refuse = (why: string): never => {
    throw new QuantLensError('external-data', `${file}: ${what} external data location '${location}' ${why}`, file);
  };
  if (location.includes('\0')) refuse('contains a NUL byte');
  if (path.isAbsolute(location) || path.win32.isAbsolute(location) || /^[a-zA-Z]:/.test(location)) {
    refuse('is an absolute path; only paths inside the model folder are allowed');
  }
  if (location.split(/[\\/]+/).includes('..')) refuse("contains '..' and would leave the model folder");
  const candidate = path.join(baseDir, location);
  if (!existsSync(candidate)) refuse(`does not exist (looked for ${candidate})`);
  let realBase: string;
  let real: string;
  try {
    realBase = realpathSync(baseDir);
    real = realpathSync(candidate);
  } catch (e) {
    return refuse(`cannot be resolved (${(e as Error).message})`);
  }
  if (real !== realBase && !real.startsWith(realBase.endsWith(path.sep) ? realBase : realBase + path.sep)) {
    refuse('resolves (through a symlink) outside the model folder');
  }
  return real;
}

/** Checks, without reading, that the window [offset, offset+expectedBytes) lies inside a file inside baseDir. */
export function checkExternalWindow(baseDir: string, ref: ExternalRef, expectedBytes: number, file: string, what: string): void {
  const real = resolveInside(baseDir, ref.location, file, what);
  if (ref.length !== undefined && ref.length !== expectedBytes) {
    throw new QuantLensError('external-data',
      `${file}: ${what} declares external length ${ref.length} bytes but its shape and type need ${expectedBytes}`, file);
  }
  let size: number;
  try {
    const st = statSync(real);
    if (!st.isFile()) throw new QuantLensError('external-data', `${file}: ${what} external data '${ref.location}' is not a regular file`, file);
    size = st.size;
  } catch (e) {
    if (e instanceof QuantLensError) throw e;
    throw new QuantLensError('external-data', `${file}: ${what} external data '${ref.location}' cannot be read (${(e as Error).message})`, file);
  }
  if (ref.offset + expectedBytes > size) {
    throw new QuantLensError('external-data',
      `${file}: ${what} needs bytes ${ref.offset}..${ref.offset + expectedBytes} of '${ref.location}' but that file has only ${size}`, file);
  }
}

/**
 * Reads exactly `expectedBytes` of external data. The caller has already checked expectedBytes against the
 * caps, so the one allocation here is bounded; the declared window is checked against the file size first.
 */
export function readExternalData(
  baseDir: string, ref: ExternalRef, expectedBytes: number, file: string, what: string,
): Uint8Array {
  const real = resolveInside(baseDir, ref.location, file, what);
  if (ref.length !== undefined && ref.length !== expectedBytes) {
    throw new QuantLensError('external-data',
      `${file}: ${what} declares external length ${ref.length} bytes but its shape and type need ${expectedBytes}`, file);
  }
  let fd: number;
  try {
    fd = openSync(real, 'r');
  } catch (e) {
    throw new QuantLensError('external-data', `${file}: ${what} external data '${ref.location}' cannot be opened (${(e as Error).message})`, file);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new QuantLensError('external-data', `${file}: ${what} external data '${ref.location}' is not a regular file`, file);
    if (ref.offset + expectedBytes > st.size) {
      throw new QuantLensError('external-data',
        `${file}: ${what} needs bytes ${ref.offset}..${ref.offset + expectedBytes} of '${ref.location}' but that file has only ${st.size}`, file);
    }
    const out = Buffer.allocUnsafe(expectedBytes);
    let done = 0;
    while (done < expectedBytes) {
      // readSync reads at most 2 GiB per call; loop in 256 MiB chunks
      const chunk = Math.min(expectedBytes - done, 256 * 1024 * 1024);
      const n = readSync(fd, out, done, chunk, ref.offset + done);
      if (n <= 0) throw new QuantLensError('external-data', `${file}: ${what} external data '${ref.location}' ended early`, file);
      done += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
