// Reference numbers in tests/fixtures/metrics_reference.json were computed once with Debian's
// numpy 1.24.2, scipy 1.10.1, scikit-learn 1.2.1 and statsmodels 0.13.5 (versions are also stored in
// the fixture's "_versions"): sklearn roc_auc_score / roc_curve(drop_intermediate=False); pytorch-fid's
// FD formula with scipy.linalg.sqrtm and numpy.cov; torch-fidelity's unbiased polynomial-kernel MMD^2 in
// numpy; the prdc package's formulas in numpy with scipy cdist; scipy cdist (euclidean, cosine) nearest
// neighbours, numpy.percentile (linear) and roc_auc_score for the privacy metrics. Inputs are stored in
// the fixture as explicit numbers.
import assert from "node:assert/strict";
import { auroc, aurocPerLabel, meanAuroc, rocCurve, weightedAuroc } from "../src/metrics/auroc.ts";
import { featureStats, frechetDistance, frechetFromStats } from "../src/metrics/frechet.ts";
import { type Matrix, matrixFromRows, symEig } from "../src/metrics/_linalg.ts";
import { kid, mmd2Polynomial } from "../src/metrics/kid.ts";
import { prdc } from "../src/metrics/prdc.ts";
import {
  distanceToClosestRecord,
  membershipInferenceAuc,
  memorisationRate,
  nearestNeighbours,
} from "../src/metrics/privacy.ts";
import { bootstrapAurocGap } from "../src/metrics/bootstrap.ts";
import { Rng } from "../src/util/rng.ts";
import { assertClose } from "./_util.ts";

// deno-lint-ignore no-explicit-any
const REF: any = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/metrics_reference.json", import.meta.url)),
);
const EXACT = { atol: 1e-12, rtol: 1e-9 };

function randn(rows: number, cols: number, seed: number, shift = 0): Matrix {
  const rng = new Rng(seed);
  return { data: Float64Array.from({ length: rows * cols }, () => rng.normal() + shift), rows, cols };
}

Deno.test("auroc and rocCurve match sklearn (ties, constant scores, single class)", () => {
  assert.ok(REF.auroc.length >= 8);
  for (const c of REF.auroc) {
    const a = auroc(c.scores, c.labels);
    if (c.auc === null) {
      assert.ok(Number.isNaN(a), `${c.name}: single class must give NaN, got ${a}`);
      continue;
    }
    assertClose([a], [c.auc], EXACT, `auroc ${c.name}`);
    const roc = rocCurve(c.scores, c.labels);
    assertClose(roc.fpr, c.roc.fpr, EXACT, `fpr ${c.name}`);
    assertClose(roc.tpr, c.roc.tpr, EXACT, `tpr ${c.name}`);
    assert.equal(roc.thresholds[0], Infinity);
    assertClose(roc.thresholds.slice(1), c.roc.thresholds_after_first, EXACT, `thresholds ${c.name}`);
  }
  const constant = REF.auroc.find((c: { name: string }) => c.name === "constant");
  assert.equal(auroc(constant.scores, constant.labels), 0.5);
});

Deno.test("auroc rejects bad input with a clear error", () => {
  assert.throws(() => auroc([0.1, 0.2], [0, 2]), /labels must be 0/);
  assert.throws(() => auroc([0.1], [0, 1]), /1 scores but 2 labels/);
  assert.throws(() => auroc([NaN, 0.2], [0, 1]), /NaN/);
});

Deno.test("weightedAuroc with integer weights equals auroc on the repeated data", () => {
  const rng = new Rng(5);
  const n = 40;
  const s = Float64Array.from({ length: n }, () => Math.round(rng.next() * 8) / 8); // many ties
  const y = Float64Array.from({ length: n }, () => (rng.next() < 0.4 ? 1 : 0));
  const w = Float64Array.from({ length: n }, () => rng.int(4));
  const rs: number[] = [], ry: number[] = [];
  for (let i = 0; i < n; i++) for (let k = 0; k < w[i]; k++) rs.push(s[i]), ry.push(y[i]);
  assertClose([weightedAuroc(s, y, w)], [auroc(rs, ry)], { atol: 1e-14, rtol: 0 }, "weighted");
  assert.equal(weightedAuroc(s, y, new Float64Array(n).fill(1)), auroc(s, y));
});

Deno.test("aurocPerLabel matches sklearn per column, null for an undefined label", () => {
  const r = REF.auroc_per_label;
  const per = aurocPerLabel(r.scores, r.labels);
  assert.equal(per.length, r.per_label.length);
  for (let j = 0; j < per.length; j++) {
    if (r.per_label[j] === null) assert.equal(per[j], null, `label ${j}`);
    else assertClose([per[j]!], [r.per_label[j]], EXACT, `label ${j}`);
  }
  assert.ok(per.includes(null));
  assertClose([meanAuroc(per)], [r.mean], EXACT, "mean");
  assert.ok(Number.isNaN(meanAuroc([null, null])));
});

