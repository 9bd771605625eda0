/**
 * Precision, recall, density and coverage of generated samples (Naeem et al. 2020, "Reliable
 * Fidelity and Diversity Metrics for Generative Models"), Euclidean k-NN balls in a feature space.
 * Follows the authors' `prdc` package: a real point's radius is the distance to its k-th nearest
 * other real point, comparisons are strict (<).
 * @module
 */
import { checkMatrix, type Matrix } from "./_linalg.ts";

/** The four PRDC numbers. */
export interface Prdc {
  /** Share of fake samples inside at least one real k-NN ball. */
  precision: number;
  /** Share of real samples inside at least one fake k-NN ball. */
  recall: number;
  /** Mean number of real balls containing a fake sample, divided by k (can exceed 1). */
  density: number;
  /** Share of real samples whose ball contains at least one fake sample. */
  coverage: number;
}

function dist(x: ArrayLike<number>, i: number, y: ArrayLike<number>, j: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const v = x[i * d + t] - y[j * d + t];
    s += v * v;
  }
  return Math.sqrt(s);
}

/** Distance from each row to its k-th nearest other row (self, at distance 0, is the 0-th). */
function kthNeighbourRadii(m: Matrix, k: number): Float64Array {
  const n = m.rows, d = m.cols;
  const radii = new Float64Array(n);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) row[j] = j === i ? 0 : dist(m.data, i, m.data, j, d);
    radii[i] = row.slice().sort()[k];
  }
  return radii;
}

/**
 * PRDC of `fake` (M, D) against `real` (N, D) with k nearest neighbours (1 <= k < N and k < M).
 * Cost O((N + M)^2 D); no N x M matrix is stored.
 *
 * @example
 * ```ts
 * import { matrixFromRows, prdc } from "@medsynth/medsynth";
 * const real = matrixFromRows([[0, 0], [1, 0], [0, 1], [1, 1]]);
 * const r = prdc(real, real, 1);
 * if (r.precision !== 1 || r.recall !== 1 || r.coverage !== 1) throw new Error("identical sets");
 * ```
 */
export function prdc(real: Matrix, fake: Matrix, k = 5): Prdc {
  checkMatrix(real, "prdc: real", 2);
  checkMatrix(fake, "prdc: fake", 2);
  if (real.cols !== fake.cols) throw new Error(`prdc: feature dims differ (${real.cols} vs ${fake.cols})`);
  if (!Number.isInteger(k) || k < 1 || k >= real.rows || k >= fake.rows) {
    throw new Error(
      `prdc: k must be an integer in [1, min(rows) - 1]; got k = ${k}, rows ${real.rows}/${fake.rows}`,
    );
  }
  const n = real.rows, m = fake.rows, d = real.cols;
  const rReal = kthNeighbourRadii(real, k);
  const rFake = kthNeighbourRadii(fake, k);
  const fakeBalls = new Int32Array(m); // real balls containing each fake sample
  const realInFake = new Uint8Array(n);
  const realCovered = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let minD = Infinity;
    for (let j = 0; j < m; j++) {
      const dij = dist(real.data, i, fake.data, j, d);
      if (dij < rReal[i]) fakeBalls[j]++;
      if (dij < rFake[j]) realInFake[i] = 1;
      if (dij < minD) minD = dij;
    }
    if (minD < rReal[i]) realCovered[i] = 1;
  }
  let prec = 0, dens = 0, rec = 0, cov = 0;
  for (let j = 0; j < m; j++) {
    if (fakeBalls[j] > 0) prec++;
    dens += fakeBalls[j];
  }
  for (let i = 0; i < n; i++) {
    rec += realInFake[i];
    cov += realCovered[i];
  }
  return { precision: prec / m, recall: rec / n, density: dens / (k * m), coverage: cov / n };
}
