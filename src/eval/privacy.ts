/**
 * Privacy of a synthetic image set against the real images its generator was trained on, in two spaces:
 *
 * - feature space (default cosine distance in the pooled features of the classifier trained on real
 *   data, the reference study's choice for its nearest-neighbour search): near-copies of content;
 * - pixel space: images scaled to [0, 1], area-downsampled to at most 32 x 32 (documented speed
 *   trade-off: a brute-force search over thousands of 128 x 128 images would take minutes on a CPU, and
 *   copies stay copies at 32 px), flattened; the Euclidean distance divided by sqrt(D), i.e. the root
 *   mean square pixel difference as a fraction of the intensity range (0.01 = 1 %).
 *
 * In each space: nearest training image of every synthetic image (distance to closest record, DCR), the
 * same for real holdout images the generator never saw (the calibration: what "close" means for
 * independent data of the same kind), a memorisation rate (synthetic images closer to the training set
 * than 99 % of holdout images are), a distance-based membership-inference AUC (can an attacker holding the
 * synthetic set tell training images from holdout images by how close a synthetic image lies to them?)
 * and the closest pairs for a visual check.
 *
 * Caveat: in feature space the training images were also seen by the feature extractor (the classifier
 * was trained on them), which can shift member distances by itself; the pixel-space attack has no such
 * bias.
 * @module
 */
import { checkMatrix, type Matrix } from "../metrics/_linalg.ts";
import {
  type DistanceMetric,
  membershipInferenceAuc,
  memorisationRate,
  nearestNeighbours,
} from "../metrics/privacy.ts";
import { percentile } from "../metrics/stats.ts";
import { resizeImage } from "../data/resize.ts";
import { Rng } from "../util/rng.ts";

/** Images with their shape: values in [-1, 1], (N, C, H, W) row-major. */
export interface ImageSet {
  /** Pixel values in [-1, 1], (N, C, H, W) (the field name matches `Dataset`, so a dataset is an image set). */
  images: Float32Array;
  /** Number of images N. */
  n: number;
  /** Channels C. */
  channels: number;
  /** Height H. */
  height: number;
  /** Width W. */
  width: number;
}

/** Largest side of the pixel space (images above it are area-downsampled). */
export const PIXEL_SPACE_MAX_SIDE = 32;

/** The pixel-space size an image of `height` x `width` is compared at (aspect kept, at most `maxSide`). */
export function pixelSpaceSize(
  height: number,
  width: number,
  maxSide = PIXEL_SPACE_MAX_SIDE,
): [number, number] {
  const s = Math.min(1, maxSide / Math.max(height, width));
  return [Math.max(1, Math.round(height * s)), Math.max(1, Math.round(width * s))];
}

/**
 * Pixel-space vectors (N, C h w) of images in [-1, 1]: area-downsampled to at most `maxSide` per side,
 * scaled to [0, 1] and divided by sqrt(C h w), so the Euclidean distance between two rows is the root mean
 * square pixel difference as a fraction of the intensity range.
 *
 * @example
 * ```ts
 * import { pixelVectors } from "./privacy.ts";
 * const img = { images: new Float32Array([-1, -1, 1, 1]), n: 2, channels: 1, height: 1, width: 2 };
 * const m = pixelVectors(img);
 * const d = Math.hypot(m.data[0] - m.data[2], m.data[1] - m.data[3]);
 * if (Math.abs(d - 1) > 1e-6) throw new Error("black vs white should be RMS difference 1");
 * ```
 */
export function pixelVectors(
  set: ImageSet,
  maxSide = PIXEL_SPACE_MAX_SIDE,
): Matrix & { data: Float32Array } {
  const { n, channels: c, height: h, width: w } = set;
  const per = c * h * w;
  if (set.images.length !== n * per) {
    throw new Error(
      `pixelVectors: ${set.images.length} values for ${n} images of (${c}, ${h}, ${w}); give (N, C, H, W)`,
    );
  }
  const [oh, ow] = pixelSpaceSize(h, w, maxSide);
  const d = c * oh * ow;
  const scale = 0.5 / Math.sqrt(d);
  const out = new Float32Array(n * d); // (N, C*oh*ow)
  for (let i = 0; i < n; i++) {
    const src = set.images.subarray(i * per, (i + 1) * per);
    const small = oh === h && ow === w ? src : resizeImage(src, c, h, w, oh, ow);
    for (let k = 0; k < d; k++) out[i * d + k] = (small[k] + 1) * scale;
  }
  return { data: out, rows: n, cols: d };
}

