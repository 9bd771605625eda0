/**
 * Prepares a reader study folder from a real and a synthetic image folder: label-matched pairs, each
 * image resized to every block's resolution with the same filter (src/data/resize.ts), written as PNG
 * under a random id, and `manifest.json` with the truth (kept server-side). The folder is written
 * atomically (temporary sibling, then rename).
 *
 * Study folder: `manifest.json` (truth; never served), `images/<id>.png`, and later `readers.jsonl` and
 * `answers.jsonl` (appended by the server). Zip it to analyse elsewhere.
 * @module
 */
import { join, relative } from "node:path";
import { comboKey } from "../data/dataset.ts";
import { decodeImage, encodePng } from "../data/png.ts";
import { resizeImage } from "../data/resize.ts";
import {
  matchPairs,
  randomId,
  type StudyBlock,
  type StudyImage,
  type StudyManifest,
  type StudyMode,
  type Truth,
} from "../reader/study.ts";
import { loadDataset } from "./_fs_dataset.ts";
import { writeExportFolder } from "./_fs_dataset.ts";

/** Options of {@linkcode prepareStudy}. */
export interface PrepareOptions {
  /** Real images: a folder with a label CSV (any supported format) or a plain folder of PNGs. */
  real: string;
  /** Synthetic images, same kinds of folder. */
  synthetic: string;
  /** Block resolutions in presentation order (image height in pixels). */
  resolutions: number[];
  /** Label-matched real/synthetic pairs per block (single mode shows 2 x this many images). */
  perBlock: number;
  /** Single or pair mode. */
  mode: StudyMode;
  /** Study folder to create (must not exist or be empty). */
  out: string;
  /** Study seed (default: random). */
  seed?: number;
  /** Progress/warnings. */
  log?: (msg: string) => void;
}

/** An image set: labels per image and a way to get each image in [0, 1]. */
interface ImageSet {
  labelNames: string[];
  keys: string[];
  sources: string[];
  channels: number;
  get(i: number): Promise<{ data: Float32Array; height: number; width: number }>; // data: (C, H, W)
}

async function hasCsv(dir: string): Promise<boolean> {
  const st = await Deno.stat(dir);
  if (st.isFile) return true;
  for await (const e of Deno.readDir(dir)) if (e.isFile && e.name.toLowerCase().endsWith(".csv")) return true;
  return false;
}

async function listPngs(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(d)) entries.push(e);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile && e.name.toLowerCase().endsWith(".png")) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

async function loadSet(dir: string, what: Truth): Promise<ImageSet> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(dir);
  } catch {
    throw new Error(`--${what} ${dir}: no such file or folder`);
  }
  if (st.isFile || await hasCsv(dir)) {
    const { dataset: d } = await loadDataset(dir);
    const sz = d.channels * d.height * d.width;
    return {
      labelNames: d.labelNames,
      keys: Array.from({ length: d.n }, (_, i) => comboKey(d, i)),
      sources: d.sources,
      channels: d.channels,
      get: (i) => {
        // Dataset pixels are in [-1, 1]; PNG wants [0, 1]
        const data = new Float32Array(sz);
        const src = d.images.subarray(i * sz, (i + 1) * sz);
        for (let k = 0; k < sz; k++) data[k] = (src[k] + 1) / 2;
        return Promise.resolve({ data, height: d.height, width: d.width });
      },
    };
  }
  const files = await listPngs(dir);
  if (files.length === 0) throw new Error(`--${what} ${dir}: no label CSV and no PNG images in this folder`);
  return {
    labelNames: [],
    keys: files.map(() => ""),
    sources: files.map((f) => relative(dir, f)),
    channels: 1,
    get: async (i) => {
      const img = decodeImage(await Deno.readFile(files[i]), { channels: 1, name: files[i] });
      return { data: img.data, height: img.height, width: img.width };
    },
  };
}

