/**
 * The studio's evaluation and export over a {@linkcode RunStore}, composed from the library as
 * `deno task generate` (real-split), `deno task evaluate` and `deno task report` compose it: one synthetic
 * image per real label vector of each split (GeneratorSampler + exportSynthetic, seed = the run's seed + 1),
 * the exported PNG + CSV read back with the folder loader (as the CLI reads its export folder), then
 * evaluate() and renderReport(). The run folder then holds synthetic/{train,valid,test}, results.json and
 * report.html, as after the CLI, and {@linkcode zipRun} packs it.
 * @module
 */
import { zipSync } from "fflate";
import type { Gpu } from "../gpu/gpu.ts";
import type { Dataset } from "../data/dataset.ts";
import { type DataCard, exportSynthetic } from "../data/export.ts";
import { datasetStats } from "../data/subset.ts";
import type { ClassifierTrainConfig } from "../train/classifier.ts";
import { decodeCheckpoint } from "../train/checkpoint.ts";
import { GeneratorSampler } from "../train/sampler.ts";
import { evaluate, parseMetricsJsonl } from "../eval/evaluate.ts";
import { renderReport } from "../report/html.ts";
import { parseResults, type Results, shareableResults } from "../report/results.ts";
import { type FolderFile, loadFolderDataset } from "./folder.ts";
import { listAll, readStoreJson, RUN_FILES, type RunStore, writeStoreJson } from "./run_store.ts";

/** The real splits of a run. */
export interface RealSplits {
  train: Dataset;
  valid: Dataset;
  test: Dataset;
}

const SPLITS = ["train", "valid", "test"] as const;

/**
 * Samples the run's generator.ckpt once per real label vector of each split and writes the exports to
 * `synthetic/<split>/` of the store (what `deno task generate --run DIR --out DIR/synthetic` writes).
 */
export async function synthesizeSplits(
  gpu: Gpu,
  store: RunStore,
  real: RealSplits,
  onProgress: (split: string) => void = () => {},
): Promise<void> {
  const bytes = await store.read(RUN_FILES.generator);
  if (!bytes) throw new Error(`${RUN_FILES.generator} not found: train the run to its end first`);
  const sampler = new GeneratorSampler(gpu, decodeCheckpoint(bytes, RUN_FILES.generator), {
    source: RUN_FILES.generator,
  });
  const { cfg, labelNames, meta } = sampler;
  const seed = cfg.seed + 1;
  const L = labelNames.length;
  const generator = {
    checkpoint: RUN_FILES.generator,
    step: meta.step,
    imagesSeen: meta.imagesSeen,
    model: cfg.model,
  };
  for (const name of SPLITS) {
    onProgress(name);
    const r = real[name], labels = r.labels.slice();
    const d: Dataset = {
      images: await sampler.sample(labels, seed),
      n: labels.length / L,
      channels: cfg.imageChannels,
      height: cfg.resolution,
      width: cfg.resolution,
      labels,
      labelNames,
      patientIds: new Array(labels.length / L).fill("synth"),
      sources: [],
      format: r.format,
    };
    const files = exportSynthetic(d, { generator, config: cfg, seed, sourceStats: datasetStats(r) });
    for (const f of files) await store.write(`synthetic/${name}/${f.path}`, f.bytes);
  }
}

/** The files of a folder of the store as {@linkcode FolderFile}s relative to it. */
async function storeFolder(store: RunStore, dir: string): Promise<FolderFile[]> {
  const paths = await listAll(store, dir);
  return paths.map((p) => ({
    path: p.slice(dir.length + 1),
    read: async () => (await store.read(p))!,
  }));
}

/** Options of {@linkcode evaluateRun}. */
export interface EvaluateRunOptions {
  /** Classifier settings (the CLI's --classifier/--epochs/--images/--batch). */
  classifier?: Partial<ClassifierTrainConfig>;
  /** Bootstrap resamples (CLI default 1000). */
  resamples?: number;
  /** Seed of the evaluation (CLI default 0). */
  seed?: number;
  /** Report title. */
  title?: string;
  /** Run name in the results. */
  runName?: string;
  /** Stage names and classifier epochs, as evaluate()'s onProgress. */
  onProgress?: Parameters<typeof evaluate>[1]["onProgress"];
}

