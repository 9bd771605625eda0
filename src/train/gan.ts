/**
 * The GAN trainer (library code: no Deno APIs). One iteration = a discriminator step and a generator step
 * recorded into ONE recorder and submitted once:
 *
 *   fake = G(z, y_fake)                                         (saved activations kept for the G step)
 *   D step: spectral norm (one power iteration) -> D(aug(real), y_real) with the aux head,
 *           D(aug(fake), y_fake) -> GAN loss (+ aux BCE on real, weight auxWeightD) -> backward -> Adam(D)
 *   G step: spectral norm of the updated D (no iteration) -> D(aug'(fake), y_fake) with the aux head ->
 *           G loss + aux BCE on fake (weight auxWeightG) -> backward through D (input only), the
 *           augmentation and G -> Adam(G) -> EMA(G)
 *
 * Every random number (batch rows, fake labels, latents, augmentation) is drawn on the CPU from the
 * trainer's seeded {@linkcode Rng} in a fixed order and uploaded with `gpu.write`, so the run is a pure
 * function of the seed and the restored state: a resumed run repeats an uninterrupted one exactly on the
 * same adapter. Losses accumulate in a small GPU log that is read every `logEvery` steps only.
 * @module
 */

import type { Gpu, Recorder } from "../gpu/gpu.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { Dataset } from "../data/dataset.ts";
import { comboKey } from "../data/dataset.ts";
import { Adam } from "../nn/adam.ts";
import { adaUpdate, Augmenter } from "../nn/augment.ts";
import { Ema } from "../nn/ema.ts";
import { bceWithLogits, ganLossD, ganLossG } from "../nn/losses.ts";
import { featMatch, featMatchStateSize } from "../nn/feat_match.ts";
import { type ProgressivePhase, progressivePhase } from "../nn/blend.ts";
import { Rng } from "../util/rng.ts";
import { addNoise, noiseParams } from "../nn/noise.ts";
import { type GanConfig, scaleGanBatch } from "../models/config.ts";
import { condDim, Generator, type GeneratorModel, type GeneratorPass } from "../models/generator.ts";
import {
  auxOutputs,
  Discriminator,
  type DiscriminatorModel,
  type DiscriminatorPass,
} from "../models/discriminator.ts";
import { ProgressiveDiscriminator, ProgressiveGenerator } from "../models/progressive.ts";

/** Loss-log slots. */
const SLOT = { d: 0, dAux: 1, g: 2, gAux: 3, dAuxFake: 4, featMatch: 5 } as const;

/** Mean losses and scores over the steps since the previous report. */
export interface LossReport {
  /** Step count at the report. */
  step: number;
  /** Real images shown so far. */
  imagesSeen: number;
  /** Steps averaged. */
  steps: number;
  /** Discriminator GAN loss. */
  dLoss: number;
  /** Discriminator auxiliary BCE on real images. */
  dAux: number;
  /** Generator GAN loss. */
  gLoss: number;
  /** Generator auxiliary BCE (D's aux head on fakes vs their labels). */
  gAux: number;
  /** ADC only: the discriminator's auxiliary BCE on generated images ("generated with label l"); else 0. */
  dAuxFake: number;
  /** With featMatchWeight > 0: G's class-conditional feature-matching loss (unweighted); else 0. */
  featMatch: number;
  /** Mean D logit on the last real batch. */
  dReal: number;
  /** Mean D logit on the last fake batch (D step). */
  dFake: number;
  /** Augmentation probability multiplier p. */
  augP: number;
}

/** Thrown when a loss turns NaN or infinite: the caller keeps the last good checkpoint. */
export class GanDivergedError extends Error {
  /** Wraps the report of the diverged readback. */
  constructor(readonly report: LossReport) {
    super(
      `training diverged at step ${report.step} (${report.imagesSeen} images): losses ` +
        `D ${report.dLoss}, D aux ${report.dAux}, G ${report.gLoss}, G aux ${report.gAux}. ` +
        `The last checkpoint before this point is kept; lower the learning rates or resume from it.`,
    );
    this.name = "GanDivergedError";
  }
}

/** The generator of a configuration (cpd or progressive), weights initialised from the seed. */
export function buildGenerator(gpu: Gpu, cfg: GanConfig, numLabels: number): GeneratorModel {
  return cfg.model === "progressive"
    ? new ProgressiveGenerator(gpu, cfg, numLabels)
    : new Generator(gpu, cfg, numLabels);
}

/** Generator and discriminator for a configuration (cpd or progressive). */
export function buildModels(
  gpu: Gpu,
  cfg: GanConfig,
  numLabels: number,
): { g: GeneratorModel; d: DiscriminatorModel } {
  const g = buildGenerator(gpu, cfg, numLabels);
  const d = cfg.model === "progressive"
    ? new ProgressiveDiscriminator(gpu, cfg, numLabels)
    : new Discriminator(gpu, cfg, numLabels);
  return { g, d };
}

