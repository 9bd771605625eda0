/**
 * The whole evaluation of a synthetic dataset, as the reference study did it plus fidelity and privacy:
 *
 * 1. utility: the classifier trained on real and on synthetic training data, both tested on the real
 *    test set (per-label AUROC, mean, gap with a patient bootstrap interval; `evaluateUtility`);
 * 2. features: the real-trained classifier's pooled features of the real and synthetic images;
 * 3. fidelity: Fréchet distance, KID, PRDC of the synthetic test-split images (same label distribution as
 *    the real test set) against the real test images, in that feature space;
 * 4. privacy: nearest real training image of every synthetic training-split image, in feature and pixel
 *    space, calibrated by the real validation + test images (which the generator never saw);
 * 5. report material: ROC curves, image strips per label, the nearest-neighbour gallery, data statistics.
 *
 * Returns a {@linkcode Results} document (plain JSON) for results.json and the HTML report.
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import type { Dataset } from "../data/dataset.ts";
import type { DataCard } from "../data/export.ts";
import { datasetStats } from "../data/subset.ts";
import type { Matrix } from "../metrics/_linalg.ts";
import { rocCurve } from "../metrics/auroc.ts";
import type { StudyAnalysis } from "../reader/analysis.ts";
import type { ClassifierEpoch, ClassifierTrainConfig, TrainedClassifier } from "../train/classifier.ts";
import { evaluateUtility, extractFeatures, type UtilityArm } from "../train/utility.ts";
import { computeFidelity, type FidelityOptions } from "./fidelity.ts";
import { computePrivacy, pairDistance, pixelVectors, type PrivacyOptions } from "./privacy.ts";
import { buildGallery, buildGrids } from "../report/images.ts";
import {
  type ArmSummary,
  curveForReport,
  finiteOrNull,
  type InceptionFid,
  type LabelFidelityPoint,
  type Results,
  RESULTS_SCHEMA,
  RESULTS_VERSION,
  type TrainingCurves,
  type TrainingRow,
} from "../report/results.ts";

/** Inputs of {@linkcode evaluate}. */
export interface EvaluateInput {
  /** Real splits (by patient); the generator was trained on `train` only. */
  real: { train: Dataset; valid: Dataset; test: Dataset };
  /**
   * Synthetic sets, one image per real label vector of each split: `train` and `valid` train and stop the
   * synthetic-data classifier; `test` (optional, else `train`) is compared with the real test set for
   * fidelity and shown in the grids.
   */
  synthetic: { train: Dataset; valid: Dataset; test?: Dataset | null };
  /** Classifier settings shared by both arms. */
  classifier?: Partial<ClassifierTrainConfig>;
  /** Seed of trainings, bootstrap and metric subsets (default 0). */
  seed?: number;
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** Confidence of the gap's interval (default 0.95). */
  confidence?: number;
  /** Fidelity options. */
  fidelity?: FidelityOptions;
  /** Privacy options. */
  privacy?: PrivacyOptions;
  /** Images per strip in the grids (default 8). */
  gridColumns?: number;
  /** A real-data classifier trained before on the same data and settings (reused, not retrained). */
  reference?: TrainedClassifier;
  /** Classifier trainings per arm (seeds seed, seed + 1, ...; default 1): see evaluateUtility. */
  repeats?: number;
  /** With repeats: real-data classifiers trained before for seed + k (index k). */
  references?: (TrainedClassifier | undefined)[];
  /** Context recorded in the results. */
  meta?: EvaluateMeta;
  /** Progress: stage names, and each classifier epoch. */
  onProgress?: (stage: string, epoch?: { arm: "trtr" | "tstr"; epoch: ClassifierEpoch }) => void;
}

/** Context of an evaluation (all optional). */
export interface EvaluateMeta {
  /** Report title. */
  title?: string;
  /** Run name and folder. */
  run?: { name: string; dir: string | null };
  /** The GAN config (config.json). */
  gan?: Record<string, unknown> | null;
  /** The data spec (data.json). */
  data?: Record<string, unknown> | null;
  /** Where the real data came from (default: the dataset format). */
  source?: string;
  /** Where the synthetic data came from. */
  syntheticSource?: string;
  /** The GAN's training curves (see {@linkcode parseMetricsJsonl}). */
  training?: TrainingCurves;
  /** The synthetic export's data card. */
  dataCard?: DataCard | null;
  /** Reader-study analysis. */
  readerStudy?: StudyAnalysis | null;
  /** Inception FID computed elsewhere. */
  inceptionFid?: InceptionFid | null;
  /** Remarks shown in the report. */
  notes?: string[];
  /** Times measured by the caller (seconds). */
  timings?: { generate?: number | null; load?: number | null };
}

