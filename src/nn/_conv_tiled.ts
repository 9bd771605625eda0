/**
 * Shared-memory tiled (implicit GEMM) kernels of the transposed convolution, for real GPUs: the "tiled"
 * variant of conv_transpose2d.ts, reused by _conv2d_tiled.ts (a convolution's forward is a transposed
 * convolution's input gradient, its input gradient a transposed convolution's forward, and its weight
 * gradient a transposed convolution's weight gradient with x and dy swapped).
 *
 * The shape here is the transposed convolution's, with the output size (Ho, Wo) given explicitly: a
 * strided convolution whose input size leaves a remainder maps onto a transposed one with a larger output
 * than (H - 1) * stride - 2 * pad + K, and the kernels bound-check against Ho, Wo only.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { ceilDiv, grid1d, type Kernel, MAX_GROUPS_PER_DIM } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { TILED_BK, tiledWorkgroup } from "./matmul.ts";

/** A transposed convolution x (N, Cin, H, W) -> y (N, Cout, Ho, Wo), weight (Cin, Cout, K, K). */
export interface TiledConvTShape {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
  ho: number;
  wo: number;
}

function params(s: TiledConvTShape): number[] {
  return [s.n, s.cin, s.h, s.w, s.cout, s.k, s.stride, s.pad, s.ho, s.wo];
}

function kernel(name: string, code: string, wg: [number, number], extra: Record<string, number>): Kernel {
  return {
    name: `${name}${Object.entries(extra).map(([k, v]) => `.${k}${v}`).join("")}.${wg[0]}x${wg[1]}`,
    code,
    constants: { WG_X: wg[0], WG_Y: wg[1], BK: TILED_BK, ...extra },
    workgroupSize: [wg[0], wg[1], 1],
  };
}

function fits(grid: readonly number[]): boolean {
  return grid.every((g) => g <= MAX_GROUPS_PER_DIM);
}

/**
 * y = conv_transpose2d(x, w) (+ b): one dispatch, one grid layer per output parity class. Returns false
 * (recording nothing) when the grid exceeds the device's workgroup limit.
 */
export function convTForwardTiled(
  rec: Recorder,
  x: Tensor, // (N, Cin, H, W)
  w: Tensor, // (Cin, Cout, K, K)
  b: Tensor | null, // (Cout)
  y: Tensor, // (N, Cout, Ho, Wo)
  s: TiledConvTShape,
): boolean {
  const pmax = s.n * ceilDiv(s.ho, s.stride) * ceilDiv(s.wo, s.stride);
  const classes = s.stride * s.stride;
  const wg = tiledWorkgroup(s.cout, pmax, classes);
  const grid: [number, number, number] = [ceilDiv(pmax, 4 * wg[0]), ceilDiv(s.cout, 4 * wg[1]), classes];
  if (!fits(grid)) return false;
  const k = kernel("conv_t2d_fwd_tiled", WGSL.conv_t2d_fwd_tiled, wg, { HAS_BIAS: b ? 1 : 0 });
  rec.dispatch(k, [x, w, b ?? x, y, rec.gpu.uniform(params(s))], grid);
  return true;
}

/**
 * dx = gradient of the transposed convolution wrt its input (written), + b[ci] when `b` is given (for
 * conv2d's forward). Returns false (recording nothing) when the grid exceeds the workgroup limit.
 */
export function convTBackwardInputTiled(
  rec: Recorder,
  dy: Tensor, // (N, Cout, Ho, Wo)
  w: Tensor, // (Cin, Cout, K, K)
  b: Tensor | null, // (Cin)
  dx: Tensor, // (N, Cin, H, W)
  s: TiledConvTShape,
): boolean {
  const np = s.n * s.h * s.w;
  const wg = tiledWorkgroup(s.cin, np);
  const grid: [number, number, number] = [ceilDiv(np, 4 * wg[0]), ceilDiv(s.cin, 4 * wg[1]), 1];
  if (!fits(grid)) return false;
  const k = kernel("conv_t2d_bwd_input_tiled", WGSL.conv_t2d_bwd_input_tiled, wg, { HAS_BIAS: b ? 1 : 0 });
  rec.dispatch(k, [dy, w, b ?? dy, dx, rec.gpu.uniform(params(s))], grid);
  return true;
}

/** Workgroups the weight gradient wants at least before it splits its pixel reduction. */
const BWW_MIN_GROUPS = 256;
/** Fewest reduction steps (of TILED_BK pixels) a split gets, so partial sums stay worth their traffic. */
const BWW_MIN_STEPS = 8;

const reduceKernel: Kernel = {
  name: "conv_t2d_reduce",
  code: WGSL.conv_t2d_reduce,
  constants: { WG: 64 },
  workgroupSize: [64, 1, 1],
};

/**
 * dw += gradient of the transposed convolution wrt its weight: a GEMM over the N * H * W pixels, split
 * over the pixels (partial sums in a pooled scratch tensor, then conv_t2d_reduce) when the weight alone
 * gives too few workgroups. Returns false (recording nothing) when the grid exceeds the workgroup limit.
 */
export function convTBackwardWeightTiled(
  rec: Recorder,
  x: Tensor, // (N, Cin, H, W)
  dy: Tensor, // (N, Cout, Ho, Wo)
  dw: Tensor, // (Cin, Cout, K, K), accumulated
  s: TiledConvTShape,
): boolean {
  const nc = s.cout * s.k * s.k;
  const pixels = s.n * s.h * s.w;
  const wg = tiledWorkgroup(s.cin, nc);
  const groups = ceilDiv(nc, 4 * wg[0]) * ceilDiv(s.cin, 4 * wg[1]);
  const steps = ceilDiv(pixels, TILED_BK);
  const wanted = Math.max(1, Math.min(ceilDiv(BWW_MIN_GROUPS, groups), Math.floor(steps / BWW_MIN_STEPS)));
  const span = ceilDiv(steps, wanted) * TILED_BK;
  const splits = ceilDiv(pixels, span);
  const grid: [number, number, number] = [ceilDiv(nc, 4 * wg[0]), ceilDiv(s.cin, 4 * wg[1]), splits];
  if (!fits(grid)) return false;
  const u = rec.gpu.uniform([...params(s), span]);
  const code = WGSL.conv_t2d_bwd_weight_tiled;
  if (splits === 1) {
    rec.dispatch(kernel("conv_t2d_bwd_weight_tiled", code, wg, { ACCUMULATE: 1 }), [x, dy, dw, u], grid);
    return true;
  }
  const size = s.cin * nc;
  // the pool hands this buffer out again after dispose; later dispatches run after these, so that is safe
  const part = rec.gpu.tensor([splits, size]);
  rec.dispatch(kernel("conv_t2d_bwd_weight_tiled", code, wg, { ACCUMULATE: 0 }), [x, dy, part, u], grid);
  rec.dispatch(reduceKernel, [part, dw, rec.gpu.uniform([size, splits])], grid1d(ceilDiv(size, 64)));
  part.dispose();
  return true;
}
