/**
 * Differentiable augmentation for GANs on small datasets (DiffAugment, Zhao et al. 2020, with ADA's
 * per-sample probabilities, Karras et al. 2020). The same random ops are applied to real and generated images
 * before the discriminator, and gradients flow through them to the generator. Per sample, in this order:
 *
 * 1. colour: brightness y = x + b, b ~ U(-0.5, 0.5); contrast y = (x - mean) * k + mean, k ~ U(0.5, 1.5),
 *    where mean is the sample's mean over (C, H, W). (DiffAugment's saturation is skipped: grey images and CT
 *    windows have no saturation.) Together: y = k * x + (1 - k) * mean(x) + b.
 * 2. optional horizontal mirror (off by default: anatomy is lateralised, a mirrored chest or head is not a
 *    sample of the data distribution),
 * 3. integer translation by up to `translateFrac` of the size in x and y,
 * 4. cutout: a `cutoutFrac`-sized rectangle at a random centre.
 *
 * Pixels shifted in from outside and the cutout are set to -1 ({@linkcode AUGMENT_PAD}), not DiffAugment's 0:
 * images here are in [-1, 1] with -1 the black background (air in CT, no signal in X-ray), so -1 looks like
 * more background, whereas 0 would paint mid-grey tissue-like blocks that no real image has.
 *
 * Each op is applied to a sample with its probability (identity otherwise), as in ADA. The random numbers are
 * drawn on the CPU from the trainer's {@linkcode Rng}, a fixed 11 a sample whatever the probabilities (so
 * changing ADA's p does not shift later random streams), and uploaded as a params tensor (N, 9); a resumed
 * run with the restored Rng state redraws the same augmentations. The params tensor is an explicit argument so
 * the trainer controls it: use one params tensor per augmented batch in a submit (real batch, fake batch in
 * the D step, fake batch in the G step), because `gpu.write` is queued ahead of the whole submit.
 *
 * Backward is exact: translation, mirror and cutout are piecewise-constant in their parameters but linear in
 * x, and the gradient through the contrast's sample mean is included.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { Rng } from "../util/rng.ts";
import { type NormVariant, reduceWorkgroup } from "./batch_norm.ts";

/**
 * Floats per sample in the params tensor (N, AUGMENT_PARAMS):
 * [tx, ty, flip, cutX0, cutY0, cutX1, cutY1, contrast k, brightness b]. The translation moves content by
 * (tx, ty) pixels (output (i, j) shows input (i - ty, j - tx)); flip is 0 or 1; the cutout covers rows
 * [cutY0, cutY1) and columns [cutX0, cutX1) of the output (empty when cutX1 <= cutX0); identity is
 * [0, 0, 0, 0, 0, 0, 0, 1, 0].
 */
export const AUGMENT_PARAMS = 9;

/** Value of pixels shifted in from outside and of the cutout: the background of images in [-1, 1]. */
export const AUGMENT_PAD = -1;

/** Random numbers drawn per sample by {@linkcode drawAugmentParams}, whatever the configuration. */
export const AUGMENT_DRAWS_PER_SAMPLE = 11;

/** Which augmentations to apply, and how strongly. */
export interface AugmentConfig {
  /** Probability that a sample is translated (default 1, DiffAugment's "translation"). */
  pTranslate: number;
  /** Probability that a sample gets a cutout (default 1, DiffAugment's "cutout"). */
  pCutout: number;
  /** Probability of the brightness op and, independently, of the contrast op (default 1, "color"). */
  pColor: number;
  /** Largest shift as a fraction of the size: up to round(frac * W) pixels in x, likewise y (default 1/8). */
  translateFrac: number;
  /** Cutout side as a fraction of the size: round(frac * W) by round(frac * H) pixels (default 1/2). */
  cutoutFrac: number;
  /**
   * Mirror horizontally, with probability pTranslate / 2 (ADA groups the mirror with the integer
   * translation). Default false: anatomy is lateralised (heart on the left, labels like "left").
   */
  flip: boolean;
}

/** DiffAugment's "color,translation,cutout" policy, always on, no mirror. */
export const DEFAULT_AUGMENT: Readonly<AugmentConfig> = Object.freeze({
  pTranslate: 1,
  pCutout: 1,
  pColor: 1,
  translateFrac: 1 / 8,
  cutoutFrac: 1 / 2,
  flip: false,
});

/** A full configuration from `partial` and the defaults; throws on a value out of range. */
export function augmentConfig(partial: Partial<AugmentConfig> = {}): AugmentConfig {
  const cfg = { ...DEFAULT_AUGMENT, ...partial };
  for (const k of ["pTranslate", "pCutout", "pColor", "translateFrac", "cutoutFrac"] as const) {
    const v = cfg[k];
    if (!(typeof v === "number" && v >= 0 && v <= 1)) {
      throw new Error(`augment config: ${k} must be a number in [0, 1], got ${v}`);
    }
  }
  if (typeof cfg.flip !== "boolean") {
    throw new Error(`augment config: flip must be true or false, got ${cfg.flip}`);
  }
  return cfg;
}

