/**
 * Log-sum-exp pooling, (N, C, H, W) -> (N, C): a smooth maximum of each channel plane,
 * y = log(mean exp(R x)) / R (the mean as R -> 0, the maximum as R -> infinity). The discriminator's local
 * auxiliary head pools per-place label evidence with it (`auxLocal`): an image then scores as a finding
 * when some place looks like one, as a lesion is present or not, rather than by how much of the image
 * leans that way. Forward and backward on the GPU (shaders/lse_pool_fwd.wgsl, lse_pool_bwd.wgsl) and as
 * CPU references; the input gradient is written (=).
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";

/** Sharpness R of the pooling: a place 0.35 above the rest of an 8x8 plane weighs 4x another place. */
export const LSE_SHARPNESS = 4;

const FWD_WG = 64, BWD_WG = 256;
const fwdKernel: Kernel = {
  name: "lse_pool_fwd",
  code: WGSL.lse_pool_fwd,
  constants: { WG: FWD_WG, R: LSE_SHARPNESS },
  workgroupSize: [FWD_WG, 1, 1],
};
const bwdKernel: Kernel = {
  name: "lse_pool_bwd",
  code: WGSL.lse_pool_bwd,
  constants: { WG: BWD_WG, R: LSE_SHARPNESS },
  workgroupSize: [BWD_WG, 1, 1],
};

function planes(fn: string, x: Tensor, y: Tensor): [number, number] {
  if (x.shape.length !== 4) throw new Error(`${fn}: x must be (N, C, H, W), got (${x.shape})`);
  const [n, c, h, w] = x.shape;
  if (y.shape.length !== 2 || y.shape[0] !== n || y.shape[1] !== c) {
    throw new Error(`${fn}: the pooled tensor must be (${n}, ${c}), got (${y.shape})`);
  }
  return [n * c, h * w];
}

/** y[n, c] = log(mean over (h, w) of exp(R x[n, c, h, w])) / R. */
export function lsePoolForward(
  rec: Recorder,
  x: Tensor, // (N, C, H, W)
  y: Tensor, // (N, C)
): void {
  const [p, s] = planes("lsePoolForward", x, y);
  if (x.buffer === y.buffer) throw new Error("lsePoolForward: y must not share a buffer with x");
  rec.dispatch(fwdKernel, [x, y, rec.gpu.uniform([p, s])], grid1d(Math.ceil(p / FWD_WG)));
}

/** dx = dy * softmax over each plane of R x (written); y is the forward's output. */
export function lsePoolBackward(
  rec: Recorder,
  x: Tensor, // (N, C, H, W): the forward's input
  y: Tensor, // (N, C): the forward's output
  dy: Tensor, // (N, C)
  dx: Tensor, // (N, C, H, W)
): void {
  planes("lsePoolBackward", x, y);
  planes("lsePoolBackward", dx, dy);
  if (dx.buffer === x.buffer || dx.buffer === dy.buffer) {
    throw new Error("lsePoolBackward: dx must not share a buffer with x or dy");
  }
  rec.dispatch(
    bwdKernel,
    [x, y, dy, dx, rec.gpu.uniform([x.size, x.shape[2] * x.shape[3]])],
    grid1d(Math.ceil(x.size / BWD_WG)),
  );
}

/** CPU reference of {@linkcode lsePoolForward} (float64). */
export function lsePoolForwardRef(x: ArrayLike<number>, planeCount: number, s: number): Float64Array {
  const y = new Float64Array(planeCount);
  for (let p = 0; p < planeCount; p++) {
    let m = -Infinity;
    for (let j = 0; j < s; j++) m = Math.max(m, x[p * s + j]);
    let acc = 0;
    for (let j = 0; j < s; j++) acc += Math.exp(LSE_SHARPNESS * (x[p * s + j] - m));
    y[p] = m + Math.log(acc / s) / LSE_SHARPNESS;
  }
  return y;
}

/** CPU reference of {@linkcode lsePoolBackward} (float64). */
export function lsePoolBackwardRef(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  planeCount: number,
  s: number,
): Float64Array {
  const y = lsePoolForwardRef(x, planeCount, s);
  const dx = new Float64Array(planeCount * s);
  for (let i = 0; i < dx.length; i++) {
    const p = Math.floor(i / s);
    dx[i] = dy[p] * Math.exp(LSE_SHARPNESS * (x[i] - y[p])) / s;
  }
  return dx;
}
