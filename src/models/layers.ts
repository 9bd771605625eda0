/**
 * Thin module wrappers over the engine's layers (src/nn/*): each holds its parameters (or shares them
 * through a {@linkcode Weight}) and the activations it saves, with an explicit forward and backward.
 * A layer is built for one batch shape: it allocates its output and input-gradient tensors once, so a
 * training step after the first allocates nothing. Two layers built on the same {@linkcode Weight} share
 * the parameters (the discriminator runs on real and on fake batches with separate saved activations).
 *
 * Conventions as in the engine: forward writes `y`; backward writes the input gradient `dx` (=) and
 * ACCUMULATES parameter gradients (+=) when asked to (`params`).
 * @module
 */

import type { Gpu, Recorder } from "../gpu/gpu.ts";
import type { Param, ParamStore } from "../gpu/params.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { type Activation, biasActBackward, biasActForward } from "../nn/activation.ts";
import { batchNormBackward, batchNormForward, batchNormRunningInit } from "../nn/batch_norm.ts";
import { condNormBackward, condNormForward, type CondNormKind, condNormSavedShape } from "../nn/cond_norm.ts";
import {
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
  conv2dFusesLeaky,
  conv2dOutputSize,
  type Conv2dShape,
} from "../nn/conv2d.ts";
import {
  convT2dBackwardInput,
  convT2dBackwardWeight,
  convT2dForward,
  convT2dOutputSize,
  type ConvT2dShape,
} from "../nn/conv_transpose2d.ts";
import { linearBackwardInput, linearBackwardWeight, linearForward } from "../nn/linear.ts";
import { matmul } from "../nn/matmul.ts";
import { mbstdSavedShape, minibatchStdBackward, minibatchStdForward } from "../nn/minibatch_std.ts";
import {
  NOISE_INJECT_PARAM_BYTES,
  noiseInjectBackward,
  noiseInjectForward,
  noiseInjectParams,
} from "../nn/noise_inject.ts";
import { avgPool2Backward, avgPool2Forward, upsample2Backward, upsample2Forward } from "../nn/pool.ts";
import {
  spectralNormBackward,
  spectralNormForward,
  type SpectralNormState,
  spectralNormState,
} from "../nn/spectral_norm.ts";
import { standardizeFixedBackward, standardizeFixedForward } from "../nn/standardize_fixed.ts";
import type { Rng } from "../util/rng.ts";

/** Kernel variant passed to every engine call ("auto" = fast kernels). */
export type Variant = "auto" | "naive";

/** A weight (and optional bias) of a conv / linear layer, optionally spectrally normalised. */
export class Weight {
  /** A weight with its optional bias and spectral-norm tensors. */
  constructor(
    /** The raw weight parameter. */
    readonly param: Param,
    /** The bias parameter, or null. */
    readonly bias: Param | null,
    /** Spectral-norm state (u persistent), or null. */
    readonly sn: SpectralNormState | null,
    /** W / sigma (same shape as the weight) when spectrally normalised. */
    readonly wsn: Tensor | null,
    /** Gradient with respect to W / sigma, accumulated over the passes of a step. */
    readonly dwsn: Tensor | null,
  ) {}
  /** The weight the layer multiplies with: W / sigma or W. */
  get value(): Tensor {
    return this.wsn ?? this.param.value;
  }
  /** Where the layer accumulates its weight gradient: dW_sn (converted by the SN backward) or dW. */
  get grad(): Tensor {
    return this.dwsn ?? this.param.grad;
  }
}

/**
 * The parameters of one network: a {@linkcode ParamStore} plus the spectral-norm states, with seeded
 * initialisation. Declare every weight, then {@linkcode WeightSet.build}.
 */
export class WeightSet {
  /** The store holding values and gradients. */
  readonly store: ParamStore;
  /** Spectrally normalised weights, in declaration order (checkpoint order of the u vectors). */
  readonly snWeights: Weight[] = [];

  /** A weight set on `store`, initialised from `rng`. */
  constructor(readonly gpu: Gpu, store: ParamStore, private readonly rng: Rng) {
    this.store = store;
  }

