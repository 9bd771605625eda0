/**
 * Sampling a trained generator on its own: a generator checkpoint (`generator.ckpt`, the final EMA
 * generator) in, images out. `deno task generate` and the browser generator page (`deno task serve --run
 * DIR`, `/generate`) both draw through {@linkcode GeneratorSampler}, so the same checkpoint, labels and
 * seed give the same images in Deno and in a browser (up to the adapters' float rounding).
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { GanConfig } from "../models/config.ts";
import { condDim, type GeneratorPass } from "../models/generator.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { sampleWith } from "./gan.ts";
import { loadGenerator } from "./run_state.ts";

/** Images per generator pass unless told otherwise (also `deno task generate --batch`'s default). */
export const DEFAULT_SAMPLE_BATCH = 32;

/** Options of {@linkcode GeneratorSampler}. */
export interface SamplerOptions {
  /** Images per generator pass (default {@linkcode DEFAULT_SAMPLE_BATCH}); results do not depend on it. */
  batch?: number;
  /** Names the checkpoint in errors (a file name or URL). */
  source?: string;
}

/** A generator checkpoint's weights on the GPU with one pass, ready to draw images from label rows. */
export class GeneratorSampler {
  /** The run's configuration. */
  readonly cfg: GanConfig;
  /** Label names, in the order of the label columns. */
  readonly labelNames: string[];
  /** The checkpoint's metadata (step, images seen, data spec, ...). */
  readonly meta: Record<string, unknown>;
  /** Images per generator pass. */
  readonly batch: number;
  private readonly pass: GeneratorPass;
  private readonly zy: Tensor; // (batch, Z + L)
  private readonly cond: Tensor; // (batch, D)

  /** Uploads the weights of a generator checkpoint (throws naming `opts.source` when it is not one). */
  constructor(readonly gpu: Gpu, ck: Checkpoint, opts: SamplerOptions = {}) {
    const batch = opts.batch ?? DEFAULT_SAMPLE_BATCH;
    if (!Number.isInteger(batch) || batch < 1) {
      throw new Error(`sampler batch must be a positive integer, got ${batch}`);
    }
    const { cfg, labelNames, g, meta } = loadGenerator(gpu, ck, opts.source);
    this.cfg = cfg;
    this.labelNames = labelNames;
    this.meta = meta;
    this.batch = batch;
    const L = labelNames.length;
    this.pass = g.pass(batch);
    this.zy = gpu.tensor([batch, cfg.latentDim + L]);
    this.cond = gpu.tensor([batch, condDim(cfg, L)]);
  }

  /** Number of labels L. */
  get numLabels(): number {
    return this.labelNames.length;
  }

  /**
   * One image per label row (M, L) of 0/1, latents N(0, 1) from `Rng(seed)` drawn row by row (row i gets
   * the same latent whatever the batch size). Returns (M, C, R, R) in [-1, 1].
   */
  sample(labels: ArrayLike<number>, seed: number): Promise<Float32Array> {
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be an integer >= 0, got ${seed}`);
    return sampleWith(this.gpu, this.cfg, this.numLabels, this.pass, this.zy, this.cond, labels, seed);
  }
}

/** `n` rows (n, L) each equal to the label combination `combo` (L). */
export function repeatLabels(combo: ArrayLike<number>, n: number): Uint8Array {
  const L = combo.length, out = new Uint8Array(n * L);
  for (let i = 0; i < n; i++) for (let l = 0; l < L; l++) out[i * L + l] = combo[l] ? 1 : 0;
  return out;
}

/** Images drawn by {@linkcode generateImages}. */
export interface GeneratedImages {
  /** Pixels (n, C, R, R) in [-1, 1]. */
  images: Float32Array;
  /** Number of images n. */
  n: number;
  /** Channels C. */
  channels: number;
  /** Side R in pixels. */
  resolution: number;
  /** The generator's label names. */
  labelNames: string[];
}

/**
 * `n` images of one label combination (`combo`, one 0/1 value per label name of the checkpoint) from a
 * generator checkpoint, latents from `seed`: what `deno task generate --n N --combos a+b --seed S` draws
 * before it writes PNGs. Loads the weights each call; keep a {@linkcode GeneratorSampler} to draw often.
 */
export async function generateImages(
  gpu: Gpu,
  ck: Checkpoint,
  combo: ArrayLike<number>,
  seed: number,
  n: number,
  opts: SamplerOptions = {},
): Promise<GeneratedImages> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`number of images must be a positive integer, got ${n}`);
  const s = new GeneratorSampler(gpu, ck, opts);
  if (combo.length !== s.numLabels) {
    throw new Error(
      `${combo.length} label values given; the generator has ${s.numLabels} labels (${
        s.labelNames.join(", ")
      })`,
    );
  }
  const images = await s.sample(repeatLabels(combo, n), seed);
  return { images, n, channels: s.cfg.imageChannels, resolution: s.cfg.resolution, labelNames: s.labelNames };
}
