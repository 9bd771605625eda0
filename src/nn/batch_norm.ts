/**
 * Batch normalisation over (N, H, W) per channel, forward (training and evaluation) and training-mode
 * backward, on the GPU and as a CPU reference. Works on (N, C, H, W) images and (N, F) features
 * (S = H*W, or 1).
 *
 * Training mode normalises with the batch mean and biased variance, saves mean and 1/std per channel
 * for the backward, and updates the running mean and the running UNBIASED variance with `momentum`,
 * as PyTorch's `BatchNorm2d` does. Evaluation mode uses the running statistics.
 *
 * The GPU kernels give each channel one workgroup that reduces in workgroup memory and then writes the
 * channel's outputs, so forward and backward are one dispatch each. The same kernels serve instance norm
 * (see cond_norm.ts): they normalise "groups" of an (A, G, S) view.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { ncs } from "./activation.ts";

/**
 * Kernel choice for the normalisation layers: "naive" (one invocation per group or output, obviously
 * correct, for debugging), "blocked" (workgroup-parallel reductions / one invocation per pixel), "auto"
 * (the fast one, "blocked").
 */
export type NormVariant = "naive" | "blocked" | "auto";

/** Workgroup size of a group-reduction kernel for a variant: naive is one invocation per group. */
export function reduceWorkgroup(variant: NormVariant | undefined, fast = 64): number {
  return variant === "naive" ? 1 : fast;
}

/** Batch norm's default epsilon (PyTorch's). */
export const BN_EPS = 1e-5;
/** Batch norm's default running-statistics momentum (PyTorch's). */
export const BN_MOMENTUM = 0.1;

/** Options of {@linkcode batchNormForward}. */
export interface BatchNormOptions {
  /** Training mode (batch statistics, updates `running`) or evaluation mode (running statistics). */
  training: boolean;
  /** Weight of the new batch statistics in the running averages (default 0.1). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Kernel variant (default "auto"). */
  variant?: NormVariant;
}

/** Options of {@linkcode batchNormBackward}. */
export interface BatchNormBackwardOptions {
  /** Kernel variant (default "auto"). */
  variant?: NormVariant;
}

/** Initial running statistics for C channels: (2, C) = [mean 0 | var 1]. */
export function batchNormRunningInit(c: number): Float32Array {
  const r = new Float32Array(2 * c);
  r.fill(1, c);
  return r;
}

/** Kernel of the group normalise pass (batch norm, instance norm). */
export function groupNormFwdKernel(
  wg: number,
  eps: number,
  updateRunning: boolean,
  momentum: number,
  gammaOffset: number,
): Kernel {
  return {
    name: `batch_norm_fwd.wg${wg}${updateRunning ? ".running" : ""}${gammaOffset ? ".cond" : ""}`,
    code: WGSL.batch_norm_fwd,
    constants: {
      WG: wg,
      EPS: eps,
      MOMENTUM: momentum,
      UPDATE_RUNNING: updateRunning ? 1 : 0,
      GAMMA_OFFSET: gammaOffset,
    },
    workgroupSize: [wg, 1, 1],
  };
}

/** Kernel of the group normalise backward (batch norm: ACCUM += ; instance norm: = with 1 + gamma). */
export function groupNormBwdKernel(wg: number, accumulate: boolean, gammaOffset: number): Kernel {
  return {
    name: `batch_norm_bwd.wg${wg}${accumulate ? "" : ".write"}${gammaOffset ? ".cond" : ""}`,
    code: WGSL.batch_norm_bwd,
    constants: { WG: wg, ACCUM: accumulate ? 1 : 0, GAMMA_OFFSET: gammaOffset },
    workgroupSize: [wg, 1, 1],
  };
}

const EVAL_WG = 256;
function evalKernel(eps: number): Kernel {
  return {
    name: "batch_norm_eval",
    code: WGSL.batch_norm_eval,
    constants: { WG: EVAL_WG, EPS: eps },
    workgroupSize: [EVAL_WG, 1, 1],
  };
}

