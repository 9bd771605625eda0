/**
 * Configuration of a label-conditional GAN run: the models (cpd-GAN style fixed-resolution networks or the
 * progressive variant), the losses, the optimisers, augmentation, the schedule of logs / checkpoints /
 * samples, and the seed. Every field is checked by {@linkcode validateGanConfig}, which names the field
 * in its error. Presets: `tiny` (32 px, tests and the demo), `small64`, and `paper32` ... `paper256`.
 * @module
 */

/** The generator / discriminator family. */
export type GanModel = "cpd" | "progressive";

/** Which normalisation the generator's conditional norms use before the per-sample scale and shift. */
export type GenNorm = "pixel" | "instance" | "none";

/** Full configuration of a GAN run. */
export interface GanConfig {
  /** "cpd": fixed-resolution conditional generator + projection discriminator; "progressive": prog-GAN. */
  model: GanModel;
  /** Image height = width in pixels: 32, 64, 128 or 256 (the data are resized to it). */
  resolution: number;
  /** Image channels: 1 (one CT window / grey radiograph) or 3 (three CT windows). Must match the data. */
  imageChannels: 1 | 3;
  /** Length of the latent vector z ~ N(0, 1). */
  latentDim: number;
  /**
   * Generator channels per resolution 4, 8, ..., resolution (length log2(resolution) - 1), e.g.
   * [128, 64, 32, 16] for 32 px.
   */
  gChannels: number[];
  /** Discriminator channels per resolution 4, 8, ..., resolution (same length as gChannels). */
  dChannels: number[];
  /** Width F of the discriminator's feature vector h (the projection and auxiliary heads read it). */
  dFeatures: number;
  /** Generator upsampling: "convT" (transposed conv k4 s2 p1) or "nearest" (upsample2 + conv3x3). */
  upsample: "convT" | "nearest";
  /** Normalisation inside the generator's conditional norms (scale/shift from a linear layer on the condition). */
  condNorm: GenNorm;
  /**
   * What the conditional norms' scale/shift is computed from: "latent+label" ([z, y]), "label" (y) or
   * "latent" (z: the label then enters only G's input layer, as a (C0, 4, 4) map). A label term in a norm
   * shifts or scales a channel uniformly over the whole image, the cheapest way to tell D's auxiliary head a
   * label without drawing the (local) finding: generated phantom images of a finding were brighter overall
   * and "no finding" heads larger than real ones. "latent" removes that, but did not raise TSTR on the
   * phantom (three seeds; README, "Where the label goes in G"), so the presets keep "latent+label".
   */
  condInput: "latent+label" | "label" | "latent";
  /**
   * Noise inputs in the generator (model "cpd"; StyleGAN's): every conv's output gets a fresh standard-normal
   * map per image, scaled by a learned strength per channel (starting at 0). The latent vector must otherwise
   * decide every pixel through the upsampling convs; a per-pixel random input lets G place a small, compact
   * detail (a 1-2 px clot) anywhere instead of drawing the spread-out average of where it could lie. On in
   * `tiny` (TSTR +0.025 over five paired seeds at 24k phantom images, README "Noise inputs in G"); off in
   * the larger presets, where it is not measured.
   */
  gNoise: boolean;
  /** Spectral normalisation of the discriminator weights (all but the auxiliary classifier head). */
  spectralNorm: boolean;
  /** Group size of the discriminator's minibatch-stddev layer (must divide batchSize; 0 = off). */
  mbstdGroup: number;
  /** GAN loss: "hinge" (default with spectral norm) or "logistic" (non-saturating). */
  loss: "hinge" | "logistic";
  /** Weight of the discriminator's auxiliary multi-label BCE on real images (AC-GAN). */
  auxWeightD: number;
  /** Weight of the generator's auxiliary BCE: D's auxiliary head on fakes must predict their labels. */
  auxWeightG: number;
  /**
   * Decay of auxWeightG (0 = none): over this many images shown, G's auxiliary weight falls linearly from
   * auxWeightG to auxWeightGEnd and stays there. The auxiliary term teaches G the labels in few images, but
   * it rewards whatever D's head finds easiest to classify (AC-GAN's bias toward exaggerated, low-diversity
   * findings); once the labels are drawn, a smaller weight leaves the projection discriminator, which
   * compares with real images of the label, to set what the findings look like. Off in the presets: on the
   * phantom its gain depended on the evaluation classifier (README, "Recipe ablation at the demo's budget").
   */
  auxDecayImages: number;
  /** G's auxiliary weight after auxDecayImages (used only when auxDecayImages > 0). */
  auxWeightGEnd: number;
  /**
   * Label smoothing of G's auxiliary targets, in [0, 0.5): G is trained towards D's head answering 1 - s for
   * a requested label and s for the others, instead of 1 and 0 (0 = off). With hard targets the loss keeps
   * paying G to make a finding ever easier to classify, past what any real image shows (the caricature that
   * label fidelity above the real ceiling reveals); with smoothed targets it pushes back once D's head is more
   * certain than 1 - s. D's own targets stay hard. On the phantom it made the findings louder and lost TSTR
   * (README, "Where the label goes in G"): off in the presets.
   */
  auxSmoothG: number;
  /**
   * Instance noise: the standard deviation of Gaussian noise added to every image D sees, real and
   * generated (after augmentation; images in [-1, 1]); 0 = off. It hides differences smaller than itself,
   * such as the pixel-noise level by which a generator can tell D's auxiliary head a label without drawing
   * the finding (README, "Recipe ablation"), so D and its head must use larger structures.
   */
  instanceNoise: number;
  /** Images over which instanceNoise falls linearly to 0 (0 = constant). */
  instanceNoiseImages: number;
  /**
   * The auxiliary classifier's loss. "ac" (AC-GAN): D's head learns the labels of real images only, and G
   * is rewarded when its images classify as their labels, which pays for ANY feature the head reacts to,
   * real finding or not (the known failure: generated images become easier to classify than real ones).
   * "adc" (ADC-GAN, Hou et al. ICML 2022, here per label): the head has two outputs per label, "real image
   * with label l" and "generated image with label l", and learns both on real and generated images; G must
   * score as the real class and not as the generated one, so a feature only generated images carry marks
   * them as generated instead of paying.
   */
  auxLoss: "ac" | "adc";
  /**
   * Which statistics standardise D's features in front of its auxiliary head when it scores generated
   * images. "batch": the generated batch's own, so a generated image's label score depends on the other
   * generated images of its batch, and G can tell the head a label by a difference that is small in absolute
   * terms as long as it varies little across its batch. "real": those of the real batch of the same step
   * (the head learns the labels on real images standardised by their own batch's statistics), so generated
   * images are measured on the real images' scale. Needs auxWeightD > 0 (the real pass computes them).
   */
  auxStats: "batch" | "real";
  /**
   * A local auxiliary head in D (0 = none): at this resolution (a power of two from 8 to `resolution`)
   * D's features give label logits per place, pooled by a smooth maximum (log-sum-exp) and added to the
   * global auxiliary logits. The global head reads one vector for the whole image, so G is paid for any
   * image-wide change that moves it, such as the diffuse brightening the `tiny` generators draw for an
   * intraparenchymal clot; with the local head an image scores as a finding by the place that looks most like
   * one (cpd model only).
   */
  auxLocal: number;
  /**
   * A second projection term in D (0 = none): D's features at this resolution (a power of two from 8 to
   * `resolution`), averaged over the places, get a projection output of their own (linear + <embed(y), .>)
   * added to D's output, so real vs generated is judged for the label also on features that went through
   * fewer downsamplings, where a small finding is still resolved (cpd model only).
   */
  projPooled: number;
  /**
   * Class-conditional feature matching for G (0 = off): the weight of a loss on D's features h (what its
   * heads read) that pulls, per label, their mean over generated images with the label to the mean over real
   * images with it, and likewise without it (src/nn/feat_match.ts). The auxiliary loss pays G for anything
   * D's head separates, so a louder-than-real finding or a label coded by head size pays more; either moves
   * these means off the real ones and costs G here. D is not trained on it.
   */
  featMatchWeight: number;
  /**
   * What feature matching compares, per label: "means", the mean features over images with the label and
   * over those without it (generated vs real); "contrast", the difference between those two means, what the
   * label changes in D's features (generated vs real), leaving the overall real vs generated difference,
   * which D is trained to keep, to D's own loss.
   */
  featMatchMode: "means" | "contrast";
  /**
   * Decay per step, in [0, 1), of the moving averages of those means (0 = this batch's means alone): a batch
   * of 16 holds one or two images of a rare label, and matching their mean would also pay G for less variety.
   */
  featMatchDecay: number;
  /**
   * Images per batch (real batch = fake batch). A config file given to `deno task train` may say "auto": the
   * largest preset batch x 2^k whose step stays under 100 ms on the device (the preset's batch on a CPU
   * adapter), learning rates and EMA scaled by `scaleGanBatch`; config.json then records the chosen number.
   */
  batchSize: number;
  /** Adam learning rate of the generator. */
  lrG: number;
  /** Adam learning rate of the discriminator. */
  lrD: number;
  /**
   * Images after which both learning rates start to fall (used only when lrDecayImages > 0). A run extended
   * with `--resume --images N` may add or move the decay in its config.json as long as it starts at or after
   * the images already seen, so the steps taken stay those the config describes.
   */
  lrDecayFrom: number;
  /**
   * Images over which lrG and lrD fall linearly, from lrDecayFrom on, to lrEndFactor times their value, and
   * stay there (0 = constant learning rates, the presets). The projection discriminator's authors decayed
   * linearly over the whole run (Miyato & Koyama 2018); the tiny preset's rates are set for a few thousand
   * images, and a long run may want smaller steps at its end.
   */
  lrDecayImages: number;
  /** The learning rates' factor at the end of the decay, in [0, 1]. */
  lrEndFactor: number;
  /** Adam beta1 (0 is the GAN setting). */
  beta1: number;
  /** Adam beta2. */
  beta2: number;
  /** Decay of the generator's weight EMA used for sampling (0.999 in the paper; 0 = no averaging). */
  emaDecay: number;
  /**
   * EMA ramp-up (StyleGAN2-ADA's ema_rampup; 0 = off): the EMA's half-life in images is at most this
   * fraction of the images seen so far, up to the half-life that emaDecay gives. A long half-life suits
   * long runs, but early on it would average in the untrained generator; the ramp makes one setting serve
   * a 6k-image demo and a 400k-image run.
   */
  emaRampup: number;
  /** Differentiable augmentation applied to real and fake images alike before D. */
  augment: {
    /** Augment at all. */
    enabled: boolean;
    /** Probability of the integer translation. */
    pTranslate: number;
    /** Probability of the cutout. */
    pCutout: number;
    /** Probability of brightness and (independently) contrast. */
    pColor: number;
    /** Largest shift as a fraction of the size. */
    translateFrac: number;
    /** Cutout side as a fraction of the size. */
    cutoutFrac: number;
    /** Horizontal mirror (off: anatomy is lateralised). */
    flip: boolean;
    /** Adaptive probability (ADA): p follows the sign of D(real) measured at each loss readback. */
    adaptive: boolean;
    /** ADA target of E[sign D(real)]. */
    adaTarget: number;
    /** ADA: images over which p can move from 0 to 1. */
    adaSpeedImages: number;
    /** Initial (and, without ADA, fixed) augmentation probability multiplier p in [0, 1]. */
    p: number;
  };
  /** Progressive growing (model "progressive" only): schedule in images shown. */
  progressive: {
    /** First resolution (power of two >= 8). */
    startRes: number;
    /** Images of each fade-in. */
    fadeImages: number;
    /** Images of each stable phase before the next doubling. */
    stableImages: number;
  };
  /** Training length in images shown to D (real images). */
  images: number;
  /** Steps between loss readbacks (each costs >= 11 ms on Deno); NaN/Inf there stops the run. */
  logEvery: number;
  /** Images between checkpoints. */
  checkpointEvery: number;
  /** Number of checkpoints kept (older ones are deleted). */
  keepCheckpoints: number;
  /** Images between sample grids (0 = only at the end). */
  sampleEvery: number;
  /** Columns of a sample grid (latents per label combination). */
  sampleColumns: number;
  /** Rows of a sample grid: the most frequent label combinations of the data. */
  sampleRows: number;
  /** GPU kernel variants: "auto" (fast kernels) or "naive" (one output per invocation, for debugging). */
  kernels: "auto" | "naive";
  /**
   * Label fidelity while training ("GAN-test", src/eval/label_fidelity.ts): a classifier trained on the
   * real training split (once, cached, reused by `deno task evaluate` with the same settings) scores a fixed
   * set of generated images every `every` images (0 = off; the CLI measures, the library trainer does not).
   */
  labelFidelity: {
    /** Images between measurements (0 = off). */
    every: number;
    /** Preset of the real-trained classifier (the evaluation classifier's `--classifier`). */
    classifier: "tiny" | "paper";
    /** Training-image budget of the real-trained classifier (the evaluation classifier's `--images`). */
    classifierImages: number;
  };
  /** Seed of everything: initial weights, batches, latents, augmentation, data split. */
  seed: number;
}

