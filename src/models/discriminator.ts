/**
 * The label-conditional discriminator: fromImage (conv1x1 + leaky) -> one block per halving
 * [conv3x3 + leaky -> conv k4 s2 p1 + leaky] -> at 4x4: minibatch std -> conv3x3 + leaky -> flatten ->
 * linear + leaky = h (N, F). Two heads read h:
 * - the projection output (Miyato & Koyama 2018, for multi-hot y): out = w . (h * (1 + e)) + b with
 *   e = embed(y) (N, F). That is linear(h) + <embed'(y), h> with embed'(y) = w * e, a reparametrisation of
 *   "linear(h) + <embed(y), h>" that runs on the engine's conditional-norm kernels;
 * - an auxiliary multi-label classifier aux = linear(standardize(h)) (N, L), trained with BCE on real labels
 *   (AC-GAN). standardize is per feature over the batch: the spectrally normalised trunk maps images that
 *   differ by a small lesion to nearly the same h, and a head reading h itself stayed at the label prior.
 * With `auxLocal` r, a local auxiliary head adds per-place evidence to those logits: the trunk's features
 * at r x r, standardised per channel over the batch -> conv1x1 -> (N, A, r, r) -> log-sum-exp pooling (a
 * smooth maximum over the places), so a finding scores by the place that looks most like it.
 * With `projPooled` r, a second projection term reads the trunk's features at r x r averaged over the places
 * (N, C): out += linear(pooled * (1 + embed2(y))), so D judges real vs generated for the label also on a
 * summary taken before the 4x4 flatten ("projection at several depths").
 * Every weight but the auxiliary heads is spectrally normalised when the config asks (see headWeights).
 * @module
 */

import { addInto } from "../nn/add.ts";
import { globalAvgPoolBackward, globalAvgPoolForward } from "../nn/global_pool.ts";
import { lsePoolBackward, lsePoolForward } from "../nn/lse_pool.ts";
import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { ParamStore } from "../gpu/params.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { Rng } from "../util/rng.ts";
import type { GanConfig } from "./config.ts";
import {
  Act,
  Conv,
  FeatureStandardize,
  type Layer,
  Linear,
  MbStd,
  Modulate,
  type Variant,
  type Weight,
  WeightSet,
} from "./layers.ts";

/** A discriminator pass for one batch size (what the trainer drives). */
export interface DiscriminatorPass {
  /** Logits (N, 1) of the last forward. */
  readonly out: Tensor;
  /** Auxiliary label logits (N, A) of the last forward with `aux` (A = auxOutputs: L, or 2L for ADC). */
  readonly aux: Tensor;
  /** The input gradient (N, C, R, R) written by a backward with `input` (null if built without). */
  readonly dx: Tensor | null;
  /** D's features h (N, F) of the last forward: what both heads read (feature matching compares them). */
  readonly features: Tensor;
  /** The auxiliary head's feature standardisation (another pass can score with its statistics). */
  readonly auxNorm: FeatureStandardize;
  /** Records the forward of images x (N, C, R, R) with labels y (N, L); `aux` also runs the aux head. */
  forward(rec: Recorder, x: Tensor, y: Tensor, aux: boolean): void;
  /**
   * Records the backward from dout (N, 1) and daux (N, L) or null, plus `dfeatures` (N, F), a gradient on
   * the features from a loss outside the heads, when given; parameter gradients accumulate when `params`;
   * returns the input gradient when the pass was built with one.
   */
  backward(
    rec: Recorder,
    dout: Tensor,
    daux: Tensor | null,
    params: boolean,
    dfeatures?: Tensor,
  ): Tensor | null;
}

/** A discriminator's weights; {@linkcode DiscriminatorModel.pass} builds passes sharing them. */
export interface DiscriminatorModel {
  /** The weights (one ParamStore + spectral-norm states). */
  readonly weights: WeightSet;
  /**
   * Builds a pass with batch n (with an input gradient when `inputGrad`). With `auxStatsFrom` its auxiliary
   * head standardises with that layer's statistics of its last forward instead of its own batch's.
   */
  pass(n: number, inputGrad: boolean, auxStatsFrom?: FeatureStandardize): DiscriminatorPass;
}

