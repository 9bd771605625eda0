/**
 * `deno task serve [--run DIR|FILE.ckpt] [--host H] [--port P] [--rebuild]`
 *
 * Serves the browser pages: `/` (index with a WebGPU check through the library bundle), `/bench` (the
 * kernel benchmark on the visitor's GPU, same cases and JSON rows as `deno task bench`), `/generate` (the
 * run's generator on the visitor's GPU: pick labels and a seed, get the images `deno task generate` would
 * draw), `/studio` (data, training, evaluation and export on the visitor's GPU, see src/studio/page.ts) and
 * the bundles under `/dist/`. With `--run`, the run's generator.ckpt (and no other file of the
 * run) is readable at `/run/generator.ckpt`. Builds the bundles first when they are missing (or with
 * --rebuild). New pages are added to {@linkcode PAGES} and {@linkcode buildRoutes}.
 */
import "./_xdg.ts";
import { parseArgs } from "node:util";
import { basename, dirname, join } from "node:path";
import { buildBundles, BUNDLES, PROJECT_ROOT } from "./_bundle.ts";
import { GENERATOR_CKPT_PATH, generatorPage } from "./_generator_page.ts";
import { studioPage } from "./_studio_page.ts";
import { html, httpError, type Route, router, serveFile, serverUrl } from "./_http.ts";

const DIST = join(PROJECT_ROOT, "dist");

const STYLE = `body{font-family:system-ui,sans-serif;max-width:1000px;margin:24px auto;padding:0 16px}
#error{color:#b00;white-space:pre-wrap}pre{background:#f4f4f4;padding:8px;overflow:auto}`;

/** Pages listed on the index: path and title. */
export const PAGES: { path: string; title: string }[] = [
  {
    path: "/studio",
    title: "Studio: data, training, evaluation and export on this GPU (nothing is uploaded)",
  },
  { path: "/bench", title: "Kernel benchmark on this GPU" },
  { path: "/generate", title: "Generate images with the run's generator (needs --run)" },
];

function indexPage(): string {
  const links = PAGES.map((p) => `<li><a href="${p.path}">${p.title}</a></li>`).join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>medsynth</title><style>${STYLE}</style></head>
<body data-state="checking"><h1>medsynth in the browser</h1>
<ul>${links}</ul>
<p id="webgpu">Checking WebGPU...</p><p id="error" role="alert"></p>
<script type="module">
import { Gpu } from "/dist/medsynth.js";
const say = (id, t) => (document.getElementById(id).textContent = t);
try {
  let gpu;
  try { gpu = await Gpu.create(); } catch (e) {
    if (e.name !== "NoWebGpuError" || !navigator.gpu) throw e;
    gpu = await Gpu.create({ featureLevel: "compatibility" });
  }
  say("webgpu", "WebGPU adapter: " + gpu.adapter.description + (gpu.adapter.isFallbackAdapter ? " (software fallback)" : ""));
  window.medsynthAdapter = gpu.adapter;
  document.body.dataset.state = "webgpu";
  gpu.destroy();
} catch (e) {
  say("webgpu", "");
  say("error", e.name === "NoWebGpuError" ? "WebGPU is not available in this browser: " + e.message : "WebGPU check failed: " + e.message);
  document.body.dataset.state = "no-webgpu";
}
</script></body></html>`;
}

function benchPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>medsynth kernel benchmark</title>
<style>${STYLE}</style></head>
<body data-state="loading"><div id="bench-root">
<h1>medsynth kernel benchmark</h1>
<p>The same cases and code as <code>deno task bench</code>, on this browser's WebGPU adapter.</p>
<p><label><input type="checkbox" id="quick"> quick (one shape per op)</label>
<label>filter <input id="filter" size="12" placeholder="e.g. matmul"></label>
<label>samples <input id="samples" type="number" min="1" max="50" size="3"></label>
<button id="run" disabled>Run</button></p>
<p id="status">Loading...</p><p id="error" role="alert"></p>
<pre id="table"></pre>
<p><a id="download" download="medsynth-bench.json" hidden>Download JSON</a></p>
<noscript>This page needs JavaScript and WebGPU.</noscript>
</div>
<script type="module" src="/dist/bench.js"></script></body></html>`;
}