/** Number of resolutions 4, 8, ..., res. */
export function resolutionCount(res: number): number {
  return Math.round(Math.log2(res)) - 1;
}

/** Channel list for 4..res: base * res / r, capped at max, floored at min. */
export function channelLadder(res: number, base: number, max: number, min = 8): number[] {
  const out: number[] = [];
  for (let r = 4; r <= res; r *= 2) out.push(Math.max(min, Math.min(max, Math.round((base * res) / r))));
  return out;
}

const BASE: Omit<GanConfig, "resolution" | "gChannels" | "dChannels"> = {
  model: "cpd",
  imageChannels: 1,
  latentDim: 64,
  dFeatures: 128,
  upsample: "convT",
  condNorm: "pixel",
  condInput: "latent+label",
  gNoise: false,
  spectralNorm: true,
  mbstdGroup: 4,
  loss: "hinge",
  auxWeightD: 1,
  auxWeightG: 0.5,
  auxDecayImages: 0,
  auxWeightGEnd: 0.5,
  auxSmoothG: 0,
  instanceNoise: 0,
  instanceNoiseImages: 0,
  auxLoss: "ac",
  auxStats: "batch",
  auxLocal: 0,
  projPooled: 0,
  featMatchWeight: 0,
  featMatchMode: "contrast",
  featMatchDecay: 0.9,
  batchSize: 32,
  lrG: 2e-4,
  lrD: 2e-4,
  lrDecayFrom: 0,
  lrDecayImages: 0,
  lrEndFactor: 1,
  beta1: 0,
  beta2: 0.99,
  emaDecay: 0.999,
  emaRampup: 0,
  augment: {
    enabled: true,
    pTranslate: 1,
    pCutout: 0.5,
    pColor: 1,
    translateFrac: 1 / 8,
    cutoutFrac: 1 / 4,
    flip: false,
    adaptive: false,
    adaTarget: 0.6,
    adaSpeedImages: 100_000,
    p: 1,
  },
  progressive: { startRes: 8, fadeImages: 50_000, stableImages: 50_000 },
  images: 1_000_000,
  logEvery: 25,
  checkpointEvery: 20_000,
  keepCheckpoints: 3,
  sampleEvery: 20_000,
  sampleColumns: 8,
  sampleRows: 10,
  kernels: "auto",
  labelFidelity: { every: 0, classifier: "tiny", classifierImages: 20_000 },
  seed: 1,
};

