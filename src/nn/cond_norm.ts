/**
 * Conditional normalisation: y = normalize(x) * (1 + gamma[n, c]) + beta[n, c], with per-sample,
 * per-channel gamma and beta (N, C) produced by a linear layer on the label / latent. normalize is
 *   "instance": over (H, W) for each (n, c), biased variance, eps 1e-5;
 *   "pixel":    pixel norm across channels for each (n, h, w), eps 1e-8 (the paper's conditional pixel norm);
 *   "none":     the identity.
 * Forward and backward on the GPU and as a CPU reference. The backward WRITES (=) dx, dgamma and dbeta:
 * gamma and beta are activations feeding the linear layer's backward, not parameters.
 *
 * Instance mode reuses batch norm's group kernels on an (1, N*C, S) view, pixel and none modes the pixel-norm
 * kernels plus cond_norm_pgrad for dgamma / dbeta.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { ncs } from "./activation.ts";
import {
  groupNormBackwardRef,
  groupNormBwdKernel,
  groupNormFwdKernel,
  groupStatsRef,
  type NormVariant,
  reduceWorkgroup,
} from "./batch_norm.ts";
import {
  PIXEL_EPS,
  pixelGrid,
  pixelNormBackwardRef,
  pixelNormBwdKernel,
  pixelNormFwdKernel,
  pixelRRef,
  unusedWritable,
} from "./pixel_norm.ts";

/** Which normalisation a conditional norm applies before the per-sample affine. */
export type CondNormKind = "instance" | "pixel" | "none";

/** Options of {@linkcode condNormForward} / {@linkcode condNormBackward} (pass the same to both). */
export interface CondNormOptions {
  /** The normalisation. */
  norm: CondNormKind;
  /** Epsilon inside the square root (default 1e-5 for instance, 1e-8 for pixel). */
  eps?: number;
  /** Kernel variant (default "auto"). */
  variant?: NormVariant;
}

function epsOf(opts: CondNormOptions): number {
  return opts.eps ?? (opts.norm === "instance" ? 1e-5 : PIXEL_EPS);
}

/**
 * Shape of the tensor the forward saves for the backward: instance (2, N*C) = [mean | invstd] per (n, c);
 * pixel (N, H*W) = 1/rms per pixel; none: null (nothing saved).
 */
export function condNormSavedShape(shape: readonly number[], norm: CondNormKind): number[] | null {
  const [n, c, s] = ncs(shape);
  if (norm === "instance") return [2, n * c];
  if (norm === "pixel") return [n, s];
  return null;
}

/**
 * Lanes of cond_norm_pgrad's workgroup (one workgroup per (n, c), its lanes tree-reducing over S). On CPU
 * adapters the barriers of a 64-lane tree cost more than the sums: at the tiny GAN's shapes 4 lanes (16
 * from S > 256) ran 2-5x faster than 64 (llvmpipe, (16, 64, 16): 1.28 -> 0.25 ms a dispatch). GPUs keep 64.
 */
export function pgradWorkgroup(cpuAdapter: boolean, variant: NormVariant | undefined, s: number): number {
  if (variant === "naive") return 1;
  if (!cpuAdapter) return 64;
  return s > 256 ? 16 : 4;
}

function pgradKernel(wg: number, norm: boolean): Kernel {
  return {
    name: `cond_norm_pgrad.wg${wg}${norm ? "" : ".id"}`,
    code: WGSL.cond_norm_pgrad,
    constants: { WG: wg, NORM: norm ? 1 : 0 },
    workgroupSize: [wg, 1, 1],
  };
}

function check(fn: string, x: Tensor, ts: Record<string, Tensor>, saved: Tensor | null, norm: CondNormKind) {
  const [n, c] = ncs(x.shape);
  for (const [name, t] of Object.entries(ts)) {
    const want = name.includes("gamma") || name.includes("beta") ? n * c : x.size;
    if (t.size !== want) throw new Error(`${fn}: ${name} has shape ${t.shape}, needs ${want} values`);
  }
  const ss = condNormSavedShape(x.shape, norm);
  if (ss && (!saved || saved.size !== ss[0] * ss[1])) {
    throw new Error(`${fn}: norm "${norm}" needs a saved tensor of shape (${ss}) (see condNormSavedShape)`);
  }
}

/**
 * y = normalize(x) * (1 + gamma[n, c]) + beta[n, c]. Writes `saved` (shape from
 * {@linkcode condNormSavedShape}; null for "none") for the backward. y must be another buffer than x.
 */
export function condNormForward(
  rec: Recorder,
  x: Tensor, // (N, C, H, W)
  gamma: Tensor, // (N, C)
  beta: Tensor, // (N, C)
  y: Tensor, // (N, C, H, W)
  saved: Tensor | null, // see condNormSavedShape
  opts: CondNormOptions,
): void {
  const fn = "condNormForward";
  check(fn, x, { y, gamma, beta }, saved, opts.norm);
  if (x.buffer === y.buffer) throw new Error(`${fn}: y must not share a buffer with x`);
  const [n, c, s] = ncs(x.shape);
  const eps = epsOf(opts);
  if (opts.norm === "instance") {
    // running statistics are off: a dummy fills the unused running binding
    const k = groupNormFwdKernel(reduceWorkgroup(opts.variant), eps, false, 0, 1);
    const u = rec.gpu.uniform([1, n * c, s]);
    rec.dispatch(k, [x, gamma, beta, y, saved!, unusedWritable(rec.gpu), u], grid1d(n * c));
    return;
  }
  const isPixel = opts.norm === "pixel";
  const spec = { eps, norm: isPixel, variant: opts.variant };
  rec.dispatch(
    pixelNormFwdKernel(spec, true, isPixel),
    [x, gamma, beta, y, isPixel ? saved! : unusedWritable(rec.gpu), rec.gpu.uniform([n, c, s])],
    pixelGrid(opts.variant, n, c, s),
  );
}

