import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { assertPatientDisjoint, splitByPatient, splitDataset } from "../src/data/split.ts";
import { comboCounts, labelStats, makeSubset } from "../src/data/subset.ts";
import { comboKey, type Dataset } from "../src/data/dataset.ts";
import { Rng } from "../src/util/rng.ts";

/** Patients with 1..8 images each; labels drawn from a skewed set of combinations. */
function fakeSet(nPatients: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const patientIds: string[] = [];
  for (let p = 0; p < nPatients; p++) {
    const k = 1 + rng.int(8);
    for (let j = 0; j < k; j++) patientIds.push(`p${p}`);
  }
  const n = patientIds.length, L = 4;
  const labels = new Uint8Array(n * L);
  const combos = [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [
    1,
    0,
    1,
    1,
  ]];
  const weights = [40, 20, 15, 10, 8, 5, 2];
  const total = weights.reduce((a, b) => a + b);
  for (let i = 0; i < n; i++) {
    let r = rng.int(total), c = 0;
    while (r >= weights[c]) r -= weights[c++];
    labels.set(combos[c], i * L);
  }
  return {
    images: Float32Array.from({ length: n }, (_, i) => i), // 1x1x1 image = row number, to check selectRows
    n,
    channels: 1,
    height: 1,
    width: 1,
    labels,
    labelNames: ["a", "b", "c", "d"],
    patientIds,
    sources: patientIds.map((p, i) => `${p}_${i}.png`),
    format: "plain",
  };
}

Deno.test("split: by patient, disjoint, covers every row once, ~80/10/10, deterministic per seed", () => {
  const d = fakeSet(400, 1);
  const s = splitByPatient(d.patientIds, { seed: 5 });
  assertPatientDisjoint(d.patientIds, s);
  const all = [...s.train, ...s.valid, ...s.test].sort((a, b) => a - b);
  assertEquals(all, Array.from({ length: d.n }, (_, i) => i));
  const fr = [s.train.length, s.valid.length, s.test.length].map((c) => c / d.n);
  assert(
    Math.abs(fr[0] - 0.8) < 0.02 && Math.abs(fr[1] - 0.1) < 0.02 && Math.abs(fr[2] - 0.1) < 0.02,
    `fractions ${fr}`,
  );
  assertEquals(splitByPatient(d.patientIds, { seed: 5 }), s);
  const other = splitByPatient(d.patientIds, { seed: 6 });
  assert(other.test.join() !== s.test.join(), "another seed gives another split");
  // the row order does not change which patients go where
  const perm = Array.from({ length: d.n }, (_, i) => i);
  new Rng(9).shuffle(perm);
  const sp = splitByPatient(perm.map((i) => d.patientIds[i]), { seed: 5 });
  const testPatients = (ids: string[], rows: number[]) => [...new Set(rows.map((i) => ids[i]))].sort();
  assertEquals(testPatients(perm.map((i) => d.patientIds[i]), sp.test), testPatients(d.patientIds, s.test));
  // custom fractions
  const h = splitByPatient(d.patientIds, { seed: 1, fractions: [0.5, 0.25, 0.25] });
  assert(Math.abs(h.train.length / d.n - 0.5) < 0.03, "50% train");
  // datasets follow the indices
  const ds = splitDataset(d, s);
  assertEquals(Array.from(ds.valid.images), s.valid);
  assertEquals(ds.valid.patientIds, s.valid.map((i) => d.patientIds[i]));
});

Deno.test("split: too few patients for three splits is a clear error", () => {
  assertThrows(
    () => splitByPatient(["a", "a", "b"], { seed: 0 }),
    Error,
    /split "(valid|test)" is empty: 2 patients \/ 3 images/,
  );
  assertThrows(() => splitByPatient(["a"], { fractions: [1, -1, 0] }), Error, /fractions must be/);
  const s = splitByPatient(["a", "b"], { fractions: [1, 1, 0] }); // a zero fraction may stay empty
  assertEquals(s.test, []);
  assertThrows(
    () => assertPatientDisjoint(["a", "a"], { train: [0], valid: [1], test: [] }),
    Error,
    /patient "a" is in both/,
  );
});

Deno.test("subset: minCount drops rare combinations, topK keeps the k most frequent", () => {
  const d = fakeSet(400, 2);
  const s = splitByPatient(d.patientIds, { seed: 0 });
  const counts = new Map(comboCounts(d));
  const min = 60;
  const sub = makeSubset(d, s, { minCount: min });
  const rows = [...sub.train, ...sub.valid, ...sub.test];
  for (const i of rows) assert(counts.get(comboKey(d, i))! >= min, "kept rows have frequent combos");
  const expected = [...counts].filter(([, c]) => c >= min).reduce((a, [, c]) => a + c, 0);
  assertEquals(rows.length, expected, "every row of a frequent combination kept");
  assertEquals(sub.combos.length, [...counts].filter(([, c]) => c >= min).length);

  const k = 3;
  const top = makeSubset(d, s, { topK: k });
  const ranked = comboCounts(d).slice(0, k).map(([key]) => key);
  assertEquals(top.combos, ranked);
  const seen = new Set([...top.train, ...top.valid, ...top.test].map((i) => comboKey(d, i)));
  assertEquals([...seen].sort(), [...ranked].sort());
  // splits stay subsets of the original splits
  for (const name of ["train", "valid", "test"] as const) {
    const orig = new Set(s[name]);
    assert(top[name].every((i) => orig.has(i)), `${name} subset`);
  }
});

Deno.test("subset: n per combination for train, valid/test fixed, nested in n, seeded", () => {
  const d = fakeSet(500, 3);
  const s = splitByPatient(d.patientIds, { seed: 1 });
  const base = makeSubset(d, s, { topK: 4 });
  const n = 25;
  const sub = makeSubset(d, s, { topK: 4, perCombo: n, seed: 3 });
  const trainCounts = labelStats(
    Uint8Array.from(sub.train.flatMap((i) => Array.from(d.labels.subarray(i * 4, i * 4 + 4)))),
    d.labelNames,
    sub.train.map((i) => d.patientIds[i]),
  );
  assertEquals(trainCounts.uniqueCombinations, 4);
  assert(trainCounts.combinations.every((c) => c.count === n), "exactly n per combination");
  assertEquals(sub.valid, base.valid, "validation fixed");
  assertEquals(sub.test, base.test, "test fixed");
  const trainSet = new Set(base.train);
  assert(sub.train.every((i) => trainSet.has(i)), "drawn from the training split only");
  const small = makeSubset(d, s, { topK: 4, perCombo: 10, seed: 3 });
  const big = new Set(sub.train);
  assert(small.train.every((i) => big.has(i)), "smaller n is nested in larger n");
  assertEquals(makeSubset(d, s, { topK: 4, perCombo: n, seed: 3 }), sub, "same seed, same subset");
  assert(
    makeSubset(d, s, { topK: 4, perCombo: n, seed: 4 }).train.join() !== sub.train.join(),
    "seed matters",
  );
  assertThrows(
    () => makeSubset(d, s, { perCombo: 100000 }),
    Error,
    /training images, fewer than perCombo=100000/,
  );
  const few = makeSubset(d, s, { perCombo: 100000, allowFewer: true });
  assertEquals(few.train.length, s.train.length);
  assertThrows(() => makeSubset(d, s, { minCount: 1e9 }), Error, /no label combination/);
});
