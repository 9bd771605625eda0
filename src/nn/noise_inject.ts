/**
 * Noise inputs of the generator (StyleGAN's): y = x + s * g in place, where g (N, 1, H, W) is one standard
 * normal map per image, shared by the channels, and s (C) a learned strength per channel (initialised to 0,
 * so a new generator starts as the one without noise). The map is drawn from {@linkcode noiseRef}'s hash of
 * (seed, (row0 + n) * H * W + pixel): the trainer names it by a seed per step, a sampler by the sample seed
 * and the image's row index, so a drawn image does not depend on the batch it was drawn in. The map is
 * redrawn in the backward, never stored: dx = dy and ds[c] += sum over n, h, w of dy * g.
 * Kernels: shaders/noise_inject_fwd.wgsl, shaders/noise_inject_bwd.wgsl.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { noiseRef } from "./noise.ts";

const WG_FWD = 256, WG_BWD = 64;
const fwdKernel: Kernel = {
  name: "noise_inject_fwd",
  code: WGSL.noise_inject_fwd,
  constants: { WG: WG_FWD },
  workgroupSize: [WG_FWD, 1, 1],
};
const bwdKernel: Kernel = {
  name: "noise_inject_bwd",
  code: WGSL.noise_inject_bwd,
  constants: { WG: WG_BWD },
  workgroupSize: [WG_BWD, 1, 1],
};

/** Bytes of the uniform {@linkcode noiseInjectParams} fills. */
export const NOISE_INJECT_PARAM_BYTES = 20;

/** The uniform words of the noise kernels: (n, c, h * w, seed, row0) for x of shape (N, C, H, W). */
export function noiseInjectParams(shape: readonly number[], seed: number, row0: number): Uint32Array {
  const [n, c, h, w] = shape;
  return Uint32Array.of(n, c, h * w, seed >>> 0, row0 >>> 0);
}

function check(fn: string, x: Tensor, s: Tensor): void {
  if (x.shape.length !== 4 || s.size !== x.shape[1]) {
    throw new Error(
      `${fn}: x (${x.shape}) must be (N, C, H, W) with strength s of C values, got (${s.shape})`,
    );
  }
}

/** Records x += s * noise in place. x (N, C, H, W), s (C); `params` holds {@linkcode noiseInjectParams}. */
export function noiseInjectForward(rec: Recorder, x: Tensor, s: Tensor, params: GPUBuffer): void {
  check("noiseInjectForward", x, s);
  const pixels = x.shape[0] * x.shape[2] * x.shape[3];
  rec.dispatch(fwdKernel, [x, s, params], grid1d(Math.ceil(pixels / WG_FWD)));
}

/** Records ds += sum over n, h, w of dy * noise (the same noise as the forward with these params). */
export function noiseInjectBackward(rec: Recorder, dy: Tensor, ds: Tensor, params: GPUBuffer): void {
  check("noiseInjectBackward", dy, ds);
  rec.dispatch(bwdKernel, [dy, ds, params], [dy.shape[1], 1, 1]);
}

/** CPU reference of the forward: x + s * noise, x (N, C, H, W) flat. */
export function noiseInjectRef(
  x: ArrayLike<number>,
  s: ArrayLike<number>,
  shape: readonly number[],
  seed: number,
  row0: number,
): Float64Array {
  const [n, c, h, w] = shape, P = h * w, y = Float64Array.from(x);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < P; p++) {
      const g = noiseRef(seed >>> 0, (row0 + i) * P + p);
      for (let k = 0; k < c; k++) y[(i * c + k) * P + p] += s[k] * g;
    }
  }
  return y;
}

/** CPU reference of the strength gradient: ds[c] = sum over n, p of dy[n, c, p] * noise(n, p). */
export function noiseInjectGradRef(
  dy: ArrayLike<number>,
  shape: readonly number[],
  seed: number,
  row0: number,
): Float64Array {
  const [n, c, h, w] = shape, P = h * w, ds = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < P; p++) {
      const g = noiseRef(seed >>> 0, (row0 + i) * P + p);
      for (let k = 0; k < c; k++) ds[k] += dy[(i * c + k) * P + p] * g;
    }
  }
  return ds;
}
