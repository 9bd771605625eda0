/**
 * Class-conditional feature matching for the generator (`featMatchWeight`): per label, the mean of the
 * discriminator's features over generated images with the label is pulled to the mean over real images
 * with it, and likewise without it. The auxiliary and projection losses pay G for whatever D separates
 * best; a generated finding that is louder, or coded by another cue (head size, brightness) than the real
 * one, moves these means away from the real ones and costs G here. The means are exponential moving
 * averages over steps (bias-corrected, so a label missing from a batch keeps its last estimate) and G's
 * gradient follows the smoothed difference: a batch holds few images of a rare label, and matching the
 * batch's own mean would also pay G for shrinking its variety.
 * GPU: shaders/feat_match.wgsl (one dispatch, writes dhFake (=) and a loss-log slot); CPU reference below.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import type { Kernel } from "../gpu/kernel.ts";
import { assertDistinct, type Tensor } from "../gpu/tensor.ts";
import { f32Bits } from "./losses.ts";

const WG = 64;
/** The most labels the kernel handles (MAX_L in shaders/feat_match.wgsl: its per-lane arrays). */
export const FEAT_MATCH_MAX_LABELS = 32;

/**
 * What is matched: "means", per label the means with and without it (generated vs real); "contrast", per
 * label the difference between those two means, what the label changes in the features (generated vs real).
 */
export type FeatMatchMode = "means" | "contrast";

const kernels: Record<FeatMatchMode, Kernel> = {
  means: {
    name: "feat_match.means",
    code: WGSL.feat_match,
    constants: { WG, MODE: 0 },
    workgroupSize: [WG, 1, 1],
  },
  contrast: {
    name: "feat_match.contrast",
    code: WGSL.feat_match,
    constants: { WG, MODE: 1 },
    workgroupSize: [WG, 1, 1],
  },
};

/** Floats of the moving-average state for L labels and F features: (4, L, 2, F). */
export function featMatchStateSize(numLabels: number, features: number): number {
  return 4 * numLabels * 2 * features;
}

/** Options of {@linkcode featMatch}. */
export interface FeatMatchOptions {
  /** What is matched (default "means"). */
  mode?: FeatMatchMode;
  /** Multiplies the gradient (not the logged loss). */
  scale: number;
  /** Moving-average decay per call, in [0, 1): 0 uses this batch's means alone (the exact gradient). */
  decay: number;
  /** Loss-log slot. */
  slot: number;
  /** Add the loss to the slot instead of overwriting it. */
  accumulate?: boolean;
}

/**
 * Records one step: folds this batch's per-label means of hReal and hFake into `state`, writes dhFake (=)
 * and the loss into lossOut[slot]. `state` starts at zeros (nothing seen).
 */
export function featMatch(
  rec: Recorder,
  hReal: Tensor, // (N, F) D's features of real images
  yReal: Tensor, // (N, L) their labels (0/1)
  hFake: Tensor, // (N, F) D's features of generated images
  yFake: Tensor, // (N, L) their requested labels
  state: Tensor, // (4, L, 2, F) moving averages, read and written
  dhFake: Tensor, // (N, F) written
  lossOut: Tensor, // (K) loss log
  o: FeatMatchOptions,
): void {
  const [n, f] = hFake.shape, l = yFake.shape[1];
  const same = (a: Tensor, b: readonly number[]) =>
    a.shape.length === b.length && a.shape.every((v, i) => v === b[i]);
  if (hFake.shape.length !== 2 || !same(hReal, [n, f]) || !same(dhFake, [n, f])) {
    throw new Error(
      `featMatch: hReal (${hReal.shape}), hFake (${hFake.shape}) and dhFake (${dhFake.shape}) must all be (N, F)`,
    );
  }
  if (!same(yReal, [n, l]) || !same(yFake, [n, l])) {
    throw new Error(`featMatch: yReal (${yReal.shape}) and yFake (${yFake.shape}) must both be (${n}, L)`);
  }
  if (l < 1 || l > FEAT_MATCH_MAX_LABELS) {
    throw new Error(`featMatch: ${l} labels; the kernel handles 1 to ${FEAT_MATCH_MAX_LABELS}`);
  }
  if (state.size !== featMatchStateSize(l, f)) {
    throw new Error(`featMatch: state has ${state.size} values, needs (4, ${l}, 2, ${f})`);
  }
  if (!(o.decay >= 0 && o.decay < 1)) throw new Error(`featMatch: decay must be in [0, 1), got ${o.decay}`);
  if (!Number.isInteger(o.slot) || o.slot < 0 || o.slot >= lossOut.size) {
    throw new Error(`featMatch: slot ${o.slot} is outside lossOut of shape (${lossOut.shape})`);
  }
  assertDistinct("featMatch", [state, dhFake, lossOut], [hReal, yReal, hFake, yFake], true);
  rec.dispatch(
    kernels[o.mode ?? "means"],
    [
      hReal,
      yReal,
      hFake,
      yFake,
      state,
      dhFake,
      lossOut,
      rec.gpu.uniform([n, f, l, o.slot, o.accumulate ? 1 : 0, f32Bits(o.scale), f32Bits(o.decay)]),
    ],
    [1, 1, 1],
  );
}

