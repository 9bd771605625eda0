/**
 * The browser benchmark page's script (bundled to dist/bench.js by `deno task bundle`): runs the same
 * cases with the same code as `deno task bench` on the visitor's GPU and produces the same JSON rows,
 * shown as a table with a JSON download. Without WebGPU the page says so instead of staying blank.
 *
 * Query parameters: `quick=1`, `filter=OP`, `samples=N`, `variant=auto|naive|blocked`,
 * `featureLevel=core|compatibility`, `autorun=1`.
 * @module
 */

import { NoWebGpuError } from "../gpu/device.ts";
import { Gpu } from "../gpu/gpu.ts";
import type { ConvVariant } from "../nn/conv2d.ts";
import { benchCases, type BenchRow, benchTable } from "./cases.ts";
import { benchMedsynth } from "./run_medsynth.ts";

/** Options read from the page's query string. */
export interface BenchPageOptions {
  /** One shape per op. */
  quick: boolean;
  /** Only ops whose name contains this. */
  filter: string;
  /** Timed samples per case. */
  samples: number;
  /** Kernel variant. */
  variant: ConvVariant;
  /** Adapter feature level; "auto" tries core, then compatibility. */
  featureLevel: "auto" | "core" | "compatibility";
  /** Start without a click. */
  autorun: boolean;
}

/** The JSON document the page offers (the same fields `deno task bench --out` writes, plus the browser). */
export interface BenchDocument {
  adapter: Gpu["adapter"];
  date: string;
  userAgent: string;
  cpus: number;
  results: BenchRow[];
}

/** Parses the query string. */
export function benchOptionsFromQuery(search: string): BenchPageOptions {
  const q = new URLSearchParams(search);
  const fl = q.get("featureLevel");
  const v = q.get("variant");
  const samples = Number(q.get("samples") ?? 5);
  return {
    quick: q.get("quick") === "1" || q.get("quick") === "true",
    filter: q.get("filter") ?? "",
    samples: Number.isInteger(samples) && samples >= 1 && samples <= 50 ? samples : 5,
    variant: v === "naive" || v === "blocked" ? v : "auto",
    featureLevel: fl === "core" || fl === "compatibility" ? fl : "auto",
    autorun: q.get("autorun") === "1",
  };
}

/** A GPU at the wanted feature level; "auto" falls back to compatibility (e.g. ANGLE/GL adapters). */
export async function createPageGpu(featureLevel: BenchPageOptions["featureLevel"]): Promise<Gpu> {
  if (featureLevel !== "auto") return await Gpu.create({ featureLevel });
  try {
    return await Gpu.create();
  } catch (e) {
    if (!(e instanceof NoWebGpuError) || !(globalThis.navigator as Navigator | undefined)?.gpu) throw e;
    return await Gpu.create({ featureLevel: "compatibility" });
  }
}

/** Runs the benchmark cases; `onRow` sees each row as it is measured. */
export async function runBench(
  gpu: Gpu,
  opts: Pick<BenchPageOptions, "quick" | "filter" | "samples" | "variant">,
  onRow: (r: BenchRow, done: number, total: number) => void = () => {},
): Promise<BenchDocument> {
  const cases = benchCases(opts.quick).filter((c) => c.op.includes(opts.filter));
  if (!cases.length) throw new Error(`no benchmark case matches filter "${opts.filter}"`);
  const results: BenchRow[] = [];
  for (const c of cases) {
    const row = await benchMedsynth(gpu, c, { samples: opts.samples, variant: opts.variant });
    results.push(row);
    onRow(row, results.length, cases.length);
  }
  return {
    adapter: gpu.adapter,
    date: new Date().toISOString(),
    userAgent: navigator.userAgent,
    cpus: navigator.hardwareConcurrency,
    results,
  };
}

function byId<T extends HTMLElement>(doc: Document, id: string): T {
  const el = doc.getElementById(id);
  if (!el) throw new Error(`bench page: element #${id} is missing`);
  return el as T;
}

/** Wires the page (elements: #run, #quick, #filter, #samples, #status, #error, #table, #download). */
export async function startBenchPage(doc: Document): Promise<void> {
  const opts = benchOptionsFromQuery(location.search);
  const run = byId<HTMLButtonElement>(doc, "run");
  const status = byId(doc, "status"), error = byId(doc, "error"), table = byId(doc, "table");
  const download = byId<HTMLAnchorElement>(doc, "download");
  byId<HTMLInputElement>(doc, "quick").checked = opts.quick;
  byId<HTMLInputElement>(doc, "filter").value = opts.filter;
  byId<HTMLInputElement>(doc, "samples").value = String(opts.samples);
  const setState = (s: string) => (doc.body.dataset.state = s);
  run.disabled = true;
  status.textContent = "Looking for a WebGPU adapter...";
  let gpu: Gpu;
  try {
    gpu = await createPageGpu(opts.featureLevel);
  } catch (e) {
    error.textContent = e instanceof NoWebGpuError
      ? `WebGPU is not available in this browser, so the benchmark cannot run. ${e.message}`
      : `Could not start WebGPU: ${(e as Error).message}`;
    status.textContent = "";
    setState("no-webgpu");
    return;
  }
  status.textContent = `Adapter: ${gpu.adapter.description}${
    gpu.adapter.isFallbackAdapter ? " (software fallback)" : ""
  }`;
  run.disabled = false;
  setState("ready");
  const go = async () => {
    run.disabled = true;
    error.textContent = "";
    setState("running");
    const o = {
      quick: byId<HTMLInputElement>(doc, "quick").checked,
      filter: byId<HTMLInputElement>(doc, "filter").value.trim(),
      samples: Math.max(
        1,
        Math.min(50, Math.round(Number(byId<HTMLInputElement>(doc, "samples").value)) || 5),
      ),
      variant: opts.variant,
    };
    try {
      const result = await runBench(gpu, o, (r, done, total) => {
        status.textContent = `${done}/${total}: ${r.op} ${r.shape} ${r.gflops?.toFixed(1) ?? "n/a"} GFLOP/s`;
      });
      table.textContent = benchTable(result.results);
      const blob = new Blob([JSON.stringify(result, null, 2) + "\n"], { type: "application/json" });
      if (download.href.startsWith("blob:")) URL.revokeObjectURL(download.href);
      download.href = URL.createObjectURL(blob);
      download.hidden = false;
      (globalThis as { medsynthBench?: BenchDocument }).medsynthBench = result;
      status.textContent = `Done: ${result.results.length} rows on ${gpu.adapter.description}.`;
      setState("done");
    } catch (e) {
      error.textContent = `Benchmark failed: ${(e as Error).message}`;
      setState("error");
    } finally {
      run.disabled = false;
    }
  };
  run.addEventListener("click", go);
  if (opts.autorun) await go();
}

if (typeof document !== "undefined" && document.getElementById("bench-root")) {
  startBenchPage(document).catch((e) => {
    const el = document.getElementById("error");
    if (el) el.textContent = `Bench page error: ${(e as Error).message}`;
  });
}
