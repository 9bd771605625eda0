/**
 * The cached real-trained reference classifier of a run (see src/train/reference.ts): `deno task train`
 * needs it for the label-fidelity probe and `deno task evaluate` reuses it as its train-on-real arm when the
 * data, split, classifier settings and seed are the same. Cached as `reference_<hash>.ckpt` in the run's
 * cache folder (the run folder, or `MEDSYNTH_CACHE_DIR` shared by a sweep's cells), written atomically.
 */
import { join } from "node:path";
import type { Gpu } from "../gpu/gpu.ts";
import type { Dataset } from "../data/dataset.ts";
import { stableKey } from "../data/cache.ts";
import {
  type ClassifierEpoch,
  type ClassifierTrainConfig,
  DEFAULT_CLASSIFIER_TRAIN,
  trainClassifier,
  type TrainedClassifier,
} from "../train/classifier.ts";
import { decodeReference, encodeReference } from "../train/reference.ts";
import { CLASSIFIER_PRESETS, type ClassifierArchitecture } from "../models/classifier.ts";
import { writeFileAtomic } from "./_atomic.ts";

/** FNV-1a over labels, patients and a strided sample of pixels: a changed dataset gets another key. */
function fingerprint(d: Dataset): string {
  let h = 0x811c9dc5;
  const mix = (v: number) => {
    for (let b = 0; b < 32; b += 8) {
      h ^= (v >>> b) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  };
  for (const v of d.labels) mix(v);
  for (const p of d.patientIds) for (let i = 0; i < p.length; i++) mix(p.charCodeAt(i));
  const step = Math.max(1, Math.floor(d.images.length / 4096));
  for (let i = 0; i < d.images.length; i += step) mix(Math.round((d.images[i] + 1) * 32767));
  return `${d.n}x${d.channels}x${d.height}x${d.width}:${h.toString(16)}`;
}

/** The architecture a training config builds (a preset's fields, then the overrides). */
function resolvedArchitecture(c: ClassifierTrainConfig): ClassifierArchitecture {
  const base = typeof c.model === "string" ? CLASSIFIER_PRESETS[c.model] : c.model;
  const arch = { ...base, ...c.modelOverrides };
  return { ...arch, inputNorm: arch.inputNorm ?? false };
}

/** The cache key of a reference classifier: the data it sees, its full settings and its seed. */
export function referenceKey(
  train: Dataset,
  valid: Dataset,
  config: Partial<ClassifierTrainConfig>,
  seed: number,
): string {
  return stableKey({
    kind: "reference-classifier",
    train: fingerprint(train),
    valid: fingerprint(valid),
    labels: train.labelNames,
    config: { ...DEFAULT_CLASSIFIER_TRAIN, ...config },
    // a preset's name alone would keep a cached classifier of an older version of that preset
    architecture: resolvedArchitecture({ ...DEFAULT_CLASSIFIER_TRAIN, ...config }),
    seed,
  });
}

async function keyHash(key: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  return Array.from(d.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Where the reference classifier of a key is cached in `cacheDir`. */
export async function referencePath(cacheDir: string, key: string): Promise<string> {
  return join(cacheDir, `reference_${await keyHash(key)}.ckpt`);
}

/** A cached reference classifier of this key, or null (missing, other key, or unreadable: said in `log`). */
export async function loadReference(
  gpu: Gpu,
  cacheDir: string,
  key: string,
  log: (s: string) => void = () => {},
): Promise<TrainedClassifier | null> {
  const path = await referencePath(cacheDir, key);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    return null;
  }
  try {
    return decodeReference(gpu, bytes, key, path);
  } catch (e) {
    log(`${(e as Error).message} Training the reference classifier again.`);
    return null;
  }
}

/**
 * The reference classifier of (train, valid, config, seed): the cached one, or trained now and cached
 * (atomically) for the next consumer.
 */
export async function loadOrTrainReference(
  gpu: Gpu,
  cacheDir: string,
  data: { train: Dataset; valid: Dataset },
  config: Partial<ClassifierTrainConfig>,
  seed: number,
  opts: { log?: (s: string) => void; onProgress?: (e: ClassifierEpoch) => void } = {},
): Promise<{ reference: TrainedClassifier; cached: boolean; path: string }> {
  const key = referenceKey(data.train, data.valid, config, seed);
  const path = await referencePath(cacheDir, key);
  const hit = await loadReference(gpu, cacheDir, key, opts.log);
  if (hit) return { reference: hit, cached: true, path };
  const reference = await trainClassifier(gpu, data.train, data.valid, {
    config,
    seed,
    onProgress: opts.onProgress,
  });
  await Deno.mkdir(cacheDir, { recursive: true });
  await writeFileAtomic(path, await encodeReference(reference, key));
  return { reference, cached: false, path };
}
