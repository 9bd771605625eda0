/**
 * Per-feature standardisation with statistics computed on another batch, forward and backward:
 * y = (x - mean[c]) * invstd[c], dx = dy * invstd[c]. The statistics are constants of this map (no gradient
 * flows into them), the layout is batch norm's `saved` ([mean | invstd], (2, C)). The discriminator scores
 * generated images with the statistics of the real batch this way (`auxStats: "real"`), so a generated image's
 * standardised features do not depend on the other generated images of its batch.
 * On the GPU (shaders/standardize_fixed.wgsl) and as a CPU reference.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { ncs } from "./activation.ts";

const WG = 256;
function kernel(center: boolean): Kernel {
  return {
    name: `standardize_fixed${center ? "" : ".scale"}`,
    code: WGSL.standardize_fixed,
    constants: { WG, CENTER: center ? 1 : 0 },
    workgroupSize: [WG, 1, 1],
  };
}

function dispatch(rec: Recorder, fn: string, x: Tensor, stats: Tensor, y: Tensor, center: boolean): void {
  const [, c, s] = ncs(x.shape);
  if (y.size !== x.size) throw new Error(`${fn}: output has ${y.size} values, needs ${x.size} (${x.shape})`);
  if (stats.size !== 2 * c) throw new Error(`${fn}: stats has ${stats.size} values, needs 2 x ${c}`);
  if (x.buffer === y.buffer) throw new Error(`${fn}: the output must not share a buffer with the input`);
  rec.dispatch(
    kernel(center),
    [x, stats, y, rec.gpu.uniform([x.size, c, s])],
    grid1d(Math.ceil(x.size / WG)),
  );
}

/** y = (x - stats[c]) * stats[C + c]; x and y (N, C, H, W) or (N, F), distinct buffers. */
export function standardizeFixedForward(
  rec: Recorder,
  x: Tensor, // (N, C, H, W) or (N, F)
  stats: Tensor, // (2, C): [mean | invstd]
  y: Tensor, // same shape as x
): void {
  dispatch(rec, "standardizeFixedForward", x, stats, y, true);
}

/** dx = dy * stats[C + c] (the statistics are constants); dy and dx distinct buffers of one shape. */
export function standardizeFixedBackward(
  rec: Recorder,
  dy: Tensor, // (N, C, H, W) or (N, F)
  stats: Tensor, // (2, C): [mean | invstd]
  dx: Tensor, // same shape as dy
): void {
  dispatch(rec, "standardizeFixedBackward", dy, stats, dx, false);
}

/** CPU reference of {@linkcode standardizeFixedForward} (float64). */
export function standardizeFixedForwardRef(
  x: ArrayLike<number>,
  shape: readonly number[],
  stats: ArrayLike<number>,
): Float64Array {
  const [n, c, s] = ncs(shape);
  const y = new Float64Array(n * c * s);
  for (let i = 0; i < y.length; i++) {
    const ch = Math.floor(i / s) % c;
    y[i] = (x[i] - stats[ch]) * stats[c + ch];
  }
  return y;
}

/** CPU reference of {@linkcode standardizeFixedBackward} (float64). */
export function standardizeFixedBackwardRef(
  dy: ArrayLike<number>,
  shape: readonly number[],
  stats: ArrayLike<number>,
): Float64Array {
  const [n, c, s] = ncs(shape);
  const dx = new Float64Array(n * c * s);
  for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * stats[c + Math.floor(i / s) % c];
  return dx;
}