  /**
   * A weight of `shape` (fan-in = product of all but the first dim, or of dims 0, 2, 3 for a transposed conv)
   * drawn N(0, gain^2 / fanIn), with a zero (or `biasInit`) bias of `biasLen` values when biasLen > 0.
   */
  weight(
    name: string,
    shape: number[],
    fanIn: number,
    opts: { gain?: number; biasLen?: number; biasInit?: number; sn?: boolean } = {},
  ): Weight {
    const n = shape.reduce((a, b) => a * b, 1);
    const std = (opts.gain ?? Math.SQRT2) / Math.sqrt(fanIn);
    const p = this.store.add(`${name}.w`, shape, this.rng.normals(n, std));
    const b = opts.biasLen
      ? this.store.add(`${name}.b`, [opts.biasLen], new Float32Array(opts.biasLen).fill(opts.biasInit ?? 0))
      : null;
    if (!opts.sn) return new Weight(p, b, null, null, null);
    const w = new Weight(
      p,
      b,
      spectralNormState(this.gpu, shape, this.rng.nextU32()),
      this.gpu.tensor(shape),
      this.gpu.tensor(shape),
    );
    this.snWeights.push(w);
    return w;
  }

  /** Allocates the arenas and uploads the initial values. */
  build(): void {
    this.store.build(this.gpu);
  }

  /** Records the spectral-norm forward of every SN weight (one power-iteration step when `update`). */
  snForward(rec: Recorder, update: boolean): void {
    for (const w of this.snWeights) spectralNormForward(rec, w.param.value, w.wsn!, w.sn!, { update });
  }

  /** Records: zero the dW_sn accumulators (start of a step that computes parameter gradients). */
  snClear(rec: Recorder): void {
    for (const w of this.snWeights) rec.clear(w.dwsn!);
  }

  /** Records: dW += SN backward of dW_sn for every SN weight (after all passes of a step). */
  snBackward(rec: Recorder): void {
    for (const w of this.snWeights) spectralNormBackward(rec, w.dwsn!, w.wsn!, w.sn!, w.param.grad);
  }

  /** Reads the u vectors (checkpoints), keyed `sn.<weight name>`. */
  async readSn(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const w of this.snWeights) out.set(`sn.${w.param.name}`, await this.gpu.read(w.sn!.u));
    return out;
  }

  /** Restores the u vectors from {@linkcode WeightSet.readSn}'s map. */
  writeSn(arrays: Map<string, Float32Array>): void {
    for (const w of this.snWeights) {
      const u = arrays.get(`sn.${w.param.name}`);
      if (!u || u.length !== w.sn!.u.size) {
        throw new Error(
          `checkpoint: spectral-norm vector "sn.${w.param.name}" is missing or has the wrong size`,
        );
      }
      this.gpu.write(w.sn!.u, u);
    }
  }
}

/** A layer with one input and one output. */
export interface Layer {
  /** The output of the last forward. */
  readonly y: Tensor;
  /** Records the forward of `x`; returns `y`. */
  forward(rec: Recorder, x: Tensor): Tensor;
  /**
   * Records the backward for `dy`: parameter gradients (+=) when `params`, and the input gradient
   * (returned; null when the layer was built without one).
   */
  backward(rec: Recorder, dy: Tensor, params: boolean): Tensor | null;
}

function alloc(gpu: Gpu, shape: number[], yes = true): Tensor | null {
  return yes ? gpu.tensor(shape) : null;
}

/**
 * 2-D convolution (with optional bias and spectral norm through its {@linkcode Weight}), optionally followed
 * by a leaky ReLU (`leaky`): y is then the activation, applied in the conv's output pass where the kernel
 * allows ({@linkcode conv2dFusesLeaky}; the discriminator's conv + leaky pairs), else in a pass of its own.
 */