/** Shared head of both discriminators: trunk output (N, F) -> projection output and auxiliary logits. */
export class DiscriminatorHead {
  /** Projection modulation h * (1 + embed(y)). */
  readonly mod: Modulate;
  /** Output layer (F -> 1). */
  readonly outL: Linear;
  /** Auxiliary label classifier (F -> L), reading the batch-standardised features. */
  readonly auxL: Linear;
  /** Per-feature batch standardisation of h in front of the auxiliary classifier. */
  readonly auxNorm: FeatureStandardize;
  /** Builds the heads for batch n and F features (`auxStatsFrom`: see DiscriminatorModel.pass). */
  constructor(
    gpu: Gpu,
    n: number,
    f: number,
    w: HeadWeights,
    variant: Variant,
    auxStatsFrom?: FeatureStandardize,
  ) {
    this.mod = new Modulate(gpu, n, f, w.embed, variant);
    this.outL = new Linear(gpu, w.out, n, true, variant);
    this.auxL = new Linear(gpu, w.aux, n, true, variant);
    this.auxNorm = new FeatureStandardize(gpu, [n, f], auxStatsFrom);
  }
  /** Records the forward; returns the output. */
  forward(rec: Recorder, h: Tensor, y: Tensor, aux: boolean): void {
    this.outL.forward(rec, this.mod.forward(rec, h, y));
    if (aux) this.auxL.forward(rec, this.auxNorm.forward(rec, h));
  }
  /** Records the heads' backward; returns dh (N, F), with `dextra` (N, F) added when given. */
  backward(rec: Recorder, dout: Tensor, daux: Tensor | null, params: boolean, dextra?: Tensor): Tensor {
    const dmod = this.outL.backward(rec, dout, params)!;
    const dh = this.mod.backward(rec, dmod, params);
    if (daux) {
      const dhn = this.auxL.backward(rec, daux, params)!;
      addInto(rec, dh, this.auxNorm.backward(rec, dhn));
    }
    if (dextra) addInto(rec, dh, dextra);
    return dh;
  }
}

/**
 * The local auxiliary head (`auxLocal`): features f (N, C, r, r) -> per-channel batch standardisation ->
 * conv1x1 (C -> A, not spectrally normalised, starting at zero) -> per-place logits (N, A, r, r) ->
 * log-sum-exp pooling (N, A), added to the global auxiliary logits. Its backward gives df (N, C, r, r).
 */
export class LocalAuxHead {
  private readonly norm: FeatureStandardize;
  private readonly conv: Conv;
  /** Pooled logits (N, A) of the last forward. */
  private readonly pooled: Tensor;
  /** Gradient of the per-place logits (N, A, r, r). */
  private readonly dmap: Tensor;
  /** Builds the head for features of shape (n, c, r, r) and weight w (A, c, 1, 1). */
  constructor(gpu: Gpu, n: number, c: number, r: number, w: Weight, variant: Variant) {
    const a = w.param.shape[0];
    this.norm = new FeatureStandardize(gpu, [n, c, r, r]);
    this.conv = new Conv(gpu, w, { n, cin: c, h: r, w: r, cout: a, k: 1, stride: 1, pad: 0 }, true, variant);
    this.pooled = gpu.tensor([n, a]);
    this.dmap = gpu.tensor([n, a, r, r]);
  }
  /** Records the forward from features f; adds the pooled logits into `aux` (N, A). */
  forward(rec: Recorder, f: Tensor, aux: Tensor): void {
    const map = this.conv.forward(rec, this.norm.forward(rec, f));
    lsePoolForward(rec, map, this.pooled);
    addInto(rec, aux, this.pooled);
  }
  /** Records the backward from daux (N, A); returns df (N, C, r, r). */
  backward(rec: Recorder, daux: Tensor, params: boolean): Tensor {
    lsePoolBackward(rec, this.conv.y, this.pooled, daux, this.dmap);
    return this.norm.backward(rec, this.conv.backward(rec, this.dmap, params)!);
  }
}

/**
 * The pooled projection term (`projPooled`): features f (N, C, r, r) -> mean over the places (N, C) ->
 * out += linear(pooled * (1 + embed(y))), with weights of its own (spectrally normalised as the trunk).
 * Its backward gives df (N, C, r, r).
 */
