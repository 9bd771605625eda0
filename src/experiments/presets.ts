/**
 * The fixed parts of the sweeps per preset (data, seeds, GAN and classifier budgets) and the study's
 * grids. experiments/*.ts combine them into one config per sweep.
 *
 * - `smoke`: a 400-slice phantom at 16 px, a 3-level GAN shown 256 images, one classifier epoch, 2 cells;
 *   the whole sweep takes 1-2 minutes on a 2-core CPU (tests, CI).
 * - `cpu`: the 4000-slice phantom at 32 px, GAN `tiny` for 5400 images (about 5 minutes on an idle 2-core
 *   llvmpipe machine), classifiers `tiny` for 8000 training images each (about 75 s there, close to the
 *   demo's time budget): about 9-10 minutes per cell, 3-5 cells per sweep. Budgets are images, not
 *   minutes, so a cell's result does not depend on how busy the machine was or how many cells ran at once.
 * - `paper`: the study's grids, GAN `paper32/64/128` (12 M images), classifier `paper` (DenseNet-121) with
 *   early stopping, combinations rarer than the study's threshold (chest 256, brain 110 images) dropped;
 *   for real GPUs and real data.
 * @module
 */
import type { ClassifierSettings, DatasetKind, ExperimentPreset, GanSettings } from "./config.ts";

/** The study's grids (docs: /work/shared/design/paper.md). */
export const STUDY_GRIDS: Readonly<{
  resolution: readonly number[];
  topK: Readonly<Record<DatasetKind, readonly number[]>>;
  perCombo: Readonly<Record<DatasetKind, readonly number[]>>;
  minCount: Readonly<Record<DatasetKind, number>>;
}> = {
  /** Image sizes of the resolution sweep. */
  resolution: [32, 64, 128],
  /** Unique label combinations kept, most frequent first. */
  topK: { chest: [20, 15, 10, 6, 4, 2], brain: [10, 8, 6, 4, 2] },
  /**
   * Training images per combination. The study gives the ends (chest 5950..200, brain 5400..100); the
   * points between are our choice (roughly halving).
   */
  perCombo: { chest: [5950, 3000, 1500, 800, 400, 200], brain: [5400, 2700, 1350, 600, 300, 100] },
  /** Combinations with fewer images are dropped before any sweep (the study's thresholds). */
  minCount: { chest: 256, brain: 110 },
};

/**
 * Combinations kept in the samples-per-combination sweep. paper.md does not say how many the study kept
 * there; ours: chest 6, brain 4 (paper), 6 of the phantom's 16 (cpu: no finding + the five single
 * subtypes, each with >= 250 training images), 2 (smoke).
 */
export const SAMPLES_TOP_K: Readonly<Record<ExperimentPreset, Readonly<Record<DatasetKind, number>>>> = {
  smoke: { chest: 2, brain: 2 },
  cpu: { chest: 6, brain: 6 },
  paper: { chest: 6, brain: 4 },
};

/** Everything of a sweep's config except its name, axis and values. */
export interface PresetBase {
  /** Data of every cell (phantom, phantom:COUNT or a path). */
  data: string;
  /** Seeds. */
  seeds: number[];
  /** Image size of the class and sample sweeps. */
  resolution: number;
  /** Combinations rarer than this are dropped in every cell (undefined: none dropped). */
  minCount?: number;
  /** GAN settings. */
  gan: GanSettings;
  /** Classifier settings. */
  classifier: ClassifierSettings;
}

/** The fixed parts of a sweep for a preset and dataset. */
export function presetBase(preset: ExperimentPreset, dataset: DatasetKind): PresetBase {
  switch (preset) {
    case "smoke":
      return {
        data: "phantom:400",
        seeds: [1],
        resolution: 16,
        gan: {
          preset: "tiny",
          overrides: {
            gChannels: [16, 8, 8],
            dChannels: [16, 8, 8],
            latentDim: 8,
            dFeatures: 16,
            batchSize: 8,
            logEvery: 4,
            checkpointEvery: 64,
            keepCheckpoints: 5,
            sampleEvery: 0,
            sampleRows: 3,
            sampleColumns: 2,
            labelFidelity: { every: 0 },
          },
          images: 256,
          minutes: null,
        },
        classifier: { preset: "tiny", minutes: null, epochs: 1, batch: 16, resamples: 50 },
      };
    case "cpu":
      return {
        data: "phantom",
        seeds: [1],
        resolution: 32,
        gan: { preset: "tiny", overrides: {}, images: 5400, minutes: null },
        classifier: {
          preset: "tiny",
          minutes: null,
          epochs: null,
          images: 8000,
          batch: null,
          resamples: 1000,
        },
      };
    case "paper":
      return {
        data: "phantom",
        seeds: [1],
        resolution: 32,
        minCount: STUDY_GRIDS.minCount[dataset],
        gan: { preset: "paper{res}", overrides: {}, images: null, minutes: null },
        classifier: { preset: "paper", minutes: null, epochs: null, batch: null, resamples: 1000 },
      };
  }
}