/** Quantiles of a set of distances. */
export interface DistanceSummary {
  /** Number of distances. */
  count: number;
  /** Smallest. */
  min: number;
  /** 1st percentile (numpy "linear"). */
  p1: number;
  /** 5th percentile. */
  p5: number;
  /** Median. */
  median: number;
  /** Mean. */
  mean: number;
  /** Largest. */
  max: number;
}

/** Summary of `values` (at least one). */
export function summarizeDistances(values: ArrayLike<number>): DistanceSummary {
  if (values.length === 0) throw new Error("summarizeDistances: no distances");
  let min = Infinity, max = -Infinity, sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return {
    count: values.length,
    min,
    p1: percentile(values, 1),
    p5: percentile(values, 5),
    median: percentile(values, 50),
    mean: sum / values.length,
    max,
  };
}

/** One synthetic image and its nearest training image. */
export interface NeighbourPair {
  /** Row of the synthetic image (in the full synthetic set given). */
  synthetic: number;
  /** Row of its nearest training image. */
  train: number;
  /** Their distance in this space. */
  distance: number;
}

/** Options of {@linkcode privacyInSpace} and {@linkcode computePrivacy}. */
export interface PrivacyOptions {
  /** Memorisation threshold: this percentile of holdout->train distances (default 1). */
  memorisationPercentile?: number;
  /**
   * At most this many synthetic and holdout query rows (seeded random subset; default 4000). The training
   * set is always searched in full. The membership attack uses equal numbers of training and holdout rows
   * (the smaller count, capped by this).
   */
  maxQueries?: number;
  /** Closest pairs kept per space (default 8). */
  closestPairs?: number;
  /** Bins of the distance histograms (default 30). */
  histogramBins?: number;
  /** Seed of the subsets (default 0). */
  seed?: number;
}

/** Privacy numbers in one space (JSON-serialisable). */
export interface PrivacySpaceResult {
  /** "features" or "pixels". */
  space: string;
  /** Distance used. */
  metric: DistanceMetric;
  /** What the distance means, in words. */
  distanceUnit: string;
  /** Dimension of the space. */
  dim: number;
  /** Training rows searched. */
  trainCount: number;
  /** Distance of each (queried) synthetic image to its nearest training image, and of each holdout image. */
  dcr: {
    synthetic: DistanceSummary;
    holdout: DistanceSummary;
    /** median(synthetic) / median(holdout): well below 1 means synthetic images sit closer than new real ones. */
    medianRatio: number | null;
  };
  /** Share of synthetic images closer to a training image than `percentile` % of holdout images are. */
  memorisation: {
    rate: number;
    threshold: number;
    percentile: number;
    /** What chance gives for data like the holdout set: percentile / 100. */
    expected: number;
    /** Synthetic images under the threshold. */
    count: number;
  };
  /**
   * Pixel space only: synthetic images whose RMS difference to a training image is below one 8-bit grey
   * level (1/255), i.e. copies up to PNG quantisation; null in feature space.
   */
  copies: { count: number; threshold: number } | null;
  /** Distance-based membership inference (0.5: training images are not recognisable). */
  membershipInference: { auc: number; members: number; nonMembers: number };
  /** Normalised histograms (fractions per bin) of the two DCR distributions on common bins. */
  histogram: { edges: number[]; synthetic: number[]; holdout: number[] };
  /** The closest synthetic-to-training pairs, closest first. */
  closest: NeighbourPair[];
}

/** Row subset (sorted) of size min(n, k), seeded; all rows when n <= k. */
function sampleRows(n: number, k: number, rng: Rng): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  if (n <= k) return idx;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, k).sort();
}

function takeRows(m: Matrix, rows: Int32Array): Matrix {
  if (rows.length === m.rows) return m;
  const d = m.cols;
  const out = new Float64Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) {
    for (let j = 0; j < d; j++) out[r * d + j] = m.data[rows[r] * d + j];
  }
  return { data: out, rows: rows.length, cols: d };
}

