/**
 * Kernel Inception Distance (here: kernel distance in any feature space): unbiased MMD^2 with the
 * polynomial kernel k(x, y) = (x . y / d + 1)^3, averaged over random subsets, as torch-fidelity and
 * clean-fid compute it.
 * @module
 */
import { checkMatrix, type Matrix } from "./_linalg.ts";
import { Rng } from "../util/rng.ts";

/** Options of {@linkcode kid}. */
export interface KidOptions {
  /** Number of random subset pairs (torch-fidelity default 100). */
  subsets?: number;
  /** Rows per subset, drawn without replacement from each set (default min(1000, rows of a, rows of b)). */
  subsetSize?: number;
  /** Seed of the subset draws. */
  seed?: number;
}

/** KID over subsets: mean and population std (ddof = 0, as torch-fidelity) of the per-subset MMD^2. */
export interface KidResult {
  mean: number;
  std: number;
  values: Float64Array;
}

function gather(m: Matrix, rows: ArrayLike<number>, count: number): Float64Array {
  const d = m.cols;
  const out = new Float64Array(count * d); // (count, D)
  for (let i = 0; i < count; i++) {
    const src = rows[i] * d;
    for (let j = 0; j < d; j++) out[i * d + j] = m.data[src + j];
  }
  return out;
}

/** Sum over the kernel matrix of x (m, d) with y (n, d); with `offDiagonal` (x = y) the diagonal is left out. */
function kernelSum(
  x: Float64Array,
  m: number,
  y: Float64Array,
  n: number,
  d: number,
  offDiagonal: boolean,
): number {
  let total = 0;
  for (let i = 0; i < m; i++) {
    const xi = i * d;
    // for x = y the matrix is symmetric: sum the strict upper triangle twice
    for (let j = offDiagonal ? i + 1 : 0; j < n; j++) {
      const yj = j * d;
      let dot = 0;
      for (let k = 0; k < d; k++) dot += x[xi + k] * y[yj + k];
      const kv = (dot / d + 1) ** 3;
      total += offDiagonal ? 2 * kv : kv;
    }
  }
  return total;
}

function mmd2(x: Float64Array, m: number, y: Float64Array, n: number, d: number): number {
  return kernelSum(x, m, x, m, d, true) / (m * (m - 1)) + kernelSum(y, n, y, n, d, true) / (n * (n - 1)) -
    2 * kernelSum(x, m, y, n, d, false) / (m * n);
}

/**
 * Unbiased MMD^2 between all rows of `a` (m, D) and `b` (n, D) with the cubic polynomial kernel:
 * off-diagonal means of K_aa and K_bb minus twice the full mean of K_ab (for m = n exactly
 * torch-fidelity's `mmd2(..., mmd_est="unbiased")`). Needs m, n >= 2.
 *
 * @example
 * ```ts
 * import { matrixFromRows, mmd2Polynomial } from "@medsynth/medsynth";
 * const a = matrixFromRows([[0, 1], [1, 0], [1, 1]]);
 * const b = matrixFromRows([[3, 3], [4, 2], [2, 4]]);
 * if (!(mmd2Polynomial(a, b) > mmd2Polynomial(a, a))) throw new Error("distant sets should score higher");
 * ```
 */
export function mmd2Polynomial(a: Matrix, b: Matrix): number {
  checkMatrix(a, "mmd2Polynomial: a", 2);
  checkMatrix(b, "mmd2Polynomial: b", 2);
  if (a.cols !== b.cols) throw new Error(`mmd2Polynomial: feature dims differ (${a.cols} vs ${b.cols})`);
  return mmd2(Float64Array.from(a.data), a.rows, Float64Array.from(b.data), b.rows, a.cols);
}

/**
 * KID between (N, D) feature sets: for each of `subsets` rounds, draw `subsetSize` rows of each set
 * without replacement (seeded partial Fisher-Yates) and compute the unbiased MMD^2; report mean and
 * std. With subsetSize equal to both row counts every round uses the full sets.
 *
 * @example
 * ```ts
 * import { kid, matrixFromRows } from "@medsynth/medsynth";
 * const a = matrixFromRows([[0, 1], [1, 0], [1, 1], [0, 0]]);
 * const b = matrixFromRows([[3, 3], [4, 2], [2, 4], [3, 2]]);
 * const r = kid(a, b, { subsets: 5, subsetSize: 3, seed: 1 });
 * if (r.values.length !== 5 || !(r.mean > 0)) throw new Error("unexpected KID");
 * ```
 */
export function kid(a: Matrix, b: Matrix, opts: KidOptions = {}): KidResult {
  checkMatrix(a, "kid: a", 2);
  checkMatrix(b, "kid: b", 2);
  if (a.cols !== b.cols) throw new Error(`kid: feature dims differ (${a.cols} vs ${b.cols})`);
  const subsets = opts.subsets ?? 100;
  const size = opts.subsetSize ?? Math.min(1000, a.rows, b.rows);
  if (!Number.isInteger(subsets) || subsets < 1) {
    throw new Error(`kid: subsets must be an integer >= 1, got ${subsets}`);
  }
  if (!Number.isInteger(size) || size < 2 || size > a.rows || size > b.rows) {
    throw new Error(
      `kid: subsetSize ${size} must be an integer in [2, min(rows)] = [2, ${Math.min(a.rows, b.rows)}]`,
    );
  }
  const rng = new Rng(opts.seed ?? 0);
  const permA = Int32Array.from({ length: a.rows }, (_, i) => i);
  const permB = Int32Array.from({ length: b.rows }, (_, i) => i);
  const values = new Float64Array(subsets);
  for (let s = 0; s < subsets; s++) {
    partialShuffle(permA, size, rng);
    partialShuffle(permB, size, rng);
    values[s] = mmd2(gather(a, permA, size), size, gather(b, permB, size), size, a.cols);
  }
  let mean = 0;
  for (const v of values) mean += v;
  mean /= subsets;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return { mean, std: Math.sqrt(ss / subsets), values };
}

/** Puts a uniform random size-`k` sample (without replacement) of `perm` into its first k slots. */
function partialShuffle(perm: Int32Array, k: number, rng: Rng): void {
  const n = perm.length;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
}
