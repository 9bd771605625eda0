/**
 * Utility of synthetic data, as the reference study measured it: train the same classifier once on real
 * data (TRTR: train real, test real) and once on synthetic data (TSTR: train synthetic, test real), with the
 * same protocol and seed, and compare their AUROC on the same real test set, per label and as a mean, with
 * a patient-level bootstrap confidence interval of the gap.
 *
 * Both runs use the same seed, so the only difference between them is the training data: with synthetic
 * data identical to the real data the two classifiers, and so their scores, are identical (gap 0).
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { Dataset } from "../data/dataset.ts";
import type { Matrix } from "../metrics/_linalg.ts";
import { type AurocGap, bootstrapAurocGap } from "../metrics/bootstrap.ts";
import type { Classifier } from "../models/classifier.ts";
import {
  checkDatasetFits,
  type ClassifierEpoch,
  type ClassifierTrainConfig,
  predictProbabilities,
  scoreAuroc,
  trainClassifier,
  type TrainedClassifier,
} from "./classifier.ts";

/** Scores of one train-on-X / test-on-real arm. */
export interface UtilityArm {
  /** AUROC per label on the real test set; null where the test set lacks positives or negatives. */
  perLabel: (number | null)[];
  /** Mean over the defined labels. */
  mean: number;
  /** Sigmoid probability per test image and label, (N_test, L) row-major (for ROC curves). */
  scores: Float32Array;
  /** Epoch whose weights were kept, and its mean validation AUROC. */
  bestEpoch: number;
  /** Mean validation AUROC of the kept epoch (on this arm's own validation set). */
  bestValidMean: number;
  /** Training history. */
  history: ClassifierEpoch[];
  /**
   * With `repeats` > 1: each training's AUROCs (seed + k); perLabel and mean above are their means, and
   * scores, bestEpoch, bestValidMean and history are those of the first (seed).
   */
  repeats?: { seed: number; perLabel: (number | null)[]; mean: number }[];
}

/** Inputs of {@linkcode evaluateUtility}. */
export interface UtilityInput {
  /** Real training set (TRTR). */
  realTrain: Dataset;
  /** Real validation set (early stopping of TRTR). */
  realValid: Dataset;
  /** Real test set: both arms are scored on it. */
  realTest: Dataset;
  /** Synthetic training set (TSTR). */
  synthTrain: Dataset;
  /** Synthetic validation set (early stopping of TSTR: no real data reaches the synthetic arm's training). */
  synthValid: Dataset;
  /** Classifier and training settings, shared by both arms. */
  config?: Partial<ClassifierTrainConfig>;
  /** Seed of both trainings and of the bootstrap (default 0). */
  seed?: number;
  /** Bootstrap resamples of the gap's interval (default 1000). */
  resamples?: number;
  /** Confidence level of the interval (default 0.95). */
  confidence?: number;
  /** A TRTR classifier trained before (same real data and config), reused instead of training again. */
  reference?: TrainedClassifier;
  /**
   * Trainings per arm (default 1), with seeds seed, seed + 1, ...: a classifier's AUROC moves with its seed
   * (on the 32 px phantom by about 0.02 for the same data), which the patient bootstrap does not see; the
   * arms' AUROCs, the gap and its interval are then means over the trainings.
   */
  repeats?: number;
  /** With repeats: TRTR classifiers trained before for seeds seed + k (index k; missing ones are trained). */
  references?: (TrainedClassifier | undefined)[];
  /** Progress of each arm's training. */
  onProgress?: (arm: "trtr" | "tstr", e: ClassifierEpoch) => void;
}

/** Wall-clock seconds of each part. */
export interface UtilityTimings {
  /** Training on real data (0 when a reference was given). */
  trtrTrain: number;
  /** Training on synthetic data. */
  tstrTrain: number;
  /** Both predictions on the real test set. */
  predict: number;
  /** The bootstrap. */
  bootstrap: number;
  /** Everything. */
  total: number;
}

/** Result of {@linkcode evaluateUtility}. */
export interface UtilityResult {
  /** Label names, in column order. */
  labelNames: string[];
  /** Train on real, test on real. */
  trtr: UtilityArm;
  /** Train on synthetic, test on real. */
  tstr: UtilityArm;
  /**
   * Mean-AUROC gap TRTR − TSTR on the real test set (positive: synthetic data is worth less) with its
   * patient-level bootstrap percentile interval [lo, hi].
   */
  gap: { gap: number; lo: number; hi: number; resamples: number; confidence: number; skipped: number };
  /** The real test set's labels (N_test, L) and patient ids, as scored. */
  test: { labels: Uint8Array; patientIds: string[] };
  /** The real-trained classifier (its pooled features serve fidelity and privacy metrics). */
  realModel: Classifier;
  /** The synthetic-trained classifier. */
  synthModel: Classifier;
  /** The real-trained run (pass it as `reference` to score more synthetic sets against it). */
  reference: TrainedClassifier;
  /** Timings in seconds. */
  timings: UtilityTimings;
}

function sameLabels(a: Dataset, b: Dataset, what: string): void {
  if (a.labelNames.join("\u0000") !== b.labelNames.join("\u0000")) {
    throw new Error(
      `evaluateUtility: ${what} has labels [${b.labelNames.join(", ")}] but the real training set ` +
        `[${a.labelNames.join(", ")}]; give every set the same label columns in the same order`,
    );
  }
}

