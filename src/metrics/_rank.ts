/**
 * Rank helpers shared by AUROC and the bootstrap (which sorts once and reweights per resample).
 * @module
 */

/** Indices that sort `scores` ascending. */
export function argsortAscending(scores: ArrayLike<number>): Int32Array {
  const idx = new Int32Array(scores.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  // comparisons, not subtraction, so +-Infinity scores sort correctly
  idx.sort((a, b) => (scores[a] < scores[b] ? -1 : scores[a] > scores[b] ? 1 : 0));
  return idx;
}

/**
 * Weighted Mann-Whitney AUC over samples visited in ascending score order `order`: for each group of
 * tied scores, its positives beat every negative seen before and tie (1/2) with the group's negatives.
 */
export function aurocFromOrder(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights: ArrayLike<number> | null,
  order: Int32Array,
): number {
  let negBefore = 0, wPos = 0, wNeg = 0, u = 0;
  const n = order.length;
  let g = 0;
  while (g < n) {
    const s = scores[order[g]];
    let gp = 0, gn = 0, e = g;
    while (e < n && scores[order[e]] === s) {
      const i = order[e];
      const w = weights === null ? 1 : weights[i];
      if (labels[i] === 1) gp += w;
      else gn += w;
      e++;
    }
    u += gp * (negBefore + 0.5 * gn);
    negBefore += gn;
    wPos += gp;
    wNeg += gn;
    g = e;
  }
  if (wPos === 0 || wNeg === 0) return NaN;
  return u / (wPos * wNeg);
}
