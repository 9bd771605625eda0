/**
 * Classifier training-step rows of the benchmark: one whole step (forward in training mode, class-weighted
 * BCE, backward, Adam) of the evaluation classifier's presets at 32 px on medsynth's engine
 * (`ClassifierStepper`), and the same architecture in tfjs (src/bench/classifier_tfjs.ts) on tfjs-webgpu and
 * tfjs-wasm.
 * @module
 */

import type * as TF from "@tensorflow/tfjs";
import type { Gpu } from "../gpu/gpu.ts";
import {
  Classifier,
  type ClassifierConfig,
  classifierConfig,
  type ClassifierPreset,
} from "../models/classifier.ts";
import { ClassifierStepper } from "../train/classifier.ts";
import { Rng } from "../util/rng.ts";
import { type BenchRow, benchTfjsWholeStep, timePerRun } from "./cases.ts";
import { buildTfjsClassifier } from "./classifier_tfjs.ts";

/** A classifier benchmark case: a preset at a resolution and batch size. */
export interface ClassifierCase {
  /** Row op name, e.g. "classifier_step_32". */
  op: string;
  preset: ClassifierPreset;
  cfg: ClassifierConfig;
  /** Images per step. */
  batch: number;
}

/** The cases: the `tiny` and `paper` (DenseNet-121) classifiers on 32 px single-channel images, 6 labels. */
export function classifierCases(quick = false, presets: readonly ClassifierPreset[] = ["tiny", "paper"]) {
  const mk = (preset: ClassifierPreset): ClassifierCase => ({
    op: "classifier_step_32",
    preset,
    cfg: classifierConfig(preset, { inChannels: 1, size: 32, labels: 6 }),
    batch: 32, // DEFAULT_CLASSIFIER_TRAIN's
  });
  return (quick ? presets.slice(0, 1) : presets).map(mk);
}

/** The row shape text of a classifier case. */
export function classifierShape(c: ClassifierCase): string {
  const a = c.cfg;
  return `batch ${c.batch}, ${a.size}px, ${c.preset} (k ${a.growthRate}, blocks ${a.blockDepths.join("/")}${
    a.bottleneck ? `, bottleneck ${a.bottleneck}` : ""
  })`;
}

/** Options of {@linkcode benchClassifierMedsynth}. */
export interface ClassifierBenchOptions {
  samples?: number;
  budgetMs?: number;
  /** The classifier's fused path (default) or its unfused reference path (A/B measurements). */
  fused?: boolean;
}

/** A classifier training step of a case on a fixed random batch; `dispose` frees its GPU memory. */
export function classifierStepper(
  gpu: Gpu,
  c: ClassifierCase,
  opts: { fused?: boolean } = {},
): { step: () => void; dispose: () => void } {
  const model = new Classifier(gpu, c.cfg, { seed: 1, fused: opts.fused });
  const L = c.cfg.labels, per = c.cfg.inChannels * c.cfg.size * c.cfg.size;
  const rng = new Rng(2);
  const images = rng.uniforms(c.batch * per, -1, 1);
  const targets = Float32Array.from({ length: c.batch * L }, () => (rng.next() < 0.3 ? 1 : 0));
  const stepper = new ClassifierStepper(model, c.batch, {
    lr: 3e-3,
    posWeight: new Float32Array(L).fill(2),
    negWeight: new Float32Array(L).fill(0.7),
  });
  return {
    step: () => stepper.step(images, targets),
    dispose: () => {
      stepper.dispose();
      model.disposeWorkspaces();
      for (const s of [model.params, model.stats]) for (const t of [s.values, s.grads]) t.buffer.destroy();
      for (const t of [stepper.adam.m, stepper.adam.v]) t.buffer.destroy();
    },
  };
}

/** Times one medsynth classifier training step (upload of the batch included, as in training). */
export async function benchClassifierMedsynth(
  gpu: Gpu,
  c: ClassifierCase,
  opts: ClassifierBenchOptions = {},
): Promise<BenchRow> {
  const { step, dispose } = classifierStepper(gpu, c, { fused: opts.fused });
  try {
    const ms = await timePerRun(
      async (reps) => {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) step();
        await gpu.sync();
        return performance.now() - t0;
      },
      opts.samples ?? 3,
      300,
      opts.budgetMs ?? Infinity,
    );
    return {
      op: c.op,
      shape: classifierShape(c),
      impl: "medsynth",
      ms,
      gflops: null,
      images_per_s: (c.batch * 1000) / ms,
    };
  } finally {
    await gpu.sync();
    dispose();
  }
}

/** Times one training step of the tfjs peer on the current tfjs backend. */
export function benchClassifierTfjs(
  tf: typeof TF,
  c: ClassifierCase,
  impl: string,
  samples = 3,
  budgetMs = Infinity,
): Promise<BenchRow> {
  return benchTfjsWholeStep(
    { op: c.op, shape: classifierShape(c), impl },
    c.batch,
    (batch) => buildTfjsClassifier(tf, c.cfg, batch),
    samples,
    budgetMs,
  );
}
