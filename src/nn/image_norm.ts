/**
 * Per-image standardisation of a classifier's input (no parameters, no backward: the images are not
 * trained): each (n, c) plane minus the mean, over the standard deviation, both taken over the plane's
 * unsaturated pixels (|x| < 0.9 in the [-1, 1] image range). Windowed CT clips air and bone at the
 * window's ends; over all pixels the statistics would follow the head's size, not its tissue. The bound is
 * 0.9, not 0.999: a generator's tanh output approaches the clipped values without reaching them, and at
 * 0.999 its air counted as tissue, so a classifier trained on synthetic images saw other statistics than
 * the real test images (on the phantom, train-on-synthetic AUROC 0.62 instead of 0.69). On the GPU
 * (shaders/image_norm.wgsl) and as a CPU reference.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { ncs } from "./activation.ts";

/** Pixels with |x| at or above this are saturated (clipped by the window) and left out of the statistics. */
export const IMAGE_NORM_SAT = 0.9;
/** Added to the variance inside the square root. */
export const IMAGE_NORM_EPS = 1e-5;

const WG = 64;
const KERNEL: Kernel = {
  name: "image_norm",
  code: WGSL.image_norm,
  constants: { WG, SAT: IMAGE_NORM_SAT, EPS: IMAGE_NORM_EPS },
  workgroupSize: [WG, 1, 1],
};

/** y = x standardised per (n, c) plane over its unsaturated pixels; x and y (N, C, H, W), distinct buffers. */
export function imageNormForward(
  rec: Recorder,
  x: Tensor,
  /* (N, C, H, W) */ y: Tensor, /* (N, C, H, W) */
): void {
  if (x.shape.length < 2 || x.shape.length !== y.shape.length || x.shape.some((d, i) => d !== y.shape[i])) {
    throw new Error(`imageNormForward: y (${y.shape}) must have x's shape (${x.shape})`);
  }
  if (x.buffer === y.buffer) throw new Error("imageNormForward: y must not share a buffer with x");
  const [n, c, s] = ncs(x.shape);
  const planes = n * c;
  rec.dispatch(KERNEL, [x, y, rec.gpu.uniform([planes, s])], grid1d(Math.ceil(planes / WG)));
}

/** CPU reference of {@linkcode imageNormForward} (float64). */
export function imageNormForwardRef(
  x: ArrayLike<number>, // (N, C, S)
  shape: readonly number[],
): Float64Array {
  const [n, c, s] = ncs(shape);
  const y = new Float64Array(n * c * s);
  for (let p = 0; p < n * c; p++) {
    let count = 0, sum = 0;
    for (let i = 0; i < s; i++) {
      const v = x[p * s + i];
      if (Math.abs(v) < IMAGE_NORM_SAT) {
        count++;
        sum += v;
      }
    }
    if (count === 0) {
      for (let i = 0; i < s; i++) y[p * s + i] = x[p * s + i];
      continue;
    }
    const m = sum / count;
    let sq = 0;
    for (let i = 0; i < s; i++) {
      const v = x[p * s + i];
      if (Math.abs(v) < IMAGE_NORM_SAT) sq += (v - m) ** 2;
    }
    const inv = 1 / Math.sqrt(sq / count + IMAGE_NORM_EPS);
    for (let i = 0; i < s; i++) y[p * s + i] = (x[p * s + i] - m) * inv;
  }
  return y;
}
