/**
 * The label-conditional generator (cpd-GAN spirit): z (N, Z) ~ N(0, 1) and multi-hot labels y (N, L) ->
 * linear([z, y]) -> (C0, 4, 4) -> conditional norm -> leaky ReLU -> conv3x3 -> conditional norm -> leaky,
 * then one block per doubling up to the resolution:
 *   upsample (convT k4 s2 p1, or nearest x2 + conv3x3) -> cond norm -> leaky -> conv3x3 -> cond norm -> leaky,
 * then toImage (conv1x1 + bias) -> tanh. With GanConfig.gNoise, every conv's output (before its norm) gets a
 * noise input: a fresh standard-normal map per image scaled by a learned strength per channel. Every
 * conditional norm gets its own per-sample scale and shift from linear layers on the condition ([z, y], y or
 * z, see GanConfig.condInput), so the label modulates every resolution (or, with z, only the input layer).
 *
 * Inputs per batch: `zy` (N, Z + L) = [z, y] and `cond` (N, D) = [z, y], y or z (the trainer builds them on
 * the CPU). The condition carries no gradient.
 * @module
 */

import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { type Param, ParamStore } from "../gpu/params.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { Rng } from "../util/rng.ts";
import type { GanConfig } from "./config.ts";
import {
  Act,
  CondNorm,
  Conv,
  ConvT,
  type Layer,
  Linear,
  NoiseInject,
  Up2,
  type Variant,
  type Weight,
  WeightSet,
} from "./layers.ts";

/** Width of the condition vector the generator's norms read. */
export function condDim(cfg: GanConfig, numLabels: number): number {
  if (cfg.condInput === "label") return numLabels;
  return cfg.condInput === "latent" ? cfg.latentDim : cfg.latentDim + numLabels;
}

/** Gain of the linear layers making scale and shift: small, so the modulation starts near the identity. */
const MOD_GAIN = 0.5;

interface NormW {
  gamma: Weight;
  beta: Weight;
}

/** A generator pass for one batch size (what the trainer drives). */
export interface GeneratorPass {
  /** Output images (N, C, R, R) in [-1, 1]. */
  readonly out: Tensor;
  /** Records the forward. zy (N, Z + L), cond (N, D). */
  forward(rec: Recorder, zy: Tensor, cond: Tensor): Tensor;
  /** Records the backward from dimg (N, C, R, R): parameter gradients accumulate. */
  backward(rec: Recorder, dimg: Tensor): void;
  /**
   * Names the noise inputs' maps of the next forward and backward (GanConfig.gNoise; absent or a no-op
   * without): `seed` per step or per sample call, image n of the batch drawn as row row0 + n.
   */
  setNoise?(seed: number, row0: number): void;
}

/** A generator's weights; {@linkcode Generator.pass} builds a pass for a batch size. */
export interface GeneratorModel {
  /** The weights (one ParamStore). */
  readonly weights: WeightSet;
  /** Builds the activations of a pass with batch n. */
  pass(n: number): GeneratorPass;
}

/** The cpd-style conditional generator. */
export class Generator implements GeneratorModel {
  readonly weights: WeightSet;
  private readonly fc: Weight;
  private readonly norms: NormW[] = [];
  private readonly ups: Weight[] = [];
  private readonly convs: Weight[] = [];
  /** Noise strengths (C), one per conv in build order (GanConfig.gNoise), else empty. */
  private readonly noise: Param[] = [];
  /** toImage weight at the full resolution. */
  readonly toImg: Weight;
  /** Kernel variant of every engine call. */
  readonly variant: Variant;

  /** Declares and builds all weights (initialised from `seed`). */
  constructor(
    readonly gpu: Gpu,
    readonly cfg: GanConfig,
    readonly numLabels: number,
    seed = cfg.seed,
    /** Declares more weights before the store is built (the progressive variant's per-resolution toImage). */
    extra?: (set: WeightSet) => void,
  ) {
    const rng = new Rng((seed ^ 0x6e6e) >>> 0);
    const set = this.weights = new WeightSet(gpu, new ParamStore("G"), rng);
    this.variant = cfg.kernels;
    const ch = cfg.gChannels, Z = cfg.latentDim + numLabels, D = condDim(cfg, numLabels);
    this.fc = set.weight("g.fc", [ch[0] * 16, Z], Z, { biasLen: ch[0] * 16, gain: 1 });
    const norm = (name: string, c: number): NormW => ({
      gamma: set.weight(`${name}.gamma`, [c, D], D, { gain: MOD_GAIN, biasLen: c }),
      beta: set.weight(`${name}.beta`, [c, D], D, { gain: MOD_GAIN, biasLen: c }),
    });
    // zero strengths: a new generator with noise inputs starts as the one without
    const noise = (name: string, c: number) => {
      if (cfg.gNoise) this.noise.push(set.store.add(name, [c], new Float32Array(c)));
    };
    this.norms.push(norm("g.b4.norm0", ch[0]));
    this.convs.push(set.weight("g.b4.conv", [ch[0], ch[0], 3, 3], ch[0] * 9));
    noise("g.b4.conv.noise", ch[0]);
    this.norms.push(norm("g.b4.norm1", ch[0]));
    for (let i = 1; i < ch.length; i++) {
      const r = 4 << i, b = `g.b${r}`;
      this.ups.push(
        cfg.upsample === "convT"
          // a k4 s2 transposed conv sums 4 taps per output: fan-in cin * 4
          ? set.weight(`${b}.up`, [ch[i - 1], ch[i], 4, 4], ch[i - 1] * 4)
          : set.weight(`${b}.up`, [ch[i], ch[i - 1], 3, 3], ch[i - 1] * 9),
      );
      noise(`${b}.up.noise`, ch[i]);
      this.norms.push(norm(`${b}.norm0`, ch[i]));
      this.convs.push(set.weight(`${b}.conv`, [ch[i], ch[i], 3, 3], ch[i] * 9));
      noise(`${b}.conv.noise`, ch[i]);
      this.norms.push(norm(`${b}.norm1`, ch[i]));
    }
    const last = ch[ch.length - 1];
    this.toImg = set.weight("g.to_img", [cfg.imageChannels, last, 1, 1], last, {
      gain: 1,
      biasLen: cfg.imageChannels,
    });
    extra?.(set);
    set.build();
  }