export class Conv implements Layer {
  readonly y: Tensor; // (N, Cout, Ho, Wo)
  /** Input gradient written by the backward (null when built without one). */
  readonly dx: Tensor | null; // (N, Cin, H, W)
  /** The convolution's shape. */
  readonly shape: Conv2dShape;
  /** Leaky: the conv's output before the activation when the kernel cannot fuse it, else null. */
  private readonly pre: Tensor | null;
  /** Leaky: the gradient of the conv's output. */
  private readonly dpre: Tensor | null;
  private readonly fused: boolean;
  private x!: Tensor;
  /** Allocates the tensors for one batch shape (parameters come from the weights). */
  constructor(
    gpu: Gpu,
    readonly w: Weight,
    s: Conv2dShape,
    inputGrad: boolean,
    readonly variant: Variant,
    readonly leaky = false,
  ) {
    this.shape = s;
    const [ho, wo] = conv2dOutputSize(s);
    this.y = gpu.tensor([s.n, s.cout, ho, wo]);
    this.dx = alloc(gpu, [s.n, s.cin, s.h, s.w], inputGrad);
    this.fused = leaky && conv2dFusesLeaky(gpu, s, variant);
    this.pre = alloc(gpu, [s.n, s.cout, ho, wo], leaky && !this.fused);
    this.dpre = alloc(gpu, [s.n, s.cout, ho, wo], leaky);
  }
  forward(rec: Recorder, x: Tensor): Tensor {
    this.x = x;
    const b = this.w.bias?.value ?? null;
    conv2dForward(rec, x, this.w.value, b, this.pre ?? this.y, this.shape, this.variant, this.fused);
    if (this.pre) biasActForward(rec, this.pre, null, this.y, "leaky_relu");
    return this.y;
  }
  backward(rec: Recorder, dy: Tensor, params: boolean): Tensor | null {
    let g = dy;
    let db = params ? this.w.bias?.grad ?? null : null;
    if (this.dpre) {
      // the bias gradient is the sum of the leaky ReLU's dx: one pass computes both where it can
      biasActBackward(rec, dy, this.y, this.dpre, db, "leaky_relu");
      g = this.dpre;
      db = null;
    }
    if (params) conv2dBackwardWeight(rec, this.x, g, this.w.grad, db, this.shape, this.variant);
    if (this.dx) conv2dBackwardInput(rec, g, this.w.value, this.dx, this.shape, this.variant);
    return this.dx;
  }
}

/** Transposed 2-D convolution, weight (Cin, Cout, K, K). */
export class ConvT implements Layer {
  readonly y: Tensor;
  /** Input gradient written by the backward (null when built without one). */
  readonly dx: Tensor | null;
  /** The transposed convolution's shape. */
  readonly shape: ConvT2dShape;
  private x!: Tensor;
  /** Kernel variant of every engine call. */
  constructor(gpu: Gpu, readonly w: Weight, s: ConvT2dShape, inputGrad: boolean, readonly variant: Variant) {
    this.shape = s;
    const [ho, wo] = convT2dOutputSize(s);
    this.y = gpu.tensor([s.n, s.cout, ho, wo]);
    this.dx = alloc(gpu, [s.n, s.cin, s.h, s.w], inputGrad);
  }
  forward(rec: Recorder, x: Tensor): Tensor {
    this.x = x;
    convT2dForward(rec, x, this.w.value, this.w.bias?.value ?? null, this.y, this.shape, this.variant);
    return this.y;
  }
  backward(rec: Recorder, dy: Tensor, params: boolean): Tensor | null {
    if (params) {
      convT2dBackwardWeight(
        rec,
        this.x,
        dy,
        this.w.grad,
        this.w.bias?.grad ?? null,
        this.shape,
        this.variant,
      );
    }
    if (this.dx) convT2dBackwardInput(rec, dy, this.w.value, this.dx, this.shape, this.variant);
    return this.dx;
  }
}

/** Fully connected layer, x (N, In) -> y (N, Out), weight (Out, In). */
export class Linear implements Layer {
  readonly y: Tensor;
  /** Input gradient written by the backward (null when built without one). */
  readonly dx: Tensor | null;
  private x!: Tensor;
  /** Allocates the tensors for one batch shape (parameters come from the weights). */
  constructor(
    gpu: Gpu,
    readonly w: Weight,
    readonly n: number,
    inputGrad: boolean,
    readonly variant: Variant,
  ) {
    const [out, inn] = w.param.shape;
    this.y = gpu.tensor([n, out]);
    this.dx = alloc(gpu, [n, inn], inputGrad);
  }
  forward(rec: Recorder, x: Tensor): Tensor {
    this.x = x;
    linearForward(rec, x, this.w.value, this.w.bias?.value ?? null, this.y, this.variant);
    return this.y;
  }
  backward(rec: Recorder, dy: Tensor, params: boolean): Tensor | null {
    if (params) linearBackwardWeight(rec, this.x, dy, this.w.grad, this.w.bias?.grad ?? null, this.variant);
    if (this.dx) linearBackwardInput(rec, dy, this.w.value, this.dx, this.variant);
    return this.dx;
  }
  /** Records dx += dy W (a second consumer of this layer's input adds its gradient). */
  backwardInputAccumulate(rec: Recorder, dy: Tensor, dx: Tensor): void {
    const [out, inn] = this.w.param.shape;
    matmul(rec, dy, this.w.value, dx, { m: this.n, n: inn, k: out, accumulate: true }, this.variant);
  }
}

