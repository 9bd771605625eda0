/**
 * Statistics for the reader study and the evaluation: exact binomial test, Wilson interval, Fleiss'
 * kappa, sensitivity/specificity, normal quantiles and numpy-style percentiles. Each matches a named
 * scipy/statsmodels/numpy routine (see the function docs).
 * @module
 */

// ---------------------------------------------------------------------------------------------
// Normal quantile: Wichura (1988), Algorithm AS 241 (PPND16), accurate to about 1e-16.

const A = [
  3.3871328727963666080e0,
  1.3314166789178437745e+2,
  1.9715909503065514427e+3,
  1.3731693765509461125e+4,
  4.5921953931549871457e+4,
  6.7265770927008700853e+4,
  3.3430575583588128105e+4,
  2.5090809287301226727e+3,
];
const B = [
  1,
  4.2313330701600911252e+1,
  6.8718700749205790830e+2,
  5.3941960214247511077e+3,
  2.1213794301586595867e+4,
  3.9307895800092710610e+4,
  2.8729085735721942674e+4,
  5.2264952788528545610e+3,
];
const C = [
  1.42343711074968357734e0,
  4.63033784615654529590e0,
  5.76949722146069140550e0,
  3.64784832476320460504e0,
  1.27045825245236838258e0,
  2.41780725177450611770e-1,
  2.27238449892691845833e-2,
  7.74545014278341407640e-4,
];
const D = [
  1,
  2.05319162663775882187e0,
  1.67638483018380384940e0,
  6.89767334985100004550e-1,
  1.48103976427480074590e-1,
  1.51986665636164571966e-2,
  5.47593808499534494600e-4,
  1.05075007164441684324e-9,
];
const E = [
  6.65790464350110377720e0,
  5.46378491116411436990e0,
  1.78482653991729133580e0,
  2.96560571828504891230e-1,
  2.65321895265761230930e-2,
  1.24266094738807843860e-3,
  2.71155556874348757815e-5,
  2.01033439929228813265e-7,
];
const F = [
  1,
  5.99832206555887937690e-1,
  1.36929880922735805310e-1,
  1.48753612908506148525e-2,
  7.86869131145613259100e-4,
  1.84631831751005468180e-5,
  1.42151175831644588870e-7,
  2.04426310338993978564e-15,
];

function poly(c: number[], x: number): number {
  let acc = 0;
  for (let i = c.length - 1; i >= 0; i--) acc = acc * x + c[i];
  return acc;
}

