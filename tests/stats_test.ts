// Reference numbers in tests/fixtures/metrics_reference.json were computed once with Debian's
// scipy 1.10.1 (stats.binomtest, stats.binom.pmf, stats.norm.ppf), statsmodels 0.13.5
// (proportion_confint method="wilson", inter_rater.fleiss_kappa and aggregate_raters), scikit-learn
// 1.2.1 (confusion_matrix) and numpy 1.24.2 (percentile, default "linear"). Inputs are stored in the
// fixture as explicit numbers.
import assert from "node:assert/strict";
import {
  binomialPmf,
  binomialTest,
  fleissKappa,
  normalQuantile,
  percentile,
  ratingsToTable,
  sensitivitySpecificity,
  wilsonInterval,
} from "../src/metrics/stats.ts";
import { assertClose } from "./_util.ts";

// deno-lint-ignore no-explicit-any
const REF: any = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/metrics_reference.json", import.meta.url)),
);
const EXACT = { atol: 0, rtol: 1e-9 };

Deno.test("normalQuantile matches scipy.stats.norm.ppf, incl. far tails", () => {
  for (const { p, x } of REF.norm_ppf) {
    assertClose([normalQuantile(p)], [x], { atol: 0, rtol: 1e-14 }, `ppf(${p})`);
  }
  assert.equal(normalQuantile(0), -Infinity);
  assert.equal(normalQuantile(1), Infinity);
  assert.ok(Number.isNaN(normalQuantile(1.5)));
});

Deno.test("binomialPmf matches scipy.stats.binom.pmf", () => {
  for (const { k, n, p, pmf } of REF.binom_pmf) {
    assertClose([binomialPmf(k, n, p)], [pmf], { atol: 0, rtol: 1e-12 }, `pmf(${k}; ${n}, ${p})`);
  }
});

Deno.test("binomialTest matches scipy.stats.binomtest (two-sided), incl. k=0, k=n, n=1, p=0/1", () => {
  assert.ok(REF.binomtest.length >= 20);
  for (const { k, n, p, pvalue } of REF.binomtest) {
    const got = binomialTest(k, n, p);
    // tiny p-values are compared relatively, p-values near 1 absolutely
    assertClose([got], [pvalue], { atol: 1e-14, rtol: 1e-9 }, `binomtest(${k}, ${n}, ${p})`);
  }
  assert.throws(() => binomialTest(11, 10), /k must be an integer in \[0, n=10\]/);
  assert.throws(() => binomialTest(1, 0), /n must be an integer >= 1/);
  assert.throws(() => binomialTest(1, 10, 1.5), /p must be in \[0, 1\]/);
});

Deno.test("wilsonInterval matches statsmodels proportion_confint(method='wilson')", () => {
  for (const { k, n, conf, lo, hi } of REF.wilson) {
    const ci = wilsonInterval(k, n, conf);
    assertClose([ci.lo, ci.hi], [lo, hi], { atol: 1e-15, rtol: 1e-12 }, `wilson(${k}, ${n}, ${conf})`);
    assert.ok(ci.lo >= 0 && ci.hi <= 1 && ci.lo <= k / n && k / n <= ci.hi);
  }
  assert.equal(wilsonInterval(0, 7).lo, 0);
  assert.equal(wilsonInterval(7, 7).hi, 1);
});

Deno.test("fleissKappa matches statsmodels fleiss_kappa (NaN when all ratings share one category)", () => {
  for (const { name, table, kappa } of REF.fleiss) {
    const got = fleissKappa(table);
    if (kappa === null) assert.ok(Number.isNaN(got), `${name}: expected NaN, got ${got}`);
    else assertClose([got], [kappa], { atol: 1e-14, rtol: 1e-9 }, `kappa ${name}`);
  }
  const perfect = REF.fleiss.find((c: { name: string }) => c.name === "perfect_two_categories");
  assert.equal(fleissKappa(perfect.table), 1);
  assert.throws(() => fleissKappa([[2, 0], [1, 0]]), /same number/);
  assert.throws(() => fleissKappa([[1, 0], [0, 1]]), /at least 2 raters/);
});

Deno.test("ratingsToTable matches statsmodels aggregate_raters", () => {
  const r = REF.aggregate_raters;
  const { table, categories } = ratingsToTable(r.ratings);
  assert.deepEqual(table, r.table);
  assert.deepEqual(categories, r.categories);
  assertClose([fleissKappa(table)], [r.kappa], { atol: 1e-14, rtol: 1e-9 }, "kappa from ratings");
  const s = ratingsToTable([["real", "fake"], ["fake", "fake"]]);
  assert.deepEqual(s.categories, ["fake", "real"]);
  assert.deepEqual(s.table, [[1, 1], [2, 0]]);
});

Deno.test("sensitivitySpecificity matches sklearn confusion_matrix", () => {
  const r = REF.sens_spec;
  const got = sensitivitySpecificity(r.predicted, r.truth);
  assert.deepEqual([got.tp, got.fn, got.tn, got.fp], [r.tp, r.fn, r.tn, r.fp]);
  assertClose([got.sensitivity, got.specificity], [r.sensitivity, r.specificity], EXACT, "rates");
  assertClose([got.accuracy], [(r.tp + r.tn) / r.truth.length], EXACT, "accuracy");
  const none = sensitivitySpecificity([true, false], [false, false]);
  assert.ok(Number.isNaN(none.sensitivity));
  assert.equal(none.specificity, 0.5);
  assert.throws(() => sensitivitySpecificity([2], [1]), /use 0\/1/);
});

Deno.test("percentile matches numpy.percentile (linear)", () => {
  const r = REF.percentile;
  r.q.forEach((q: number, i: number) => {
    assertClose([percentile(r.values, q)], [r.expected[i]], { atol: 1e-15, rtol: 1e-12 }, `q=${q}`);
  });
  assert.equal(percentile([3], 50), 3);
  assert.throws(() => percentile([], 50), /no values/);
});