/** An activation without bias (leaky ReLU, tanh, ...). */
export class Act implements Layer {
  readonly y: Tensor;
  /** Input gradient written by the backward. */
  readonly dx: Tensor;
  /** Allocates the tensors for one batch shape (parameters come from the weights). */
  constructor(gpu: Gpu, shape: number[], readonly act: Activation) {
    this.y = gpu.tensor(shape);
    this.dx = gpu.tensor(shape);
  }
  forward(rec: Recorder, x: Tensor): Tensor {
    biasActForward(rec, x, null, this.y, this.act);
    return this.y;
  }
  backward(rec: Recorder, dy: Tensor): Tensor {
    biasActBackward(rec, dy, this.y, this.dx, null, this.act);
    return this.dx;
  }
}

/**
 * Noise input (src/nn/noise_inject.ts): x += s * g in place, g one standard-normal map per image named by the
 * seed of {@linkcode NoiseInject.setSeed}, s (C) a learned strength per channel. In place because the layer
 * that wrote x (a conv in the generator) does not read its output in its backward.
 */
export class NoiseInject implements Layer {
  /** The per-pass uniform (n, c, h * w, seed, row0). */
  private readonly params: GPUBuffer;
  private x!: Tensor;
  /** Builds the layer for activations of `shape` (N, C, H, W) with strength `s` (C). */
  constructor(private readonly gpu: Gpu, readonly shape: readonly number[], readonly s: Param) {
    this.params = gpu.mutableUniform(NOISE_INJECT_PARAM_BYTES);
    this.setSeed(0, 0);
  }
  /** Names the noise of the next forward and backward: `seed`, image n of the batch as row row0 + n. */
  setSeed(seed: number, row0: number): void {
    this.gpu.device.queue.writeBuffer(this.params, 0, noiseInjectParams(this.shape, seed, row0));
  }
  /** The output of the last forward (the input, changed in place). */
  get y(): Tensor {
    return this.x;
  }
  forward(rec: Recorder, x: Tensor): Tensor {
    this.x = x;
    noiseInjectForward(rec, x, this.s.value, this.params);
    return x;
  }
  backward(rec: Recorder, dy: Tensor, params: boolean): Tensor {
    if (params) noiseInjectBackward(rec, dy, this.s.grad, this.params);
    return dy;
  }
}

/** 2x nearest-neighbour upsampling. */
export class Up2 implements Layer {
  readonly y: Tensor;
  /** Input gradient written by the backward. */
  readonly dx: Tensor;
  /** Allocates the tensors for one batch shape (parameters come from the weights). */
  constructor(gpu: Gpu, shape: number[]) {
    const [n, c, h, w] = shape;
    this.y = gpu.tensor([n, c, 2 * h, 2 * w]);
    this.dx = gpu.tensor(shape);
  }
  forward(rec: Recorder, x: Tensor): Tensor {
    upsample2Forward(rec, x, this.y);
    return this.y;
  }
  backward(rec: Recorder, dy: Tensor): Tensor {
    upsample2Backward(rec, dy, this.dx);
    return this.dx;
  }
}

/** 2x2 average pooling. */
export class Pool2 implements Layer {
  readonly y: Tensor;
  /** Input gradient written by the backward (null when built without one). */
  readonly dx: Tensor | null;
  /** Allocates the tensors for one batch shape (parameters come from the weights). */
  constructor(gpu: Gpu, shape: number[], inputGrad = true) {
    const [n, c, h, w] = shape;
    this.y = gpu.tensor([n, c, h / 2, w / 2]);
    this.dx = alloc(gpu, shape, inputGrad);
  }
  forward(rec: Recorder, x: Tensor): Tensor {
    avgPool2Forward(rec, x, this.y);
    return this.y;
  }
  backward(rec: Recorder, dy: Tensor): Tensor | null {
    if (this.dx) avgPool2Backward(rec, dy, this.dx);
    return this.dx;
  }
}

