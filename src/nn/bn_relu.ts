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
 * gradient into the same channels of the block's gradient buffer. With `pool` the 2x2 average pooling that
 * follows (the classifier's stem; its transitions, pooling before their 1x1 conv, which is the same function)
 * is fused too: only the pooled output is written, and the backward reads the pooled output's gradient.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel, loopsFit } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { ncs } from "./activation.ts";
import { unusedWritable } from "./pixel_norm.ts";
import { avgPool2BackwardRef, avgPool2Ref } from "./pool.ts";
import {
  batchNormBackwardRef,
  batchNormForwardRef,
  type BatchNormOptions,
  BN_EPS,
  BN_MOMENTUM,
} from "./batch_norm.ts";

/** Channels per workgroup: one invocation per channel (8 = the lanes of an AVX2 register on llvmpipe). */
const WG = 8;

/** Lanes a channel of the `_lanes` kernels may get (one workgroup a channel; powers of two). */
const LANES = [8, 16, 32, 64, 128, 256];

/**
 * How a BN+ReLU kernel covers a channel: one invocation (lanes 0: bn_relu_fwd / bn_relu_bwd, WG channels a
 * workgroup), or, when that invocation's loops would pass llvmpipe's cap ({@linkcode loopsFit}), a
 * workgroup of `lanes` invocations (bn_relu_*_lanes), the fewest that fit. `loops(l)` counts one
 * invocation's loop iterations when l lanes share the channel.
 */
export function bnReluLanes(fn: string, loops: (lanes: number) => number): number {
  if (loopsFit(loops(1))) return 0;
  const lanes = LANES.find((l) => loopsFit(loops(l)));
  if (lanes === undefined) {
    throw new Error(
      `${fn}: a channel holds too many values for one workgroup of ${LANES.at(-1)} invocations ` +
        `(${loops(1)} loop iterations); use a smaller batch`,
    );
  }
  return lanes;
}

/** Loop iterations of one forward invocation with `l` lanes a channel (the statistics, then the output). */
export function bnReluFwdLoops(
  l: number,
  training: boolean,
  pool: boolean,
  n: number,
  s: number,
  h: number,
  w: number,
): number {
  const per = (len: number) => Math.ceil(len / l);
  const stats = training ? n * (1 + per(s)) + l : 0;
  const out = pool ? n * (1 + (h >> 1) * (1 + per(w >> 1))) : n * (1 + per(s));
  return stats + out;
}

/**
 * Loop iterations of one backward invocation with `l` lanes a channel: two passes over (N, H, W), or, pooled
 * with one lane (bn_relu_bwd), over the 2x2 windows plus the dropped odd last column and row.
 */
export function bnReluBwdLoops(l: number, n: number, h: number, w: number, pool = false): number {
  if (pool && l === 1) {
    const ho = h >> 1, wo = w >> 1;
    return n * (1 + ho * (1 + wo)) + n * (1 + ho * (1 + wo + 2) + w);
  }
  return 2 * n * (1 + h * (1 + Math.ceil(w / l))) + l;
}

function fwdKernel(training: boolean, eps: number, momentum: number, pool: boolean, lanes: number): Kernel {
  const name = lanes ? "bn_relu_fwd_lanes" : "bn_relu_fwd";
  return {
    name: `${name}${training ? "" : ".eval"}${pool ? ".pool" : ""}${lanes ? `.l${lanes}` : ""}`,
    code: WGSL[name],
    constants: {
      WG: lanes || WG,
      EPS: eps,
      MOMENTUM: momentum,
      TRAINING: training ? 1 : 0,
      POOL: pool ? 1 : 0,
    },
    workgroupSize: [lanes || WG, 1, 1],
  };
}

function bwdKernel(accumulate: boolean, pool: boolean, lanes: number): Kernel {
  const name = lanes ? "bn_relu_bwd_lanes" : "bn_relu_bwd";
  return {
    name: `${name}${accumulate ? ".accum" : ""}${pool ? ".pool" : ""}${lanes ? `.l${lanes}` : ""}`,
    code: WGSL[name],
    constants: { WG: lanes || WG, ACCUM_DX: accumulate ? 1 : 0, POOL: pool ? 1 : 0 },
    workgroupSize: [lanes || WG, 1, 1],
  };
}

/** The sample stride of `t` read as its first `c` channels; throws when it has fewer or other sizes. */
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
 * The geometry (N, S, H, W) of x (N, C' >= C, H, W) against the ReLU output (or its gradient) r, which must
 * be (N, C, H, W), or (N, C, H/2, W/2) (floor) when pooled. Without pooling H = 1 and W = S.
 */
function geometry(
  fn: string,
  x: Tensor,
  r: Tensor,
  c: number,
  pool: boolean,
): [number, number, number, number] {
  const [n, , s] = ncs(x.shape);
  if (pool && x.shape.length !== 4) {
    throw new Error(`${fn}: pooling needs (N, C, H, W) images, got (${x.shape})`);
  }
  const [h, w] = pool ? [x.shape[2], x.shape[3]] : [1, s];
  const want = pool ? [n, c, h >> 1, w >> 1] : [n, c, ...x.shape.slice(2)];
  if (r.shape.length !== want.length || r.shape.some((d, k) => d !== want[k])) {
    throw new Error(`${fn}: the ReLU output is (${r.shape}); needs (${want})`);
  }
  return [n, s, h, w];
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
  r: Tensor, // (N, C, H, W) or (N, C), written; pooled: (N, C, H/2, W/2)
  saved: Tensor | null, // (2, C): [mean | invstd], written in training mode
  running: Tensor, // (2, C): [running mean | running var]
  opts: Pick<BatchNormOptions, "training" | "momentum" | "eps"> & { pool?: boolean },
): void {
  const fn = "bnReluForward", c = gamma.size, pool = opts.pool ?? false;
  const [n, s, h, w] = geometry(fn, x, r, c, pool);
  const xs = view(fn, "x", x, n, c, s);
  if (beta.size !== c || running.size !== 2 * c) {
    throw new Error(`${fn}: beta (${beta.size}) and running (${running.size}) need C = ${c} and 2C values`);
  }
  if (x.buffer === r.buffer) throw new Error(`${fn}: r must not share a buffer with x`);
  if (opts.training) {
    if (!saved || saved.size !== 2 * c) {
      throw new Error(`${fn}: training mode needs a saved (2, ${c}) tensor`);
    }
  }
  const lanes = bnReluLanes(fn, (l) => bnReluFwdLoops(l, opts.training, pool, n, s, h, w));
  rec.dispatch(
    fwdKernel(opts.training, opts.eps ?? BN_EPS, opts.momentum ?? BN_MOMENTUM, pool, lanes),
    [x, gamma, beta, r, saved ?? unusedWritable(rec.gpu), running, rec.gpu.uniform([n, c, s, xs, h, w])],
    grid1d(lanes ? c : Math.ceil(c / WG)),
  );
}

/**
 * Backward of training-mode {@linkcode bnReluForward} from the gradient of its output (of the pooled
 * output with `pool`): dgamma, dbeta
 * accumulated (+=); dx (its first C channels) written, or added to when `accumulate`. dx must be another
 * buffer than x and dr.
 */
export function bnReluBackward(
  rec: Recorder,
  x: Tensor, // (N, C', H, W) or (N, C'): the forward input, C' >= C
  dr: Tensor, // (N, C, H, W) or (N, C); pooled: (N, C, H/2, W/2)
  gamma: Tensor, // (C)
  beta: Tensor, // (C)
  saved: Tensor, // (2, C): the forward's [mean | invstd]
  dx: Tensor, // (N, C'', H, W) or (N, C''), C'' >= C
  dgamma: Tensor, // (C), accumulated
  dbeta: Tensor, // (C), accumulated
  opts: { accumulate?: boolean; pool?: boolean } = {},
): void {
  const fn = "bnReluBackward", c = gamma.size, pool = opts.pool ?? false;
  const [n, s, h, w] = geometry(fn, x, dr, c, pool);
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
  const lanes = bnReluLanes(fn, (l) => bnReluBwdLoops(l, n, h, w, pool));
  rec.dispatch(
    bwdKernel(opts.accumulate ?? false, pool, lanes),
    [x, dr, gamma, beta, saved, dx, dgamma, dbeta, rec.gpu.uniform([n, c, s, xs, dxs, h, w])],
    grid1d(lanes ? c : Math.ceil(c / WG)),
  );
}

// ---------------------------------------------------------------- CPU reference

type Arr = Float32Array | Float64Array;

/** CPU reference of {@linkcode bnReluForward} on a contiguous x (N, C, S): batch norm, ReLU [, pooling]. */
export function bnReluForwardRef(
  x: Arr,
  gamma: Arr,
  beta: Arr,
  running: Arr,
  shape: readonly number[],
  opts: Pick<BatchNormOptions, "training" | "momentum" | "eps"> & { pool?: boolean },
): { r: Float64Array; mean: Float64Array; invstd: Float64Array; running: Float64Array } {
  const bn = batchNormForwardRef(x, gamma, beta, running, shape, opts);
  const r = bn.y.map((v) => Math.max(v, 0));
  return { r: opts.pool ? avgPool2Ref(r, shape) : r, mean: bn.mean, invstd: bn.invstd, running: bn.running };
}

/**
 * CPU reference of {@linkcode bnReluBackward} on a contiguous x (N, C, S): [the pooling's backward,] the
 * ReLU's backward on the recomputed batch-norm output, then batch norm's. dx, dgamma and dbeta are not
 * accumulated.
 */
export function bnReluBackwardRef(
  x: Arr,
  dr: Arr,
  gamma: Arr,
  beta: Arr,
  shape: readonly number[],
  opts: { eps?: number; pool?: boolean } = {},
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const c = shape[1], eps = opts.eps ?? BN_EPS;
  const { y } = batchNormForwardRef(x, gamma, beta, new Float64Array(2 * c), shape, { training: true, eps });
  const drFull = opts.pool ? avgPool2BackwardRef(dr, shape) : dr;
  const dy = Float64Array.from(drFull, (d, i) => (y[i] > 0 ? d : 0));
  return batchNormBackwardRef(x, dy, gamma, shape, eps);
}
