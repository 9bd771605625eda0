/**
 * Deno-only dataset loading from disk: find the label CSV of a folder, read it, decode and resize every
 * image it names (PNG, JPEG, or DICOM through CT windows) into a {@linkcode Dataset}, and cache the result
 * per resolution in `.medsynth-cache/` (uint8/uint16, written atomically, reused while the CSV, its mtime
 * and the options match).
 * Also writes export folders atomically.
 * @module
 */
import { basename, dirname, isAbsolute, join, normalize, relative, resolve } from "node:path";
import type { Dataset } from "../data/dataset.ts";
import { decodeCsvText, type LabelOptions, type LabelTable, parseLabels } from "../data/labels.ts";
import { type DecodedImage, decodeImage, isPng, toModelInput } from "../data/png.ts";
import { isJpeg } from "../data/jpeg.ts";
import { DicomError, dicomToImage } from "../data/dicom.ts";
import type { CtWindow } from "../data/window.ts";
import {
  CACHE_VERSION,
  type CacheDtype,
  decodeDatasetCache,
  encodeDatasetCache,
  quantizeImages,
  readCacheHeader,
  stableKey,
} from "../data/cache.ts";
import type { ExportFile } from "../data/export.ts";
import { writeFileAtomic } from "./_atomic.ts";

/** CSV names looked for, in this order, when given a folder. */
export const LABEL_CSV_NAMES: readonly string[] = [
  "Data_Entry.csv",
  "Data_Entry_2017.csv",
  "Data_Entry_2017_v2020.csv",
  "train.csv",
  "labels.csv",
  "stage_2_train.csv",
];

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** The label CSV for `path`: the file itself, or the one label CSV inside a folder. */
export async function findLabelCsv(path: string): Promise<string> {
  const st = await statOrNull(path);
  if (!st) throw new Error(`${path}: no such file or folder`);
  if (st.isFile) return path;
  for (const n of LABEL_CSV_NAMES) if ((await statOrNull(join(path, n)))?.isFile) return join(path, n);
  const csvs: string[] = [];
  for await (const e of Deno.readDir(path)) {
    if (e.isFile && e.name.toLowerCase().endsWith(".csv") && e.name !== "patients.csv") csvs.push(e.name);
  }
  if (csvs.length === 1) return join(path, csvs[0]);
  throw new Error(
    csvs.length === 0
      ? `${path}: no label CSV in this folder (looked for ${LABEL_CSV_NAMES.join(", ")} or any *.csv)`
      : `${path}: several CSVs (${csvs.sort().join(", ")}); name the label CSV instead of the folder`,
  );
}

/** Options of {@linkcode readLabelTable}. */
export interface ReadLabelsOptions extends Omit<LabelOptions, "patientMap" | "patientMapFile" | "file"> {
  /** RSNA: image -> patient CSV (default: `patients.csv` beside the label CSV when present). */
  patientMapPath?: string;
}

/** Reads and parses the label CSV of `path` (file or folder). */
export async function readLabelTable(
  path: string,
  opts: ReadLabelsOptions = {},
): Promise<{ table: LabelTable; csvPath: string; patientMapPath: string | null }> {
  const csvPath = await findLabelCsv(path);
  const text = decodeCsvText(await Deno.readFile(csvPath), csvPath);
  let patientMapPath: string | null = opts.patientMapPath ?? null;
  if (!patientMapPath) {
    const p = join(dirname(csvPath), "patients.csv");
    if ((await statOrNull(p))?.isFile) patientMapPath = p;
  }
  // only RSNA reads the map; other formats ignore it
  const patientMap = patientMapPath
    ? decodeCsvText(await Deno.readFile(patientMapPath), patientMapPath)
    : undefined;
  const table = parseLabels(text, {
    ...opts,
    file: csvPath,
    patientMap,
    patientMapFile: patientMapPath ?? undefined,
  });
  return { table, csvPath, patientMapPath: table.format === "rsna" ? patientMapPath : null };
}