  pass(n: number): GeneratorPass {
    return new CpdGeneratorPass(this, n);
  }

  /** @internal the layer list of a pass (used by CpdGeneratorPass). */
  buildLayers(n: number): { fc: Linear; steps: (Layer | CondNorm)[]; res: number; blockEnds: number[] } {
    const { gpu, cfg, variant } = this;
    const ch = cfg.gChannels, mode = cfg.condNorm;
    const steps: (Layer | CondNorm)[] = [];
    const fc = new Linear(gpu, this.fc, n, false, variant);
    let shape = [n, ch[0], 4, 4];
    let k = 0;
    const noise = () => {
      if (cfg.gNoise) steps.push(new NoiseInject(gpu, shape, this.noise[k++]));
    };
    const normAct = (k: number) => {
      steps.push(new CondNorm(gpu, shape, mode, this.norms[k].gamma, this.norms[k].beta, variant));
      steps.push(new Act(gpu, shape, "leaky_relu"));
    };
    normAct(0);
    const conv3 = (w: Weight, cin: number, cout: number, h: number) =>
      new Conv(gpu, w, { n, cin, h, w: h, cout, k: 3, stride: 1, pad: 1 }, true, variant);
    steps.push(conv3(this.convs[0], ch[0], ch[0], 4));
    noise();
    normAct(1);
    const blockEnds = [steps.length];
    let h = 4;
    for (let i = 1; i < ch.length; i++) {
      if (cfg.upsample === "convT") {
        steps.push(
          new ConvT(
            gpu,
            this.ups[i - 1],
            { n, cin: ch[i - 1], h, w: h, cout: ch[i], k: 4, stride: 2, pad: 1 },
            true,
            variant,
          ),
        );
      } else {
        steps.push(new Up2(gpu, [n, ch[i - 1], h, h]));
        steps.push(conv3(this.ups[i - 1], ch[i - 1], ch[i], 2 * h));
      }
      h *= 2;
      shape = [n, ch[i], h, h];
      noise();
      normAct(2 * i);
      steps.push(conv3(this.convs[i], ch[i], ch[i], h));
      noise();
      normAct(2 * i + 1);
      blockEnds.push(steps.length);
    }
    const last = ch[ch.length - 1];
    steps.push(
      new Conv(
        gpu,
        this.toImg,
        { n, cin: last, h, w: h, cout: cfg.imageChannels, k: 1, stride: 1, pad: 0 },
        true,
        variant,
      ),
    );
    steps.push(new Act(gpu, [n, cfg.imageChannels, h, h], "tanh"));
    return { fc, steps, res: h, blockEnds };
  }
}

class CpdGeneratorPass implements GeneratorPass {
  readonly out: Tensor;
  private readonly fc: Linear;
  private readonly steps: (Layer | CondNorm)[];
  private readonly noise: NoiseInject[];
  constructor(g: Generator, readonly n: number) {
    const { fc, steps } = g.buildLayers(n);
    this.fc = fc;
    this.steps = steps;
    this.noise = steps.filter((s): s is NoiseInject => s instanceof NoiseInject);
    this.out = steps[steps.length - 1].y;
  }
  setNoise(seed: number, row0: number): void {
    // each layer its own maps: the seed mixed with the layer's index (golden-ratio increments)
    this.noise.forEach((l, k) => l.setSeed((seed ^ Math.imul(k + 1, 0x9e3779b9)) >>> 0, row0));
  }
  forward(rec: Recorder, zy: Tensor, cond: Tensor): Tensor {
    let h = this.fc.forward(rec, zy);
    h = h.reshape([this.n, h.shape[1] / 16, 4, 4]);
    for (const s of this.steps) h = s instanceof CondNorm ? s.forward(rec, h, cond) : s.forward(rec, h);
    return h;
  }
  backward(rec: Recorder, dimg: Tensor): void {
    let d: Tensor = dimg;
    for (let i = this.steps.length - 1; i >= 0; i--) d = this.steps[i].backward(rec, d, true)!;
    this.fc.backward(rec, d.reshape([this.n, d.size / this.n]), true);
  }
}
