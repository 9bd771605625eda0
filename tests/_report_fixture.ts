/**
 * A small but complete Results document for report tests and the example report: phantom images as
 * "real", a second phantom (another seed) as "synthetic" with a few exact copies of training images,
 * downsampled pixels as the feature space, scores made from the labels plus seeded noise, and the last
 * label without positives in the test set.
 */
import { DEFAULT_PHANTOM_CONFIG, makePhantom, type PhantomLabelSpec } from "../src/data/phantom.ts";
import { type Dataset, selectRows } from "../src/data/dataset.ts";
import { splitByPatient } from "../src/data/split.ts";
import { datasetStats } from "../src/data/subset.ts";
import { aurocPerLabel, meanAuroc, rocCurve } from "../src/metrics/auroc.ts";
import { bootstrapAurocGap } from "../src/metrics/bootstrap.ts";
import { computeFidelity } from "../src/eval/fidelity.ts";
import { computePrivacy, pairDistance, pixelVectors } from "../src/eval/privacy.ts";
import { buildGallery, buildGrids } from "../src/report/images.ts";
import {
  type ClassifierEpochRow,
  curveForReport,
  finiteOrNull,
  type Results,
  RESULTS_SCHEMA,
  RESULTS_VERSION,
  type TrainingRow,
} from "../src/report/results.ts";
import type { StudyAnalysis } from "../src/reader/analysis.ts";
import { Rng } from "../src/util/rng.ts";

function phantom(count: number, seed: number): Dataset {
  return makePhantom({
    seed,
    resolution: 32,
    supersample: 2, // coarser anti-aliasing than the default: the fixture needs speed, not beauty
    labels: { ...DEFAULT_PHANTOM_CONFIG.labels, count } as PhantomLabelSpec,
  });
}

/** Scores (N, L): label + noise of the given size (larger noise = worse classifier). */
function scores(d: Dataset, noise: number, seed: number): Float64Array {
  const rng = new Rng(seed), L = d.labelNames.length;
  return Float64Array.from({ length: d.n * L }, (_, k) => d.labels[k] + noise * rng.normal());
}

function epochs(n: number, best: number, top: number): ClassifierEpochRow[] {
  return Array.from({ length: n }, (_, i) => ({
    epoch: i + 1,
    steps: (i + 1) * 20,
    loss: 0.7 * Math.exp(-i / 3) + 0.1,
    validMean: top - 0.3 * Math.exp(-i / 2),
    lr: i < 5 ? 1e-3 : 3e-4,
    best: i + 1 === best,
    seconds: (i + 1) * 4.2,
  }));
}

/** The fixture plus the numbers tests check against. */
export interface ReportFixture {
  results: Results;
  /** Label whose test positives were removed. */
  undefinedLabel: string;
  /** Rows of the synthetic set that are exact copies of training rows. */
  copies: number;
}