function paper(res: number): GanConfig {
  const base = res <= 64 ? 16 : 8;
  return {
    ...structuredClone(BASE),
    resolution: res,
    imageChannels: res >= 128 ? 3 : 1,
    latentDim: 128,
    gChannels: channelLadder(res, base * 2, 256, 16),
    dChannels: channelLadder(res, base * 2, 256, 16),
    dFeatures: 256,
    batchSize: res <= 64 ? 64 : res <= 128 ? 32 : 16,
    images: 12_000_000,
    checkpointEvery: 200_000,
    sampleEvery: 200_000,
    emaDecay: 0.999,
  };
}

/** Named presets. `tiny` runs in minutes on a CPU adapter; `paper*` follow the study's budgets. */
export const PRESETS: Readonly<Record<string, GanConfig>> = {
  /** 32 px, small networks: tests and the 5-minute demo on a CPU "GPU". */
  tiny: {
    ...structuredClone(BASE),
    resolution: 32,
    latentDim: 32,
    gChannels: [64, 32, 16, 8],
    dChannels: [64, 32, 16, 8],
    dFeatures: 64,
    // short runs on a CPU adapter: many small steps, nearest upsampling (no early checkerboard), G a bit faster
    batchSize: 16,
    upsample: "nearest",
    // per-pixel noise inputs: the small findings need a random place, not one derived from z alone
    gNoise: true,
    lrG: 1e-3,
    // the labels must be learned in a few hundred steps: a fast D, and the auxiliary losses weigh more in
    // the shared trunk (with Adam, auxWeightD only sets the aux vs GAN mix of the trunk's gradient; at 10 the
    // GAN loss stalls, at 1 the trunk stays label-blind for thousands of images)
    lrD: 2e-3,
    auxWeightD: 3,
    auxWeightG: 2,
    emaDecay: 0.98,
    // a few thousand images on ~3k real ones: little augmentation, raised by ADA if D overfits
    augment: { ...structuredClone(BASE.augment), pCutout: 0, p: 0.2, adaptive: true, adaSpeedImages: 20_000 },
    images: 6_000,
    logEvery: 20,
    checkpointEvery: 2_000,
    sampleEvery: 2_000,
    sampleRows: 6,
    labelFidelity: { every: 2_000, classifier: "tiny", classifierImages: 20_000 },
  },
  /** 64 px, moderate networks. */
  small64: {
    ...structuredClone(BASE),
    resolution: 64,
    gChannels: [128, 128, 64, 32, 16],
    dChannels: [128, 128, 64, 32, 16],
    batchSize: 32,
    images: 500_000,
  },
  /** The study's setting at 32 px (budget 12 M images). */
  paper32: paper(32),
  /** The study's setting at 64 px. */
  paper64: paper(64),
  /** The study's setting at 128 px (three CT windows). */
  paper128: paper(128),
  /** The study's setting at 256 px (three CT windows). */
  paper256: paper(256),
};

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A full configuration: `preset` (default "tiny", or the preset named by `overrides.preset`) overlaid with
 * `overrides` (nested objects merged), then validated. Unknown fields are errors (they are usually typos).
 */
