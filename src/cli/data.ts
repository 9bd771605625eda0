/**
 * `deno task data <command> PATH [options]`: inspect and prepare labelled image sets.
 *
 * - `stats PATH`: per-label counts, unique label combinations, images per combination (top ones),
 *   patients, images; the format is detected from the CSV header. `--json` prints JSON.
 *   `--split` adds the patient-level split sizes (`--seed`), `--check` decodes every image and lists
 *   the bad ones.
 * - `cache PATH --size N`: decodes, resizes and caches the set (`.medsynth-cache/` or `--cache DIR`).
 * - `bench PATH [--size N]`: decode + resize throughput on the set's first 200 images (PNG/JPEG; DICOM
 *   with its windows) and on synthesised 512x512 8- and 16-bit PNGs.
 *
 * PATH is a label CSV or a folder holding one (Data_Entry.csv, train.csv, labels.csv, ...). DICOM images
 * (RSNA `ID_<image>_<subtype>,Label` CSVs, or *.dcm paths) go through CT windows: `--windows brain` (one
 * channel), `rsna` (brain/subdural/bone, three channels), `subdural`, `bone`, `file` (the file's own),
 * `minmax` or `C/W` (centre/width in HU, e.g. `40/80`).
 */
import { parseArgs } from "node:util";
import type { LabelFormat } from "../data/labels.ts";
import { describe, type LabelStats, labelStats } from "../data/subset.ts";
import { splitByPatient } from "../data/split.ts";
import { benchDecodeResize, encodePng, isPng } from "../data/png.ts";
import { isJpeg } from "../data/jpeg.ts";
import { dicomToImage } from "../data/dicom.ts";
import { Rng } from "../util/rng.ts";
import {
  channelsAndWindows,
  type DicomWindows,
  IMAGE_EXTS,
  loadDataset,
  type LoadOptions,
  readLabelTable,
} from "./_fs_dataset.ts";

const USAGE =
  `usage: deno task data stats PATH [--format auto|chestxray14|chexpert|rsna|plain] [--json] [--top N]
                       [--split] [--seed N] [--check] [--channels 1|3]
       deno task data cache PATH --size N [--channels 1|3] [--skip-bad] [--cache DIR] [--format F]
       deno task data bench PATH [--size N]
common: [--images DIR] [--patients CSV] [--uncertain positive|negative] [--keep-no-positive]
        [--windows brain|rsna|subdural|bone|file|minmax|C/W]   (DICOM: CT windows, C/W in HU e.g. 40/80)`;

const NAMED_WINDOWS = ["brain", "subdural", "bone", "file", "minmax", "rsna"];

