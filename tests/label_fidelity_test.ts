/**
 * Label fidelity (GAN-test) and the cached reference classifier:
 * - a "generator" that returns the real validation images scores exactly the classifier's real AUROC, one
 *   that ignores the labels scores 0.5 on every label;
 * - a reference classifier round-trips through its file (same predictions), a file made for another key is
 *   not used, a file of another kind is refused naming the file;
 * - the cache key changes with the data, the settings and the seed;
 * - metrics.jsonl label-fidelity lines reach the training curves.
 */
import { DEFAULT_PHANTOM_CONFIG, makePhantom, type PhantomLabelSpec } from "../src/data/phantom.ts";
import { selectRows } from "../src/data/dataset.ts";
import { splitByPatient, splitDataset } from "../src/data/split.ts";
import { LabelFidelityProbe } from "../src/eval/label_fidelity.ts";
import { parseMetricsJsonl } from "../src/eval/evaluate.ts";
import { encodeCheckpoint } from "../src/train/checkpoint.ts";
import { predictProbabilities, trainClassifier } from "../src/train/classifier.ts";
import { decodeReference, encodeReference } from "../src/train/reference.ts";
import { referenceKey } from "../src/cli/_reference.ts";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { testGpu } from "./_util.ts";

function data() {
  const labels = { ...DEFAULT_PHANTOM_CONFIG.labels, count: 400 } as PhantomLabelSpec;
  const all = makePhantom({ resolution: 16, labels, seed: 11 });
  return splitDataset(all, splitByPatient(all.patientIds, { seed: 2 }));
}

Deno.test("label fidelity: real images give the classifier's real AUROC, label-blind images give 0.5", async () => {
  const gpu = await testGpu();
  const { train, valid } = data();
  const ref = await trainClassifier(gpu, train, valid, {
    config: { model: "tiny", maxImages: 1600 },
    seed: 3,
  });
  const probe = new LabelFidelityProbe(ref.model, valid, 9);
  let seen: Uint8Array | null = null, seedSeen = -1;
  const asReal = await probe.measure((labels, seed) => {
    seen = labels;
    seedSeen = seed;
    return Promise.resolve(valid.images.slice());
  });
  assertEquals(seedSeen, 9, "the probe's latent seed");
  assertEquals(
    Array.from(seen!),
    Array.from(valid.labels),
    "the probe asks for the validation label vectors",
  );
  assertEquals(asReal.perLabel, asReal.realPerLabel, "real images as generated = the real AUROC");
  assertEquals(asReal.samples, valid.n);
  assert(
    asReal.realPerLabel.some((v) => v !== null && Math.abs(v - 0.5) > 0.05),
    `the classifier should separate some label, or the label-blind check below proves nothing: ${asReal.realPerLabel}`,
  );
  // one image for every label vector: the scores cannot depend on the requested label
  const blind = await probe.measure(() => {
    const one = valid.images.subarray(0, valid.channels * valid.height * valid.width);
    const out = new Float32Array(valid.images.length);
    for (let i = 0; i < valid.n; i++) out.set(one, i * one.length);
    return Promise.resolve(out);
  });
  for (const v of blind.perLabel) assert(v === null || Math.abs(v - 0.5) < 1e-9, `label-blind AUROC ${v}`);
  assertThrows(() => new LabelFidelityProbe(ref.model, selectRows(valid, [0]), 1), Error, /validation split/);
});

Deno.test("reference classifier: file round-trip gives the same predictions; other keys and kinds refused", async () => {
  const gpu = await testGpu();
  const { train, valid, test } = data();
  const cfg = { model: "tiny" as const, maxImages: 320 };
  const run = await trainClassifier(gpu, train, valid, { config: cfg, seed: 1 });
  const key = referenceKey(train, valid, cfg, 1);
  const bytes = await encodeReference(run, key);
  const back = decodeReference(gpu, bytes, key, "ref.ckpt")!;
  assertEquals(back.bestEpoch, run.bestEpoch);
  assertEquals(Array.from(back.posWeight), Array.from(run.posWeight));
  assertEquals(
    Array.from(await predictProbabilities(back.model, test)),
    Array.from(await predictProbabilities(run.model, test)),
    "decoded classifier predicts the same",
  );
  assertEquals(decodeReference(gpu, bytes, key + "x", "ref.ckpt"), null, "another key is not this file");
  const other = encodeCheckpoint({ meta: { kind: "gan" }, arrays: new Map() });
  assertThrows(() => decodeReference(gpu, other, key, "x/ref.ckpt"), Error, /x\/ref\.ckpt.*not a reference/);
});

Deno.test("reference key: changes with the data, the settings and the seed", () => {
  const { train, valid } = data();
  const k = referenceKey(train, valid, { model: "tiny", maxImages: 100 }, 0);
  assertEquals(k, referenceKey(train, valid, { model: "tiny", maxImages: 100 }, 0), "deterministic");
  assert(k !== referenceKey(train, valid, { model: "tiny", maxImages: 200 }, 0), "settings");
  assert(k !== referenceKey(train, valid, { model: "tiny", maxImages: 100 }, 1), "seed");
  const changed = { ...train, images: train.images.slice() };
  changed.images[0] += 0.5;
  assert(k !== referenceKey(changed, valid, { model: "tiny", maxImages: 100 }, 0), "pixels");
  assert(
    k !== referenceKey(selectRows(train, [0, 1, 2]), valid, { model: "tiny", maxImages: 100 }, 0),
    "rows",
  );
});

Deno.test("metrics.jsonl: label-fidelity lines become training curves; malformed ones are skipped", () => {
  const line = (o: unknown) => JSON.stringify(o);
  const text = [
    line({ step: 1, imagesSeen: 16, dLoss: 1 }),
    line({
      event: "labelFidelity",
      imagesSeen: 2000,
      perLabel: [0.6, null],
      mean: 0.6,
      realPerLabel: [0.9, 0.8],
      realMean: 0.85,
    }),
    line({
      event: "labelFidelity",
      imagesSeen: 4000,
      perLabel: "bad",
      mean: 0.6,
      realPerLabel: [],
      realMean: 1,
    }),
    line({ event: "done", imagesSeen: 4000 }),
  ].join("\n");
  const { curves, skipped } = parseMetricsJsonl(text);
  assertEquals(skipped, 1);
  assertEquals(curves.rows.length, 1);
  assertEquals(curves.events.length, 1, "label fidelity is not an event line");
  assertEquals(curves.labelFidelity, [
    { imagesSeen: 2000, perLabel: [0.6, null], mean: 0.6, realPerLabel: [0.9, 0.8], realMean: 0.85 },
  ]);
});