/** Minibatch standard deviation: appends one feature map (N, C, H, W) -> (N, C+1, H, W). */
export class MbStd implements Layer {
  readonly y: Tensor;
  /** Input gradient written by the backward. */
  readonly dx: Tensor;
  private readonly saved: Tensor;
  private x!: Tensor;
  /** Allocates the tensors for one batch shape (parameters come from the weights). */
  constructor(gpu: Gpu, shape: number[], readonly group: number) {
    const [n, c, h, w] = shape;
    this.y = gpu.tensor([n, c + 1, h, w]);
    this.dx = gpu.tensor(shape);
    this.saved = gpu.tensor(mbstdSavedShape(n, group));
  }
  forward(rec: Recorder, x: Tensor): Tensor {
    this.x = x;
    minibatchStdForward(rec, x, this.y, this.saved, { groupSize: this.group });
    return this.y;
  }
  backward(rec: Recorder, dy: Tensor): Tensor {
    minibatchStdBackward(rec, this.x, dy, this.saved, this.dx, { groupSize: this.group });
    return this.dx;
  }
}

/**
 * Conditional normalisation: y = normalize(x) * (1 + gamma) + beta, gamma and beta (N, C) from two linear
 * layers on a condition vector c (N, D). The condition is an input without gradient (latent and label).
 */
export class CondNorm {
  /** Output of the last forward. */
  readonly y: Tensor;
  /** Input gradient written by the backward. */
  readonly dx: Tensor;
  private readonly saved: Tensor | null;
  private readonly gamma: Linear;
  private readonly beta: Linear;
  private readonly dgamma: Tensor;
  private readonly dbeta: Tensor;
  private x!: Tensor;
  /** Allocates the tensors for one batch shape (parameters come from the weights). */
  constructor(
    gpu: Gpu,
    shape: number[],
    readonly norm: CondNormKind,
    gammaW: Weight,
    betaW: Weight,
    variant: Variant,
  ) {
    const [n, c] = shape;
    this.y = gpu.tensor(shape);
    this.dx = gpu.tensor(shape);
    const ss = condNormSavedShape(shape, norm);
    this.saved = ss ? gpu.tensor(ss) : null;
    this.gamma = new Linear(gpu, gammaW, n, false, variant);
    this.beta = new Linear(gpu, betaW, n, false, variant);
    this.dgamma = gpu.tensor([n, c]);
    this.dbeta = gpu.tensor([n, c]);
  }
  /** Records gamma, beta = linear(c) and the normalisation of x. */
  forward(rec: Recorder, x: Tensor, cond: Tensor): Tensor {
    this.x = x;
    const g = this.gamma.forward(rec, cond), b = this.beta.forward(rec, cond);
    condNormForward(rec, x, g, b, this.y, this.saved, { norm: this.norm });
    return this.y;
  }
  /** Records dx and (with `params`) the gradients of the two linear layers. */
  backward(rec: Recorder, dy: Tensor, params: boolean): Tensor {
    condNormBackward(rec, this.x, dy, this.gamma.y, this.saved, this.dx, this.dgamma, this.dbeta, {
      norm: this.norm,
    });
    if (params) {
      this.gamma.backward(rec, this.dgamma, true);
      this.beta.backward(rec, this.dbeta, true);
    }
    return this.dx;
  }
}

/**
 * Per-sample feature modulation without normalisation: y = x * (1 + e), e (N, F) = linear(y_label), the
 * discriminator's projection term (see discriminator.ts). Backward returns dx and accumulates the embedding's
 * weight gradient.
 */
export class Modulate {
  /** Output of the last forward. */
  readonly y: Tensor;
  /** Input gradient written by the backward. */
  readonly dx: Tensor;
  private readonly embed: Linear;
  private readonly zero: Tensor;
  private readonly de: Tensor;
  private readonly dzero: Tensor;
  private x!: Tensor;
  /** Allocates the tensors for one batch shape (parameters come from the weights). */
  constructor(gpu: Gpu, n: number, f: number, embedW: Weight, variant: Variant) {
    this.y = gpu.tensor([n, f]);
    this.dx = gpu.tensor([n, f]);
    this.embed = new Linear(gpu, embedW, n, false, variant);
    this.zero = gpu.tensor([n, f], new Float32Array(n * f));
    this.de = gpu.tensor([n, f]);
    this.dzero = gpu.tensor([n, f]);
  }
  /** Records the forward; returns the output. */
  forward(rec: Recorder, x: Tensor, label: Tensor): Tensor {
    this.x = x;
    const e = this.embed.forward(rec, label);
    condNormForward(rec, x, e, this.zero, this.y, null, { norm: "none" });
    return this.y;
  }
  /** Records the backward (parameter gradients accumulate when `params`); returns the input gradient. */
  backward(rec: Recorder, dy: Tensor, params: boolean): Tensor {
    condNormBackward(rec, this.x, dy, this.embed.y, null, this.dx, this.de, this.dzero, { norm: "none" });
    if (params) this.embed.backward(rec, this.de, true);
    return this.dx;
  }
}

