/**
 * The study's three sweeps (resolution, number of label combinations, training images per combination) as
 * typed experiment configs, and their expansion into cells. A cell is one ordinary run (GAN training, then
 * evaluation) with one value of the swept parameter and one seed. Library code: no Deno APIs, so a
 * browser page can show a sweep's plan too.
 * @module
 */
import type { SubsetOptions } from "../data/subset.ts";
import { PRESETS } from "../models/config.ts";

/** The study's sweeps, and the learning curve (GAN images shown). */
export type SweepName = "resolution" | "label_combinations" | "samples_per_combination" | "learning_curve";
/** Names of the built-in sweeps, in the study's order, then the learning curve. */
export const SWEEP_NAMES: readonly SweepName[] = [
  "resolution",
  "label_combinations",
  "samples_per_combination",
  "learning_curve",
];

/**
 * Sizes of a sweep: `smoke` (tiny, the whole sweep in 1-2 minutes on a CPU; tests and CI), `cpu` (the
 * phantom at 32 px, GAN `tiny`, about 45-60 minutes per sweep on an idle 2-core machine), `paper` (the
 * study's grids and model sizes, for real GPUs and real data).
 */
export type ExperimentPreset = "smoke" | "cpu" | "paper";
/** Names of the presets. */
export const EXPERIMENT_PRESETS: readonly ExperimentPreset[] = ["smoke", "cpu", "paper"];

/** Which of the study's datasets the grids follow: head CT (RSNA, the phantom) or chest radiographs. */
export type DatasetKind = "brain" | "chest";

/**
 * The parameter a sweep varies. `ganImages`: the GAN's training length in images shown; a cell continues
 * from the checkpoint of the same seed's next shorter cell (a run's trajectory does not depend on its
 * length: no schedule looks at `images`), so the whole curve costs one run of the longest budget.
 */
export type SweepAxis = "resolution" | "topK" | "perCombo" | "ganImages";

/** How the GAN of every cell is trained. */
export interface GanSettings {
  /**
   * A preset of src/models/config.ts (`tiny`, `paper32`, ...); `{res}` is replaced by the cell's
   * resolution (e.g. `paper{res}`).
   */
  preset: string;
  /**
   * Overrides of the preset's fields (any GanConfig field), the same in every cell. The cell's resolution
   * and seed are set on top; when the preset was made for another resolution and no channels are given,
   * its channel lists are cut or extended (last value repeated) to the cell's number of resolutions.
   */
  overrides: Record<string, unknown>;
  /** Training length in real images shown to D (null: the preset's `images`). */
  images: number | null;
  /** Time limit of the GAN training in minutes (null: none; the run ends at `images`). */
  minutes: number | null;
}

/** How the two classifiers (trained on real, trained on synthetic) of every cell are trained. */
export interface ClassifierSettings {
  /** Classifier preset: `tiny` (CPU adapters) or `paper` (DenseNet-121). */
  preset: "tiny" | "paper";
  /** Time limit of each classifier training in minutes (null: none). */
  minutes: number | null;
  /** At most this many epochs per classifier (null: evaluate's default, 30, with early stopping). */
  epochs: number | null;
  /**
   * At most this many training images per classifier (null or absent: no limit). Unlike `minutes`, it
   * does not depend on the machine's load, so cells run side by side or on a busy machine stay comparable.
   */
  images?: number | null;
  /** Batch size (null: the default, 32). */
  batch: number | null;
  /** Bootstrap resamples of the AUROC gap's interval. */
  resamples: number;
}