function checkShape(shape: readonly number[]): [number, number, number, number] {
  if (shape.length !== 4 || !shape.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new Error(`augment: shape must be (N, C, H, W) of positive integers, got (${shape})`);
  }
  return shape as [number, number, number, number];
}

/**
 * Draws the parameters of one batch: (N, AUGMENT_PARAMS) values, into `out` when given. Each op's probability
 * is the config's times `p` (ADA's adaptive probability; 1 uses the config as it is). Always draws
 * {@linkcode AUGMENT_DRAWS_PER_SAMPLE} numbers a sample.
 */
export function drawAugmentParams(
  rng: Rng,
  cfg: AugmentConfig,
  shape: readonly number[], // (N, C, H, W)
  p = 1,
  out?: Float32Array,
): Float32Array {
  const [n, , h, w] = checkShape(shape);
  if (!(p >= 0 && p <= 1)) throw new Error(`drawAugmentParams: p must be in [0, 1], got ${p}`);
  const prm = out ?? new Float32Array(n * AUGMENT_PARAMS);
  if (prm.length !== n * AUGMENT_PARAMS) {
    throw new Error(`drawAugmentParams: out has ${prm.length} values, needs N * ${AUGMENT_PARAMS}`);
  }
  const sx = Math.floor(w * cfg.translateFrac + 0.5), sy = Math.floor(h * cfg.translateFrac + 0.5);
  const cw = Math.floor(w * cfg.cutoutFrac + 0.5), ch = Math.floor(h * cfg.cutoutFrac + 0.5);
  const pT = cfg.pTranslate * p, pC = cfg.pCutout * p, pK = cfg.pColor * p;
  for (let i = 0; i < n; i++) {
    // Fixed draw order and count (see AUGMENT_DRAWS_PER_SAMPLE).
    const gT = rng.next(), tx = rng.int(2 * sx + 1) - sx, ty = rng.int(2 * sy + 1) - sy;
    const gF = rng.next();
    const gC = rng.next(), cx = rng.int(w), cy = rng.int(h);
    const gB = rng.next(), b = rng.next() - 0.5;
    const gK = rng.next(), k = rng.next() + 0.5;
    const r = i * AUGMENT_PARAMS;
    const translate = gT < pT;
    prm[r] = translate ? tx : 0;
    prm[r + 1] = translate ? ty : 0;
    prm[r + 2] = cfg.flip && gF < 0.5 * pT ? 1 : 0;
    const cut = gC < pC && cw > 0 && ch > 0;
    const x0 = cx - Math.floor(cw / 2), y0 = cy - Math.floor(ch / 2);
    prm[r + 3] = cut ? x0 : 0;
    prm[r + 4] = cut ? y0 : 0;
    prm[r + 5] = cut ? x0 + cw : 0;
    prm[r + 6] = cut ? y0 + ch : 0;
    prm[r + 7] = gK < pK ? k : 1;
    prm[r + 8] = gB < pK ? b : 0;
  }
  return prm;
}

/** Options of the augmentation kernels. */
export interface AugmentOptions {
  /** Variant of the per-sample reduction (default "auto"): "naive" one invocation a sample, else 64. */
  variant?: NormVariant;
}

const WG = 256;

function statKernel(mode: 0 | 1, wg: number): Kernel {
  return {
    name: `augment_stat.m${mode}.wg${wg}`,
    code: WGSL.augment_stat,
    constants: { WG: wg, MODE: mode, P: AUGMENT_PARAMS },
    workgroupSize: [wg, 1, 1],
  };
}
const fwdKernel: Kernel = {
  name: "augment_fwd",
  code: WGSL.augment_fwd,
  constants: { WG, P: AUGMENT_PARAMS, PAD: AUGMENT_PAD },
  workgroupSize: [WG, 1, 1],
};
const bwdKernel: Kernel = {
  name: "augment_bwd",
  code: WGSL.augment_bwd,
  constants: { WG, P: AUGMENT_PARAMS },
  workgroupSize: [WG, 1, 1],
};

function checkTensors(fn: string, src: Tensor, params: Tensor, stat: Tensor, dst: Tensor): number[] {
  const [n, c, h, w] = checkShape(src.shape);
  if (dst.shape.length !== 4 || dst.shape.some((v, i) => v !== src.shape[i])) {
    throw new Error(`${fn}: output has shape (${dst.shape}), expected (${src.shape})`);
  }
  if (params.size !== n * AUGMENT_PARAMS) {
    throw new Error(`${fn}: params has shape (${params.shape}), expected (${n}, ${AUGMENT_PARAMS})`);
  }
  if (stat.size < n) throw new Error(`${fn}: stat scratch has ${stat.size} values, needs N = ${n}`);
  const outs = [dst.buffer, stat.buffer];
  if (dst.buffer === stat.buffer || outs.includes(src.buffer) || outs.includes(params.buffer)) {
    throw new Error(`${fn}: output and stat scratch must be distinct buffers, other than the inputs'`);
  }
  return [n, c, h, w];
}