/**
 * Per-feature standardisation over the batch, x (N, F) -> (x - mean_f) / sqrt(var_f + eps) (per channel over
 * (N, H, W) for x (N, C, H, W)), without parameters, with the batch's statistics (batch norm in training mode
 * with gamma 1, beta 0) or with those another FeatureStandardize computed on its last batch.
 * The discriminator's auxiliary classifier reads its features through it: the spectrally normalised trunk
 * keeps the differences between images tiny next to the features' common part, and an unnormalised
 * linear head moved by Adam at lr per step would need thousands of steps to amplify them.
 */
export class FeatureStandardize {
  /** Output of the last forward (N, F) or (N, C, H, W). */
  readonly y: Tensor;
  /** Input gradient written by the backward (the input's shape). */
  readonly dx: Tensor;
  /** The last batch-statistics forward's (2, F) [mean | invstd]; another layer may standardise with them. */
  readonly stats: Tensor;
  private readonly ones: Tensor;
  private readonly zeros: Tensor;
  private readonly running: Tensor;
  private readonly dgamma: Tensor;
  private readonly dbeta: Tensor;
  private x!: Tensor;
  /**
   * Allocates the tensors for a batch of shape (N, F), or (N, C, H, W) standardised per channel. With
   * `statsFrom`, this layer standardises with that layer's statistics of its last forward (constants here)
   * instead of its own batch's.
   */
  constructor(gpu: Gpu, shape: readonly number[], private readonly statsFrom?: FeatureStandardize) {
    const f = shape[1];
    this.y = gpu.tensor([...shape]);
    this.dx = gpu.tensor([...shape]);
    this.ones = gpu.tensor([f], new Float32Array(f).fill(1));
    this.zeros = gpu.tensor([f], new Float32Array(f));
    this.stats = gpu.tensor([2, f]);
    // written by the kernel, never read: the standardisation always uses a batch's statistics
    this.running = gpu.tensor([2 * f], batchNormRunningInit(f));
    this.dgamma = gpu.tensor([f]);
    this.dbeta = gpu.tensor([f]);
    if (statsFrom && statsFrom.stats.size !== 2 * f) {
      throw new Error(`FeatureStandardize: statsFrom has ${statsFrom.stats.size / 2} features, needs ${f}`);
    }
  }
  /** The last forward's input. */
  get input(): Tensor {
    return this.x;
  }
  /** Records the forward; returns the output. */
  forward(rec: Recorder, x: Tensor): Tensor {
    this.x = x;
    if (this.statsFrom) {
      standardizeFixedForward(rec, x, this.statsFrom.stats, this.y);
    } else {
      const opts = { training: true };
      batchNormForward(rec, x, this.ones, this.zeros, this.y, this.stats, this.running, opts);
    }
    return this.y;
  }
  /** Records the backward (through the batch statistics unless they came from `statsFrom`). */
  backward(rec: Recorder, dy: Tensor): Tensor {
    if (this.statsFrom) {
      standardizeFixedBackward(rec, dy, this.statsFrom.stats, this.dx);
      return this.dx;
    }
    // the kernel accumulates the (unused) gamma / beta gradients: clear them so they stay finite
    rec.clear(this.dgamma);
    rec.clear(this.dbeta);
    batchNormBackward(rec, this.x, dy, this.ones, this.stats, this.dx, this.dgamma, this.dbeta);
    return this.dx;
  }
}

/** Records the forward of layers in order; returns the last output. */
export function forwardChain(rec: Recorder, layers: readonly Layer[], x: Tensor): Tensor {
  let h = x;
  for (const l of layers) h = l.forward(rec, h);
  return h;
}

/** Records the backward of layers in reverse order; returns the input gradient of the first (or null). */
export function backwardChain(
  rec: Recorder,
  layers: readonly Layer[],
  dy: Tensor,
  params: boolean,
): Tensor | null {
  let d: Tensor | null = dy;
  for (let i = layers.length - 1; i >= 0; i--) {
    if (!d) throw new Error("backwardChain: a layer before the first has no input gradient");
    d = layers[i].backward(rec, d, params);
  }
  return d;
}
