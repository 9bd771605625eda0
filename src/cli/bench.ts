/**
 * `deno task bench [--quick] [--out FILE] [--impl medsynth,tfjs-webgpu,tfjs-wasm] [--filter OP]
 *   [--variant auto|naive|blocked|tiled] [--no-data] [--no-gan] [--gan 32,64] [--no-classifier]
 *   [--classifier tiny,paper] [--samples N] [--row-budget SECONDS] [--budget SECONDS]`
 * `deno task bench --profile [--gan 32] [--classifier tiny] [--out FILE]`
 *
 * `--profile` times no peers: it runs each whole step (the GAN steps, then the classifier steps) with a
 * timestamp query around every dispatch and prints where the step's GPU time goes, per kernel (JSON with
 * `--out`). It needs the adapter's `timestamp-query` feature.
 *
 * The run always finishes: every measurement (a row of one implementation) has a time budget
 * (`--row-budget`, default 60 s) and the whole run one (`--budget`, default 540 s, so the default run on
 * llvmpipe ends within 10 minutes). A measurement's warm-up and first timed run predict its cost; one that
 * would take longer than its budget (or than what is left of the run's) takes fewer samples, down to 3, or
 * is written with `"skipped": "time budget"`, as is every row left once the run's budget is spent. A slow
 * peer used to keep the run going for over 10 minutes on one row.
 *
 * Rows: the 32 px GAN step and the tiny classifier step, the kernels, then the heaviest whole steps
 * (DenseNet-121 at 32 px, the 64 px GAN), each measured by every implementation before the next row starts,
 * so a run cut short still has its first rows complete with their peers. Times medsynth against tfjs-webgpu on the same adapter and tfjs-wasm
 * (SIMD, one thread), after warm-up, median of several runs; prints a table and optionally writes JSON
 * `{adapter, results: [{op, shape, impl, ms, gflops}]}`. The data section (unless `--no-data`) adds
 * data-path throughput rows (`images_per_s`, see src/bench/data_cases.ts): a 512x512 CT slice
 * (../shared/data's ankle CT when present, else a phantom slice) and a 16-bit PNG, and the
 * ChestX-ray14 sample when ../shared/data is there.
 */
import "./_xdg.ts";
import { parseArgs } from "node:util";
import type * as TF from "@tensorflow/tfjs";
import { benchCases, type BenchRow, benchTable, RunBudget } from "../bench/cases.ts";
import {
  benchClassifierMedsynth,
  benchClassifierTfjs,
  type ClassifierCase,
  classifierCases,
  classifierShape,
  classifierStepper,
} from "../bench/classifier_cases.ts";
import { profileStep, profileTable, type StepProfile } from "../bench/profile.ts";
import { benchDataCases, type DataBenchInputs } from "../bench/data_cases.ts";
import { benchMedsynth } from "../bench/run_medsynth.ts";
import { benchTfjs } from "../bench/run_tfjs.ts";
import {
  benchGanAutoMedsynth,
  benchGanMedsynth,
  benchGanTfjs,
  type GanCase,
  ganCases,
  ganShape,
  ganStepper,
} from "../bench/gan_cases.ts";
import type { ClassifierPreset } from "../models/classifier.ts";
import { Gpu } from "../gpu/gpu.ts";
import type { ConvVariant } from "../nn/conv2d.ts";
import { writeFileAtomic } from "./_atomic.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string" },
    impl: { type: "string", default: "medsynth,tfjs-webgpu,tfjs-wasm" },
    filter: { type: "string" },
    variant: { type: "string", default: "auto" },
    samples: { type: "string", default: "5" },
    "wasm-dir": { type: "string" },
    "no-data": { type: "boolean", default: false },
    "no-gan": { type: "boolean", default: false },
    gan: { type: "string", default: "32,64" },
    "no-classifier": { type: "boolean", default: false },
    classifier: { type: "string", default: "tiny,paper" },
    "row-budget": { type: "string", default: "60" },
    budget: { type: "string", default: "540" },
    profile: { type: "boolean", default: false },
  },
});
const seconds = (flag: "row-budget" | "budget") => {
  const ms = Number(args[flag]) * 1000;
  if (!(ms > 0)) throw new Error(`--${flag} must be a number of seconds > 0, got ${args[flag]}`);
  return ms;
};
const budget = new RunBudget(seconds("budget"), seconds("row-budget"));