Deno.test("symEig eigenvalues match numpy.linalg.eigvalsh and reconstruct the matrix", () => {
  const { n, matrix, values } = REF.eigh;
  const a = Float64Array.from(matrix);
  const e = symEig(a, n);
  assertClose(e.values, values, { atol: 1e-12, rtol: 1e-10 }, "eigenvalues");
  const v = e.vectors!;
  const rec = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += v[i * n + k] * e.values[k] * v[j * n + k];
      rec[i * n + j] = s;
    }
  }
  assertClose(rec, a, { atol: 1e-12, rtol: 1e-10 }, "V diag(l) V^T");
});

Deno.test("frechetDistance matches the pytorch-fid formula (scipy sqrtm)", () => {
  for (const c of REF.frechet) {
    assertClose([frechetDistance(c.a, c.b)], [c.fd], { atol: 1e-9, rtol: 1e-6 }, `FD ${c.name}`);
  }
  const first = REF.frechet[0];
  const st = featureStats(first.a);
  assertClose(st.mean, first.mean_a, EXACT, "mean");
  assertClose(st.cov, first.cov_a, EXACT, "cov (ddof=1)");
  // FD(a, a) = 0 and symmetry
  const a = first.a, b = first.b;
  assertClose([frechetDistance(a, a)], [0], { atol: 1e-9, rtol: 0 }, "FD(a,a)");
  assertClose([frechetDistance(b, a)], [frechetDistance(a, b)], { atol: 1e-9, rtol: 1e-9 }, "symmetry");
  assert.equal(frechetFromStats(st, st) < 1e-9, true);
});

Deno.test("frechetDistance handles rank-deficient covariance (N < D) and Float32 input", () => {
  const a = randn(5, 8, 1), b = randn(6, 8, 2, 0.3);
  const fd = frechetDistance(a, b);
  assert.ok(Number.isFinite(fd) && fd > 0, `FD ${fd}`);
  // Null-space eigenvalues of sqrt(S1) S2 sqrt(S1) are rounding noise whose square roots are
  // ~sqrt(eps) * |S| (scipy's sqrtm has the same floor), so FD(a, a) is ~1e-8 * tr(S) per null dimension.
  const a32 = { ...a, data: Float32Array.from(a.data) };
  const st = featureStats(a32);
  let tr = 0;
  for (let i = 0; i < 8; i++) tr += st.cov[i * 8 + i];
  assert.ok(
    Math.abs(frechetDistance(a32, a32)) < 1e-6 * tr,
    `FD(a,a) rank-deficient ${frechetDistance(a32, a32)}`,
  );
  const full = randn(30, 8, 3);
  const full32 = { ...full, data: Float32Array.from(full.data) };
  assertClose([frechetDistance(full32, full32)], [0], { atol: 1e-9, rtol: 0 }, "FD(a,a) f32 full rank");
  assert.throws(() => frechetDistance(randn(1, 3, 1), randn(4, 3, 2)), /at least 2 rows/);
  assert.throws(() => frechetDistance(randn(4, 3, 1), randn(4, 2, 2)), /dims differ/);
});

Deno.test("KID: unbiased polynomial MMD^2 matches numpy; full-set subsets are deterministic", () => {
  const r = REF.kid;
  assertClose([mmd2Polynomial(r.x, r.y)], [r.mmd2_xy], EXACT, "mmd2 x,y");
  assertClose([mmd2Polynomial(r.x, r.z)], [r.mmd2_xz], EXACT, "mmd2 x,z (unequal sizes)");
  assertClose([mmd2Polynomial(r.x, r.x)], [r.mmd2_xx], EXACT, "mmd2 x,x");
  const full = kid(r.x, r.y, { subsets: 3, subsetSize: 30, seed: 7 });
  assertClose(full.values, [r.mmd2_xy, r.mmd2_xy, r.mmd2_xy], EXACT, "full-set subsets");
  assertClose([full.mean, full.std], [r.mmd2_xy, 0], { atol: 1e-12, rtol: 1e-9 }, "mean/std");
  const s1 = kid(r.x, r.y, { subsets: 10, subsetSize: 12, seed: 3 });
  const s2 = kid(r.x, r.y, { subsets: 10, subsetSize: 12, seed: 3 });
  const s3 = kid(r.x, r.y, { subsets: 10, subsetSize: 12, seed: 4 });
  assert.deepEqual(s1, s2);
  assert.notDeepEqual(s1.values, s3.values);
  assert.ok(s1.std > 0);
  assert.throws(() => kid(r.x, r.z, { subsetSize: 25 }), /subsetSize 25/);
});