export class PooledProjHead {
  private readonly pooled: Tensor;
  private readonly df: Tensor;
  private readonly mod: Modulate;
  private readonly outL: Linear;
  /** Builds the term for features of shape (n, c, r, r). */
  constructor(
    gpu: Gpu,
    n: number,
    c: number,
    r: number,
    w: { embed: Weight; out: Weight },
    variant: Variant,
  ) {
    this.pooled = gpu.tensor([n, c]);
    this.df = gpu.tensor([n, c, r, r]);
    this.mod = new Modulate(gpu, n, c, w.embed, variant);
    this.outL = new Linear(gpu, w.out, n, true, variant);
  }
  /** Records the forward from features f and labels y; adds the term into `out` (N, 1). */
  forward(rec: Recorder, f: Tensor, y: Tensor, out: Tensor): void {
    globalAvgPoolForward(rec, f, this.pooled);
    addInto(rec, out, this.outL.forward(rec, this.mod.forward(rec, this.pooled, y)));
  }
  /** Records the backward from dout (N, 1); returns df (N, C, r, r). */
  backward(rec: Recorder, dout: Tensor, params: boolean): Tensor {
    const dp = this.mod.backward(rec, this.outL.backward(rec, dout, params)!, params);
    globalAvgPoolBackward(rec, dp, this.df);
    return this.df;
  }
}

/** Weights of {@linkcode DiscriminatorHead}. */
export interface HeadWeights {
  /** Label embedding (F, L) of the projection term. */
  embed: Weight;
  /** Output weight (1, F). */
  out: Weight;
  /** Auxiliary classifier weight (L, F). */
  aux: Weight;
}

/**
 * Outputs of the auxiliary head: L for AC-GAN; 2L for ADC-GAN, "real image with label l" (columns 0..L-1)
 * then "generated image with label l" (columns L..2L-1).
 */
export function auxOutputs(cfg: Pick<GanConfig, "auxLoss">, numLabels: number): number {
  return cfg.auxLoss === "adc" ? 2 * numLabels : numLabels;
}

/** Declares the head weights on a weight set (`auxOut` outputs of the auxiliary head, default L). */
export function headWeights(
  set: WeightSet,
  f: number,
  numLabels: number,
  sn: boolean,
  auxOut = numLabels,
): HeadWeights {
  return {
    embed: set.weight("d.embed", [f, numLabels], numLabels, { gain: 0.5, sn }),
    out: set.weight("d.out", [1, f], f, { gain: 1, biasLen: 1, sn }),
    // Not spectrally normalised: with every layer Lipschitz-1, a lesion of a few pixels moves h (and so the
    // logits) by at most its small pixel distance, and the classifier could never become confident. The trunk
    // stays normalised for the GAN loss; this head may scale h up freely.
    aux: set.weight("d.aux", [auxOut, f], f, { gain: 1, biasLen: auxOut, sn: false }),
  };
}

/**
 * Where the trunk has features at r x r (a power of two from 8 to the resolution): the index of the layer
 * whose output they are (the 3x3 conv of the block at r; the trunk is fromImage, then [conv3x3, down] per
 * block) and their channel count.
 */
export function trunkAt(
  cfg: Pick<GanConfig, "resolution" | "dChannels">,
  r: number,
): { layer: number; channels: number } {
  const j = Math.log2(cfg.resolution / r);
  return { layer: 1 + 2 * j, channels: cfg.dChannels[cfg.dChannels.length - 1 - j] };
}

/** The fixed-resolution conditional discriminator. */
export class Discriminator implements DiscriminatorModel {
  readonly weights: WeightSet;
  /** fromImage (conv1x1) weight at the full resolution. */
  readonly fromImg: Weight;
  /** Down blocks from the full resolution to 8: conv3x3 weight a, conv k4 s2 weight b. */
  readonly blocks: { a: Weight; b: Weight }[] = [];
  /** The 4x4 conv after minibatch std. */
  readonly final: Weight;
  /** The linear layer to the feature vector h. */
  readonly fc: Weight;
  /** Weights of the projection and auxiliary heads. */
  readonly head: HeadWeights;
  /** The local auxiliary head's conv1x1 (A, C_r, 1, 1), or null without `auxLocal`. */
  readonly auxLocal: Weight | null = null;
  /** The pooled projection term's embedding (C_r, L) and output (1, C_r), or null without `projPooled`. */
  readonly projPooled: { embed: Weight; out: Weight } | null = null;

