/**
 * Sweep: training images per label combination, validation and test fixed (the study: chest 5950..200,
 * brain 5400..100; at 32 px). With few images per combination, overfitting dominated GAN training.
 * `deno task experiment samples_per_combination [--preset smoke|cpu|paper] [--data PATH] --out DIR`
 * @module
 */
import type { DatasetKind, ExperimentConfig, ExperimentPreset } from "../src/experiments/config.ts";
import { presetBase, SAMPLES_TOP_K, STUDY_GRIDS } from "../src/experiments/presets.ts";

/**
 * Images per combination per preset: smoke 20/10 (400-slice phantom), cpu 200..10 (the 4000-slice
 * phantom has >= 250 training images in each of its 6 most frequent combinations), paper the study's.
 */
export function perCombo(preset: ExperimentPreset, dataset: DatasetKind): number[] {
  if (preset === "smoke") return [20, 10];
  if (preset === "cpu") return [200, 100, 50, 25, 10];
  return [...STUDY_GRIDS.perCombo[dataset]];
}

/** The samples-per-combination sweep for a preset and dataset. */
export function config(preset: ExperimentPreset, dataset: DatasetKind): ExperimentConfig {
  const b = presetBase(preset, dataset);
  return {
    name: "samples_per_combination",
    title: "Synthetic data utility, fidelity and privacy vs training images per label combination",
    preset,
    dataset,
    data: b.data,
    seeds: b.seeds,
    axis: "perCombo",
    values: perCombo(preset, dataset),
    resolution: b.resolution,
    subset: { topK: SAMPLES_TOP_K[preset][dataset], ...(b.minCount ? { minCount: b.minCount } : {}) },
    gan: b.gan,
    classifier: b.classifier,
  };
}
