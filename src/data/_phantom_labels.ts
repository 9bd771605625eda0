/**
 * Exact label plans for the phantom: which findings each slice gets. Counts are never sampled: they are
 * the rounded expectations (largest-remainder rounding, so they add up to the total), assigned exactly
 * and then shuffled with the seed.
 * @module
 */

import type { Rng } from "../util/rng.ts";
import { PHANTOM_SUBTYPES, type PhantomSubtype } from "./_phantom_lesions.ts";

/** A set of findings with a weight (relative frequency). */
export interface WeightedCombo {
  /** The findings of this combination ([] = no finding). */
  findings: readonly PhantomSubtype[];
  /** Relative frequency (> 0; normalised over all combinations). */
  weight: number;
}

/**
 * How many slices and which findings each has. Every kind gives exact counts:
 * - `prevalence`: each subtype is positive on exactly round(count × p) slices, chosen independently per
 *   subtype by the seed (so findings co-occur as they would by chance);
 * - `combos`: a joint distribution over combinations; combination i gets exactly its largest-remainder
 *   rounded share of `count`;
 * - `topCombos`: the `combos` most likely combinations under `prevalence` (independent subtypes; ties go
 *   to fewer findings, then label order), `perCombo` slices each: the paper's "k combinations × n samples";
 * - `explicit`: the findings of every slice, in order (not shuffled), e.g. to mirror a real dataset.
 */
export type PhantomLabelSpec =
  | {
    /** Independent subtypes with exact per-subtype counts. */
    kind: "prevalence";
    /** Number of slices. */
    count: number;
    /** Fraction of slices positive for each subtype, in [0, 1]. */
    prevalence: Readonly<Record<PhantomSubtype, number>>;
  }
  | {
    /** A joint distribution over combinations. */
    kind: "combos";
    /** Number of slices. */
    count: number;
    /** The combinations and their weights (each combination at most once). */
    combos: readonly WeightedCombo[];
  }
  | {
    /** k most likely combinations × n slices each. */
    kind: "topCombos";
    /** Number of unique combinations k (1-32; "no finding" counts as one). */
    combos: number;
    /** Slices per combination n. */
    perCombo: number;
    /** Subtype prevalences that rank the combinations; default {@linkcode RSNA_PREVALENCE}. */
    prevalence?: Readonly<Record<PhantomSubtype, number>>;
    /** Only combinations of at most this many findings; default 5. */
    maxFindings?: number;
  }
  | {
    /** Explicit per-slice findings. */
    kind: "explicit";
    /** Findings of each slice ([] = no finding). */
    findings: readonly (readonly PhantomSubtype[])[];
  };

/**
 * Per-slice prevalences in the RSNA 2019 intracranial-hemorrhage training set (752,803 slices; any
 * hemorrhage 14.3 %), used to rank combinations for `topCombos`.
 */
export const RSNA_PREVALENCE: Readonly<Record<PhantomSubtype, number>> = {
  epidural: 0.0042,
  intraparenchymal: 0.048,
  intraventricular: 0.0348,
  subarachnoid: 0.0474,
  subdural: 0.0627,
};

/** Splits `total` over `weights` in proportion, rounding by largest remainder (ties: lower index). */
export function largestRemainder(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new Error("phantom labels: weights must have a positive sum");
  const exact = weights.map((w) => (w / sum) * total);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let r = 0; left > 0; r++, left--) counts[order[r][1]]++;
  return counts;
}

/** All 32 combinations as findings lists, bit j = PHANTOM_SUBTYPES[j]. */
function allCombos(): PhantomSubtype[][] {
  const out: PhantomSubtype[][] = [];
  for (let m = 0; m < 32; m++) out.push(PHANTOM_SUBTYPES.filter((_, j) => (m >> j) & 1));
  return out;
}

function checkCount(n: number, field: string): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`phantom labels: ${field} must be an integer >= 0, got ${n}`);
  }
}

function checkFindings(f: readonly string[], where: string): void {
  for (const s of f) {
    if (!(PHANTOM_SUBTYPES as readonly string[]).includes(s)) {
      throw new Error(
        `phantom labels: ${where}: unknown subtype "${s}" (use ${PHANTOM_SUBTYPES.join(", ")})`,
      );
    }
  }
  if (new Set(f).size !== f.length) throw new Error(`phantom labels: ${where}: a subtype is listed twice`);
}

