/**
 * `deno task dicom FILE|FOLDER... [--json]`: header summary and statistics of the decoded values in
 * modality units (HU for CT; grey luma for colour) per file; a folder means its *.dcm files. Exit code 1
 * with a clear message when a file is bad, 2 on a usage error.
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  decodeFrames,
  DicomError,
  type DicomHeader,
  frameStats,
  parseDicom,
  type ValueStats,
} from "../data/dicom.ts";

/** The report of one file. */
interface FileReport {
  file: string;
  header?: DicomHeader;
  stats?: Omit<ValueStats, "count"> & { units: string };
  error?: string;
}

/** Reads, parses and decodes one file; every failure becomes `error`. */
async function report(file: string): Promise<FileReport> {
  try {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
      return { file, error: `${file}: cannot read the file (${why})` };
    }
    const img = parseDicom(bytes, file);
    const frames = await decodeFrames(img);
    const { min, max, mean, std } = frameStats(frames);
    const h = img.header;
    const units = h.samplesPerPixel > 1 || h.photometric === "PALETTE COLOR"
      ? "grey luma of the colour values"
      : h.modality === "CT"
      ? "HU"
      : "modality units (after rescale)";
    return { file, header: h, stats: { min, max, mean, std, units } };
  } catch (e) {
    if (e instanceof DicomError) return { file, error: e.message };
    return { file, error: `${file}: unexpected error: ${(e as Error)?.message ?? e}` };
  }
}

/** Human-readable lines of one report. */
function text(r: FileReport): string {
  if (r.error) return `error: ${r.error}`;
  const h = r.header!, s = r.stats!;
  const win = h.windows.length ? h.windows.map((w) => `${w.center}/${w.width}`).join(", ") : "none";
  const f = (v: number) => Number.isInteger(v) ? String(v) : v.toFixed(3);
  return [
    r.file,
    `  modality        ${h.modality || "-"}`,
    `  transfer syntax ${h.transferSyntax.name} (${h.transferSyntax.uid})`,
    `  size            ${h.rows} x ${h.columns}, ${h.frames} frame(s), ${h.samplesPerPixel} sample(s)/pixel`,
    `  photometric     ${h.photometric}`,
    `  bits            allocated ${h.bitsAllocated}, stored ${h.bitsStored}, high bit ${h.highBit}, ` +
    `${h.pixelRepresentation ? "signed" : "unsigned"}`,
    `  rescale         slope ${h.slope}, intercept ${h.intercept}`,
    `  windows         ${win}`,
    `  values (${s.units}): min ${f(s.min)}, max ${f(s.max)}, mean ${f(s.mean)}, std ${f(s.std)}`,
  ].join("\n");
}

/** The files to report: each argument, or the *.dcm files (sorted) of a folder argument. */
async function expand(args: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    let dir = false;
    try {
      dir = (await Deno.stat(a)).isDirectory;
    } catch { /* missing: reported as a bad file */ }
    if (!dir) {
      out.push(a);
      continue;
    }
    const names: string[] = [];
    for await (const e of Deno.readDir(a)) if (e.isFile && /\.dcm$/i.test(e.name)) names.push(e.name);
    if (names.length === 0) throw new Error(`${a}: a folder with no *.dcm files; name the DICOM files`);
    out.push(...names.sort().map((n) => join(a, n)));
  }
  return out;
}

const USAGE = "usage: deno task dicom FILE.dcm|FOLDER [...] [--json]";

if (import.meta.main) {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      options: { json: { type: "boolean", default: false }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    (values.help ? console.log : console.error)(USAGE);
    Deno.exit(values.help ? 0 : 2);
  }
  let files: string[];
  try {
    files = await expand(positionals);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(2);
  }
  const reports: FileReport[] = [];
  for (const file of files) reports.push(await report(file));
  if (values.json) {
    const single = files.length === 1 && positionals.length === 1 && files[0] === positionals[0];
    console.log(JSON.stringify(single ? reports[0] : reports, null, 2));
  } else {
    for (const r of reports) (r.error ? console.error : console.log)(text(r));
  }
  Deno.exit(reports.some((r) => r.error) ? 1 : 0);
}