export function resolveGanConfig(overrides: Record<string, unknown> = {}, preset?: string): GanConfig {
  const name = preset ?? (typeof overrides.preset === "string" ? overrides.preset : "tiny");
  const base = PRESETS[name];
  if (!base) {
    throw new Error(`config: unknown preset "${name}"; choose one of ${Object.keys(PRESETS).join(", ")}`);
  }
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(overrides)) {
    if (k === "preset") continue;
    if (!(k in out)) throw new Error(`config: unknown field "${k}" (known: ${Object.keys(out).join(", ")})`);
    if (isObj(out[k])) {
      if (!isObj(v)) throw new Error(`config: field "${k}" must be an object`);
      const inner = out[k] as Record<string, unknown>;
      for (const [k2, v2] of Object.entries(v)) {
        if (!(k2 in inner)) throw new Error(`config: unknown field "${k}.${k2}"`);
        inner[k2] = v2;
      }
    } else {
      out[k] = v;
    }
  }
  // a resolution override without channel lists: derive the ladders from the preset's widths
  if ("resolution" in overrides && !("gChannels" in overrides) && typeof out.resolution === "number") {
    const r = out.resolution as number, g = base.gChannels, d = base.dChannels;
    if (Number.isInteger(Math.log2(r)) && r >= 8) {
      out.gChannels = channelLadder(r, g[g.length - 1], g[0], Math.min(...g));
      if (!("dChannels" in overrides)) {
        out.dChannels = channelLadder(r, d[d.length - 1], d[0], Math.min(...d));
      }
    }
  }
  return validateGanConfig(out);
}