/** Something that follows the progressive schedule (the progressive models' passes). */
interface Phased {
  setPhase(phase: ProgressivePhase): void;
}
function isPhased(x: unknown): x is Phased {
  return typeof (x as Phased).setPhase === "function";
}

/** The progressive schedule of a config, or null for fixed-resolution models. */
export function phaseOf(cfg: GanConfig, imagesSeen: number): ProgressivePhase | null {
  if (cfg.model !== "progressive") return null;
  return progressivePhase(imagesSeen, { ...cfg.progressive, targetRes: cfg.resolution });
}

/**
 * Fills `zy` (N, Z + L) = [z, y] and `cond` (N, D) from latents and labels (the generator's two inputs).
 */
export function generatorInputs(
  cfg: GanConfig,
  numLabels: number,
  z: Float32Array, // (N, Z)
  labels: ArrayLike<number>, // (N, L)
  zy: Float32Array,
  cond: Float32Array,
): void {
  const Z = cfg.latentDim, L = numLabels, n = z.length / Z, D = condDim(cfg, L);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < Z; k++) zy[i * (Z + L) + k] = z[i * Z + k];
    for (let l = 0; l < L; l++) zy[i * (Z + L) + Z + l] = labels[i * L + l];
    if (cfg.condInput === "latent+label") cond.set(zy.subarray(i * (Z + L), (i + 1) * (Z + L)), i * D);
    else if (cfg.condInput === "latent") cond.set(z.subarray(i * Z, (i + 1) * Z), i * D);
    else for (let l = 0; l < L; l++) cond[i * D + l] = labels[i * L + l];
  }
}

/**
 * Sets the discriminator's auxiliary-classifier bias to the log-odds of each label's frequency in `data`,
 * so the classifier starts at the prior's BCE: from a zero bias, Adam at lr per step would need thousands of
 * steps to get there (log-odds of a 24 % label is -1.15) before the head learns anything from the images.
 * An ADC head (2L outputs) sees real and generated images half and half, so each of its two outputs of a
 * label starts at half that label's frequency.
 */
export function initAuxBias(gpu: Gpu, d: DiscriminatorModel, data: Dataset): void {
  const p = d.weights.store.params.find((q) => q.name === "d.aux.b");
  if (!p) return;
  const L = data.labelNames.length, A = p.init.length, share = A === 2 * L ? 0.5 : 1;
  const b = new Float32Array(A);
  for (let l = 0; l < L; l++) {
    let c = 0;
    for (let i = 0; i < data.n; i++) c += data.labels[i * L + l];
    // clamped away from 0 and 1: a label that never (or always) occurs gets a large finite log-odds
    const f = Math.min(Math.max((share * c) / data.n, 1e-3), 1 - 1e-3);
    for (let k = l; k < A; k += L) b[k] = Math.log(f / (1 - f));
  }
  gpu.write(p.value, b);
}

/**
 * The ADC-GAN targets of the auxiliary head's 2L outputs ("real image with label l" | "generated image
 * with label l") from real labels yr and fake labels yf (N, L): D learns [yr, 0] on real images and [0, yf]
 * on generated ones; G is trained towards [yf, 0]: its image should carry label l as real images do, and
 * carry nothing that D has learnt to recognise as "generated with label l". Each output is (N, 2L).
 */
export function adcTargets(
  yr: ArrayLike<number>, // (N, L)
  yf: ArrayLike<number>, // (N, L)
  L: number,
  real: Float32Array, // (N, 2L)
  fakeD: Float32Array, // (N, 2L)
  fakeG: Float32Array, // (N, 2L)
): void {
  const n = yr.length / L;
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < L; l++) {
      const r = yr[i * L + l], f = yf[i * L + l], o = i * 2 * L;
      real[o + l] = r;
      real[o + L + l] = 0;
      fakeD[o + l] = 0;
      fakeD[o + L + l] = f;
      fakeG[o + l] = f;
      fakeG[o + L + l] = 0;
    }
  }
}

/**
 * The EMA decay per step after `imagesSeen` images: cfg.emaDecay, or with a ramp-up (cfg.emaRampup > 0)
 * the decay whose half-life is min(emaRampup * imagesSeen, the half-life of emaDecay) images
 * (StyleGAN2-ADA's rule), so early steps do not average in the untrained generator for long.
 */
