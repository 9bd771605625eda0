/**
 * `deno task evaluate --run DIR [--synthetic DIR] [--classifier tiny|paper] [--epochs N] [--images N]
 *                     [--minutes M] [--batch B] [--resamples N] [--seed S] [--repeats K] [--reader-analysis FILE]
 *                     [--title T]`
 *
 * Evaluates a training run's synthetic data and writes DIR/results.json (atomically):
 *
 * - real data: the run's data.json (phantom settings or a path), split by patient with the run's seed;
 * - synthetic data: the export of `deno task generate --run DIR --out DIR/synthetic` (train / valid / test
 *   folders, one image per real label vector), generated first when missing (needs DIR/generator.ckpt);
 * - the GAN's curves from DIR/metrics.jsonl, the export's data card, optionally a reader study's
 *   analysis.json (`deno task reader analyze STUDY --out DIR`).
 *
 * The train-on-real classifier is not trained again when the run's cache holds one for the same data,
 * classifier settings and seed (`deno task train` trains it for label fidelity, see src/cli/_reference.ts).
 * With `--repeats K` each arm is trained K times (seeds S .. S+K-1) and the AUROCs and the gap are their
 * means: a single training's AUROC moves with its seed by about as much as the bootstrap interval is wide.
 * The real-trained classifiers of the extra seeds are cached in the run folder like the first.
 *
 * Then `deno task report --run DIR` renders DIR/report.html from it.
 */
import "./_xdg.ts";
import { parseArgs } from "node:util";
import { join, relative } from "node:path";
import { Gpu } from "../gpu/gpu.ts";
import type { Dataset } from "../data/dataset.ts";
import type { DataCard } from "../data/export.ts";
import type { ClassifierTrainConfig } from "../train/classifier.ts";
import type { ClassifierPreset } from "../models/classifier.ts";
import type { StudyAnalysis } from "../reader/analysis.ts";
import { evaluate, parseMetricsJsonl } from "../eval/evaluate.ts";
import { loadDataset } from "./_fs_dataset.ts";
import { loadOrTrainReference, loadReference, referenceKey, referencePath } from "./_reference.ts";
import {
  type DataSpec,
  exists,
  loadSplitData,
  phantomCacheDir,
  readJson,
  runPaths,
  writeJson,
} from "./_run_dir.ts";

const USAGE = `usage: deno task evaluate --run DIR [--synthetic DIR] [--classifier tiny|paper] [--epochs N]
                         [--images N] [--minutes M] [--batch B] [--resamples N] [--seed S] [--repeats K]
                         [--reader-analysis FILE] [--title T] [--quiet]
  --synthetic   export folder with train/ valid/ [test/] (default DIR/synthetic; generated when missing)
  --classifier  classifier preset (default tiny)
  --epochs      at most this many epochs per classifier (default 30, early stopping on validation AUROC)
  --images      at most this many training images per classifier (default none)
  --minutes     time limit per classifier training (default none)
  --seed        seed of the classifiers and the bootstrap (default: the run's seed)
  --repeats     trainings per arm, seeds S .. S+K-1, AUROCs and gap averaged (default 1)`;

function posInt(v: string | undefined, name: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
}

/** Runs `deno task generate` for the run into `out` (a subprocess: the generator's GPU state stays out of here). */
async function generate(run: string, out: string, quiet: boolean): Promise<void> {
  const script = decodeURIComponent(new URL("./generate.ts", import.meta.url).pathname);
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--run", run, "--out", out],
    stdout: quiet ? "null" : "inherit",
    stderr: quiet ? "piped" : "inherit",
  });
  const r = await cmd.output();
  if (!r.success) {
    const err = quiet ? new TextDecoder().decode(r.stderr).trim() : "(see above)";
    throw new Error(`generating the synthetic data into ${out} failed: ${err}`);
  }
}

async function loadSynthetic(dir: string, spec: DataSpec, split: string): Promise<Dataset> {
  const r = await loadDataset(join(dir, split), { size: spec.size, channels: spec.channels, cache: false });
  return r.dataset;
}

