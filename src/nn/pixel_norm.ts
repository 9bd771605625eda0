/**
 * Pixel norm (ProGAN): every pixel's channel vector is scaled to unit root-mean-square,
 * y[n, c, s] = x[n, c, s] / sqrt(mean_c x[n, c, s]^2 + eps), eps 1e-8. Forward and backward on the GPU
 * and as a CPU reference; works on (N, C, H, W) images and on (N, F) features (S = 1: normalises each
 * feature vector, as StyleGAN does with its latent). No parameters.
 *
 * The kernels also serve conditional pixel norm (cond_norm.ts), which adds a per-sample affine.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { ncs } from "./activation.ts";
import type { NormVariant } from "./batch_norm.ts";

/** Pixel norm's default epsilon (ProGAN's). */
export const PIXEL_EPS = 1e-8;

/** Options of the pixel-norm layer. */
export interface PixelNormOptions {
  /** Added to the mean square before the square root (default 1e-8). */
  eps?: number;
  /** "naive": one invocation per output element; "blocked"/"auto": one per pixel. */
  variant?: NormVariant;
}

const WG = 64;

const dummies = new WeakMap<Gpu, Tensor>();

/**
 * A one-value tensor per device that fills a writable binding a kernel variant never touches. WebGPU
 * forbids binding a buffer range writable twice in one dispatch (buffer-binding aliasing; wgpu lets it
 * pass, Dawn does not), so the output tensor cannot stand in. Allocated once per device.
 */
export function unusedWritable(gpu: Gpu): Tensor {
  let t = dummies.get(gpu);
  if (!t) {
    t = gpu.tensor([1]);
    dummies.set(gpu, t);
  }
  return t;
}

/** Settings of the pixel-norm kernels (shared with conditional pixel norm). */
export interface PixelKernelSpec {
  /** Epsilon inside the square root. */
  eps: number;
  /** Normalise (pixel norm) or not (identity, for conditional "none"). */
  norm: boolean;
  /** Kernel variant. */
  variant?: NormVariant;
}

/** Forward kernel: `affine` adds the (1 + gamma[n, c]) scale and beta[n, c] shift, `saveR` writes r (N, S). */
export function pixelNormFwdKernel(spec: PixelKernelSpec, affine: boolean, saveR: boolean): Kernel {
  const perPixel = spec.variant === "naive" ? 0 : 1;
  return {
    name: `pixel_norm_fwd.${spec.norm ? "norm" : "id"}${affine ? ".affine" : ""}${
      saveR ? ".save" : ""
    }.pp${perPixel}`,
    code: WGSL.pixel_norm_fwd,
    constants: {
      WG,
      EPS: spec.eps,
      NORM: spec.norm ? 1 : 0,
      HAS_AFFINE: affine ? 1 : 0,
      SAVE_R: saveR ? 1 : 0,
      PER_PIXEL: perPixel,
    },
    workgroupSize: [WG, 1, 1],
  };
}

/** Backward (input gradient) kernel; `scaled` multiplies dy by (1 + gamma[n, c]) first. */
export function pixelNormBwdKernel(spec: PixelKernelSpec, scaled: boolean): Kernel {
  const perPixel = spec.variant === "naive" ? 0 : 1;
  return {
    name: `pixel_norm_bwd.${spec.norm ? "norm" : "id"}${scaled ? ".scaled" : ""}.pp${perPixel}`,
    code: WGSL.pixel_norm_bwd,
    constants: { WG, EPS: spec.eps, NORM: spec.norm ? 1 : 0, HAS_SCALE: scaled ? 1 : 0, PER_PIXEL: perPixel },
    workgroupSize: [WG, 1, 1],
  };
}

/** Dispatch grid of a pixel kernel over (N, C, S): pixels, or elements for the naive variant. */
export function pixelGrid(
  variant: NormVariant | undefined,
  n: number,
  c: number,
  s: number,
): [number, number, number] {
  const items = variant === "naive" ? n * c * s : n * s;
  return grid1d(Math.ceil(items / WG));
}

