/**
 * GAN training-throughput rows of the benchmark: one D + G step of the cpd-GAN presets on medsynth's
 * engine, and the same architecture in tfjs (src/bench/gan_tfjs.ts) on tfjs-webgpu and tfjs-wasm.
 * @module
 */

import type * as TF from "@tensorflow/tfjs";
import { Gpu } from "../gpu/gpu.ts";
import { type GanConfig, PRESETS } from "../models/config.ts";
import { makePhantom } from "../data/phantom.ts";
import { chooseAutoBatch, ganStepTimer, GanTrainer } from "../train/gan.ts";

import { type BenchRow, benchTfjsWholeStep, timePerRun } from "./cases.ts";
import { buildTfjsGan } from "./gan_tfjs.ts";

/** A GAN benchmark case: a preset at its resolution. */
export interface GanCase {
  /** Row op name, e.g. "gan_step_32". */
  op: string;
  /** The configuration benchmarked (logging pushed out so no step reads back). */
  cfg: GanConfig;
}

/** The cases: the `tiny` preset (32 px) and `small64` (64 px). */
export function ganCases(quick = false): GanCase[] {
  const mk = (name: string): GanCase => {
    const cfg = structuredClone(PRESETS[name]);
    cfg.logEvery = 1 << 30;
    return { op: `gan_step_${cfg.resolution}`, cfg };
  };
  return quick ? [mk("tiny")] : [mk("tiny"), mk("small64")];
}

/** The row shape text of a GAN case. */
export function ganShape(c: GanCase): string {
  const g = c.cfg;
  return `batch ${g.batchSize}, ${g.resolution}px, G ${g.gChannels.join("/")}, D ${g.dChannels.join("/")}`;
}

const LABELS = 6; // the phantom's five subtypes + no finding

/** The phantom the GAN rows train on (256 slices, every subtype at 20 %). */
function benchPhantom(resolution: number) {
  const p = 0.2;
  return makePhantom({
    resolution,
    seed: 1,
    labels: {
      kind: "prevalence",
      count: 256,
      prevalence: { epidural: p, intraparenchymal: p, intraventricular: p, subarachnoid: p, subdural: p },
    },
  });
}

/**
 * The GAN step at `batchSize: "auto"` (what `deno task train` picks on this device: the largest preset
 * batch x 2^k with a step under 100 ms), as images per second. On a CPU (fallback) adapter "auto" keeps the
 * preset's batch, so the row would repeat the preset's row: it is written as skipped, saying so.
 */
export async function benchGanAutoMedsynth(
  gpu: Gpu,
  c: GanCase,
  samples = 3,
  budgetMs = Infinity,
): Promise<BenchRow> {
  const op = `${c.op}_auto`;
  if (gpu.adapter.isFallbackAdapter) {
    const note =
      `CPU (fallback) adapter: "auto" keeps the preset's batch ${c.cfg.batchSize}, the ${c.op} row`;
    return { op, shape: ganShape(c), impl: "medsynth", ms: null, gflops: null, skipped: "cpu adapter", note };
  }
  // the trial trainers live on a device of their own, destroyed once the batch is chosen
  const trialGpu = await Gpu.create();
  const auto = await chooseAutoBatch(c.cfg, ganStepTimer(trialGpu, benchPhantom(c.cfg.resolution)), {
    fallbackAdapter: false,
  });
  trialGpu.destroy();
  const row = await benchGanMedsynth(gpu, { op, cfg: auto.cfg }, samples, budgetMs);
  return {
    ...row,
    note: `auto: ${auto.reason}; trials ${
      auto.trials.map((t) => `${t.batch}:${t.ms.toFixed(1)}ms`).join(" ")
    }`,
  };
}

/** One D + G step of a case on its bench phantom, recorded and submitted (nothing waited for). */
export function ganStepper(gpu: Gpu, c: GanCase): { step: () => void } {
  const trainer = new GanTrainer(gpu, c.cfg, benchPhantom(c.cfg.resolution));
  return { step: () => trainer.trainStep() };
}

/** Times one medsynth D + G step. */
export async function benchGanMedsynth(
  gpu: Gpu,
  c: GanCase,
  samples = 3,
  budgetMs = Infinity,
): Promise<BenchRow> {
  const { step } = ganStepper(gpu, c);
  const ms = await timePerRun(
    async (reps) => {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) step();
      await gpu.sync();
      return performance.now() - t0;
    },
    samples,
    300,
    budgetMs,
  );
  return {
    op: c.op,
    shape: ganShape(c),
    impl: "medsynth",
    ms,
    gflops: null,
    images_per_s: (c.cfg.batchSize * 1000) / ms,
  };
}

/** Times one D + G step of the tfjs peer on the current tfjs backend. */
export function benchGanTfjs(
  tf: typeof TF,
  c: GanCase,
  impl: string,
  samples = 3,
  budgetMs = Infinity,
): Promise<BenchRow> {
  // a probe peer's minibatch-std groups shrink to its batch: the same work per image
  return benchTfjsWholeStep(
    { op: c.op, shape: ganShape(c), impl },
    c.cfg.batchSize,
    (batch) => buildTfjsGan(tf, { ...c.cfg, batchSize: batch }, LABELS),
    samples,
    budgetMs,
  );
}
