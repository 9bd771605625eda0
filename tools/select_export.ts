/**
 * Does picking the best of several generated images per label vector give a better synthetic set?
 *
 * `deno run -A tools/select_export.ts --run DIR --out DIR --candidates K --by discriminator|reference`
 *
 * Writes the study's export (one image per real label vector of the run's train / valid / test splits, as
 * `deno task generate` does) where each image is the best of K images of the run's EMA generator for that
 * label vector (latents from the run's seed + 1 + 7919 j for candidate j):
 *
 * - `discriminator`: the highest D(x, y) of the run's newest training checkpoint (D's adversarial output
 *   with its projection on the requested labels: how real the image looks for those labels; discriminator
 *   rejection sampling, Azadi et al. 2019, in its simplest form);
 * - `reference`: the highest log-likelihood of the requested label vector under the run's real-trained
 *   classifier (the label-fidelity reference of the run's config and seed, loaded from the run's cache, or
 *   trained and cached there when missing): the candidate that draws the requested findings most as real
 *   images show them, and no others.
 *
 * OUT/selection.json records the mean score of all candidates and of the chosen ones per split. Evaluate
 * it on a copy of the run (evaluate writes results.json into the run):
 * `cp -r RUN COPY && deno run -A tools/select_export.ts --run COPY --out COPY/synthetic --candidates 4
 * --by reference && deno task evaluate --run COPY --images 20000`.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { Gpu } from "../src/gpu/gpu.ts";
import { validateGanConfig } from "../src/models/config.ts";
import { GanTrainer } from "../src/train/gan.ts";
import { restoreTrainer } from "../src/train/run_state.ts";
import { predictProbabilities } from "../src/train/classifier.ts";
import type { Dataset } from "../src/data/dataset.ts";
import { exportSynthetic } from "../src/data/export.ts";
import { datasetStats } from "../src/data/subset.ts";
import { writeExportFolder } from "../src/cli/_fs_dataset.ts";
import { loadOrTrainReference } from "../src/cli/_reference.ts";
import {
  type DataSpec,
  loadSplitData,
  newestValidCheckpoint,
  phantomCacheDir,
  runPaths,
} from "../src/cli/_run_dir.ts";

const USAGE =
  "usage: deno run -A tools/select_export.ts --run DIR --out DIR --candidates K --by discriminator|reference";
const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    run: { type: "string" },
    out: { type: "string" },
    candidates: { type: "string", default: "4" },
    by: { type: "string", default: "discriminator" },
  },
});
const K = Number(a.candidates);
if (!a.run || !a.out || !Number.isInteger(K) || K < 1 || (a.by !== "discriminator" && a.by !== "reference")) {
  console.error(USAGE);
  Deno.exit(2);
}
const paths = runPaths(a.run);
const cfg = validateGanConfig(JSON.parse(await Deno.readTextFile(paths.config)));
const spec = JSON.parse(await Deno.readTextFile(paths.data)) as DataSpec;
const splits = await loadSplitData(spec, phantomCacheDir(a.run), a.run);
const found = await newestValidCheckpoint(a.run);
if (!found) throw new Error(`${a.run} has no training checkpoint (checkpoints/ckpt_*.ckpt) to restore`);
const gpu = await Gpu.create();
const tr = new GanTrainer(gpu, cfg, splits.train);
restoreTrainer(tr, found.ck, found.path);
const N = cfg.batchSize, L = splits.train.labelNames.length;
const P = cfg.imageChannels * cfg.resolution * cfg.resolution;
const x = gpu.tensor([N, cfg.imageChannels, cfg.resolution, cfg.resolution]), y = gpu.tensor([N, L]);
gpu.run((rec) => tr.d.weights.snForward(rec, false));
const reference = a.by === "reference"
  ? (await loadOrTrainReference(
    gpu,
    a.run,
    { train: splits.train, valid: splits.valid },
    { model: cfg.labelFidelity.classifier, maxImages: cfg.labelFidelity.classifierImages },
    cfg.seed,
  )).reference
  : null;

/** D(x, y) of each image (n,) for its labels, in batches of the training batch (the last one filled up). */
async function discriminatorScores(
  images: Float32Array,
  labels: Uint8Array,
  n: number,
): Promise<Float32Array> {
  const s = new Float32Array(n), xb = new Float32Array(N * P), yb = new Float32Array(N * L);
  for (let b = 0; b < n; b += N) {
    for (let i = 0; i < N; i++) {
      const k = (b + i) % n;
      xb.set(images.subarray(k * P, (k + 1) * P), i * P);
      for (let l = 0; l < L; l++) yb[i * L + l] = labels[k * L + l];
    }
    gpu.write(x, xb);
    gpu.write(y, yb);
    gpu.run((rec) => tr.dReal.forward(rec, x, y, false));
    const o = await gpu.read(tr.dReal.out);
    s.set(o.subarray(0, Math.min(N, n - b)), b);
  }
  return s;
}

/** Log-likelihood of each image's label vector under the real-trained reference classifier (n,). */
async function referenceScores(images: Float32Array, real: Dataset): Promise<Float32Array> {
  const p = await predictProbabilities(reference!.model, { ...real, images });
  const s = new Float32Array(real.n);
  for (let i = 0; i < real.n; i++) {
    for (let l = 0; l < L; l++) {
      const q = Math.min(Math.max(p[i * L + l], 1e-6), 1 - 1e-6);
      s[i] += real.labels[i * L + l] ? Math.log(q) : Math.log(1 - q);
    }
  }
  return s;
}

const seed = cfg.seed + 1;
const summary: Record<string, { n: number; meanScoreAll: number; meanScoreChosen: number }> = {};
for (const name of ["train", "valid", "test"] as const) {
  const real = splits[name], n = real.n, labels = real.labels.slice();
  const images = new Float32Array(n * P), best = new Float32Array(n).fill(-Infinity);
  let all = 0;
  for (let j = 0; j < K; j++) {
    const cand = await tr.generate(labels, seed + 7919 * j);
    const s = reference ? await referenceScores(cand, real) : await discriminatorScores(cand, labels, n);
    for (let i = 0; i < n; i++) {
      all += s[i] / (K * n);
      if (s[i] > best[i]) {
        best[i] = s[i];
        images.set(cand.subarray(i * P, (i + 1) * P), i * P);
      }
    }
  }
  const chosen = best.reduce((t, v) => t + v, 0) / n;
  summary[name] = { n, meanScoreAll: all, meanScoreChosen: chosen };
  console.error(
    `${name}: ${a.by} score, mean of all ${K} candidates ${all.toFixed(3)}, chosen ${chosen.toFixed(3)}`,
  );
  const d: Dataset = { ...real, images, labels, patientIds: new Array(n).fill("synth"), sources: [] };
  const files = exportSynthetic(d, {
    generator: { selection: `best of ${K} by ${a.by}`, imagesSeen: tr.imagesSeen, model: cfg.model },
    config: cfg,
    seed,
    sourceStats: datasetStats(real),
  });
  await writeExportFolder(join(a.out, name), files, { overwrite: true });
}
await Deno.writeTextFile(
  join(a.out, "selection.json"),
  JSON.stringify({ candidates: K, by: a.by, imagesSeen: tr.imagesSeen, splits: summary }, null, 1) + "\n",
);