/**
 * Parses metrics.jsonl text into training curves: loss lines to `rows`, lines with an `event` to `events`.
 * Unparseable lines (a line cut by a crash) are skipped and counted.
 *
 * @example
 * ```ts
 * import { parseMetricsJsonl } from "./evaluate.ts";
 * const c = parseMetricsJsonl('{"step":1,"dLoss":0.5}\n{"event":"done","time":9}\n{"step":2,');
 * if (c.curves.rows.length !== 1 || c.curves.events.length !== 1 || c.skipped !== 1) throw new Error("parse");
 * ```
 */
export function parseMetricsJsonl(text: string): { curves: TrainingCurves; skipped: number } {
  const rows: TrainingRow[] = [], events: TrainingRow[] = [], labelFidelity: LabelFidelityPoint[] = [];
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      skipped++;
      continue;
    }
    const o = v as Record<string, unknown>;
    if (o.event === "labelFidelity") {
      const point = labelFidelityPoint(o);
      if (point) labelFidelity.push(point);
      else skipped++;
      continue;
    }
    const row: TrainingRow = {};
    const keys = [
      "step",
      "imagesSeen",
      "dLoss",
      "dAux",
      "gLoss",
      "gAux",
      "dReal",
      "dFake",
      "augP",
      "time",
      "imagesPerSec",
    ] as const;
    for (const k of keys) if (typeof o[k] === "number" && Number.isFinite(o[k])) row[k] = o[k] as number;
    if (typeof o.event === "string") events.push({ ...row, event: o.event });
    else rows.push(row);
  }
  return { curves: { rows, events, ...(labelFidelity.length ? { labelFidelity } : {}) }, skipped };
}

/** A labelFidelity line of metrics.jsonl as a point, or null when a field is missing or malformed. */
function labelFidelityPoint(o: Record<string, unknown>): LabelFidelityPoint | null {
  const auc = (v: unknown) => v === null || (typeof v === "number" && Number.isFinite(v));
  const list = (v: unknown): v is (number | null)[] => Array.isArray(v) && v.every(auc);
  const { imagesSeen, perLabel, mean, realPerLabel, realMean } = o;
  if (typeof imagesSeen !== "number" || !list(perLabel) || !list(realPerLabel)) return null;
  if (typeof mean !== "number" || typeof realMean !== "number") return null;
  return { imagesSeen, perLabel, mean, realPerLabel, realMean };
}

/**
 * GAN training seconds from the curves: `time` restarts at 0 when a run resumes, so the segments' last
 * times are summed; the final "done" event's time closes the last segment.
 */
export function ganTrainingSeconds(c: TrainingCurves): number | null {
  let total = 0, last = 0, any = false;
  for (const r of c.rows) {
    if (r.time === undefined) continue;
    any = true;
    if (r.time < last) total += last; // a resumed segment starts again at 0
    last = r.time;
  }
  const done = c.events.filter((e) => e.event === "done" && e.time !== undefined).pop();
  if (done) {
    any = true;
    last = Math.max(last, done.time!);
  }
  return any ? total + last : null;
}

function armSummary(a: UtilityArm): ArmSummary {
  return {
    mean: finiteOrNull(a.mean),
    bestEpoch: a.bestEpoch,
    bestValidMean: finiteOrNull(a.bestValidMean),
    epochs: a.history.map((e) => ({
      epoch: e.epoch,
      steps: e.steps,
      loss: e.loss,
      validMean: finiteOrNull(e.validMean),
      lr: e.lr,
      best: e.best,
      seconds: e.seconds,
    })),
    ...(a.repeats
      ? {
        repeats: a.repeats.map((r) => ({ seed: r.seed, mean: finiteOrNull(r.mean), perLabel: r.perLabel })),
      }
      : {}),
  };
}