/** An image that was skipped (with `skipBad`). */
export interface Skipped {
  /** The CSV reference. */
  source: string;
  /** CSV line. */
  line: number;
  /** What went wrong. */
  reason: string;
}

/**
 * How DICOM slices become channels: one named window ("brain" 40/80, "subdural" 80/200, "bone" 600/2800
 * HU), the file's own window ("file"; min–max when it has none), the slice's "minmax", an explicit
 * {center, width} in HU, or "rsna" = brain, subdural and bone as three channels.
 */
export type DicomWindows = "brain" | "subdural" | "bone" | "file" | "minmax" | "rsna" | CtWindow;

/** Options of {@linkcode loadDataset}. */
export interface LoadOptions extends ReadLabelsOptions {
  /** Output size: a number for square images or [height, width]; default: the first image's size. */
  size?: number | [number, number];
  /**
   * Channels: 1 (grey) or 3 (RGB / CT windows); default 3 with `windows: "rsna"`, 1 with another
   * window, else 3 for RSNA CSVs and 1 otherwise.
   */
  channels?: 1 | 3;
  /**
   * DICOM windows (see {@linkcode DicomWindows}); default "rsna" for 3 channels, and for 1 channel
   * "brain" (RSNA CSVs) or "file" (other formats). One window with 3 channels is repeated.
   */
  windows?: DicomWindows;
  /** Skip images that are missing, fail to decode or have another size, and list them (default: stop). */
  skipBad?: boolean;
  /** Use/write the cache (default true). */
  cache?: boolean;
  /** Cache folder (default `<csv folder>/.medsynth-cache`). */
  cacheDir?: string;
  /** Folder the image paths are relative to (default: tries `<csv folder>/images`, the CSV folder, its parent). */
  imagesDir?: string;
  /**
   * Decoder for bytes that are not PNG/JPEG, replacing the built-in DICOM decoding (windows, see
   * `windows`); values in [0, 1].
   */
  decode?: (bytes: Uint8Array, name: string, channels: 1 | 3) => DecodedImage | Promise<DecodedImage>;
  /** Progress callback. */
  onProgress?: (done: number, total: number) => void;
}

/** Result of {@linkcode loadDataset}. */
export interface LoadResult {
  /** The dataset (quantised to the cache grid when caching is on, so hits and misses agree). */
  dataset: Dataset;
  /** The label CSV used. */
  csvPath: string;
  /** Rows dropped by the format's rules (CheXpert lateral / no positive). */
  dropped: LabelTable["dropped"];
  /** Images skipped with `skipBad`. */
  skipped: Skipped[];
  /** Cache outcome: reused, written, off, or could not be written (with the reason). */
  cache: { status: "hit" | "written" | "off" | "unwritable"; path?: string; reason?: string };
}

/** Extensions tried after an RSNA image id (its CSV names images without one). */
export const IMAGE_EXTS: readonly string[] = ["", ".png", ".jpg", ".jpeg", ".dcm"];

/**
 * The channels and DICOM windows a load uses (see {@linkcode LoadOptions}): "rsna" means 3 channels, one
 * window 1 channel; with neither given, RSNA CSVs get 3 channels (rsna windows), others 1 (the file's
 * window).
 */
export function channelsAndWindows(
  format: LabelTable["format"],
  channels?: 1 | 3,
  windows?: DicomWindows,
): { channels: 1 | 3; windows: DicomWindows } {
  const ch = channels ?? (windows === "rsna" ? 3 : windows !== undefined ? 1 : format === "rsna" ? 3 : 1);
  if (windows === "rsna" && ch !== 3) {
    throw new Error(`windows "rsna" gives 3 channels (brain, subdural, bone); use 3 channels or one window`);
  }
  if (typeof windows === "object" && !(windows.width > 0 && Number.isFinite(windows.center))) {
    throw new Error(`window ${JSON.stringify(windows)}: width must be > 0 and center finite`);
  }
  return { channels: ch, windows: windows ?? (ch === 3 ? "rsna" : format === "rsna" ? "brain" : "file") };
}

