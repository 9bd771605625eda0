/**
 * The progressive variant (prog-GAN spirit, Karras et al. 2018): training starts at `progressive.startRes`
 * and grows by fade-in to the target resolution, following {@linkcode progressivePhase} (a pure function of
 * the images seen, so a resumed run is exact). The label enters with the latent ([z, y] into the first
 * layer and the conditional norms, as in the cpd generator), and the discriminator keeps its auxiliary
 * classifier head.
 *
 * All resolutions' layers are allocated up front. The networks' interface stays at the target resolution R:
 * - generator at phase resolution r: blocks up to r -> toImage_r; while fading, blend with the 2x-upsampled
 *   toImage_{r/2} of the previous block by alpha -> tanh -> nearest upsampling to R;
 * - discriminator: average-pools the R image down to r -> fromImage_r -> block_r; while fading, blend with
 *   fromImage_{r/2} of the image pooled once more -> the blocks below r.
 * At alpha 0 the generator's output equals the upsampled output of the previous phase exactly.
 * @module
 */

import { addInto } from "../nn/add.ts";
import type { Gpu, Recorder } from "../gpu/gpu.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { blendBackward, blendForward, type ProgressivePhase } from "../nn/blend.ts";
import type { GanConfig } from "./config.ts";
import { Generator, type GeneratorModel, type GeneratorPass } from "./generator.ts";
import {
  Discriminator,
  DiscriminatorHead,
  type DiscriminatorModel,
  type DiscriminatorPass,
  trunkEnd,
} from "./discriminator.ts";
import {
  Act,
  CondNorm,
  Conv,
  type FeatureStandardize,
  type Layer,
  type Linear,
  Pool2,
  Up2,
  type Weight,
  type WeightSet,
} from "./layers.ts";

/** Fade-in blend y = (1 - alpha) a + alpha b with its gradient tensors. */
class Blend {
  readonly y: Tensor;
  readonly da: Tensor;
  readonly db: Tensor;
  constructor(gpu: Gpu, shape: number[], readonly alpha: Tensor) {
    this.y = gpu.tensor(shape);
    this.da = gpu.tensor(shape);
    this.db = gpu.tensor(shape);
  }
  forward(rec: Recorder, a: Tensor, b: Tensor): Tensor {
    blendForward(rec, a, b, this.alpha, this.y);
    return this.y;
  }
  backward(rec: Recorder, dy: Tensor): void {
    blendBackward(rec, dy, this.alpha, this.da, this.db);
  }
}

/** Level index k of resolution r (4 -> 0, 8 -> 1, ...). */
function level(r: number): number {
  return Math.round(Math.log2(r)) - 2;
}

/** Applies a phase: its level, whether it fades, and alpha (queued into the alpha tensor). */
abstract class PhasedPass {
  protected k: number;
  protected fading = false;
  constructor(protected readonly gpu: Gpu, protected readonly alpha: Tensor, readonly top: number) {
    this.k = top;
  }
  /** Runs the next submits at `phase` (alpha uploaded before the next submit). */
  setPhase(phase: ProgressivePhase): void {
    this.k = level(phase.res);
    this.fading = phase.fading && this.k >= 1;
    this.gpu.write(this.alpha, [phase.fading ? phase.alpha : 1]);
  }
}

/** The progressive generator: the cpd generator's blocks plus a toImage per resolution. */
export class ProgressiveGenerator implements GeneratorModel {
  readonly weights: WeightSet;
  /** The cpd generator holding the blocks (and the top toImage). */
  readonly base: Generator;
  /** toImage weights per level 0..K (the last is the base generator's). */
  readonly toImgs: Weight[] = [];
  /** Number of labels L. */
  constructor(readonly gpu: Gpu, readonly cfg: GanConfig, readonly numLabels: number, seed = cfg.seed) {
    const lower: Weight[] = [];
    this.base = new Generator(gpu, cfg, numLabels, seed, (set) => {
      cfg.gChannels.slice(0, -1).forEach((c, k) => {
        const r = 4 << k;
        lower.push(
          set.weight(`g.to_img${r}`, [cfg.imageChannels, c, 1, 1], c, {
            gain: 1,
            biasLen: cfg.imageChannels,
          }),
        );
      });
    });
    this.toImgs.push(...lower, this.base.toImg);
    this.weights = this.base.weights;
  }
  pass(n: number): GeneratorPass {
    return new ProgressiveGeneratorPass(this, n);
  }
}

