/**
 * `deno task generate --run DIR --out DIR [--labels real-split|CSV] [--copies K] [--n N --combos K|"a+b,c,none"]
 *                     [--grid] [--seed S] [--batch B] [--overwrite]`
 *
 * Samples the EMA generator of a training run (DIR/generator.ckpt, or a generator checkpoint file given as
 * --run) into synthetic datasets written by exportSynthetic (PNG + label CSV in the input's format + data
 * card; file names and ids are generated, nothing derives from real names or ids):
 *
 * - `--labels real-split` (the default): the study's protocol, one synthetic image per real label vector of
 *   the run's train / valid / test splits (the run's data split by patient with the run's seed), into
 *   OUT/train, OUT/valid, OUT/test; with `--copies K`, K images per real label vector (each with its own
 *   latent), so a synthetic set may be larger than the real one it stands for;
 * - `--labels CSV`: one image per row of a label CSV (any supported format), into OUT;
 * - `--n N --combos ...`: N images for each chosen label combination (`--combos 6` = the 6 most frequent of
 *   the training split, or a list like `epidural+subdural,no_finding`), into OUT;
 * - `--grid`: also OUT/grid.png, one row per label (and "no finding"), 8 latents each.
 *
 * Latents are drawn from the seed (default: the run's seed + 1) row by row, so results are reproducible.
 */
import "./_xdg.ts";
import { parseArgs } from "node:util";
import { basename, dirname, join } from "node:path";
import { Gpu } from "../gpu/gpu.ts";
import type { Dataset } from "../data/dataset.ts";
import { exportSynthetic } from "../data/export.ts";
import { datasetStats } from "../data/subset.ts";
import { decodeCheckpoint } from "../train/checkpoint.ts";
import { DEFAULT_SAMPLE_BATCH, GeneratorSampler } from "../train/sampler.ts";
import { tileGrid, topCombos } from "../train/gan.ts";
import { readLabelTable, writeExportFolder } from "./_fs_dataset.ts";
import { type DataSpec, exists, loadSplitData, phantomCacheDir, runPaths } from "./_run_dir.ts";
import { writeGridPng } from "./train.ts";

const USAGE = `usage: deno task generate --run DIR|FILE.ckpt --out DIR [--labels real-split|CSV] [--copies K]
                         [--n N --combos K|"label+label,none,..."] [--grid] [--seed S] [--batch B] [--overwrite]
  --copies  with real-split: K images per real label vector in every split (default 1, the study's protocol)`;

/** Parses `--combos`: a count (most frequent of `train`) or a comma list of "+"-joined label names / "none". */
function parseCombos(arg: string, labelNames: string[], train: Dataset | null): Uint8Array {
  const L = labelNames.length;
  if (/^\d+$/.test(arg)) {
    if (!train) throw new Error(`--combos ${arg}: a count needs the run's data (give --run DIR, not a file)`);
    return topCombos(train, Number(arg));
  }
  const parts = arg.split(",").map((s) => s.trim()).filter(Boolean);
  const out = new Uint8Array(parts.length * L);
  parts.forEach((p, r) => {
    if (p === "none" || p === "") {
      const nf = labelNames.indexOf("no_finding");
      if (nf >= 0) out[r * L + nf] = 1;
      return;
    }
    for (const name of p.split("+")) {
      const j = labelNames.indexOf(name.trim());
      if (j < 0) throw new Error(`--combos: unknown label "${name}"; labels are ${labelNames.join(", ")}`);
      out[r * L + j] = 1;
    }
  });
  return out;
}

