/**
 * Global average pooling, (N, C, H, W) -> (N, C): the mean of each channel plane, used by the classifier's
 * head and the discriminator. Forward and backward on the GPU and as CPU references; the input gradient is
 * written (=).
 *
 * The forward gives each plane one invocation that sums it serially ("naive"), or 64 invocations that
 * tree-reduce in workgroup memory ("blocked"); "auto" picks by plane size (serial for the small planes of
 * classifier and discriminator heads, where barriers cost more than they save).
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { NormVariant } from "./batch_norm.ts";

/** Options of {@linkcode globalAvgPoolForward}. */
export interface GlobalPoolOptions {
  /**
   * Kernel variant (default "auto"): "naive" one invocation a plane, "blocked" 64 invocations a plane
   * reducing in workgroup memory, "auto" by plane size (see {@linkcode globalPoolLanes}).
   */
  variant?: NormVariant;
}

const FWD_WG = 64;
const BWD_WG = 256;

function fwdKernel(lanes: number): Kernel {
  return {
    name: `global_avg_pool_fwd.l${lanes}`,
    code: WGSL.global_avg_pool_fwd,
    constants: { WG: FWD_WG, LANES: lanes },
    workgroupSize: [FWD_WG, 1, 1],
  };
}
const bwdKernel: Kernel = {
  name: "global_avg_pool_bwd",
  code: WGSL.global_avg_pool_bwd,
  constants: { WG: BWD_WG },
  workgroupSize: [BWD_WG, 1, 1],
};

/**
 * Invocations that share one plane of `s` values in the forward. "auto": one (serial sums, no barriers) up to
 * 32x32 planes, where llvmpipe measured fastest; beyond, about 256 values an invocation, at most 64.
 */
export function globalPoolLanes(s: number, variant: NormVariant = "auto"): number {
  if (variant === "naive") return 1;
  if (variant === "blocked") return FWD_WG;
  if (s <= 1024) return 1;
  let lanes = 1;
  while (lanes < FWD_WG && lanes * 256 < s) lanes *= 2;
  return lanes;
}

/** Throws unless `t` is 4-D; returns its (N, C, H, W). */
function nchw(fn: string, name: string, t: Tensor): [number, number, number, number] {
  if (t.shape.length !== 4) throw new Error(`${fn}: ${name} must be (N, C, H, W), got (${t.shape})`);
  return t.shape as [number, number, number, number];
}

/** Throws unless `t` has exactly `shape`. */
function expectShape(fn: string, name: string, t: Tensor, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
    throw new Error(`${fn}: ${name} must be (${shape}), got (${t.shape})`);
  }
}

/** y[n, c] = mean over (h, w) of x[n, c, h, w]. */
export function globalAvgPoolForward(
  rec: Recorder,
  x: Tensor, // (N, C, H, W)
  y: Tensor, // (N, C)
  opts: GlobalPoolOptions = {},
): void {
  const [n, c, h, w] = nchw("globalAvgPoolForward", "x", x);
  expectShape("globalAvgPoolForward", "y", y, [n, c]);
  if (x.buffer === y.buffer) throw new Error("globalAvgPoolForward: y must not share a buffer with x");
  const s = h * w;
  const lanes = globalPoolLanes(s, opts.variant);
  rec.dispatch(
    fwdKernel(lanes),
    [x, y, rec.gpu.uniform([n * c, s])],
    grid1d(Math.ceil((n * c * lanes) / FWD_WG)),
  );
}

/** dx[n, c, h, w] = dy[n, c] / (H*W): the input gradient of {@linkcode globalAvgPoolForward} (written). */
export function globalAvgPoolBackward(
  rec: Recorder,
  dy: Tensor, // (N, C)
  dx: Tensor, // (N, C, H, W)
): void {
  const [n, c, h, w] = nchw("globalAvgPoolBackward", "dx", dx);
  expectShape("globalAvgPoolBackward", "dy", dy, [n, c]);
  if (dx.buffer === dy.buffer) throw new Error("globalAvgPoolBackward: dx must not share a buffer with dy");
  const total = dx.size;
  rec.dispatch(bwdKernel, [dy, dx, rec.gpu.uniform([total, h * w])], grid1d(Math.ceil(total / BWD_WG)));
}

// ---------------------------------------------------------------- CPU reference

type Arr = Float32Array | Float64Array;

/** CPU reference of {@linkcode globalAvgPoolForward}; `shape` is x's (N, C, H, W). Returns (N, C). */
export function globalAvgPoolRef(x: Arr, shape: readonly number[]): Float64Array {
  const [n, c, h, w] = shape;
  const s = h * w;
  const y = new Float64Array(n * c);
  for (let p = 0; p < n * c; p++) {
    let acc = 0;
    for (let j = 0; j < s; j++) acc += x[p * s + j];
    y[p] = acc / s;
  }
  return y;
}

/** CPU reference of {@linkcode globalAvgPoolBackward}; `shape` is dx's (N, C, H, W). */
export function globalAvgPoolBackwardRef(dy: Arr, shape: readonly number[]): Float64Array {
  const [n, c, h, w] = shape;
  const s = h * w;
  const dx = new Float64Array(n * c * s);
  for (let p = 0; p < n * c; p++) for (let j = 0; j < s; j++) dx[p * s + j] = dy[p] / s;
  return dx;
}