/** Rows of `a` then `b` (same shape) as one dataset. */
function concat(a: Dataset, b: Dataset): Dataset {
  const images = new Float32Array(a.images.length + b.images.length);
  images.set(a.images);
  images.set(b.images, a.images.length);
  const labels = new Uint8Array(a.labels.length + b.labels.length);
  labels.set(a.labels);
  labels.set(b.labels, a.labels.length);
  return {
    ...a,
    images,
    labels,
    n: a.n + b.n,
    patientIds: [...a.patientIds, ...b.patientIds],
    sources: [...a.sources, ...b.sources],
  };
}

function sameShape(a: Dataset, b: Dataset, what: string): void {
  if (a.channels !== b.channels || a.height !== b.height || a.width !== b.width) {
    throw new Error(
      `evaluate: ${what} images are (${b.channels}, ${b.height}, ${b.width}) but the real ones ` +
        `(${a.channels}, ${a.height}, ${a.width}); load both at the same size and channels`,
    );
  }
}

/** Runs the evaluation (see the module notes) and returns the results document. */
export async function evaluate(gpu: Gpu, input: EvaluateInput): Promise<Results> {
  const start = performance.now();
  const { real, synthetic } = input;
  const synthTest = synthetic.test ?? null;
  for (
    const [d, what] of [[synthetic.train, "synthetic train"], [synthetic.valid, "synthetic valid"]] as const
  ) {
    sameShape(real.train, d, what);
  }
  if (synthTest) sameShape(real.train, synthTest, "synthetic test");
  const seed = input.seed ?? 0;
  const progress = input.onProgress ?? (() => {});
  const meta = input.meta ?? {};
  const labelNames = [...real.train.labelNames];
  const L = labelNames.length;

  progress("utility");
  const u = await evaluateUtility(gpu, {
    realTrain: real.train,
    realValid: real.valid,
    realTest: real.test,
    synthTrain: synthetic.train,
    synthValid: synthetic.valid,
    config: input.classifier,
    seed,
    resamples: input.resamples,
    confidence: input.confidence,
    reference: input.reference,
    repeats: input.repeats,
    references: input.references,
    onProgress: (arm, epoch) => progress("epoch", { arm, epoch }),
  });

  progress("features");
  let t = performance.now();
  const bs = input.classifier?.evalBatchSize;
  const feats = (d: Dataset) => extractFeatures(u.realModel, d.images, d.n, bs);
  const fTest = await feats(real.test);
  const fTrain = await feats(real.train);
  const holdout = concat(real.valid, real.test);
  const fHoldout = await feats(holdout);
  const fSynTrain = await feats(synthetic.train);
  const fSynCompare = synthTest ? await feats(synthTest) : fSynTrain;
  const featureSeconds = (performance.now() - t) / 1000;

  progress("fidelity");
  t = performance.now();
  const fidelity = computeFidelity(fTest, fSynCompare, {
    seed,
    featureSpace:
      "what the classifier trained on real images computes just before its decision (global average pool)",
    ...input.fidelity,
  });
  const fidelitySeconds = (performance.now() - t) / 1000;

  progress("privacy");
  t = performance.now();
  const privacy = computePrivacy({
    synthetic: { features: fSynTrain, pixels: synthetic.train },
    train: { features: fTrain, pixels: real.train },
    holdout: { features: fHoldout, pixels: holdout },
  }, { seed, ...input.privacy });
  const privacySeconds = (performance.now() - t) / 1000;

  progress("report");
  const pxSyn = pixelVectors(synthetic.train), pxTrain = pixelVectors(real.train);
  const gallery = buildGallery(
    privacy,
    synthetic.train,
    real.train,
    labelNames,
    (space, i, j) =>
      space === "features"
        ? finiteOrNull(pairDistance(pxSyn, i, pxTrain, j, "euclidean"))
        : finiteOrNull(pairDistance(fSynTrain as Matrix, i, fTrain as Matrix, j, privacy.features.metric)),
  );
  const grids = buildGrids(real.test, synthTest ?? synthetic.train, labelNames, input.gridColumns ?? 8);

  const n = real.test.n;
  const y = new Float64Array(n);
  const col = (s: Float32Array, j: number) => Float64Array.from({ length: n }, (_, i) => s[i * L + j]);
  const perLabel = labelNames.map((label, j) => {
    let pos = 0;
    for (let i = 0; i < n; i++) pos += real.test.labels[i * L + j];
    return {
      label,
      trtr: u.trtr.perLabel[j],
      tstr: u.tstr.perLabel[j],
      testPositives: pos,
      testNegatives: n - pos,
    };
  });
  const roc = labelNames.map((label, j) => {
    for (let i = 0; i < n; i++) y[i] = real.test.labels[i * L + j];
    const curve = (scores: Float32Array, auc: number | null) =>
      auc === null ? null : curveForReport(rocCurve(col(scores, j), y), auc);
    return {
      label,
      trtr: curve(u.trtr.scores, u.trtr.perLabel[j]),
      tstr: curve(u.tstr.scores, u.tstr.perLabel[j]),
    };
  });

  const training = meta.training ?? { rows: [], events: [] };
  const notes = [...(meta.notes ?? [])];
  if (perLabel.some((l) => l.trtr === null)) {
    notes.push(
      `Labels without positives (or negatives) in the real test set have no AUROC and are left out of the ` +
        `means: ${perLabel.filter((l) => l.trtr === null).map((l) => l.label).join(", ")}.`,
    );
  }
  const repeats = input.repeats ?? 1;
  if (repeats > 1) {
    notes.push(
      `Each arm was trained ${repeats} times (classifier seeds ${seed} to ${
        seed + repeats - 1
      }): AUROCs and the ` +
        `gap with its interval are means over the trainings; ROC curves, training curves, fidelity and privacy ` +
        `use the first.`,
    );
  }
  if (privacy.features.metric === "euclidean") {
    notes.push(
      "Some feature vectors were all zero, so feature-space privacy used Euclidean instead of cosine distance.",
    );
  }
  const classifierSettings: Record<string, unknown> = { ...(input.classifier ?? {}) };
  classifierSettings.architecture = u.reference.config;
  return {
    schema: RESULTS_SCHEMA,
    version: RESULTS_VERSION,
    title: meta.title ?? "medsynth evaluation",
    createdAt: new Date().toISOString(),
    run: meta.run ?? { name: "(in memory)", dir: null },
    config: {
      gan: meta.gan ?? null,
      data: meta.data ?? null,
      evaluation: {
        seed,
        ...(repeats > 1 ? { repeats } : {}),
        resamples: u.gap.resamples,
        confidence: u.gap.confidence,
        classifier: classifierSettings,
        syntheticSource: meta.syntheticSource ?? "given in memory",
        privacySplits: { train: "real train", holdout: "real valid + real test" },
        fidelitySets: { real: "real test", synthetic: synthTest ? "synthetic test" : "synthetic train" },
      },
    },
    adapter: gpu.adapter,
    dataset: {
      source: meta.source ?? real.train.format,
      format: real.train.format,
      channels: real.train.channels,
      height: real.train.height,
      width: real.train.width,
      labelNames,
      real: {
        train: datasetStats(real.train),
        valid: datasetStats(real.valid),
        test: datasetStats(real.test),
      },
      synthetic: {
        train: datasetStats(synthetic.train),
        valid: datasetStats(synthetic.valid),
        test: synthTest ? datasetStats(synthTest) : null,
      },
    },
    utility: {
      perLabel,
      trtr: armSummary(u.trtr),
      tstr: armSummary(u.tstr),
      gap: {
        gap: finiteOrNull(u.gap.gap),
        lo: finiteOrNull(u.gap.lo),
        hi: finiteOrNull(u.gap.hi),
        confidence: u.gap.confidence,
        resamples: u.gap.resamples,
        skipped: u.gap.skipped,
      },
      testImages: n,
      testPatients: new Set(real.test.patientIds).size,
    },
    roc,
    fidelity,
    privacy,
    timings: {
      total: (performance.now() - start) / 1000 + (meta.timings?.load ?? 0) + (meta.timings?.generate ?? 0),
      generate: meta.timings?.generate ?? null,
      load: meta.timings?.load ?? null,
      trtrTrain: u.timings.trtrTrain,
      tstrTrain: u.timings.tstrTrain,
      predict: u.timings.predict,
      bootstrap: u.timings.bootstrap,
      features: featureSeconds,
      fidelity: fidelitySeconds,
      privacy: privacySeconds,
      ganTraining: ganTrainingSeconds(training),
    },
    training,
    grids,
    gallery,
    dataCard: meta.dataCard ?? null,
    readerStudy: meta.readerStudy ?? null,
    inceptionFid: meta.inceptionFid ?? null,
    notes,
  };
}