class ProgressiveGeneratorPass extends PhasedPass implements GeneratorPass {
  private readonly fc: Linear;
  private readonly blocks: (Layer | CondNorm)[][] = [];
  private readonly toImg: Conv[] = [];
  private readonly tanh: Act[] = [];
  /** upImg[k]: C-channel images r_k -> r_{k+1}. */
  private readonly upImg: Up2[] = [];
  private readonly blend: (Blend | null)[] = [];
  constructor(g: ProgressiveGenerator, readonly n: number) {
    super(g.gpu, g.gpu.tensor([1], [1]), g.cfg.gChannels.length - 1);
    const { gpu, cfg } = g;
    const K = this.top, C = cfg.imageChannels;
    const { fc, steps, blockEnds } = g.base.buildLayers(n);
    this.fc = fc;
    let start = 0;
    for (const end of blockEnds) {
      this.blocks.push(steps.slice(start, end));
      start = end;
    }
    for (let k = 0; k <= K; k++) {
      const r = 4 << k, c = cfg.gChannels[k];
      this.toImg.push(
        k === K ? steps[steps.length - 2] as Conv : new Conv(
          gpu,
          g.toImgs[k],
          { n, cin: c, h: r, w: r, cout: C, k: 1, stride: 1, pad: 0 },
          true,
          cfg.kernels,
        ),
      );
      this.tanh.push(new Act(gpu, [n, C, r, r], "tanh"));
      if (k < K) this.upImg.push(new Up2(gpu, [n, C, r, r]));
      this.blend.push(k >= 1 ? new Blend(gpu, [n, C, r, r], this.alpha) : null);
    }
  }
  /** The output (N, C, R, R) of the current phase: the top tanh, or the end of the upsampling chain. */
  get out(): Tensor {
    return this.k === this.top ? this.tanh[this.k].y : this.upImg[this.top - 1].y;
  }
  forward(rec: Recorder, zy: Tensor, cond: Tensor): Tensor {
    const k = this.k;
    let h = this.fc.forward(rec, zy);
    h = h.reshape([this.n, h.shape[1] / 16, 4, 4]);
    const hs: Tensor[] = [];
    for (let i = 0; i <= k; i++) {
      for (const s of this.blocks[i]) h = s instanceof CondNorm ? s.forward(rec, h, cond) : s.forward(rec, h);
      hs.push(h);
    }
    let pre = this.toImg[k].forward(rec, h);
    if (this.fading) {
      const old = this.upImg[k - 1].forward(rec, this.toImg[k - 1].forward(rec, hs[k - 1]));
      pre = this.blend[k]!.forward(rec, old, pre);
    }
    let img = this.tanh[k].forward(rec, pre);
    for (let j = k; j < this.top; j++) img = this.upImg[j].forward(rec, img);
    return img;
  }
  backward(rec: Recorder, dimg: Tensor): void {
    const k = this.k;
    let d = dimg;
    for (let j = this.top - 1; j >= k; j--) d = this.upImg[j].backward(rec, d);
    d = this.tanh[k].backward(rec, d);
    let dOld: Tensor | null = null;
    if (this.fading) {
      const b = this.blend[k]!;
      b.backward(rec, d);
      d = b.db;
      const dUp = this.upImg[k - 1].backward(rec, b.da);
      dOld = this.toImg[k - 1].backward(rec, dUp, true);
    }
    let dh = this.toImg[k].backward(rec, d, true)!;
    for (let i = k; i >= 0; i--) {
      const blk = this.blocks[i];
      for (let j = blk.length - 1; j >= 0; j--) dh = blk[j].backward(rec, dh, true)!;
      if (i === k && dOld) addInto(rec, dh, dOld); // h_{k-1} fed both block k and the old toImage
    }
    this.fc.backward(rec, dh.reshape([this.n, dh.size / this.n]), true);
  }
}