export function emaDecayAt(cfg: GanConfig, imagesSeen: number): number {
  if (cfg.emaRampup <= 0 || cfg.emaDecay <= 0) return cfg.emaDecay;
  const maxHalfLife = cfg.batchSize * Math.log(0.5) / Math.log(cfg.emaDecay); // images
  const halfLife = Math.min(maxHalfLife, cfg.emaRampup * imagesSeen);
  return halfLife > 0 ? 0.5 ** (cfg.batchSize / halfLife) : 0;
}

/** Binary label smoothing in place: targets 0 and 1 become s and 1 - s (soft targets t become s + (1 - 2s) t). */
export function smoothTargets(t: Float32Array, s: number): Float32Array {
  if (s === 0) return t;
  for (let i = 0; i < t.length; i++) t[i] = s + (1 - 2 * s) * t[i];
  return t;
}

/** G's auxiliary-loss weight after `imagesSeen` images: auxWeightG, decaying linearly to auxWeightGEnd. */
export function auxWeightGAt(cfg: GanConfig, imagesSeen: number): number {
  if (cfg.auxDecayImages <= 0) return cfg.auxWeightG;
  const f = Math.min(1, imagesSeen / cfg.auxDecayImages);
  return cfg.auxWeightG + (cfg.auxWeightGEnd - cfg.auxWeightG) * f;
}

/**
 * The learning rates' factor after `imagesSeen` images: 1 until lrDecayFrom, then falling linearly to
 * lrEndFactor over lrDecayImages images (1 throughout when lrDecayImages is 0).
 */
export function lrFactorAt(cfg: GanConfig, imagesSeen: number): number {
  if (cfg.lrDecayImages <= 0 || imagesSeen <= cfg.lrDecayFrom) return 1;
  const f = Math.min(1, (imagesSeen - cfg.lrDecayFrom) / cfg.lrDecayImages);
  return 1 + (cfg.lrEndFactor - 1) * f;
}

/** The instance-noise std after `imagesSeen` images: instanceNoise, falling linearly to 0 when scheduled. */
export function instanceNoiseAt(cfg: GanConfig, imagesSeen: number): number {
  if (cfg.instanceNoiseImages <= 0) return cfg.instanceNoise;
  return cfg.instanceNoise * Math.max(0, 1 - imagesSeen / cfg.instanceNoiseImages);
}

/** The training state of a GAN run (everything a checkpoint holds beside the config). */
export class GanTrainer {
  /** Iterations done. */
  step = 0;
  /** Real images shown to D so far (step * batch). */
  imagesSeen = 0;
  /** The trainer's random numbers (batches, latents, augmentation). */
  readonly rng: Rng;
  /** The generator. */
  readonly g: GeneratorModel;
  /** The discriminator. */
  readonly d: DiscriminatorModel;
  /** The generator pass (batch N) used for training and sampling. */
  readonly gPass: GeneratorPass;
  /** D pass on real batches (no input gradient). */
  readonly dReal: DiscriminatorPass;
  /** D pass on fake batches (with input gradient, for the G step). */
  readonly dFake: DiscriminatorPass;
  /** Adam of the generator. */
  readonly adamG: Adam;
  /** Adam of the discriminator. */
  readonly adamD: Adam;
  /** EMA of the generator weights (used for sampling). */
  readonly ema: Ema;
  /** Number of labels L. */
  readonly numLabels: number;
  private readonly augmenter: Augmenter | null;
  private readonly augParams: Tensor[];
  /** Instance-noise parameters of D's three inputs a step (real, fake in the D step, fake in the G step). */
  private readonly noise: GPUBuffer[];
  /** Real images (N, C, R, R), real labels (N, L), fake labels (N, L), G inputs. */
  private readonly xReal: Tensor;
  private readonly yReal: Tensor;
  private readonly yFake: Tensor;
  private readonly zy: Tensor;
  private readonly cond: Tensor;
  private readonly xRealAug: Tensor;
  private readonly xFakeAug: Tensor;
  private readonly dimg: Tensor;
  private readonly dOutReal: Tensor;
  private readonly dOutFake: Tensor;
  private readonly dAuxReal: Tensor;
  private readonly dAuxFake: Tensor;
  /**
   * Targets of the auxiliary head (N, A): on real images, on generated images in the D step and in the G
   * step. AC-GAN (A = L): the real labels and twice the fake labels. ADC-GAN (A = 2L): [y, 0], [0, y] and
   * [y, 0] ("real with label l" | "generated with label l"). G's targets are smoothed when auxSmoothG > 0.
   */
  private readonly auxReal: Tensor;
  private readonly auxFakeD: Tensor;
  private readonly auxFakeG: Tensor;
  private readonly adc: boolean;
  private readonly posW: Tensor;
  private readonly negW: Tensor;
  /**
   * Feature matching (featMatchWeight > 0, else null): the moving averages of the per-label feature means
   * (4, L, 2, F), part of the trainer's state, and the gradient it puts on the G step's D features (N, F).
   */
  readonly featMatch: { state: Tensor; dh: Tensor } | null;
  /** The loss log (8): see SLOT. */
  readonly lossLog: Tensor;
  private stepsSinceRead = 0;
  private clearLog = true;
  private augP: number;
  private readonly host: {
    x: Float32Array;
    yr: Float32Array;
    yf: Float32Array;
    /** ADC targets (N, 2L): [yr, 0], [0, yf], [yf, 0]; empty for AC (G's also for AC with auxSmoothG). */
    ar: Float32Array;
    afd: Float32Array;
    afg: Float32Array;
    z: Float32Array;
    zy: Float32Array;
    cond: Float32Array;
  };