/** Creates the study folder; returns its manifest. */
export async function prepareStudy(opts: PrepareOptions): Promise<StudyManifest> {
  const log = opts.log ?? (() => {});
  if (
    !opts.resolutions.length || opts.resolutions.some((r) => !(Number.isInteger(r) && r >= 4 && r <= 4096))
  ) {
    throw new Error(`--resolutions must be integers 4..4096, got ${opts.resolutions.join(",")}`);
  }
  if (!(Number.isInteger(opts.perBlock) && opts.perBlock >= 1)) {
    throw new Error(`--per-block must be a positive integer, got ${opts.perBlock}`);
  }
  if (opts.mode !== "single" && opts.mode !== "pair") {
    throw new Error(`--mode must be single or pair, got ${opts.mode}`);
  }
  const seed = opts.seed ?? crypto.getRandomValues(new Uint32Array(1))[0];

  const real = await loadSet(opts.real, "real");
  const synth = await loadSet(opts.synthetic, "synthetic");
  if (real.labelNames.join("\n") !== synth.labelNames.join("\n")) {
    throw new Error(
      `real and synthetic labels differ (real: ${real.labelNames.join(", ") || "none"}; synthetic: ${
        synth.labelNames.join(", ") || "none"
      }); both folders need the same label columns, or neither a CSV`,
    );
  }
  if (real.channels !== synth.channels) {
    throw new Error(
      `real images have ${real.channels} channels, synthetic ${synth.channels}; they must match`,
    );
  }
  const pairs = matchPairs(real.keys, synth.keys, opts.perBlock * opts.resolutions.length, seed);

  const files: { path: string; bytes: Uint8Array }[] = [];
  const images: Record<string, StudyImage> = {};
  const blocks: StudyBlock[] = [];
  const upscaledCount = { real: 0, synthetic: 0 };
  const addImage = async (
    set: ImageSet,
    idx: number,
    truth: Truth,
    res: number,
    labels: string,
  ): Promise<string> => {
    const src = await set.get(idx);
    const h = res, w = Math.max(1, Math.round((res * src.width) / src.height));
    const data = resizeImage(src.data, set.channels, src.height, src.width, h, w); // (C, h, w)
    let id = randomId();
    while (images[id]) id = randomId();
    const upscaled = h > src.height;
    if (upscaled) upscaledCount[truth]++;
    images[id] = {
      id,
      truth,
      resolution: res,
      height: h,
      width: w,
      source: set.sources[idx],
      labels,
      upscaled,
    };
    files.push({ path: `images/${id}.png`, bytes: encodePng(data, set.channels, h, w) });
    return id;
  };
  for (let b = 0; b < opts.resolutions.length; b++) {
    const res = opts.resolutions[b];
    const items = [];
    for (const p of pairs.slice(b * opts.perBlock, (b + 1) * opts.perBlock)) {
      const r = await addImage(real, p.real, "real", res, p.labels);
      const s = await addImage(synth, p.synthetic, "synthetic", res, p.labels);
      if (opts.mode === "single") items.push({ id: r, images: [r] }, { id: s, images: [s] });
      else items.push({ id: randomId(), images: [r, s] });
    }
    blocks.push({ resolution: res, items });
    log(`block ${b + 1}: ${res} px, ${items.length} items`);
  }
  for (const t of ["real", "synthetic"] as const) {
    if (upscaledCount[t]) {
      log(
        `warning: ${
          upscaledCount[t]
        } ${t} images were smaller than their block and were enlarged (bilinear); ` +
          `readers may tell them apart by blur`,
      );
    }
  }
  const manifest: StudyManifest = {
    version: 1,
    created: new Date().toISOString(),
    mode: opts.mode,
    seed,
    token: randomId(),
    labelNames: real.labelNames,
    sources: { real: opts.real, synthetic: opts.synthetic },
    resize:
      "src/data/resize.ts: area average when shrinking, bilinear when enlarging (same for real and synthetic)",
    blocks,
    images,
  };
  files.push({
    path: "manifest.json",
    bytes: new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n"),
  });
  await writeExportFolder(opts.out, files);
  return manifest;
}