function histogram(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  bins: number,
): PrivacySpaceResult["histogram"] {
  // common range up to the larger 99th percentile, so one far outlier does not squash the plot
  const hi = Math.max(percentile(a, 99), percentile(b, 99), 1e-12);
  const edges = Array.from({ length: bins + 1 }, (_, i) => (hi * i) / bins);
  const count = (v: ArrayLike<number>) => {
    const h = new Array(bins).fill(0);
    for (let i = 0; i < v.length; i++) h[Math.min(bins - 1, Math.floor((v[i] / hi) * bins))]++;
    return h.map((c) => c / v.length);
  };
  return { edges, synthetic: count(a), holdout: count(b) };
}

/** True when some row of `m` is all zeros (cosine distance is undefined for it). */
export function hasZeroRow(m: Matrix): boolean {
  for (let i = 0; i < m.rows; i++) {
    let any = false;
    for (let j = 0; j < m.cols && !any; j++) any = m.data[i * m.cols + j] !== 0;
    if (!any) return true;
  }
  return false;
}

/**
 * Privacy numbers in one space. `synthetic` (M, D), `train` (N, D): the generator's training rows,
 * `holdout` (K, D): real rows the generator never saw. `space` names the space; in "pixels" the copy
 * count is filled in.
 */
export function privacyInSpace(
  space: string,
  data: { synthetic: Matrix; train: Matrix; holdout: Matrix },
  metric: DistanceMetric,
  opts: PrivacyOptions = {},
): PrivacySpaceResult {
  const { synthetic, train, holdout } = data;
  checkMatrix(synthetic, `privacy (${space}): synthetic`, 1);
  checkMatrix(train, `privacy (${space}): train`, 1);
  checkMatrix(holdout, `privacy (${space}): holdout`, 2);
  if (synthetic.cols !== train.cols || holdout.cols !== train.cols) {
    throw new Error(
      `privacy (${space}): dimensions differ (synthetic ${synthetic.cols}, train ${train.cols}, holdout ` +
        `${holdout.cols}); compute all three in the same space`,
    );
  }
  const q = opts.memorisationPercentile ?? 1;
  const maxQ = opts.maxQueries ?? 4000;
  const rng = new Rng(opts.seed ?? 0);
  const synRows = sampleRows(synthetic.rows, maxQ, rng);
  const holdRows = sampleRows(holdout.rows, maxQ, rng);
  const synQ = takeRows(synthetic, synRows);
  const holdQ = takeRows(holdout, holdRows);

  const synNn = nearestNeighbours(synQ, train, metric);
  const holdNn = nearestNeighbours(holdQ, train, metric);
  const mem = memorisationRate(synNn.distance, holdNn.distance, q);

  // the attack: equal numbers of members (training rows) and non-members (holdout rows)
  const m = Math.min(train.rows, holdout.rows, maxQ);
  const members = takeRows(train, sampleRows(train.rows, m, rng));
  const nonMembers = takeRows(holdout, sampleRows(holdout.rows, m, rng));
  const mia = membershipInferenceAuc(synthetic, members, nonMembers, metric);

  const k = Math.min(opts.closestPairs ?? 8, synRows.length);
  const order = Array.from(synNn.distance.keys()).sort((a, b) =>
    synNn.distance[a] - synNn.distance[b] || synRows[a] - synRows[b]
  );
  const closest = order.slice(0, k).map((i) => ({
    synthetic: synRows[i],
    train: synNn.index[i],
    distance: synNn.distance[i],
  }));
  const synSum = summarizeDistances(synNn.distance), holdSum = summarizeDistances(holdNn.distance);
  let copies: PrivacySpaceResult["copies"] = null;
  if (space === "pixels") {
    const threshold = 1 / 255;
    let count = 0;
    for (const v of synNn.distance) if (v < threshold) count++;
    copies = { count, threshold };
  }
  return {
    space,
    metric,
    distanceUnit: space === "pixels"
      ? "root mean square pixel difference, fraction of the intensity range"
      : metric === "cosine"
      ? "cosine distance (1 - cosine similarity)"
      : "Euclidean distance",
    dim: train.cols,
    trainCount: train.rows,
    dcr: {
      synthetic: synSum,
      holdout: holdSum,
      medianRatio: holdSum.median > 0 ? synSum.median / holdSum.median : null,
    },
    memorisation: {
      rate: mem.rate,
      threshold: mem.threshold,
      percentile: q,
      expected: q / 100,
      count: Math.round(mem.rate * synRows.length),
    },
    copies,
    membershipInference: { auc: mia.auc, members: m, nonMembers: m },
    histogram: histogram(synNn.distance, holdNn.distance, opts.histogramBins ?? 30),
    closest,
  };
}