  /** Builds models, optimisers, EMA, augmentation and all step tensors for `data` (the training split). */
  constructor(readonly gpu: Gpu, readonly cfg: GanConfig, readonly data: Dataset) {
    const R = cfg.resolution, C = cfg.imageChannels, N = cfg.batchSize, L = data.labelNames.length;
    if (data.height !== R || data.width !== R) {
      throw new Error(
        `GAN: the data are ${data.height}x${data.width}, config.resolution is ${R}; resize the data`,
      );
    }
    if (data.channels !== C) {
      throw new Error(`GAN: the data have ${data.channels} channel(s), config.imageChannels is ${C}`);
    }
    if (data.n < 1) throw new Error("GAN: the training data are empty");
    this.numLabels = L;
    this.rng = new Rng(cfg.seed);
    const { g, d } = buildModels(gpu, cfg, L);
    this.g = g;
    this.d = d;
    this.gPass = g.pass(N);
    this.dReal = d.pass(N, false);
    // the real pass runs its auxiliary head first in every step (auxWeightD > 0 is checked with auxStats)
    this.dFake = d.pass(N, true, cfg.auxStats === "real" ? this.dReal.auxNorm : undefined);
    const adam = { beta1: cfg.beta1, beta2: cfg.beta2, zeroGrads: true };
    this.adamG = new Adam(gpu, g.weights.store, { lr: cfg.lrG, ...adam });
    this.adamD = new Adam(gpu, d.weights.store, { lr: cfg.lrD, ...adam });
    this.ema = new Ema(gpu, g.weights.store, cfg.emaDecay);
    initAuxBias(gpu, d, data);
    const shape = [N, C, R, R] as [number, number, number, number];
    const a = cfg.augment;
    this.augP = a.p;
    this.augmenter = a.enabled
      ? new Augmenter(gpu, shape, {
        pTranslate: a.pTranslate,
        pCutout: a.pCutout,
        pColor: a.pColor,
        translateFrac: a.translateFrac,
        cutoutFrac: a.cutoutFrac,
        flip: a.flip,
      })
      : null;
    this.augParams = this.augmenter ? [0, 1, 2].map(() => this.augmenter!.paramsTensor()) : [];
    this.noise = cfg.instanceNoise > 0 ? [0, 1, 2].map(() => gpu.mutableUniform(12)) : [];
    const Z = cfg.latentDim, D = condDim(cfg, L);
    this.xReal = gpu.tensor(shape);
    this.yReal = gpu.tensor([N, L]);
    this.yFake = gpu.tensor([N, L]);
    this.zy = gpu.tensor([N, Z + L]);
    this.cond = gpu.tensor([N, D]);
    this.xRealAug = gpu.tensor(shape);
    this.xFakeAug = gpu.tensor(shape);
    this.dimg = gpu.tensor(shape);
    this.dOutReal = gpu.tensor([N, 1]);
    this.dOutFake = gpu.tensor([N, 1]);
    const A = auxOutputs(cfg, L);
    this.adc = cfg.auxLoss === "adc";
    this.dAuxReal = gpu.tensor([N, A]);
    this.dAuxFake = gpu.tensor([N, A]);
    this.auxReal = this.adc ? gpu.tensor([N, A]) : this.yReal;
    this.auxFakeD = this.adc ? gpu.tensor([N, A]) : this.yFake;
    const ownG = this.adc || cfg.auxSmoothG > 0;
    this.auxFakeG = ownG ? gpu.tensor([N, A]) : this.yFake;
    this.posW = gpu.tensor([A], new Float32Array(A).fill(1));
    this.negW = gpu.tensor([A], new Float32Array(A).fill(1));
    this.lossLog = gpu.tensor([8], new Float32Array(8));
    this.featMatch = cfg.featMatchWeight > 0
      ? {
        state: gpu.tensor([4, L, 2, cfg.dFeatures], new Float32Array(featMatchStateSize(L, cfg.dFeatures))),
        dh: gpu.tensor([N, cfg.dFeatures]),
      }
      : null;
    this.host = {
      x: new Float32Array(N * C * R * R),
      yr: new Float32Array(N * L),
      yf: new Float32Array(N * L),
      ar: new Float32Array(this.adc ? N * A : 0),
      afd: new Float32Array(this.adc ? N * A : 0),
      afg: new Float32Array(ownG ? N * A : 0),
      z: new Float32Array(N * Z),
      zy: new Float32Array(N * (Z + L)),
      cond: new Float32Array(N * D),
    };
  }