/**
 * Trains the classifier on real and on synthetic data and scores both on the real test set
 * (see the module notes). Labels without positives (or negatives) in the test set come out null.
 */
export async function evaluateUtility(gpu: Gpu, input: UtilityInput): Promise<UtilityResult> {
  const start = performance.now();
  const { realTrain, realValid, realTest, synthTrain, synthValid } = input;
  for (
    const [d, what] of [[realValid, "realValid"], [realTest, "realTest"], [synthTrain, "synthTrain"], [
      synthValid,
      "synthValid",
    ]] as const
  ) sameLabels(realTrain, d, what);
  if (realTest.n < 1) throw new Error("evaluateUtility: the real test set is empty");
  const seed = input.seed ?? 0;

  const repeats = input.repeats ?? 1;
  if (!Number.isInteger(repeats) || repeats < 1) {
    throw new Error(`evaluateUtility: repeats must be an integer >= 1, got ${repeats}`);
  }
  let trtrTrain = 0, tstrTrain = 0, predict = 0;
  const bs = input.config?.evalBatchSize;
  const runs: {
    seed: number;
    ref: TrainedClassifier;
    synth: TrainedClassifier;
    real: Float32Array;
    syn: Float32Array;
  }[] = [];
  for (let k = 0; k < repeats; k++) {
    const s = seed + k;
    let t = performance.now();
    const given = k === 0 ? input.reference ?? input.references?.[0] : input.references?.[k];
    const ref = given ?? await trainClassifier(gpu, realTrain, realValid, {
      config: input.config,
      seed: s,
      onProgress: (e) => input.onProgress?.("trtr", e),
    });
    if (!given) trtrTrain += (performance.now() - t) / 1000;
    checkDatasetFits(realTest, ref.config, "evaluateUtility: realTest");
    t = performance.now();
    const synth = await trainClassifier(gpu, synthTrain, synthValid, {
      config: input.config,
      seed: s,
      onProgress: (e) => input.onProgress?.("tstr", e),
    });
    tstrTrain += (performance.now() - t) / 1000;
    t = performance.now();
    const real = await predictProbabilities(ref.model, realTest, bs);
    const syn = await predictProbabilities(synth.model, realTest, bs);
    predict += (performance.now() - t) / 1000;
    runs.push({ seed: s, ref, synth, real, syn });
  }

  const t = performance.now();
  const L = realTest.labelNames.length;
  const asMatrix = (data: ArrayLike<number>): Matrix => ({ data, rows: realTest.n, cols: L });
  const resamples = input.resamples ?? 1000, confidence = input.confidence ?? 0.95;
  const g: AurocGap = bootstrapAurocGap({
    reference: runs.map((r) => asMatrix(r.real)),
    candidate: runs.map((r) => asMatrix(r.syn)),
    labels: asMatrix(realTest.labels),
    patientIds: realTest.patientIds,
    resamples,
    confidence,
    seed,
  });
  const bootstrap = (performance.now() - t) / 1000;

  const arm = (pick: (r: (typeof runs)[number]) => [TrainedClassifier, Float32Array]): UtilityArm => {
    const each = runs.map((r) => ({ seed: r.seed, ...scoreAuroc(pick(r)[1], realTest) }));
    const [run, scores] = pick(runs[0]);
    const perLabel = each[0].perLabel.map((v, j) =>
      v === null ? null : each.reduce((sum, e) => sum + (e.perLabel[j] as number), 0) / each.length
    );
    return {
      perLabel,
      mean: each.reduce((sum, e) => sum + e.mean, 0) / each.length,
      scores,
      bestEpoch: run.bestEpoch,
      bestValidMean: run.bestValidMean,
      history: run.history,
      ...(repeats > 1 ? { repeats: each } : {}),
    };
  };
  const reference = runs[0].ref, synth = runs[0].synth;
  return {
    labelNames: [...realTest.labelNames],
    trtr: arm((r) => [r.ref, r.real]),
    tstr: arm((r) => [r.synth, r.syn]),
    gap: { gap: g.gap, lo: g.lo, hi: g.hi, resamples, confidence, skipped: g.skipped },
    test: { labels: realTest.labels, patientIds: [...realTest.patientIds] },
    realModel: reference.model,
    synthModel: synth.model,
    reference,
    timings: { trtrTrain, tstrTrain, predict, bootstrap, total: (performance.now() - start) / 1000 },
  };
}

/**
 * Pooled features (the input of the classifier's last linear layer) of `images` (N, C, H, W), as an
 * (N, F) matrix: the feature space for Fréchet distance, precision/recall and nearest-neighbour privacy
 * metrics. `n` defaults to the number of whole images in the array.
 */
export async function extractFeatures(
  model: Classifier,
  images: Float32Array,
  n?: number,
  batchSize = 128,
): Promise<Matrix & { data: Float32Array }> {
  const cfg = model.config, per = cfg.inChannels * cfg.size * cfg.size;
  const count = n ?? Math.floor(images.length / per);
  if (n === undefined && images.length % per !== 0) {
    throw new Error(
      `extractFeatures: ${images.length} values are not a whole number of (${cfg.inChannels}, ${cfg.size}, ` +
        `${cfg.size}) images`,
    );
  }
  const { features } = await model.infer(images, count, { features: true }, batchSize);
  return { data: features!, rows: count, cols: model.featureCount };
}