/** Options of {@linkcode buildRoutes}. */
export interface ServeOptions {
  /** The generator checkpoint to offer at /run/generator.ckpt (a real path: symlinks resolved), or none. */
  generatorCkpt?: string | null;
}

/** The server's routes. Only the one checkpoint file of a run is reachable: its path is fixed, not a pattern. */
export function buildRoutes(opts: ServeOptions = {}): Route[] {
  const ck = opts.generatorCkpt ?? null;
  return [
    { method: "GET", path: "/", handler: () => html(indexPage()) },
    { method: "GET", path: "/bench", handler: () => html(benchPage()) },
    { method: "GET", path: "/studio", handler: () => html(studioPage({ script: "/dist/studio.js" })) },
    {
      method: "GET",
      path: "/generate",
      handler: () => html(generatorPage({ hasRun: ck !== null, style: STYLE })),
    },
    {
      method: "GET",
      path: GENERATOR_CKPT_PATH,
      handler: () =>
        ck === null
          ? httpError(404, "no run loaded: start the server with deno task serve --run DIR")
          : serveFile(dirname(ck), basename(ck), "application/octet-stream"),
    },
    {
      method: "GET",
      path: /^\/dist\/(?<file>[A-Za-z0-9_.-]+)$/,
      handler: (_req, _url, p) => serveFile(DIST, p.file),
    },
  ];
}

/** The routes without a run (the generator page then says how to start with one). */
export const ROUTES: Route[] = buildRoutes();

/** The generator checkpoint of `--run DIR|FILE.ckpt` as a real path; throws when it is missing. */
async function resolveGeneratorCkpt(run: string): Promise<string> {
  const ck = run.endsWith(".ckpt") ? run : join(run, "generator.ckpt");
  try {
    const real = await Deno.realPath(ck);
    if (!(await Deno.stat(real)).isFile) throw new Error("not a file");
    return real;
  } catch {
    throw new Error(
      `--run ${run}: ${ck} not found: give a training run folder whose run has finished ` +
        `(deno task train writes generator.ckpt at the end) or a generator checkpoint file`,
    );
  }
}

if (import.meta.main) {
  const { values: args } = parseArgs({
    args: Deno.args,
    options: {
      run: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8016" },
      rebuild: { type: "boolean", default: false },
    },
  });
  const port = Number(args.port);
  if (!(Number.isInteger(port) && port >= 0 && port < 65536)) {
    console.error(`error: --port must be 0..65535, got ${args.port}`);
    Deno.exit(2);
  }
  let generatorCkpt: string | null = null;
  if (args.run !== undefined) {
    try {
      generatorCkpt = await resolveGeneratorCkpt(args.run);
    } catch (e) {
      console.error(`error: ${(e as Error).message}`);
      Deno.exit(2);
    }
  }
  const missing = [];
  for (const f of Object.keys(BUNDLES)) {
    if (!(await Deno.stat(join(DIST, f)).catch(() => null))) missing.push(f);
  }
  if (args.rebuild || missing.length) {
    console.error(`building ${DIST} (${args.rebuild ? "--rebuild" : `missing ${missing.join(", ")}`})`);
    await buildBundles(DIST);
  }
  const server = Deno.serve({
    hostname: args.host,
    port,
    onListen: (addr) =>
      console.log(
        `Serving: ${serverUrl(addr)}/ (benchmark: ${serverUrl(addr)}/bench, generator: ${
          serverUrl(addr)
        }/generate${generatorCkpt ? ` with ${generatorCkpt}` : ", start with --run DIR to use it"})`,
      ),
  }, router(buildRoutes({ generatorCkpt })));
  const stop = () => server.shutdown();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
}