/** The progressive discriminator: the cpd discriminator's blocks plus a fromImage per resolution. */
export class ProgressiveDiscriminator implements DiscriminatorModel {
  readonly weights: WeightSet;
  /** The cpd discriminator holding the blocks, the 4x4 end and the heads. */
  readonly base: Discriminator;
  /** fromImage weights per level 0..K (the top one is the base discriminator's). */
  readonly fromImgs: Weight[] = [];
  /** Number of labels L. */
  constructor(readonly gpu: Gpu, readonly cfg: GanConfig, readonly numLabels: number, seed = cfg.seed) {
    const lower: Weight[] = [];
    this.base = new Discriminator(gpu, cfg, numLabels, seed, (set) => {
      cfg.dChannels.slice(0, -1).forEach((c, k) => {
        lower.push(set.weight(`d.from_img${4 << k}`, [c, cfg.imageChannels, 1, 1], cfg.imageChannels, {
          biasLen: c,
          sn: cfg.spectralNorm,
        }));
      });
    });
    this.fromImgs.push(...lower, this.base.fromImg);
    this.weights = this.base.weights;
  }
  pass(n: number, inputGrad: boolean, auxStatsFrom?: FeatureStandardize): DiscriminatorPass {
    return new ProgressiveDiscriminatorPass(this, n, inputGrad, auxStatsFrom);
  }
}