/** Parses --windows: a named window, "rsna", or centre/width in HU. */
function parseWindows(v: string | undefined): DicomWindows | undefined {
  if (v === undefined) return undefined;
  if (NAMED_WINDOWS.includes(v)) return v as DicomWindows;
  const m = /^(-?\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(v);
  if (m && Number(m[2]) > 0) return { center: Number(m[1]), width: Number(m[2]) };
  throw new Error(
    `--windows must be one of ${NAMED_WINDOWS.join(", ")} or CENTER/WIDTH in HU (e.g. 40/80, width > 0), ` +
      `got "${v}"`,
  );
}

const FORMATS = ["auto", "chestxray14", "chexpert", "rsna", "plain"];

function printStats(s: LabelStats, top: number): void {
  console.log(`images: ${s.images}`);
  console.log(`patients: ${s.patients}`);
  console.log(`images with no positive label: ${s.noLabel}`);
  console.log(`unique label combinations: ${s.uniqueCombinations}`);
  console.log("\nper label:");
  const w = Math.max(...s.labelNames.map((n) => n.length));
  s.labelNames.forEach((n, j) => console.log(`  ${n.padEnd(w)}  ${String(s.perLabel[j]).padStart(7)}`));
  console.log(
    `\nimages per combination (top ${Math.min(top, s.combinations.length)} of ${s.combinations.length}):`,
  );
  for (const c of s.combinations.slice(0, top)) {
    console.log(`  ${String(c.count).padStart(7)}  ${describe(c.key, s.labelNames)}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const { values: a, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: "string", default: "auto" },
      json: { type: "boolean", default: false },
      top: { type: "string", default: "10" },
      split: { type: "boolean", default: false },
      seed: { type: "string", default: "0" },
      check: { type: "boolean", default: false },
      size: { type: "string" },
      channels: { type: "string" },
      windows: { type: "string" },
      "skip-bad": { type: "boolean", default: false },
      cache: { type: "string" },
      images: { type: "string" },
      patients: { type: "string" },
      uncertain: { type: "string", default: "positive" },
      "keep-no-positive": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [cmd, path] = positionals;
  if (a.help || !cmd) {
    console.log(USAGE);
    return a.help ? 0 : 2;
  }
  if (!path || positionals.length > 2) throw new Error(`expected one PATH\n${USAGE}`);
  if (!FORMATS.includes(a.format!)) throw new Error(`--format must be one of ${FORMATS.join(", ")}`);
  if (a.uncertain !== "positive" && a.uncertain !== "negative") {
    throw new Error(`--uncertain must be positive or negative`);
  }
  const int = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) {
      throw new Error(`--${name} must be a non-negative integer, got "${v}"`);
    }
    return n;
  };
  const channels = int(a.channels, "channels");
  if (channels !== undefined && channels !== 1 && channels !== 3) {
    throw new Error("--channels must be 1 or 3");
  }
  const opts: LoadOptions = {
    format: a.format as LabelFormat | "auto",
    uncertain: a.uncertain,
    dropNoPositive: !a["keep-no-positive"],
    patientMapPath: a.patients,
    imagesDir: a.images,
    channels: channels as 1 | 3 | undefined,
    windows: parseWindows(a.windows),
    cacheDir: a.cache,
    skipBad: a["skip-bad"],
  };

  if (cmd === "stats") {
    const { table, csvPath, patientMapPath } = await readLabelTable(path, opts);
    const L = table.labelNames.length;
    const labels = new Uint8Array(table.entries.length * L);
    table.entries.forEach((e, i) => labels.set(e.labels, i * L));
    const patientIds = table.entries.map((e) => e.patientId);
    const stats = labelStats(labels, table.labelNames, patientIds);
    const out: Record<string, unknown> = {
      csv: csvPath,
      format: table.format,
      patientMap: patientMapPath,
      dropped: table.dropped.length,
      ...stats,
    };
    if (a.split) {
      const sp = splitByPatient(patientIds, { seed: int(a.seed, "seed") });
      out.split = Object.fromEntries(
        (["train", "valid", "test"] as const).map((s) => [s, {
          images: sp[s].length,
          patients: new Set(sp[s].map((i) => patientIds[i])).size,
        }]),
      );
    }
    if (a.check) {
      const res = await loadDataset(path, { ...opts, skipBad: true, cache: false });
      out.check = { loaded: res.dataset.n, skipped: res.skipped };
    }
    // --check fails (exit 1) when any image is missing, unreadable or bad: scripts can gate on it
    const checkFailed = a.check && (out.check as { skipped: unknown[] }).skipped.length > 0 ? 1 : 0;
    if (a.json) {
      console.log(JSON.stringify(out, null, 2));
      return checkFailed;
    }
    console.log(`${csvPath} (${table.format})`);
    if (patientMapPath) console.log(`patients from ${patientMapPath}`);
    if (table.dropped.length) {
      const why = new Map<string, number>();
      for (const d of table.dropped) why.set(d.reason, (why.get(d.reason) ?? 0) + 1);
      console.log(`rows dropped: ${[...why].map(([r, c]) => `${c} ${r}`).join(", ")}`);
    }
    printStats(stats, int(a.top, "top")!);
    if (out.split) {
      console.log("\npatient-level split (seed " + a.seed + "):");
      for (
        const [s, v] of Object.entries(out.split as Record<string, { images: number; patients: number }>)
      ) {
        console.log(
          `  ${s.padEnd(5)}  ${String(v.images).padStart(7)} images  ${
            String(v.patients).padStart(6)
          } patients`,
        );
      }
    }
    if (out.check) {
      const c = out.check as { loaded: number; skipped: { source: string; line: number; reason: string }[] };
      console.log(`\ncheck: ${c.loaded} images decoded, ${c.skipped.length} bad`);
      for (const s of c.skipped) console.log(`  line ${s.line} ${s.source}: ${s.reason}`);
      if (checkFailed) {
        console.error(`check failed: ${c.skipped.length} image(s) cannot be used (listed above)`);
      }
    }
    return checkFailed;
  }
  if (cmd === "cache") {
    const size = int(a.size, "size");
    if (!size) throw new Error("cache needs --size N (the resolution to cache)");
    const t0 = performance.now();
    const res = await loadDataset(path, {
      ...opts,
      size,
      onProgress: (d, t) =>
        Deno.stdout.isTerminal() && Deno.stdout.writeSync(new TextEncoder().encode(`\r${d}/${t}`)),
    });
    if (Deno.stdout.isTerminal()) console.log();
    const d = res.dataset;
    console.log(
      `${d.n} images ${d.channels}x${d.height}x${d.width} (${res.csvPath}) in ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s; cache ${res.cache.status}: ${res.cache.path}` +
        (res.cache.reason ? ` (${res.cache.reason})` : ""),
    );
    if (res.skipped.length) {
      console.log(`skipped ${res.skipped.length}:`);
      for (const s of res.skipped) console.log(`  line ${s.line} ${s.source}: ${s.reason}`);
    }
    return res.cache.status === "unwritable" ? 1 : 0;
  }
  if (cmd === "bench") {
    const size = int(a.size, "size") ?? 64;
    const { table, csvPath } = await readLabelTable(path, opts);
    const dir = csvPath.replace(/[^\\/]*$/, "");
    const files: Uint8Array[] = [];
    const exts = table.format === "rsna" ? IMAGE_EXTS : [""];
    for (const e of table.entries.slice(0, 200)) {
      find: for (const p of [`${dir}images/${e.source}`, `${dir}${e.source}`]) {
        for (const ext of exts) {
          try {
            files.push(await Deno.readFile(p + ext));
            break find;
          } catch { /* try the next location */ }
        }
      }
    }
    if (!files.length) {
      throw new Error(`${csvPath}: none of the first 200 images was found (in ${dir}images/ or ${dir})`);
    }
    const shape = { channels: 1 as const, height: size, width: size };
    const raster = files.filter((b) => isPng(b) || isJpeg(b));
    const dicom = files.filter((b) => !isPng(b) && !isJpeg(b));
    if (raster.length) {
      const r1 = benchDecodeResize(raster, shape, 2);
      console.log(
        `${raster.length} files from ${csvPath} -> ${size}x${size}: ${
          r1.imagesPerSecond.toFixed(0)
        } images/s`,
      );
    }
    if (dicom.length) {
      const cw = channelsAndWindows(table.format, opts.channels, opts.windows);
      const dopts = { windows: cw.windows, channels: cw.channels, size };
      for (const b of dicom.slice(0, 2)) await dicomToImage(b, dopts, "bench"); // warm-up
      let n = 0;
      const t0 = performance.now();
      do {
        for (let k = 0; k < dicom.length; k++) await dicomToImage(dicom[k], dopts, `image ${k}`), n++;
      } while (performance.now() - t0 < 2000);
      console.log(
        `${dicom.length} DICOM files from ${csvPath} -> ${cw.channels}x${size}x${size} (windows ` +
          `${JSON.stringify(cw.windows)}): ${(n / ((performance.now() - t0) / 1000)).toFixed(1)} images/s`,
      );
    }
    const big = new Rng(1).uniforms(512 * 512, 0, 1);
    // smooth content compresses like a radiograph; pure noise would not
    for (let y = 0; y < 512; y++) {
      for (let x = 0; x < 512; x++) {
        big[y * 512 + x] = 0.5 + 0.3 * Math.sin(x / 40) * Math.cos(y / 50) + 0.02 * big[y * 512 + x];
      }
    }
    for (const depth of [8, 16] as const) {
      const png = encodePng(big, 1, 512, 512, { bitDepth: depth });
      const r = benchDecodeResize([png], shape, 2);
      console.log(
        `512x512 ${depth}-bit grey PNG (${(png.length / 1024).toFixed(0)} KiB) -> ${size}x${size}: ${
          r.imagesPerSecond.toFixed(1)
        } images/s`,
      );
    }
    return 0;
  }
  throw new Error(`unknown command "${cmd}"\n${USAGE}`);
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}

export { main };
