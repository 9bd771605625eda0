/**
 * The `results.json` schema: everything an evaluation found, in one JSON document that the HTML report
 * is rendered from (and that sweeps merge). Plain JSON only: numbers that can be undefined (an AUROC on a
 * label without positives, a NaN) are `null`, images are PNG data URLs, typed arrays are number arrays.
 * @module
 */
import type { AdapterReport } from "../gpu/device.ts";
import type { LabelStats } from "../data/subset.ts";
import type { DataCard } from "../data/export.ts";
import type { StudyAnalysis } from "../reader/analysis.ts";
import type { FidelityResult } from "../eval/fidelity.ts";
import type { PrivacyResult } from "../eval/privacy.ts";

/** Schema name written into every results file. */
export const RESULTS_SCHEMA = "medsynth.results";
/** Schema version; bumped when a field changes meaning or is removed. */
export const RESULTS_VERSION = 1;

/** Settings of the evaluation itself (not of the GAN). */
export interface EvaluationSettings {
  /** Seed of the classifier trainings, the bootstrap and the metric subsets. */
  seed: number;
  /**
   * Classifier trainings per arm, seeds seed .. seed + repeats - 1, AUROCs and gap averaged (absent: 1).
   * Fidelity and privacy use the first real-trained classifier's features.
   */
  repeats?: number;
  /** Bootstrap resamples of the AUROC gap's interval. */
  resamples: number;
  /** Confidence level of that interval (e.g. 0.95). */
  confidence: number;
  /** The classifier training settings shared by both arms (preset, epochs, learning rate, ...). */
  classifier: Record<string, unknown>;
  /** Where the synthetic data came from (export folder, or "generated in memory"). */
  syntheticSource: string;
  /** Which real split the generator was trained on and which served as privacy holdout. */
  privacySplits: { train: string; holdout: string };
  /** Which real and synthetic sets fidelity compared. */
  fidelitySets: { real: string; synthetic: string };
}

/** Statistics of the data the evaluation used. */
export interface DatasetSummary {
  /** Where the real data came from ("phantom" or a path). */
  source: string;
  /** Input format (phantom, rsna, chestxray14, chexpert, plain). */
  format: string;
  /** Channels C of the images. */
  channels: number;
  /** Height H in pixels. */
  height: number;
  /** Width W in pixels. */
  width: number;
  /** The label names, in column order. */
  labelNames: string[];
  /** Real splits (by patient): label counts, combinations, patients. */
  real: { train: LabelStats; valid: LabelStats; test: LabelStats };
  /** Synthetic sets (one image per real label vector of the same split). */
  synthetic: { train: LabelStats; valid: LabelStats; test: LabelStats | null };
}

/** AUROC of one label on the real test set, for both arms. */
export interface LabelAuroc {
  /** Label name. */
  label: string;
  /** Train-real / test-real AUROC; null when undefined (no positives or no negatives in the test set). */
  trtr: number | null;
  /** Train-synthetic / test-real AUROC; null when undefined. */
  tstr: number | null;
  /** Positive test images of this label. */
  testPositives: number;
  /** Negative test images of this label. */
  testNegatives: number;
}

/** One epoch of a classifier's training (a plain-JSON copy of `ClassifierEpoch`). */
export interface ClassifierEpochRow {
  /** 1-based epoch. */
  epoch: number;
  /** Steps done so far. */
  steps: number;
  /** Mean training loss of the epoch. */
  loss: number;
  /** Mean validation AUROC over the defined labels (null when none is defined). */
  validMean: number | null;
  /** Learning rate of the epoch. */
  lr: number;
  /** Whether its weights were kept as the best so far. */
  best: boolean;
  /** Seconds since the start of that training. */
  seconds: number;
}

/** One arm (train on real, or train on synthetic) of the utility comparison. */
export interface ArmSummary {
  /** Mean test AUROC over the defined labels (null when none is defined). */
  mean: number | null;
  /** Epoch whose weights were kept (early stopping on the arm's own validation set). */
  bestEpoch: number;
  /** Mean validation AUROC of that epoch (null when undefined). */
  bestValidMean: number | null;
  /** Every epoch. */
  epochs: ClassifierEpochRow[];
  /** With several trainings (evaluation.repeats > 1): each one's seed and AUROCs; the fields above are the first's. */
  repeats?: { seed: number; mean: number | null; perLabel: (number | null)[] }[];
}

