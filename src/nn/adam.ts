/**
 * Adam (with optional decoupled weight decay, i.e. AdamW) over a {@linkcode ParamStore}'s flat arenas:
 * one dispatch updates every parameter of a model. The moments m and v live in two more arenas with the
 * store's layout, so padding stays zero.
 *
 * The step count t and the learning rate change every step, so they live in a mutable uniform buffer that
 * {@linkcode Adam.step} rewrites with `queue.writeBuffer`. Every `writeBuffer` issued before a submit lands
 * before that submit's commands run, so ONE `Adam` instance can do only ONE update per submit: record the
 * step, submit, and only then record the next. (`step` throws if asked twice on the same recorder; a trainer
 * that updates the same optimiser twice per iteration must submit in between.)
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { ParamStore } from "../gpu/params.ts";
import type { Tensor } from "../gpu/tensor.ts";

/** Elementwise kernels: "naive" one value per invocation, "blocked" vec4 lanes, "auto" the fast one. */
export type ElementwiseVariant = "naive" | "blocked" | "auto";

/** Hyperparameters of {@linkcode Adam}. */
export interface AdamOptions {
  /** Learning rate (can be changed between steps through {@linkcode Adam.lr}). */
  lr: number;
  /** First-moment decay; 0 is the GAN setting Adam(0, 0.99). Default 0.9. */
  beta1?: number;
  /** Second-moment decay. Default 0.999. */
  beta2?: number;
  /** Added to sqrt(v-hat). Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay (AdamW): w *= 1 - lr * weightDecay each step. Default 0. */
  weightDecay?: number;
  /** Gradients are multiplied by this before the update (e.g. 1 / accumulation steps). Default 1. */
  gradScale?: number;
  /** Set the gradients to zero after reading them, in the same dispatch. Default false. */
  zeroGrads?: boolean;
  /** Kernel variant. Default "auto" (vec4). */
  variant?: ElementwiseVariant;
}

/** What a checkpoint needs to resume Adam exactly. */
export interface AdamState {
  /** Number of updates done. */
  t: number;
  /** Current learning rate. */
  lr: number;
  /** First moments, the whole arena (store layout, padding included). */
  m: Float32Array;
  /** Second moments, the whole arena. */
  v: Float32Array;
}

const WG = 256;

function adamKernel(vec4: boolean, zeroGrads: boolean): Kernel {
  return {
    name: `adam_${vec4 ? "vec4" : "naive"}${zeroGrads ? ".zero" : ""}`,
    code: vec4 ? WGSL.adam_vec4 : WGSL.adam_naive,
    constants: { WG, ZERO_GRAD: zeroGrads ? 1 : 0 },
    workgroupSize: [WG, 1, 1],
  };
}

function checkRange(name: string, x: number, lo: number, hi: number): void {
  if (!(x >= lo && x < hi)) throw new Error(`Adam: ${name} = ${x} must be in [${lo}, ${hi})`);
}

/** The Adam optimiser for one {@linkcode ParamStore}. Build the store before constructing it. */
export class Adam {
  /** Learning rate of the next step. */
  lr: number;
  /** Gradient multiplier of the next step (e.g. 1 / accumulation steps). */
  gradScale: number;
  /** First-moment decay. */
  readonly beta1: number;
  /** Second-moment decay. */
  readonly beta2: number;
  /** Added to sqrt(v-hat). */
  readonly eps: number;
  /** Decoupled weight decay. */
  readonly weightDecay: number;
  /** First-moment arena (store layout). */
  readonly m: Tensor;
  /** Second-moment arena (store layout). */
  readonly v: Tensor;
  private steps = 0;
  private readonly kernel: Kernel;
  private readonly vec4: boolean;
  private readonly params: GPUBuffer;
  private readonly host = new ArrayBuffer(48);
  private readonly used = new WeakSet<Recorder>();

  /** Allocates the moment arenas (zero) and the step uniform. */
  constructor(readonly gpu: Gpu, readonly store: ParamStore, opts: AdamOptions) {
    if (!store.values) {
      throw new Error(`Adam: build ParamStore "${store.label}" before creating its optimiser`);
    }
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.gradScale = opts.gradScale ?? 1;
    checkRange("beta1", this.beta1, 0, 1);
    checkRange("beta2", this.beta2, 0, 1);
    if (!(this.eps > 0)) throw new Error(`Adam: eps = ${this.eps} must be > 0`);
    this.vec4 = (opts.variant ?? "auto") !== "naive";
    this.kernel = adamKernel(this.vec4, opts.zeroGrads ?? false);
    this.m = store.arena(gpu, "adam_m");
    this.v = store.arena(gpu, "adam_v");
    this.params = gpu.mutableUniform(this.host.byteLength);
  }

