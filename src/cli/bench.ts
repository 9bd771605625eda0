/**
 * `deno task bench [--quick] [--out FILE] [--impl medsynth,tfjs-webgpu,tfjs-wasm] [--filter OP]
 *   [--variant auto|naive|blocked]`
 *
 * Times medsynth's kernels against tfjs-webgpu on the same adapter and tfjs-wasm (SIMD, one
 * thread), after warm-up, median of several runs; prints a table and optionally writes JSON
 * `{adapter, results: [{op, shape, impl, ms, gflops}]}`.
 */
import { parseArgs } from "node:util";
import { benchCases, type BenchRow, benchTable } from "../bench/cases.ts";
import { benchMedsynth } from "../bench/run_medsynth.ts";
import { benchTfjs } from "../bench/run_tfjs.ts";
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
  },
});

const impls = args.impl!.split(",");
const samples = Number(args.samples);
let cases = benchCases(args.quick);
if (args.filter) cases = cases.filter((c) => c.op.includes(args.filter!));

const gpu = await Gpu.create();
console.log(`adapter: ${gpu.adapter.description} (fallback: ${gpu.adapter.isFallbackAdapter})`);
const rows: BenchRow[] = [];
const progress = (r: BenchRow) => {
  rows.push(r);
  console.log(`  ${r.impl.padEnd(16)} ${r.op.padEnd(20)} ${r.shape.padEnd(34)} ${r.ms?.toFixed(2) ?? "n/a"} ms  ${r.gflops?.toFixed(1) ?? "n/a"} GFLOP/s`);
};

for (const impl of impls.filter((i) => i.startsWith("medsynth"))) {
  const variant = (impl === "medsynth" ? args.variant : impl.slice("medsynth-".length)) as ConvVariant;
  for (const c of cases) progress(await benchMedsynth(gpu, c, { samples, variant }));
}

const tfImpls = impls.filter((i) => i.startsWith("tfjs-"));
if (tfImpls.length) {
  const tf = await import("@tensorflow/tfjs");
  if (tfImpls.includes("tfjs-webgpu")) await import("@tensorflow/tfjs-backend-webgpu");
  if (tfImpls.includes("tfjs-wasm")) {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    // tfjs-wasm fetches its .wasm files at run time: point it at the package's dist/ folder.
    wasm.setWasmPaths(new URL("../../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url).href);
  }
  for (const impl of tfImpls) {
    const backend = impl.slice("tfjs-".length);
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialise`);
    await tf.ready();
    for (const c of cases) {
      try {
        progress(await benchTfjs(tf, c, impl, { samples }));
      } catch (e) {
        progress({ op: c.op, shape: c.shape, impl, ms: null, gflops: null, note: String((e as Error).message) });
      }
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
