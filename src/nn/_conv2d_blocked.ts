/**
 * The register-blocked conv2d kernels (variant "blocked"), tuned for llvmpipe: see the headers of
 * shaders/conv2d_*_blocked.wgsl for the blocking. Called by conv2d.ts after it has checked the shapes.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { ceilDiv, grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { Conv2dShape } from "./conv2d.ts";

const WG = 64;
/** Output channels per invocation in the forward kernel (const COB in the shader). */
const FWD_COB = 8;
/** Output pixels per invocation along a row (one vec4). */
const PX = 4;

const cache = new Map<string, Kernel>();
function kernel(name: keyof typeof WGSL, constants: Record<string, number>): Kernel {
  const key = name + JSON.stringify(constants);
  let k = cache.get(key);
  if (!k) {
    const tag = Object.entries(constants).map(([c, v]) => `${c}${v}`).join(".");
    k = { name: `${name}.${tag}`, code: WGSL[name], constants, workgroupSize: [WG, 1, 1] };
    cache.set(key, k);
  }
  return k;
}

/** Params words shared by the blocked shaders: the 11 of convParams plus `extra`. */
function params(s: Conv2dShape, ho: number, wo: number, total: number, ...extra: number[]): number[] {
  return [s.n, s.cin, s.h, s.w, s.cout, ho, wo, s.k, s.stride, s.pad, total, ...extra];
}

/** Blocked forward: see shaders/conv2d_fwd_blocked.wgsl. */
export function conv2dForwardBlocked(
  rec: Recorder,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  y: Tensor,
  s: Conv2dShape,
  ho: number,
  wo: number,
): void {
  const wb = ceilDiv(wo, PX);
  const total = s.n * ho * wb;
  const [gx, gy] = grid1d(ceilDiv(total, WG));
  rec.dispatch(
    kernel("conv2d_fwd_blocked", { WG, K: s.k, S: s.stride, HAS_BIAS: b ? 1 : 0 }),
    [x, w, b ?? w, y, rec.gpu.uniform(params(s, ho, wo, total, wb))],
    [gx, gy, ceilDiv(s.cout, FWD_COB)],
  );
}

/** Blocked input gradient: see shaders/conv2d_bwd_input_blocked.wgsl. */
export function conv2dBackwardInputBlocked(
  _rec: Recorder,
  _dy: Tensor,
  _w: Tensor,
  _dx: Tensor,
  _s: Conv2dShape,
  _ho: number,
  _wo: number,
): void {
  throw new Error("todo");
}

/** Blocked weight gradient: see shaders/conv2d_bwd_weight_blocked.wgsl. */
export function conv2dBackwardWeightBlocked(
  _rec: Recorder,
  _x: Tensor,
  _dy: Tensor,
  _dw: Tensor,
  _s: Conv2dShape,
  _ho: number,
  _wo: number,
): void {
  throw new Error("todo");
}
