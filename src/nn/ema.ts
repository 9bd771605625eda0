/**
 * Exponential moving average of a model's weights (for sampling from a GAN generator), over the
 * {@linkcode ParamStore}'s flat arena: ema = decay * ema + (1 - decay) * value, one dispatch a step.
 * The decay may change between submits ({@linkcode Ema.setDecay}, for a ramp-up); updates recorded into one
 * submit share the decay that was set last before it.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { ParamStore } from "../gpu/params.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { ElementwiseVariant } from "./adam.ts";

/** What a checkpoint needs to resume the EMA exactly. */
export interface EmaState {
  /** The decay it was made with (informational; restoring keeps this instance's decay). */
  decay: number;
  /** The averaged values, the whole arena (store layout, padding included). */
  values: Float32Array;
}

const WG = 256;

/** The EMA of one {@linkcode ParamStore}'s values. Build the store before constructing it. */
export class Ema {
  /** The averaged weights, an arena with the store's layout (slice it with `store.slice(ema.values, p)`). */
  readonly values: Tensor;
  private readonly kernel: Kernel;
  private readonly uniformData: Uint32Array;
  private readonly uniformBuf: GPUBuffer;
  private current: number;
  private readonly n: number;
  private backup: Tensor | null = null;
  private swapped = false;

  /** Starts the average at the store's current values (queued before the next submit). */
  constructor(
    readonly gpu: Gpu,
    readonly store: ParamStore,
    readonly decay: number,
    opts: { variant?: ElementwiseVariant } = {},
  ) {
    if (!store.values) throw new Error(`Ema: build ParamStore "${store.label}" before creating its EMA`);
    if (!(decay >= 0 && decay <= 1)) {
      throw new Error(`Ema (${store.label}): decay = ${decay} must be in [0, 1]`);
    }
    const vec4 = (opts.variant ?? "auto") !== "naive";
    this.kernel = {
      name: vec4 ? "ema_vec4" : "ema_naive",
      code: vec4 ? WGSL.ema_vec4 : WGSL.ema_naive,
      constants: { WG },
      workgroupSize: [WG, 1, 1],
    };
    this.n = vec4 ? store.floats / 4 : store.floats;
    const host = new ArrayBuffer(12);
    new Float32Array(host, 0, 2).set([decay, 1 - decay]);
    new Uint32Array(host, 8, 1)[0] = this.n;
    this.uniformData = new Uint32Array(host);
    this.uniformBuf = gpu.mutableUniform(12);
    this.current = decay;
    gpu.device.queue.writeBuffer(this.uniformBuf, 0, this.uniformData);
    this.values = store.arena(gpu, "ema");
    gpu.run((rec) => rec.copy(store.values, this.values));
  }

  /** Records ema = decay * ema + (1 - decay) * values. */
  update(rec: Recorder): void {
    if (this.swapped) {
      throw new Error(`Ema (${this.store.label}): update() while swapped in; call swapOut first`);
    }
    rec.dispatch(
      this.kernel,
      [this.store.values, this.values, this.uniformBuf],
      grid1d(Math.ceil(this.n / WG)),
    );
  }

  /** The decay in use (the constructor's until {@linkcode Ema.setDecay}). */
  get currentDecay(): number {
    return this.current;
  }

  /** Changes the decay of the updates of the next submits (a no-op when unchanged). */
  setDecay(decay: number): void {
    if (!(decay >= 0 && decay <= 1)) {
      throw new Error(`Ema (${this.store.label}): decay = ${decay} must be in [0, 1]`);
    }
    if (decay === this.current) return;
    this.current = decay;
    new Float32Array(this.uniformData.buffer, 0, 2).set([decay, 1 - decay]);
    this.gpu.device.queue.writeBuffer(this.uniformBuf, 0, this.uniformData);
  }

  /**
   * Records: save the live weights and put the EMA weights in their place, so the model runs with the
   * EMA weights (sampling, evaluation) until {@linkcode Ema.swapOut}.
   */
  swapIn(rec: Recorder): void {
    if (this.swapped) throw new Error(`Ema (${this.store.label}): swapIn() twice without swapOut()`);
    this.backup ??= this.store.arena(this.gpu, "ema_backup");
    rec.copy(this.store.values, this.backup);
    rec.copy(this.values, this.store.values);
    this.swapped = true;
  }

  /** Records: put the live weights saved by {@linkcode Ema.swapIn} back. */
  swapOut(rec: Recorder): void {
    if (!this.swapped || !this.backup) {
      throw new Error(`Ema (${this.store.label}): swapOut() without swapIn()`);
    }
    rec.copy(this.backup, this.store.values);
    this.swapped = false;
  }

  /** Whether the EMA weights are currently in the model. */
  get isSwappedIn(): boolean {
    return this.swapped;
  }

  /** Reads the averaged arena (waits for submitted work). */
  async state(): Promise<EmaState> {
    return { decay: this.decay, values: await this.gpu.read(this.values) };
  }

  /** Restores a state from {@linkcode Ema.state} (queued before the next submit). */
  setState(s: EmaState): void {
    if (s.values.length !== this.store.floats) {
      throw new Error(
        `Ema (${this.store.label}): checkpoint EMA has ${s.values.length} values, the model's arena ` +
          `${this.store.floats}: the checkpoint is from another model`,
      );
    }
    this.gpu.write(this.values, s.values);
  }
}

/** CPU reference of {@linkcode Ema.update}, in place on `ema` (float64). */
export function emaUpdateRef(ema: Float64Array, values: ArrayLike<number>, decay: number): void {
  for (let i = 0; i < ema.length; i++) ema[i] = decay * ema[i] + (1 - decay) * values[i];
}