async function main(argv: string[]): Promise<number> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      run: { type: "string" },
      synthetic: { type: "string" },
      classifier: { type: "string", default: "tiny" },
      epochs: { type: "string" },
      images: { type: "string" },
      minutes: { type: "string" },
      batch: { type: "string" },
      resamples: { type: "string" },
      seed: { type: "string" },
      repeats: { type: "string" },
      "reader-analysis": { type: "string" },
      title: { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  if (!a.run) throw new Error(`--run DIR is required\n${USAGE}`);
  const dir = a.run, paths = runPaths(dir);
  const log = (s: string) => {
    if (!a.quiet) console.error(s);
  };
  for (const p of [paths.config, paths.data]) {
    if (!(await exists(p))) {
      throw new Error(`${p} not found: --run must be a folder written by deno task train`);
    }
  }
  const gan = await readJson(paths.config) as Record<string, unknown>;
  const spec = await readJson(paths.data) as DataSpec;
  if (typeof spec?.source !== "string" || typeof spec.size !== "number") {
    throw new Error(`${paths.data}: needs "source" and "size" (written by deno task train)`);
  }
  if (a.classifier !== "tiny" && a.classifier !== "paper") {
    throw new Error(`--classifier must be tiny or paper, got ${a.classifier}`);
  }
  const classifier: Partial<ClassifierTrainConfig> = { model: a.classifier as ClassifierPreset };
  if (a.epochs !== undefined) classifier.maxEpochs = posInt(a.epochs, "epochs", 30);
  if (a.images !== undefined) classifier.maxImages = posInt(a.images, "images", 0);
  if (a.batch !== undefined) classifier.batchSize = posInt(a.batch, "batch", 32);
  if (a.minutes !== undefined) {
    const m = Number(a.minutes);
    if (!(m > 0)) throw new Error(`--minutes must be a number > 0, got ${a.minutes}`);
    classifier.maxSeconds = m * 60;
  }
  // the run's own seed by default: the real-trained classifier that train made for label fidelity is reused
  const seed = a.seed === undefined ? (Number.isInteger(gan.seed) ? gan.seed as number : 0) : Number(a.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be an integer >= 0, got ${a.seed}`);
  const resamples = posInt(a.resamples, "resamples", 1000);
  const repeats = posInt(a.repeats, "repeats", 1);

  const synDir = a.synthetic ?? join(dir, "synthetic");
  let generateSeconds: number | null = null;
  if (!(await exists(join(synDir, "train")))) {
    if (a.synthetic) throw new Error(`${synDir}/train not found: give an export of deno task generate`);
    if (!(await exists(paths.generator))) {
      throw new Error(
        `${paths.generator} not found: the run has not finished training (no synthetic data yet)`,
      );
    }
    log(
      `no synthetic export in ${synDir}: generating it (deno task generate --run ${dir} --out ${synDir}) ...`,
    );
    const t = performance.now();
    await generate(dir, synDir, a.quiet);
    generateSeconds = (performance.now() - t) / 1000;
  }

  let t = performance.now();
  log(`loading real data (${spec.source}) and the synthetic export ${synDir} ...`);
  const real = await loadSplitData(spec, phantomCacheDir(dir), dir);
  const synthetic = {
    train: await loadSynthetic(synDir, spec, "train"),
    valid: await loadSynthetic(synDir, spec, "valid"),
    test: (await exists(join(synDir, "test"))) ? await loadSynthetic(synDir, spec, "test") : null,
  };
  const loadSeconds = (performance.now() - t) / 1000;
  log(
    `real: ${real.train.n}/${real.valid.n}/${real.test.n}, synthetic: ${synthetic.train.n}/${synthetic.valid.n}/${
      synthetic.test?.n ?? "-"
    } images (train/valid/test)`,
  );

  const metricsText = (await exists(paths.metrics)) ? await Deno.readTextFile(paths.metrics) : "";
  const { curves, skipped } = parseMetricsJsonl(metricsText);
  const notes: string[] = [];
  if (skipped) notes.push(`${skipped} unreadable line(s) of metrics.jsonl were skipped.`);
  const cardPath = join(synDir, "train", "data_card.json");
  const dataCard = (await exists(cardPath)) ? await readJson(cardPath) as DataCard : null;
  const readerStudy = a["reader-analysis"] ? await readJson(a["reader-analysis"]) as StudyAnalysis : null;

  const gpu = await Gpu.create();
  const refKey = referenceKey(real.train, real.valid, classifier, seed);
  const cacheDir = phantomCacheDir(dir) ?? dir;
  const reference = await loadReference(gpu, cacheDir, refKey, log);
  if (reference) {
    log(
      `reusing the real-trained classifier ${await referencePath(cacheDir, refKey)} (same data and settings)`,
    );
  }
  const references = [reference ?? undefined];
  for (let k = 1; k < repeats; k++) {
    log(`real-trained classifier ${k + 1} of ${repeats} (seed ${seed + k}) ...`);
    const r = await loadOrTrainReference(gpu, cacheDir, real, classifier, seed + k, { log });
    log(`${r.cached ? "reusing" : "trained and cached"} ${r.path}`);
    references.push(r.reference);
  }
  t = performance.now();
  const results = await evaluate(gpu, {
    reference: reference ?? undefined,
    repeats,
    references,
    real: { train: real.train, valid: real.valid, test: real.test },
    synthetic,
    classifier,
    seed,
    resamples,
    meta: {
      title: a.title ?? `medsynth evaluation: ${dir.replace(/\/+$/, "").split("/").pop()}`,
      // paths relative to the run folder: results.json and the report leave the machine
      run: { name: dir.replace(/\/+$/, "").split("/").pop() ?? dir, dir: "." },
      gan,
      data: spec as unknown as Record<string, unknown>,
      source: spec.source,
      syntheticSource: relative(dir, synDir) || ".",
      training: curves,
      dataCard,
      readerStudy,
      notes,
      timings: { generate: generateSeconds, load: loadSeconds },
    },
    onProgress: (stage, e) => {
      if (e) {
        const ep = e.epoch;
        log(
          `  ${e.arm === "trtr" ? "real-trained" : "synthetic-trained"} epoch ${ep.epoch}: loss ${
            ep.loss.toFixed(4)
          }, valid AUROC ${Number.isFinite(ep.validMean) ? ep.validMean.toFixed(3) : "n/a"}${
            ep.best ? " *" : ""
          }`,
        );
      } else log(`${stage} ...`);
    },
  });
  const out = join(dir, "results.json");
  await writeJson(out, results);
  const u = results.utility;
  const f3 = (v: number | null) => (v === null ? "n/a" : v.toFixed(3));
  log(
    `mean AUROC real-trained ${f3(u.trtr.mean)}, synthetic-trained ${f3(u.tstr.mean)}, gap ${
      f3(u.gap.gap)
    } ` +
      `[${f3(u.gap.lo)}, ${f3(u.gap.hi)}] (${((performance.now() - t) / 1000).toFixed(0)} s)`,
  );
  log(`wrote ${out}; render it with: deno task report --run ${dir}`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`evaluate: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