/**
 * Quantile function (inverse CDF) of the standard normal distribution, as scipy.stats.norm.ppf
 * (Wichura's AS 241). Returns -Infinity at 0, +Infinity at 1, NaN outside [0, 1].
 *
 * @example
 * ```ts
 * import { normalQuantile } from "@medsynth/medsynth";
 * if (Math.abs(normalQuantile(0.975) - 1.959963984540054) > 1e-15) throw new Error("z_0.975");
 * ```
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return q * poly(A, r) / poly(B, r);
  }
  let r = q < 0 ? p : 1 - p;
  r = Math.sqrt(-Math.log(r));
  let x: number;
  if (r <= 5) {
    r -= 1.6;
    x = poly(C, r) / poly(D, r);
  } else {
    r -= 5;
    x = poly(E, r) / poly(F, r);
  }
  return q < 0 ? -x : x;
}

// ---------------------------------------------------------------------------------------------
// Binomial pmf: Loader's saddle-point algorithm (as R's dbinom_raw), relative accuracy ~1e-14.

const LN_2PI = Math.log(2 * Math.PI);
const LN_SQRT_2PI = 0.5 * LN_2PI;

/** Stirling error log(n!) - log(sqrt(2 pi n) (n/e)^n) for integer n >= 0. */
function stirlerr(n: number): number {
  if (n <= 15) {
    if (n === 0) return 0;
    let fact = 1; // n! is exact in float64 for n <= 15
    for (let i = 2; i <= n; i++) fact *= i;
    return Math.log(fact) - (n + 0.5) * Math.log(n) + n - LN_SQRT_2PI;
  }
  const S0 = 1 / 12, S1 = 1 / 360, S2 = 1 / 1260, S3 = 1 / 1680, S4 = 1 / 1188;
  const nn = n * n;
  if (n > 500) return (S0 - S1 / nn) / n;
  if (n > 80) return (S0 - (S1 - S2 / nn) / nn) / n;
  if (n > 35) return (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n;
  return (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n;
}

/** Deviance term x log(x/np) + np - x, computed without cancellation when x ~ np. */
function bd0(x: number, np: number): number {
  if (Math.abs(x - np) < 0.1 * (x + np)) {
    let v = (x - np) / (x + np);
    let s = (x - np) * v;
    let ej = 2 * x * v;
    v = v * v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
  }
  return x * Math.log(x / np) + np - x;
}

/**
 * Binomial probability P(X = k) for X ~ Binomial(n, p), k and n integers.
 *
 * @example
 * ```ts
 * import { binomialPmf } from "@medsynth/medsynth";
 * if (Math.abs(binomialPmf(2, 4, 0.5) - 0.375) > 1e-15) throw new Error("C(4,2)/16");
 * ```
 */
export function binomialPmf(k: number, n: number, p: number): number {
  const q = 1 - p;
  if (k < 0 || k > n) return 0;
  if (p === 0) return k === 0 ? 1 : 0;
  if (q === 0) return k === n ? 1 : 0;
  if (k === 0) {
    if (n === 0) return 1;
    return Math.exp(p < 0.1 ? -bd0(n, n * q) - n * p : n * Math.log(q));
  }
  if (k === n) return Math.exp(q < 0.1 ? -bd0(n, n * p) - n * q : n * Math.log(p));
  const lc = stirlerr(n) - stirlerr(k) - stirlerr(n - k) - bd0(k, n * p) - bd0(n - k, n * q);
  const lf = LN_2PI + Math.log(k) + Math.log1p(-k / n);
  return Math.exp(lc - 0.5 * lf);
}

function checkCount(k: number, n: number, fn: string): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${fn}: n must be an integer >= 1, got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new Error(`${fn}: k must be an integer in [0, n=${n}], got ${k}`);
  }
}

/**
 * Exact two-sided binomial test p-value for k successes in n trials under success probability p,
 * as scipy.stats.binomtest(k, n, p).pvalue: the total probability of all outcomes no more likely than
 * the observed one (pmf(i) <= pmf(k) * (1 + 1e-7), the relative tolerance absorbs rounding), capped at 1;
 * exactly 1 when k = n p. Used e.g. for reader accuracy against chance (p = 0.5).
 *
 * @example
 * ```ts
 * import { binomialTest } from "@medsynth/medsynth";
 * // 9 of 10 correct against chance: p = 22/1024
 * if (Math.abs(binomialTest(9, 10) - 22 / 1024) > 1e-15) throw new Error("unexpected p-value");
 * ```
 */
export function binomialTest(k: number, n: number, p = 0.5): number {
  checkCount(k, n, "binomialTest");
  if (!(p >= 0 && p <= 1)) throw new Error(`binomialTest: p must be in [0, 1], got ${p}`);
  if (k === p * n) return 1;
  const limit = binomialPmf(k, n, p) * (1 + 1e-7);
  // The pmf is unimodal: walk each tail inwards from its end while terms stay <= limit; summing
  // smallest terms first keeps the tail sums accurate.
  let pval = 0;
  for (let i = 0; i <= n; i++) {
    const t = binomialPmf(i, n, p);
    if (t > limit) break;
    pval += t;
  }
  for (let i = n; i >= 0; i--) {
    const t = binomialPmf(i, n, p);
    if (t > limit) break;
    pval += t;
  }
  return Math.min(1, pval);
}

/** A confidence interval for a proportion. */
export interface ProportionInterval {
  lo: number;
  hi: number;
}

/**
 * Wilson score interval for a binomial proportion k/n, as statsmodels
 * proportion_confint(k, n, alpha = 1 - conf, method="wilson"); it stays in [0, 1] without clipping (the
 * ends for k = 0 and k = n are set to exactly 0 and 1).
 *
 * @example
 * ```ts
 * import { wilsonInterval } from "@medsynth/medsynth";
 * const ci = wilsonInterval(0, 10);
 * if (ci.lo !== 0 || Math.abs(ci.hi - 0.2775327998628893) > 1e-12) throw new Error("unexpected CI");
 * ```
 */