class ProgressiveDiscriminatorPass extends PhasedPass implements DiscriminatorPass {
  /** pools[k] (k >= 1): images r_k -> r_{k-1}. */
  private readonly pools: (Pool2 | null)[] = [];
  private readonly from: [Conv, Act][] = [];
  /** blocks[k] (k >= 1): conv3x3 + leaky + conv k4 s2 + leaky, r_k -> r_{k-1}. */
  private readonly blocks: Layer[][] = [];
  private readonly blend: (Blend | null)[] = [];
  private readonly end: ReturnType<typeof trunkEnd>;
  private readonly head: DiscriminatorHead;
  private readonly dxTop: Tensor | null;
  constructor(
    d: ProgressiveDiscriminator,
    readonly n: number,
    readonly inputGrad: boolean,
    auxStatsFrom?: FeatureStandardize,
  ) {
    super(d.gpu, d.gpu.tensor([1], [1]), d.cfg.dChannels.length - 1);
    const { gpu, cfg } = d;
    const ch = cfg.dChannels, K = this.top, C = cfg.imageChannels, v = cfg.kernels;
    for (let k = 0; k <= K; k++) {
      const r = 4 << k;
      this.pools.push(k >= 1 ? new Pool2(gpu, [n, C, r, r], inputGrad) : null);
      this.from.push([
        new Conv(
          gpu,
          d.fromImgs[k],
          { n, cin: C, h: r, w: r, cout: ch[k], k: 1, stride: 1, pad: 0 },
          inputGrad,
          v,
        ),
        new Act(gpu, [n, ch[k], r, r], "leaky_relu"),
      ]);
      if (k === 0) {
        this.blocks.push([]);
        this.blend.push(null);
        continue;
      }
      const blk = d.base.blocks[K - k];
      this.blocks.push([
        new Conv(gpu, blk.a, { n, cin: ch[k], h: r, w: r, cout: ch[k], k: 3, stride: 1, pad: 1 }, true, v),
        new Act(gpu, [n, ch[k], r, r], "leaky_relu"),
        new Conv(
          gpu,
          blk.b,
          { n, cin: ch[k], h: r, w: r, cout: ch[k - 1], k: 4, stride: 2, pad: 1 },
          true,
          v,
        ),
        new Act(gpu, [n, ch[k - 1], r / 2, r / 2], "leaky_relu"),
      ]);
      this.blend.push(new Blend(gpu, [n, ch[k - 1], r / 2, r / 2], this.alpha));
    }
    this.end = trunkEnd(gpu, n, ch[0], cfg.mbstdGroup, d.base.final, d.base.fc, cfg.dFeatures, v);
    this.head = new DiscriminatorHead(gpu, n, cfg.dFeatures, d.base.head, v, auxStatsFrom);
    this.dxTop = inputGrad ? gpu.tensor([n, C, 4 << K, 4 << K]) : null;
  }
  get out(): Tensor {
    return this.head.outL.y;
  }
  get aux(): Tensor {
    return this.head.auxL.y;
  }
  get auxNorm(): FeatureStandardize {
    return this.head.auxNorm;
  }
  get features(): Tensor {
    return this.end.act.y;
  }
  /** The input gradient at R (the pool chain's or fromImage's dx, see backward). */
  get dx(): Tensor | null {
    return this.dxTop;
  }
  forward(rec: Recorder, x: Tensor, y: Tensor, aux: boolean): void {
    const k = this.k;
    let img = x;
    for (let j = this.top; j > k; j--) img = this.pools[j]!.forward(rec, img);
    let h = this.from[k][1].forward(rec, this.from[k][0].forward(rec, img));
    for (const l of this.blocks[k]) h = l.forward(rec, h);
    if (this.fading) {
      const small = this.pools[k]!.forward(rec, img);
      const old = this.from[k - 1][1].forward(rec, this.from[k - 1][0].forward(rec, small));
      h = this.blend[k]!.forward(rec, old, h);
    }
    for (let j = k - 1; j >= 1; j--) for (const l of this.blocks[j]) h = l.forward(rec, h);
    for (const l of this.end.convs) h = l.forward(rec, h);
    h = this.end.act.forward(rec, this.end.fc.forward(rec, h.reshape([this.n, h.size / this.n])));
    this.head.forward(rec, h, y, aux);
  }
  backward(
    rec: Recorder,
    dout: Tensor,
    daux: Tensor | null,
    params: boolean,
    dfeatures?: Tensor,
  ): Tensor | null {
    const k = this.k;
    let d: Tensor = this.head.backward(rec, dout, daux, params, dfeatures);
    d = this.end.act.backward(rec, d);
    d = this.end.fc.backward(rec, d, params)!;
    d = d.reshape(this.end.convs[this.end.convs.length - 1].y.shape);
    for (let i = this.end.convs.length - 1; i >= 0; i--) d = this.end.convs[i].backward(rec, d, params)!;
    const back = (ls: Layer[], dy: Tensor) => {
      let g = dy;
      for (let i = ls.length - 1; i >= 0; i--) g = ls[i].backward(rec, g, params)!;
      return g;
    };
    for (let j = 1; j <= k - 1; j++) d = back(this.blocks[j], d);
    let dSmall: Tensor | null = null;
    if (this.fading) {
      const b = this.blend[k]!;
      b.backward(rec, d);
      const dOld = this.from[k - 1][1].backward(rec, b.da);
      this.from[k - 1][0].backward(rec, dOld, params);
      dSmall = this.from[k - 1][0].dx; // gradient at the image pooled once more (null without input grad)
      d = b.db;
    }
    d = back(this.blocks[k], d);
    d = this.from[k][1].backward(rec, d);
    const dImg = this.from[k][0].backward(rec, d, params);
    if (!this.inputGrad || !dImg) return null;
    if (dSmall) addInto(rec, dImg, this.pools[k]!.backward(rec, dSmall)!);
    let g = dImg;
    for (let j = k + 1; j <= this.top; j++) g = this.pools[j]!.backward(rec, g)!;
    rec.copy(g, this.dxTop!);
    return this.dxTop;
  }
}
