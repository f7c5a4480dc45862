// SPDX-License-Identifier: Apache-2.0
/**
 * Exact integer Winograd F(2×2, 3×3) (engine/wasm/assembly/winograd-int.ts) for int8 3×3 stride-1 convolutions of
 * one group: 16 int16 GEMMs over 2×2 output tiles instead of one GEMM over 9·cin im2col rows, 2.25× fewer
 * multiplies, and the same zero-point-corrected int32 accumulators as im2col bit for bit, so the epilogue is shared.
 * The transformed weights (16 int16 per weight) are built once per node.
 */
import type { KernelModule } from './wasm-module';
import type { ConvGeometry, IntWeights } from './int-gemm';

export interface WinogradWeights { ptr: number; kp: number; cout: number; cin: number }

/** Transformed weights kept per layer at most (16 int16 values per weight). */
const MAX_BYTES = 8 << 20;
/** Exactness bound of the int32 tile products (|U| ≤ 9·255, |V| ≤ 4·255). */
const MAX_CIN = 1024;

/** Builds the transformed weights of a 3×3 single-group int8 ('rows') Conv, or null when this path does not apply. */
export function winogradWeights(mod: KernelModule, w: IntWeights, cout: number, cin: number): WinogradWeights | null {
  if (w.layout !== 'rows' || w.gain !== 1 || w.k !== cin * 9 || cin < 8 || cin > MAX_CIN) return null;
  const kp = cin + (cin & 1);
  const bytes = 16 * cout * kp * 2;
  if (bytes > MAX_BYTES) return null;
  const ptr = mod.alloc(bytes);
  mod.k.wino_int_weights(w.ptr, cout, cin, w.kp, w.zwPtr, kp, ptr);
  return { ptr, kp, cout, cin };
}

/** Tile grid: th rows of tw4 tiles (a multiple of 4) covering oh×ow outputs, in np GEMM panels of 8 tiles. */
function tiles(g: ConvGeometry): { th: number; tw4: number; np: number } {
  const th = Math.ceil(g.oh / 2), tw4 = Math.ceil(Math.ceil(g.ow / 2) / 4) * 4;
  return { th, tw4, np: Math.ceil((th * tw4) / 8) };
}

/** Whether this geometry runs on the Winograd path: the right shape, and few enough padded tiles to pay off. */
export function winogradFits(u: WinogradWeights | undefined, g: ConvGeometry): u is WinogradWeights {
  if (!u || g.kh !== 3 || g.kw !== 3 || g.sh !== 1 || g.sw !== 1 || g.dh !== 1 || g.dw !== 1 || g.group !== 1) return false;
  if (g.cin !== u.cin || g.cout !== u.cout) return false;
  const { np } = tiles(g);
  // 16 products per tile against 9 per output pixel for im2col; rounding tiles up to panels costs some of that
  return np * 8 * 16 <= 0.6 * g.oh * g.ow * 9;
}

/**
 * The int32 accumulators Σ (x − za)(w − zw) of image `image` into acc (cout planes of oh×ow), from activation bytes
 * at xImage (kernel encoding: signed, za).
 */
export function winogradAccumulators(mod: KernelModule, u: WinogradWeights, xImage: number, g: ConvGeometry,
  signed: boolean, za: number, acc: number): void {
  const { th, tw4, np } = tiles(g);
  const ldm = np * 8;
  const mark = mod.scratchMark();
  const pad = mod.scratch(2 * ((2 * th + 4) * (2 * tw4 + 2) + 32));
  const p = mod.scratch(16 * np * u.kp * 16);
  const m = mod.scratch(16 * g.cout * ldm * 4);
  mod.k.wino_int_input(xImage, g.cin, g.h, g.w, signed ? 1 : 0, za, g.padTop, g.padLeft, th, tw4, u.kp, pad, p);
  for (let t = 0; t < 16; t++) {
    mod.k.gemm_panels16(u.ptr + t * g.cout * u.kp * 2, g.cout, u.kp, p + t * np * u.kp * 16, np, m + t * g.cout * ldm * 4, ldm);
  }
  mod.k.wino_int_output(m, g.cout, ldm, th, tw4, g.oh, g.ow, acc);
  mod.scratchRelease(mark);
}
