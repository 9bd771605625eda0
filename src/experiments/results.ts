/**
 * The merged results of a sweep (`deno task experiment NAME --out DIR --merge` writes DIR/results.json):
 * per cell its parameters, status and the headline numbers of its own results.json (src/report/results.ts).
 * Plain JSON: undefined numbers are null. The sweep report is rendered from this document.
 * @module
 */
import type { Results } from "../report/results.ts";
import { finiteOrNull } from "../report/results.ts";
import type { Cell, ExperimentConfig, SweepAxis } from "./config.ts";

/** Schema name written into every merged sweep file. */
export const SWEEP_RESULTS_SCHEMA = "medsynth.sweep";
/** Schema version; bumped when a field changes meaning or is removed. */
export const SWEEP_RESULTS_VERSION = 1;

/**
 * State of a cell: `complete` (its results.json exists), `failed` (failed.json exists: the error is
 * recorded), `partial` (started: the run folder holds a config.json but no results yet), `pending` (not
 * started).
 */
export type CellStatus = "complete" | "failed" | "partial" | "pending";

/** Utility headline numbers of one cell (from its results.json `utility`). */
export interface CellUtility {
  /** Mean test AUROC over the defined labels of the classifier trained on real data (null: undefined). */
  trtr: number | null;
  /** Mean test AUROC of the classifier trained on synthetic data (null: undefined). */
  tstr: number | null;
  /** Gap TRTR − TSTR (positive: synthetic-trained is worse; null: undefined). */
  gap: number | null;
  /** Lower end of the gap's patient-bootstrap percentile interval (null: undefined). */
  gapLo: number | null;
  /** Upper end of that interval (null: undefined). */
  gapHi: number | null;
  /** Confidence level of the interval (e.g. 0.95). */
  confidence: number;
  /** Per-label test AUROC of both arms, in label order (null: undefined on the test set). */
  perLabel: { label: string; trtr: number | null; tstr: number | null }[];
  /** Real test images scored. */
  testImages: number;
}

/** Fidelity headline numbers of one cell (real-trained classifier's feature space). */
export interface CellFidelity {
  /** Fréchet distance between real and synthetic features. */
  frechetDistance: number | null;
  /** KID (unbiased MMD², cubic kernel), mean over subsets. */
  kid: number | null;
  /** KID's standard deviation over subsets. */
  kidStd: number | null;
  /** PRDC precision: share of synthetic samples inside the real manifold. */
  precision: number | null;
  /** PRDC recall: share of real samples inside the synthetic manifold. */
  recall: number | null;
  /** PRDC density. */
  density: number | null;
  /** PRDC coverage. */
  coverage: number | null;
}

/** Privacy headline numbers of one space (features or pixels). */
export interface CellPrivacySpace {
  /** Share of synthetic images closer to a training image than most holdout images are. */
  memorisationRate: number | null;
  /** What chance gives for that rate (percentile / 100). */
  memorisationExpected: number | null;
  /** Distance-based membership-inference AUC (0.5: members not recognisable). */
  miaAuc: number | null;
  /** median DCR(synthetic) / median DCR(holdout) (well below 1: synthetic sits close to training images). */
  dcrMedianRatio: number | null;
  /** Pixel space: synthetic images that copy a training image up to 8-bit quantisation; null in features. */
  copies: number | null;
}

/** Privacy headline numbers of one cell. */
export interface CellPrivacy {
  /** In the real-trained classifier's feature space (cosine distance). */
  features: CellPrivacySpace;
  /** In pixel space. */
  pixels: CellPrivacySpace;
}

/** One cell of a merged sweep. */
export interface SweepCellResult {
  /** 0-based index (the array-job index). */
  index: number;
  /** Short name, e.g. `k6_s1`. */
  slug: string;
  /** The cell's run folder, relative to the sweep folder (`cells/<index>_<slug>`). */
  dir: string;
  /** complete / failed / partial / pending. */
  status: CellStatus;
  /** The swept parameter's value in this cell (resolution in px, number of combinations, or images per combination). */
  value: number;
  /** The cell's parameters (seed, resolution, subset, GAN config, classifier settings). */
  params: Cell;
  /** The error of a failed cell (from failed.json), else null. */
  error: string | null;
  /** Real images per split after the subset (null unless complete). */
  images: { train: number; valid: number; test: number } | null;
  /** Distinct label combinations in the real training split (null unless complete). */
  combinations: number | null;
  /** GAN images shown (from the training curves; null if unknown). */
  ganImages: number | null;
  /** GAN training seconds, summed over resumed segments (null if unknown). */
  ganSeconds: number | null;
  /**
   * Label fidelity at the end of GAN training (mean and per label, in label order) and the real-trained
   * classifier's AUROC on real validation images; null when the run did not measure it.
   */
  labelFidelity?: { mean: number | null; perLabel: (number | null)[]; realMean: number | null } | null;
  /** Evaluation seconds (null unless complete). */
  evaluateSeconds: number | null;
  /** Utility (null unless complete). */
  utility: CellUtility | null;
  /** Fidelity (null unless complete or when not computed). */
  fidelity: CellFidelity | null;
  /** Privacy (null unless complete or when not computed). */
  privacy: CellPrivacy | null;
}

/** Everything a sweep found: the content of the sweep's merged results.json. */
export interface SweepResults {
  /** Always {@linkcode SWEEP_RESULTS_SCHEMA}. */
  schema: typeof SWEEP_RESULTS_SCHEMA;
  /** {@linkcode SWEEP_RESULTS_VERSION}. */
  version: number;
  /** Sweep name (resolution, label_combinations, samples_per_combination, or a custom name). */
  name: string;
  /** What the sweep measures, one line. */
  title: string;
  /** ISO time of the merge. */
  createdAt: string;
  /** The swept parameter. */
  axis: SweepAxis;
  /** Axis label for plots, e.g. "resolution (px)". */
  axisLabel: string;
  /** The resolved experiment config (experiment.json). */
  config: ExperimentConfig;
  /** Every cell in index order, whatever its status. */
  cells: SweepCellResult[];
  /** Cells per status. */
  counts: Record<CellStatus, number>;
}