  /** Augmentation probability multiplier p (ADA moves it). */
  get augmentP(): number {
    return this.augP;
  }
  set augmentP(p: number) {
    this.augP = p;
  }

  /** The progressive phase of the next step (null for fixed-resolution models). */
  get phase(): ProgressivePhase | null {
    return phaseOf(this.cfg, this.imagesSeen);
  }

  /** Applies the phase of `imagesSeen` to the passes (progressive models). Queued before the next submit. */
  private applyPhase(): void {
    const ph = this.phase;
    if (!ph) return;
    for (const p of [this.gPass, this.dReal, this.dFake]) if (isPhased(p)) p.setPhase(ph);
  }

  /** Draws one batch on the CPU (fixed draw order) and queues its upload. */
  private drawBatch(): void {
    const { data, cfg, rng, host } = this;
    const N = cfg.batchSize, L = this.numLabels, sz = data.channels * data.height * data.width;
    for (let i = 0; i < N; i++) {
      const r = rng.int(data.n);
      host.x.set(data.images.subarray(r * sz, (r + 1) * sz), i * sz);
      for (let l = 0; l < L; l++) host.yr[i * L + l] = data.labels[r * L + l];
    }
    for (let i = 0; i < N; i++) {
      const r = rng.int(data.n);
      for (let l = 0; l < L; l++) host.yf[i * L + l] = data.labels[r * L + l];
    }
    for (let k = 0; k < host.z.length; k++) host.z[k] = rng.normal();
    // drawn only with noise inputs, so runs without them keep their random stream
    if (cfg.gNoise) this.gPass.setNoise?.(rng.nextU32(), 0);
    generatorInputs(cfg, L, host.z, host.yf, host.zy, host.cond);
    const gpu = this.gpu;
    gpu.write(this.xReal, host.x);
    gpu.write(this.yReal, host.yr);
    gpu.write(this.yFake, host.yf);
    gpu.write(this.zy, host.zy);
    gpu.write(this.cond, host.cond);
    if (this.adc) {
      adcTargets(host.yr, host.yf, L, host.ar, host.afd, host.afg);
      gpu.write(this.auxReal, host.ar);
      gpu.write(this.auxFakeD, host.afd);
    } else if (cfg.auxSmoothG > 0) host.afg.set(host.yf);
    if (host.afg.length > 0) {
      smoothTargets(host.afg, cfg.auxSmoothG);
      gpu.write(this.auxFakeG, host.afg);
    }
    if (this.augmenter) {
      this.augmenter.p = this.augP;
      for (const t of this.augParams) this.augmenter.draw(rng, t);
    }
    const sigma = instanceNoiseAt(cfg, this.imagesSeen);
    for (const u of this.noise) {
      gpu.device.queue.writeBuffer(u, 0, noiseParams(this.xReal.size, rng.nextU32(), sigma));
    }
  }

  /**
   * Records what D sees of x with params slot k: its augmentation into y, plus instance noise (in y; x itself
   * when both are off). The noise's backward is the identity, so the gradient path is the augmentation's.
   */
  private augment(rec: Recorder, x: Tensor, k: number, y: Tensor): Tensor {
    let out = x;
    if (this.augmenter) {
      this.augmenter.forward(rec, x, this.augParams[k], y);
      out = y;
    }
    if (this.noise.length) {
      if (out === x) rec.copy(x, y);
      addNoise(rec, y, this.noise[k]);
      out = y;
    }
    return out;
  }

