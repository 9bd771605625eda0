/**
 * Patient-level bootstrap of the AUROC gap between two classifiers scored on the same real test set
 * (train-on-real TRTR vs train-on-synthetic TSTR).
 * @module
 */
import { checkMatrix, type Matrix } from "./_linalg.ts";
import { aurocPerLabel, meanAuroc } from "./auroc.ts";
import { argsortAscending, aurocFromOrder } from "./_rank.ts";
import { percentile } from "./stats.ts";
import { Rng } from "../util/rng.ts";

/** Inputs of {@linkcode bootstrapAurocGap}. */
export interface AurocGapInput {
  /** (N, L) scores of the reference model (e.g. trained on real data, TRTR). */
  reference: Matrix;
  /** (N, L) scores of the candidate model (e.g. trained on synthetic data, TSTR), same images. */
  candidate: Matrix;
  /** (N, L) 0/1 labels. */
  labels: Matrix;
  /** (N) patient of each image; resampling draws patients, keeping all their images together. */
  patientIds: ArrayLike<string | number>;
  /** Number of bootstrap resamples (default 1000). */
  resamples?: number;
  /** Seed of the resampling (default 0). */
  seed?: number;
  /** Confidence level of the percentile interval (default 0.95). */
  confidence?: number;
}

/** Bootstrap result: gap = mean AUROC(reference) - mean AUROC(candidate), positive = candidate worse. */
export interface AurocGap {
  /** Gap on the full test set. */
  gap: number;
  /** Mean AUROC (over defined labels) of the reference model on the full test set. */
  reference: number;
  /** Mean AUROC (over defined labels) of the candidate model on the full test set. */
  candidate: number;
  /** Lower end of the percentile interval (numpy "linear" percentile of the samples). */
  lo: number;
  /** Upper end of the percentile interval. */
  hi: number;
  /** Gap of every resample that had at least one defined label. */
  samples: Float64Array;
  /** Resamples dropped because no label had both classes in them. */
  skipped: number;
}

/**
 * Patient-level bootstrap CI of the mean-AUROC gap. Patients are listed in order of first appearance;
 * each resample draws that many patients with replacement (`rng.int(P)` each, seeded {@linkcode Rng}),
 * an image counts as often as its patient was drawn, and each model's mean AUROC is taken over the
 * labels that have both classes in the resample. Both models see the same resamples (paired).
 *
 * @example
 * ```ts
 * import { bootstrapAurocGap, matrixFromRows } from "@medsynth/medsynth";
 * const labels = matrixFromRows([[1], [0], [1], [0], [1], [0]]);
 * const reference = matrixFromRows([[0.9], [0.1], [0.8], [0.3], [0.7], [0.2]]);
 * const candidate = matrixFromRows([[0.6], [0.5], [0.4], [0.3], [0.7], [0.8]]);
 * const r = bootstrapAurocGap({ reference, candidate, labels, patientIds: [1, 1, 2, 2, 3, 3], resamples: 200 });
 * if (!(r.lo <= r.gap && r.gap <= r.hi && r.gap > 0)) throw new Error("unexpected CI");
 * ```
 */
export function bootstrapAurocGap(input: AurocGapInput): AurocGap {
  const { reference, candidate, labels, patientIds } = input;
  const resamples = input.resamples ?? 1000;
  const conf = input.confidence ?? 0.95;
  checkMatrix(reference, "bootstrapAurocGap: reference");
  checkMatrix(candidate, "bootstrapAurocGap: candidate");
  checkMatrix(labels, "bootstrapAurocGap: labels");
  const n = labels.rows, l = labels.cols;
  for (const [m, what] of [[reference, "reference"], [candidate, "candidate"]] as const) {
    if (m.rows !== n || m.cols !== l) {
      throw new Error(
        `bootstrapAurocGap: ${what} scores are (${m.rows}, ${m.cols}) but labels are (${n}, ${l})`,
      );
    }
  }
  if (patientIds.length !== n) {
    throw new Error(
      `bootstrapAurocGap: ${patientIds.length} patient ids for ${n} images; give one per image`,
    );
  }
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new Error(`bootstrapAurocGap: resamples must be an integer >= 1, got ${resamples}`);
  }
  if (!(conf > 0 && conf < 1)) {
    throw new Error(`bootstrapAurocGap: confidence must be in (0, 1), got ${conf}`);
  }

  const refMean = meanAuroc(aurocPerLabel(reference, labels));
  const candMean = meanAuroc(aurocPerLabel(candidate, labels));

  // patient index of each image, patients in order of first appearance
  const patientOf = new Int32Array(n);
  const seen = new Map<string | number, number>();
  for (let i = 0; i < n; i++) {
    let p = seen.get(patientIds[i]);
    if (p === undefined) {
      p = seen.size;
      seen.set(patientIds[i], p);
    }
    patientOf[i] = p;
  }
  const nPatients = seen.size;

  // per label: contiguous score/label columns and the score order of each model, sorted once
  const cols = [];
  for (let j = 0; j < l; j++) {
    const y = new Float64Array(n), a = new Float64Array(n), b = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = labels.data[i * l + j];
      a[i] = reference.data[i * l + j];
      b[i] = candidate.data[i * l + j];
    }
    cols.push({ y, a, b, orderA: argsortAscending(a), orderB: argsortAscending(b) });
  }

  const rng = new Rng(input.seed ?? 0);
  const draws = new Float64Array(nPatients);
  const weights = new Float64Array(n);
  const samples: number[] = [];
  let skipped = 0;
  for (let r = 0; r < resamples; r++) {
    draws.fill(0);
    for (let k = 0; k < nPatients; k++) draws[rng.int(nPatients)]++;
    for (let i = 0; i < n; i++) weights[i] = draws[patientOf[i]];
    let sumA = 0, sumB = 0, defined = 0;
    for (const c of cols) {
      const aucA = aurocFromOrder(c.a, c.y, weights, c.orderA);
      if (Number.isNaN(aucA)) continue; // a label is undefined for both models alike
      sumA += aucA;
      sumB += aurocFromOrder(c.b, c.y, weights, c.orderB);
      defined++;
    }
    if (defined === 0) {
      skipped++;
      continue;
    }
    samples.push(sumA / defined - sumB / defined);
  }
  const alpha = 1 - conf;
  const hasSamples = samples.length > 0;
  return {
    gap: refMean - candMean,
    reference: refMean,
    candidate: candMean,
    lo: hasSamples ? percentile(samples, 100 * alpha / 2) : NaN,
    hi: hasSamples ? percentile(samples, 100 * (1 - alpha / 2)) : NaN,
    samples: Float64Array.from(samples),
    skipped,
  };
}