/** FNV-1a 32-bit hash as 8 hex digits (cache file names). */
function hash8(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** Loads a labelled image set from a folder or CSV into a Dataset (with cache). */
export async function loadDataset(path: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const { table, csvPath, patientMapPath } = await readLabelTable(path, opts);
  const csvDir = dirname(resolve(csvPath));
  const { channels, windows: dicomWindows } = channelsAndWindows(table.format, opts.channels, opts.windows);
  const size: [number, number] | null = opts.size === undefined
    ? null
    : typeof opts.size === "number"
    ? [opts.size, opts.size]
    : opts.size;
  if (size && !(size[0] >= 1 && size[1] >= 1 && Number.isInteger(size[0]) && Number.isInteger(size[1]))) {
    throw new Error(`size must be positive integers, got ${size.join("x")}`);
  }

  const useCache = opts.cache ?? true;
  const csvStat = await Deno.stat(csvPath);
  const mapStat = patientMapPath ? await Deno.stat(patientMapPath) : null;
  const key = {
    version: CACHE_VERSION,
    csv: resolve(csvPath),
    csvSize: csvStat.size,
    csvMtime: csvStat.mtime?.getTime() ?? null,
    patientMap: patientMapPath ? resolve(patientMapPath) : null,
    patientMapMtime: mapStat?.mtime?.getTime() ?? null,
    format: table.format,
    size: size ?? "native",
    channels,
    windows: opts.decode ? "custom decode" : dicomWindows,
    uncertain: opts.uncertain ?? "positive",
    dropNoPositive: opts.dropNoPositive ?? true,
    pathColumn: opts.pathColumn ?? null,
    patientColumn: opts.patientColumn ?? null,
    imagesDir: opts.imagesDir ? resolve(opts.imagesDir) : null,
    skipBad: !!opts.skipBad,
  };
  const cacheDir = opts.cacheDir ?? join(csvDir, ".medsynth-cache");
  const sizeTag = size ? `${size[0]}x${size[1]}` : "native";
  const cachePath = join(
    cacheDir,
    `${basename(csvPath)}.${sizeTag}c${channels}.${hash8(stableKey(key))}.msdc`,
  );
  const base = { csvPath, dropped: table.dropped };

  if (useCache) {
    const hit = await tryReadCache(cachePath, key);
    if (hit) {
      return {
        ...base,
        dataset: hit.dataset,
        skipped: hit.skipped,
        cache: { status: "hit", path: cachePath },
      };
    }
  }

  const bases = opts.imagesDir
    ? [resolve(opts.imagesDir)]
    : [join(csvDir, "images"), csvDir, dirname(csvDir)];
  let preferred = 0;
  /** Whether `p` lies inside one of the dataset's folders (a CSV must not point at other files). */
  const inside = (p: string) =>
    bases.some((b) => {
      const r = relative(b, resolve(p));
      return r !== "" && !r.startsWith("..") && !isAbsolute(r);
    });
  const locate = async (source: string): Promise<string | null | { outside: string }> => {
    const target = isAbsolute(source) ? source : join(bases[0], source);
    if (!inside(target) && (isAbsolute(source) || !bases.some((b) => inside(join(b, source))))) {
      return { outside: resolve(target) };
    }
    if (isAbsolute(source)) return (await statOrNull(source))?.isFile ? source : null;
    const exts = table.format === "rsna" ? IMAGE_EXTS : [""];
    const order = [preferred, ...bases.keys()].filter((b, i, a) => a.indexOf(b) === i);
    for (const b of order) {
      for (const ext of exts) {
        const p = join(bases[b], source + ext);
        if (inside(p) && (await statOrNull(p))?.isFile) {
          preferred = b;
          return p;
        }
      }
    }
    return null;
  };

  const entries = table.entries;
  const skipped: Skipped[] = [];
  const kept: number[] = [];
  let images = new Float32Array(0);
  let shape: [number, number] | null = size;
  let sz = 0;
  let maxDepth = 8;
  const fail = (i: number, reason: string, cause?: unknown) => {
    const e = entries[i];
    if (!opts.skipBad) {
      const msg = `${csvPath} line ${e.line}: image "${e.source}": ${reason}`;
      if (cause instanceof DicomError) {
        // keep the class (and .file) so callers can tell a bad DICOM file from other failures
        const err = new DicomError(cause.file, "");
        err.message = msg;
        err.cause = cause;
        throw err;
      }
      throw new Error(msg, cause === undefined ? undefined : { cause });
    }
    skipped.push({ source: e.source, line: e.line, reason });
  };
  const decodeDicom = async (bytes: Uint8Array, file: string): Promise<DecodedImage> => {
    const t = await dicomToImage(bytes, { windows: dicomWindows, channels }, file);
    // windowed values are continuous: cache them at 16 bits
    return { data: t.data, channels: t.channels, height: t.height, width: t.width, bitDepth: 16 };
  };
  const read = async (i: number): Promise<{ file: string; bytes: Uint8Array } | { error: string }> => {
    const file = await locate(entries[i].source);
    if (file && typeof file === "object") {
      return {
        error:
          `the path leads outside the dataset folder (to ${file.outside}); image paths in the CSV must ` +
          `stay inside ${bases.join(" or ")}`,
      };
    }
    if (!file) {
      const exts = table.format === "rsna" ? ` with extensions ${IMAGE_EXTS.filter(Boolean).join("/")}` : "";
      return {
        error: `file not found (looked in ${bases.join(", ")}${exts}); fix the path in the CSV, ` +
          "point the images folder at it (--images DIR), or skip missing files (--skip-bad)",
      };
    }
    try {
      return { file, bytes: await Deno.readFile(file) };
    } catch (e) {
      return { error: `cannot read ${file}: ${(e as Error).message}` };
    }
  };
  const BATCH = 32; // overlap file reads with decoding
  let next = Promise.all(Array.from({ length: Math.min(BATCH, entries.length) }, (_, k) => read(k)));
  for (let start = 0; start < entries.length; start += BATCH) {
    const got = await next;
    const nextStart = start + BATCH;
    if (nextStart < entries.length) {
      const cnt = Math.min(BATCH, entries.length - nextStart);
      next = Promise.all(Array.from({ length: cnt }, (_, k) => read(nextStart + k)));
    }
    for (let k = 0; k < got.length; k++) {
      const i = start + k, r = got[k];
      if ("error" in r) {
        fail(i, r.error);
        continue;
      }
      let img: DecodedImage;
      try {
        const pngOrJpeg = isPng(r.bytes) || isJpeg(r.bytes);
        if (pngOrJpeg) img = decodeImage(r.bytes, { channels, name: r.file });
        else if (opts.decode) img = await opts.decode(r.bytes, r.file, channels);
        else if (table.format === "rsna" || looksLikeDicom(r.bytes, r.file)) {
          img = await decodeDicom(r.bytes, r.file);
        } else {
          throw new Error(
            `${r.file}: not a PNG, JPEG or DICOM file (unknown signature, no "DICM" marker); ` +
              "check that the CSV names the right file, or re-export it",
          );
        }
      } catch (e) {
        fail(i, (e as Error).message, e);
        continue;
      }
      if (!shape) shape = [img.height, img.width];
      if (!size && (img.height !== shape[0] || img.width !== shape[1])) {
        fail(
          i,
          `${r.file} is ${img.height}x${img.width}, the first image was ${shape[0]}x${shape[1]}; pass a size`,
        );
        continue;
      }
      if (sz === 0) {
        sz = channels * shape[0] * shape[1];
        images = new Float32Array(entries.length * sz); // (N, C, H, W), trimmed after skips
      }
      toModelInput(
        img,
        { channels, height: shape[0], width: shape[1] },
        images.subarray(kept.length * sz, (kept.length + 1) * sz),
      );
      maxDepth = Math.max(maxDepth, img.bitDepth);
      kept.push(i);
    }
    opts.onProgress?.(Math.min(nextStart, entries.length), entries.length);
  }
  if (kept.length === 0 || !shape) {
    throw new Error(
      `${csvPath}: no image could be loaded (${skipped.length} skipped; first: line ${skipped[0]?.line} ` +
        `"${skipped[0]?.source}": ${skipped[0]?.reason})`,
    );
  }
  const L = table.labelNames.length;
  const labels = new Uint8Array(kept.length * L);
  kept.forEach((i, r) => labels.set(entries[i].labels, r * L));
  const dataset: Dataset = {
    images: images.slice(0, kept.length * sz),
    n: kept.length,
    channels,
    height: shape[0],
    width: shape[1],
    labels,
    labelNames: table.labelNames,
    patientIds: kept.map((i) => entries[i].patientId),
    sources: kept.map((i) => entries[i].source),
    format: table.format,
  };
  if (!useCache) return { ...base, dataset, skipped, cache: { status: "off" } };

  const dtype: CacheDtype = maxDepth > 8 ? "uint16" : "uint8";
  quantizeImages(dataset.images, dtype);
  try {
    await writeFileAtomic(cachePath, encodeDatasetCache(dataset, dtype, { source: key, skipped }));
    return { ...base, dataset, skipped, cache: { status: "written", path: cachePath } };
  } catch (e) {
    return {
      ...base,
      dataset,
      skipped,
      cache: { status: "unwritable", path: cachePath, reason: (e as Error).message },
    };
  }
}

/** A DICOM Part-10 file ("DICM" after the 128-byte preamble) or a file named *.dcm. */
function looksLikeDicom(b: Uint8Array, file: string): boolean {
  const dicm = b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
  return dicm || /\.dcm$/i.test(file);
}

async function tryReadCache(
  path: string,
  key: unknown,
): Promise<{ dataset: Dataset; skipped: Skipped[] } | null> {
  try {
    // compare keys on the header alone before reading a possibly large file
    const f = await Deno.open(path);
    let head: Uint8Array;
    try {
      const fixed = await readExactly(f, 12);
      const len = new DataView(fixed.buffer).getUint32(8, true);
      head = new Uint8Array(12 + len);
      head.set(fixed);
      head.set(await readExactly(f, len), 12);
    } finally {
      f.close();
    }
    const stored = readCacheHeader(head, path).header.key as { source?: unknown } | null;
    if (!stored || stableKey(stored.source) !== stableKey(key)) return null;
    const { dataset, key: full } = decodeDatasetCache(await Deno.readFile(path), path);
    return { dataset, skipped: (full as { skipped?: Skipped[] }).skipped ?? [] };
  } catch {
    return null; // missing, corrupt or foreign: rebuilt, never fatal
  }
}

async function readExactly(f: Deno.FsFile, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    const r = await f.read(buf.subarray(off));
    if (r === null) throw new Error("unexpected end of file");
    off += r;
  }
  return buf;
}