/** Builds the fixture (about a second on one core). */
export function reportFixture(opts: { readerStudy?: boolean } = {}): ReportFixture {
  const all = phantom(240, 11);
  const split = splitByPatient(all.patientIds, { seed: 3 });
  const train = selectRows(all, split.train), valid = selectRows(all, split.valid);
  const test = selectRows(all, split.test);
  const L = all.labelNames.length;
  // no positives for the first label in the test set -> undefined AUROC
  const undefinedLabel = all.labelNames[0];
  for (let i = 0; i < test.n; i++) test.labels[i * L] = 0;
  // "synthetic": another phantom with train's label vectors, 4 rows replaced by exact training copies
  const other = phantom(train.n + 40, 29);
  const synth = selectRows(other, Array.from({ length: train.n }, (_, i) => i));
  synth.labels = train.labels.slice();
  const sz = 32 * 32, copies = 4;
  for (let k = 0; k < copies; k++) {
    synth.images.set(train.images.subarray(k * 7 * sz, (k * 7 + 1) * sz), k * 11 * sz);
  }
  for (let k = 0; k < copies; k++) {
    synth.labels.set(train.labels.subarray(k * 7 * L, (k * 7 + 1) * L), k * 11 * L);
  }

  const asMatrix = (data: Float64Array) => ({ data, rows: test.n, cols: L });
  const labelsM = asMatrix(Float64Array.from(test.labels));
  const sReal = scores(test, 0.5, 1), sSyn = scores(test, 0.9, 2);
  const perReal = aurocPerLabel(asMatrix(sReal), labelsM), perSyn = aurocPerLabel(asMatrix(sSyn), labelsM);
  const gap = bootstrapAurocGap({
    reference: asMatrix(sReal),
    candidate: asMatrix(sSyn),
    labels: labelsM,
    patientIds: test.patientIds,
    resamples: 200,
  });
  const feat = (d: Dataset) => pixelVectors(d, 8);
  const fidelity = computeFidelity(feat(test), feat(synth), {
    featureSpace: "8x8 downsampled pixels (fixture)",
    kidSubsets: 10,
  });
  const holdout = selectRows(all, [...split.valid, ...split.test]);
  const privacy = computePrivacy({
    synthetic: { features: feat(synth), pixels: synth },
    train: { features: feat(train), pixels: train },
    holdout: { features: feat(holdout), pixels: holdout },
  }, { closestPairs: 4 });
  const fs = { s: feat(synth), t: feat(train) }, ps = { s: pixelVectors(synth), t: pixelVectors(train) };
  const gallery = buildGallery(
    privacy,
    synth,
    train,
    all.labelNames,
    (space, i, j) =>
      space === "features"
        ? pairDistance(ps.s, i, ps.t, j, "euclidean")
        : pairDistance(fs.s, i, fs.t, j, privacy.features.metric),
  );

  const rng = new Rng(5);
  const rows: TrainingRow[] = Array.from({ length: 400 }, (_, i) => ({
    step: (i + 1) * 10,
    imagesSeen: (i + 1) * 320,
    dLoss: 1.2 * Math.exp(-i / 120) + 0.6 + 0.08 * rng.normal(),
    gLoss: 0.8 + 0.6 * (1 - Math.exp(-i / 100)) + 0.1 * rng.normal(),
    dAux: 0.69 * Math.exp(-i / 80) + 0.05 + 0.02 * rng.normal(),
    gAux: 0.69 * Math.exp(-i / 150) + 0.08 + 0.02 * rng.normal(),
    dReal: 0.5 + 0.3 * (1 - Math.exp(-i / 90)) + 0.05 * rng.normal(),
    dFake: -0.5 - 0.2 * (1 - Math.exp(-i / 90)) + 0.05 * rng.normal(),
    augP: Math.min(0.4, i / 1000),
    time: (i + 1) * 2.5,
    imagesPerSec: 128,
  }));
  const testPos = all.labelNames.map((_, j) => {
    let p = 0;
    for (let i = 0; i < test.n; i++) p += test.labels[i * L + j];
    return p;
  });
  const readerStudy: StudyAnalysis | null = opts.readerStudy
    ? {
      mode: "single",
      items: 60,
      overall: {
        n: 120,
        correct: 66,
        accuracy: 0.55,
        ci95: { lo: 0.46, hi: 0.636 },
        pValue: 0.3,
        sensitivity: 0.5,
        specificity: 0.6,
        meanConfidence: 2.9,
      },
      perResolution: [32, 64].map((resolution, k) => ({
        resolution,
        n: 60,
        correct: 30 + 6 * k,
        accuracy: (30 + 6 * k) / 60,
        ci95: { lo: 0.38 + 0.1 * k, hi: 0.62 + 0.1 * k },
        pValue: k ? 0.15 : 1,
        sensitivity: 0.5,
        specificity: 0.5 + 0.1 * k,
        meanConfidence: 3,
      })),
      perReader: [],
      agreement: { fleissKappa: 0.12, readers: 2, items: 60 },
      agreementPerResolution: [],
      answerLines: 122,
      replaced: 2,
    }
    : null;

  const results: Results = {
    schema: RESULTS_SCHEMA,
    version: RESULTS_VERSION,
    title: "medsynth evaluation: example (head-CT phantom)",
    createdAt: "2025-01-01T12:00:00.000Z",
    run: { name: "example", dir: null },
    config: {
      gan: { model: "cpd", resolution: 32, latentDim: 128, batchSize: 32 },
      data: { source: "phantom", splitSeed: 3, size: 32, channels: 1 },
      evaluation: {
        seed: 0,
        resamples: 200,
        confidence: 0.95,
        classifier: { model: "tiny", maxEpochs: 12 },
        syntheticSource: "fixture",
        privacySplits: { train: "train", holdout: "valid + test" },
        fidelitySets: { real: "test", synthetic: "train" },
      },
    },
    adapter: {
      description: "llvmpipe (LLVM 15.0.6, 256 bits)",
      vendor: "mesa",
      architecture: "",
      device: "",
      isFallbackAdapter: true,
      features: [],
      runtime: "deno",
    },
    dataset: {
      source: "phantom",
      format: "phantom",
      channels: 1,
      height: 32,
      width: 32,
      labelNames: [...all.labelNames],
      real: { train: datasetStats(train), valid: datasetStats(valid), test: datasetStats(test) },
      synthetic: { train: datasetStats(synth), valid: datasetStats(valid), test: null },
    },
    utility: {
      perLabel: all.labelNames.map((label, j) => ({
        label,
        trtr: perReal[j],
        tstr: perSyn[j],
        testPositives: testPos[j],
        testNegatives: test.n - testPos[j],
      })),
      trtr: {
        mean: finiteOrNull(meanAuroc(perReal)),
        bestEpoch: 9,
        bestValidMean: 0.9,
        epochs: epochs(12, 9, 0.92),
      },
      tstr: {
        mean: finiteOrNull(meanAuroc(perSyn)),
        bestEpoch: 7,
        bestValidMean: 0.8,
        epochs: epochs(10, 7, 0.84),
      },
      gap: {
        gap: finiteOrNull(gap.gap),
        lo: finiteOrNull(gap.lo),
        hi: finiteOrNull(gap.hi),
        confidence: 0.95,
        resamples: 200,
        skipped: gap.skipped,
      },
      testImages: test.n,
      testPatients: new Set(test.patientIds).size,
    },
    roc: all.labelNames.map((label, j) => {
      const col = (s: Float64Array) => Float64Array.from({ length: test.n }, (_, i) => s[i * L + j]);
      const y = Float64Array.from({ length: test.n }, (_, i) => test.labels[i * L + j]);
      return {
        label,
        trtr: perReal[j] === null ? null : curveForReport(rocCurve(col(sReal), y), perReal[j]!),
        tstr: perSyn[j] === null ? null : curveForReport(rocCurve(col(sSyn), y), perSyn[j]!),
      };
    }),
    fidelity,
    privacy,
    timings: {
      total: 95.2,
      generate: 3.1,
      load: 1.2,
      trtrTrain: 41.5,
      tstrTrain: 38.9,
      predict: 0.8,
      bootstrap: 0.4,
      features: 0.6,
      fidelity: 0.9,
      privacy: 2.3,
      ganTraining: 1000,
    },
    training: { rows, events: [{ event: "done", imagesSeen: 128000, time: 1000 }] },
    grids: buildGrids(test, synth, all.labelNames, 8),
    gallery,
    dataCard: null,
    readerStudy,
    inceptionFid: null,
    notes: ["Example data: the 'synthetic' images are a second phantom, four of them exact training copies."],
  };
  return { results, undefinedLabel, copies };
}