/** One image set in both spaces. */
export interface PrivacySet {
  /** (N, F) features (e.g. the real-trained classifier's pooled features). */
  features: Matrix;
  /** The images themselves, for the pixel space (a `Dataset` fits). */
  pixels: ImageSet;
}

/** Inputs of {@linkcode computePrivacy}. */
export interface PrivacyInput {
  /** The synthetic images. */
  synthetic: PrivacySet;
  /** The real images the generator was trained on. */
  train: PrivacySet;
  /** Real images the generator never saw (validation and test splits). */
  holdout: PrivacySet;
}

/** Privacy in feature and pixel space (JSON-serialisable). */
export interface PrivacyResult {
  /** In the feature space (cosine distance; Euclidean if some feature row is all zeros). */
  features: PrivacySpaceResult;
  /** In pixel space (RMS difference after downsampling to at most 32 x 32). */
  pixels: PrivacySpaceResult;
  /** Pixel-space comparison size [height, width]. */
  pixelSize: [number, number];
}

/**
 * Privacy numbers of a synthetic set in feature and pixel space (see the module notes).
 *
 * @example
 * ```ts
 * import { computePrivacy } from "./privacy.ts";
 * const img = (n: number, s: number) => ({
 *   images: Float32Array.from({ length: n * 16 }, (_, i) => Math.sin(i * s)), n, channels: 1, height: 4, width: 4,
 * });
 * const set = (n: number, s: number) => {
 *   const pixels = img(n, s);
 *   return { pixels, features: { data: pixels.images.map((v) => v + 2), rows: n, cols: 16 } };
 * };
 * const train = set(20, 0.7);
 * const r = computePrivacy({ synthetic: train, train, holdout: set(20, 1.9) });
 * if (r.pixels.memorisation.rate !== 1 || r.pixels.closest[0].distance !== 0) throw new Error("copies");
 * ```
 */
export function computePrivacy(input: PrivacyInput, opts: PrivacyOptions = {}): PrivacyResult {
  const { synthetic, train, holdout } = input;
  const featMetric: DistanceMetric = [synthetic, train, holdout].some((s) => hasZeroRow(s.features))
    ? "euclidean"
    : "cosine";
  for (const [s, what] of [[synthetic, "synthetic"], [train, "train"], [holdout, "holdout"]] as const) {
    if (s.features.rows !== s.pixels.n) {
      throw new Error(
        `computePrivacy: ${what} has ${s.features.rows} feature rows but ${s.pixels.n} images; give one row per image`,
      );
    }
  }
  const features = privacyInSpace(
    "features",
    {
      synthetic: synthetic.features,
      train: train.features,
      holdout: holdout.features,
    },
    featMetric,
    opts,
  );
  const pixels = privacyInSpace(
    "pixels",
    {
      synthetic: pixelVectors(synthetic.pixels),
      train: pixelVectors(train.pixels),
      holdout: pixelVectors(holdout.pixels),
    },
    "euclidean",
    opts,
  );
  return { features, pixels, pixelSize: pixelSpaceSize(train.pixels.height, train.pixels.width) };
}

/** Distance between row i of `a` and row j of `b` (same columns) under `metric`. */
export function pairDistance(a: Matrix, i: number, b: Matrix, j: number, metric: DistanceMetric): number {
  const d = a.cols;
  if (b.cols !== d) throw new Error(`pairDistance: ${a.cols} vs ${b.cols} columns`);
  let dot = 0, na = 0, nb = 0, ss = 0;
  for (let k = 0; k < d; k++) {
    const x = a.data[i * d + k], y = b.data[j * d + k];
    dot += x * y;
    na += x * x;
    nb += y * y;
    ss += (x - y) ** 2;
  }
  if (metric === "euclidean") return Math.sqrt(ss);
  return na === 0 || nb === 0 ? NaN : Math.max(0, 1 - dot / Math.sqrt(na * nb));
}
