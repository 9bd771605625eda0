/**
 * Batch norm fused with the ReLU that follows it (the DenseNet classifier's BN -> ReLU pairs), forward
 * (training and evaluation) and training-mode backward, on the GPU and as a CPU reference. Numerically it is
 * {@linkcode batchNormForward} then `biasActForward(.., "relu")`, and their backwards; the fused kernels
 * write only the ReLU output and read only x and dr: two passes over the activations less in the forward
 * (no normalised tensor written and read back) and two in the backward (no ReLU-masked gradient written and
 * read back), with the statistics in one pass over x.
 *
 * x may be wider than gamma: only its first C = gamma.size channels are normalised, so a dense block's layers
 * read their input straight from the block's shared feature buffer, and the backward may add (+=) the input
 * gradient into the same channels of the block's gradient buffer.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { ncs } from "./activation.ts";
import { unusedWritable } from "./pixel_norm.ts";
import {
  batchNormBackwardRef,
  batchNormForwardRef,
  type BatchNormOptions,
  BN_EPS,
  BN_MOMENTUM,
} from "./batch_norm.ts";

/** Channels per workgroup: one invocation per channel (8 = the lanes of an AVX2 register on llvmpipe). */
const WG = 8;

function fwdKernel(training: boolean, eps: number, momentum: number): Kernel {
  return {
    name: `bn_relu_fwd${training ? "" : ".eval"}`,
    code: WGSL.bn_relu_fwd,
    constants: { WG, EPS: eps, MOMENTUM: momentum, TRAINING: training ? 1 : 0 },
    workgroupSize: [WG, 1, 1],
  };
}

function bwdKernel(accumulate: boolean): Kernel {
  return {
    name: `bn_relu_bwd${accumulate ? ".accum" : ""}`,
    code: WGSL.bn_relu_bwd,
    constants: { WG, ACCUM_DX: accumulate ? 1 : 0 },
    workgroupSize: [WG, 1, 1],
  };
}

/** (N, S, sample stride) of `t` read as its first `c` channels; throws when it has fewer or other sizes. */
function view(fn: string, name: string, t: Tensor, n: number, c: number, s: number): number {
  const [tn, tc, ts] = ncs(t.shape);
  if (tn !== n || ts !== s || tc < c) {
    throw new Error(
      `${fn}: ${name} has shape (${t.shape}); needs (${n}, >= ${c}, ...) with ${s} values a channel`,
    );
  }
  return tc * s;
}

/**
 * r = relu(batch norm of x's first C = gamma.size channels), (N, C, H, W) or (N, F). Training: batch
 * statistics over (N, H, W), `saved` = [mean | 1/std] for the backward, `running` updated (read_write) as
 * {@linkcode batchNormForward} does. Evaluation: the running statistics (`saved` may be null).
 */
export function bnReluForward(
  rec: Recorder,
  x: Tensor, // (N, C', H, W) or (N, C'), C' >= C
  gamma: Tensor, // (C)
  beta: Tensor, // (C)
  r: Tensor, // (N, C, H, W) or (N, C), written
  saved: Tensor | null, // (2, C): [mean | invstd], written in training mode
  running: Tensor, // (2, C): [running mean | running var]
  opts: Pick<BatchNormOptions, "training" | "momentum" | "eps">,
): void {
  const fn = "bnReluForward", c = gamma.size;
  const [n, , s] = ncs(r.shape);
  const xs = view(fn, "x", x, n, c, s);
  if (r.shape[1] !== c) throw new Error(`${fn}: r has shape (${r.shape}); needs ${c} channels (gamma's)`);
  if (beta.size !== c || running.size !== 2 * c) {
    throw new Error(`${fn}: beta (${beta.size}) and running (${running.size}) need C = ${c} and 2C values`);
  }
  if (x.buffer === r.buffer) throw new Error(`${fn}: r must not share a buffer with x`);
  if (opts.training) {
    if (!saved || saved.size !== 2 * c) {
      throw new Error(`${fn}: training mode needs a saved (2, ${c}) tensor`);
    }
  }
  rec.dispatch(
    fwdKernel(opts.training, opts.eps ?? BN_EPS, opts.momentum ?? BN_MOMENTUM),
    [x, gamma, beta, r, saved ?? unusedWritable(rec.gpu), running, rec.gpu.uniform([n, c, s, xs])],
    grid1d(Math.ceil(c / WG)),
  );
}