/**
 * Backward of {@linkcode condNormForward}: dx, dgamma and dbeta all written (=). `x` and `saved` are the
 * forward's input and saved tensor; opts must equal the forward's.
 */
export function condNormBackward(
  rec: Recorder,
  x: Tensor, // (N, C, H, W)
  dy: Tensor, // (N, C, H, W)
  gamma: Tensor, // (N, C)
  saved: Tensor | null, // see condNormSavedShape
  dx: Tensor, // (N, C, H, W)
  dgamma: Tensor, // (N, C), written
  dbeta: Tensor, // (N, C), written
  opts: CondNormOptions,
): void {
  const fn = "condNormBackward";
  check(fn, x, { dy, dx, gamma, dgamma, dbeta }, saved, opts.norm);
  if (dx.buffer === dy.buffer || dx.buffer === x.buffer) {
    throw new Error(`${fn}: dx must not share a buffer with x or dy`);
  }
  const [n, c, s] = ncs(x.shape);
  const wg = reduceWorkgroup(opts.variant);
  if (opts.norm === "instance") {
    rec.dispatch(
      groupNormBwdKernel(wg, false, 1),
      [x, dy, gamma, saved!, dx, dgamma, dbeta, rec.gpu.uniform([1, n * c, s])],
      grid1d(n * c),
    );
    return;
  }
  const isPixel = opts.norm === "pixel";
  const spec = { eps: epsOf(opts), norm: isPixel, variant: opts.variant };
  const u = rec.gpu.uniform([n, c, s]);
  rec.dispatch(pixelNormBwdKernel(spec, true), [x, dy, gamma, dx, u], pixelGrid(opts.variant, n, c, s));
  const pw = pgradWorkgroup(rec.gpu.adapter.isFallbackAdapter, opts.variant, s);
  rec.dispatch(pgradKernel(pw, isPixel), [x, dy, isPixel ? saved! : x, dgamma, dbeta, u], grid1d(n * c));
}

// ---------------------------------------------------------------- CPU reference

type Arr = Float32Array | Float64Array;

/** normalize(x) of a conditional norm, float64 (N, C, S). */
export function condNormalizeRef(x: Arr, shape: readonly number[], opts: CondNormOptions): Float64Array {
  const [n, c, s] = ncs(shape);
  const eps = epsOf(opts);
  if (opts.norm === "instance") {
    const { mean, variance } = groupStatsRef(x, 1, n * c, s);
    return Float64Array.from(x, (v, i) => {
      const g = Math.floor(i / s);
      return (v - mean[g]) / Math.sqrt(variance[g] + eps);
    });
  }
  if (opts.norm === "pixel") {
    const r = pixelRRef(x, shape, eps);
    return Float64Array.from(x, (v, i) => v * r[Math.floor(i / (c * s)) * s + (i % s)]);
  }
  return Float64Array.from(x);
}

/** CPU reference of {@linkcode condNormForward}. */
export function condNormForwardRef(
  x: Arr, // (N, C, S)
  gamma: Arr, // (N, C)
  beta: Arr, // (N, C)
  shape: readonly number[],
  opts: CondNormOptions,
): Float64Array {
  const [, , s] = ncs(shape);
  const xh = condNormalizeRef(x, shape, opts);
  return xh.map((v, i) => {
    const g = Math.floor(i / s);
    return v * (1 + gamma[g]) + beta[g];
  });
}

/** CPU reference of {@linkcode condNormBackward}: dx, dgamma, dbeta. */
export function condNormBackwardRef(
  x: Arr, // (N, C, S)
  dy: Arr, // (N, C, S)
  gamma: Arr, // (N, C)
  shape: readonly number[],
  opts: CondNormOptions,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const [n, c, s] = ncs(shape);
  const eps = epsOf(opts);
  if (opts.norm === "instance") {
    const scale = Float64Array.from(gamma, (v) => 1 + v);
    const r = groupNormBackwardRef(x, dy, scale, 1, n * c, s, eps);
    return { dx: r.dx, dgamma: r.dscale, dbeta: r.dshift };
  }
  const xh = condNormalizeRef(x, shape, opts);
  const dgamma = new Float64Array(n * c), dbeta = new Float64Array(n * c);
  const g = new Float64Array(x.length); // dy * (1 + gamma): the gradient reaching normalize(x)
  for (let i = 0; i < x.length; i++) {
    const k = Math.floor(i / s);
    dbeta[k] += dy[i];
    dgamma[k] += dy[i] * xh[i];
    g[i] = dy[i] * (1 + gamma[k]);
  }
  const dx = opts.norm === "pixel" ? pixelNormBackwardRef(x, g, shape, eps) : g;
  return { dx, dgamma, dbeta };
}