/** A sweep: which parameter varies over which values, and everything that stays fixed. */
export interface ExperimentConfig {
  /** Sweep name (one of {@linkcode SWEEP_NAMES}, or a custom name from a JSON config). */
  name: string;
  /** One line saying what the sweep measures. */
  title: string;
  /** The preset the config was made from ("custom" for a JSON config). */
  preset: ExperimentPreset | "custom";
  /** Which study grids apply: brain (head CT, the phantom; default) or chest (a chest radiograph CSV). */
  dataset: DatasetKind;
  /**
   * Data of every cell, as `deno task train --data` takes it: `phantom`, `phantom:COUNT` (a phantom of
   * COUNT slices) or a label CSV / dataset folder path.
   */
  data: string;
  /** Seeds; every value of the grid runs once per seed (seed of GAN, split, subset draw and classifiers). */
  seeds: number[];
  /** The parameter the sweep varies. */
  axis: SweepAxis;
  /** Its values, in the order the cells run (largest first for the study's grids). */
  values: number[];
  /** Image size in pixels when the axis is not `resolution` (the study: 32). */
  resolution: number;
  /**
   * Subset settings of every cell (src/data/subset.ts): `minCount` drops rarer combinations, `topK` keeps
   * the k most frequent, `perCombo` training images per combination. The swept one is set per cell.
   */
  subset: { topK?: number; perCombo?: number; minCount?: number };
  /** GAN training. */
  gan: GanSettings;
  /** Classifier training and the evaluation's bootstrap. */
  classifier: ClassifierSettings;
}

/** One cell of a sweep: a single run folder's settings. */
export interface Cell {
  /** 0-based position in the sweep (the array-job index). */
  index: number;
  /** Short name, e.g. `res64_s1`, `k6_s1`, `n200_s1`; the folder is `cells/<index>_<slug>`. */
  slug: string;
  /** The swept parameter. */
  axis: SweepAxis;
  /** Its value in this cell. */
  value: number;
  /** Seed of the run. */
  seed: number;
  /** Image size in pixels. */
  resolution: number;
  /** Subset of the data (with its draw seed), or null for all the data. */
  subset: SubsetOptions | null;
  /** Data argument of `deno task train --data`. */
  data: string;
  /** The JSON given to `deno task train --config` (a preset plus overrides). */
  ganConfig: Record<string, unknown>;
  /** GAN time limit in minutes (null: none). */
  ganMinutes: number | null;
  /** Classifier settings. */
  classifier: ClassifierSettings;
}

/** Number of resolutions 4, 8, ..., res. */
function levels(res: number): number {
  return Math.round(Math.log2(res)) - 1;
}

/** A channel list made for another resolution, cut or extended (last value repeated) to `res`. */
export function fitChannels(channels: readonly number[], res: number): number[] {
  const n = levels(res);
  const out = channels.slice(0, n);
  while (out.length < n) out.push(out[out.length - 1]);
  return out;
}

function slugOf(axis: SweepAxis, value: number, seed: number): string {
  const p = axis === "resolution" ? "res" : axis === "topK" ? "k" : axis === "ganImages" ? "g" : "n";
  return `${p}${value}_s${seed}`;
}

/** The cells of a sweep: values outer, seeds inner, indices 0..n-1 in that order. */
export function expandCells(cfg: ExperimentConfig): Cell[] {
  validateExperimentConfig(cfg);
  const cells: Cell[] = [];
  for (const value of cfg.values) {
    for (const seed of cfg.seeds) {
      const resolution = cfg.axis === "resolution" ? value : cfg.resolution;
      const s: SubsetOptions = { ...cfg.subset };
      if (cfg.axis === "topK") s.topK = value;
      if (cfg.axis === "perCombo") s.perCombo = value;
      const subset = Object.keys(s).length ? { ...s, seed } : null;
      const preset = cfg.gan.preset.replaceAll("{res}", String(resolution));
      const base = PRESETS[preset];
      if (!base) {
        throw new Error(
          `experiment ${cfg.name}: gan.preset "${preset}" is not a GAN preset (${
            Object.keys(PRESETS).join(", ")
          })`,
        );
      }
      const ganConfig: Record<string, unknown> = { preset, ...structuredClone(cfg.gan.overrides) };
      ganConfig.resolution = resolution;
      ganConfig.seed = seed;
      if (cfg.gan.images !== null) ganConfig.images = cfg.gan.images;
      if (cfg.axis === "ganImages") ganConfig.images = value;
      for (const k of ["gChannels", "dChannels"] as const) {
        if (ganConfig[k] === undefined && base.resolution !== resolution) {
          ganConfig[k] = fitChannels(base[k], resolution);
        } else if (Array.isArray(ganConfig[k]) && (ganConfig[k] as number[]).length !== levels(resolution)) {
          ganConfig[k] = fitChannels(ganConfig[k] as number[], resolution);
        }
      }
      cells.push({
        index: cells.length,
        slug: slugOf(cfg.axis, value, seed),
        axis: cfg.axis,
        value,
        seed,
        resolution,
        subset,
        data: cfg.data,
        ganConfig,
        ganMinutes: cfg.gan.minutes,
        classifier: { ...cfg.classifier },
      });
    }
  }
  return cells;
}

