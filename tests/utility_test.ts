/**
 * End to end on a small phantom (16 px, 600 slices): evaluateUtility with synthetic data that is a copy of
 * the real training data, and with synthetic data whose labels are shuffled (the image-label link
 * destroyed); undefined labels come out null; extractFeatures gives the pooled features.
 */
import { makePhantom } from "../src/data/phantom.ts";
import { type Dataset, selectRows } from "../src/data/dataset.ts";
import { splitByPatient, splitDataset } from "../src/data/split.ts";
import type { ClassifierTrainConfig } from "../src/train/classifier.ts";
import { evaluateUtility, extractFeatures } from "../src/train/utility.ts";
import { Rng } from "../src/util/rng.ts";
import { assert, assertEquals } from "./_assert.ts";
import { assertClose, testGpu } from "./_util.ts";

/** A small DenseNet for 16 px (two blocks at 16 and 8 px) and a short schedule, so the test stays fast. */
const CONFIG: Partial<ClassifierTrainConfig> = {
  modelOverrides: {
    stemChannels: 8,
    stemKernel: 3,
    stemStride: 1,
    stemPool: false,
    growthRate: 6,
    blockDepths: [2, 2],
  },
  batchSize: 16,
  lr: 3e-3,
  maxEpochs: 5,
  earlyStopPatience: 3,
  lrPatience: 2,
};

/**
 * 600 slices with only the blob-like findings (intraparenchymal, intraventricular), which a small net learns
 * at 16 px within seconds: this test checks the evaluation's wiring, not the classifier's strength (the
 * full phantom is measured separately). Epidural, subarachnoid and subdural have no positive at all, so
 * they must come out null.
 */
const PHANTOM_600 = {
  kind: "combos" as const,
  count: 600,
  combos: [
    { findings: [], weight: 0.4 },
    { findings: ["intraparenchymal" as const], weight: 0.25 },
    { findings: ["intraventricular" as const], weight: 0.25 },
    { findings: ["intraparenchymal" as const, "intraventricular" as const], weight: 0.1 },
  ],
};

function copyOf(d: Dataset): Dataset {
  return { ...d, images: d.images.slice(), labels: d.labels.slice(), patientIds: [...d.patientIds] };
}

/** The same images with the label rows permuted: images no longer predict their labels. */
function shuffledLabels(d: Dataset, seed: number): Dataset {
  const L = d.labelNames.length;
  const perm = new Rng(seed).shuffle(Array.from({ length: d.n }, (_, i) => i)) as number[];
  const labels = new Uint8Array(d.labels.length);
  perm.forEach((src, i) => labels.set(d.labels.subarray(src * L, (src + 1) * L), i * L));
  return { ...copyOf(d), labels };
}

