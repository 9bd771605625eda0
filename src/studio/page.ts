/**
 * The studio page (`/studio` of `deno task serve`, `dist/studio.html` of `deno task bundle`): data,
 * training, evaluation and export on the visitor's WebGPU, a thin layer of DOM over the library (the
 * folder loader, TrainSession, evaluateRun, zipRun over an OPFS run folder). Nothing is sent anywhere: the
 * page fetches only its own static files.
 *
 * For tests the page sets `document.body.dataset.state` (loading, no-webgpu, ready, loaded, training,
 * paused, trained, evaluating, evaluated, error) and `window.__studio` (adapter, stats, split, progress,
 * resumedFrom, results summary).
 * @module
 */
import { Gpu } from "../gpu/gpu.ts";
import type { Dataset } from "../data/dataset.ts";
import { selectRows } from "../data/dataset.ts";
import { decodeDatasetCache, encodeDatasetCache } from "../data/cache.ts";
import { DEFAULT_PHANTOM_CONFIG, makePhantom, type PhantomLabelSpec } from "../data/phantom.ts";
import { splitByPatient } from "../data/split.ts";
import { datasetStats, describe, type LabelStats } from "../data/subset.ts";
import { type GanConfig, PRESETS, resolveGanConfig, validateGanConfig } from "../models/config.ts";
import type { ImageGrid } from "../train/gan.ts";
import { lineChart, type Series } from "../report/plots.ts";
import { decodePng } from "../data/png.ts";
import { type FolderFile, type FolderLoadOptions, loadFolderDataset, stripTopFolder } from "./folder.ts";
import type { DecodeReply, DecodeRequest } from "./decode_worker.ts";
import { OpfsStore } from "./opfs_store.ts";
import { evaluateRun, type RealSplits, zipRun } from "./pipeline.ts";
import { MemoryStore, readStoreJson, RUN_FILES, type RunStore, writeStoreJson } from "./run_store.ts";
import { TrainSession } from "./train_session.ts";

/** The fields of a run's data.json the studio reads (src/cli/_run_dir.ts DataSpec). */
interface DataSpecLike {
  source: string;
  phantom?: Record<string, unknown>;
  size: number;
  channels: 1 | 3;
  subset?: unknown;
}

/** The OPFS folder of the studio's run (one run per origin; "Start over" clears it). */
const RUN_NAME = "medsynth-studio-run";
/** The decoded real images, kept in the run folder so a reload needs no re-pick (never exported). */
const REAL_CACHE = "real.msdc";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const state = (s: string) => (document.body.dataset.state = s);
// deno-lint-ignore no-explicit-any
const hook: Record<string, any> = ((globalThis as any).__studio = {});

function say(id: string, text: string): void {
  $(id).textContent = text;
}