/** Utility: the same classifier trained on real vs synthetic data, both tested on real test images. */
export interface UtilitySummary {
  /** Per label, in label order. */
  perLabel: LabelAuroc[];
  /** Train real, test real. */
  trtr: ArmSummary;
  /** Train synthetic, test real. */
  tstr: ArmSummary;
  /**
   * Mean-AUROC gap TRTR − TSTR (positive: the synthetic-trained classifier is worse) and its
   * patient-level bootstrap percentile interval; null where undefined.
   */
  gap: {
    gap: number | null;
    lo: number | null;
    hi: number | null;
    confidence: number;
    resamples: number;
    /** Resamples dropped because no label had both classes. */
    skipped: number;
  };
  /** Real test images scored. */
  testImages: number;
  /** Distinct patients among them (the bootstrap's unit). */
  testPatients: number;
}

/** A ROC curve (thinned to a few hundred points for plotting; the AUROC is exact). */
export interface Curve {
  /** False positive rates, ascending. */
  fpr: number[];
  /** True positive rates. */
  tpr: number[];
  /** AUROC of the full curve. */
  auc: number;
}

/** ROC curves of one label, for both arms; null where the label is undefined on the test set. */
export interface LabelRoc {
  /** Label name. */
  label: string;
  /** Real-trained classifier. */
  trtr: Curve | null;
  /** Synthetic-trained classifier. */
  tstr: Curve | null;
}

/** One line of the GAN run's metrics.jsonl (loss readbacks; fields as `LossReport` + timing). */
export interface TrainingRow {
  /** Optimiser step. */
  step?: number;
  /** Real images shown so far. */
  imagesSeen?: number;
  /** Discriminator GAN loss. */
  dLoss?: number;
  /** Discriminator auxiliary label loss on real images. */
  dAux?: number;
  /** Generator GAN loss. */
  gLoss?: number;
  /** Generator auxiliary label loss. */
  gAux?: number;
  /** Mean discriminator logit on real images. */
  dReal?: number;
  /** Mean discriminator logit on generated images. */
  dFake?: number;
  /** Augmentation probability. */
  augP?: number;
  /** Seconds since the start of the (resumed) training. */
  time?: number;
  /** Throughput at this point. */
  imagesPerSec?: number;
  /** Set on event lines (resume, stopped, diverged, done). */
  event?: string;
}

/** One label-fidelity measurement of the GAN while it trained (src/eval/label_fidelity.ts). */
export interface LabelFidelityPoint {
  /** Real images shown when it was measured. */
  imagesSeen: number;
  /** Per label: the real-trained classifier's AUROC of "label requested" on generated images. */
  perLabel: (number | null)[];
  /** Mean over the defined labels. */
  mean: number;
  /** Per label: the same classifier's AUROC on real validation images (the ceiling). */
  realPerLabel: (number | null)[];
  /** Mean of realPerLabel. */
  realMean: number;
}

/** The GAN's training history. */
export interface TrainingCurves {
  /** Loss rows in order (event lines excluded). */
  rows: TrainingRow[];
  /** Event lines (resume, stopped, diverged, done) in order. */
  events: TrainingRow[];
  /** Label fidelity measurements in order (absent in runs made without them). */
  labelFidelity?: LabelFidelityPoint[];
}

/** Real and synthetic example strips of one label. */
export interface GridRow {
  /** Label name ("no positive label" for the empty combination when it has no column). */
  label: string;
  /** PNG data URL of up to `columns` real test images with this label, side by side; null if none. */
  real: string | null;
  /** PNG data URL of synthetic images generated with this label; null if none. */
  synthetic: string | null;
  /** Real images shown. */
  realCount: number;
  /** Synthetic images shown. */
  syntheticCount: number;
}

/** Image grids: real vs synthetic per label. */
export interface ImageGrids {
  /** Images per strip. */
  columns: number;
  /** Size of one image [height, width] in the strips. */
  imageSize: [number, number];
  /** Channels of the images (3: CT windows shown as RGB). */
  channels: number;
  /** One row per label. */
  rows: GridRow[];
}

