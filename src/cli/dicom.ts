/**
 * `deno task dicom FILE... [--json]`: header summary and statistics of the decoded values in modality
 * units (HU for CT; grey luma for colour) per file. Exit code 1 with a clear message on bad input.
 * @module
 */

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
      return { file, error: `${file}: cannot read the file (${(e as Error).message})` };
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

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { json: { type: "boolean", default: false }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length === 0) {
    console.log("usage: deno task dicom FILE.dcm [FILE.dcm...] [--json]");
    Deno.exit(values.help ? 0 : 1);
  }
  const reports: FileReport[] = [];
  for (const file of positionals) reports.push(await report(file));
  if (values.json) {
    console.log(JSON.stringify(positionals.length === 1 ? reports[0] : reports, null, 2));
  } else {
    for (const r of reports) (r.error ? console.error : console.log)(text(r));
  }
  Deno.exit(reports.some((r) => r.error) ? 1 : 0);
}