function checkPrevalence(p: Readonly<Record<string, number>>, where: string): void {
  for (const s of PHANTOM_SUBTYPES) {
    const v = p[s];
    if (!(v >= 0 && v <= 1)) throw new Error(`phantom labels: ${where}.${s} must be in [0, 1], got ${v}`);
  }
  checkFindings(Object.keys(p), where);
}

/** Findings in label order (a canonical form). */
function canonical(f: readonly PhantomSubtype[]): PhantomSubtype[] {
  return PHANTOM_SUBTYPES.filter((s) => f.includes(s));
}

/** The findings of every slice, exactly as `spec` asks, shuffled with `rng` (except `explicit`). */
export function planLabels(spec: PhantomLabelSpec, rng: Rng): PhantomSubtype[][] {
  switch (spec.kind) {
    case "prevalence": {
      checkCount(spec.count, "count");
      checkPrevalence(spec.prevalence, "prevalence");
      const rows: PhantomSubtype[][] = Array.from({ length: spec.count }, () => []);
      const idx = Array.from({ length: spec.count }, (_, i) => i);
      for (const s of PHANTOM_SUBTYPES) {
        rng.shuffle(idx);
        const k = Math.round(spec.count * spec.prevalence[s]);
        for (let r = 0; r < k; r++) rows[idx[r]].push(s);
      }
      return rows.map(canonical);
    }
    case "combos": {
      checkCount(spec.count, "count");
      if (spec.combos.length === 0) throw new Error("phantom labels: combos is empty");
      const keys = new Set<string>();
      spec.combos.forEach((c, i) => {
        checkFindings(c.findings, `combos[${i}]`);
        if (!(c.weight >= 0)) {
          throw new Error(`phantom labels: combos[${i}].weight must be >= 0, got ${c.weight}`);
        }
        const key = canonical(c.findings).join("+");
        if (keys.has(key)) throw new Error(`phantom labels: combos[${i}] repeats the combination "${key}"`);
        keys.add(key);
      });
      const counts = largestRemainder(spec.combos.map((c) => c.weight), spec.count);
      const rows: PhantomSubtype[][] = [];
      spec.combos.forEach((c, i) => {
        for (let r = 0; r < counts[i]; r++) rows.push(canonical(c.findings));
      });
      return rng.shuffle(rows) as PhantomSubtype[][];
    }
    case "topCombos": {
      checkCount(spec.perCombo, "perCombo");
      const prev = spec.prevalence ?? RSNA_PREVALENCE;
      checkPrevalence(prev, "prevalence");
      const maxF = spec.maxFindings ?? 5;
      const pool = allCombos().filter((c) => c.length <= maxF);
      if (!Number.isInteger(spec.combos) || spec.combos < 1 || spec.combos > pool.length) {
        throw new Error(
          `phantom labels: combos must be an integer in [1, ${pool.length}], got ${spec.combos}`,
        );
      }
      const top = rankCombos(pool, prev).slice(0, spec.combos);
      const rows: PhantomSubtype[][] = [];
      for (const c of top) for (let r = 0; r < spec.perCombo; r++) rows.push(c);
      return rng.shuffle(rows) as PhantomSubtype[][];
    }
    case "explicit": {
      spec.findings.forEach((f, i) => checkFindings(f, `findings[${i}]`));
      return spec.findings.map(canonical);
    }
  }
}

/** Combinations sorted by probability under independent prevalences (ties: fewer findings, label order). */
export function rankCombos(
  pool: readonly PhantomSubtype[][],
  prevalence: Readonly<Record<PhantomSubtype, number>>,
): PhantomSubtype[][] {
  const prob = (c: readonly PhantomSubtype[]) =>
    PHANTOM_SUBTYPES.reduce((p, s) => p * (c.includes(s) ? prevalence[s] : 1 - prevalence[s]), 1);
  const bits = (c: readonly PhantomSubtype[]) =>
    c.reduce((m, s) => m | (1 << PHANTOM_SUBTYPES.indexOf(s)), 0);
  return [...pool].sort((x, y) => prob(y) - prob(x) || x.length - y.length || bits(x) - bits(y));
}

/** Every combination of at most `maxFindings` findings ([] first, then singles, pairs, …). */
export function combosUpTo(maxFindings: number): PhantomSubtype[][] {
  return allCombos().filter((c) => c.length <= maxFindings).sort((x, y) => x.length - y.length);
}
