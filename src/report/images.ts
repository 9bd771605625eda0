/**
 * Report images: PNG data URLs of single images and strips, the real-vs-synthetic grid per label, and
 * the nearest-neighbour gallery. Images come in [-1, 1], (N, C, H, W); 3 channels are shown as RGB.
 * @module
 */
import { encodePng } from "../data/png.ts";
import type { ImageSet, PrivacyResult } from "../eval/privacy.ts";
import type { GalleryPair, ImageGrids } from "./results.ts";

/** Base64 of bytes (btoa over chunks; works in Deno and browsers). */
export function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** `data:image/png;base64,...` of PNG bytes. */
export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${base64(png)}`;
}

/**
 * A PNG data URL of images `rows` of `set` side by side with 1 px white gaps (in [-1, 1] -> 8 bit).
 *
 * @example
 * ```ts
 * import { imageStrip } from "./images.ts";
 * const set = { images: new Float32Array(8).fill(0), n: 2, channels: 1, height: 2, width: 2 };
 * if (!imageStrip(set, [0, 1]).startsWith("data:image/png;base64,")) throw new Error("not a PNG data URL");
 * ```
 */
export function imageStrip(set: ImageSet, rows: readonly number[]): string {
  const { channels: c, height: h, width: w } = set;
  if (c !== 1 && c !== 3) throw new Error(`imageStrip: ${c} channels; PNG needs 1 or 3`);
  if (rows.length === 0) throw new Error("imageStrip: no images");
  const W = rows.length * w + rows.length - 1;
  const out = new Float32Array(c * h * W).fill(1); // (C, h, W), gaps white
  const per = c * h * w;
  rows.forEach((row, k) => {
    if (!(row >= 0 && row < set.n)) throw new Error(`imageStrip: row ${row} outside 0..${set.n - 1}`);
    const src = set.images.subarray(row * per, (row + 1) * per);
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const v = (src[(ch * h + y) * w + x] + 1) / 2;
          out[(ch * h + y) * W + k * (w + 1) + x] = v;
        }
      }
    }
  });
  return pngDataUrl(encodePng(out, c, h, W));
}

/** Labelled images: an image set with its (N, L) multi-hot labels. */
export interface LabelledImages extends ImageSet {
  /** (N, L) 0/1. */
  labels: Uint8Array;
}

/** Rows of `d` whose label `j` is positive (j = -1: no positive label), first `max`. */
function rowsWith(d: LabelledImages, L: number, j: number, max: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < d.n && out.length < max; i++) {
    if (j >= 0 ? d.labels[i * L + j] === 1 : !d.labels.subarray(i * L, (i + 1) * L).some((v) => v)) {
      out.push(i);
    }
  }
  return out;
}

/**
 * Real vs synthetic strips per label: the first `columns` images carrying each label, plus a row for
 * images without any positive label when the labels have no "no finding" column.
 */
export function buildGrids(
  real: LabelledImages,
  synthetic: LabelledImages,
  labelNames: readonly string[],
  columns = 8,
): ImageGrids {
  const L = labelNames.length;
  const hasNoFinding = labelNames.some((n) => /^no[ _]?finding$/i.test(n));
  const targets: [string, number][] = labelNames.map((n, j) => [n, j]);
  if (!hasNoFinding) targets.push(["no positive label", -1]);
  const rows = targets.map(([label, j]) => {
    const r = rowsWith(real, L, j, columns), s = rowsWith(synthetic, L, j, columns);
    return {
      label,
      real: r.length ? imageStrip(real, r) : null,
      synthetic: s.length ? imageStrip(synthetic, s) : null,
      realCount: r.length,
      syntheticCount: s.length,
    };
  }).filter((row) => row.realCount + row.syntheticCount > 0);
  return { columns, imageSize: [real.height, real.width], channels: real.channels, rows };
}

/** Positive label names of row i. */
function namesOf(d: LabelledImages, labelNames: readonly string[], i: number): string[] {
  const L = labelNames.length;
  return labelNames.filter((_, j) => d.labels[i * L + j] === 1);
}

/**
 * The gallery: each space's closest pairs (from {@linkcode PrivacyResult}) as image pairs, with the pair's
 * distance in the other space looked up by `otherDistance` (null when not given).
 */
export function buildGallery(
  privacy: PrivacyResult,
  synthetic: LabelledImages,
  train: LabelledImages,
  labelNames: readonly string[],
  otherDistance?: (space: "features" | "pixels", syntheticRow: number, trainRow: number) => number | null,
): GalleryPair[] {
  const out: GalleryPair[] = [];
  for (const space of ["features", "pixels"] as const) {
    privacy[space].closest.forEach((p, k) => {
      out.push({
        space,
        rank: k + 1,
        distance: p.distance,
        otherDistance: otherDistance?.(space, p.synthetic, p.train) ?? null,
        synthetic: {
          index: p.synthetic,
          labels: namesOf(synthetic, labelNames, p.synthetic),
          image: imageStrip(synthetic, [p.synthetic]),
        },
        train: {
          index: p.train,
          labels: namesOf(train, labelNames, p.train),
          image: imageStrip(train, [p.train]),
        },
      });
    });
  }
  return out;
}
