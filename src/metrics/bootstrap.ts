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
  /**
   * (N, L) scores of the reference model (e.g. trained on real data, TRTR), or of several trainings of it
   * (other seeds): a model's AUROC is then the mean of its trainings' AUROCs, in every resample.
   */
  reference: Matrix | Matrix[];
  /** (N, L) scores of the candidate model (e.g. trained on synthetic data, TSTR), same images; or several. */
  candidate: Matrix | Matrix[];
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
  const { labels, patientIds } = input;
  const refs = Array.isArray(input.reference) ? input.reference : [input.reference];
  const cands = Array.isArray(input.candidate) ? input.candidate : [input.candidate];
  const resamples = input.resamples ?? 1000;
  const conf = input.confidence ?? 0.95;
  if (refs.length === 0 || cands.length === 0) {
    throw new Error("bootstrapAurocGap: give at least one reference and one candidate score matrix");
  }
  refs.forEach((m, k) => checkMatrix(m, `bootstrapAurocGap: reference ${k}`));
  cands.forEach((m, k) => checkMatrix(m, `bootstrapAurocGap: candidate ${k}`));
  checkMatrix(labels, "bootstrapAurocGap: labels");
  const n = labels.rows, l = labels.cols;
  for (const [ms, what] of [[refs, "reference"], [cands, "candidate"]] as const) {
    for (const m of ms) {
      if (m.rows !== n || m.cols !== l) {
        throw new Error(
          `bootstrapAurocGap: ${what} scores are (${m.rows}, ${m.cols}) but labels are (${n}, ${l})`,
        );
      }
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

  const meanOf = (ms: Matrix[]) =>
    ms.reduce((s, m) => s + meanAuroc(aurocPerLabel(m, labels)), 0) / ms.length;
  const refMean = meanOf(refs);
  const candMean = meanOf(cands);

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
  const column = (m: Matrix, j: number) => Float64Array.from({ length: n }, (_, i) => m.data[i * l + j]);
  for (let j = 0; j < l; j++) {
    const y = column(labels, j);
    const a = refs.map((m) => column(m, j)), b = cands.map((m) => column(m, j));
    cols.push({
      y,
      a,
      b,
      orderA: a.map((v) => argsortAscending(v)),
      orderB: b.map((v) => argsortAscending(v)),
    });
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
      // whether a label is defined depends on the labels alone: the same for every model and training
      let aucA = 0;
      for (let k = 0; k < c.a.length; k++) aucA += aurocFromOrder(c.a[k], c.y, weights, c.orderA[k]);
      if (Number.isNaN(aucA)) continue;
      let aucB = 0;
      for (let k = 0; k < c.b.length; k++) aucB += aurocFromOrder(c.b[k], c.y, weights, c.orderB[k]);
      sumA += aucA / c.a.length;
      sumB += aucB / c.b.length;
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