/** Axis labels for plots. */
export const AXIS_LABELS: Readonly<Record<SweepAxis, string>> = {
  resolution: "resolution (px)",
  topK: "unique label combinations",
  perCombo: "training images per label combination",
  ganImages: "GAN training images shown",
};

/** A cell's row of the merged file, from its parameters, status and (for a complete cell) results.json. */
export function cellResult(
  cell: Cell,
  dir: string,
  status: CellStatus,
  results: Results | null,
  error: string | null,
): SweepCellResult {
  const row: SweepCellResult = {
    index: cell.index,
    slug: cell.slug,
    dir,
    status,
    value: cell.value,
    params: cell,
    error,
    images: null,
    combinations: null,
    ganImages: null,
    ganSeconds: null,
    labelFidelity: null,
    evaluateSeconds: null,
    utility: null,
    fidelity: null,
    privacy: null,
  };
  if (!results) return row;
  const u = results.utility;
  row.images = {
    train: results.dataset.real.train.images,
    valid: results.dataset.real.valid.images,
    test: results.dataset.real.test.images,
  };
  row.combinations = results.dataset.real.train.uniqueCombinations;
  const seen = results.training.rows.map((r) => r.imagesSeen).filter((v): v is number =>
    typeof v === "number"
  );
  const doneEvents = results.training.events.filter((e) => e.event === "done");
  row.ganImages = finiteOrNull((doneEvents.at(-1) as { imagesSeen?: number } | undefined)?.imagesSeen) ??
    (seen.length ? Math.max(...seen) : null);
  row.ganSeconds = finiteOrNull(results.timings.ganTraining);
  const lf = results.training.labelFidelity?.at(-1);
  if (lf) {
    row.labelFidelity = {
      mean: finiteOrNull(lf.mean),
      perLabel: lf.perLabel.map((v) => finiteOrNull(v)),
      realMean: finiteOrNull(lf.realMean),
    };
  }
  row.evaluateSeconds = finiteOrNull(results.timings.total);
  row.utility = {
    trtr: finiteOrNull(u.trtr.mean),
    tstr: finiteOrNull(u.tstr.mean),
    gap: finiteOrNull(u.gap.gap),
    gapLo: finiteOrNull(u.gap.lo),
    gapHi: finiteOrNull(u.gap.hi),
    confidence: u.gap.confidence,
    perLabel: u.perLabel.map((l) => ({
      label: l.label,
      trtr: finiteOrNull(l.trtr),
      tstr: finiteOrNull(l.tstr),
    })),
    testImages: u.testImages,
  };
  const f = results.fidelity;
  if (f) {
    row.fidelity = {
      frechetDistance: finiteOrNull(f.frechetDistance),
      kid: finiteOrNull(f.kid.mean),
      kidStd: finiteOrNull(f.kid.std),
      precision: finiteOrNull(f.prdc.precision),
      recall: finiteOrNull(f.prdc.recall),
      density: finiteOrNull(f.prdc.density),
      coverage: finiteOrNull(f.prdc.coverage),
    };
  }
  const p = results.privacy;
  if (p) {
    const space = (s: typeof p.features): CellPrivacySpace => ({
      memorisationRate: finiteOrNull(s.memorisation.rate),
      memorisationExpected: finiteOrNull(s.memorisation.expected),
      miaAuc: finiteOrNull(s.membershipInference.auc),
      dcrMedianRatio: finiteOrNull(s.dcr.medianRatio),
      copies: s.copies ? s.copies.count : null,
    });
    row.privacy = { features: space(p.features), pixels: space(p.pixels) };
  }
  return row;
}

/** Assembles the merged document from the cells' rows. */
export function mergeSweep(
  config: ExperimentConfig,
  cells: SweepCellResult[],
  createdAt: string,
): SweepResults {
  const counts: Record<CellStatus, number> = { complete: 0, failed: 0, partial: 0, pending: 0 };
  for (const c of cells) counts[c.status]++;
  return {
    schema: SWEEP_RESULTS_SCHEMA,
    version: SWEEP_RESULTS_VERSION,
    name: config.name,
    title: config.title,
    createdAt,
    axis: config.axis,
    axisLabel: AXIS_LABELS[config.axis],
    config,
    cells: [...cells].sort((a, b) => a.index - b.index),
    counts,
  };
}

/** Checks that parsed JSON is a merged sweep of this version; the error names the source and field. */
export function parseSweepResults(value: unknown, source = "results.json"): SweepResults {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${source}: not a sweep results object`);
  }
  const r = value as Record<string, unknown>;
  if (r.schema !== SWEEP_RESULTS_SCHEMA) {
    throw new Error(`${source}: schema is ${JSON.stringify(r.schema)}, expected "${SWEEP_RESULTS_SCHEMA}"`);
  }
  if (r.version !== SWEEP_RESULTS_VERSION) {
    throw new Error(
      `${source}: version ${r.version}, this medsynth reads ${SWEEP_RESULTS_VERSION}; merge again`,
    );
  }
  for (const k of ["name", "axis", "config", "cells", "counts"]) {
    if (!(k in r)) throw new Error(`${source}: field "${k}" is missing`);
  }
  if (!Array.isArray(r.cells)) throw new Error(`${source}: cells must be an array`);
  return value as SweepResults;
}
