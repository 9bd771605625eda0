/**
 * `deno task train --config FILE|PRESET --data PATH|phantom --out DIR [--resume] [--images N] [--quiet]
 *   [--top-k K] [--per-combo N] [--min-count C]`
 *
 * Trains a label-conditional GAN on the GPU (WebGPU) and keeps the run in DIR (see src/cli/_run_dir.ts):
 * config.json first, metrics.jsonl, atomic checkpoints (periodic and on Ctrl-C / SIGTERM), sample grids,
 * and a final generator.ckpt. The GAN trains on the training split (by patient, 80/10/10, the config's
 * seed). `--resume` continues from the newest valid checkpoint with the run's own config and data;
 * `--images N` sets (or, on resume, extends) the training length; `--minutes M` ends the run (final
 * checkpoint, samples and generator.ckpt) after M minutes of training even if fewer images were shown.
 * Besides the length, an extended run may set a learning-rate decay in its config.json (`lrDecayFrom`,
 * `lrDecayImages`, `lrEndFactor`) that starts at or after the images already seen; any other change to
 * config.json is refused on resume.
 *
 * `--top-k`, `--per-combo`, `--min-count` train on the study's subset (src/data/subset.ts: the K most
 * frequent label combinations, N training images per combination, combinations with fewer than C images
 * dropped; validation and test keep all images of the kept combinations); they are written into data.json
 * so generate and evaluate use the same subset. On --resume the run's own data.json rules.
 *
 * The config is a preset name (tiny, small64, paper32, paper64, paper128, paper256) or a JSON file with
 * overrides of a preset (`{"preset": "tiny", "batchSize": 32, ...}`).
 *
 * Label fidelity (config.labelFidelity, `--fidelity-every N`): a classifier is trained once on the real
 * training split (cached as reference_<hash>.ckpt, reused by `deno task evaluate` with the same classifier
 * settings), and every N images it scores a fixed set of generated images: per label the AUROC of "label
 * requested" vs its score, next to its AUROC on real validation images. Appended to metrics.jsonl as
 * `{"event": "labelFidelity", ...}` and shown in the progress line. `--prepare` only writes the run folder
 * and trains (or finds) that classifier, then exits: `deno task demo` times it to budget the GAN.
 */
import "./_xdg.ts";
import { parseArgs } from "node:util";
import { Gpu } from "../gpu/gpu.ts";
import { encodePng } from "../data/png.ts";
import { DEFAULT_PHANTOM_CONFIG, type PhantomConfig, type PhantomLabelSpec } from "../data/phantom.ts";
import { describe, type SubsetOptions } from "../data/subset.ts";
import { encodeCheckpoint } from "../train/checkpoint.ts";
import {
  chooseAutoBatch,
  GanDivergedError,
  ganStepTimer,
  GanTrainer,
  type ImageGrid,
  topCombos,
} from "../train/gan.ts";
import { generatorCheckpoint, restoreTrainer, trainerCheckpoint } from "../train/run_state.ts";
import { formatLabelFidelity, type LabelFidelity, LabelFidelityProbe } from "../eval/label_fidelity.ts";
import { loadOrTrainReference } from "./_reference.ts";
import { type GanConfig, PRESETS, resolveGanConfig, validateGanConfig } from "../models/config.ts";
import { writeFileAtomic } from "./_atomic.ts";
import {
  appendMetrics,
  dataSourceFor,
  type DataSpec,
  exists,
  loadSplitData,
  newestValidCheckpoint,
  phantomCacheDir,
  readJson,
  runPaths,
  saveCheckpoint,
  writeJson,
} from "./_run_dir.ts";

const USAGE =
  `usage: deno task train --config FILE|PRESET --data PATH|phantom[:COUNT] --out DIR [--resume] [--images N]
                       [--minutes M] [--fidelity-every N] [--prepare] [--quiet] [--top-k K] [--per-combo N] [--min-count C]
presets: ${Object.keys(PRESETS).join(", ")}`;

/** Seed offset of the fixed sample-grid latents. */
const GRID_SEED_XOR = 0x5a4d_9e37;
/** Seed offset of the label-fidelity probe's latents. */
const PROBE_SEED_XOR = 0x1abe_1f1d;

/**
 * The config of `--config FILE|PRESET`, and whether it asks for `"batchSize": "auto"` (the batch is then
 * chosen on the device before training; the config holds the preset's batch until then).
 */