export function wilsonInterval(k: number, n: number, conf = 0.95): ProportionInterval {
  checkCount(k, n, "wilsonInterval");
  if (!(conf > 0 && conf < 1)) throw new Error(`wilsonInterval: conf must be in (0, 1), got ${conf}`);
  const alpha = 1 - conf;
  const crit = -normalQuantile(alpha / 2); // = norm.isf(alpha / 2)
  const crit2 = crit * crit;
  const q = k / n;
  const denom = 1 + crit2 / n;
  const center = (q + crit2 / (2 * n)) / denom;
  const dist = crit * Math.sqrt(q * (1 - q) / n + crit2 / (4 * n * n)) / denom;
  // k = 0 (k = n) gives lo = 0 (hi = 1) exactly in exact arithmetic; pin them against rounding
  return { lo: k === 0 ? 0 : center - dist, hi: k === n ? 1 : center + dist };
}

/**
 * Counts of raters per category for each subject, as statsmodels.stats.inter_rater.aggregate_raters:
 * `ratings[s][r]` is rater r's category for subject s (any numbers or strings); categories are the
 * sorted distinct values (numbers ascending, strings lexicographically). Returns the (subjects,
 * categories) table and the category order.
 *
 * @example
 * ```ts
 * import { ratingsToTable } from "@medsynth/medsynth";
 * const { table, categories } = ratingsToTable([[1, 1, 0], [0, 0, 0]]);
 * if (JSON.stringify(table) !== "[[1,2],[3,0]]" || categories.join() !== "0,1") throw new Error("bad table");
 * ```
 */
export function ratingsToTable(
  ratings: ArrayLike<ArrayLike<number | string>>,
): { table: number[][]; categories: (number | string)[] } {
  const all = new Set<number | string>();
  for (let s = 0; s < ratings.length; s++) for (let r = 0; r < ratings[s].length; r++) all.add(ratings[s][r]);
  const categories = [...all].sort((a, b) =>
    typeof a === "number" && typeof b === "number"
      ? a - b
      : String(a) < String(b)
      ? -1
      : String(a) > String(b)
      ? 1
      : 0
  );
  const col = new Map(categories.map((c, i) => [c, i]));
  const table: number[][] = [];
  for (let s = 0; s < ratings.length; s++) {
    const row = new Array(categories.length).fill(0);
    for (let r = 0; r < ratings[s].length; r++) row[col.get(ratings[s][r])!]++;
    table.push(row);
  }
  return { table, categories };
}

/**
 * Fleiss' kappa for a (subjects, categories) table of rater counts (every subject rated by the same
 * number of raters, >= 2), as statsmodels.stats.inter_rater.fleiss_kappa(table, method="fleiss").
 * When every rating falls in one category, chance agreement is 1 and kappa is 0/0 = NaN (statsmodels
 * returns nan too); perfect agreement with more than one category used gives 1.
 *
 * @example
 * ```ts
 * import { fleissKappa } from "@medsynth/medsynth";
 * if (fleissKappa([[3, 0], [0, 3]]) !== 1) throw new Error("perfect agreement");
 * if (!Number.isNaN(fleissKappa([[3, 0], [3, 0]]))) throw new Error("single category: undefined");
 * ```
 */