  /** Records and submits one iteration (D step + G step). Nothing is read back. */
  trainStep(): void {
    const { gpu, cfg } = this;
    this.applyPhase();
    this.drawBatch();
    this.ema.setDecay(emaDecayAt(cfg, this.imagesSeen));
    const lrFactor = lrFactorAt(cfg, this.imagesSeen);
    this.adamD.lr = cfg.lrD * lrFactor;
    this.adamG.lr = cfg.lrG * lrFactor;
    const rec = gpu.recorder();
    if (this.clearLog) {
      rec.clear(this.lossLog);
      this.clearLog = false;
    }
    const acc = { accumulate: true };
    // generator forward (its activations stay for the G step)
    const fake = this.gPass.forward(rec, this.zy, this.cond);
    // ---- D step
    const dw = this.d.weights;
    dw.snForward(rec, true);
    dw.snClear(rec);
    const auxD = cfg.auxWeightD > 0, adcD = auxD && this.adc;
    // BCE is a mean over the head's outputs: an ADC head has twice as many, so its weight doubles to keep
    // auxWeightD/G the weight per label
    const auxScale = this.adc ? 2 : 1;
    this.dReal.forward(rec, this.augment(rec, this.xReal, 0, this.xRealAug), this.yReal, true);
    this.dFake.forward(rec, this.augment(rec, fake, 1, this.xFakeAug), this.yFake, adcD);
    ganLossD(rec, cfg.loss, this.dReal.out, this.dFake.out, this.dOutReal, this.dOutFake, this.lossLog, {
      slot: SLOT.d,
      ...acc,
    });
    if (auxD) {
      bceWithLogits(rec, this.dReal.aux, this.auxReal, this.posW, this.negW, this.dAuxReal, this.lossLog, {
        slot: SLOT.dAux,
        scale: cfg.auxWeightD * auxScale,
        ...acc,
      });
    }
    if (adcD) {
      bceWithLogits(rec, this.dFake.aux, this.auxFakeD, this.posW, this.negW, this.dAuxFake, this.lossLog, {
        slot: SLOT.dAuxFake,
        scale: cfg.auxWeightD * auxScale,
        ...acc,
      });
    }
    this.dFake.backward(rec, this.dOutFake, adcD ? this.dAuxFake : null, true);
    this.dReal.backward(rec, this.dOutReal, auxD ? this.dAuxReal : null, true);
    dw.snBackward(rec);
    this.adamD.step(rec);
    // ---- G step
    dw.snForward(rec, false);
    const xf = this.augment(rec, fake, 2, this.xFakeAug);
    const auxWeightG = auxWeightGAt(cfg, this.imagesSeen);
    const auxG = auxWeightG > 0;
    this.dFake.forward(rec, xf, this.yFake, auxG);
    ganLossG(rec, cfg.loss, this.dFake.out, this.dOutFake, this.lossLog, { slot: SLOT.g, ...acc });
    if (auxG) {
      bceWithLogits(rec, this.dFake.aux, this.auxFakeG, this.posW, this.negW, this.dAuxFake, this.lossLog, {
        slot: SLOT.gAux,
        scale: auxWeightG * auxScale,
        ...acc,
      });
    }
    // the real features are the D step's (before D's update): one forward fewer, and the moving average
    // spans several steps of D anyway
    const fm = this.featMatch;
    if (fm) {
      featMatch(
        rec,
        this.dReal.features,
        this.yReal,
        this.dFake.features,
        this.yFake,
        fm.state,
        fm.dh,
        this.lossLog,
        {
          scale: cfg.featMatchWeight,
          decay: cfg.featMatchDecay,
          mode: cfg.featMatchMode,
          slot: SLOT.featMatch,
          ...acc,
        },
      );
    }
    const dxAug = this.dFake.backward(rec, this.dOutFake, auxG ? this.dAuxFake : null, false, fm?.dh)!;
    let dimg = dxAug;
    if (this.augmenter) {
      this.augmenter.backward(rec, dxAug, this.augParams[2], this.dimg);
      dimg = this.dimg;
    }
    this.gPass.backward(rec, dimg);
    this.adamG.step(rec);
    this.ema.update(rec);
    gpu.submit(rec);
    this.step++;
    this.imagesSeen += cfg.batchSize;
    this.stepsSinceRead++;
  }

  /** Whether the loss log is due for a readback after this step. */
  get logDue(): boolean {
    return this.step % this.cfg.logEvery === 0;
  }

  /**
   * Reads the loss log (mean over the steps since the last read) and the last batch's D scores, updates ADA's
   * p, and throws {@linkcode GanDivergedError} on a NaN or infinite loss. Costs two readbacks.
   */
  async readLosses(): Promise<LossReport> {
    const log = await this.gpu.read(this.lossLog);
    const real = await this.gpu.read(this.dReal.out);
    const fake = await this.gpu.read(this.dFake.out); // the G step's forward of the fakes
    const k = Math.max(1, this.stepsSinceRead);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    const report: LossReport = {
      step: this.step,
      imagesSeen: this.imagesSeen,
      steps: this.stepsSinceRead,
      dLoss: log[SLOT.d] / k,
      dAux: log[SLOT.dAux] / k,
      gLoss: log[SLOT.g] / k,
      gAux: log[SLOT.gAux] / k,
      dAuxFake: log[SLOT.dAuxFake] / k,
      featMatch: log[SLOT.featMatch] / k,
      dReal: mean(real),
      dFake: mean(fake),
      augP: this.augP,
    };
    this.stepsSinceRead = 0;
    this.clearLog = true;
    const vals = [
      report.dLoss,
      report.dAux,
      report.gLoss,
      report.gAux,
      report.dAuxFake,
      report.featMatch,
      report.dReal,
      report.dFake,
    ];
    if (!vals.every(Number.isFinite)) throw new GanDivergedError(report);
    const a = this.cfg.augment;
    if (this.augmenter && a.adaptive) {
      const rt = real.reduce((s, v) => s + Math.sign(v), 0) / real.length;
      // a fixed image count per update (not the steps since the last read) keeps a resumed run exact
      this.augP = adaUpdate(this.augP, rt, this.cfg.batchSize * this.cfg.logEvery, {
        target: a.adaTarget,
        speedImages: a.adaSpeedImages,
      });
    }
    return report;
  }

