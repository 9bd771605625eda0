/**
 * The in-memory dataset every loader produces and every trainer consumes.
 * @module
 */

/** Where a dataset came from; decides the CSV format synthetic exports are written in. */
export type DatasetFormat = "chestxray14" | "chexpert" | "rsna" | "plain" | "phantom";

/** Images with multi-hot labels, patient ids and source names. */
export interface Dataset {
  /** Pixel values in [-1, 1], (N, C, H, W) row-major. */
  images: Float32Array;
  /** Number of images N. */
  n: number;
  /** Channels C (1 for one window / grey radiographs, 3 for three CT windows). */
  channels: number;
  /** Height H in pixels. */
  height: number;
  /** Width W in pixels. */
  width: number;
  /** Multi-hot labels, (N, L) row-major, 0 or 1. */
  labels: Uint8Array;
  /** The L label names, in column order. */
  labelNames: string[];
  /** Patient id of each image (splits never put one patient in two splits). */
  patientIds: string[];
  /** Source name of each image (file name or path relative to the dataset root). */
  sources: string[];
  /** The input format (exports write the same format back). */
  format: DatasetFormat;
}

/** Number of values of one image. */
export function imageSize(d: Pick<Dataset, "channels" | "height" | "width">): number {
  return d.channels * d.height * d.width;
}

/** A new dataset holding the rows `idx` of `d` (copies). */
export function selectRows(d: Dataset, idx: ArrayLike<number>): Dataset {
  const sz = imageSize(d), L = d.labelNames.length;
  const images = new Float32Array(idx.length * sz);
  const labels = new Uint8Array(idx.length * L);
  const patientIds: string[] = [], sources: string[] = [];
  for (let r = 0; r < idx.length; r++) {
    const i = idx[r];
    images.set(d.images.subarray(i * sz, (i + 1) * sz), r * sz);
    labels.set(d.labels.subarray(i * L, (i + 1) * L), r * L);
    patientIds.push(d.patientIds[i]);
    sources.push(d.sources[i]);
  }
  return { ...d, images, labels, n: idx.length, patientIds, sources };
}

/** The label combination of row i as a string key like "0101" (for counting unique combinations). */
export function comboKey(d: Pick<Dataset, "labels" | "labelNames">, i: number): string {
  const L = d.labelNames.length;
  let s = "";
  for (let j = 0; j < L; j++) s += d.labels[i * L + j] ? "1" : "0";
  return s;
}
