/**
 * Fréchet distance between two feature sets (FID when the features come from Inception; here any
 * feature extractor): |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), unbiased covariances (ddof = 1,
 * as pytorch-fid / numpy.cov). Float64 throughout.
 * @module
 */
import { checkMatrix, matmulSquare, type Matrix, meanCov, sqrtPsd, symEig } from "./_linalg.ts";

export type { Matrix } from "./_linalg.ts";
export { matrixFromRows } from "./_linalg.ts";

/** Mean (D) and unbiased covariance (D, D, row-major) of a feature set. */
export interface FeatureStats {
  mean: Float64Array;
  cov: Float64Array;
  dim: number;
}

/**
 * Mean and unbiased covariance (ddof = 1) of (N, D) features; N >= 2.
 *
 * @example
 * ```ts
 * import { featureStats, matrixFromRows } from "@medsynth/medsynth";
 * const s = featureStats(matrixFromRows([[0, 0], [2, 4]]));
 * if (s.mean[1] !== 2 || s.cov[3] !== 8) throw new Error("unexpected stats");
 * ```
 */
export function featureStats(feats: Matrix): FeatureStats {
  checkMatrix(feats, "featureStats: features", 2);
  const { mean, cov } = meanCov(feats);
  return { mean, cov, dim: feats.cols };
}

/**
 * Fréchet distance from precomputed statistics. tr((S1 S2)^(1/2)) is computed as the sum of square
 * roots of the eigenvalues of the symmetric PSD matrix sqrt(S1) S2 sqrt(S1) (same spectrum as S1 S2),
 * negative rounding-level eigenvalues clipped to 0, so no complex matrix square root is needed.
 * Accuracy: ~1e-12 relative for full-rank covariances; with rank-deficient ones (N <= D) each null
 * direction adds up to ~sqrt(machine eps) * |S| of noise (as with scipy.linalg.sqrtm in pytorch-fid),
 * so a distance near 0 may come out slightly negative. The result is not clamped.
 *
 * @example
 * ```ts
 * import { frechetFromStats } from "@medsynth/medsynth";
 * const eye = new Float64Array([1, 0, 0, 1]);
 * const a = { mean: new Float64Array([0, 0]), cov: eye, dim: 2 };
 * const b = { mean: new Float64Array([3, 4]), cov: eye, dim: 2 };
 * if (Math.abs(frechetFromStats(a, b) - 25) > 1e-12) throw new Error("FD of shifted identity should be 25");
 * ```
 */
export function frechetFromStats(a: FeatureStats, b: FeatureStats): number {
  if (a.dim !== b.dim) throw new Error(`frechetFromStats: feature dims differ (${a.dim} vs ${b.dim})`);
  const d = a.dim;
  let diff2 = 0;
  for (let i = 0; i < d; i++) diff2 += (a.mean[i] - b.mean[i]) ** 2;
  let tr1 = 0, tr2 = 0;
  for (let i = 0; i < d; i++) {
    tr1 += a.cov[i * d + i];
    tr2 += b.cov[i * d + i];
  }
  const r = sqrtPsd(Float64Array.from(a.cov), d);
  const m = matmulSquare(matmulSquare(r, Float64Array.from(b.cov), d), r, d);
  // symmetrise away rounding so the symmetric solver sees exactly one triangle's values
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const v = 0.5 * (m[i * d + j] + m[j * d + i]);
      m[i * d + j] = v;
      m[j * d + i] = v;
    }
  }
  let trSqrt = 0;
  for (const l of symEig(m, d, false).values) trSqrt += Math.sqrt(Math.max(l, 0));
  return diff2 + tr1 + tr2 - 2 * trSqrt;
}

/**
 * Fréchet distance between two (N, D) feature sets (N >= 2 each, same D).
 *
 * @example
 * ```ts
 * import { frechetDistance, matrixFromRows } from "@medsynth/medsynth";
 * const a = matrixFromRows([[0, 1], [1, 0], [2, 2], [1, 3]]);
 * if (Math.abs(frechetDistance(a, a)) > 1e-9) throw new Error("FD(a, a) should be 0");
 * ```
 */
export function frechetDistance(featsA: Matrix, featsB: Matrix): number {
  return frechetFromStats(featureStats(featsA), featureStats(featsB));
}