function fail(msg: string): void {
  say("error", msg);
  state("error");
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return h ? `${h} h ${String(m).padStart(2, "0")} min` : `${m} min ${String(sec).padStart(2, "0")} s`;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

/** The same numbers as `deno task data stats` (plus the patient-level split), as HTML. */
function statsHtml(s: LabelStats, split: Record<string, { images: number; patients: number }>): string {
  const perLabel = s.labelNames.map((n, j) => `<tr><td>${esc(n)}</td><td>${s.perLabel[j]}</td></tr>`).join(
    "",
  );
  const top = s.combinations.slice(0, 10)
    .map((c) => `<tr><td>${esc(describe(c.key, s.labelNames))}</td><td>${c.count}</td></tr>`).join("");
  const sp = Object.entries(split)
    .map(([k, v]) => `<tr><td>${k}</td><td>${v.images}</td><td>${v.patients}</td></tr>`).join("");
  return `<p>images: <b>${s.images}</b> · patients: <b>${s.patients}</b> · images with no positive label: ` +
    `<b>${s.noLabel}</b> · unique label combinations: <b>${s.uniqueCombinations}</b></p>
<div class="tables"><table><caption>per label</caption><tr><th>label</th><th>images</th></tr>${perLabel}</table>
<table><caption>images per combination (top ${
      Math.min(10, s.combinations.length)
    } of ${s.combinations.length})</caption>
<tr><th>combination</th><th>images</th></tr>${top}</table>
<table><caption>patient-level split</caption><tr><th>split</th><th>images</th><th>patients</th></tr>${sp}</table></div>`;
}

/** One (C, H, W) grid in [-1, 1] drawn on a canvas. */
function drawGrid(cv: HTMLCanvasElement, g: ImageGrid): void {
  cv.width = g.width;
  cv.height = g.height;
  cv.hidden = false;
  const ctx = cv.getContext("2d")!, img = ctx.createImageData(g.width, g.height), P = g.width * g.height;
  const byte = (v: number) => Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
  for (let p = 0; p < P; p++) {
    for (let k = 0; k < 3; k++) img.data[4 * p + k] = byte(g.data[(g.channels === 3 ? k : 0) * P + p]);
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** Every file under a directory handle (File System Access API), with its path inside it. */
async function walkDirectory(
  dir: FileSystemDirectoryHandle,
  prefix: string,
  files: File[],
  paths: string[],
): Promise<void> {
  // deno-lint-ignore no-explicit-any
  for await (const [name, h] of (dir as any).entries() as AsyncIterable<[string, FileSystemHandle]>) {
    if (h.kind === "directory") {
      await walkDirectory(h as FileSystemDirectoryHandle, `${prefix}${name}/`, files, paths);
    } else {
      files.push(await (h as FileSystemFileHandle).getFile());
      paths.push(prefix + name);
    }
  }
}

/**
 * Decodes the picked files in the decoding worker (studio_worker.js beside this script); null when no
 * worker can start here, so the caller decodes on the page instead. The loader's errors come back as is.
 */
function decodeInWorker(
  files: File[],
  paths: string[],
  opts: FolderLoadOptions,
): Promise<DecodeResult | null> {
  let w: Worker;
  try {
    w = new Worker(new URL("./studio_worker.js", import.meta.url), { type: "module" });
  } catch {
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    w.onerror = (e) => {
      e.preventDefault();
      w.terminate();
      resolve(null);
    };
    w.onmessage = (ev: MessageEvent<DecodeReply>) => {
      const m = ev.data;
      if ("progress" in m) return opts.onProgress?.(...m.progress);
      w.terminate();
      if ("error" in m) reject(new Error(m.error));
      else resolve(m.result);
    };
    const req: DecodeRequest = {
      files,
      paths,
      size: opts.size,
      channels: opts.channels,
      folder: opts.folder ?? "the folder",
    };
    w.postMessage(req);
  });
}

type DecodeResult = Awaited<ReturnType<typeof loadFolderDataset>>;

/** The studio's state: one GPU, one run folder, the real data and its split. */
class Studio {
  gpu: Gpu | null = null;
  store: RunStore = new MemoryStore();
  data: Dataset | null = null;
  split: RealSplits | null = null;
  session: TrainSession | null = null;
  stopRequested = false;
  /** A folder opened with the File System Access API (instead of the file input). */
  picked: { files: File[]; paths: string[]; folder: string } | null = null;
  losses: { x: number; d: number; g: number; dAux: number; gAux: number }[] = [];

  async init(): Promise<void> {
    state("loading");
    try {
      this.store = await OpfsStore.open(RUN_NAME);
    } catch (e) {
      say("storage", `No origin-private file system (${(e as Error).message}): checkpoints live in memory.`);
    }
    try {
      try {
        this.gpu = await Gpu.create();
      } catch (e) {
        if ((e as Error).name !== "NoWebGpuError" || !navigator.gpu) throw e;
        this.gpu = await Gpu.create({ featureLevel: "compatibility" });
      }
    } catch (e) {
      say("adapter", "");
      fail(
        (e as Error).name === "NoWebGpuError"
          ? "WebGPU is not available in this browser: " + (e as Error).message +
            ". Open the studio in a recent Chrome or Edge (on Linux start it with --enable-unsafe-webgpu)."
          : "WebGPU could not start: " + (e as Error).message,
      );
      state("no-webgpu");
      return;
    }
    const a = this.gpu.adapter;
    hook.adapter = a;
    // Chromium often hides the description; vendor and architecture are what it may tell
    const named = a.description !== "unknown adapter" ? a.description : "";
    const label = named || [a.vendor, a.architecture].filter(Boolean).join(" ") || "not named by the browser";
    say("adapter", `WebGPU adapter: ${label}${a.isFallbackAdapter ? " (software fallback)" : ""}`);
    for (const p of Object.keys(PRESETS)) {
      const o = document.createElement("option");
      o.value = o.textContent = p;
      $("preset").append(o);
    }
    this.wire();
    this.showConfig();
    if (await this.store.read(RUN_FILES.config)) await this.restore();
    else state("ready");
  }

  private wire(): void {
    $("load").addEventListener("click", () => this.guard(() => this.loadData()));
    $("open-run").addEventListener("click", () => this.guard(() => this.openRun()));
    $("train").addEventListener("click", () => this.guard(() => this.train()));
    $("pause").addEventListener("click", () => {
      this.stopRequested = true;
      say("train-status", "Pausing after this step (writing a checkpoint)...");
    });
    $("evaluate").addEventListener("click", () => this.guard(() => this.evaluate()));
    $("export").addEventListener("click", () => this.guard(() => this.exportZip()));
    $("reset").addEventListener("click", () => this.guard(() => this.reset()));
    $("preset").addEventListener("change", () => this.showConfig());
    $("folder").addEventListener("change", () => (this.picked = null));
    const fsa = globalThis as unknown as { showDirectoryPicker?: () => Promise<FileSystemDirectoryHandle> };
    if (typeof fsa.showDirectoryPicker === "function") {
      $("open-folder").hidden = false;
      $("open-folder").addEventListener("click", () =>
        this.guard(async () => {
          const dir = await fsa.showDirectoryPicker!();
          const files: File[] = [], paths: string[] = [];
          await walkDirectory(dir, "", files, paths);
          this.picked = { files, paths, folder: dir.name };
          say("data-status", `${files.length} files in ${dir.name}.`);
        }));
    }
    for (const r of document.querySelectorAll<HTMLInputElement>("input[name=source]")) {
      r.addEventListener("change", () => ($("folder-row").hidden = r.value !== "folder" || !r.checked));
    }
  }

  private async guard(f: () => Promise<void>): Promise<void> {
    say("error", "");
    try {
      await f();
    } catch (e) {
      console.error(e);
      fail((e as Error).message);
    }
  }

  /** The config the form describes: a preset overlaid with the JSON overrides. */
  private config(): GanConfig {
    const text = ($("config") as HTMLTextAreaElement).value.trim();
    let over: Record<string, unknown> = {};
    if (text) {
      try {
        over = JSON.parse(text);
      } catch (e) {
        throw new Error(`config JSON: ${(e as Error).message}`);
      }
      if (typeof over !== "object" || over === null || Array.isArray(over)) {
        throw new Error('config JSON: must be an object of overrides, e.g. {"images": 2000}');
      }
    }
    const preset = typeof over.preset === "string" ? over.preset : ($("preset") as HTMLSelectElement).value;
    try {
      return resolveGanConfig(over, preset);
    } catch (e) {
      throw new Error(`config JSON: ${(e as Error).message}`);
    }
  }

  private showConfig(): void {
    const p = ($("preset") as HTMLSelectElement).value, c = PRESETS[p];
    say(
      "config-info",
      `${p}: ${c.resolution} px, ${c.imageChannels} channel(s), ${c.images} images, batch ${c.batchSize}`,
    );
  }

  /** Step 1: the phantom or the picked folder, decoded at the config's size; stats and split shown. */
  private async loadData(): Promise<void> {
    if (await this.store.read(RUN_FILES.config)) {
      throw new Error(
        "A run is already in this browser: continue it, or press Start over to begin a new one.",
      );
    }
    const cfg = this.config();
    const src = document.querySelector<HTMLInputElement>("input[name=source]:checked")!.value;
    state("loading-data");
    let data: Dataset, spec: Record<string, unknown>;
    const t0 = performance.now();
    if (src === "phantom") {
      const count = Number(($("phantom-count") as HTMLInputElement).value);
      if (!Number.isInteger(count) || count < 50) throw new Error("Phantom images: use at least 50.");
      const labels = { ...DEFAULT_PHANTOM_CONFIG.labels, count } as PhantomLabelSpec;
      say("data-status", `Drawing ${count} phantom slices...`);
      await new Promise((r) => setTimeout(r, 0));
      data = makePhantom({ seed: 1, labels, resolution: cfg.resolution, channels: cfg.imageChannels });
      spec = { source: "phantom", phantom: { seed: 1, labels } };
    } else {
      const input = $("folder") as HTMLInputElement;
      let list = [...(input.files ?? [])];
      let rel = stripTopFolder(list.map((f) => f.webkitRelativePath || f.name));
      let folder = (list[0]?.webkitRelativePath || "folder").split("/")[0];
      if (this.picked) ({ files: list, paths: rel, folder } = this.picked);
      if (!list.length) throw new Error("Pick a folder first (it holds the label CSV and the images).");
      const files: FolderFile[] = list.map((f, i) => ({
        path: rel[i],
        read: async () => new Uint8Array(await f.arrayBuffer()),
      }));
      const opts = {
        size: cfg.resolution,
        channels: cfg.imageChannels,
        folder,
        onProgress: (d: number, t: number) => say("data-status", `Decoding ${d} / ${t} images...`),
      };
      let r = await decodeInWorker(list, rel, opts);
      if (r) hook.decodedIn = "worker";
      else {
        // no module workers (e.g. the page opened as a file): decode here, yielding between batches
        r = await loadFolderDataset(files, opts);
        hook.decodedIn = "page";
      }
      data = r.dataset;
      spec = { source: `browser folder ${folder} (${r.csv})` };
      if (r.dropped.length) {
        say("data-status", `${r.dropped.length} CSV row(s) dropped by the format's rules.`);
      }
    }
    // the CLI trains on cached (quantised) images; the same grid here keeps both runs comparable
    const bytes = encodeDatasetCache(data, "uint16", null);
    data = decodeDatasetCache(bytes, REAL_CACHE).dataset;
    await this.store.write(REAL_CACHE, bytes);
    await writeStoreJson(this.store, RUN_FILES.config, cfg);
    await writeStoreJson(this.store, RUN_FILES.data, {
      ...spec,
      splitSeed: cfg.seed,
      size: cfg.resolution,
      channels: cfg.imageChannels,
    });
    this.useData(data, cfg);
    say("data-status", `Loaded ${data.n} images in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
    state("loaded");
  }

  /** Splits by patient with the run's seed (as loadSplitData) and shows the statistics. */
  private useData(data: Dataset, cfg: GanConfig): void {
    this.data = data;
    const sp = splitByPatient(data.patientIds, { seed: cfg.seed });
    this.split = {
      train: selectRows(data, sp.train),
      valid: selectRows(data, sp.valid),
      test: selectRows(data, sp.test),
    };
    const split = Object.fromEntries(
      (["train", "valid", "test"] as const).map((k) => [k, {
        images: sp[k].length,
        patients: new Set(sp[k].map((i) => data.patientIds[i])).size,
      }]),
    );
    const stats = datasetStats(data);
    hook.stats = stats;
    hook.split = split;
    $("stats").innerHTML = statsHtml(stats, split);
    ($("config") as HTMLTextAreaElement).value = JSON.stringify(cfg, null, 1);
    for (
      const id of [
        "load",
        "folder",
        "open-folder",
        "preset",
        "config",
        "phantom-count",
        "open-run",
        "run-folder",
      ]
    ) {
      ($(id) as HTMLInputElement).disabled = true;
    }
    ($("train") as HTMLButtonElement).disabled = false;
    say(
      "train-status",
      `Ready to train ${cfg.images} images (${cfg.resolution} px) on ${this.split.train.n} training images.`,
    );
  }

  /**
   * A run folder made by `deno task train` (picked with the run-folder input): its files are copied into
   * this browser's run folder and the run continues here. Its data: the phantom it names (its cached
   * phantom_*.msdc when present, else drawn again with its settings) or the folder picked above.
   */
  private async openRun(): Promise<void> {
    if (await this.store.read(RUN_FILES.config)) {
      throw new Error("A run is already in this browser: press Start over before opening another.");
    }
    const list = [...(($("run-folder") as HTMLInputElement).files ?? [])];
    const paths = stripTopFolder(list.map((f) => f.webkitRelativePath || f.name));
    const byPath = new Map(paths.map((p, i) => [p, list[i]]));
    const text = async (p: string) => await byPath.get(p)?.text();
    const cfgText = await text(RUN_FILES.config), specText = await text(RUN_FILES.data);
    if (!cfgText || !specText) {
      throw new Error("Pick the run folder deno task train wrote (it holds config.json and data.json).");
    }
    let cfg: GanConfig, spec: DataSpecLike;
    try {
      cfg = validateGanConfig(JSON.parse(cfgText));
      spec = JSON.parse(specText);
    } catch (e) {
      throw new Error(`run folder: ${(e as Error).message}`);
    }
    if (spec.subset) {
      throw new Error("run folder: runs trained on a subset (--top-k/--per-combo) cannot open here yet");
    }
    let data: Dataset;
    const cache = paths.find((p) => /^phantom_[0-9a-f]+\.msdc$/.test(p));
    if (spec.source === "phantom") {
      data = cache
        ? decodeDatasetCache(new Uint8Array(await byPath.get(cache)!.arrayBuffer()), cache).dataset
        : makePhantom({ ...spec.phantom, resolution: spec.size, channels: spec.channels });
    } else {
      const input = $("folder") as HTMLInputElement;
      const files = [...(input.files ?? [])];
      if (!files.length) {
        throw new Error(
          `run folder: its data came from ${spec.source}; pick that folder under "a local folder" first, then open the run`,
        );
      }
      const rel = stripTopFolder(files.map((f) => f.webkitRelativePath || f.name));
      const folder = (files[0].webkitRelativePath || "folder").split("/")[0];
      data = (await loadFolderDataset(
        files.map((f, i) => ({ path: rel[i], read: async () => new Uint8Array(await f.arrayBuffer()) })),
        { size: spec.size, channels: spec.channels, folder },
      )).dataset;
    }
    await this.store.write(REAL_CACHE, encodeDatasetCache(data, "uint16", null));
    for (const [p, f] of byPath) {
      if (p.endsWith(".msdc") || p.endsWith(".tmp")) continue;
      await this.store.write(p, new Uint8Array(await f.arrayBuffer()));
    }
    say(
      "data-status",
      `Opened the run folder ${(list[0].webkitRelativePath || "").split("/")[0]} (${cfg.images} images).`,
    );
    await this.restore();
  }

  /** After a reload: the run's data from the run folder, the session from its newest valid checkpoint. */
  private async restore(): Promise<void> {
    const cfg = validateGanConfig(
      await readStoreJson(this.store, RUN_FILES.config) as Record<string, unknown>,
    );
    const bytes = await this.store.read(REAL_CACHE);
    if (!bytes) throw new Error("The stored run has no data: press Start over.");
    this.useData(decodeDatasetCache(bytes, REAL_CACHE).dataset, cfg);
    const spec = await readStoreJson(this.store, RUN_FILES.data) as { source?: string } | null;
    const fromFolder = spec?.source !== "phantom";
    ($("folder-row") as HTMLElement).hidden = !fromFolder;
    document.querySelector<HTMLInputElement>(
      `input[name=source][value=${fromFolder ? "folder" : "phantom"}]`,
    )!
      .checked = true;
    say("data-status", `The stored run's data: ${spec?.source ?? "?"}.`);
    await this.loadCurves();
    await this.showStoredSamples();
    if (await this.store.read(RUN_FILES.generator)) {
      say("train-status", "The stored run has finished training.");
      this.progress(cfg.images, cfg.images, NaN, 0);
      this.trained();
      if (await this.store.read(RUN_FILES.results)) await this.showReport();
      return;
    }
    await this.openSession(cfg);
    const s = this.session!;
    say(
      "train-status",
      s.resumedFrom
        ? `Resumed from ${s.resumedFrom} at ${s.tr.imagesSeen} images (step ${s.tr.step}). Press Train to continue.`
        : "No valid checkpoint yet: training starts from the beginning.",
    );
    this.progress(s.tr.imagesSeen, cfg.images, NaN, NaN);
    state("paused");
  }

  /** The newest sample grid the run wrote (samples/samples_<images>.png). */
  private async showStoredSamples(): Promise<void> {
    const names = (await this.store.list(RUN_FILES.samples)).filter((n) => n.endsWith(".png"));
    const last = names.pop();
    if (!last) return;
    const png = decodePng((await this.store.read(`${RUN_FILES.samples}/${last}`))!);
    const g = { ...png, data: Float32Array.from(png.data, (v) => v * 2 - 1) };
    drawGrid($("samples") as HTMLCanvasElement, g);
    say("samples-info", `Samples after ${Number(last.replace(/\D/g, ""))} images:`);
  }

  private async loadCurves(): Promise<void> {
    const m = await this.store.read(RUN_FILES.metrics);
    this.losses = [];
    for (const line of m ? new TextDecoder().decode(m).split("\n") : []) {
      try {
        const r = JSON.parse(line);
        if (typeof r.dLoss === "number") {
          this.losses.push({ x: r.imagesSeen, d: r.dLoss, g: r.gLoss, dAux: r.dAux, gAux: r.gAux });
        }
      } catch { /* a line cut by a crash */ }
    }
    this.drawLosses();
  }

  private async openSession(cfg: GanConfig): Promise<void> {
    this.session = await TrainSession.open(
      this.gpu!,
      this.store,
      cfg,
      this.split!.train,
      (w) => console.warn(w),
    );
    hook.resumedFrom = this.session.resumedFrom;
    say("rows", this.session.gridRows.join(" · "));
  }

  private progress(seen: number, total: number, rate: number, eta: number): void {
    ($("bar") as HTMLProgressElement).value = seen / total;
    say(
      "train-numbers",
      `${seen} / ${total} images · ${Number.isFinite(rate) ? rate.toFixed(1) : "-"} images/s · ETA ${
        fmtTime(eta)
      }`,
    );
    hook.progress = { imagesSeen: seen, images: total, imagesPerSec: rate };
  }

  private drawLosses(): void {
    const L = this.losses;
    if (L.length < 2) return;
    const series: Series[] = [
      { name: "D loss", points: L.map((r) => [r.x, r.d]) },
      { name: "G loss", points: L.map((r) => [r.x, r.g]) },
      { name: "D aux", points: L.map((r) => [r.x, r.dAux]), dash: "4,3" },
      { name: "G aux", points: L.map((r) => [r.x, r.gAux]), dash: "4,3" },
    ];
    $("losses").innerHTML = lineChart(series, {
      title: "Losses",
      xLabel: "images",
      height: 240,
      legend: "below",
    });
  }

  /** Step 2: train (or continue) until done or paused. */
  private async train(): Promise<void> {
    const cfg = validateGanConfig(
      await readStoreJson(this.store, RUN_FILES.config) as Record<string, unknown>,
    );
    if (!this.session) await this.openSession(cfg);
    const s = this.session!;
    this.stopRequested = false;
    ($("train") as HTMLButtonElement).disabled = true;
    ($("pause") as HTMLButtonElement).disabled = false;
    state("training");
    say("train-status", "Training...");
    const spec = await readStoreJson(this.store, RUN_FILES.data) as Record<string, unknown>;
    const out = await s.run({
      shouldStop: () => this.stopRequested,
      onProgress: (p) => this.progress(p.imagesSeen, p.images, p.imagesPerSec, p.etaSeconds),
      onLoss: (r) => {
        this.losses.push({ x: r.imagesSeen, d: r.dLoss, g: r.gLoss, dAux: r.dAux, gAux: r.gAux });
        this.drawLosses();
      },
      onSamples: (g, n) => {
        drawGrid($("samples") as HTMLCanvasElement, g);
        say(
          "samples-info",
          `Samples after ${n} images (fixed latents; one row per frequent label combination):`,
        );
        hook.samplesAt = n;
      },
      onCheckpoint: (p, n) => {
        say("checkpoint", `Checkpoint ${p} (${n} images) in the browser's private storage.`);
        hook.checkpoint = { path: p, imagesSeen: n };
      },
    }, spec);
    ($("pause") as HTMLButtonElement).disabled = true;
    if (out === "stopped") {
      ($("train") as HTMLButtonElement).disabled = false;
      say("train-status", `Paused at ${s.tr.imagesSeen} images. Press Train to continue.`);
      state("paused");
      return;
    }
    say("train-status", `Done: ${s.tr.imagesSeen} images; generator.ckpt written.`);
    this.trained();
  }

  private trained(): void {
    ($("train") as HTMLButtonElement).disabled = true;
    ($("pause") as HTMLButtonElement).disabled = true;
    ($("evaluate") as HTMLButtonElement).disabled = false;
    ($("export") as HTMLButtonElement).disabled = false;
    state("trained");
  }

  /** Step 3: the library's evaluation with the page's budgets; the report shown in the page. */
  private async evaluate(): Promise<void> {
    const num = (id: string) => Number(($(id) as HTMLInputElement).value);
    const images = num("eval-images"), epochs = num("eval-epochs"), resamples = num("eval-resamples");
    for (
      const [v, n] of [[images, "classifier images"], [epochs, "epochs"], [
        resamples,
        "bootstrap resamples",
      ]] as const
    ) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`${n} must be a positive integer`);
    }
    ($("evaluate") as HTMLButtonElement).disabled = true;
    state("evaluating");
    const stages = $("stages");
    stages.replaceChildren();
    let current: HTMLLIElement | null = null;
    const t0 = performance.now();
    let ts = t0;
    const stage = (name: string) => {
      if (current) current.textContent += ` done (${((performance.now() - ts) / 1000).toFixed(1)} s)`;
      ts = performance.now();
      current = document.createElement("li");
      current.textContent = name;
      stages.append(current);
      hook.stages = [...(hook.stages ?? []), name];
    };
    hook.stages = [];
    const results = await evaluateRun(this.gpu!, this.store, this.split!, {
      classifier: { model: "tiny", maxImages: images, maxEpochs: epochs },
      resamples,
      runName: "studio",
      onProgress: (name, e) => {
        if (!e) return stage(name === "utility" ? "classifiers on real and on synthetic images" : name);
        const ep = e.epoch;
        current!.textContent =
          `classifiers: ${e.arm === "trtr" ? "real" : "synthetic"}-trained epoch ${ep.epoch}, ` +
          `valid AUROC ${Number.isFinite(ep.validMean) ? ep.validMean.toFixed(3) : "n/a"}`;
      },
    });
    stage("done");
    hook.results = { tstr: results.utility.tstr.mean, trtr: results.utility.trtr.mean };
    say("eval-status", `Evaluated in ${((performance.now() - t0) / 1000).toFixed(0)} s.`);
    await this.showReport();
    ($("evaluate") as HTMLButtonElement).disabled = false;
    state("evaluated");
  }

  private async showReport(): Promise<void> {
    const html = await this.store.read(RUN_FILES.report);
    if (!html) return;
    ($("report") as HTMLIFrameElement).srcdoc = new TextDecoder().decode(html);
    $("report").hidden = false;
    $("report-note").hidden = true;
  }

  /** Step 4: the run folder as a zip (synthetic set, report, config, metrics, generator.ckpt). */
  private async exportZip(): Promise<void> {
    const zip = await zipRun(this.store, "medsynth-run");
    const a = $("download") as HTMLAnchorElement;
    URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(new Blob([zip as Uint8Array<ArrayBuffer>], { type: "application/zip" }));
    a.hidden = false;
    say(
      "export-status",
      `${(zip.length / 1024).toFixed(0)} KiB: the run folder (deno task generate/report --run accept it)` +
        (await this.store.read(RUN_FILES.results)
          ? ", the synthetic set and the report."
          : "; evaluate to add the synthetic set and the report."),
    );
    hook.zipBytes = zip.length;
  }

  private async reset(): Promise<void> {
    if (this.session && document.body.dataset.state === "training") {
      throw new Error("Pause the training before starting over.");
    }
    if (this.store instanceof OpfsStore) await OpfsStore.clear(RUN_NAME);
    location.reload();
  }
}

new Studio().init().catch((e) => fail("Unexpected error: " + (e as Error).message));
