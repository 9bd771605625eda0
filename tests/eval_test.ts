/** Fidelity and privacy evaluation (src/eval): behaviour on identical, shifted, copied and independent sets. */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { computeFidelity } from "../src/eval/fidelity.ts";
import {
  computePrivacy,
  type ImageSet,
  pairDistance,
  pixelSpaceSize,
  pixelVectors,
  type PrivacySet,
} from "../src/eval/privacy.ts";
import type { Matrix } from "../src/metrics/_linalg.ts";
import { Rng } from "../src/util/rng.ts";

/** (N, D) standard normal features plus `shift` on every value. */
function gaussian(n: number, d: number, seed: number, shift = 0): Matrix {
  const rng = new Rng(seed);
  return { data: Float64Array.from({ length: n * d }, () => rng.normal() + shift), rows: n, cols: d };
}

Deno.test("fidelity: identical sets give FD ~ 0, KID ~ 0, precision = recall = 1", () => {
  const a = gaussian(150, 8, 1);
  const f = computeFidelity(a, a, { kidSubsets: 5, kidSubsetSize: 100 });
  assert(Math.abs(f.frechetDistance) < 1e-9, `FD ${f.frechetDistance}`);
  // Shared points enter the cross term with their diagonal k(x, x) (~8 here vs ~1 off the diagonal), so
  // the unbiased estimator of identical sets sits slightly below 0, by about 2 (8 - 1) / 100 = 0.14.
  assert(f.kid.mean <= 0 && f.kid.mean > -0.2, `KID ${f.kid.mean}`);
  assertEquals(f.prdc.precision, 1);
  assertEquals(f.prdc.recall, 1);
  assertEquals(f.prdc.coverage, 1);
  assertEquals([f.realCount, f.syntheticCount, f.featureDim, f.prdc.k], [150, 150, 8, 5]);
});

Deno.test("fidelity: a shifted set scores worse than an independent draw of the same distribution", () => {
  const real = gaussian(150, 8, 1);
  const same = computeFidelity(real, gaussian(150, 8, 2), { kidSubsets: 5 });
  const shifted = computeFidelity(real, gaussian(150, 8, 3, 1.5), { kidSubsets: 5 });
  // the mean shift alone adds 8 * 1.5^2 = 18 to the Fréchet distance
  assert(shifted.frechetDistance > 15, `shifted FD ${shifted.frechetDistance}`);
  assert(same.frechetDistance < 2, `same-distribution FD ${same.frechetDistance}`);
  // independent draws of one distribution: the unbiased KID is ~0 (noise only)
  assert(Math.abs(same.kid.mean) < 0.1, `same-distribution KID ${same.kid.mean}`);
  assert(shifted.kid.mean > 10 * Math.abs(same.kid.mean), `KID ${shifted.kid.mean} vs ${same.kid.mean}`);
  assert(shifted.prdc.precision < same.prdc.precision, "precision drops");
  assert(shifted.prdc.coverage < same.prdc.coverage, "coverage drops");
});

Deno.test("fidelity: tiny sets lower k instead of failing; mismatched features fail clearly", () => {
  const f = computeFidelity(gaussian(4, 2, 1), gaussian(5, 2, 2), { kidSubsets: 2 });
  assertEquals(f.prdc.k, 3);
  assertThrows(() => computeFidelity(gaussian(10, 3, 1), gaussian(10, 4, 2)), Error, /same model/);
});

/** Random smooth "images" (N, 1, 16, 16) in [-1, 1]: low-frequency blobs plus noise. */
function images(n: number, seed: number): ImageSet {
  const rng = new Rng(seed), s = 16;
  const out = new Float32Array(n * s * s);
  for (let i = 0; i < n; i++) {
    const cx = rng.uniform(4, 12), cy = rng.uniform(4, 12), r = rng.uniform(2, 5), a = rng.uniform(0.3, 1);
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const v = a * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r)) - 0.5 + 0.1 * rng.normal();
        out[i * s * s + y * s + x] = Math.max(-1, Math.min(1, v));
      }
    }
  }
  return { images: out, n, channels: 1, height: s, width: s };
}

/** A privacy set whose "features" are the 8x8 pixel vectors plus 1 (no all-zero rows). */
function set(img: ImageSet): PrivacySet {
  const p = pixelVectors(img, 8);
  return { pixels: img, features: { data: p.data.map((v) => v + 1), rows: p.rows, cols: p.cols } };
}

function withCopies(base: ImageSet, train: ImageSet, pairs: [number, number][]): ImageSet {
  const sz = 16 * 16, out = base.images.slice();
  for (const [s, t] of pairs) out.set(train.images.subarray(t * sz, (t + 1) * sz), s * sz);
  return { ...base, images: out };
}