  /** Declares and builds all weights (initialised from `seed`). */
  constructor(
    readonly gpu: Gpu,
    readonly cfg: GanConfig,
    readonly numLabels: number,
    seed = cfg.seed,
    /** Declares more weights before the store is built (the progressive variant's per-resolution fromImage). */
    extra?: (set: WeightSet) => void,
  ) {
    const set = this.weights = new WeightSet(gpu, new ParamStore("D"), new Rng((seed ^ 0xd15c) >>> 0));
    const ch = cfg.dChannels, sn = cfg.spectralNorm, last = ch.length - 1;
    this.fromImg = set.weight("d.from_img", [ch[last], cfg.imageChannels, 1, 1], cfg.imageChannels, {
      biasLen: ch[last],
      sn,
    });
    for (let i = last; i >= 1; i--) {
      const b = `d.b${4 << i}`;
      this.blocks.push({
        a: set.weight(`${b}.conv0`, [ch[i], ch[i], 3, 3], ch[i] * 9, { biasLen: ch[i], sn }),
        b: set.weight(`${b}.down`, [ch[i - 1], ch[i], 4, 4], ch[i] * 16, { biasLen: ch[i - 1], sn }),
      });
    }
    const cin = ch[0] + (cfg.mbstdGroup > 0 ? 1 : 0);
    this.final = set.weight("d.b4.conv", [ch[0], cin, 3, 3], cin * 9, { biasLen: ch[0], sn });
    this.fc = set.weight("d.b4.fc", [cfg.dFeatures, ch[0] * 16], ch[0] * 16, { biasLen: cfg.dFeatures, sn });
    this.head = headWeights(set, cfg.dFeatures, numLabels, sn, auxOutputs(cfg, numLabels));
    if (cfg.auxLocal > 0) {
      // declared last, so that every other weight starts as it does without it; zero: it starts silent
      const c = trunkAt(cfg, cfg.auxLocal).channels;
      this.auxLocal = set.weight("d.aux_local", [auxOutputs(cfg, numLabels), c, 1, 1], c, {
        gain: 0,
        biasLen: auxOutputs(cfg, numLabels),
      });
    }
    if (cfg.projPooled > 0) {
      const c = trunkAt(cfg, cfg.projPooled).channels;
      this.projPooled = {
        embed: set.weight("d.proj_pooled.embed", [c, numLabels], numLabels, { gain: 0.5, sn }),
        out: set.weight("d.proj_pooled.out", [1, c], c, { gain: 1, biasLen: 1, sn }),
      };
    }
    extra?.(set);
    set.build();
  }

  pass(n: number, inputGrad: boolean, auxStatsFrom?: FeatureStandardize): DiscriminatorPass {
    return new CpdDiscriminatorPass(this, n, inputGrad, auxStatsFrom);
  }
}

/** Layers of the 4x4 end of the trunk: [mbstd] -> conv3x3 + leaky -> flatten -> linear + leaky. */
export function trunkEnd(
  gpu: Gpu,
  n: number,
  c0: number,
  mbstdGroup: number,
  final: Weight,
  fc: Weight,
  f: number,
  variant: Variant,
): { convs: Layer[]; fc: Linear; act: Act } {
  const convs: Layer[] = [];
  let c = c0;
  if (mbstdGroup > 0) {
    convs.push(new MbStd(gpu, [n, c0, 4, 4], mbstdGroup));
    c++;
  }
  // conv + leaky as one layer: the conv's kernel applies the activation where it can
  convs.push(
    new Conv(gpu, final, { n, cin: c, h: 4, w: 4, cout: c0, k: 3, stride: 1, pad: 1 }, true, variant, true),
  );
  return { convs, fc: new Linear(gpu, fc, n, true, variant), act: new Act(gpu, [n, f], "leaky_relu") };
}

