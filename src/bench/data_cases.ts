/**
 * Data-path throughput rows for `deno task bench` (and a browser page): bytes in, {@linkcode BenchRow}s
 * out, no file access. Rows: a CT slice decoded from DICOM, windowed (brain/subdural/bone) and resized
 * to 3 x 64 x 64; a 512 x 512 16-bit PNG (synthesised here) decoded and resized to 64 x 64; and, when
 * given, small radiograph PNGs (the ChestX-ray14 sample) decoded and resized.
 * @module
 */

import { dicomToImage, parseDicom } from "../data/dicom.ts";
import { writeDicomCt } from "../data/dicom_write.ts";
import { phantomSliceHu } from "../data/phantom.ts";
import { decodeImage, encodePng, type InputShape, toModelInput } from "../data/png.ts";
import { Rng } from "../util/rng.ts";
import { type BenchRow, median } from "./cases.ts";

export type { BenchRow };

/** What to benchmark: bytes only (the caller reads files). */
export interface DataBenchInputs {
  /** A CT slice as DICOM bytes; default: a 512 x 512 phantom slice written as DICOM in memory. */
  ctDicom?: Uint8Array;
  /** Where `ctDicom` came from (goes into the row's note). */
  ctName?: string;
  /** Radiograph PNG/JPEG files (e.g. the 64 x 64 ChestX-ray14 sample); the row is left out when absent. */
  chestImages?: Uint8Array[];
  /** Where `chestImages` came from (goes into the row's note). */
  chestName?: string;
}

/** Timing options of {@linkcode benchDataCases}. */
export interface DataBenchOptions {
  /** Timed samples per row; the median is reported (default 5). */
  samples?: number;
  /** Minimum milliseconds per sample (default 200). */
  sampleMs?: number;
  /** Output size (default 64). */
  size?: number;
}

/** A 512 x 512 head-CT phantom slice (with findings) as DICOM bytes, for when no real CT is at hand. */
export function phantomCtDicom(size = 512): Uint8Array {
  const { hu } = phantomSliceHu(
    { size, findings: ["subdural", "intraparenchymal"], supersample: 1 },
    new Rng(7),
  );
  return writeDicomCt({
    hu,
    rows: size,
    columns: size,
    sopInstanceUid: "2.25.1",
    studyInstanceUid: "2.25.2",
    seriesInstanceUid: "2.25.3",
    patientId: "bench",
    instanceNumber: 1,
  });
}

/** A smooth 512 x 512 16-bit grey PNG (compresses like a radiograph; pure noise would not). */
export function syntheticPng16(size = 512): Uint8Array {
  const img = new Rng(1).uniforms(size * size, 0, 1);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      img[y * size + x] = 0.5 + 0.3 * Math.sin(x / 40) * Math.cos(y / 50) + 0.02 * img[y * size + x];
    }
  }
  return encodePng(img, 1, size, size, { bitDepth: 16 });
}

/** Runs `one` (one image) repeatedly: `samples` samples of >= sampleMs each; median ms per image. */
async function timeImages(one: () => unknown, samples: number, sampleMs: number): Promise<number> {
  await one(); // warm-up (JIT, lazily loaded codecs, cached resize taps)
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    let n = 0;
    const t0 = performance.now();
    do {
      await one();
      n++;
    } while (performance.now() - t0 < sampleMs);
    times.push((performance.now() - t0) / n);
  }
  return median(times);
}

function row(op: string, shape: string, ms: number, note: string): BenchRow {
  return { op, shape, impl: "medsynth", ms, gflops: null, images_per_s: 1000 / ms, note };
}

/**
 * Measures the data-path rows (see the module doc). Each row: median over `samples` of the mean time per
 * image; `images_per_s` = 1000 / ms. `onRow` sees each row as it is measured.
 */
export async function benchDataCases(
  inputs: DataBenchInputs = {},
  opts: DataBenchOptions = {},
  onRow?: (r: BenchRow) => void,
): Promise<BenchRow[]> {
  const samples = opts.samples ?? 5, sampleMs = opts.sampleMs ?? 200, size = opts.size ?? 64;
  const rows: BenchRow[] = [];
  const emit = (r: BenchRow) => {
    rows.push(r);
    onRow?.(r);
  };

  const ct = inputs.ctDicom ?? phantomCtDicom();
  const ctName = inputs.ctDicom ? inputs.ctName ?? "CT DICOM" : "phantom slice written as DICOM in memory";
  const h = parseDicom(ct, ctName).header;
  const ctOpts = { windows: "rsna" as const, size };
  const ctMs = await timeImages(() => dicomToImage(ct, ctOpts, ctName), samples, sampleMs);
  emit(row(
    "dicom_decode_window_resize",
    `${h.rows}x${h.columns} -> 3x${size}x${size}`,
    ctMs,
    `${ctName}: parse + decode to HU + brain/subdural/bone windows + area resize`,
  ));

  const png = syntheticPng16();
  const shape: InputShape = { channels: 1, height: size, width: size };
  const out = new Float32Array(size * size);
  const pngMs = await timeImages(
    () => toModelInput(decodeImage(png, { channels: 1 }), shape, out),
    samples,
    sampleMs,
  );
  emit(row(
    "png16_decode_resize",
    `512x512 -> 1x${size}x${size}`,
    pngMs,
    `synthesised 16-bit grey PNG (${(png.length / 1024).toFixed(0)} KiB): decode + area resize + [-1, 1]`,
  ));

  const chest = inputs.chestImages ?? [];
  if (chest.length) {
    const first = decodeImage(chest[0], { channels: 1 });
    let k = 0;
    const chestMs = await timeImages(
      () => toModelInput(decodeImage(chest[k++ % chest.length], { channels: 1 }), shape, out),
      samples,
      sampleMs,
    );
    emit(row(
      "png_decode_resize",
      `${first.height}x${first.width} -> 1x${size}x${size}`,
      chestMs,
      `${chest.length} files of ${inputs.chestName ?? "radiograph PNGs"}: decode + resize + [-1, 1]`,
    ));
  }
  return rows;
}