/**
 * Backward of training-mode {@linkcode bnReluForward} from the gradient of its output: dgamma, dbeta
 * accumulated (+=); dx (its first C channels) written, or added to when `accumulate`. dx must be another
 * buffer than x and dr.
 */
export function bnReluBackward(
  rec: Recorder,
  x: Tensor, // (N, C', H, W) or (N, C'): the forward input, C' >= C
  dr: Tensor, // (N, C, H, W) or (N, C)
  gamma: Tensor, // (C)
  beta: Tensor, // (C)
  saved: Tensor, // (2, C): the forward's [mean | invstd]
  dx: Tensor, // (N, C'', H, W) or (N, C''), C'' >= C
  dgamma: Tensor, // (C), accumulated
  dbeta: Tensor, // (C), accumulated
  opts: { accumulate?: boolean } = {},
): void {
  const fn = "bnReluBackward", c = gamma.size;
  const [n, , s] = ncs(dr.shape);
  if (dr.shape[1] !== c) throw new Error(`${fn}: dr has shape (${dr.shape}); needs ${c} channels (gamma's)`);
  const xs = view(fn, "x", x, n, c, s), dxs = view(fn, "dx", dx, n, c, s);
  for (
    const [name, t, size] of [["beta", beta, c], ["saved", saved, 2 * c], ["dgamma", dgamma, c], [
      "dbeta",
      dbeta,
      c,
    ]] as const
  ) {
    if (t.size !== size) throw new Error(`${fn}: ${name} has ${t.size} values, needs ${size}`);
  }
  if (dx.buffer === x.buffer || dx.buffer === dr.buffer) {
    throw new Error(`${fn}: dx must not share a buffer with x or dr`);
  }
  rec.dispatch(
    bwdKernel(opts.accumulate ?? false),
    [x, dr, gamma, beta, saved, dx, dgamma, dbeta, rec.gpu.uniform([n, c, s, xs, dxs])],
    grid1d(Math.ceil(c / WG)),
  );
}

// ---------------------------------------------------------------- CPU reference

type Arr = Float32Array | Float64Array;

/** CPU reference of {@linkcode bnReluForward} on a contiguous x (N, C, S): batch norm, then ReLU. */
export function bnReluForwardRef(
  x: Arr,
  gamma: Arr,
  beta: Arr,
  running: Arr,
  shape: readonly number[],
  opts: Pick<BatchNormOptions, "training" | "momentum" | "eps">,
): { r: Float64Array; mean: Float64Array; invstd: Float64Array; running: Float64Array } {
  const bn = batchNormForwardRef(x, gamma, beta, running, shape, opts);
  return { r: bn.y.map((v) => Math.max(v, 0)), mean: bn.mean, invstd: bn.invstd, running: bn.running };
}

/**
 * CPU reference of {@linkcode bnReluBackward} on a contiguous x (N, C, S): the ReLU's backward on the
 * recomputed batch-norm output, then batch norm's. dx, dgamma and dbeta are not accumulated.
 */
export function bnReluBackwardRef(
  x: Arr,
  dr: Arr,
  gamma: Arr,
  beta: Arr,
  shape: readonly number[],
  eps: number = BN_EPS,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const c = shape[1];
  const { y } = batchNormForwardRef(x, gamma, beta, new Float64Array(2 * c), shape, { training: true, eps });
  const dy = Float64Array.from(dr, (d, i) => (y[i] > 0 ? d : 0));
  return batchNormBackwardRef(x, dy, gamma, shape, eps);
}