Deno.test("prdc matches the prdc package formulas (numpy)", () => {
  const r = REF.prdc;
  for (const k of [3, 5]) {
    const got = prdc(r.real, r.fake, k);
    const ref = r[`k${k}`];
    assertClose(
      [got.precision, got.recall, got.density, got.coverage],
      [ref.precision, ref.recall, ref.density, ref.coverage],
      EXACT,
      `prdc k=${k}`,
    );
  }
  assert.throws(() => prdc(r.real, r.fake, 40), /k must be/);
});

Deno.test("privacy metrics match scipy cdist / numpy percentile / sklearn AUC", () => {
  const r = REF.privacy;
  const eu = nearestNeighbours(r.synthetic, r.train);
  assert.deepEqual(Array.from(eu.index), r.euclidean_index);
  assertClose(eu.distance, r.euclidean_distance, EXACT, "euclidean");
  const co = nearestNeighbours(r.synthetic, r.train, "cosine");
  assert.deepEqual(Array.from(co.index), r.cosine_index);
  assertClose(co.distance, r.cosine_distance, { atol: 1e-12, rtol: 1e-9 }, "cosine");
  const dcr = distanceToClosestRecord(r.synthetic, r.train, r.holdout);
  assertClose(dcr.holdout.distance, r.holdout_distance, EXACT, "holdout DCR");
  const mem = memorisationRate(dcr.synthetic.distance, dcr.holdout.distance);
  assertClose(
    [mem.threshold, mem.rate],
    [r.memorisation_threshold, r.memorisation_rate],
    EXACT,
    "memorisation",
  );
  const mia = membershipInferenceAuc(r.synthetic, r.train, r.holdout);
  assertClose([mia.auc], [r.mia_auc], EXACT, "MIA AUC");
  assert.throws(
    () => nearestNeighbours(matrixFromRows([[0, 0]]), matrixFromRows([[1, 1]]), "cosine"),
    /all zeros/,
  );
});

Deno.test("privacy: copying train images is detected, an independent sample looks like chance", () => {
  const d = 8;
  const train = randn(60, d, 11), holdout = randn(60, d, 12);
  const fresh = randn(60, d, 13);
  // half of the synthetic set copies training rows (tiny noise), half is independent
  const copies = { data: Float64Array.from(fresh.data), rows: 60, cols: d };
  const noise = new Rng(14);
  for (let i = 0; i < 30; i++) {
    for (let j = 0; j < d; j++) copies.data[i * d + j] = train.data[(2 * i) * d + j] + 1e-3 * noise.normal();
  }
  const memCopy = memorisationRate(
    nearestNeighbours(copies, train).distance,
    nearestNeighbours(holdout, train).distance,
  );
  const memFresh = memorisationRate(
    nearestNeighbours(fresh, train).distance,
    nearestNeighbours(holdout, train).distance,
  );
  assert.ok(memCopy.rate >= 0.5, `copies: memorisation rate ${memCopy.rate}`);
  assert.ok(memFresh.rate <= 0.05, `independent: memorisation rate ${memFresh.rate}`);
  const miaCopy = membershipInferenceAuc(copies, train, holdout).auc;
  const miaFresh = membershipInferenceAuc(fresh, train, holdout).auc;
  assert.ok(miaCopy > 0.7, `copies: MIA AUC ${miaCopy}`);
  assert.ok(Math.abs(miaFresh - 0.5) < 0.15, `independent: MIA AUC ${miaFresh}`);
  for (const metric of ["euclidean", "cosine"] as const) {
    const nn = nearestNeighbours(copies, train, metric);
    for (let i = 0; i < 30; i++) assert.equal(nn.index[i], 2 * i, `${metric} copy ${i}`);
  }
});

/** Test data for the bootstrap: P patients with 1-3 images each, L labels, two models. */
function gapData(seed: number, patients: number, l: number) {
  const rng = new Rng(seed);
  const ids: string[] = [];
  for (let p = 0; p < patients; p++) for (let k = 0, m = 1 + rng.int(3); k < m; k++) ids.push(`p${p}`);
  rng.shuffle(ids);
  const n = ids.length;
  const labels = new Float64Array(n * l), a = new Float64Array(n * l), b = new Float64Array(n * l);
  for (let i = 0; i < n * l; i++) {
    labels[i] = rng.next() < 0.3 ? 1 : 0;
    a[i] = labels[i] * 1.2 + rng.normal();
    b[i] = labels[i] * 0.5 + rng.normal();
  }
  return {
    ids,
    labels: { data: labels, rows: n, cols: l },
    reference: { data: a, rows: n, cols: l },
    candidate: { data: b, rows: n, cols: l },
  };
}