function need(cond: boolean, field: string, what: string, got: unknown): void {
  if (!cond) throw new Error(`config: field "${field}" ${what}, got ${JSON.stringify(got)}`);
}

const posInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;
const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const pow2 = (v: unknown): boolean => posInt(v) && (v & (v - 1)) === 0;

/**
 * Fields added after runs were first written, with the value that reproduces the older behaviour: a
 * config.json or checkpoint without them still loads and resumes exactly as before.
 */
const ADDED_FIELDS: Readonly<Record<string, unknown>> = {
  gNoise: false,
  auxLoss: "ac",
  auxStats: "batch",
  auxLocal: 0,
  projPooled: 0,
  featMatchWeight: 0,
  featMatchMode: "contrast",
  featMatchDecay: 0.9,
  auxDecayImages: 0,
  auxWeightGEnd: 0.5,
  auxSmoothG: 0,
  instanceNoise: 0,
  instanceNoiseImages: 0,
  emaRampup: 0,
  lrDecayFrom: 0,
  lrDecayImages: 0,
  lrEndFactor: 1,
  labelFidelity: { every: 0, classifier: "tiny", classifierImages: 20_000 },
};

/**
 * A copy of a configuration written by an older version (a config.json or a checkpoint's), with the fields
 * added since ({@linkcode ADDED_FIELDS}) filled in with the values that reproduce the older behaviour.
 */
