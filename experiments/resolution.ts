/**
 * Sweep: image resolution (the study: 32, 64, 128 px). Higher resolution gave more useful synthetic data.
 * `deno task experiment resolution [--preset smoke|cpu|paper] [--data PATH] --out DIR`
 * @module
 */
import type { DatasetKind, ExperimentConfig, ExperimentPreset } from "../src/experiments/config.ts";
import { presetBase, STUDY_GRIDS } from "../src/experiments/presets.ts";

/** Resolutions per preset: smoke 16/32, cpu and paper the study's 32/64/128. */
export const RESOLUTIONS: Readonly<Record<ExperimentPreset, readonly number[]>> = {
  smoke: [16, 32],
  cpu: STUDY_GRIDS.resolution,
  paper: STUDY_GRIDS.resolution,
};

/** The resolution sweep for a preset and dataset. */
export function config(preset: ExperimentPreset, dataset: DatasetKind): ExperimentConfig {
  const b = presetBase(preset, dataset);
  return {
    name: "resolution",
    title: "Synthetic data utility, fidelity and privacy vs image resolution",
    preset,
    dataset,
    data: b.data,
    seeds: b.seeds,
    axis: "resolution",
    values: [...RESOLUTIONS[preset]],
    resolution: b.resolution,
    subset: b.minCount ? { minCount: b.minCount } : {},
    gan: b.gan,
    classifier: b.classifier,
  };
}