// ---------------------------------------------------------------- CPU reference

type Arr = Float32Array | Float64Array;

/**
 * CPU reference of {@linkcode featMatch} in float64: updates `state` (4, L, 2, F) in place and returns the
 * loss (unscaled) and dhFake (times `scale`).
 */
export function featMatchRef(
  hReal: Arr, // (N, F)
  yReal: Arr, // (N, L)
  hFake: Arr, // (N, F)
  yFake: Arr, // (N, L)
  state: Float64Array, // (4, L, 2, F)
  n: number,
  l: number,
  scale: number,
  decay: number,
  mode: FeatMatchMode = "means",
): { loss: number; dh: Float64Array } {
  const f = hFake.length / n;
  const dh = new Float64Array(n * f);
  let loss = 0;
  // folds a batch mean into slot s, returns the estimate (undefined while the slot is empty)
  const fold = (s: number, lab: number, j: number, sum: number, cnt: number) => {
    const row = (s * l + lab) * 2 * f;
    if (cnt > 0) {
      state[row + j] = decay * state[row + j] + (1 - decay) * (sum / cnt);
      state[row + f + j] = decay * state[row + f + j] + (1 - decay);
    }
    const w = state[row + f + j];
    return w > 0 ? state[row + j] / w : undefined;
  };
  for (let j = 0; j < f; j++) {
    for (let lab = 0; lab < l; lab++) {
      const sums = [0, 0, 0, 0], counts = [0, 0, 0, 0]; // real+, real-, fake+, fake-
      for (let i = 0; i < n; i++) {
        const yr = yReal[i * l + lab], yf = yFake[i * l + lab];
        sums[0] += yr * hReal[i * f + j];
        counts[0] += yr;
        sums[1] += (1 - yr) * hReal[i * f + j];
        counts[1] += 1 - yr;
        sums[2] += yf * hFake[i * f + j];
        counts[2] += yf;
        sums[3] += (1 - yf) * hFake[i * f + j];
        counts[3] += 1 - yf;
      }
      const m = [0, 1, 2, 3].map((s) => fold(s, lab, j, sums[s], counts[s]));
      const ds = [0, 0]; // d1, d0
      if (mode === "means") {
        for (const side of [0, 1]) {
          const mr = m[side], mf = m[2 + side];
          ds[side] = mr === undefined || mf === undefined ? 0 : mf - mr;
          loss += (ds[side] * ds[side]) / l;
        }
      } else {
        const c = m.some((v) => v === undefined) ? 0 : (m[2]! - m[3]!) - (m[0]! - m[1]!);
        ds[0] = c;
        ds[1] = -c;
        loss += (c * c) / l;
      }
      for (const side of [0, 1]) {
        const d = ds[side];
        const cnt = counts[2 + side];
        if (cnt <= 0) continue;
        for (let i = 0; i < n; i++) {
          const yf = yFake[i * l + lab];
          const w = side === 0 ? yf : 1 - yf;
          dh[i * f + j] += (scale * 2 / l) * w * d / cnt;
        }
      }
    }
  }
  return { loss, dh };
}