function checkSize(fn: string, name: string, t: Tensor, size: number): void {
  if (t.size !== size) {
    throw new Error(`${fn}: ${name} has ${t.size} values (shape ${t.shape}), needs ${size}`);
  }
}

/**
 * Batch norm forward. Training: y = (x - mean_c) / sqrt(var_c + eps) * gamma[c] + beta[c] with batch
 * statistics over (N, H, W); writes `saved` = [mean | 1/std] for the backward and updates `running`
 * (read_write). Evaluation: the same with `running` in place of the batch statistics (`saved` untouched,
 * may be null). y must be another buffer than x.
 */
export function batchNormForward(
  rec: Recorder,
  x: Tensor, // (N, C, H, W) or (N, F)
  gamma: Tensor, // (C)
  beta: Tensor, // (C)
  y: Tensor, // same shape as x
  saved: Tensor | null, // (2, C): [mean | invstd], written in training mode
  running: Tensor, // (2, C): [running mean | running var]
  opts: BatchNormOptions,
): void {
  const [n, c, s] = ncs(x.shape);
  const fn = "batchNormForward";
  checkSize(fn, "y", y, x.size);
  checkSize(fn, "gamma", gamma, c);
  checkSize(fn, "beta", beta, c);
  checkSize(fn, "running", running, 2 * c);
  if (x.buffer === y.buffer) throw new Error(`${fn}: y must not share a buffer with x`);
  const eps = opts.eps ?? BN_EPS;
  if (!opts.training) {
    const total = x.size;
    rec.dispatch(
      evalKernel(eps),
      [x, gamma, beta, running, y, rec.gpu.uniform([total, c, s])],
      grid1d(Math.ceil(total / EVAL_WG)),
    );
    return;
  }
  if (!saved) throw new Error(`${fn}: training mode needs a saved (2, C) tensor for the backward`);
  checkSize(fn, "saved", saved, 2 * c);
  const k = groupNormFwdKernel(reduceWorkgroup(opts.variant), eps, true, opts.momentum ?? BN_MOMENTUM, 0);
  rec.dispatch(k, [x, gamma, beta, y, saved, running, rec.gpu.uniform([n, c, s])], grid1d(c));
}

/**
 * Backward of training-mode {@linkcode batchNormForward} (through the batch mean and variance):
 * dx written (=), dgamma and dbeta accumulated (+=). `saved` is the forward's [mean | invstd].
 */
export function batchNormBackward(
  rec: Recorder,
  x: Tensor, // (N, C, H, W) or (N, F): the forward input
  dy: Tensor, // same shape
  gamma: Tensor, // (C)
  saved: Tensor, // (2, C)
  dx: Tensor, // same shape as x
  dgamma: Tensor, // (C), accumulated
  dbeta: Tensor, // (C), accumulated
  opts: BatchNormBackwardOptions = {},
): void {
  const [n, c, s] = ncs(x.shape);
  const fn = "batchNormBackward";
  checkSize(fn, "dy", dy, x.size);
  checkSize(fn, "dx", dx, x.size);
  checkSize(fn, "saved", saved, 2 * c);
  checkSize(fn, "dgamma", dgamma, c);
  checkSize(fn, "dbeta", dbeta, c);
  if (dx.buffer === dy.buffer || dx.buffer === x.buffer) {
    throw new Error(`${fn}: dx must not share a buffer with x or dy`);
  }
  rec.dispatch(
    groupNormBwdKernel(reduceWorkgroup(opts.variant), true, 0),
    [x, dy, gamma, saved, dx, dgamma, dbeta, rec.gpu.uniform([n, c, s])],
    grid1d(c),
  );
}

// ---------------------------------------------------------------- CPU reference

type Arr = Float32Array | Float64Array;

/** Per-group mean and biased variance of x viewed as (A, G, S), groups over (A, S); float64. */
export function groupStatsRef(
  x: Arr,
  a: number,
  g: number,
  s: number,
): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(g), variance = new Float64Array(g);
  const m = a * s;
  for (let k = 0; k < g; k++) {
    let sum = 0;
    for (let i = 0; i < a; i++) for (let j = 0; j < s; j++) sum += x[(i * g + k) * s + j];
    const mu = sum / m;
    let v = 0;
    for (let i = 0; i < a; i++) {
      for (let j = 0; j < s; j++) {
        const d = x[(i * g + k) * s + j] - mu;
        v += d * d;
      }
    }
    mean[k] = mu;
    variance[k] = v / m;
  }
  return { mean, variance };
}