export function withAddedFields(c: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out = structuredClone(c) as Record<string, unknown>;
  for (const [k, v] of Object.entries(ADDED_FIELDS)) if (!(k in out)) out[k] = structuredClone(v);
  return out;
}

/**
 * Checks every field of a configuration; throws an Error naming the first bad field. Returns it typed.
 * Fields added in later versions ({@linkcode ADDED_FIELDS}) are filled in when missing.
 */
export function validateGanConfig(c: Record<string, unknown>): GanConfig {
  for (const [k, v] of Object.entries(withAddedFields(c))) c[k] = v;
  const known = Object.keys(PRESETS.tiny);
  for (const k of known) need(k in c, k, "is missing", undefined);
  for (const k of Object.keys(c)) need(known.includes(k), k, "is not a known field", c[k]);
  need(c.model === "cpd" || c.model === "progressive", "model", 'must be "cpd" or "progressive"', c.model);
  need(
    pow2(c.resolution) && (c.resolution as number) >= 8,
    "resolution",
    "must be a power of two >= 8",
    c.resolution,
  );
  need(c.imageChannels === 1 || c.imageChannels === 3, "imageChannels", "must be 1 or 3", c.imageChannels);
  need(posInt(c.latentDim), "latentDim", "must be a positive integer", c.latentDim);
  const nres = resolutionCount(c.resolution as number);
  for (const f of ["gChannels", "dChannels"]) {
    const v = c[f];
    need(
      Array.isArray(v) && v.length === nres && v.every(posInt),
      f,
      `must be ${nres} positive integers (one per resolution 4..${c.resolution})`,
      v,
    );
  }
  need(posInt(c.dFeatures), "dFeatures", "must be a positive integer", c.dFeatures);
  need(
    c.upsample === "convT" || c.upsample === "nearest",
    "upsample",
    'must be "convT" or "nearest"',
    c.upsample,
  );
  need(
    ["pixel", "instance", "none"].includes(c.condNorm as string),
    "condNorm",
    "must be pixel|instance|none",
    c.condNorm,
  );
  need(
    c.condInput === "latent+label" || c.condInput === "label" || c.condInput === "latent",
    "condInput",
    'must be "latent+label", "label" or "latent"',
    c.condInput,
  );
  need(typeof c.gNoise === "boolean", "gNoise", "must be true or false", c.gNoise);
  need(
    !c.gNoise || c.model === "cpd",
    "gNoise",
    'is implemented for model "cpd" only; set it to false for the progressive model',
    c.gNoise,
  );
  need(typeof c.spectralNorm === "boolean", "spectralNorm", "must be true or false", c.spectralNorm);
  need(c.loss === "hinge" || c.loss === "logistic", "loss", 'must be "hinge" or "logistic"', c.loss);
  for (const f of ["auxWeightD", "auxWeightG"]) {
    need(num(c[f]) && (c[f] as number) >= 0, f, "must be >= 0", c[f]);
  }
  need(c.auxLoss === "ac" || c.auxLoss === "adc", "auxLoss", 'must be "ac" or "adc"', c.auxLoss);
  // D's extra heads read the trunk at a resolution of its own
  for (const f of ["auxLocal", "projPooled"]) {
    const r = c[f] as number;
    need(
      r === 0 || (pow2(r) && r >= 8 && r <= (c.resolution as number)),
      f,
      `must be 0 (off) or a power of two from 8 to the resolution ${c.resolution}`,
      r,
    );
    need(r === 0 || c.model === "cpd", f, 'exists for model "cpd" only (set it to 0)', r);
  }
  need(
    num(c.featMatchWeight) && (c.featMatchWeight as number) >= 0,
    "featMatchWeight",
    "must be a number >= 0 (0 = off)",
    c.featMatchWeight,
  );
  need(
    c.featMatchMode === "means" || c.featMatchMode === "contrast",
    "featMatchMode",
    'must be "means" or "contrast"',
    c.featMatchMode,
  );
  need(
    num(c.featMatchDecay) && (c.featMatchDecay as number) >= 0 && (c.featMatchDecay as number) < 1,
    "featMatchDecay",
    "must be a number in [0, 1) (0 = each batch's means alone)",
    c.featMatchDecay,
  );
  need(c.auxStats === "batch" || c.auxStats === "real", "auxStats", 'must be "batch" or "real"', c.auxStats);
  need(
    c.auxStats !== "real" || (c.auxWeightD as number) > 0,
    "auxStats",
    '"real" needs auxWeightD > 0 (the real images\' auxiliary pass computes the statistics)',
    c.auxStats,
  );
  need(posInt(c.batchSize), "batchSize", "must be a positive integer", c.batchSize);
  need(
    Number.isInteger(c.mbstdGroup) && (c.mbstdGroup as number) >= 0 &&
      (c.mbstdGroup === 0 || (c.batchSize as number) % (c.mbstdGroup as number) === 0),
    "mbstdGroup",
    `must be 0 (off) or a positive divisor of batchSize ${c.batchSize}`,
    c.mbstdGroup,
  );
  for (const f of ["lrG", "lrD"]) need(num(c[f]) && (c[f] as number) > 0, f, "must be a number > 0", c[f]);
  for (const f of ["lrDecayFrom", "lrDecayImages"]) {
    need(
      Number.isInteger(c[f]) && (c[f] as number) >= 0,
      f,
      "must be an integer >= 0 (images; lrDecayImages 0 = constant learning rates)",
      c[f],
    );
  }
  need(
    num(c.lrEndFactor) && (c.lrEndFactor as number) >= 0 && (c.lrEndFactor as number) <= 1,
    "lrEndFactor",
    "must be a number in [0, 1] (the learning rates' factor at the end of the decay)",
    c.lrEndFactor,
  );
  for (const f of ["beta1", "beta2"]) {
    need(num(c[f]) && (c[f] as number) >= 0 && (c[f] as number) < 1, f, "must be in [0, 1)", c[f]);
  }
  need(
    num(c.emaDecay) && (c.emaDecay as number) >= 0 && (c.emaDecay as number) < 1,
    "emaDecay",
    "must be in [0, 1)",
    c.emaDecay,
  );
  need(num(c.emaRampup) && (c.emaRampup as number) >= 0, "emaRampup", "must be a number >= 0", c.emaRampup);
  need(
    Number.isInteger(c.auxDecayImages) && (c.auxDecayImages as number) >= 0,
    "auxDecayImages",
    "must be an integer >= 0 (images; 0 = no decay)",
    c.auxDecayImages,
  );
  need(
    num(c.auxWeightGEnd) && (c.auxWeightGEnd as number) >= 0,
    "auxWeightGEnd",
    "must be a number >= 0",
    c.auxWeightGEnd,
  );
  need(
    num(c.auxSmoothG) && (c.auxSmoothG as number) >= 0 && (c.auxSmoothG as number) < 0.5,
    "auxSmoothG",
    "must be a number in [0, 0.5) (0 = hard targets)",
    c.auxSmoothG,
  );
  need(
    num(c.instanceNoise) && (c.instanceNoise as number) >= 0 && (c.instanceNoise as number) <= 2,
    "instanceNoise",
    "must be a number in [0, 2] (noise std; images are in [-1, 1])",
    c.instanceNoise,
  );
  need(
    Number.isInteger(c.instanceNoiseImages) && (c.instanceNoiseImages as number) >= 0,
    "instanceNoiseImages",
    "must be an integer >= 0 (images; 0 = constant)",
    c.instanceNoiseImages,
  );
  const lf = c.labelFidelity as Record<string, unknown>;
  need(isObj(lf), "labelFidelity", "must be an object", lf);
  for (const k of Object.keys(lf)) {
    need(k in PRESETS.tiny.labelFidelity, `labelFidelity.${k}`, "is not a known field", lf[k]);
  }
  need(
    Number.isInteger(lf.every) && (lf.every as number) >= 0,
    "labelFidelity.every",
    "must be an integer >= 0 (images; 0 = off)",
    lf.every,
  );
  need(
    lf.classifier === "tiny" || lf.classifier === "paper",
    "labelFidelity.classifier",
    'must be "tiny" or "paper"',
    lf.classifier,
  );
  need(
    posInt(lf.classifierImages),
    "labelFidelity.classifierImages",
    "must be a positive integer",
    lf.classifierImages,
  );
  const a = c.augment as Record<string, unknown>;
  need(isObj(a), "augment", "must be an object", a);
  for (const k of Object.keys(PRESETS.tiny.augment)) need(k in a, `augment.${k}`, "is missing", undefined);
  for (const k of Object.keys(a)) {
    need(k in PRESETS.tiny.augment, `augment.${k}`, "is not a known field", a[k]);
  }
  for (const k of ["enabled", "flip", "adaptive"]) {
    need(typeof a[k] === "boolean", `augment.${k}`, "must be true or false", a[k]);
  }
  for (const k of ["pTranslate", "pCutout", "pColor", "translateFrac", "cutoutFrac", "adaTarget", "p"]) {
    need(
      num(a[k]) && (a[k] as number) >= 0 && (a[k] as number) <= 1,
      `augment.${k}`,
      "must be in [0, 1]",
      a[k],
    );
  }
  need(
    num(a.adaSpeedImages) && (a.adaSpeedImages as number) > 0,
    "augment.adaSpeedImages",
    "must be > 0",
    a.adaSpeedImages,
  );
  const p = c.progressive as Record<string, unknown>;
  need(isObj(p), "progressive", "must be an object", p);
  need(
    pow2(p.startRes) && (p.startRes as number) >= 8 && (p.startRes as number) <= (c.resolution as number),
    "progressive.startRes",
    `must be a power of two in [8, resolution ${c.resolution}]`,
    p.startRes,
  );
  for (const k of ["fadeImages", "stableImages"]) {
    need(num(p[k]) && (p[k] as number) >= 0, `progressive.${k}`, "must be a number >= 0", p[k]);
  }
  need(posInt(c.images), "images", "must be a positive integer", c.images);
  for (const f of ["logEvery", "checkpointEvery", "keepCheckpoints", "sampleColumns", "sampleRows"]) {
    need(posInt(c[f]), f, "must be a positive integer", c[f]);
  }
  need(
    Number.isInteger(c.sampleEvery) && (c.sampleEvery as number) >= 0,
    "sampleEvery",
    "must be an integer >= 0",
    c.sampleEvery,
  );
  need(c.kernels === "auto" || c.kernels === "naive", "kernels", 'must be "auto" or "naive"', c.kernels);
  need(
    Number.isInteger(c.seed) && (c.seed as number) >= 0 && (c.seed as number) < 2 ** 32,
    "seed",
    "must be an integer in [0, 2^32)",
    c.seed,
  );
  return c as unknown as GanConfig;
}

