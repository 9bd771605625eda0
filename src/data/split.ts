/**
 * Patient-level train/validation/test splits: all images of one patient go to one split, so no patient
 * leaks between training and evaluation. Seeded and deterministic.
 * @module
 */
import { type Dataset, selectRows } from "./dataset.ts";
import { Rng } from "../util/rng.ts";

/** Row indices of each split, ascending. */
export interface Split {
  /** Training rows. */
  train: number[];
  /** Validation rows. */
  valid: number[];
  /** Test rows. */
  test: number[];
}

/** Names of the three splits. */
export const SPLIT_NAMES: readonly (keyof Split)[] = ["train", "valid", "test"];

/** Options of {@linkcode splitByPatient}. */
export interface SplitOptions {
  /** Fractions of images for train, valid, test (normalised; default 0.8, 0.1, 0.1). */
  fractions?: readonly [number, number, number];
  /** Seed of the patient shuffle (default 0). */
  seed?: number;
}

/**
 * Splits rows by patient: patients (sorted, so the row order does not matter) are shuffled with the seed,
 * then each goes to the split with the largest relative shortfall of images, which meets the image
 * fractions as closely as whole patients allow. Throws if a split with a non-zero fraction ends empty.
 */
export function splitByPatient(patientIds: readonly string[], opts: SplitOptions = {}): Split {
  const fr = opts.fractions ?? [0.8, 0.1, 0.1];
  if (fr.length !== 3 || fr.some((f) => !(f >= 0)) || !(fr[0] + fr[1] + fr[2] > 0)) {
    throw new Error(`split fractions must be three numbers >= 0 with a positive sum, got ${fr.join(", ")}`);
  }
  const total = fr[0] + fr[1] + fr[2];
  const rowsOf = new Map<string, number[]>();
  patientIds.forEach((p, i) => {
    let r = rowsOf.get(p);
    if (!r) rowsOf.set(p, r = []);
    r.push(i);
  });
  const patients = [...rowsOf.keys()].sort();
  new Rng(opts.seed ?? 0).shuffle(patients);
  const n = patientIds.length;
  const target = fr.map((f) => (f / total) * n);
  const count = [0, 0, 0];
  const out: Split = { train: [], valid: [], test: [] };
  for (const p of patients) {
    const rows = rowsOf.get(p)!;
    // the split with the largest relative deficit after taking half this patient: proportional
    // interleaving, and a large patient does not overshoot a small split
    let best = -1, bestV = -Infinity;
    for (let k = 0; k < 3; k++) {
      if (!(target[k] > 0)) continue;
      const v = (target[k] - count[k] - rows.length / 2) / target[k];
      if (v > bestV) [best, bestV] = [k, v];
    }
    out[SPLIT_NAMES[best]].push(...rows);
    count[best] += rows.length;
  }
  SPLIT_NAMES.forEach((s, k) => {
    out[s].sort((a, b) => a - b);
    if (fr[k] > 0 && out[s].length === 0) {
      throw new Error(
        `split "${s}" is empty: ${patients.length} patients / ${n} images cannot fill fractions ` +
          `${fr.join("/")}; use more data or other fractions`,
      );
    }
  });
  return out;
}

/** Throws if any patient appears in two splits or any row is in two splits. */
export function assertPatientDisjoint(patientIds: readonly string[], split: Split): void {
  const owner = new Map<string, string>();
  const rowOwner = new Map<number, string>();
  for (const s of SPLIT_NAMES) {
    for (const i of split[s]) {
      const r = rowOwner.get(i);
      if (r !== undefined) throw new Error(`row ${i} is in both "${r}" and "${s}"`);
      rowOwner.set(i, s);
      const o = owner.get(patientIds[i]);
      if (o !== undefined && o !== s) {
        throw new Error(`patient "${patientIds[i]}" is in both "${o}" and "${s}"`);
      }
      owner.set(patientIds[i], s);
    }
  }
}

/** The three split datasets (copies) of `d`. */
export function splitDataset(d: Dataset, split: Split): { train: Dataset; valid: Dataset; test: Dataset } {
  return {
    train: selectRows(d, split.train),
    valid: selectRows(d, split.valid),
    test: selectRows(d, split.test),
  };
}