async function resolveConfig(arg: string): Promise<{ cfg: GanConfig; autoBatch: boolean }> {
  if (arg in PRESETS) return { cfg: resolveGanConfig({}, arg), autoBatch: false };
  if (!(await exists(arg))) {
    throw new Error(`--config ${arg}: neither a preset (${Object.keys(PRESETS).join(", ")}) nor a file`);
  }
  const v = await readJson(arg);
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new Error(`${arg}: must hold a JSON object`);
  }
  const o = { ...(v as Record<string, unknown>) };
  const autoBatch = o.batchSize === "auto";
  if (autoBatch) delete o.batchSize;
  try {
    return { cfg: resolveGanConfig(o), autoBatch };
  } catch (e) {
    throw new Error(
      `${arg}: ${(e as Error).message}${
        /batchSize/.test((e as Error).message) ? ' (or "auto": the largest fast batch on this device)' : ""
      }`,
    );
  }
}

/** Writes an image grid in [-1, 1] as PNG. */
export async function writeGridPng(path: string, g: ImageGrid): Promise<void> {
  const v01 = Float32Array.from(g.data, (v) => Math.min(1, Math.max(0, (v + 1) / 2)));
  await writeFileAtomic(path, encodePng(v01, g.channels, g.height, g.width));
}

/** `phantom` or `phantom:COUNT` (a smaller phantom, e.g. for tests): the phantom settings, else null. */
function phantomSpec(data: string): { phantom: Partial<PhantomConfig> } | null {
  const m = /^phantom(?::(\d+))?$/.exec(data);
  if (!m) return null;
  if (!m[1]) return { phantom: { seed: 1 } };
  const count = Number(m[1]);
  if (count < 50) throw new Error(`--data phantom:${m[1]}: use at least 50 images`);
  return { phantom: { seed: 1, labels: { ...DEFAULT_PHANTOM_CONFIG.labels, count } as PhantomLabelSpec } };
}