  /**
   * Generates one image per label row with the EMA generator, latents from Rng(seed) (N(0, 1), drawn row by
   * row, so row i gets the same latent whatever the batch size). Returns (M, C, R, R) in [-1, 1].
   */
  async generate(labels: ArrayLike<number>, seed: number): Promise<Float32Array> {
    this.applyPhase();
    return await sampleWith(
      this.gpu,
      this.cfg,
      this.numLabels,
      this.gPass,
      this.zy,
      this.cond,
      labels,
      seed,
      {
        before: (rec) => this.ema.swapIn(rec),
        after: (rec) => this.ema.swapOut(rec),
      },
    );
  }

  /** A grid of samples: one row per label combination (rows of `labels`, (rows, L)), `cols` latents each. */
  async sampleGrid(labels: ArrayLike<number>, rows: number, cols: number, seed: number): Promise<ImageGrid> {
    const L = this.numLabels;
    const all = new Float32Array(rows * cols * L);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        for (let l = 0; l < L; l++) all[(r * cols + c) * L + l] = labels[r * L + l];
      }
    }
    const imgs = await this.generate(all, seed);
    return tileGrid(imgs, rows, cols, this.cfg.imageChannels, this.cfg.resolution);
  }
}

/** An image grid in [-1, 1], (C, H, W). */
export interface ImageGrid {
  /** Pixels (C, H, W). */
  data: Float32Array;
  /** Channels C. */
  channels: number;
  /** Height H. */
  height: number;
  /** Width W. */
  width: number;
}

/** Tiles M = rows * cols images (M, C, R, R) into one (C, rows*R + gaps, cols*R + gaps) image, 1 px gaps. */
export function tileGrid(imgs: Float32Array, rows: number, cols: number, C: number, R: number): ImageGrid {
  const H = rows * R + (rows - 1), W = cols * R + (cols - 1);
  const data = new Float32Array(C * H * W).fill(1);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const src = (r * cols + c) * C * R * R;
      for (let ch = 0; ch < C; ch++) {
        for (let i = 0; i < R; i++) {
          for (let j = 0; j < R; j++) {
            data[(ch * H + r * (R + 1) + i) * W + c * (R + 1) + j] = imgs[src + (ch * R + i) * R + j];
          }
        }
      }
    }
  }
  return { data, channels: C, height: H, width: W };
}

/**
 * Runs a generator pass over labels (M, L) in chunks of the pass's batch size, latents from Rng(seed) drawn
 * row by row; `before` / `after` record around each forward (EMA swap). Returns (M, C, R, R).
 */
export async function sampleWith(
  gpu: Gpu,
  cfg: GanConfig,
  numLabels: number,
  pass: GeneratorPass,
  zy: Tensor,
  cond: Tensor,
  labels: ArrayLike<number>,
  seed: number,
  hooks: { before?: (rec: Recorder) => void; after?: (rec: Recorder) => void } = {},
): Promise<Float32Array> {
  const L = numLabels, Z = cfg.latentDim, n = zy.shape[0];
  const M = labels.length / L;
  if (!Number.isInteger(M)) throw new Error(`generate: ${labels.length} label values are not rows of ${L}`);
  const sz = pass.out.size / n;
  const out = new Float32Array(M * sz);
  const rng = new Rng(seed);
  const z = new Float32Array(n * Z), y = new Float32Array(n * L);
  const hzy = new Float32Array(zy.size), hc = new Float32Array(cond.size);
  const buf = new Float32Array(pass.out.size);
  for (let s = 0; s < M; s += n) {
    const m = Math.min(n, M - s);
    z.fill(0);
    y.fill(0);
    for (let k = 0; k < m * Z; k++) z[k] = rng.normal();
    for (let k = 0; k < m * L; k++) y[k] = labels[s * L + k];
    generatorInputs(cfg, L, z, y, hzy, hc);
    gpu.write(zy, hzy);
    gpu.write(cond, hc);
    // noise inputs named by the seed and the row, like the latents: independent of the batch size
    pass.setNoise?.(noiseSeedOf(seed), s);
    const rec = gpu.recorder();
    hooks.before?.(rec);
    pass.forward(rec, zy, cond);
    hooks.after?.(rec);
    gpu.submit(rec);
    await gpu.read(pass.out, buf);
    out.set(buf.subarray(0, m * sz), s * sz);
  }
  return out;
}