Deno.test("bootstrapAurocGap: seeded, CI contains the estimate, equals a naive resample-and-recompute", () => {
  const g = gapData(21, 25, 3);
  const opts = { ...g, patientIds: g.ids, resamples: 200, seed: 9 };
  const r1 = bootstrapAurocGap(opts), r2 = bootstrapAurocGap(opts);
  assert.deepEqual(r1, r2);
  assert.notDeepEqual(bootstrapAurocGap({ ...opts, seed: 10 }).samples, r1.samples);
  assert.equal(r1.samples.length + r1.skipped, 200);
  assert.ok(r1.lo <= r1.gap && r1.gap <= r1.hi, `gap ${r1.gap} outside [${r1.lo}, ${r1.hi}]`);
  assert.ok(r1.lo < r1.hi);
  const l = 3;
  const full = meanAuroc(aurocPerLabel(g.reference, g.labels)) -
    meanAuroc(aurocPerLabel(g.candidate, g.labels));
  assertClose([r1.gap], [full], EXACT, "point gap");

  // naive: same draws (patients in first-appearance order, rng.int(P) each), images physically repeated
  const order: string[] = [];
  for (const id of g.ids) if (!order.includes(id)) order.push(id);
  const rng = new Rng(9);
  const naive: number[] = [];
  for (let r = 0; r < 200; r++) {
    const counts = new Map<string, number>();
    for (let k = 0; k < order.length; k++) {
      const p = order[rng.int(order.length)];
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    const rows: number[] = [];
    g.ids.forEach((id, i) => {
      for (let c = 0; c < (counts.get(id) ?? 0); c++) rows.push(i);
    });
    const pick = (m: Matrix): Matrix => ({
      data: Float64Array.from(rows.flatMap((i) => Array.from({ length: l }, (_, j) => m.data[i * l + j]))),
      rows: rows.length,
      cols: l,
    });
    const a = aurocPerLabel(pick(g.reference), pick(g.labels));
    const b = aurocPerLabel(pick(g.candidate), pick(g.labels));
    if (a.every((v) => v === null)) continue;
    naive.push(meanAuroc(a) - meanAuroc(b));
  }
  assertClose(r1.samples, naive, { atol: 1e-12, rtol: 0 }, "bootstrap samples");
});

Deno.test("bootstrapAurocGap over several trainings: the mean of each training's gap, resample by resample", () => {
  const g = gapData(23, 30, 3), h = gapData(24, 30, 3);
  // a second training of each model on the same images and labels: other scores
  const ref2 = { ...g.reference, data: g.reference.data.map((v, i) => v + 0.8 * h.reference.data[i]) };
  const cand2 = { ...g.candidate, data: g.candidate.data.map((v, i) => v - 0.5 * h.candidate.data[i]) };
  const base = { labels: g.labels, patientIds: g.ids, resamples: 150, seed: 4 };
  const one = bootstrapAurocGap({ ...base, reference: g.reference, candidate: g.candidate });
  const two = bootstrapAurocGap({ ...base, reference: ref2, candidate: cand2 });
  const both = bootstrapAurocGap({
    ...base,
    reference: [g.reference, ref2],
    candidate: [g.candidate, cand2],
  });
  assertClose([both.gap], [(one.gap + two.gap) / 2], { atol: 1e-12, rtol: 0 }, "point gap");
  assertClose([both.reference], [(one.reference + two.reference) / 2], { atol: 1e-12, rtol: 0 }, "reference");
  assertClose(
    both.samples,
    one.samples.map((v, r) => (v + two.samples[r]) / 2),
    { atol: 1e-12, rtol: 0 },
    "samples",
  );
  assert.notEqual(one.gap, two.gap, "the trainings differ");
  // one matrix in an array is the single-matrix call, bit for bit
  assert.deepEqual(bootstrapAurocGap({ ...base, reference: [g.reference], candidate: [g.candidate] }), one);
  assert.throws(() => bootstrapAurocGap({ ...base, reference: [], candidate: g.candidate }), /at least one/);
});

Deno.test("bootstrapAurocGap: identical models give gap 0 and CI [0, 0]", () => {
  const g = gapData(22, 20, 4);
  const r = bootstrapAurocGap({
    reference: g.reference,
    candidate: g.reference,
    labels: g.labels,
    patientIds: g.ids,
    resamples: 100,
    seed: 1,
  });
  assert.equal(r.gap, 0);
  assert.equal(r.lo, 0);
  assert.equal(r.hi, 0);
  assert.ok(r.samples.every((v) => v === 0));
  assert.throws(
    () => bootstrapAurocGap({ ...g, patientIds: g.ids.slice(1) }),
    /patient ids for/,
  );
});
