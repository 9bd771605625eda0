/**
 * `deno task bench [--quick] [--out FILE] [--impl medsynth,tfjs-webgpu,tfjs-wasm] [--filter OP]
 *   [--variant auto|naive|blocked|tiled] [--no-data] [--no-gan] [--gan 32,64] [--samples N]
 *   [--row-budget SECONDS]`
 *
 * Every measurement (a row of one implementation) has a time budget (`--row-budget`, default 60 s): its
 * warm-up and first timed run predict its cost, and a row that would take longer is written with
 * `"skipped": "time budget"` instead of holding up the run (a slow peer used to keep it going for over
 * 10 minutes on one row).
 *
 * Times medsynth's kernels against tfjs-webgpu on the same adapter and tfjs-wasm (SIMD, one
 * thread), after warm-up, median of several runs; prints a table and optionally writes JSON
 * `{adapter, results: [{op, shape, impl, ms, gflops}]}`. The data section (unless `--no-data`) adds
 * data-path throughput rows (`images_per_s`, see src/bench/data_cases.ts): a 512x512 CT slice
 * (../shared/data's ankle CT when present, else a phantom slice) and a 16-bit PNG, and the
 * ChestX-ray14 sample when ../shared/data is there.
 */
import "./_xdg.ts";
import { parseArgs } from "node:util";
import { benchCases, type BenchRow, benchTable, BudgetSkip, skippedRow } from "../bench/cases.ts";
import { benchDataCases, type DataBenchInputs } from "../bench/data_cases.ts";
import { benchMedsynth } from "../bench/run_medsynth.ts";
import { benchTfjs } from "../bench/run_tfjs.ts";
import { benchGanMedsynth, benchGanTfjs, ganCases, ganShape } from "../bench/gan_cases.ts";
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
    "row-budget": { type: "string", default: "60" },
  },
});
const budgetMs = Number(args["row-budget"]) * 1000;
if (!(budgetMs > 0)) {
  throw new Error(`--row-budget must be a number of seconds > 0, got ${args["row-budget"]}`);
}

/** Runs one measurement; a BudgetSkip becomes a skipped row, other errors a row with the error. */
async function measure(
  base: Pick<BenchRow, "op" | "shape" | "impl">,
  f: () => Promise<BenchRow>,
  keepErrors = false,
): Promise<BenchRow> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof BudgetSkip) return skippedRow(base, e);
    if (!keepErrors) throw e;
    return { ...base, ms: null, gflops: null, note: String((e as Error).message) };
  }
}

const impls = args.impl!.split(",");
const samples = Number(args.samples);
let cases = benchCases(args.quick);
if (args.filter) cases = cases.filter((c) => c.op.includes(args.filter!));

const gpu = await Gpu.create();
console.log(`adapter: ${gpu.adapter.description} (fallback: ${gpu.adapter.isFallbackAdapter})`);
const rows: BenchRow[] = [];
const progress = (r: BenchRow) => {
  rows.push(r);
  console.log(
    r.skipped
      ? `  ${r.impl.padEnd(16)} ${r.op.padEnd(20)} ${r.shape.padEnd(34)} ${r.note}`
      : `  ${r.impl.padEnd(16)} ${r.op.padEnd(20)} ${r.shape.padEnd(34)} ${r.ms?.toFixed(2) ?? "n/a"} ms  ${
        r.gflops?.toFixed(1) ?? "n/a"
      } GFLOP/s`,
  );
};

for (const impl of impls.filter((i) => i.startsWith("medsynth"))) {
  const variant = (impl === "medsynth" ? args.variant : impl.slice("medsynth-".length)) as ConvVariant;
  for (const c of cases) {
    progress(
      await measure(
        { op: c.op, shape: c.shape, impl },
        () => benchMedsynth(gpu, c, { samples, variant, budgetMs }),
      ),
    );
  }
}

if (!args["no-data"] && impls.includes("medsynth")) {
  const dataRows = (await benchDataCases(await readDataInputs(), {
    samples: Math.min(samples, args.quick ? 3 : samples),
    sampleMs: args.quick ? 50 : 200,
  })).filter((r) => !args.filter || r.op.includes(args.filter));
  for (const r of dataRows) {
    progress(r);
    console.log(`    ${r.images_per_s!.toFixed(1)} images/s (${r.note})`);
  }
}

const ganSizes = args.gan!.split(",").map(Number);
const gans = args["no-gan"]
  ? []
  : ganCases(args.quick).filter((c) =>
    ganSizes.includes(c.cfg.resolution) && (!args.filter || c.op.includes(args.filter))
  );
const ganSamples = Math.min(samples, 3);
const showGan = (r: BenchRow) => {
  progress(r);
  console.log(`    ${r.skipped ? r.note : `${r.images_per_s?.toFixed(1) ?? "n/a"} images/s`}`);
};
if (impls.includes("medsynth")) {
  for (const c of gans) {
    showGan(
      await measure(
        { op: c.op, shape: ganShape(c), impl: "medsynth" },
        () => benchGanMedsynth(gpu, c, ganSamples, budgetMs),
      ),
    );
  }
}

const tfImpls = impls.filter((i) => i.startsWith("tfjs-"));
if (tfImpls.length) {
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
  for (const impl of tfImpls) {
    const backend = impl.slice("tfjs-".length);
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialise`);
    await tf.ready();
    for (const c of gans) {
      showGan(
        await measure(
          { op: c.op, shape: ganShape(c), impl },
          () => benchGanTfjs(tf, c, impl, ganSamples, budgetMs),
          true,
        ),
      );
    }
    for (const c of cases) {
      progress(
        await measure(
          { op: c.op, shape: c.shape, impl },
          () => benchTfjs(tf, c, impl, { samples, budgetMs }),
          true,
        ),
      );
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