/**
 * `deno task evaluate` + `deno task report` on the store: synthesizes the splits when synthetic/ is
 * missing, evaluates, writes results.json and report.html; returns the results.
 */
export async function evaluateRun(
  gpu: Gpu,
  store: RunStore,
  real: RealSplits,
  opts: EvaluateRunOptions = {},
): Promise<Results> {
  const progress = opts.onProgress ?? (() => {});
  let generateSeconds: number | null = null;
  if (!(await store.read("synthetic/train/data_card.json"))) {
    const t = performance.now();
    await synthesizeSplits(gpu, store, real, (s) => progress(`generate ${s}`));
    generateSeconds = (performance.now() - t) / 1000;
  }
  const t = performance.now();
  const { channels, height } = real.train;
  const load = async (split: string) =>
    (await loadFolderDataset(await storeFolder(store, `synthetic/${split}`), {
      size: height,
      channels: channels as 1 | 3,
      folder: `synthetic/${split}`,
    })).dataset;
  const synthetic = { train: await load("train"), valid: await load("valid"), test: await load("test") };
  const loadSeconds = (performance.now() - t) / 1000;
  const metrics = await store.read(RUN_FILES.metrics);
  const { curves, skipped } = parseMetricsJsonl(metrics ? new TextDecoder().decode(metrics) : "");
  const notes: string[] = [];
  if (skipped) notes.push(`${skipped} unreadable line(s) of metrics.jsonl were skipped.`);
  const spec = await readStoreJson(store, RUN_FILES.data) as Record<string, unknown> | null;
  const name = opts.runName ?? "studio";
  const results = await evaluate(gpu, {
    real,
    synthetic,
    classifier: opts.classifier,
    seed: opts.seed ?? 0,
    resamples: opts.resamples ?? 1000,
    meta: {
      title: opts.title ?? `medsynth evaluation: ${name}`,
      run: { name, dir: null },
      gan: await readStoreJson(store, RUN_FILES.config) as Record<string, unknown> | null,
      data: spec,
      source: typeof spec?.source === "string" ? spec.source : undefined,
      syntheticSource: "synthetic",
      training: curves,
      dataCard: await readStoreJson(store, "synthetic/train/data_card.json") as DataCard | null,
      notes,
      timings: { generate: generateSeconds, load: loadSeconds },
    },
    onProgress: progress,
  });
  await writeStoreJson(store, RUN_FILES.results, results);
  await store.write(RUN_FILES.report, renderReport(results));
  return results;
}

/**
 * The whole run folder as a zip under `<prefix>/` (config, data, metrics, checkpoints, samples,
 * generator.ckpt, synthetic/, results.json, report.html): unzipped, it is a run folder the CLIs accept.
 * Checkpoints are left out unless `checkpoints` (they only matter to continue training). The zip leaves the
 * page, so results.json and report.html go in their shareable form (no real image, no local path; see
 * shareableResults) and the decoded real images never.
 */
export async function zipRun(
  store: RunStore,
  prefix = "medsynth-run",
  opts: { checkpoints?: boolean } = {},
): Promise<Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (const p of await listAll(store)) {
    if (!opts.checkpoints && p.startsWith(`${RUN_FILES.checkpoints}/`)) continue;
    if (p.endsWith(".msdc")) continue; // the decoded real images stay on this machine
    if (p === RUN_FILES.report) continue; // rendered below from the shareable results
    let bytes = (await store.read(p))!;
    if (p === RUN_FILES.results) {
      const shared = shareableResults(parseResults(JSON.parse(new TextDecoder().decode(bytes)), p));
      bytes = new TextEncoder().encode(JSON.stringify(shared, null, 2) + "\n");
      files[`${prefix}/${RUN_FILES.report}`] = new TextEncoder().encode(renderReport(shared));
    }
    files[`${prefix}/${p}`] = bytes;
  }
  return zipSync(files, { level: 6 });
}