async function main(argv: string[]): Promise<number> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      run: { type: "string" },
      out: { type: "string" },
      labels: { type: "string" },
      n: { type: "string" },
      combos: { type: "string" },
      copies: { type: "string", default: "1" },
      grid: { type: "boolean", default: false },
      seed: { type: "string" },
      batch: { type: "string", default: String(DEFAULT_SAMPLE_BATCH) },
      overwrite: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  if (!a.run || !a.out) throw new Error(`--run and --out are required\n${USAGE}`);
  const isFile = a.run.endsWith(".ckpt");
  const ckPath = isFile ? a.run : runPaths(a.run).generator;
  if (!(await exists(ckPath))) {
    throw new Error(`${ckPath} not found: the run has not finished (train writes generator.ckpt at the end)`);
  }
  const batch = Number(a.batch);
  if (!Number.isInteger(batch) || batch < 1) {
    throw new Error(`--batch must be a positive integer, got ${a.batch}`);
  }
  const copies = Number(a.copies);
  if (!Number.isInteger(copies) || copies < 1) {
    throw new Error(`--copies must be a positive integer, got ${a.copies}`);
  }
  if (copies > 1 && (a.n !== undefined || (a.labels ?? "real-split") !== "real-split")) {
    throw new Error("--copies applies to --labels real-split only (with --n, N already sets the count)");
  }
  const gpu = await Gpu.create();
  // the same sampler as the browser generator page (`deno task serve --run DIR`): same images there
  const sampler = new GeneratorSampler(gpu, decodeCheckpoint(await Deno.readFile(ckPath), ckPath), {
    batch,
    source: ckPath,
  });
  const { cfg, labelNames, meta } = sampler;
  const spec = (meta.data ?? null) as DataSpec | null;
  const seed = a.seed !== undefined ? Number(a.seed) : cfg.seed + 1;
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be an integer >= 0, got ${a.seed}`);
  const L = labelNames.length;
  const sample = (labels: ArrayLike<number>, s: number) => sampler.sample(labels, s);
  const synth = (labels: Uint8Array, format: Dataset["format"]): Promise<Dataset> =>
    sample(labels, seed).then((images) => ({
      images,
      n: labels.length / L,
      channels: cfg.imageChannels,
      height: cfg.resolution,
      width: cfg.resolution,
      labels,
      labelNames,
      patientIds: new Array(labels.length / L).fill("synth"),
      sources: [],
      format,
    }));
  // the data card travels with the export: the checkpoint's file name only, no local path
  const generator = {
    checkpoint: basename(ckPath),
    step: meta.step,
    imagesSeen: meta.imagesSeen,
    model: cfg.model,
  };
  const write = async (dir: string, d: Dataset, source: Dataset | null) => {
    const files = exportSynthetic(d, {
      generator,
      config: cfg,
      seed,
      sourceStats: source ? datasetStats(source) : undefined,
    });
    await writeExportFolder(dir, files, { overwrite: a.overwrite });
    console.error(`wrote ${d.n} images to ${dir}`);
  };

  const needSplit = (a.labels ?? "real-split") === "real-split" && a.n === undefined ||
    (a.combos !== undefined && /^\d+$/.test(a.combos));
  let splits: Awaited<ReturnType<typeof loadSplitData>> | null = null;
  if (needSplit) {
    if (!spec) {
      throw new Error(`${ckPath} does not record its data; use --labels CSV or --combos with label names`);
    }
    splits = await loadSplitData(
      spec,
      phantomCacheDir(isFile ? null : a.run),
      isFile ? dirname(ckPath) : a.run,
    );
  }

  if (a.n !== undefined) {
    const n = Number(a.n);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--n must be a positive integer, got ${a.n}`);
    if (!a.combos) throw new Error("--n needs --combos (a count or a list of label combinations)");
    const combos = parseCombos(a.combos, labelNames, splits?.train ?? null);
    const rows = combos.length / L, labels = new Uint8Array(rows * n * L);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < n; k++) labels.set(combos.subarray(r * L, (r + 1) * L), (r * n + k) * L);
    }
    await write(a.out, await synth(labels, splits?.all.format ?? "plain"), null);
  } else if ((a.labels ?? "real-split") === "real-split") {
    for (const name of ["train", "valid", "test"] as const) {
      const real = splits![name];
      // copy k of row r at k * n + r: the first n images are those of a 1-copy export with the same seed
      const labels = new Uint8Array(real.labels.length * copies);
      for (let k = 0; k < copies; k++) labels.set(real.labels, k * real.labels.length);
      await write(join(a.out, name), await synth(labels, real.format), real);
    }
  } else {
    const { table } = await readLabelTable(a.labels!, {});
    const names = table.labelNames;
    if (names.join(",") !== labelNames.join(",")) {
      throw new Error(
        `${a.labels}: labels ${names.join(", ")} differ from the generator's ${labelNames.join(", ")}`,
      );
    }
    const labels = Uint8Array.from(table.entries.flatMap((r) => Array.from(r.labels)));
    await write(a.out, await synth(labels, table.format), null);
  }

  if (a.grid) {
    const rows = L, cols = 8, labels = new Uint8Array(rows * cols * L);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) labels[(r * cols + c) * L + r] = 1;
    const imgs = await sample(labels, seed);
    await writeGridPng(
      join(a.out, "grid.png"),
      tileGrid(imgs, rows, cols, cfg.imageChannels, cfg.resolution),
    );
    console.error(`wrote ${join(a.out, "grid.png")} (rows: ${labelNames.join(", ")})`);
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`generate: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