/**
 * y = augment(x) with the per-sample parameters `params` (from {@linkcode drawAugmentParams}). `stat` (N) is
 * scratch that the backward does not need, so one scratch can serve every call in a submit.
 */
export function augmentForward(
  rec: Recorder,
  x: Tensor, // (N, C, H, W), values in [-1, 1]
  params: Tensor, // (N, AUGMENT_PARAMS)
  stat: Tensor, // (N) scratch
  y: Tensor, // (N, C, H, W)
  opts: AugmentOptions = {},
): void {
  const [n, c, h, w] = checkTensors("augmentForward", x, params, stat, y);
  const u = rec.gpu.uniform([n, c, h, w]);
  rec.dispatch(statKernel(0, reduceWorkgroup(opts.variant)), [x, params, stat, u], grid1d(n));
  rec.dispatch(fwdKernel, [x, params, stat, y, u], grid1d(Math.ceil(x.size / WG)));
}

/**
 * dx = the input gradient of {@linkcode augmentForward} (written, =) for the same `params`. Needs no saved
 * activations: the op is affine in x. `stat` (N) is scratch.
 */
export function augmentBackward(
  rec: Recorder,
  dy: Tensor, // (N, C, H, W)
  params: Tensor, // (N, AUGMENT_PARAMS)
  stat: Tensor, // (N) scratch
  dx: Tensor, // (N, C, H, W)
  opts: AugmentOptions = {},
): void {
  const [n, c, h, w] = checkTensors("augmentBackward", dy, params, stat, dx);
  const u = rec.gpu.uniform([n, c, h, w]);
  rec.dispatch(statKernel(1, reduceWorkgroup(opts.variant)), [dy, params, stat, u], grid1d(n));
  rec.dispatch(bwdKernel, [dy, params, stat, dx, u], grid1d(Math.ceil(dy.size / WG)));
}

/**
 * Augmentation of one batch shape on one GPU: holds the config, ADA's probability `p` and the scratch.
 * The Rng and the params tensors belong to the trainer (see the module comment).
 */
export class Augmenter {
  /** The full configuration. */
  readonly cfg: AugmentConfig;
  /** ADA's adaptive probability: every op's probability is the config's times p (default 1). */
  p = 1;
  private readonly stat: Tensor; // (N) scratch
  private readonly host: Float32Array; // (N, AUGMENT_PARAMS), reused by draw

  constructor(
    /** The GPU the tensors live on. */
    readonly gpu: Gpu,
    /** Batch shape (N, C, H, W). */
    readonly shape: readonly [number, number, number, number],
    cfg: Partial<AugmentConfig> = {},
    /** Kernel options. */
    readonly opts: AugmentOptions = {},
  ) {
    checkShape(shape);
    this.cfg = augmentConfig(cfg);
    this.stat = gpu.tensor([shape[0]]);
    this.host = new Float32Array(shape[0] * AUGMENT_PARAMS);
  }

  /** A new params tensor (N, AUGMENT_PARAMS) for one augmented batch; allocate them at build time. */
  paramsTensor(): Tensor {
    return this.gpu.tensor([this.shape[0], AUGMENT_PARAMS]);
  }

  /**
   * Draws one batch's parameters from `rng` and queues their upload into `params` (before the next submit);
   * returns the host copy (reused by the next call).
   */
  draw(rng: Rng, params: Tensor): Float32Array {
    drawAugmentParams(rng, this.cfg, this.shape, this.p, this.host);
    this.gpu.write(params, this.host);
    return this.host;
  }

  /** y = augment(x) with `params` (see {@linkcode augmentForward}). */
  forward(rec: Recorder, x: Tensor, params: Tensor, y: Tensor): void {
    this.checkBatch(x);
    augmentForward(rec, x, params, this.stat, y, this.opts);
  }

  /** dx = input gradient for dy with the forward's `params` (see {@linkcode augmentBackward}). */
  backward(rec: Recorder, dy: Tensor, params: Tensor, dx: Tensor): void {
    this.checkBatch(dy);
    augmentBackward(rec, dy, params, this.stat, dx, this.opts);
  }

  /** Frees the scratch. */
  dispose(): void {
    this.stat.dispose();
  }