/** The subset flags (--top-k, --per-combo, --min-count) as SubsetOptions, or null when none is given. */
function subsetFlags(a: Record<string, unknown>): SubsetOptions | null {
  const out: SubsetOptions = {};
  const flags = [["top-k", "topK"], ["per-combo", "perCombo"], ["min-count", "minCount"]] as const;
  for (const [flag, key] of flags) {
    const v = a[flag];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be an integer >= 1, got ${v}`);
    out[key] = n;
  }
  return Object.keys(out).length ? out : null;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(sec).padStart(2, "0")}s`;
}

async function main(argv: string[]): Promise<number> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      config: { type: "string" },
      data: { type: "string" },
      out: { type: "string" },
      resume: { type: "boolean", default: false },
      images: { type: "string" },
      minutes: { type: "string" },
      "fidelity-every": { type: "string" },
      prepare: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      "top-k": { type: "string" },
      "per-combo": { type: "string" },
      "min-count": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  if (!a.out) throw new Error(`--out DIR is required\n${USAGE}`);
  const dir = a.out, paths = runPaths(dir);
  let images: number | undefined;
  if (a.images !== undefined) {
    images = Number(a.images);
    if (!Number.isInteger(images) || images < 1) {
      throw new Error(`--images must be a positive integer, got ${a.images}`);
    }
  }

  const minutes = a.minutes === undefined ? Infinity : Number(a.minutes);
  if (!(minutes > 0)) throw new Error(`--minutes must be a number > 0, got ${a.minutes}`);
  let fidelityEvery: number | undefined;
  if (a["fidelity-every"] !== undefined) {
    fidelityEvery = Number(a["fidelity-every"]);
    if (!Number.isInteger(fidelityEvery) || fidelityEvery < 0) {
      throw new Error(
        `--fidelity-every must be an integer >= 0 (images; 0 = off), got ${a["fidelity-every"]}`,
      );
    }
  }

  let cfg: GanConfig, spec: DataSpec;
  let autoBatch = false;
  if (a.resume) {
    if (!(await exists(paths.config))) {
      throw new Error(`--resume: ${paths.config} not found; start the run without --resume`);
    }
    try {
      cfg = validateGanConfig(await readJson(paths.config) as Record<string, unknown>);
    } catch (e) {
      throw new Error(`${paths.config}: ${(e as Error).message}`);
    }
    spec = await readJson(paths.data) as DataSpec;
    if (subsetFlags(a) && !a.quiet) {
      console.error(`--resume: --top-k/--per-combo/--min-count ignored; the subset of ${paths.data} applies`);
    }
    const longer = images !== undefined && images !== cfg.images;
    const fidelity = fidelityEvery !== undefined && fidelityEvery !== cfg.labelFidelity.every;
    if (longer) cfg.images = images!;
    if (fidelity) cfg.labelFidelity.every = fidelityEvery!;
    if (longer || fidelity) await writeJson(paths.config, cfg);
  } else {
    if (!a.config || !a.data) throw new Error(`--config and --data are required\n${USAGE}`);
    if (await exists(paths.config)) {
      throw new Error(`${dir} already holds a run (config.json); use --resume or another --out`);
    }
    ({ cfg, autoBatch } = await resolveConfig(a.config));
    if (images !== undefined) cfg.images = images;
    if (fidelityEvery !== undefined) cfg.labelFidelity.every = fidelityEvery;
    const subset = subsetFlags(a);
    spec = {
      source: dataSourceFor(dir, a.data),
      splitSeed: cfg.seed,
      size: cfg.resolution,
      channels: cfg.imageChannels,
      ...(phantomSpec(a.data) ?? {}),
      ...(subset ? { subset: { ...subset, seed: cfg.seed } } : {}),
    };
    if (spec.phantom) spec.source = "phantom";
    await Deno.mkdir(dir, { recursive: true });
    // with "auto", config.json is written once the batch is chosen (below): a resume must see that batch
    if (!autoBatch) await writeJson(paths.config, cfg);
    await writeJson(paths.data, spec);
  }
  const log = (s: string) => {
    if (!a.quiet) console.error(s);
  };

  log(`loading data from ${spec.source} ...`);
  const { train, valid } = await loadSplitData(spec, phantomCacheDir(dir), dir);
  log(`training split: ${train.n} images, labels ${train.labelNames.join(", ")}`);
  const gpu = await Gpu.create();
  log(`adapter: ${JSON.stringify(gpu.adapter).slice(0, 160)}`);
  if (autoBatch) {
    // trial trainers on a device of their own, destroyed afterwards: their buffers do not stay
    const trialGpu = await Gpu.create();
    const auto = await chooseAutoBatch(cfg, ganStepTimer(trialGpu, train), {
      fallbackAdapter: gpu.adapter.isFallbackAdapter,
    });
    trialGpu.destroy();
    cfg = auto.cfg;
    await writeJson(paths.config, cfg);
    await appendMetrics(dir, {
      event: "autoBatch",
      batchSize: cfg.batchSize,
      trials: auto.trials,
      reason: auto.reason,
    });
    log(
      `batchSize "auto": ${cfg.batchSize} (${auto.reason}; lrG ${cfg.lrG.toPrecision(3)}, lrD ${
        cfg.lrD.toPrecision(3)
      }, emaDecay ${cfg.emaDecay.toPrecision(4)}); config.json records it`,
    );
  }
  const lf = cfg.labelFidelity;
  let probe: LabelFidelityProbe | null = null;
  if (lf.every > 0) {
    const t = performance.now();
    const { reference, cached, path } = await loadOrTrainReference(
      gpu,
      phantomCacheDir(dir) ?? dir,
      { train, valid },
      { model: lf.classifier, maxImages: lf.classifierImages },
      cfg.seed,
      {
        log,
        onProgress: (e) =>
          log(
            `  reference classifier epoch ${e.epoch}: valid AUROC ${e.validMean.toFixed(3)}${
              e.best ? " *" : ""
            }`,
          ),
      },
    );
    log(
      `label fidelity every ${lf.every} images against the real-trained ${lf.classifier} classifier ` +
        (cached
          ? `(cached ${path})`
          : `(trained on ${lf.classifierImages} real images in ${
            ((performance.now() - t) / 1000).toFixed(0)
          } s; cached ${path})`),
    );
    probe = new LabelFidelityProbe(reference.model, valid, (cfg.seed ^ PROBE_SEED_XOR) >>> 0);
    if (!cached) {
      await appendMetrics(dir, { event: "reference", seconds: (performance.now() - t) / 1000 });
    }
  }
  if (a.prepare) {
    log(`prepared ${dir}; train with: deno task train --out ${dir} --resume`);
    return 0;
  }
  const tr = new GanTrainer(gpu, cfg, train);
  if (a.resume) {
    const found = await newestValidCheckpoint(dir, log);
    if (found) {
      restoreTrainer(tr, found.ck, found.path);
      log(`resumed from ${found.path} at ${tr.imagesSeen} images (step ${tr.step})`);
      await appendMetrics(dir, {
        event: "resume",
        step: tr.step,
        imagesSeen: tr.imagesSeen,
        from: found.path,
      });
    } else {
      log("no valid checkpoint: starting from the beginning");
    }
  }

  const combos = topCombos(train, cfg.sampleRows);
  const rows = combos.length / train.labelNames.length;
  await Deno.mkdir(paths.samples, { recursive: true });
  const legend = Array.from({ length: rows }, (_, r) => {
    const key = Array.from(combos.subarray(r * train.labelNames.length, (r + 1) * train.labelNames.length))
      .join("");
    return `row ${r + 1}: ${describe(key, train.labelNames)}`;
  });
  await writeFileAtomic(`${paths.samples}/rows.txt`, legend.join("\n") + "\n");
  const gridSeed = (cfg.seed ^ GRID_SEED_XOR) >>> 0;
  const writeSamples = async () => {
    const grid = await tr.sampleGrid(combos, rows, cfg.sampleColumns, gridSeed);
    const p = `${paths.samples}/samples_${String(tr.imagesSeen).padStart(10, "0")}.png`;
    await writeGridPng(p, grid);
    return p;
  };
  let fidelity: LabelFidelity | null = null;
  const measureFidelity = async () => {
    if (!probe) return;
    fidelity = await probe.measure((labels, seed) => tr.generate(labels, seed));
    await appendMetrics(dir, {
      event: "labelFidelity",
      step: tr.step,
      imagesSeen: tr.imagesSeen,
      labelNames: train.labelNames,
      ...fidelity,
    });
    if (!a.quiet) {
      console.error(`\n${tr.imagesSeen} images: ${formatLabelFidelity(fidelity, train.labelNames)}`);
    }
  };
  const checkpoint = async () => {
    const bytes = encodeCheckpoint(await trainerCheckpoint(tr));
    return await saveCheckpoint(dir, tr.imagesSeen, bytes, cfg.keepCheckpoints);
  };

  let stop: string | null = null;
  const onSignal = (name: string) => () => {
    if (stop) Deno.exit(130); // a second Ctrl-C: leave now (the last checkpoint stays usable)
    stop = name;
  };
  const signals: [Deno.Signal, () => void][] = [["SIGINT", onSignal("SIGINT")], [
    "SIGTERM",
    onSignal("SIGTERM"),
  ]];
  for (const [s, f] of signals) Deno.addSignalListener(s, f);

  const t0 = performance.now(), startImages = tr.imagesSeen;
  let lastT = t0, lastImages = tr.imagesSeen, rate = NaN;
  const enc = new TextEncoder();
  try {
    while (tr.imagesSeen < cfg.images && !stop && performance.now() - t0 < minutes * 60_000) {
      const before = tr.imagesSeen;
      tr.trainStep();
      if (tr.logDue) {
        const r = await tr.readLosses();
        const now = performance.now();
        rate = (tr.imagesSeen - lastImages) / ((now - lastT) / 1000);
        lastT = now;
        lastImages = tr.imagesSeen;
        await appendMetrics(dir, { ...r, time: (now - t0) / 1000, imagesPerSec: rate });
      } else {
        await new Promise((res) => setTimeout(res, 0)); // let signal listeners run
      }
      const crossed = (every: number) =>
        every > 0 && Math.floor(tr.imagesSeen / every) > Math.floor(before / every);
      if (crossed(cfg.checkpointEvery)) await checkpoint();
      if (crossed(cfg.sampleEvery)) await writeSamples();
      if (crossed(lf.every)) await measureFidelity();
      if (!a.quiet) {
        const frac = Math.min(1, tr.imagesSeen / cfg.images), w = 24;
        const bar = "#".repeat(Math.round(frac * w)).padEnd(w, ".");
        const avg = (tr.imagesSeen - startImages) / ((performance.now() - t0) / 1000);
        const eta = (cfg.images - tr.imagesSeen) / (Number.isFinite(rate) ? rate : avg);
        const lfText = fidelity ? `  label fidelity ${(fidelity as LabelFidelity).mean.toFixed(2)}` : "";
        Deno.stderr.writeSync(enc.encode(
          `\r[${bar}] ${tr.imagesSeen}/${cfg.images} img  ${
            (Number.isFinite(rate) ? rate : avg).toFixed(1)
          } img/s  ETA ${fmtTime(eta)}${lfText}   `,
        ));
      }
    }
  } catch (e) {
    if (e instanceof GanDivergedError) {
      await appendMetrics(dir, { event: "diverged", ...e.report });
      console.error(`\n${e.message}`);
      return 2;
    }
    throw e;
  } finally {
    for (const [s, f] of signals) Deno.removeSignalListener(s, f);
  }
  if (!a.quiet) console.error("");
  const ckPath = await checkpoint();
  if (stop) {
    log(`${stop}: stopped at ${tr.imagesSeen} images; checkpoint ${ckPath}. Continue with --resume.`);
    await appendMetrics(dir, { event: "stopped", signal: stop, step: tr.step, imagesSeen: tr.imagesSeen });
    return 130;
  }
  const samples = await writeSamples();
  // the final measurement, unless the last step already made one
  if (probe && tr.imagesSeen % lf.every >= cfg.batchSize) await measureFidelity();
  await writeFileAtomic(paths.generator, encodeCheckpoint(await generatorCheckpoint(tr, { data: spec })));
  const secs = (performance.now() - t0) / 1000;
  await appendMetrics(dir, {
    event: "done",
    step: tr.step,
    imagesSeen: tr.imagesSeen,
    time: secs,
    imagesPerSec: (tr.imagesSeen - startImages) / secs,
  });
  log(`done: ${tr.imagesSeen} images in ${fmtTime(secs)}; samples ${samples}; generator ${paths.generator}`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`train: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
