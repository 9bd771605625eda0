/**
 * Privacy metrics for synthetic data in a feature (or pixel) space: brute-force nearest neighbours,
 * distance to closest record (DCR), a memorisation rate and a distance-based membership-inference
 * attack.
 * @module
 */
import { checkMatrix, type Matrix } from "./_linalg.ts";
import { auroc } from "./auroc.ts";
import { percentile } from "./stats.ts";

/** "euclidean": L2 distance; "cosine": 1 - cosine similarity (as scipy's cosine distance). */
export type DistanceMetric = "euclidean" | "cosine";

/** For each query row: the index of its nearest reference row (first on ties) and the distance. */
export interface NearestNeighbours {
  index: Int32Array;
  distance: Float64Array;
}

function unitRows(m: Matrix, what: string): Float64Array {
  const d = m.cols;
  const out = new Float64Array(m.rows * d);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += m.data[i * d + j] ** 2;
    if (s === 0) throw new Error(`${what}: row ${i} is all zeros; cosine distance is undefined for it`);
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) out[i * d + j] = m.data[i * d + j] * inv;
  }
  return out;
}

/**
 * Nearest neighbour in `reference` (M, D) of every row of `query` (N, D), brute force O(N M D).
 *
 * @example
 * ```ts
 * import { matrixFromRows, nearestNeighbours } from "@medsynth/medsynth";
 * const nn = nearestNeighbours(matrixFromRows([[0, 0], [5, 5]]), matrixFromRows([[4, 4], [1, 0]]));
 * if (nn.index.join() !== "1,0" || nn.distance[0] !== 1) throw new Error("unexpected neighbours");
 * ```
 */
export function nearestNeighbours(
  query: Matrix,
  reference: Matrix,
  metric: DistanceMetric = "euclidean",
): NearestNeighbours {
  checkMatrix(query, "nearestNeighbours: query");
  checkMatrix(reference, "nearestNeighbours: reference", 1);
  if (query.cols !== reference.cols) {
    throw new Error(
      `nearestNeighbours: feature dims differ (query ${query.cols}, reference ${reference.cols})`,
    );
  }
  if (metric !== "euclidean" && metric !== "cosine") {
    throw new Error(`nearestNeighbours: metric must be "euclidean" or "cosine", got ${metric}`);
  }
  const d = query.cols, n = query.rows, m = reference.rows;
  const index = new Int32Array(n);
  const distance = new Float64Array(n);
  if (metric === "cosine") {
    const q = unitRows(query, "nearestNeighbours: query"),
      r = unitRows(reference, "nearestNeighbours: reference");
    for (let i = 0; i < n; i++) {
      let best = -Infinity, bestJ = 0;
      for (let j = 0; j < m; j++) {
        let dot = 0;
        for (let t = 0; t < d; t++) dot += q[i * d + t] * r[j * d + t];
        if (dot > best) {
          best = dot;
          bestJ = j;
        }
      }
      index[i] = bestJ;
      distance[i] = Math.max(0, 1 - best);
    }
    return { index, distance };
  }
  const q = query.data, r = reference.data;
  for (let i = 0; i < n; i++) {
    let best = Infinity, bestJ = 0;
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const v = q[i * d + t] - r[j * d + t];
        s += v * v;
      }
      if (s < best) {
        best = s;
        bestJ = j;
      }
    }
    index[i] = bestJ;
    distance[i] = Math.sqrt(best);
  }
  return { index, distance };
}

/** Distances to the closest training record, of synthetic rows and (for calibration) holdout rows. */
export interface DistanceToClosestRecord {
  synthetic: NearestNeighbours;
  holdout: NearestNeighbours;
}

