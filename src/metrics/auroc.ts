/**
 * ROC AUC (Mann-Whitney U with averaged ranks for ties), ROC curves, per-label AUROC for
 * multi-label (N, L) scores.
 * @module
 */
import { checkMatrix, type Matrix } from "./_linalg.ts";
import { argsortAscending, aurocFromOrder } from "./_rank.ts";

function checkScoresLabels(scores: ArrayLike<number>, labels: ArrayLike<number>, fn: string): void {
  if (scores.length !== labels.length) {
    throw new Error(`${fn}: ${scores.length} scores but ${labels.length} labels; pass one label per score`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new Error(`${fn}: score ${i} is NaN; scores must be numbers`);
    if (labels[i] !== 0 && labels[i] !== 1) {
      throw new Error(`${fn}: label ${i} is ${labels[i]}; labels must be 0 (negative) or 1 (positive)`);
    }
  }
}

/**
 * AUROC of `scores` (higher = more positive) against binary `labels` (0/1), exact Mann-Whitney
 * statistic with tied scores given averaged ranks (so a tie counts 1/2, as sklearn's trapezoidal
 * roc_auc_score). Undefined, and returned as NaN, when either class is absent.
 *
 * @example
 * ```ts
 * import { auroc } from "@medsynth/medsynth";
 * if (auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) !== 0.75) throw new Error("expected 0.75");
 * if (!Number.isNaN(auroc([0.2, 0.3], [1, 1]))) throw new Error("one class: undefined (NaN)");
 * ```
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkScoresLabels(scores, labels, "auroc");
  return weightedAurocUnchecked(scores, labels, null);
}

/**
 * AUROC where sample i counts `weights[i]` times (weights >= 0); integer weights give exactly the
 * AUROC of the data with sample i repeated weights[i] times (a bootstrap resample). NaN when the
 * weighted count of either class is 0.
 *
 * @example
 * ```ts
 * import { auroc, weightedAuroc } from "@medsynth/medsynth";
 * const w = weightedAuroc([0.1, 0.5, 0.3], [0, 1, 0], [2, 1, 1]);
 * if (w !== auroc([0.1, 0.1, 0.5, 0.3], [0, 0, 1, 0])) throw new Error("weights = repeats");
 * ```
 */
export function weightedAuroc(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights: ArrayLike<number>,
): number {
  checkScoresLabels(scores, labels, "weightedAuroc");
  if (weights.length !== scores.length) {
    throw new Error(`weightedAuroc: ${weights.length} weights for ${scores.length} scores`);
  }
  for (let i = 0; i < weights.length; i++) {
    if (!(weights[i] >= 0) || !Number.isFinite(weights[i])) {
      throw new Error(`weightedAuroc: weight ${i} is ${weights[i]}; weights must be finite and >= 0`);
    }
  }
  return weightedAurocUnchecked(scores, labels, weights);
}

function weightedAurocUnchecked(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights: ArrayLike<number> | null,
): number {
  return aurocFromOrder(scores, labels, weights, argsortAscending(scores));
}

/** A ROC curve: false/true positive rates at each threshold (score >= threshold counts positive). */
export interface RocCurve {
  fpr: Float64Array;
  tpr: Float64Array;
  thresholds: Float64Array;
}

/**
 * ROC curve like sklearn.metrics.roc_curve with drop_intermediate=False: one point per distinct
 * score (descending) plus a leading (0, 0) point whose threshold is +Infinity (sklearn >= 1.3; older
 * sklearn used max score + 1). fpr (tpr) is NaN throughout when there are no negatives (positives).
 *
 * @example
 * ```ts
 * import { rocCurve } from "@medsynth/medsynth";
 * const r = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
 * if (r.tpr.join() !== "0,0.5,0.5,1,1" || r.fpr.join() !== "0,0,0.5,0.5,1") throw new Error("bad ROC");
 * ```
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocCurve {
  checkScoresLabels(scores, labels, "rocCurve");
  const order = argsortAscending(scores).reverse();
  const tps: number[] = [0], fps: number[] = [0], thr: number[] = [Infinity];
  let tp = 0, fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (labels[i] === 1) tp++;
    else fp++;
    if (k === order.length - 1 || scores[order[k + 1]] !== scores[i]) {
      tps.push(tp);
      fps.push(fp);
      thr.push(scores[i]);
    }
  }
  return {
    fpr: Float64Array.from(fps, (v) => v / fp),
    tpr: Float64Array.from(tps, (v) => v / tp),
    thresholds: Float64Array.from(thr),
  };
}

/**
 * AUROC per label (column) of (N, L) scores against (N, L) 0/1 labels; `null` where a label is
 * undefined (all positive or all negative in these rows).
 *
 * @example
 * ```ts
 * import { aurocPerLabel, matrixFromRows, meanAuroc } from "@medsynth/medsynth";
 * const scores = matrixFromRows([[0.9, 0.2], [0.1, 0.7], [0.8, 0.1]]);
 * const labels = matrixFromRows([[1, 0], [0, 0], [1, 0]]);
 * const per = aurocPerLabel(scores, labels);
 * if (per[0] !== 1 || per[1] !== null || meanAuroc(per) !== 1) throw new Error("unexpected");
 * ```
 */
export function aurocPerLabel(scores: Matrix, labels: Matrix): (number | null)[] {
  checkMatrix(scores, "aurocPerLabel: scores");
  checkMatrix(labels, "aurocPerLabel: labels");
  if (scores.rows !== labels.rows || scores.cols !== labels.cols) {
    throw new Error(
      `aurocPerLabel: scores (${scores.rows}, ${scores.cols}) and labels (${labels.rows}, ${labels.cols}) differ in shape`,
    );
  }
  const n = scores.rows, l = scores.cols;
  const out: (number | null)[] = [];
  const s = new Float64Array(n), y = new Float64Array(n);
  for (let j = 0; j < l; j++) {
    for (let i = 0; i < n; i++) {
      s[i] = scores.data[i * l + j];
      y[i] = labels.data[i * l + j];
    }
    const a = auroc(s, y);
    out.push(Number.isNaN(a) ? null : a);
  }
  return out;
}

/**
 * Mean of the defined (non-null, non-NaN) per-label AUROCs; NaN when none is defined.
 *
 * @example
 * ```ts
 * import { meanAuroc } from "@medsynth/medsynth";
 * if (meanAuroc([0.8, null, 0.6]) !== 0.7) throw new Error("mean over defined labels");
 * ```
 */
export function meanAuroc(perLabel: ArrayLike<number | null>): number {
  let sum = 0, count = 0;
  for (let i = 0; i < perLabel.length; i++) {
    const v = perLabel[i];
    if (v !== null && !Number.isNaN(v)) {
      sum += v;
      count++;
    }
  }
  return count === 0 ? NaN : sum / count;
}
