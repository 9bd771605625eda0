/**
 * evaluate() end to end on a tiny phantom (16 px) with a small classifier and a short schedule: synthetic
 * data that copy the real training data give no utility gap and are flagged as memorised; the results
 * survive JSON and render to a report. Checks the wiring, not the classifier's strength.
 */
import { makePhantom } from "../src/data/phantom.ts";
import type { Dataset } from "../src/data/dataset.ts";
import { splitByPatient, splitDataset } from "../src/data/split.ts";
import { evaluate, ganTrainingSeconds, parseMetricsJsonl } from "../src/eval/evaluate.ts";
import { renderReport } from "../src/report/html.ts";
import { parseResults } from "../src/report/results.ts";
import { assert, assertEquals } from "./_assert.ts";
import { testGpu } from "./_util.ts";

const copy = (d: Dataset): Dataset => ({ ...d, images: d.images.slice(), labels: d.labels.slice() });

Deno.test("evaluate: copies of the training data give gap 0, full memorisation and a complete report", async () => {
  const gpu = await testGpu();
  const data = makePhantom({
    resolution: 16,
    seed: 7,
    supersample: 2,
    labels: {
      kind: "combos",
      count: 200,
      combos: [
        { findings: [], weight: 0.4 },
        { findings: ["intraparenchymal"], weight: 0.3 },
        { findings: ["intraventricular"], weight: 0.3 },
      ],
    },
  });
  const { train, valid, test } = splitDataset(
    data,
    splitByPatient(data.patientIds, { fractions: [0.6, 0.2, 0.2] }),
  );
  const { curves } = parseMetricsJsonl(
    '{"step":1,"imagesSeen":16,"dLoss":1,"gLoss":0.5,"time":1}\n{"step":2,"imagesSeen":32,"dLoss":0.9,"time":2}\n' +
      '{"event":"done","time":2.5}\n',
  );
  const stages: string[] = [];
  const r = await evaluate(gpu, {
    real: { train, valid, test },
    synthetic: { train: copy(train), valid: copy(valid), test: copy(test) },
    classifier: {
      modelOverrides: { stemChannels: 8, growthRate: 6, blockDepths: [2, 2] },
      batchSize: 16,
      lr: 3e-3,
      maxEpochs: 1,
    },
    seed: 1,
    resamples: 100,
    fidelity: { kidSubsets: 5 },
    meta: { title: "copy test", training: curves },
    onProgress: (s) => stages.push(s),
  });
  for (const s of ["utility", "features", "fidelity", "privacy", "report"]) assert(stages.includes(s), s);
  // same data, same seed: identical classifiers
  assertEquals(r.utility.gap.gap, 0);
  assertEquals(r.utility.trtr.mean, r.utility.tstr.mean);
  // labels absent from the data are undefined in both arms
  for (const l of r.utility.perLabel) {
    const absent = ["epidural", "subarachnoid", "subdural"].includes(l.label);
    assertEquals(l.trtr === null, absent, `${l.label} TRTR`);
    if (absent) assertEquals(l.testPositives, 0);
  }
  // synthetic test = real test: the same features, so FD ~ 0 and full precision/recall
  assert(Math.abs(r.fidelity!.frechetDistance) < 1e-3, `FD ${r.fidelity!.frechetDistance}`);
  assertEquals([r.fidelity!.prdc.precision, r.fidelity!.prdc.recall], [1, 1]);
  // synthetic train = real train: every synthetic image is a copy
  assertEquals(r.privacy!.pixels.memorisation.rate, 1);
  assertEquals(r.privacy!.pixels.copies!.count, train.n);
  assertEquals(r.privacy!.pixels.membershipInference.auc, 1);
  assert(r.gallery.length === 16 && r.gallery.every((g) => g.distance < 1e-6), "gallery of exact copies");
  assertEquals(r.timings.ganTraining, ganTrainingSeconds(curves));
  assertEquals(r.timings.ganTraining, 2.5);
  assert(r.utility.trtr.epochs.length >= 1 && r.roc.length === data.labelNames.length, "epochs and ROC");

  const html = renderReport(parseResults(JSON.parse(JSON.stringify(r))));
  assert(!/https?:\/\//.test(html) && html.includes("data:image/png;base64,"), "self-contained");
  assert(html.includes("undefined (no positives in test)") && html.includes("signs of copying"), "verdicts");
});