/**
 * Distance to closest record: nearest training row of every synthetic row and of every real holdout
 * row. Synthetic data much closer to train than holdout data is (which the model never saw) points at
 * copying.
 *
 * @example
 * ```ts
 * import { distanceToClosestRecord, matrixFromRows } from "@medsynth/medsynth";
 * const train = matrixFromRows([[0, 0], [3, 4]]);
 * const dcr = distanceToClosestRecord(matrixFromRows([[3, 4]]), train, matrixFromRows([[1, 0]]));
 * if (dcr.synthetic.distance[0] !== 0 || dcr.holdout.distance[0] !== 1) throw new Error("unexpected DCR");
 * ```
 */
export function distanceToClosestRecord(
  synthetic: Matrix,
  train: Matrix,
  holdout: Matrix,
  metric: DistanceMetric = "euclidean",
): DistanceToClosestRecord {
  return {
    synthetic: nearestNeighbours(synthetic, train, metric),
    holdout: nearestNeighbours(holdout, train, metric),
  };
}

/** Memorisation rate and the distance threshold it used. */
export interface MemorisationRate {
  rate: number;
  threshold: number;
}

/**
 * Share of synthetic samples strictly closer to their nearest training record than the `q`-th
 * percentile (default 1st; numpy "linear" interpolation) of the holdout->train distances: real
 * unseen data is that close only q% of the time, so a rate well above q/100 means copies.
 *
 * @example
 * ```ts
 * import { memorisationRate } from "@medsynth/medsynth";
 * const r = memorisationRate([0, 0, 2, 3], [1, 2, 3, 4, 5]);
 * if (r.rate !== 0.5 || r.threshold !== 1.04) throw new Error("unexpected memorisation rate");
 * ```
 */
export function memorisationRate(
  syntheticToTrain: ArrayLike<number>,
  holdoutToTrain: ArrayLike<number>,
  q = 1,
): MemorisationRate {
  if (syntheticToTrain.length === 0) throw new Error("memorisationRate: no synthetic distances");
  const threshold = percentile(holdoutToTrain, q);
  let c = 0;
  for (let i = 0; i < syntheticToTrain.length; i++) if (syntheticToTrain[i] < threshold) c++;
  return { rate: c / syntheticToTrain.length, threshold };
}

/** Result of the distance-based membership-inference attack. */
export interface MembershipInference {
  /** AUROC of members (1) vs non-members (0) scored by -distance to the closest synthetic record. */
  auc: number;
  /** Distance of each member row to its closest synthetic row. */
  memberDistance: Float64Array;
  /** Distance of each non-member row to its closest synthetic row. */
  nonMemberDistance: Float64Array;
}

/**
 * Distance-based membership inference: an attacker holding the synthetic set guesses that a real
 * record was in the training set when a synthetic record lies close to it (score = -distance to the
 * closest synthetic record). AUC 0.5 = no leak; near 1 = training records can be recognised.
 *
 * @example
 * ```ts
 * import { matrixFromRows, membershipInferenceAuc } from "@medsynth/medsynth";
 * const members = matrixFromRows([[0, 0], [10, 0]]);
 * const nonMembers = matrixFromRows([[5, 5], [0, 9]]);
 * const r = membershipInferenceAuc(members, members, nonMembers); // synthetic = copies of train
 * if (r.auc !== 1) throw new Error("copies should be fully recognisable");
 * ```
 */
export function membershipInferenceAuc(
  synthetic: Matrix,
  members: Matrix,
  nonMembers: Matrix,
  metric: DistanceMetric = "euclidean",
): MembershipInference {
  const memberDistance = nearestNeighbours(members, synthetic, metric).distance;
  const nonMemberDistance = nearestNeighbours(nonMembers, synthetic, metric).distance;
  const scores = new Float64Array(memberDistance.length + nonMemberDistance.length);
  const labels = new Float64Array(scores.length);
  memberDistance.forEach((v, i) => {
    scores[i] = -v;
    labels[i] = 1;
  });
  nonMemberDistance.forEach((v, i) => (scores[memberDistance.length + i] = -v));
  return { auc: auroc(scores, labels), memberDistance, nonMemberDistance };
}
