/**
 * The browser generator page of `deno task serve --run DIR` (`/generate`): fetches the run's generator
 * checkpoint from `/run/generator.ckpt`, offers its label names as checkboxes, a seed and a count, and
 * draws the images on the browser's WebGPU with the library bundle (`/dist/medsynth.js`, the same
 * `GeneratorSampler` (src/train/sampler.ts) as `deno task generate`, so the same labels and seed give the same images).
 *
 * For tests the page sets `document.body.dataset.state` (loading, no-run, no-webgpu, ready, generating,
 * done, error) and, after a generation, `window.__medsynthImages` = {n, channels, resolution, seed, labels,
 * data}, data being the (n, C, R, R) float32 values as base64 (little-endian bytes), and
 * `window.__medsynthAdapter` (the adapter report) once WebGPU is up.
 * @module
 */

/** Where the page fetches the checkpoint (the server maps it to the run's generator.ckpt and nothing else). */
export const GENERATOR_CKPT_PATH = "/run/generator.ckpt";

/** Most images one click may ask for. */
export const MAX_PAGE_IMAGES = 64;

/** Options of {@linkcode generatorPage}. */
export interface GeneratorPageOptions {
  /** Whether the server was started with `--run` (else the page says how to). */
  hasRun: boolean;
  /** CSS shared with the other pages. */
  style: string;
}

const NO_WEBGPU_ADVICE = "WebGPU is not available in this browser, so the images cannot be generated here. " +
  "Open this page in a recent Chrome or Edge (WebGPU is on by default on Windows, macOS and ChromeOS; " +
  "on Linux start Chrome with --enable-unsafe-webgpu or enable chrome://flags/#enable-unsafe-webgpu), " +
  "or generate on the command line with `deno task generate --run DIR --out DIR --n N --combos a+b`.";