export function fleissKappa(table: ArrayLike<ArrayLike<number>>): number {
  const nSub = table.length;
  if (nSub < 1) throw new Error("fleissKappa: table has no subjects (rows)");
  const nCat = table[0].length;
  let nRat = -1;
  const catTotals = new Float64Array(nCat);
  let pSum = 0;
  for (let s = 0; s < nSub; s++) {
    const row = table[s];
    if (row.length !== nCat) {
      throw new Error(`fleissKappa: row ${s} has ${row.length} categories, row 0 has ${nCat}`);
    }
    let raters = 0, sq = 0;
    for (let c = 0; c < nCat; c++) {
      const v = row[c];
      if (!Number.isInteger(v) || v < 0) {
        throw new Error(`fleissKappa: row ${s} category ${c} is ${v}; counts must be integers >= 0`);
      }
      raters += v;
      sq += v * v;
      catTotals[c] += v;
    }
    if (nRat < 0) nRat = raters;
    if (raters !== nRat) {
      throw new Error(
        `fleissKappa: subject ${s} has ${raters} ratings, subject 0 has ${nRat}; every subject needs the same number`,
      );
    }
    pSum += sq;
  }
  if (nRat < 2) throw new Error(`fleissKappa: needs at least 2 raters per subject, got ${nRat}`);
  const total = nSub * nRat;
  // mean observed agreement: mean over subjects of (sum n_sc^2 - n) / (n (n - 1))
  const pMean = (pSum - nSub * nRat) / (nRat * (nRat - 1)) / nSub;
  let pExp = 0;
  for (let c = 0; c < nCat; c++) pExp += (catTotals[c] / total) ** 2;
  return (pMean - pExp) / (1 - pExp);
}

/** Confusion counts and rates of binary predictions against binary truth (1 = positive). */
export interface SensSpec {
  tp: number;
  fn: number;
  tn: number;
  fp: number;
  /** tp / (tp + fn); NaN without positives. */
  sensitivity: number;
  /** tn / (tn + fp); NaN without negatives. */
  specificity: number;
  /** (tp + tn) / n. */
  accuracy: number;
}

/**
 * Sensitivity (true positive rate) and specificity (true negative rate) of binary predictions. In the
 * reader study "positive" is "synthetic": sensitivity is the share of synthetic images called synthetic.
 *
 * @example
 * ```ts
 * import { sensitivitySpecificity } from "@medsynth/medsynth";
 * const r = sensitivitySpecificity([1, 1, 0, 0, 1], [1, 0, 0, 0, 1]);
 * if (r.sensitivity !== 1 || r.specificity !== 2 / 3 || r.accuracy !== 0.8) throw new Error("unexpected");
 * ```
 */
export function sensitivitySpecificity(
  predicted: ArrayLike<number | boolean>,
  truth: ArrayLike<number | boolean>,
): SensSpec {
  if (predicted.length !== truth.length) {
    throw new Error(`sensitivitySpecificity: ${predicted.length} predictions but ${truth.length} truths`);
  }
  let tp = 0, fn = 0, tn = 0, fp = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = binary(predicted[i], i, "prediction"), t = binary(truth[i], i, "truth");
    if (t) {
      if (p) tp++;
      else fn++;
    } else if (p) fp++;
    else tn++;
  }
  return {
    tp,
    fn,
    tn,
    fp,
    sensitivity: tp + fn === 0 ? NaN : tp / (tp + fn),
    specificity: tn + fp === 0 ? NaN : tn / (tn + fp),
    accuracy: truth.length === 0 ? NaN : (tp + tn) / truth.length,
  };
}

function binary(v: number | boolean, i: number, what: string): boolean {
  if (v === true || v === 1) return true;
  if (v === false || v === 0) return false;
  throw new Error(`sensitivitySpecificity: ${what} ${i} is ${v}; use 0/1 or false/true`);
}

/**
 * The q-th percentile (q in [0, 100]) of `values`, numpy.percentile's default "linear" method:
 * sorted x, position h = (n - 1) q / 100, x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]).
 *
 * @example
 * ```ts
 * import { percentile } from "@medsynth/medsynth";
 * if (percentile([4, 1, 3, 2], 50) !== 2.5 || percentile([1, 2, 3, 4, 5], 10) !== 1.4) throw new Error("bad");
 * ```
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new Error("percentile: no values");
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile: q must be in [0, 100], got ${q}`);
  const x = Float64Array.from(values).sort();
  if (Number.isNaN(x[x.length - 1])) return NaN;
  const h = (x.length - 1) * (q / 100);
  const lo = Math.floor(h);
  const t = h - lo;
  if (lo + 1 >= x.length) return x[x.length - 1];
  const a = x[lo], b = x[lo + 1];
  const diff = b - a;
  // numpy's _lerp: interpolate from the nearer end, so t = 1 returns b exactly
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}