Deno.test("evaluateUtility: copied real data gives no gap, shuffled labels a clear one", async () => {
  const gpu = await testGpu();
  const t0 = performance.now();
  const data = makePhantom({
    resolution: 16,
    seed: 7,
    labels: PHANTOM_600,
  });
  const { train, valid, test } = splitDataset(
    data,
    splitByPatient(data.patientIds, { fractions: [0.6, 0.2, 0.2] }),
  );
  const L = data.labelNames.length;

  // 1) synthetic = an exact copy of the real data: same protocol and seed, so the same classifier
  const same = await evaluateUtility(gpu, {
    realTrain: train,
    realValid: valid,
    realTest: test,
    synthTrain: copyOf(train),
    synthValid: copyOf(valid),
    config: CONFIG,
    seed: 3,
    resamples: 300,
  });
  console.log(
    `copy: TRTR ${same.trtr.mean.toFixed(3)} [${same.trtr.perLabel.map((v) => v?.toFixed(2)).join(" ")}] ` +
      `TSTR ${same.tstr.mean.toFixed(3)} gap ${same.gap.gap.toFixed(3)} [${same.gap.lo.toFixed(3)}, ` +
      `${same.gap.hi.toFixed(3)}] train ${same.timings.trtrTrain.toFixed(1)} s + ${
        same.timings.tstrTrain.toFixed(1)
      } s`,
  );
  assert(
    same.trtr.mean > 0.65,
    `the real-trained classifier learns the phantom: mean AUROC ${same.trtr.mean}`,
  );
  assert(Math.abs(same.trtr.mean - same.tstr.mean) < 0.02, "TRTR and TSTR means are close");
  assert(same.gap.lo <= 0 && 0 <= same.gap.hi, `the gap's CI [${same.gap.lo}, ${same.gap.hi}] contains 0`);
  assert(same.trtr.scores.length === test.n * L && same.trtr.scores.every((p) => p > 0 && p < 1), "scores");
  // labels with no positive in the test set (here: none anywhere) are null, not dropped
  const undefinedLabels = ["epidural", "subarachnoid", "subdural"].map((name) =>
    data.labelNames.indexOf(name)
  );
  const iph = data.labelNames.indexOf("intraparenchymal");
  assert(undefinedLabels.every((j) => j >= 0) && iph >= 0, "phantom label names");
  for (const arm of [same.trtr, same.tstr]) {
    assert(arm.perLabel.length === L, "one entry per label");
    arm.perLabel.forEach((v, j) =>
      assert((v === null) === undefinedLabels.includes(j), `label ${data.labelNames[j]}: AUROC ${v}`)
    );
  }

  // the real classifier's pooled features
  const feats = await extractFeatures(same.realModel, test.images);
  assert(
    feats.rows === test.n && feats.cols === same.realModel.featureCount,
    `features (${feats.rows}, ${feats.cols})`,
  );
  assert(
    feats.data.length === feats.rows * feats.cols && feats.data.every(Number.isFinite),
    "finite features",
  );
  const again = await extractFeatures(same.realModel, test.images.subarray(0, 5 * 16 * 16), 5, 2);
  assertClose(again.data, feats.data.subarray(0, 5 * feats.cols), { atol: 1e-6, rtol: 1e-5 }, "batching");
  let spread = 0;
  for (let j = 0; j < feats.cols; j++) {
    spread = Math.max(spread, Math.abs(feats.data[j] - feats.data[feats.cols + j]));
  }
  assert(spread > 1e-3, "different images have different features");

  // 2) shuffled labels, scored on a test set without intraparenchymal positives (that label becomes null)
  const noIph = selectRows(
    test,
    Array.from({ length: test.n }, (_, i) => i).filter((i) => test.labels[i * L + iph] === 0),
  );
  const shuffled = await evaluateUtility(gpu, {
    realTrain: train,
    realValid: valid,
    realTest: noIph,
    synthTrain: shuffledLabels(train, 1),
    synthValid: shuffledLabels(valid, 2),
    config: CONFIG,
    seed: 3,
    resamples: 300,
    reference: same.reference,
  });
  console.log(
    `shuffled: TRTR ${shuffled.trtr.mean.toFixed(3)} TSTR ${shuffled.tstr.mean.toFixed(3)} ` +
      `[${shuffled.tstr.perLabel.map((v) => v?.toFixed(2)).join(" ")}] gap ${shuffled.gap.gap.toFixed(3)} ` +
      `[${shuffled.gap.lo.toFixed(3)}, ${shuffled.gap.hi.toFixed(3)}] total ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
  );
  assert(shuffled.timings.trtrTrain === 0, "the reference classifier is reused, not retrained");
  // near chance: within 3 standard errors of 0.5, the AUROC's null SE sqrt((n1 + n0 + 1) / (12 n1 n0)) per
  // label (a random score on this small test set strays ~0.06 from 0.5), averaged over the defined labels
  const se2 = shuffled.tstr.perLabel.map((v, j) => {
    if (v === null) return null;
    let n1 = 0;
    for (let i = 0; i < noIph.n; i++) n1 += noIph.labels[i * L + j];
    const n0 = noIph.n - n1;
    return (n1 + n0 + 1) / (12 * n1 * n0);
  }).filter((v): v is number => v !== null);
  const se = Math.sqrt(se2.reduce((a, b) => a + b, 0)) / se2.length;
  assert(
    Math.abs(shuffled.tstr.mean - 0.5) < 3 * se && se < 0.1,
    `TSTR on shuffled labels is near chance: ${shuffled.tstr.mean} (3 SE = ${3 * se})`,
  );
  assert(shuffled.gap.lo > 0.1, `the gap is clearly positive: CI [${shuffled.gap.lo}, ${shuffled.gap.hi}]`);
  assert(
    shuffled.trtr.perLabel[iph] === null && shuffled.tstr.perLabel[iph] === null,
    "no positive in test: null",
  );
  assert(shuffled.tstr.perLabel.filter((v) => v !== null).length === L - 4, "the other labels stay defined");
});

Deno.test("evaluateUtility with repeats: each arm trained per seed, AUROCs and gap averaged", async () => {
  const gpu = await testGpu();
  const data = makePhantom({ resolution: 16, seed: 7, labels: PHANTOM_600 });
  const { train, valid, test } = splitDataset(
    data,
    splitByPatient(data.patientIds, { fractions: [0.6, 0.2, 0.2] }),
  );
  const base = {
    realTrain: train,
    realValid: valid,
    realTest: test,
    synthTrain: shuffledLabels(train, 1),
    synthValid: shuffledLabels(valid, 2),
    config: CONFIG,
    resamples: 100,
  };
  const single = await evaluateUtility(gpu, { ...base, seed: 3 });
  const next = await evaluateUtility(gpu, { ...base, seed: 4 });
  // the first training is reused: only seed 4's real-trained classifier is trained again
  const two = await evaluateUtility(gpu, { ...base, seed: 3, repeats: 2, references: [single.reference] });
  assertEquals(two.trtr.repeats?.map((r) => r.seed), [3, 4]);
  for (const arm of ["trtr", "tstr"] as const) {
    assertEquals(two[arm].repeats![0].mean, single[arm].mean, `${arm}: seed 3 as alone`);
    assertEquals(two[arm].repeats![1].mean, next[arm].mean, `${arm}: seed 4 as alone`);
    assertClose([two[arm].mean], [(single[arm].mean + next[arm].mean) / 2], { atol: 1e-12, rtol: 0 }, arm);
    assertEquals(two[arm].scores, single[arm].scores, `${arm}: the first training's scores`);
  }
  assert(single.trtr.mean !== next.trtr.mean, "another seed, another classifier");
  assertClose([two.gap.gap], [(single.gap.gap + next.gap.gap) / 2], { atol: 1e-12, rtol: 0 }, "gap");
  assert(two.gap.lo <= two.gap.gap && two.gap.gap <= two.gap.hi, "interval around the gap");
  assert(single.trtr.repeats === undefined, "a single training lists no repeats");
});
