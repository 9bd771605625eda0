/**
 * Progressive-GAN fade-in (Karras et al. 2018): y = (1 - alpha) * a + alpha * b for two same-shape tensors,
 * forward and backward on the GPU and as CPU references, plus the exact schedule of progressive growing.
 *
 * alpha lives in a 1-element tensor that the trainer rewrites with `gpu.write` before each submit (one write
 * per submit: writes are queued ahead of the whole submit, so a second write before the submit replaces the
 * first). A uniform per alpha value would add a cached uniform buffer every step.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { ElementwiseVariant } from "./adam.ts";

/** Options of the blend kernels. */
export interface BlendOptions {
  /** "naive" one value an invocation, "blocked"/"auto" four (default "auto"). */
  variant?: ElementwiseVariant;
}

const WG = 256;

function kernel(name: "blend_fwd" | "blend_bwd", variant: ElementwiseVariant = "auto"): Kernel {
  const elems = variant === "naive" ? 1 : 4;
  return {
    name: `${name}.e${elems}`,
    code: WGSL[name],
    constants: { WG, ELEMS: elems },
    workgroupSize: [WG, 1, 1],
  };
}

function check(fn: string, alpha: Tensor, ref: Tensor, others: Record<string, Tensor>): void {
  if (alpha.size !== 1) throw new Error(`${fn}: alpha must be a 1-element tensor, got (${alpha.shape})`);
  for (const [name, t] of Object.entries(others)) {
    if (t.size !== ref.size) {
      throw new Error(`${fn}: ${name} has shape (${t.shape}), expected (${ref.shape})`);
    }
  }
}

function grid(total: number, variant?: ElementwiseVariant): [number, number, number] {
  const elems = variant === "naive" ? 1 : 4;
  return grid1d(Math.ceil(total / (WG * elems)));
}

/** y = (1 - alpha) * a + alpha * b; alpha is `alpha[0]`. y must be another buffer than a, b and alpha. */
export function blendForward(
  rec: Recorder,
  a: Tensor, // any shape, e.g. (N, C, H, W): the old (upsampled low-resolution) branch
  b: Tensor, // same shape: the new branch
  alpha: Tensor, // (1)
  y: Tensor, // same shape
  opts: BlendOptions = {},
): void {
  check("blendForward", alpha, a, { b, y });
  if (y.buffer === a.buffer || y.buffer === b.buffer || y.buffer === alpha.buffer) {
    throw new Error("blendForward: y must not share a buffer with a, b or alpha");
  }
  rec.dispatch(
    kernel("blend_fwd", opts.variant),
    [a, b, alpha, y, rec.gpu.uniform([a.size])],
    grid(a.size, opts.variant),
  );
}

/** Gradients of {@linkcode blendForward}, written (=): da = (1 - alpha) * dy, db = alpha * dy. */
export function blendBackward(
  rec: Recorder,
  dy: Tensor, // same shape as a
  alpha: Tensor, // (1)
  da: Tensor, // same shape
  db: Tensor, // same shape
  opts: BlendOptions = {},
): void {
  check("blendBackward", alpha, dy, { da, db });
  const outs = [da.buffer, db.buffer];
  if (da.buffer === db.buffer || outs.includes(dy.buffer) || outs.includes(alpha.buffer)) {
    throw new Error("blendBackward: da and db must be distinct buffers, other than dy's and alpha's");
  }
  rec.dispatch(
    kernel("blend_bwd", opts.variant),
    [dy, alpha, da, db, rec.gpu.uniform([dy.size])],
    grid(dy.size, opts.variant),
  );
}

// ---------------------------------------------------------------- CPU reference

type Arr = Float32Array | Float64Array;

/** CPU reference of {@linkcode blendForward}. */
export function blendRef(a: Arr, b: Arr, alpha: number): Float64Array {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = (1 - alpha) * a[i] + alpha * b[i];
  return y;
}

/** CPU reference of {@linkcode blendBackward}. */
export function blendBackwardRef(dy: Arr, alpha: number): { da: Float64Array; db: Float64Array } {
  const da = new Float64Array(dy.length), db = new Float64Array(dy.length);
  for (let i = 0; i < dy.length; i++) {
    da[i] = (1 - alpha) * dy[i];
    db[i] = alpha * dy[i];
  }
  return { da, db };
}

