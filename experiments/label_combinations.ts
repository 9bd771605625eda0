/**
 * Sweep: number of unique label combinations kept, most frequent first (the study: chest 20, 15, 10, 6,
 * 4, 2; brain 10, 8, 6, 4, 2; at 32 px). Fewer combinations helped the synthetic data most.
 * `deno task experiment label_combinations [--preset smoke|cpu|paper] [--data PATH] --out DIR`
 * @module
 */
import type { DatasetKind, ExperimentConfig, ExperimentPreset } from "../src/experiments/config.ts";
import { presetBase, STUDY_GRIDS } from "../src/experiments/presets.ts";

/** Combinations kept per preset: smoke 4/2, cpu and paper the study's grid (the phantom has 16). */
export function combinations(preset: ExperimentPreset, dataset: DatasetKind): number[] {
  return preset === "smoke" ? [4, 2] : [...STUDY_GRIDS.topK[dataset]];
}

/** The label-combination sweep for a preset and dataset. */
export function config(preset: ExperimentPreset, dataset: DatasetKind): ExperimentConfig {
  const b = presetBase(preset, dataset);
  return {
    name: "label_combinations",
    title: "Synthetic data utility, fidelity and privacy vs number of unique label combinations",
    preset,
    dataset,
    data: b.data,
    seeds: b.seeds,
    axis: "topK",
    values: combinations(preset, dataset),
    resolution: b.resolution,
    subset: b.minCount ? { minCount: b.minCount } : {},
    gan: b.gan,
    classifier: b.classifier,
  };
}
