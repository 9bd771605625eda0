/**
 * Fused bias + activation, forward and backward, on the GPU and as a CPU reference.
 * Applies per channel of (N, C, S) tensors: S = H*W for images, S = 1 for (N, F) features.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";

/** Activation functions the engine fuses with a bias. */
export type Activation = "identity" | "relu" | "leaky_relu" | "tanh" | "sigmoid";

const ACT_CODE: Record<Activation, number> = { identity: 0, relu: 1, leaky_relu: 2, tanh: 3, sigmoid: 4 };

/** Slope of leaky ReLU for negative inputs (the GAN literature's 0.2). */
export const LEAKY_SLOPE = 0.2;

const WG = 256;

function fwdKernel(act: Activation, hasBias: boolean): Kernel {
  return {
    name: `bias_act_fwd.${act}${hasBias ? "" : ".nobias"}`,
    code: WGSL.bias_act_fwd,
    constants: { WG, ACT: ACT_CODE[act], SLOPE: LEAKY_SLOPE, HAS_BIAS: hasBias ? 1 : 0 },
    workgroupSize: [WG, 1, 1],
  };
}

function bwdKernel(act: Activation): Kernel {
  return {
    name: `bias_act_bwd.${act}`,
    code: WGSL.bias_act_bwd,
    constants: { WG, ACT: ACT_CODE[act], SLOPE: LEAKY_SLOPE },
    workgroupSize: [WG, 1, 1],
  };
}

const SUM_WG = 64;
const channelSumKernel: Kernel = {
  name: "channel_sum",
  code: WGSL.channel_sum,
  constants: { WG: SUM_WG },
  workgroupSize: [SUM_WG, 1, 1],
};

const reduceKernel: Kernel = {
  name: "conv2d_bwd_weight_reduce",
  code: WGSL.conv2d_bwd_weight_reduce,
  constants: { WG: SUM_WG },
  workgroupSize: [SUM_WG, 1, 1],
};

/**
 * out[c] += sum of g over N and S for g (N, C, S): the bias gradient of conv, transposed conv and
 * linear layers. One workgroup per channel; for S = 1 (a linear layer's (N, C)) one invocation per channel
 * adds its N values (conv2d_bwd_weight_reduce with N splits of C): a workgroup and its barrier reduction for
 * 16 values cost more than the values (1.8 ms for G's 1024-feature input layer on llvmpipe).
 */
export function channelSumAccumulate(
  rec: Recorder,
  g: Tensor, // (N, C, S)
  out: Tensor, // (C), accumulated
  n: number,
  c: number,
  s: number,
): void {
  if (s === 1) {
    rec.dispatch(reduceKernel, [g, out, rec.gpu.uniform([c, n])], grid1d(Math.ceil(c / SUM_WG)));
    return;
  }
  rec.dispatch(channelSumKernel, [g, out, rec.gpu.uniform([n, c, s])], [c, 1, 1]);
}

/**
 * Whether {@linkcode biasActBackward} computes dx and the bias gradient in one pass (bias_act_bwd_sum.wgsl)
 * where the planes allow (S % 4 == 0). False is for A/B timing and the test that compares the two paths.
 */
export const biasActOptions = { fusedSum: true };

/** Workgroups the fused backward aims for: channels x image splits. */
const SUM_TARGET_GROUPS = 16;

function fusedSumKernel(act: Activation, split: boolean): Kernel {
  return {
    name: `bias_act_bwd_sum.${act}${split ? ".split" : ""}`,
    code: WGSL.bias_act_bwd_sum,
    constants: { WG: SUM_WG, ACT: ACT_CODE[act], SLOPE: LEAKY_SLOPE, SPLIT: split ? 1 : 0 },
    workgroupSize: [SUM_WG, 1, 1],
  };
}

/** dx = dy * act'(y) and dbias[c] += sum of dx, one pass: see shaders/bias_act_bwd_sum.wgsl. */
function biasActBackwardSum(
  rec: Recorder,
  dy: Tensor,
  y: Tensor,
  dx: Tensor,
  dbias: Tensor,
  act: Activation,
  n: number,
  c: number,
  s: number,
): void {
  // few channels: split the images so that both cores (and a GPU's units) have workgroups
  const want = Math.min(n, Math.max(1, Math.ceil(SUM_TARGET_GROUPS / c)));
  const per = Math.ceil(n / want);
  const splits = Math.ceil(n / per);
  const u = rec.gpu.uniform([n, c, s / 4, per]);
  if (splits === 1) {
    rec.dispatch(fusedSumKernel(act, false), [dy, y, dx, dbias, u], [c, 1, 1]);
    return;
  }
  const part = rec.gpu.tensor([splits, c]);
  rec.dispatch(fusedSumKernel(act, true), [dy, y, dx, part, u], [c, splits, 1]);
  rec.dispatch(reduceKernel, [part, dbias, rec.gpu.uniform([c, splits])], grid1d(Math.ceil(c / SUM_WG)));
  part.dispose();
}