/** Result of {@linkcode batchNormForwardRef}. */
export interface BatchNormRefResult {
  /** Output, same shape as x. */
  y: Float64Array;
  /** Batch mean per channel (training) or the running mean (evaluation). */
  mean: Float64Array;
  /** 1 / sqrt(var + eps) per channel as used. */
  invstd: Float64Array;
  /** Running statistics after the step, (2, C) = [mean | var]. */
  running: Float64Array;
}

/** CPU reference of {@linkcode batchNormForward}; `running` (2, C) is not modified (a new one is returned). */
export function batchNormForwardRef(
  x: Arr, // (N, C, S)
  gamma: Arr, // (C)
  beta: Arr, // (C)
  running: Arr, // (2, C)
  shape: readonly number[],
  opts: BatchNormOptions,
): BatchNormRefResult {
  const [n, c, s] = ncs(shape);
  const eps = opts.eps ?? BN_EPS, mom = opts.momentum ?? BN_MOMENTUM;
  const run = Float64Array.from(running);
  let mean: Float64Array, variance: Float64Array;
  if (opts.training) {
    ({ mean, variance } = groupStatsRef(x, n, c, s));
    const m = n * s;
    for (let k = 0; k < c; k++) {
      run[k] = (1 - mom) * run[k] + mom * mean[k];
      run[c + k] = (1 - mom) * run[c + k] + mom * (m > 1 ? variance[k] * m / (m - 1) : variance[k]);
    }
  } else {
    mean = run.slice(0, c);
    variance = run.slice(c);
  }
  const invstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const k = Math.floor(i / s) % c;
    y[i] = (x[i] - mean[k]) * invstd[k] * gamma[k] + beta[k];
  }
  return { y, mean, invstd, running: run };
}

/** CPU reference of the group-normalise backward on an (A, G, S) view with per-group scale `scale[g]`. */
export function groupNormBackwardRef(
  x: Arr,
  dy: Arr,
  scale: Arr, // (G): gamma (+ 1 for conditional norms)
  a: number,
  g: number,
  s: number,
  eps: number,
): { dx: Float64Array; dscale: Float64Array; dshift: Float64Array } {
  const { mean, variance } = groupStatsRef(x, a, g, s);
  const m = a * s;
  const dx = new Float64Array(x.length), dscale = new Float64Array(g), dshift = new Float64Array(g);
  for (let k = 0; k < g; k++) {
    const inv = 1 / Math.sqrt(variance[k] + eps);
    let sdy = 0, sdyx = 0;
    for (let i = 0; i < a; i++) {
      for (let j = 0; j < s; j++) {
        const idx = (i * g + k) * s + j;
        sdy += dy[idx];
        sdyx += dy[idx] * (x[idx] - mean[k]) * inv;
      }
    }
    dshift[k] = sdy;
    dscale[k] = sdyx;
    for (let i = 0; i < a; i++) {
      for (let j = 0; j < s; j++) {
        const idx = (i * g + k) * s + j;
        const xhat = (x[idx] - mean[k]) * inv;
        dx[idx] = scale[k] * inv * (dy[idx] - sdy / m - xhat * sdyx / m);
      }
    }
  }
  return { dx, dscale, dshift };
}

/** CPU reference of {@linkcode batchNormBackward} (training mode): dx, and dgamma, dbeta (not accumulated). */
export function batchNormBackwardRef(
  x: Arr, // (N, C, S)
  dy: Arr, // (N, C, S)
  gamma: Arr, // (C)
  shape: readonly number[],
  eps: number = BN_EPS,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const [n, c, s] = ncs(shape);
  const r = groupNormBackwardRef(x, dy, gamma, n, c, s, eps);
  return { dx: r.dx, dgamma: r.dscale, dbeta: r.dshift };
}