class CpdDiscriminatorPass implements DiscriminatorPass {
  private readonly trunk: Layer[] = [];
  /** The local auxiliary head and the trunk layer whose output (at auxLocal x auxLocal) it reads. */
  private readonly local: { head: LocalAuxHead; layer: number } | null = null;
  /** The pooled projection term and the trunk layer whose output (at projPooled x projPooled) it reads. */
  private readonly proj: { head: PooledProjHead; layer: number } | null = null;
  private readonly end: { convs: Layer[]; fc: Linear; act: Act };
  private readonly head: DiscriminatorHead;
  readonly dx: Tensor | null;
  constructor(d: Discriminator, readonly n: number, inputGrad: boolean, auxStatsFrom?: FeatureStandardize) {
    const { gpu, cfg } = d;
    const ch = cfg.dChannels, v = cfg.kernels, R = cfg.resolution;
    const first = new Conv(
      gpu,
      d.fromImg,
      { n, cin: cfg.imageChannels, h: R, w: R, cout: ch[ch.length - 1], k: 1, stride: 1, pad: 0 },
      inputGrad,
      v,
      true,
    );
    this.dx = first.dx;
    this.trunk.push(first);
    let h = R;
    d.blocks.forEach((blk, j) => {
      const i = ch.length - 1 - j;
      this.trunk.push(
        new Conv(gpu, blk.a, { n, cin: ch[i], h, w: h, cout: ch[i], k: 3, stride: 1, pad: 1 }, true, v, true),
        new Conv(
          gpu,
          blk.b,
          { n, cin: ch[i], h, w: h, cout: ch[i - 1], k: 4, stride: 2, pad: 1 },
          true,
          v,
          true,
        ),
      );
      h /= 2;
    });
    this.end = trunkEnd(gpu, n, ch[0], cfg.mbstdGroup, d.final, d.fc, cfg.dFeatures, v);
    this.head = new DiscriminatorHead(gpu, n, cfg.dFeatures, d.head, v, auxStatsFrom);
    if (d.auxLocal) {
      const at = trunkAt(cfg, cfg.auxLocal);
      this.local = {
        head: new LocalAuxHead(gpu, n, at.channels, cfg.auxLocal, d.auxLocal, v),
        layer: at.layer,
      };
    }
    if (d.projPooled) {
      const at = trunkAt(cfg, cfg.projPooled);
      this.proj = {
        head: new PooledProjHead(gpu, n, at.channels, cfg.projPooled, d.projPooled, v),
        layer: at.layer,
      };
    }
  }
  get auxNorm(): FeatureStandardize {
    return this.head.auxNorm;
  }
  get out(): Tensor {
    return this.head.outL.y;
  }
  get aux(): Tensor {
    return this.head.auxL.y;
  }
  get features(): Tensor {
    return this.end.act.y;
  }
  forward(rec: Recorder, x: Tensor, y: Tensor, aux: boolean): void {
    let h = x;
    for (const l of this.trunk) h = l.forward(rec, h);
    for (const l of this.end.convs) h = l.forward(rec, h);
    h = this.end.act.forward(rec, this.end.fc.forward(rec, h.reshape([this.n, h.size / this.n])));
    this.head.forward(rec, h, y, aux);
    if (aux && this.local) this.local.head.forward(rec, this.trunk[this.local.layer].y, this.head.auxL.y);
    if (this.proj) this.proj.head.forward(rec, this.trunk[this.proj.layer].y, y, this.head.outL.y);
  }
  backward(
    rec: Recorder,
    dout: Tensor,
    daux: Tensor | null,
    params: boolean,
    dfeatures?: Tensor,
  ): Tensor | null {
    let d: Tensor | null = this.head.backward(rec, dout, daux, params, dfeatures);
    d = this.end.act.backward(rec, d);
    d = this.end.fc.backward(rec, d, params)!;
    const c0 = this.end.convs[this.end.convs.length - 1].y.shape;
    d = d.reshape(c0);
    for (let i = this.end.convs.length - 1; i >= 0; i--) d = this.end.convs[i].backward(rec, d!, params);
    for (let i = this.trunk.length - 1; i >= 0; i--) {
      if (daux && this.local?.layer === i) addInto(rec, d!, this.local.head.backward(rec, daux, params));
      if (this.proj?.layer === i) addInto(rec, d!, this.proj.head.backward(rec, dout, params));
      d = this.trunk[i].backward(rec, d!, params);
      if (!d) break;
    }
    return d;
  }
}