Deno.test("privacy: copied training images show up as memorisation, copies and the closest gallery pairs", () => {
  const train = images(160, 1), holdout = images(80, 2);
  const pairs: [number, number][] = [[3, 10], [50, 77], [99, 5]];
  const synth = withCopies(images(120, 3), train, pairs);
  const r = computePrivacy({ synthetic: set(synth), train: set(train), holdout: set(holdout) }, {
    closestPairs: 5,
  });
  for (const space of [r.pixels, r.features]) {
    assert(space.memorisation.rate >= 3 / 120, `${space.space} memorisation ${space.memorisation.rate}`);
    const top = space.closest.slice(0, 3);
    for (const p of top) assert(p.distance < 1e-6, `${space.space}: top pair at ${p.distance}`);
    const found = top.map((p) => `${p.synthetic}->${p.train}`).sort();
    assertEquals(found, pairs.map(([s, t]) => `${s}->${t}`).sort(), `${space.space} top pairs`);
    assert(space.closest[3].distance > 1e-6, `${space.space}: the 4th pair is not a copy`);
  }
  assertEquals(r.pixels.copies?.count, 3);
  assertEquals(r.features.copies, null);
  assertEquals(r.features.metric, "cosine");
  assertEquals(r.pixelSize, [16, 16]);
});

Deno.test("privacy: an independent set shows no memorisation and membership-inference AUC ~ 0.5", () => {
  const r = computePrivacy({
    synthetic: set(images(150, 3)),
    train: set(images(150, 1)),
    holdout: set(images(150, 2)),
  });
  for (const space of [r.pixels, r.features]) {
    // by construction about 1% of independent data falls under the holdout's 1st percentile
    assert(space.memorisation.rate < 0.05, `${space.space} memorisation ${space.memorisation.rate}`);
    assert(space.closest[0].distance > 0, `${space.space}: no exact copy`);
    const auc = space.membershipInference.auc;
    assert(Math.abs(auc - 0.5) < 0.1, `${space.space} MIA AUC ${auc}`);
    assert(space.dcr.medianRatio! > 0.8, `${space.space} DCR ratio ${space.dcr.medianRatio}`);
  }
  assertEquals(r.pixels.copies?.count, 0);
});

Deno.test("privacy: a synthetic set that is the training set is fully recognisable (MIA AUC 1)", () => {
  const train = images(100, 1);
  const r = computePrivacy({ synthetic: set(train), train: set(train), holdout: set(images(100, 2)) });
  assertEquals(r.pixels.membershipInference.auc, 1);
  assertEquals(r.pixels.memorisation.rate, 1);
  assert(r.features.membershipInference.auc > 0.99, `features MIA ${r.features.membershipInference.auc}`);
});

Deno.test("privacy: query subsampling keeps counts and the histogram sums to 1", () => {
  const r = computePrivacy({
    synthetic: set(images(90, 3)),
    train: set(images(60, 1)),
    holdout: set(images(70, 2)),
  }, { maxQueries: 40, histogramBins: 12 });
  assertEquals(r.pixels.dcr.synthetic.count, 40);
  assertEquals(r.pixels.dcr.holdout.count, 40);
  assertEquals(r.pixels.membershipInference.members, 40);
  assertEquals(r.pixels.histogram.edges.length, 13);
  const sum = r.pixels.histogram.synthetic.reduce((a, b) => a + b, 0);
  assert(Math.abs(sum - 1) < 1e-9, `histogram sums to ${sum}`);
});

Deno.test("pixel space: downsampling to 32 px and distances as RMS differences in [0, 1] units", () => {
  assertEquals(pixelSpaceSize(128, 128), [32, 32]);
  assertEquals(pixelSpaceSize(64, 32), [32, 16]);
  assertEquals(pixelSpaceSize(16, 16), [16, 16]);
  // a black and a mid-grey 64x64 image: RMS difference 0.5 of the range, at 32x32 too
  const img: ImageSet = { images: new Float32Array(2 * 64 * 64), n: 2, channels: 1, height: 64, width: 64 };
  img.images.fill(-1, 0, 64 * 64);
  const m = pixelVectors(img);
  assertEquals(m.cols, 32 * 32);
  assert(Math.abs(pairDistance(m, 0, m, 1, "euclidean") - 0.5) < 1e-6, "RMS difference 0.5");
  assertThrows(
    () => pixelVectors({ ...img, n: 3 }),
    Error,
    /give \(N, C, H, W\)/,
  );
});

Deno.test("privacy: mismatched rows and dimensions fail with clear messages", () => {
  const a = set(images(10, 1));
  assertThrows(
    () => computePrivacy({ synthetic: { ...a, pixels: images(9, 1) }, train: a, holdout: a }),
    Error,
    /one row per image/,
  );
  const b = { pixels: a.pixels, features: { data: new Float64Array(10 * 3).fill(1), rows: 10, cols: 3 } };
  assertThrows(() => computePrivacy({ synthetic: b, train: a, holdout: a }), Error, /same space/);
});
