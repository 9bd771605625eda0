/**
 * Trainer state <-> checkpoint. A training checkpoint holds everything a resumed run needs to continue
 * exactly as an uninterrupted one: step, images seen, both networks' weights, both Adam states (t, lr,
 * moments), the EMA weights, the spectral-norm u vectors, the augmentation probability and the RNG state
 * (the progressive phase is a pure function of images seen). A generator checkpoint holds the EMA generator
 * weights, the config and the label names: enough to sample on its own.
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { type GanConfig, validateGanConfig, withAddedFields } from "../models/config.ts";
import { buildGenerator, type GanTrainer } from "./gan.ts";
import type { GeneratorModel } from "../models/generator.ts";

/** JSON with every object's keys sorted: two configs compare equal whatever order their fields came in. */
function canonicalJson(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) =>
      x && typeof x === "object" && !Array.isArray(x)
        ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, (x as Record<string, unknown>)[k]]))
        : x,
  );
}

/** Version of the checkpoint layout written here. */
export const GAN_CHECKPOINT_VERSION = 1;

/** Reads the whole trainer state into a checkpoint (several readbacks; waits for submitted work). */
export async function trainerCheckpoint(
  tr: GanTrainer,
  extra: Record<string, unknown> = {},
): Promise<Checkpoint> {
  const arrays = new Map<string, Float32Array>();
  for (const [k, v] of await tr.g.weights.store.readValues(tr.gpu)) arrays.set(`G/${k}`, v);
  for (const [k, v] of await tr.d.weights.store.readValues(tr.gpu)) arrays.set(`D/${k}`, v);
  for (const [k, v] of await tr.d.weights.readSn()) arrays.set(`D/${k}`, v);
  const ag = await tr.adamG.state(), ad = await tr.adamD.state(), ema = await tr.ema.state();
  arrays.set("adamG.m", ag.m);
  arrays.set("adamG.v", ag.v);
  arrays.set("adamD.m", ad.m);
  arrays.set("adamD.v", ad.v);
  arrays.set("ema", ema.values);
  if (tr.featMatch) arrays.set("featMatch", await tr.gpu.read(tr.featMatch.state));
  return {
    meta: {
      kind: "gan-train",
      version: GAN_CHECKPOINT_VERSION,
      config: tr.cfg,
      labelNames: tr.data.labelNames,
      step: tr.step,
      imagesSeen: tr.imagesSeen,
      rng: tr.rng.getState(),
      augP: tr.augmentP,
      adamG: { t: ag.t, lr: ag.lr },
      adamD: { t: ad.t, lr: ad.lr },
      ...extra,
    },
    arrays,
  };
}

function prefixed(arrays: Map<string, Float32Array>, prefix: string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [k, v] of arrays) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

function arr(ck: Checkpoint, name: string, source: string): Float32Array {
  const a = ck.arrays.get(name);
  if (!a) throw new Error(`checkpoint ${source}: array "${name}" is missing`);
  return a;
}

/**
 * Restores a trainer (built with the same config and data) from {@linkcode trainerCheckpoint}'s output.
 * Uploads are queued before the next submit.
 */
export function restoreTrainer(tr: GanTrainer, ck: Checkpoint, source = "(checkpoint)"): void {
  const m = ck.meta as Record<string, unknown>;
  if (m.kind !== "gan-train") throw new Error(`checkpoint ${source}: not a GAN training checkpoint`);
  // the training length may change between runs (--images extends a run), and so may a learning-rate decay
  // that starts at or after the images already seen (the steps taken are then those the new config gives);
  // nothing else may. A checkpoint written before a field was added gets the value that reproduces its
  // behaviour (as config.json does)
  const seen = m.imagesSeen as number;
  const lrFree = (c: Record<string, unknown>) =>
    (c.lrDecayImages as number) <= 0 || (c.lrDecayFrom as number) >= seen
      ? { lrDecayFrom: 0, lrDecayImages: 0, lrEndFactor: 1 }
      : {};
  const same = (c: unknown) => {
    const full = withAddedFields(c as Record<string, unknown>);
    return canonicalJson({ ...full, ...lrFree(full), images: 0 });
  };
  if (same(m.config) !== same(tr.cfg)) {
    throw new Error(
      `checkpoint ${source}: its config differs from the run's config.json (only "images", and a learning-rate ` +
        `decay that starts at or after the ${seen} images seen, may change on resume)`,
    );
  }
  if (JSON.stringify(m.labelNames) !== JSON.stringify(tr.data.labelNames)) {
    throw new Error(`checkpoint ${source}: its label names differ from the data's`);
  }
  tr.g.weights.store.writeValues(tr.gpu, prefixed(ck.arrays, "G/"));
  const d = prefixed(ck.arrays, "D/");
  tr.d.weights.store.writeValues(tr.gpu, d);
  tr.d.weights.writeSn(d);
  const ag = m.adamG as { t: number; lr: number }, ad = m.adamD as { t: number; lr: number };
  tr.adamG.setState({ ...ag, m: arr(ck, "adamG.m", source), v: arr(ck, "adamG.v", source) });
  tr.adamD.setState({ ...ad, m: arr(ck, "adamD.m", source), v: arr(ck, "adamD.v", source) });
  tr.ema.setState({ decay: tr.cfg.emaDecay, values: arr(ck, "ema", source) });
  if (tr.featMatch) tr.gpu.write(tr.featMatch.state, arr(ck, "featMatch", source));
  tr.rng.setState(m.rng as { s: number[]; spare: number | null });
  tr.step = m.step as number;
  tr.imagesSeen = m.imagesSeen as number;
  tr.augmentP = m.augP as number;
}

/** The EMA generator on its own: weights (G param names), config, label names and `extra` metadata. */
export async function generatorCheckpoint(
  tr: GanTrainer,
  extra: Record<string, unknown> = {},
): Promise<Checkpoint> {
  const arrays = await tr.g.weights.store.readValues(tr.gpu, tr.ema.values);
  return {
    meta: {
      kind: "gan-generator",
      version: GAN_CHECKPOINT_VERSION,
      config: tr.cfg,
      labelNames: tr.data.labelNames,
      step: tr.step,
      imagesSeen: tr.imagesSeen,
      ...extra,
    },
    arrays,
  };
}

/** A generator loaded from {@linkcode generatorCheckpoint}'s output (weights uploaded). */
export function loadGenerator(
  gpu: Gpu,
  ck: Checkpoint,
  source = "(checkpoint)",
): { cfg: GanConfig; labelNames: string[]; g: GeneratorModel; meta: Record<string, unknown> } {
  const m = ck.meta as Record<string, unknown>;
  if (m.kind !== "gan-generator") throw new Error(`checkpoint ${source}: not a generator checkpoint`);
  const cfg = validateGanConfig(structuredClone(m.config) as Record<string, unknown>);
  const labelNames = m.labelNames as string[];
  if (!Array.isArray(labelNames) || labelNames.length < 1) {
    throw new Error(`checkpoint ${source}: no label names`);
  }
  const g = buildGenerator(gpu, cfg, labelNames.length);
  g.weights.store.writeValues(gpu, ck.arrays);
  return { cfg, labelNames, g, meta: m };
}
