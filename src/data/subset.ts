/**
 * Label statistics and the study's subsets: drop label combinations rarer than a threshold, keep the k
 * most frequent combinations, and take n training images per combination while validation and test stay
 * fixed. Works on row indices; `selectRows` makes the datasets.
 * @module
 */
import type { Dataset } from "./dataset.ts";
import type { Split } from "./split.ts";
import { Rng } from "../util/rng.ts";

/** What a labelled image set holds. */
export interface LabelStats {
  /** Number of images. */
  images: number;
  /** Number of distinct patients. */
  patients: number;
  /** Label names. */
  labelNames: string[];
  /** Positive images per label, in label order. */
  perLabel: number[];
  /** Images with no positive label. */
  noLabel: number;
  /** Number of distinct label combinations. */
  uniqueCombinations: number;
  /** Images per combination, most frequent first; `labels` lists the positive names ("" = none). */
  combinations: { key: string; labels: string[]; count: number }[];
}

/** The parts of a dataset that label statistics need. */
export type Labelled = Pick<Dataset, "labels" | "labelNames">;

function keyOf(labels: Uint8Array, L: number, i: number): string {
  let s = "";
  for (let j = 0; j < L; j++) s += labels[i * L + j] ? "1" : "0";
  return s;
}

/** Images per label combination over `rows` (default all), most frequent first, ties by key. */
export function comboCounts(d: Labelled, rows?: readonly number[]): [string, number][] {
  const L = d.labelNames.length;
  const n = d.labels.length / Math.max(L, 1);
  const counts = new Map<string, number>();
  const idx = rows ?? Array.from({ length: n }, (_, i) => i);
  for (const i of idx) {
    const k = keyOf(d.labels, L, i);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Statistics of a labelled set (counts per label, combinations, patients). */
export function labelStats(
  labels: Uint8Array, // (N, L)
  labelNames: readonly string[],
  patientIds: readonly string[],
): LabelStats {
  const L = labelNames.length;
  const n = patientIds.length;
  if (labels.length !== n * L) throw new Error(`labelStats: ${labels.length} labels for ${n} images x ${L}`);
  const perLabel = new Array(L).fill(0);
  let noLabel = 0;
  for (let i = 0; i < n; i++) {
    let any = 0;
    for (let j = 0; j < L; j++) {
      perLabel[j] += labels[i * L + j];
      any |= labels[i * L + j];
    }
    if (!any) noLabel++;
  }
  const combos = comboCounts({ labels, labelNames: [...labelNames] });
  return {
    images: n,
    patients: new Set(patientIds).size,
    labelNames: [...labelNames],
    perLabel,
    noLabel,
    uniqueCombinations: combos.length,
    combinations: combos.map(([key, count]) => ({
      key,
      labels: labelNames.filter((_, j) => key[j] === "1"),
      count,
    })),
  };
}

/** Statistics of a dataset. */
export function datasetStats(d: Dataset): LabelStats {
  return labelStats(d.labels, d.labelNames, d.patientIds);
}

/** Options of {@linkcode makeSubset}. */
export interface SubsetOptions {
  /** Drop label combinations with fewer than this many images (counted over all three splits). */
  minCount?: number;
  /** Keep only the k most frequent combinations (after `minCount`), counted over all three splits. */
  topK?: number;
  /** Training images per kept combination; validation and test are not reduced. */
  perCombo?: number;
  /** With `perCombo`: a combination with fewer training images keeps them all (true) or throws (default). */
  allowFewer?: boolean;
  /** Seed of the per-combination draw (default 0). */
  seed?: number;
}

/** A subset: the new split rows and the combinations kept (most frequent first). */
export interface Subset extends Split {
  /** Kept combinations as keys like "0101". */
  combos: string[];
}

/**
 * The study's subsets of a split. Combination filters (`minCount`, `topK`) apply to all splits, so the
 * classifier is tested on the same label space it trains on; `perCombo` draws n training images per
 * combination (a seeded shuffle per combination, so smaller n gives a subset of larger n) while
 * validation and test stay fixed.
 */
export function makeSubset(d: Labelled, split: Split, opts: SubsetOptions = {}): Subset {
  const L = d.labelNames.length;
  const all = [...split.train, ...split.valid, ...split.test];
  let combos = comboCounts(d, all);
  if (opts.minCount !== undefined) combos = combos.filter(([, c]) => c >= opts.minCount!);
  if (opts.topK !== undefined) {
    if (!(opts.topK >= 1)) throw new Error(`subset: topK must be >= 1, got ${opts.topK}`);
    combos = combos.slice(0, opts.topK);
  }
  if (combos.length === 0) {
    throw new Error(`subset: no label combination has at least ${opts.minCount} images`);
  }
  const keep = new Set(combos.map(([k]) => k));
  const filter = (rows: number[]) => rows.filter((i) => keep.has(keyOf(d.labels, L, i)));
  const out: Subset = {
    train: filter(split.train),
    valid: filter(split.valid),
    test: filter(split.test),
    combos: combos.map(([k]) => k),
  };
  if (opts.perCombo !== undefined) {
    const n = opts.perCombo;
    if (!(n >= 1) || !Number.isInteger(n)) {
      throw new Error(`subset: perCombo must be an integer >= 1, got ${n}`);
    }
    const byCombo = new Map<string, number[]>(out.combos.map((k) => [k, []]));
    for (const i of out.train) byCombo.get(keyOf(d.labels, L, i))!.push(i);
    const train: number[] = [];
    out.combos.forEach((k) => {
      const rows = byCombo.get(k)!;
      if (rows.length < n && !opts.allowFewer) {
        throw new Error(
          `subset: combination ${describe(k, d.labelNames)} has ${rows.length} training images, ` +
            `fewer than perCombo=${n}; lower perCombo, raise minCount, or set allowFewer`,
        );
      }
      // one stream per combination: adding combinations does not change another's draw
      new Rng((fnv1a(k) ^ Math.imul(opts.seed ?? 0, 0x9e3779b1)) >>> 0).shuffle(rows);
      train.push(...rows.slice(0, n));
    });
    out.train = train.sort((a, b) => a - b);
  }
  for (const s of ["train", "valid", "test"] as const) {
    if (out[s].length === 0) throw new Error(`subset: split "${s}" is empty after filtering combinations`);
  }
  return out;
}

/** A combination key as readable label names. */
export function describe(key: string, labelNames: readonly string[]): string {
  const names = labelNames.filter((_, j) => key[j] === "1");
  return names.length ? names.join("|") : "(none)";
}

/** 32-bit FNV-1a hash of a string. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
