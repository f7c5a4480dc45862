// SPDX-License-Identifier: Apache-2.0
/**
 * Resource caps the loader enforces BEFORE it allocates: every hostile size is refused from the declared
 * numbers, never discovered by running out of memory. Defaults may be overridden per call or by environment
 * (QUANTLENS_MAX_TENSOR_MB, QUANTLENS_MAX_MEMORY_MB) so the CLI and the extension share one policy.
 */
export interface LoadLimits {
  /** Largest decoded tensor, in bytes. */
  maxTensorBytes: number;
  /** Sum of all decoded tensors of one model (the analysis memory cap), in bytes. */
  maxTotalBytes: number;
  /** Largest .onnx / .pb file read into memory (bigger models must use external data). */
  maxFileBytes: number;
  /** Deepest nesting of subgraphs (If/Loop/Scan bodies inside bodies). */
  maxGraphDepth: number;
}

const MB = 1024 * 1024;

function envMb(name: string): number | undefined {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v * MB : undefined;
}

/** The default caps (2 GiB per tensor, 8 GiB per model, 2 GiB per file, 64 nested graphs). */
export function defaultLimits(): LoadLimits {
  return {
    maxTensorBytes: envMb('QUANTLENS_MAX_TENSOR_MB') ?? 2048 * MB,
    maxTotalBytes: envMb('QUANTLENS_MAX_MEMORY_MB') ?? 8192 * MB,
    maxFileBytes: 2048 * MB,
    maxGraphDepth: 64,
  };
}

/** Defaults with the caller's overrides applied. */
export function resolveLimits(overrides?: Partial<LoadLimits>): LoadLimits {
  const limits = defaultLimits();
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (typeof v === 'number' && v > 0) limits[k as keyof LoadLimits] = v;
  }
  return limits;
}

/** Human-readable byte count for messages. */
export function formatBytes(n: number): string {
  if (n >= 1024 * MB) return `${(n / (1024 * MB)).toFixed(2)} GiB`;
  if (n >= MB) return `${(n / MB).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