/** y = x / sqrt(mean_c x^2 + eps) per pixel. y must be another buffer than x. */
export function pixelNormForward(
  rec: Recorder,
  x: Tensor, // (N, C, H, W) or (N, F)
  y: Tensor, // same shape
  opts: PixelNormOptions = {},
): void {
  const [n, c, s] = ncs(x.shape);
  if (y.size !== x.size) throw new Error(`pixelNormForward: y has shape ${y.shape}, x ${x.shape}`);
  if (x.buffer === y.buffer) throw new Error("pixelNormForward: y must not share a buffer with x");
  const spec = { eps: opts.eps ?? PIXEL_EPS, norm: true, variant: opts.variant };
  // gamma, beta and rsave are unused here: x (read-only bindings may alias) and a dummy fill them
  rec.dispatch(
    pixelNormFwdKernel(spec, false, false),
    [x, x, x, y, unusedWritable(rec.gpu), rec.gpu.uniform([n, c, s])],
    pixelGrid(opts.variant, n, c, s),
  );
}

/** Backward of {@linkcode pixelNormForward} from its input x: dx written (=). */
export function pixelNormBackward(
  rec: Recorder,
  x: Tensor, // (N, C, H, W) or (N, F): the forward input
  dy: Tensor, // same shape
  dx: Tensor, // same shape
  opts: PixelNormOptions = {},
): void {
  const [n, c, s] = ncs(x.shape);
  if (dy.size !== x.size || dx.size !== x.size) {
    throw new Error(`pixelNormBackward: dy ${dy.shape} / dx ${dx.shape} must have x's shape ${x.shape}`);
  }
  if (dx.buffer === dy.buffer || dx.buffer === x.buffer) {
    throw new Error("pixelNormBackward: dx must not share a buffer with x or dy");
  }
  const spec = { eps: opts.eps ?? PIXEL_EPS, norm: true, variant: opts.variant };
  rec.dispatch(
    pixelNormBwdKernel(spec, false),
    [x, dy, x, dx, rec.gpu.uniform([n, c, s])],
    pixelGrid(opts.variant, n, c, s),
  );
}

// ---------------------------------------------------------------- CPU reference

type Arr = Float32Array | Float64Array;

/** r[n, s] = 1 / sqrt(mean_c x[n, c, s]^2 + eps), (N, S), float64. */
export function pixelRRef(x: Arr, shape: readonly number[], eps: number = PIXEL_EPS): Float64Array {
  const [n, c, s] = ncs(shape);
  const r = new Float64Array(n * s);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < s; j++) {
      let ss = 0;
      for (let k = 0; k < c; k++) ss += x[(i * c + k) * s + j] ** 2;
      r[i * s + j] = 1 / Math.sqrt(ss / c + eps);
    }
  }
  return r;
}

/** CPU reference of {@linkcode pixelNormForward}. */
export function pixelNormForwardRef(x: Arr, shape: readonly number[], eps: number = PIXEL_EPS): Float64Array {
  const [, c, s] = ncs(shape);
  const r = pixelRRef(x, shape, eps);
  return Float64Array.from(x, (v, i) => v * r[Math.floor(i / (c * s)) * s + (i % s)]);
}

/**
 * CPU reference of the pixel-norm input gradient for an upstream gradient g (already multiplied by
 * any per-channel scale): dx_c = r g_c - x_c r^3 / C sum_k g_k x_k.
 */
export function pixelNormBackwardRef(
  x: Arr, // (N, C, S)
  g: Arr, // (N, C, S)
  shape: readonly number[],
  eps: number = PIXEL_EPS,
): Float64Array {
  const [n, c, s] = ncs(shape);
  const r = pixelRRef(x, shape, eps);
  const dx = new Float64Array(x.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < s; j++) {
      const rr = r[i * s + j];
      let gx = 0;
      for (let k = 0; k < c; k++) gx += g[(i * c + k) * s + j] * x[(i * c + k) * s + j];
      const t = rr * rr * rr * gx / c;
      for (let k = 0; k < c; k++) {
        const idx = (i * c + k) * s + j;
        dx[idx] = rr * g[idx] - x[idx] * t;
      }
    }
  }
  return dx;
}