  private checkBatch(t: Tensor): void {
    if (t.shape.length !== 4 || t.shape.some((v, i) => v !== this.shape[i])) {
      throw new Error(
        `Augmenter: tensor has shape (${t.shape}), this augmenter was built for (${this.shape})`,
      );
    }
  }
}

// ---------------------------------------------------------------- ADA

/** Adaptive augmentation probability (ADA, Karras et al. 2020). */
export interface AdaConfig {
  /** Target of r_t = E[sign(D(real))] (default 0.6). */
  target: number;
  /** Images over which p can move from 0 to 1 (default 500k, ADA's ada_kimg = 500). */
  speedImages: number;
  /** Upper bound of p (default 1). */
  pMax: number;
}

/** ADA's defaults. */
export const DEFAULT_ADA: Readonly<AdaConfig> = Object.freeze({ target: 0.6, speedImages: 500_000, pMax: 1 });

/**
 * ADA's update: p + sign(rt - target) * images / speedImages, clamped to [0, pMax], where `rt` is the mean of
 * sign(D(real)) and `images` the number of real images it was measured over since the last update (batch size
 * times the update interval). An overfitting discriminator (rt above the target) gets more augmentation.
 */
export function adaUpdate(p: number, rt: number, images: number, cfg: Partial<AdaConfig> = {}): number {
  const c = { ...DEFAULT_ADA, ...cfg };
  if (!Number.isFinite(p) || !Number.isFinite(rt) || !(images >= 0) || !(c.speedImages > 0)) {
    throw new Error(
      `adaUpdate: need finite p (${p}) and rt (${rt}), images >= 0 (${images}), speedImages > 0 (${c.speedImages})`,
    );
  }
  const next = p + Math.sign(rt - c.target) * images / c.speedImages;
  return Math.min(c.pMax, Math.max(0, next));
}

// ---------------------------------------------------------------- CPU reference

type Arr = Float32Array | Float64Array;

/**
 * Whether (i, j) is an output pixel (inside the image) of the sample whose params start at prm[r] that shows an
 * input pixel.
 */
function keptRef(prm: Arr, r: number, i: number, j: number, h: number, w: number): boolean {
  const si = i - prm[r + 1], sj = j - prm[r];
  const inside = i >= 0 && i < h && j >= 0 && j < w && si >= 0 && si < h && sj >= 0 && sj < w;
  const cut = j >= prm[r + 3] && j < prm[r + 5] && i >= prm[r + 4] && i < prm[r + 6];
  return inside && !cut;
}

/** CPU reference of {@linkcode augmentForward}; `shape` is x's (N, C, H, W). */
export function augmentRef(x: Arr, params: Arr, shape: readonly number[]): Float64Array {
  const [n, c, h, w] = checkShape(shape);
  const chw = c * h * w;
  const y = new Float64Array(n * chw);
  for (let b = 0; b < n; b++) {
    const r = b * AUGMENT_PARAMS;
    let mean = 0;
    for (let q = 0; q < chw; q++) mean += x[b * chw + q];
    mean /= chw;
    const k = params[r + 7], bright = params[r + 8], flip = params[r + 2] !== 0;
    for (let ch = 0; ch < c; ch++) {
      const plane = (b * c + ch) * h * w;
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          let v = AUGMENT_PAD;
          if (keptRef(params, r, i, j, h, w)) {
            const u = j - params[r];
            const sj = flip ? w - 1 - u : u;
            v = k * (x[plane + (i - params[r + 1]) * w + sj] - mean) + mean + bright;
          }
          y[plane + i * w + j] = v;
        }
      }
    }
  }
  return y;
}

/** CPU reference of {@linkcode augmentBackward}: dx (N, C, H, W) for dy and the forward's params. */
export function augmentBackwardRef(dy: Arr, params: Arr, shape: readonly number[]): Float64Array {
  const [n, c, h, w] = checkShape(shape);
  const chw = c * h * w;
  const dx = new Float64Array(n * chw);
  for (let b = 0; b < n; b++) {
    const r = b * AUGMENT_PARAMS;
    const k = params[r + 7], flip = params[r + 2] !== 0;
    // g[input pixel] = dy at the output pixel it went to; s = sum of the kept dy (for the mean's gradient)
    let s = 0;
    for (let ch = 0; ch < c; ch++) {
      const plane = (b * c + ch) * h * w;
      for (let sh = 0; sh < h; sh++) {
        for (let sw = 0; sw < w; sw++) {
          const i = sh + params[r + 1], j = (flip ? w - 1 - sw : sw) + params[r];
          if (keptRef(params, r, i, j, h, w)) {
            const g = dy[plane + i * w + j];
            dx[plane + sh * w + sw] = k * g;
            s += g;
          }
        }
      }
    }
    const coef = (1 - k) * s / chw;
    for (let q = 0; q < chw; q++) dx[b * chw + q] += coef;
  }
  return dx;
}