/** The seed of a sample call's noise inputs, decorrelated from its latents' Rng(seed) by a hash. */
function noiseSeedOf(seed: number): number {
  return (Math.imul(seed ^ 0x6e6f6973, 0x85ebca6b) ^ 0x5bd1e995) >>> 0;
}

/** The `k` most frequent label combinations of a dataset, as rows (k, L) of 0/1 (fewer if there are fewer). */
export function topCombos(d: Pick<Dataset, "labels" | "labelNames" | "n">, k: number): Uint8Array {
  const counts = new Map<string, number>();
  for (let i = 0; i < d.n; i++) {
    const key = comboKey(d, i);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const keys = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, k);
  const L = d.labelNames.length;
  const out = new Uint8Array(keys.length * L);
  keys.forEach(([key], r) => {
    for (let l = 0; l < L; l++) out[r * L + l] = key[l] === "1" ? 1 : 0;
  });
  return out;
}

/** Options of {@linkcode chooseAutoBatch}. */
export interface AutoBatchOptions {
  /** The longest acceptable step (D + G) in ms (default 100: 10 steps a second keep logs and checkpoints lively). */
  targetMs?: number;
  /** The largest batch tried (default 1024). */
  maxBatch?: number;
  /** A CPU (fallback) adapter: the preset's batch is kept without measuring (a bigger batch is only slower). */
  fallbackAdapter: boolean;
}

/** Result of {@linkcode chooseAutoBatch}. */
export interface AutoBatch {
  /** The configuration at the chosen batch (learning rates and EMA decay scaled by `scaleGanBatch`). */
  cfg: GanConfig;
  /** Every batch measured with its step time in ms, in order. */
  trials: { batch: number; ms: number }[];
  /** Why this batch. */
  reason: string;
}

/**
 * `batchSize: "auto"`: the largest batch, the preset's times a power of two, whose measured step time
 * `stepMs(cfg)` stays under `targetMs`, so a real GPU that would idle on launch latency at the preset's
 * batch gets more work per dispatch. The preset's batch is the floor (also when it is over the target), and
 * it is kept without any measurement on a CPU (fallback) adapter, where steps are compute-bound and a
 * bigger batch changes nothing but the step time. Doubling stops at the first batch over the target.
 */
export async function chooseAutoBatch(
  cfg: GanConfig,
  stepMs: (cfg: GanConfig) => Promise<number>,
  opts: AutoBatchOptions,
): Promise<AutoBatch> {
  const targetMs = opts.targetMs ?? 100, maxBatch = opts.maxBatch ?? 1024;
  if (opts.fallbackAdapter) return { cfg, trials: [], reason: "CPU (fallback) adapter: the preset's batch" };
  const trials: AutoBatch["trials"] = [];
  let best = cfg.batchSize;
  for (let b = cfg.batchSize; b <= maxBatch; b *= 2) {
    const ms = await stepMs(b === cfg.batchSize ? cfg : scaleGanBatch(cfg, b));
    trials.push({ batch: b, ms });
    if (ms > targetMs) break;
    best = b;
  }
  const last = trials[trials.length - 1];
  const reason = best === cfg.batchSize && last.ms > targetMs
    ? `the preset's batch already takes ${last.ms.toFixed(0)} ms, over ${targetMs} ms`
    : best * 2 > maxBatch
    ? `the largest batch tried (maxBatch ${maxBatch})`
    : `batch ${best * 2} takes ${last.ms.toFixed(0)} ms, over ${targetMs} ms`;
  return { cfg: best === cfg.batchSize ? cfg : scaleGanBatch(cfg, best), trials, reason };
}

/**
 * The step timer of {@linkcode chooseAutoBatch} on a GPU: a trainer on `data` at the config's batch, one
 * warm-up step, then the median of 3 timed steps (each waited for). GanTrainer has no dispose: a trial's
 * buffers stay allocated until the Gpu is destroyed (a few candidate batches, bounded by maxBatch).
 */
export function ganStepTimer(gpu: Gpu, data: Dataset): (cfg: GanConfig) => Promise<number> {
  return async (cfg) => {
    const trainer = new GanTrainer(gpu, cfg, data);
    trainer.trainStep();
    await gpu.sync();
    const ms: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      trainer.trainStep();
      await gpu.sync();
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b)[1];
  };
}
