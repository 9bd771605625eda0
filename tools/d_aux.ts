/**
 * Can the discriminator's auxiliary head tell the findings apart on real images?
 *
 * `deno run -A tools/d_aux.ts --run DIR [--out FILE.json]`
 *
 * The generator learns a label from D's auxiliary head (AC-GAN): a finding that head does not recognise in
 * real images gives G no reason to draw it as it looks there. This restores the run's newest training
 * checkpoint and scores the real validation and test images with D's auxiliary head (batches of the
 * training batch size, each standardised by its own statistics as in training; the last batch is filled up
 * with the split's first images, which are not counted twice). Per label it prints that AUROC next to the
 * run's real-trained evaluation classifier on the same images (the label-fidelity reference's real AUROC on
 * validation images, and TRTR on test images from results.json when the run was evaluated).
 */
import { parseArgs } from "node:util";
import { Gpu } from "../src/gpu/gpu.ts";
import { validateGanConfig } from "../src/models/config.ts";
import { GanTrainer } from "../src/train/gan.ts";
import { restoreTrainer } from "../src/train/run_state.ts";
import { aurocPerLabel } from "../src/metrics/auroc.ts";
import { type Dataset, imageSize } from "../src/data/dataset.ts";
import {
  type DataSpec,
  loadSplitData,
  newestValidCheckpoint,
  phantomCacheDir,
  runPaths,
} from "../src/cli/_run_dir.ts";

const { values: a } = parseArgs({
  args: Deno.args,
  options: { run: { type: "string" }, out: { type: "string" } },
});
if (!a.run) {
  console.error("usage: deno run -A tools/d_aux.ts --run DIR [--out FILE.json]");
  Deno.exit(2);
}
const paths = runPaths(a.run);
const cfg = validateGanConfig(JSON.parse(await Deno.readTextFile(paths.config)));
const spec = JSON.parse(await Deno.readTextFile(paths.data)) as DataSpec;
const { train, valid, test } = await loadSplitData(spec, phantomCacheDir(a.run), a.run);
const found = await newestValidCheckpoint(a.run);
if (!found) {
  throw new Error(`${a.run} has no training checkpoint (checkpoints/ckpt_*.ckpt) to restore D from`);
}
const gpu = await Gpu.create();
const tr = new GanTrainer(gpu, cfg, train);
restoreTrainer(tr, found.ck, found.path);
const N = cfg.batchSize, L = train.labelNames.length, S = imageSize(train);
const x = gpu.tensor([N, train.channels, train.height, train.width]), y = gpu.tensor([N, L]);
// D's weights are fixed here: their spectrally normalised copies are made once
gpu.run((rec) => tr.d.weights.snForward(rec, false));

/** D's auxiliary logits (n, L) of every image of d. */
async function auxLogits(d: Dataset): Promise<Float32Array> {
  const out = new Float32Array(d.n * L), xb = new Float32Array(N * S), yb = new Float32Array(N * L);
  for (let b = 0; b < d.n; b += N) {
    for (let i = 0; i < N; i++) {
      const k = (b + i) % d.n;
      xb.set(d.images.subarray(k * S, (k + 1) * S), i * S);
      for (let l = 0; l < L; l++) yb[i * L + l] = d.labels[k * L + l];
    }
    gpu.write(x, xb);
    gpu.write(y, yb);
    gpu.run((rec) => tr.dReal.forward(rec, x, y, true));
    const logits = await gpu.read(tr.dReal.aux);
    out.set(logits.subarray(0, Math.min(N, d.n - b) * L), b * L);
  }
  return out;
}

const score = async (d: Dataset) =>
  aurocPerLabel({ data: await auxLogits(d), rows: d.n, cols: L }, { data: d.labels, rows: d.n, cols: L });
const dValid = await score(valid), dTest = await score(test);
// the run's real-trained classifier on the same images
let refValid: (number | null)[] | null = null, refTest: (number | null)[] | null = null;
try {
  const events = (await Deno.readTextFile(paths.metrics)).trim().split("\n").map((l) => JSON.parse(l));
  refValid = events.filter((e) => e.event === "labelFidelity").at(-1)?.realPerLabel ?? null;
} catch { /* no metrics: no reference column */ }
try {
  const r = JSON.parse(await Deno.readTextFile(`${a.run}/results.json`));
  refTest = (r.utility.perLabel as { trtr: number | null }[]).map((p) => p.trtr);
} catch { /* not evaluated */ }
const f = (v: number | null | undefined) => (v === null || v === undefined ? "  -  " : v.toFixed(3));
console.log(`D's auxiliary head on real images (${found.path}, ${tr.imagesSeen} images shown)`);
console.log("label".padEnd(18) + "D valid  reference  D test  TRTR");
train.labelNames.forEach((name, l) =>
  console.log(
    `${name.padEnd(18)}${f(dValid[l])}    ${f(refValid?.[l])}      ${f(dTest[l])}   ${f(refTest?.[l])}`,
  )
);
const mean = (v: (number | null)[]) => {
  const d = v.filter((q): q is number => q !== null);
  return d.reduce((s, q) => s + q, 0) / d.length;
};
console.log(
  `${"mean".padEnd(18)}${f(mean(dValid))}    ${f(refValid && mean(refValid))}      ${f(mean(dTest))}   ${
    f(refTest && mean(refTest))
  }`,
);
if (a.out) {
  await Deno.writeTextFile(
    a.out,
    JSON.stringify(
      {
        imagesSeen: tr.imagesSeen,
        labelNames: train.labelNames,
        dAuxValid: dValid,
        referenceValid: refValid,
        dAuxTest: dTest,
        trtrTest: refTest,
      },
      null,
      1,
    ) + "\n",
  );
}