const impls = args.impl!.split(",");
const samples = Number(args.samples);
const wholeSamples = Math.min(samples, 3); // whole training steps: seconds each on llvmpipe
const keep = (op: string) => !args.filter || op.includes(args.filter);

/** One row of the table: an op at a shape, measured by every implementation that has it. */
interface RowGroup {
  op: string;
  shape: string;
  medsynth: (variant: ConvVariant, budgetMs: number) => Promise<BenchRow>;
  /** Absent: no tfjs peer. */
  tfjs?: (tf: Tfjs, impl: string, budgetMs: number) => Promise<BenchRow>;
}
type Tfjs = typeof TF;

const groups: RowGroup[] = [];
const ganSizes = args.gan!.split(",").map(Number);
const gans = args["no-gan"]
  ? []
  : ganCases(args.quick).filter((c) => ganSizes.includes(c.cfg.resolution) && keep(c.op));
const presets = args.classifier!.split(",") as ClassifierPreset[];
const classifiers = args["no-classifier"]
  ? []
  : classifierCases(args.quick, presets).filter((c) => keep(c.op));
// The rows the targets name first (the 32 px GAN step, the tiny classifier step, the kernels),
// then the heaviest whole steps (DenseNet-121, the 64 px GAN), which a spent run budget skips first.
const light = [
  ...gans.filter((g) => g.cfg.resolution <= 32),
  ...classifiers.filter((c) => c.preset === "tiny"),
];
const heavy = [
  ...classifiers.filter((c) => c.preset !== "tiny"),
  ...gans.filter((g) => g.cfg.resolution > 32),
];
for (const c of light) addWholeStep(c);
// the 32 px GAN step at the batch "auto" picks (medsynth only: the peers have no such setting)
for (const c of gans.filter((g) => g.cfg.resolution <= 32)) {
  groups.push({
    op: `${c.op}_auto`,
    shape: `auto batch, ${c.cfg.resolution}px`,
    medsynth: (_, budgetMs) => benchGanAutoMedsynth(gpu, c, wholeSamples, budgetMs),
  });
}
for (const c of benchCases(args.quick).filter((c) => keep(c.op))) {
  groups.push({
    op: c.op,
    shape: c.shape,
    medsynth: (variant, budgetMs) => benchMedsynth(gpu, c, { samples, variant, budgetMs }),
    tfjs: (tf, impl, budgetMs) => benchTfjs(tf, c, impl, { samples, budgetMs }),
  });
}
for (const c of heavy) addWholeStep(c);

function addWholeStep(c: GanCase | ClassifierCase): void {
  if ("preset" in c) {
    groups.push({
      op: c.op,
      shape: classifierShape(c),
      medsynth: (_, budgetMs) => benchClassifierMedsynth(gpu, c, { samples: wholeSamples, budgetMs }),
      tfjs: (tf, impl, budgetMs) => benchClassifierTfjs(tf, c, impl, wholeSamples, budgetMs),
    });
  } else {
    groups.push({
      op: c.op,
      shape: ganShape(c),
      medsynth: (_, budgetMs) => benchGanMedsynth(gpu, c, wholeSamples, budgetMs),
      tfjs: (tf, impl, budgetMs) => benchGanTfjs(tf, c, impl, wholeSamples, budgetMs),
    });
  }
}

const gpu = await Gpu.create({ timestamps: args.profile });
console.log(`adapter: ${gpu.adapter.description} (fallback: ${gpu.adapter.isFallbackAdapter})`);
if (args.profile) {
  const profiles: StepProfile[] = [];
  for (const c of [...gans, ...classifiers]) {
    if ("preset" in c) {
      const { step, dispose } = classifierStepper(gpu, c);
      profiles.push(await profileStep(gpu, c.op, classifierShape(c), step));
      dispose();
    } else {
      profiles.push(await profileStep(gpu, c.op, ganShape(c), ganStepper(gpu, c).step));
    }
    console.log("\n" + profileTable(profiles.at(-1)!));
  }
  if (args.out) {
    const doc = { adapter: gpu.adapter, date: new Date().toISOString(), deno: Deno.version.deno, profiles };
    await writeFileAtomic(args.out, JSON.stringify(doc, null, 2) + "\n");
    console.log(`wrote ${args.out}`);
  }
  Deno.exit(0);
}
const rows: BenchRow[] = [];
const progress = (r: BenchRow) => {
  rows.push(r);
  const speed = r.skipped || r.ms == null
    ? r.note ?? "n/a"
    : r.images_per_s != null
    ? `${r.ms!.toFixed(1)} ms  ${r.images_per_s.toFixed(1)} images/s`
    : `${r.ms?.toFixed(2) ?? "n/a"} ms  ${r.gflops?.toFixed(1) ?? "n/a"} GFLOP/s`;
  console.log(`  ${r.impl.padEnd(16)} ${r.op.padEnd(20)} ${r.shape.padEnd(34)} ${speed}`);
};

