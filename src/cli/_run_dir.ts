/**
 * Run folder helpers for the train / generate CLIs. A run is a folder:
 *   config.json      the GanConfig (written first, atomically)
 *   data.json        where the data came from (path or phantom settings) and the split
 *   metrics.jsonl    one JSON line per loss readback
 *   checkpoints/     ckpt_<images>.ckpt, written atomically, the newest `keepCheckpoints` kept
 *   samples/         fixed-seed sample grids, one row per frequent label combination
 *   generator.ckpt   the final EMA generator (config + label names inside), usable on its own
 * @module
 */

import { join, relative, resolve } from "node:path";
import type { Dataset } from "../data/dataset.ts";
import { DEFAULT_PHANTOM_CONFIG, makePhantom, type PhantomConfig } from "../data/phantom.ts";
import { decodeDatasetCache, encodeDatasetCache, stableKey } from "../data/cache.ts";
import { selectRows } from "../data/dataset.ts";
import { splitByPatient } from "../data/split.ts";
import { makeSubset, type SubsetOptions } from "../data/subset.ts";
import { type Checkpoint, decodeCheckpoint } from "../train/checkpoint.ts";
import { loadDataset } from "./_fs_dataset.ts";
import { writeFileAtomic } from "./_atomic.ts";

/** Where a run's data come from (data.json). */
export interface DataSpec {
  /**
   * "phantom" (the built-in head-CT phantom) or a label CSV / folder path, relative to the run folder
   * (runs from before that hold an absolute path, which still resolves).
   */
  source: string;
  /** Phantom settings (source "phantom"). */
  phantom?: Partial<PhantomConfig>;
  /** Seed of the patient-level 80/10/10 split (the run's seed). */
  splitSeed: number;
  /** Image size the data are resized to (the config's resolution). */
  size: number;
  /** Channels (the config's imageChannels). */
  channels: 1 | 3;
  /**
   * The study's subset of the split (src/data/subset.ts: top-k combinations, n training images per
   * combination, minimum count, draw seed); absent: all the data. Train, generate and evaluate of a run
   * all read it from here, so they see the same images.
   */
  subset?: SubsetOptions;
}