  /** Number of updates done so far (the t of the bias correction of the last step). */
  get t(): number {
    return this.steps;
  }

  /**
   * Records one update of all parameters from the store's gradients and writes this step's t and lr into
   * the uniform buffer. Submit `rec` before the next `step` of this optimiser (see the module notes).
   */
  step(rec: Recorder): void {
    if (this.used.has(rec)) {
      throw new Error(
        `Adam (${this.store.label}): step() called twice on one recorder; the second write of t/lr would ` +
          `overwrite the first before the submit. Submit between the two updates.`,
      );
    }
    if (!Number.isFinite(this.lr)) {
      throw new Error(`Adam (${this.store.label}): lr = ${this.lr} is not finite`);
    }
    this.used.add(rec);
    const t = ++this.steps;
    const f = new Float32Array(this.host);
    f[0] = this.lr;
    f[1] = this.beta1;
    f[2] = 1 - this.beta1;
    f[3] = this.beta2;
    f[4] = 1 - this.beta2;
    f[5] = this.eps;
    f[6] = 1 - Math.pow(this.beta1, t);
    f[7] = 1 - Math.pow(this.beta2, t);
    f[8] = 1 - this.lr * this.weightDecay;
    f[9] = this.gradScale;
    const n = this.vec4 ? this.store.floats / 4 : this.store.floats;
    new Uint32Array(this.host)[10] = n;
    this.gpu.device.queue.writeBuffer(this.params, 0, this.host);
    rec.dispatch(
      this.kernel,
      [this.store.values, this.store.grads, this.m, this.v, this.params],
      grid1d(Math.ceil(n / WG)),
    );
  }

  /** Reads t, lr and the moment arenas (waits for submitted work). */
  async state(): Promise<AdamState> {
    return { t: this.steps, lr: this.lr, m: await this.gpu.read(this.m), v: await this.gpu.read(this.v) };
  }

  /** Restores a state from {@linkcode Adam.state} (queued before the next submit). */
  setState(s: AdamState): void {
    const n = this.store.floats;
    if (s.m.length !== n || s.v.length !== n) {
      throw new Error(
        `Adam (${this.store.label}): checkpoint moments have ${s.m.length}/${s.v.length} values, the model's ` +
          `arena ${n}: the checkpoint is from another model`,
      );
    }
    if (!Number.isInteger(s.t) || s.t < 0) {
      throw new Error(`Adam (${this.store.label}): bad step count ${s.t}`);
    }
    this.steps = s.t;
    this.lr = s.lr;
    this.gpu.write(this.m, s.m);
    this.gpu.write(this.v, s.v);
  }
}

// ---------------------------------------------------------------- CPU reference

/** Hyperparameters of {@linkcode adamStepRef} (defaults as in {@linkcode AdamOptions}). */
export interface AdamRefOptions {
  /** Learning rate. */
  lr: number;
  /** First-moment decay (0.9). */
  beta1?: number;
  /** Second-moment decay (0.999). */
  beta2?: number;
  /** Added to sqrt(v-hat) (1e-8). */
  eps?: number;
  /** Decoupled weight decay (0). */
  weightDecay?: number;
  /** Gradient multiplier (1). */
  gradScale?: number;
}

/** CPU reference of one Adam update at step `t` (1-based), in place on w, m, v (float64). */
export function adamStepRef(
  w: Float64Array,
  grad: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
  t: number,
  o: AdamRefOptions,
): void {
  const b1 = o.beta1 ?? 0.9, b2 = o.beta2 ?? 0.999, eps = o.eps ?? 1e-8;
  const decay = 1 - o.lr * (o.weightDecay ?? 0), gs = o.gradScale ?? 1;
  const bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);
  for (let i = 0; i < w.length; i++) {
    const g = grad[i] * gs;
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    w[i] = w[i] * decay - o.lr * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + eps);
  }
}