if (!args["no-data"] && impls.includes("medsynth")) {
  const dataRows = (await benchDataCases(await readDataInputs(), {
    samples: Math.min(samples, args.quick ? 3 : samples),
    sampleMs: args.quick ? 50 : 200,
  })).filter((r) => keep(r.op));
  for (const r of dataRows) {
    progress(r);
    console.log(`    ${r.images_per_s!.toFixed(1)} images/s (${r.note})`);
  }
}

const tfImpls = impls.filter((i) => i.startsWith("tfjs-"));
const tf = tfImpls.length ? await loadTfjs(tfImpls) : null;
// Every implementation measures a row before the next row starts, so a run cut short by --budget still
// has its first rows complete with their peers.
for (const g of groups) {
  for (const impl of impls) {
    const base = { op: g.op, shape: g.shape, impl };
    if (impl.startsWith("medsynth")) {
      const variant = (impl === "medsynth" ? args.variant : impl.slice("medsynth-".length)) as ConvVariant;
      progress(await budget.measure(base, (ms) => g.medsynth(variant, ms)));
    } else if (g.tfjs && tf) {
      const backend = impl.slice("tfjs-".length);
      if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialise`);
      await tf.ready();
      progress(await budget.measure(base, (ms) => g.tfjs!(tf, impl, ms), true));
    }
  }
}

console.log("\n" + benchTable(rows));
if (args.out) {
  const doc = {
    adapter: gpu.adapter,
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    cpus: navigator.hardwareConcurrency,
    results: rows,
  };
  await writeFileAtomic(args.out, JSON.stringify(doc, null, 2) + "\n");
  console.log(`wrote ${args.out}`);
}
gpu.destroy();
Deno.exit(0);

/** tfjs with the asked-for backends registered (tfjs-wasm pointed at its .wasm files). */
async function loadTfjs(tfImpls: string[]): Promise<Tfjs> {
  const tf = await import("@tensorflow/tfjs");
  if (tfImpls.includes("tfjs-webgpu")) await import("@tensorflow/tfjs-backend-webgpu");
  if (tfImpls.includes("tfjs-wasm")) {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    // tfjs-wasm fetches its .wasm files at run time: point it at the package's dist/ folder.
    const dir = args["wasm-dir"]
      ? new URL(args["wasm-dir"].replace(/\/?$/, "/"), `file://${Deno.cwd()}/`)
      : new URL("../../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url);
    wasm.setWasmPaths(dir.href);
  }
  return tf;
}

/** Real inputs of the data rows from ../shared/data when it is there (the bench never needs it). */
async function readDataInputs(): Promise<DataBenchInputs> {
  const data = new URL("../../../shared/data/", import.meta.url);
  const out: DataBenchInputs = {};
  const ct = new URL("dicom/octave_dicom/CT-MONO2-16-ankle.dcm", data);
  try {
    out.ctDicom = await Deno.readFile(ct);
    out.ctName = "CT-MONO2-16-ankle.dcm";
  } catch { /* absent: a phantom slice is used */ }
  const dir = new URL("chestxray14-64px/images/", data);
  try {
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) if (e.isFile && e.name.endsWith(".png")) names.push(e.name);
    const first = names.sort().slice(0, 200);
    out.chestImages = await Promise.all(first.map((n) => Deno.readFile(new URL(n, dir))));
    out.chestName = "chestxray14-64px";
  } catch { /* absent: no chest row */ }
  return out;
}