/** Checks a config's fields; the error names the field. Returns the config. */
export function validateExperimentConfig(cfg: ExperimentConfig): ExperimentConfig {
  const where = `experiment ${JSON.stringify(cfg?.name)}`;
  const posInt = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 1;
  const fail = (field: string, what: string): never => {
    throw new Error(`${where}: ${field} ${what}`);
  };
  if (typeof cfg !== "object" || cfg === null) throw new Error("experiment config must be an object");
  if (typeof cfg.name !== "string" || !/^[a-z0-9_-]+$/i.test(cfg.name)) {
    fail("name", "must be [A-Za-z0-9_-]+");
  }
  if (!["resolution", "topK", "perCombo", "ganImages"].includes(cfg.axis)) {
    fail("axis", `must be resolution, topK, perCombo or ganImages, got ${JSON.stringify(cfg.axis)}`);
  }
  if (!Array.isArray(cfg.values) || cfg.values.length === 0 || !cfg.values.every(posInt)) {
    fail("values", "must be a non-empty list of positive integers");
  }
  if (new Set(cfg.values).size !== cfg.values.length) fail("values", "has duplicates");
  if (!Array.isArray(cfg.seeds) || cfg.seeds.length === 0) fail("seeds", "must be a non-empty list");
  if (!cfg.seeds.every((s) => Number.isInteger(s) && s >= 0)) fail("seeds", "must be integers >= 0");
  const resolutions = cfg.axis === "resolution" ? cfg.values : [cfg.resolution];
  for (const r of resolutions) {
    if (![16, 32, 64, 128, 256].includes(r)) fail("resolution", `must be 16, 32, 64, 128 or 256, got ${r}`);
  }
  for (const k of ["topK", "perCombo", "minCount"] as const) {
    if (cfg.subset?.[k] !== undefined && !posInt(cfg.subset[k])) {
      fail(`subset.${k}`, "must be an integer >= 1");
    }
  }
  if (typeof cfg.data !== "string" || !cfg.data) fail("data", "must be phantom, phantom:COUNT or a path");
  if (typeof cfg.gan?.preset !== "string") fail("gan.preset", "must be a GAN preset name");
  if (cfg.gan.images !== null && !posInt(cfg.gan.images)) {
    fail("gan.images", "must be null or an integer >= 1");
  }
  if (cfg.gan.minutes !== null && !(cfg.gan.minutes > 0)) fail("gan.minutes", "must be null or > 0");
  const c = cfg.classifier;
  if (c?.preset !== "tiny" && c?.preset !== "paper") fail("classifier.preset", "must be tiny or paper");
  if (c.minutes !== null && !(c.minutes > 0)) fail("classifier.minutes", "must be null or > 0");
  if (c.epochs !== null && !posInt(c.epochs)) fail("classifier.epochs", "must be null or an integer >= 1");
  if (c.images != null && !posInt(c.images)) fail("classifier.images", "must be null or an integer >= 1");
  if (c.batch !== null && !posInt(c.batch)) fail("classifier.batch", "must be null or an integer >= 1");
  if (!posInt(c.resamples)) fail("classifier.resamples", "must be an integer >= 1");
  return cfg;
}