/** One image of a gallery pair. */
export interface GalleryImage {
  /** Row in its set (synthetic train set, or real training split). */
  index: number;
  /** Its positive labels. */
  labels: string[];
  /** PNG data URL. */
  image: string;
}

/** A synthetic image next to its nearest real training image. */
export interface GalleryPair {
  /** Space the pair was found in. */
  space: "features" | "pixels";
  /** 1 = the closest pair in that space. */
  rank: number;
  /** Distance in that space. */
  distance: number;
  /** The same pair's distance in the other space (pixel RMS difference, or feature distance). */
  otherDistance: number | null;
  /** The synthetic image. */
  synthetic: GalleryImage;
  /** Its nearest real training image. */
  train: GalleryImage;
}

/** An Inception-v3 FID, when one was computed (outside this module; optional). */
export interface InceptionFid {
  /** The FID. */
  fid: number;
  /** Real images. */
  realCount: number;
  /** Synthetic images. */
  syntheticCount: number;
  /** Feature network and its weights (e.g. "pt_inception-2015-12-05, pool3 2048"). */
  model: string;
  /** How images reached 299 x 299 RGB (filter, grey-to-RGB, value range): FIDs shift with it. */
  resize: string;
}

/** Wall-clock seconds of the evaluation's parts (null: not done in this evaluation). */
export interface Timings {
  /** The whole evaluation. */
  total: number;
  /** Generating the synthetic set (null when an export was read). */
  generate: number | null;
  /** Loading the real and synthetic data. */
  load: number | null;
  /** Training the real-data classifier (0 when reused). */
  trtrTrain: number;
  /** Training the synthetic-data classifier. */
  tstrTrain: number;
  /** Predicting the real test set with both. */
  predict: number;
  /** The bootstrap of the gap. */
  bootstrap: number;
  /** Feature extraction for fidelity and privacy. */
  features: number;
  /** Fidelity metrics. */
  fidelity: number;
  /** Privacy metrics. */
  privacy: number;
  /** GAN training time from metrics.jsonl (null when unknown). */
  ganTraining: number | null;
}

/** Everything an evaluation found: the content of results.json. */
export interface Results {
  /** Always {@linkcode RESULTS_SCHEMA}. */
  schema: typeof RESULTS_SCHEMA;
  /** Schema version, {@linkcode RESULTS_VERSION}. */
  version: number;
  /** Report title. */
  title: string;
  /** ISO time of the evaluation. */
  createdAt: string;
  /** The run evaluated: its name and folder (null outside a run folder). */
  run: { name: string; dir: string | null };
  /** Configurations: the GAN's (config.json), the data spec (data.json) and the evaluation's. */
  config: {
    gan: Record<string, unknown> | null;
    data: Record<string, unknown> | null;
    evaluation: EvaluationSettings;
  };
  /** The WebGPU adapter the evaluation ran on (null if unknown). */
  adapter: AdapterReport | null;
  /** Dataset statistics. */
  dataset: DatasetSummary;
  /** Per-label and mean AUROC of both arms, gap with its interval. */
  utility: UtilitySummary;
  /** ROC curves per label, real-trained vs synthetic-trained. */
  roc: LabelRoc[];
  /** Fréchet distance, KID, PRDC in the real-trained classifier's feature space (null if not computed). */
  fidelity: FidelityResult | null;
  /** Nearest-neighbour privacy metrics in feature and pixel space (null if not computed). */
  privacy: PrivacyResult | null;
  /** Timings. */
  timings: Timings;
  /** The GAN's training curves (metrics.jsonl). */
  training: TrainingCurves;
  /** Real vs synthetic example images per label (null if not rendered). */
  grids: ImageGrids | null;
  /** Closest synthetic / real-training pairs, for a visual memorisation check. */
  gallery: GalleryPair[];
  /** The synthetic export's data card (null if none). */
  dataCard: DataCard | null;
  /** Reader-study analysis (src/reader/analysis.ts), when a study was run. */
  readerStudy: StudyAnalysis | null;
  /** Inception FID with its resize policy, when computed elsewhere. */
  inceptionFid: InceptionFid | null;
  /** Free-text remarks (warnings, caveats) shown in the report. */
  notes: string[];
  /**
   * True for the shareable form ({@linkcode shareableResults}): no real pixels, no local paths. Absent or
   * false: the full form, which shows real images.
   */
  shareable?: boolean;
}