/**
 * Writes an export folder atomically: all files go into a temporary sibling folder that is renamed to
 * `outDir` at the end, so readers never see half an export. Refuses to replace a non-empty `outDir`
 * unless `overwrite`.
 */
export async function writeExportFolder(
  outDir: string,
  files: readonly ExportFile[],
  opts: { overwrite?: boolean } = {},
): Promise<void> {
  for (const f of files) {
    const n = normalize(f.path);
    if (isAbsolute(f.path) || n.startsWith("..")) {
      throw new Error(`export: file path "${f.path}" leaves the folder`);
    }
  }
  const existing = await statOrNull(outDir);
  if (existing) {
    let empty = true;
    if (existing.isDirectory) { for await (const _ of Deno.readDir(outDir)) empty = false; }
    if (!empty || !existing.isDirectory) {
      if (!opts.overwrite) {
        throw new Error(`${outDir} exists and is not empty; choose another folder or overwrite`);
      }
    }
  }
  const tmp = `${outDir.replace(/[\\/]+$/, "")}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    for (const f of files) {
      const p = join(tmp, f.path);
      await Deno.mkdir(dirname(p), { recursive: true });
      await Deno.writeFile(p, f.bytes);
    }
    if (existing) await Deno.remove(outDir, { recursive: true });
    await Deno.rename(tmp, outDir);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}