/** Splits a shape into (N, C, S): N = shape[0], C = shape[1], S = the rest. */
export function ncs(shape: readonly number[]): [number, number, number] {
  const n = shape[0];
  const c = shape.length > 1 ? shape[1] : 1;
  const s = shape.slice(2).reduce((a, b) => a * b, 1);
  return [n, c, s];
}

/** y = act(x + bias[c]) (`bias` null: no bias). y must be another buffer than x (WebGPU forbids the alias). */
export function biasActForward(
  rec: Recorder,
  x: Tensor, // (N, C, S...)
  bias: Tensor | null, // (C)
  y: Tensor, // (N, C, S...)
  act: Activation,
): void {
  const [n, c, s] = ncs(x.shape);
  const total = n * c * s;
  if (x.buffer === y.buffer) throw new Error("biasActForward: y must not share a buffer with x");
  rec.dispatch(
    fwdKernel(act, bias !== null),
    [x, bias ?? x, y, rec.gpu.uniform([total, c, s])],
    grid1d(Math.ceil(total / WG)),
  );
}

/**
 * Backward of {@linkcode biasActForward} from its output y: dx = dy * act'(y) (written, =),
 * and dbias[c] += sum dx over N and S when `dbias` is given. dx may be dy only for "identity"
 * (a dispatch may not bind one buffer both read-only and writable).
 */
export function biasActBackward(
  rec: Recorder,
  dy: Tensor, // (N, C, S...)
  y: Tensor, // (N, C, S...) the forward output
  dx: Tensor, // (N, C, S...)
  dbias: Tensor | null, // (C), accumulated
  act: Activation,
): void {
  const [n, c, s] = ncs(y.shape);
  const total = n * c * s;
  if (dx !== dy && dx.buffer === dy.buffer) {
    throw new Error("biasActBackward: dx must be dy itself or another buffer");
  }
  if (dbias && dx !== dy && s % 4 === 0 && biasActOptions.fusedSum) {
    biasActBackwardSum(rec, dy, y, dx, dbias, act, n, c, s);
    return;
  }
  if (dx !== dy) {
    rec.dispatch(bwdKernel(act), [dy, y, dx, rec.gpu.uniform([total])], grid1d(Math.ceil(total / WG)));
  } else if (act !== "identity") {
    throw new Error(`biasActBackward: in place (dx === dy) only for identity, not ${act}`);
  }
  if (dbias) channelSumAccumulate(rec, dx, dbias, n, c, s);
}

// ---------------------------------------------------------------- CPU reference

/** CPU reference of the activation itself. */
export function actRef(v: number, act: Activation): number {
  switch (act) {
    case "relu":
      return Math.max(v, 0);
    case "leaky_relu":
      return v > 0 ? v : v * LEAKY_SLOPE;
    case "tanh":
      return Math.tanh(v);
    case "sigmoid":
      return 1 / (1 + Math.exp(-v));
    default:
      return v;
  }
}

/** CPU reference of {@linkcode biasActForward}. */
export function biasActForwardRef(
  x: Float32Array | Float64Array, // (N, C, S)
  bias: Float32Array | Float64Array | null, // (C)
  shape: readonly number[],
  act: Activation,
): Float64Array {
  const [, c, s] = ncs(shape);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    y[i] = actRef(x[i] + (bias ? bias[Math.floor(i / s) % c] : 0), act);
  }
  return y;
}

/** CPU reference of {@linkcode biasActBackward}: returns dx and dbias (not accumulated). */
export function biasActBackwardRef(
  dy: Float32Array | Float64Array,
  y: Float32Array | Float64Array,
  shape: readonly number[],
  act: Activation,
): { dx: Float64Array; dbias: Float64Array } {
  const [, c, s] = ncs(shape);
  const dx = new Float64Array(dy.length);
  const dbias = new Float64Array(c);
  for (let i = 0; i < dy.length; i++) {
    const o = y[i];
    let d = 1;
    if (act === "relu") d = o > 0 ? 1 : 0;
    else if (act === "leaky_relu") d = o > 0 ? 1 : LEAKY_SLOPE;
    else if (act === "tanh") d = 1 - o * o;
    else if (act === "sigmoid") d = o * (1 - o);
    dx[i] = dy[i] * d;
    dbias[Math.floor(i / s) % c] += dx[i];
  }
  return { dx, dbias };
}