/**
 * The configuration at another batch size, for `batchSize: "auto"` (see `chooseAutoBatch` in
 * src/train/gan.ts). The learning rates follow the square-root rule, lr x sqrt(batch / preset batch)
 * (Krizhevsky 2014, Hoffer et al. 2017): the gradient noise of a k times larger batch has 1/sqrt(k) the
 * standard deviation, so its steps may be sqrt(k) longer at the same noise, and unlike the linear rule it
 * stays within Adam's stable range when the batch grows by 16-64x. The EMA decay per step becomes
 * decay^(batch / preset batch), which keeps its half-life in images. Everything else (schedule in images,
 * logEvery in steps) is kept; mbstdGroup must still divide the batch.
 */
export function scaleGanBatch(cfg: GanConfig, batch: number): GanConfig {
  if (!Number.isInteger(batch) || batch < 1 || (cfg.mbstdGroup > 0 && batch % cfg.mbstdGroup !== 0)) {
    throw new Error(
      `config: batch ${batch} must be a positive integer divisible by mbstdGroup ${cfg.mbstdGroup}`,
    );
  }
  const k = batch / cfg.batchSize;
  return {
    ...structuredClone(cfg),
    batchSize: batch,
    lrG: cfg.lrG * Math.sqrt(k),
    lrD: cfg.lrD * Math.sqrt(k),
    emaDecay: cfg.emaDecay ** k,
  };
}
