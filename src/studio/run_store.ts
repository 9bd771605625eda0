/**
 * A run folder behind a small storage interface, so the same run layout (config.json, data.json,
 * metrics.jsonl, checkpoints/ckpt_<images>.ckpt, samples/, generator.ckpt; see src/cli/_run_dir.ts) is kept
 * on disk by Deno (src/cli/_fs_store.ts) and in the browser's origin-private file system
 * (src/studio/opfs_store.ts). Paths are "/"-separated and relative to the run folder.
 * @module
 */
import { type Checkpoint, decodeCheckpoint } from "../train/checkpoint.ts";

/** Files of one run folder. Writes are atomic: a reader sees the old or the new file, never half of one. */
export interface RunStore {
  /** The file's bytes, or null when it does not exist. */
  read(path: string): Promise<Uint8Array | null>;
  /** Writes (replaces) a file atomically, creating folders as needed. */
  write(path: string, data: Uint8Array | string): Promise<void>;
  /** Appends text to a file (created when missing). */
  append(path: string, text: string): Promise<void>;
  /** File names (not folders) directly inside `dir` ("" = the run folder), sorted; [] when it is missing. */
  list(dir: string): Promise<string[]>;
  /** Folder names directly inside `dir`, sorted; [] when it is missing. */
  dirs(dir: string): Promise<string[]>;
  /** Deletes a file; no error when it is missing. */
  remove(path: string): Promise<void>;
}

/** A store in memory (tests, and a page without OPFS). */
export class MemoryStore implements RunStore {
  /** The files by path. */
  readonly files: Map<string, Uint8Array> = new Map();
  read(path: string): Promise<Uint8Array | null> {
    return Promise.resolve(this.files.get(path)?.slice() ?? null);
  }
  write(path: string, data: Uint8Array | string): Promise<void> {
    this.files.set(path, typeof data === "string" ? new TextEncoder().encode(data) : data.slice());
    return Promise.resolve();
  }
  append(path: string, text: string): Promise<void> {
    const old = this.files.get(path) ?? new Uint8Array(0), add = new TextEncoder().encode(text);
    const out = new Uint8Array(old.length + add.length);
    out.set(old);
    out.set(add, old.length);
    this.files.set(path, out);
    return Promise.resolve();
  }
  list(dir: string): Promise<string[]> {
    const pre = dir ? `${dir.replace(/\/+$/, "")}/` : "";
    const names = [...this.files.keys()].filter((p) =>
      p.startsWith(pre) && !p.slice(pre.length).includes("/")
    )
      .map((p) => p.slice(pre.length));
    return Promise.resolve(names.sort());
  }
  dirs(dir: string): Promise<string[]> {
    const pre = dir ? `${dir.replace(/\/+$/, "")}/` : "";
    const names = new Set<string>();
    for (const p of this.files.keys()) {
      const rest = p.startsWith(pre) ? p.slice(pre.length) : null;
      if (rest?.includes("/")) names.add(rest.slice(0, rest.indexOf("/")));
    }
    return Promise.resolve([...names].sort());
  }
  remove(path: string): Promise<void> {
    this.files.delete(path);
    return Promise.resolve();
  }
}

/** The run folder's file names (the layout of src/cli/_run_dir.ts). */
export const RUN_FILES = {
  config: "config.json",
  data: "data.json",
  metrics: "metrics.jsonl",
  checkpoints: "checkpoints",
  samples: "samples",
  generator: "generator.ckpt",
  results: "results.json",
  report: "report.html",
} as const;

/** Checkpoint file name for a number of images (zero-padded so names sort by images). */
export function checkpointName(images: number): string {
  return `ckpt_${String(images).padStart(12, "0")}.ckpt`;
}

/** Checkpoint paths of a run, oldest first. */
export async function listStoreCheckpoints(store: RunStore): Promise<string[]> {
  return (await store.list(RUN_FILES.checkpoints)).filter((n) => /^ckpt_\d+\.ckpt$/.test(n))
    .map((n) => `${RUN_FILES.checkpoints}/${n}`);
}

/** The newest checkpoint that decodes, or null; broken ones are reported through `warn` and skipped. */
export async function newestStoreCheckpoint(
  store: RunStore,
  warn: (msg: string) => void = () => {},
): Promise<{ path: string; ck: Checkpoint } | null> {
  const all = await listStoreCheckpoints(store);
  for (let i = all.length - 1; i >= 0; i--) {
    try {
      const bytes = await store.read(all[i]);
      if (!bytes) throw new Error("disappeared");
      return { path: all[i], ck: decodeCheckpoint(bytes, all[i]) };
    } catch (e) {
      warn(`skipping ${all[i]}: ${(e as Error).message}`);
    }
  }
  return null;
}

/** Writes a checkpoint atomically and deletes all but the newest `keep`; returns its path. */
export async function saveStoreCheckpoint(
  store: RunStore,
  images: number,
  bytes: Uint8Array,
  keep: number,
): Promise<string> {
  const path = `${RUN_FILES.checkpoints}/${checkpointName(images)}`;
  await store.write(path, bytes);
  const all = await listStoreCheckpoints(store);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await store.remove(old);
  return path;
}

/** Reads a JSON file of the store (null when missing), with an error naming it when it is not JSON. */
export async function readStoreJson(store: RunStore, path: string): Promise<unknown> {
  const bytes = await store.read(path);
  if (!bytes) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Writes pretty JSON (as the CLI's writeJson does). */
export async function writeStoreJson(store: RunStore, path: string, value: unknown): Promise<void> {
  await store.write(path, JSON.stringify(value, null, 2) + "\n");
}

/** Appends one JSON line to metrics.jsonl. */
export async function appendStoreMetrics(store: RunStore, row: Record<string, unknown>): Promise<void> {
  await store.append(RUN_FILES.metrics, JSON.stringify(row) + "\n");
}

/** Every file of the store under `dir` (recursively), as paths relative to the run folder. */
export async function listAll(store: RunStore, dir = ""): Promise<string[]> {
  const pre = dir ? `${dir}/` : "";
  const out = (await store.list(dir)).map((n) => pre + n);
  for (const d of await store.dirs(dir)) out.push(...await listAll(store, pre + d));
  return out.sort();
}
