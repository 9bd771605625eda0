/**
 * Label fidelity of a conditional generator while it trains ("GAN-test", Shmelkov et al., ECCV 2018): a
 * classifier trained on REAL images scores generated images, and per label we ask whether its score
 * separates the images generated WITH the label from those generated without it (the AUROC of "label
 * requested" vs the score). 1.0: every requested finding looks like the real finding to a real-trained
 * classifier; 0.5: the generator draws something the real classifier does not recognise (or nothing).
 *
 * It sits next to the same classifier's AUROC on real validation images, its ceiling: a label the real
 * classifier cannot see on real images cannot be measured on generated ones either. It is the fast signal
 * for recipe work (seconds per measurement); train-on-synthetic / test-on-real stays the verdict.
 * @module
 */

import type { Dataset } from "../data/dataset.ts";
import { predictProbabilities, scoreAuroc } from "../train/classifier.ts";
import type { Classifier } from "../models/classifier.ts";

/** One measurement. */
export interface LabelFidelity {
  /** Per label: AUROC of the real-trained classifier's score vs "label requested" on generated images. */
  perLabel: (number | null)[];
  /** Mean over the defined labels. */
  mean: number;
  /** Per label: the same classifier's AUROC on the real validation images (the ceiling). */
  realPerLabel: (number | null)[];
  /** Mean of `realPerLabel`. */
  realMean: number;
  /** Generated images scored. */
  samples: number;
}

/** Generates images (M, C, R, R) in [-1, 1] for label rows (M, L) with latents from `seed`. */
export type GenerateFn = (labels: Uint8Array, seed: number) => Promise<Float32Array>;

/**
 * Measures label fidelity repeatedly on one fixed probe set: the label vectors of the real validation
 * images, each generated with a fixed latent, so measurements at different points of a run differ only by
 * the generator's weights.
 */
export class LabelFidelityProbe {
  private realCache: { perLabel: (number | null)[]; mean: number } | null = null;

  /**
   * @param classifier a classifier trained on the real training split (see src/train/reference.ts)
   * @param realValid the real validation images: their labels are the probe's label vectors and their
   *   images give the classifier's ceiling
   * @param seed seed of the probe's latents (fixed for a run)
   */
  constructor(
    readonly classifier: Classifier,
    readonly realValid: Dataset,
    readonly seed: number,
  ) {
    if (realValid.n < 2) {
      throw new Error(`label fidelity: the real validation split has ${realValid.n} image(s); it needs >= 2`);
    }
  }

  /** The classifier's AUROC on the real validation images (computed once). */
  async real(): Promise<{ perLabel: (number | null)[]; mean: number }> {
    this.realCache ??= scoreAuroc(
      await predictProbabilities(this.classifier, this.realValid),
      this.realValid,
    );
    return this.realCache;
  }

  /** Generates the probe set with `generate` and scores it. */
  async measure(generate: GenerateFn): Promise<LabelFidelity> {
    const v = this.realValid;
    const images = await generate(v.labels, this.seed);
    const fake: Dataset = { ...v, images, sources: v.sources.map((_, i) => `probe_${i}`) };
    const got = scoreAuroc(await predictProbabilities(this.classifier, fake), fake);
    const real = await this.real();
    return {
      perLabel: got.perLabel,
      mean: got.mean,
      realPerLabel: real.perLabel,
      realMean: real.mean,
      samples: v.n,
    };
  }
}

/**
 * "name 0.81/0.93" per label (generated / real), for progress lines and logs.
 *
 * @example
 * ```ts
 * import { formatLabelFidelity } from "./label_fidelity.ts";
 * const f = { perLabel: [0.8, null], mean: 0.8, realPerLabel: [0.9, 0.7], realMean: 0.8, samples: 10 };
 * const s = formatLabelFidelity(f, ["epidural", "subdural"]);
 * if (s !== "label fidelity 0.80 (real 0.80): epidural 0.80/0.90, subdural n/a/0.70") throw new Error(s);
 * ```
 */
export function formatLabelFidelity(f: LabelFidelity, names: readonly string[]): string {
  const v = (x: number | null) => (x === null ? "n/a" : x.toFixed(2));
  const per = names.map((n, l) => `${n} ${v(f.perLabel[l])}/${v(f.realPerLabel[l])}`).join(", ");
  return `label fidelity ${v(f.mean)} (real ${v(f.realMean)}): ${per}`;
}