/** Paths inside a run folder. */
export function runPaths(dir: string): {
  config: string;
  data: string;
  metrics: string;
  checkpoints: string;
  samples: string;
  generator: string;
} {
  return {
    config: join(dir, "config.json"),
    data: join(dir, "data.json"),
    metrics: join(dir, "metrics.jsonl"),
    checkpoints: join(dir, "checkpoints"),
    samples: join(dir, "samples"),
    generator: join(dir, "generator.ckpt"),
  };
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Reads a JSON file with a clear error naming it. */
export async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Writes pretty JSON atomically. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Checkpoint file name for a number of images (zero-padded so names sort by images). */
export function checkpointName(images: number): string {
  return `ckpt_${String(images).padStart(12, "0")}.ckpt`;
}

/** Checkpoint files of a run, oldest first. */
export async function listCheckpoints(dir: string): Promise<string[]> {
  const cdir = runPaths(dir).checkpoints;
  if (!(await exists(cdir))) return [];
  const names: string[] = [];
  for await (const e of Deno.readDir(cdir)) {
    if (e.isFile && /^ckpt_\d+\.ckpt$/.test(e.name)) names.push(e.name);
  }
  return names.sort().map((n) => join(cdir, n));
}

/** The newest checkpoint that decodes, or null; broken ones are reported through `warn` and skipped. */
export async function newestValidCheckpoint(
  dir: string,
  warn: (msg: string) => void = console.error,
): Promise<{ path: string; ck: Checkpoint } | null> {
  const all = await listCheckpoints(dir);
  for (let i = all.length - 1; i >= 0; i--) {
    try {
      return { path: all[i], ck: decodeCheckpoint(await Deno.readFile(all[i]), all[i]) };
    } catch (e) {
      warn(`skipping ${all[i]}: ${(e as Error).message}`);
    }
  }
  return null;
}

/** Writes a checkpoint atomically and deletes all but the newest `keep`. */
export async function saveCheckpoint(
  dir: string,
  images: number,
  bytes: Uint8Array,
  keep: number,
): Promise<string> {
  const path = join(runPaths(dir).checkpoints, checkpointName(images));
  await writeFileAtomic(path, bytes);
  const all = await listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await Deno.remove(old).catch(() => {});
  return path;
}

/** Appends one JSON line to metrics.jsonl. */
export async function appendMetrics(dir: string, row: Record<string, unknown>): Promise<void> {
  await Deno.writeTextFile(runPaths(dir).metrics, JSON.stringify(row) + "\n", { append: true, create: true });
}

/**
 * Where a run caches the phantom it draws: `MEDSYNTH_CACHE_DIR` when set (the sweep runner shares one
 * cache between its cells), else the run folder itself.
 */
export function phantomCacheDir(runDir: string | null): string | null {
  return Deno.env.get("MEDSYNTH_CACHE_DIR") || runDir;
}

/**
 * The phantom of a spec, drawn once and cached as `phantom_<hash>.msdc` (uint16, written atomically) in
 * `cacheDir`: train, generate and evaluate of a run each need it, and drawing 4000 slices takes 15-40 s
 * on a 2-core machine. Hits and misses return the same uint16-quantised images (error <= 1.6e-5).
 */
async function cachedPhantom(spec: DataSpec, cacheDir: string | null): Promise<Dataset> {
  const cfg: Partial<PhantomConfig> = { ...spec.phantom, resolution: spec.size, channels: spec.channels };
  if (!cacheDir) return makePhantom(cfg);
  const key = { kind: "phantom", config: { ...DEFAULT_PHANTOM_CONFIG, ...cfg } };
  const text = stableKey(key);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  const hash = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  const path = join(cacheDir, `phantom_${hash}.msdc`);
  try {
    const hit = decodeDatasetCache(await Deno.readFile(path), path);
    if (stableKey(hit.key) === text) return hit.dataset;
  } catch {
    // missing or unreadable: draw it again
  }
  const bytes = encodeDatasetCache(makePhantom(cfg), "uint16", key);
  await writeFileAtomic(path, bytes);
  return decodeDatasetCache(bytes, path).dataset;
}

/**
 * The data source as data.json records it: relative to the run folder, so that no absolute local path
 * is written into data.json, generator.ckpt, results.json or the report (users share those).
 */
export function dataSourceFor(runDir: string, data: string): string {
  return relative(resolve(runDir), resolve(data)) || ".";
}

/**
 * Loads the whole dataset a spec names (phantom or a folder / CSV, resolved against `runDir`), resized
 * to the spec's size. A phantom is cached in `cacheDir` (see {@linkcode phantomCacheDir}; null: not cached).
 */
export async function loadSpecData(
  spec: DataSpec,
  cacheDir: string | null = null,
  runDir: string | null = null,
): Promise<Dataset> {
  if (spec.source === "phantom") return await cachedPhantom(spec, cacheDir);
  const path = resolve(runDir ?? ".", spec.source);
  if (!(await exists(path))) {
    throw new Error(
      `the run's data ${spec.source}${
        runDir ? ` (relative to the run folder ${runDir})` : ""
      } is not there ` +
        `(${path}); put the data back there, or edit "source" in data.json`,
    );
  }
  const r = await loadDataset(path, { size: spec.size, channels: spec.channels });
  return r.dataset;
}

/**
 * The train / valid / test datasets of a spec (split by patient with the spec's seed, then the spec's
 * subset when it has one; `all` stays the whole dataset). `runDir`: the run folder the spec belongs to
 * (its source is relative to it).
 */
export async function loadSplitData(
  spec: DataSpec,
  cacheDir: string | null = null,
  runDir: string | null = null,
): Promise<{ all: Dataset; train: Dataset; valid: Dataset; test: Dataset }> {
  const all = await loadSpecData(spec, cacheDir, runDir);
  let split = splitByPatient(all.patientIds, { seed: spec.splitSeed });
  if (spec.subset) {
    try {
      split = makeSubset(all, split, spec.subset);
    } catch (e) {
      throw new Error(`data.json subset ${JSON.stringify(spec.subset)}: ${(e as Error).message}`);
    }
  }
  return {
    all,
    train: selectRows(all, split.train),
    valid: selectRows(all, split.valid),
    test: selectRows(all, split.test),
  };
}
