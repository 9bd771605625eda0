/**
 * A labelled image folder the visitor picked in the browser (`<input type=file webkitdirectory>`) as a
 * {@linkcode Dataset}: the same rules as the CLI's loader (src/cli/_fs_dataset.ts: which CSV of the folder
 * is the label CSV, where the images are looked for, RSNA ids without extension, PNG/JPEG/DICOM decoding,
 * resizing to the model's size) and the same errors, naming the CSV line and the image. Bytes are read
 * through {@linkcode FolderFile.read}, so nothing here touches a file system or the network.
 * @module
 */
import type { Dataset } from "../data/dataset.ts";
import { decodeCsvText, type LabelTable, parseLabels } from "../data/labels.ts";
import { type DecodedImage, decodeImage, isPng, toModelInput } from "../data/png.ts";
import { isJpeg } from "../data/jpeg.ts";
import { dicomToImage } from "../data/dicom.ts";

/** One file of the picked folder. */
export interface FolderFile {
  /** Path relative to the picked folder, "/"-separated (`images/a.png`, `labels.csv`). */
  path: string;
  /** Its bytes. */
  read(): Promise<Uint8Array>;
}

/**
 * Label CSV names looked for at the top of the folder, in this order (as `deno task data` /
 * src/cli/_fs_dataset.ts LABEL_CSV_NAMES; kept in step with it).
 */
const CSV_NAMES = [
  "Data_Entry.csv",
  "Data_Entry_2017.csv",
  "Data_Entry_2017_v2020.csv",
  "train.csv",
  "labels.csv",
  "stage_2_train.csv",
];
/** Extensions tried after an RSNA image id (as the CLI's IMAGE_EXTS). */
const RSNA_EXTS = ["", ".png", ".jpg", ".jpeg", ".dcm"];

/** Paths of a `webkitdirectory` pick (`folder/sub/x.png`) relative to the picked folder (`sub/x.png`). */
export function stripTopFolder(paths: readonly string[]): string[] {
  const tops = new Set(paths.map((p) => p.split("/")[0]));
  const all = paths.every((p) => p.includes("/"));
  return tops.size === 1 && all ? paths.map((p) => p.slice(p.indexOf("/") + 1)) : [...paths];
}

/** The label CSV of a folder: a known name at its top, else its one other top-level CSV. */
export function findFolderCsv(files: readonly FolderFile[], folder = "the folder"): FolderFile {
  const top = files.filter((f) => !f.path.includes("/"));
  for (const n of CSV_NAMES) {
    const f = top.find((t) => t.path === n);
    if (f) return f;
  }
  const csvs = top.filter((f) => f.path.toLowerCase().endsWith(".csv") && f.path !== "patients.csv");
  if (csvs.length === 1) return csvs[0];
  throw new Error(
    csvs.length === 0
      ? `${folder}: no label CSV in this folder (looked for ${CSV_NAMES.join(", ")} or any *.csv)`
      : `${folder}: several CSVs (${csvs.map((c) => c.path).sort().join(", ")}); keep only the label CSV ` +
        "(and patients.csv) at the top of the folder",
  );
}

/** Reads and parses the folder's label CSV (and, for RSNA, `patients.csv` beside it). */
export async function readFolderLabels(
  files: readonly FolderFile[],
  folder = "the folder",
): Promise<{ table: LabelTable; csv: string }> {
  const csv = findFolderCsv(files, folder);
  const map = files.find((f) => f.path === "patients.csv");
  const table = parseLabels(decodeCsvText(await csv.read(), csv.path), {
    file: csv.path,
    patientMap: map ? decodeCsvText(await map.read(), map.path) : undefined,
    patientMapFile: map?.path,
  });
  return { table, csv: csv.path };
}

/** Options of {@linkcode loadFolderDataset}. */
export interface FolderLoadOptions {
  /** Square output size (the model's resolution). */
  size: number;
  /** Channels: 1 or 3 (3 = the brain/subdural/bone CT windows for DICOM). */
  channels: 1 | 3;
  /** Name of the folder, for messages. */
  folder?: string;
  /** Progress after each batch of images. */
  onProgress?: (done: number, total: number) => void;
}

/** Decodes, resizes and labels every image the folder's CSV names (stops at the first bad one). */
export async function loadFolderDataset(
  files: readonly FolderFile[],
  opts: FolderLoadOptions,
): Promise<{ dataset: Dataset; csv: string; dropped: LabelTable["dropped"] }> {
  const folder = opts.folder ?? "the folder";
  const { table, csv } = await readFolderLabels(files, folder);
  const byPath = new Map(files.map((f) => [f.path, f]));
  const bases = ["images/", ""];
  const exts = table.format === "rsna" ? RSNA_EXTS : [""];
  const windows = opts.channels === 3 ? "rsna" : table.format === "rsna" ? "brain" : "file";
  const locate = (source: string): FolderFile | null => {
    const clean = source.replace(/^\.\//, "");
    for (const b of bases) {
      for (const e of exts) {
        const f = byPath.get(b + clean + e);
        if (f) return f;
      }
    }
    return null;
  };
  const R = opts.size, C = opts.channels, sz = C * R * R, entries = table.entries;
  const images = new Float32Array(entries.length * sz);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const fail = (reason: string): never => {
      throw new Error(`${csv} line ${e.line}: image "${e.source}": ${reason}`);
    };
    const f = locate(e.source);
    if (!f) {
      fail(
        `file not found (looked in ${folder}/images and ${folder}` +
          `${
            exts.length > 1 ? ` with extensions ${exts.filter(Boolean).join("/")}` : ""
          }); fix the path in ` +
          "the CSV or pick the folder that holds the CSV and the images",
      );
    }
    const bytes = await f!.read();
    let img: DecodedImage;
    try {
      if (isPng(bytes) || isJpeg(bytes)) img = decodeImage(bytes, { channels: C, name: f!.path });
      else if (table.format === "rsna" || looksLikeDicom(bytes, f!.path)) {
        const t = await dicomToImage(bytes, { windows, channels: C }, f!.path);
        img = { data: t.data, channels: t.channels, height: t.height, width: t.width, bitDepth: 16 };
      } else {
        throw new Error(
          `${f!.path}: not a PNG, JPEG or DICOM file (unknown signature, no "DICM" marker); ` +
            "check that the CSV names the right file, or re-export it",
        );
      }
      toModelInput(img, { channels: C, height: R, width: R }, images.subarray(i * sz, (i + 1) * sz));
    } catch (err) {
      fail((err as Error).message);
    }
    if (i % 32 === 31 || i === entries.length - 1) {
      opts.onProgress?.(i + 1, entries.length);
      await new Promise((r) => setTimeout(r, 0)); // keep the page responsive
    }
  }
  const L = table.labelNames.length, labels = new Uint8Array(entries.length * L);
  entries.forEach((e, i) => labels.set(e.labels, i * L));
  return {
    dataset: {
      images,
      n: entries.length,
      channels: C,
      height: R,
      width: R,
      labels,
      labelNames: table.labelNames,
      patientIds: entries.map((e) => e.patientId),
      sources: entries.map((e) => e.source),
      format: table.format,
    },
    csv,
    dropped: table.dropped,
  };
}

/** A DICOM Part-10 file ("DICM" after the 128-byte preamble) or a file named *.dcm. */
function looksLikeDicom(b: Uint8Array, file: string): boolean {
  const dicm = b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
  return dicm || /\.dcm$/i.test(file);
}