/**
 * The form of a results document that may leave the hospital: every real image (the real strips of the
 * image grids, the nearest-real-neighbour gallery) and every local path (run folder, data source, synthetic
 * export folder, data spec) removed; the metrics, synthetic images and privacy figures stay.
 */
export function shareableResults(r: Results): Results {
  const local = (v: string) => (v === "phantom" ? v : "(local data, not shared)");
  const data = r.config.data ? { ...r.config.data } : null;
  if (data && typeof data.source === "string") data.source = local(data.source);
  return {
    ...structuredClone(r),
    run: { name: r.run.name, dir: null },
    config: {
      ...structuredClone(r.config),
      data,
      evaluation: { ...structuredClone(r.config.evaluation), syntheticSource: "the run's synthetic export" },
    },
    dataset: { ...structuredClone(r.dataset), source: local(r.dataset.source) },
    grids: r.grids
      ? { ...r.grids, rows: r.grids.rows.map((g) => ({ ...g, real: null, realCount: 0 })) }
      : null,
    gallery: [],
    dataCard: r.dataCard ? shareableCard(r.dataCard) : null,
    notes: [
      ...r.notes,
      "Shareable form: real images (the real example strips and the nearest-neighbour gallery) and local " +
      "paths are left out; the privacy figures are computed on them all the same.",
    ],
    shareable: true,
  };
}

/** A data card without local paths: exports from before held the checkpoint's full path. */
function shareableCard(card: DataCard): DataCard {
  const c = structuredClone(card);
  const ck = c.generator?.checkpoint;
  if (typeof ck === "string") c.generator.checkpoint = ck.split(/[\\/]/).pop() ?? "";
  return c;
}

/** A finite number, or null (NaN / infinities / undefined become null). */
export function finiteOrNull(v: number | null | undefined): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/**
 * Checks that parsed JSON is a results document of this version and returns it typed; the error names
 * the source and the missing field.
 */
export function parseResults(value: unknown, source = "results.json"): Results {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(
      `${source}: not a results object (got ${Array.isArray(value) ? "an array" : typeof value})`,
    );
  }
  const r = value as Record<string, unknown>;
  if (r.schema !== RESULTS_SCHEMA) {
    throw new Error(`${source}: schema is ${JSON.stringify(r.schema)}, expected "${RESULTS_SCHEMA}"`);
  }
  if (r.version !== RESULTS_VERSION) {
    throw new Error(
      `${source}: version ${r.version} but this medsynth reads version ${RESULTS_VERSION}; rerun the evaluation`,
    );
  }
  const required = [
    "title",
    "createdAt",
    "run",
    "config",
    "dataset",
    "utility",
    "roc",
    "timings",
    "training",
  ];
  for (const k of required) {
    if (!(k in r) || r[k] === undefined) throw new Error(`${source}: field "${k}" is missing`);
  }
  const u = r.utility as Record<string, unknown>;
  if (!Array.isArray(u.perLabel)) throw new Error(`${source}: utility.perLabel must be an array`);
  return value as Results;
}

/**
 * A ROC curve for the report: at most `maxPoints` points (evenly spaced along the curve, ends kept) as
 * plain arrays, with the exact AUROC attached.
 */
export function curveForReport(
  roc: { fpr: ArrayLike<number>; tpr: ArrayLike<number> },
  auc: number,
  maxPoints = 200,
): Curve {
  const n = roc.fpr.length;
  const idx: number[] = [];
  if (n <= maxPoints) { for (let i = 0; i < n; i++) idx.push(i); }
  else {
    for (let k = 0; k < maxPoints; k++) idx.push(Math.round((k * (n - 1)) / (maxPoints - 1)));
  }
  const r = (v: number) => Math.round(v * 1e5) / 1e5; // 5 decimals: plenty for a plot, small JSON
  return { fpr: idx.map((i) => r(roc.fpr[i])), tpr: idx.map((i) => r(roc.tpr[i])), auc };
}