/** The page's HTML (the script is inline and imports the library bundle). */
export function generatorPage(opts: GeneratorPageOptions): string {
  const head = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>medsynth generator</title><style>${opts.style}
#labels label{display:inline-block;margin-right:14px}#images{display:flex;flex-wrap:wrap;gap:6px}
#images canvas{width:128px;height:128px;image-rendering:pixelated;border:1px solid #ccc}
form p{margin:8px 0}</style></head>`;
  if (!opts.hasRun) {
    return `${head}<body data-state="no-run"><h1>medsynth generator</h1>
<p id="error" role="alert">No training run is loaded. Start the server with a run folder (the one
<code>deno task train --out DIR</code> wrote; it holds <code>generator.ckpt</code>):</p>
<pre>deno task serve --run DIR</pre>
<p>then open this page again. <a href="/">Back to the index</a></p></body></html>`;
  }
  return `${head}<body data-state="loading"><h1>medsynth generator</h1>
<p id="run-info">Loading the generator checkpoint...</p>
<form id="form" hidden>
<fieldset id="labels"><legend>Labels (checked = present)</legend></fieldset>
<p><label>Seed <input id="seed" type="number" min="0" step="1" required></label>
<label>Images <input id="count" type="number" min="1" max="${MAX_PAGE_IMAGES}" step="1" value="8" required></label>
<button id="generate" type="submit" disabled>Generate</button></p>
</form>
<p id="status"></p><p id="error" role="alert"></p>
<div id="images"></div>
<noscript>This page needs JavaScript and WebGPU.</noscript>
<script type="module">
const $ = (id) => document.getElementById(id);
const setState = (s) => (document.body.dataset.state = s);
const fail = (msg, state = "error") => {
  $("error").textContent = msg;
  $("status").textContent = "";
  setState(state);
};
const NO_WEBGPU = ${JSON.stringify(NO_WEBGPU_ADVICE)};

/** Float32Array -> base64 of its bytes (for tests: exact values). */
function toBase64(f32) {
  const bytes = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** One (C, R, R) image in [-1, 1] -> a canvas (1 channel: grey, 3: RGB, else the first channel). */
function toCanvas(data, off, C, R) {
  const cv = document.createElement("canvas");
  cv.width = cv.height = R;
  const ctx = cv.getContext("2d");
  const img = ctx.createImageData(R, R);
  const byte = (v) => Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
  for (let p = 0; p < R * R; p++) {
    for (let k = 0; k < 3; k++) img.data[4 * p + k] = byte(data[off + (C === 3 ? k : 0) * R * R + p]);
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return cv;
}

async function main() {
  let lib;
  try {
    lib = await import("/dist/medsynth.js");
  } catch (e) {
    return fail("Could not load the library bundle /dist/medsynth.js (" + e.message + "). Restart the server with deno task serve --rebuild --run DIR.");
  }
  if (typeof lib.GeneratorSampler !== "function") {
    return fail("/dist/medsynth.js is older than this page: restart the server with deno task serve --rebuild --run DIR.");
  }
  // 1. the checkpoint (label names, config) -- readable without WebGPU
  let ck;
  try {
    const res = await fetch(${JSON.stringify(GENERATOR_CKPT_PATH)});
    if (!res.ok) throw new Error("could not fetch ${GENERATOR_CKPT_PATH}: HTTP " + res.status);
    ck = lib.decodeCheckpoint(new Uint8Array(await res.arrayBuffer()), "generator.ckpt");
    const m = ck.meta;
    if (m.kind !== "gan-generator" || !Array.isArray(m.labelNames) || typeof m.config !== "object") {
      throw new Error("checkpoint generator.ckpt: not a generator checkpoint (kind " + JSON.stringify(m.kind) +
        "); serve the run folder whose generator.ckpt deno task train wrote at the end");
    }
  } catch (e) {
    $("run-info").textContent = "";
    return fail("Bad generator checkpoint: " + e.message);
  }
  const m = ck.meta, cfg = m.config;
  $("run-info").textContent = "Generator: " + cfg.model + ", " + cfg.resolution + " px, " + cfg.imageChannels +
    " channel(s), step " + m.step + " (" + m.imagesSeen + " images seen), " + m.labelNames.length + " labels.";
  for (const name of m.labelNames) {
    const label = document.createElement("label"), box = document.createElement("input");
    box.type = "checkbox";
    box.name = "label";
    box.value = name;
    label.append(box, " " + name);
    $("labels").append(label);
  }
  $("seed").value = String(cfg.seed + 1); // deno task generate's default seed
  $("form").hidden = false;

  // 2. WebGPU (core, then compatibility for ANGLE/GL adapters)
  let gpu;
  try {
    try {
      gpu = await lib.Gpu.create();
    } catch (e) {
      if (e.name !== "NoWebGpuError" || !navigator.gpu) throw e;
      gpu = await lib.Gpu.create({ featureLevel: "compatibility" });
    }
  } catch (e) {
    if (e.name === "NoWebGpuError") return fail(NO_WEBGPU + " (" + e.message + ")", "no-webgpu");
    return fail("WebGPU could not start: " + e.message);
  }
  let sampler;
  try {
    // Latents do not depend on the batch size, so a smaller pass for big models keeps the largest
    // activation (batch x widest layer) inside a browser's default storage-buffer limit.
    const size = cfg.resolution;
    const batch = size >= 256 ? 2 : size >= 128 ? 8 : 32;
    sampler = new lib.GeneratorSampler(gpu, ck, { source: "generator.ckpt", batch });
  } catch (e) {
    return fail("Bad generator checkpoint: " + e.message);
  }
  $("status").textContent = "Ready on " + (gpu.adapter.description || "a WebGPU adapter") +
    (gpu.adapter.isFallbackAdapter ? " (software fallback)" : "") + ".";
  window.__medsynthAdapter = gpu.adapter;
  $("generate").disabled = false;
  setState("ready");

  $("form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const seed = Number($("seed").value), n = Number($("count").value);
    if (!Number.isInteger(seed) || seed < 0) return fail("Seed must be an integer >= 0.", "ready");
    if (!Number.isInteger(n) || n < 1 || n > ${MAX_PAGE_IMAGES}) {
      return fail("Images must be an integer from 1 to ${MAX_PAGE_IMAGES}.", "ready");
    }
    const combo = m.labelNames.map((name) =>
      document.querySelector('#labels input[value="' + CSS.escape(name) + '"]').checked ? 1 : 0
    );
    $("error").textContent = "";
    $("generate").disabled = true;
    $("status").textContent = "Generating " + n + " image(s)...";
    setState("generating");
    try {
      const t0 = performance.now();
      const data = await sampler.sample(lib.repeatLabels(combo, n), seed);
      const C = cfg.imageChannels, R = cfg.resolution;
      const box = $("images");
      box.replaceChildren();
      for (let i = 0; i < n; i++) {
        const cv = toCanvas(data, i * C * R * R, C, R);
        cv.dataset.index = String(i);
        box.append(cv);
      }
      const chosen = m.labelNames.filter((_, l) => combo[l]);
      window.__medsynthImages = { n, channels: C, resolution: R, seed, labels: combo, data: toBase64(data) };
      $("status").textContent = n + " image(s), labels " + (chosen.length ? chosen.join(" + ") : "none") +
        ", seed " + seed + ", in " + ((performance.now() - t0) / 1000).toFixed(2) + " s.";
      setState("done");
    } catch (e) {
      fail("Generation failed: " + e.message);
    } finally {
      $("generate").disabled = false;
    }
  });
}
main().catch((e) => fail("Unexpected error: " + e.message));
</script></body></html>`;
}
