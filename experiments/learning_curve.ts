/**
 * Learning curve: what more GAN training buys. The GAN's training length (real images shown) is swept with
 * everything else fixed, classifiers with a fixed image budget; each cell reports TRTR, TSTR and the gap
 * with its interval, the label fidelity measured while the GAN trained, and fidelity/privacy. A longer cell
 * continues from the checkpoint of the next shorter one with the same seed, so the curve costs one run of
 * the longest budget plus one evaluation per point.
 * `deno task experiment learning_curve [--preset smoke|cpu|paper] [--data PATH] --out DIR`
 * @module
 */
import type { DatasetKind, ExperimentConfig, ExperimentPreset } from "../src/experiments/config.ts";
import { presetBase } from "../src/experiments/presets.ts";
import { PRESETS } from "../src/models/config.ts";

/** GAN images shown per preset: smoke 128/256, cpu 6k/25k/100k (2-core llvmpipe), paper up to 400k. */
export function ganImages(preset: ExperimentPreset): number[] {
  if (preset === "smoke") return [128, 256];
  if (preset === "cpu") return [6_000, 25_000, 100_000];
  return [6_000, 25_000, 100_000, 400_000];
}

/** The learning-curve sweep for a preset and dataset. */
export function config(preset: ExperimentPreset, dataset: DatasetKind): ExperimentConfig {
  const b = presetBase(preset, dataset);
  // cpu: the classifiers get the label-fidelity classifier's budget, so the real-trained one that the GAN
  // run trained for label fidelity is reused by every cell's evaluation (same data, settings and seed)
  const classifier = preset === "cpu"
    ? { ...b.classifier, images: PRESETS.tiny.labelFidelity.classifierImages, resamples: 1000 }
    : b.classifier;
  return {
    name: "learning_curve",
    title: "Synthetic data utility, label fidelity and privacy vs GAN training images shown",
    preset,
    dataset,
    data: b.data,
    seeds: b.seeds,
    axis: "ganImages",
    values: ganImages(preset),
    resolution: b.resolution,
    subset: b.minCount ? { minCount: b.minCount } : {},
    gan: { ...b.gan, images: null, minutes: null },
    classifier,
  };
}