// ---------------------------------------------------------------- progressive growing schedule

/** Schedule of progressive growing, in images shown to the discriminator. */
export interface ProgressiveConfig {
  /** Resolution of the first (stable) phase, a power of two (default 8). */
  startRes?: number;
  /** Final resolution, a power of two >= startRes; training stays there after the last fade. */
  targetRes: number;
  /** Images over which alpha rises linearly from 0 to 1 after each doubling (0: switch at once). */
  fadeImages: number;
  /** Images of each stable phase before the next doubling (the one at targetRes lasts forever). */
  stableImages: number;
}

/** Where a run is in the progressive-growing schedule. */
export interface ProgressivePhase {
  /** Resolution the networks run at (during a fade: the new, higher one). */
  res: number;
  /** Weight of the new branch: (images into the fade) / fadeImages while fading, 1 in stable phases. */
  alpha: number;
  /** 0: first stable phase; then 2k - 1 the k-th fade and 2k the stable phase after it. */
  phaseIndex: number;
  /** Whether this is a fade phase (blend the two branches with alpha). */
  fading: boolean;
  /** Images seen when this phase began. */
  phaseStart: number;
}

function checkProgressive(cfg: ProgressiveConfig): { start: number; doublings: number } {
  const start = cfg.startRes ?? 8;
  const pow2 = (v: number) => Number.isInteger(v) && v >= 1 && (v & (v - 1)) === 0;
  if (!pow2(start)) throw new Error(`progressive schedule: startRes ${start} must be a power of two`);
  if (!pow2(cfg.targetRes) || cfg.targetRes < start) {
    throw new Error(
      `progressive schedule: targetRes ${cfg.targetRes} must be a power of two >= startRes ${start}`,
    );
  }
  for (const k of ["fadeImages", "stableImages"] as const) {
    if (!(Number.isFinite(cfg[k]) && cfg[k] >= 0)) {
      throw new Error(`progressive schedule: ${k} must be a finite number >= 0, got ${cfg[k]}`);
    }
  }
  return { start, doublings: Math.round(Math.log2(cfg.targetRes / start)) };
}

/**
 * The phase after `imagesSeen` images: first a stable phase at startRes, then for each doubling a fade
 * (alpha = (imagesSeen - fadeStart) / fadeImages, from 0 at its first image towards 1) and a stable phase
 * (alpha 1). A pure function of `imagesSeen`, so a resumed run continues exactly where it stopped. A phase
 * holds the images in [phaseStart, phaseStart + length); zero-length phases are skipped.
 */
export function progressivePhase(imagesSeen: number, cfg: ProgressiveConfig): ProgressivePhase {
  const { start, doublings } = checkProgressive(cfg);
  if (!(Number.isFinite(imagesSeen) && imagesSeen >= 0)) {
    throw new Error(`progressivePhase: imagesSeen must be a finite number >= 0, got ${imagesSeen}`);
  }
  let t = 0; // start of the current phase
  let res = start;
  // phase 0: stable at startRes (lasts forever when there is nothing to grow)
  if (doublings === 0 || imagesSeen < cfg.stableImages) {
    return { res, alpha: 1, phaseIndex: 0, fading: false, phaseStart: 0 };
  }
  t = cfg.stableImages;
  for (let k = 1; k <= doublings; k++) {
    res *= 2;
    if (imagesSeen < t + cfg.fadeImages) {
      return {
        res,
        alpha: (imagesSeen - t) / cfg.fadeImages,
        phaseIndex: 2 * k - 1,
        fading: true,
        phaseStart: t,
      };
    }
    t += cfg.fadeImages;
    if (k === doublings || imagesSeen < t + cfg.stableImages) {
      return { res, alpha: 1, phaseIndex: 2 * k, fading: false, phaseStart: t };
    }
    t += cfg.stableImages;
  }
  throw new Error("progressivePhase: unreachable");
}

/**
 * Images until the last stable phase (at targetRes) begins: the first stable phase, every fade, and the
 * stable phases between them, i.e. doublings * (fadeImages + stableImages); 0 when nothing grows.
 */
export function progressiveGrowthImages(cfg: ProgressiveConfig): number {
  const { doublings } = checkProgressive(cfg);
  return doublings === 0 ? 0 : doublings * (cfg.fadeImages + cfg.stableImages);
}
