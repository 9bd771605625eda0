/**
 * Synthetic dataset export: PNGs + a label CSV in the input's format + a data card (JSON and Markdown).
 * File names and ids are generated (`synth_000001.png`, patient `synth`), never derived from real names
 * or patient ids, and no metadata is copied. Returns files as {path, bytes}; the caller writes them
 * (the CLI does temp + rename).
 *
 * Layouts (paths relative to the export folder):
 * - chestxray14: `Data_Entry.csv` + `images/synth_000001.png` (Image Index = file name)
 * - chexpert: `train.csv` + `images/patientsynth/study1/synth_000001.png` (Path = that path)
 * - rsna: `labels.csv` (`ID_synth000001_<subtype>,Label`) + `patients.csv` + `images/ID_synth000001.png`
 * - plain: `labels.csv` (path, labels..., patient) + `images/synth_000001.png`
 * @module
 */
import type { Dataset } from "./dataset.ts";
import { encodePng } from "./png.ts";
import { type LabelFormat, type LabelRow, RSNA_SUBTYPES, writeLabels } from "./labels.ts";
import { describe, type LabelStats, labelStats } from "./subset.ts";

/** One file to write. */
export interface ExportFile {
  /** Path relative to the export folder ("/" separated). */
  path: string;
  /** File contents. */
  bytes: Uint8Array;
}

/** Options of {@linkcode exportSynthetic}. */
export interface ExportOptions {
  /** CSV format; default: the dataset's format (phantom: RSNA when its labels are the subtypes, else plain). */
  format?: LabelFormat;
  /** Bits per grey sample: 8 (default) or 16. 3-channel images are always 8-bit RGB. */
  bitDepth?: 8 | 16;
  /** Patient id written for every synthetic image (default "synth"). */
  patientId?: string;
  /** Statistics of the real source data (see `labelStats`), for the data card. */
  sourceStats?: LabelStats;
  /** Generator description (model, checkpoint, step, ...). */
  generator?: Record<string, unknown>;
  /** Configuration used to train/sample. */
  config?: unknown;
  /** Seed of the sampled latents. */
  seed?: number;
  /** ISO date of the export (default now). */
  date?: string;
  /** Quality/privacy metrics to record. */
  metrics?: Record<string, unknown>;
  /** Title of the data card. */
  title?: string;
}

/** The CSV format an export of `d` uses by default. */
export function exportFormatOf(d: Pick<Dataset, "format" | "labelNames">): LabelFormat {
  if (d.format !== "phantom") return d.format;
  const names = new Set(d.labelNames);
  const rsnaLike = RSNA_SUBTYPES.every((s) => names.has(s)) &&
    d.labelNames.every((n) => RSNA_SUBTYPES.includes(n) || n === "no_finding");
  return rsnaLike ? "rsna" : "plain";
}

/** Exports a synthetic dataset (images in [-1, 1]) as PNG + CSV + data card files. */
export function exportSynthetic(d: Dataset, opts: ExportOptions = {}): ExportFile[] {
  const format = opts.format ?? exportFormatOf(d);
  const patientId = opts.patientId ?? "synth";
  if (/[\\/]/.test(patientId) || !patientId) {
    throw new Error(`export: patientId "${patientId}" must be a plain name`);
  }
  if (d.channels !== 1 && d.channels !== 3) {
    throw new Error(`export: ${d.channels} channels; PNG export needs 1 or 3`);
  }
  const bitDepth = d.channels === 3 ? 8 : opts.bitDepth ?? 8;
  const digits = Math.max(6, String(d.n).length);
  const sz = d.channels * d.height * d.width;
  const files: ExportFile[] = [];
  const rows: LabelRow[] = [];
  const L = d.labelNames.length;
  const img01 = new Float32Array(sz);
  for (let i = 0; i < d.n; i++) {
    const num = String(i + 1).padStart(digits, "0");
    let file: string, source: string;
    if (format === "rsna") {
      source = `ID_synth${num}`;
      file = `images/${source}.png`;
    } else if (format === "chexpert") {
      file = source = `images/patient${patientId}/study1/synth_${num}.png`;
    } else if (format === "chestxray14") {
      source = `synth_${num}.png`;
      file = `images/${source}`;
    } else {
      file = source = `images/synth_${num}.png`;
    }
    const src = d.images.subarray(i * sz, (i + 1) * sz);
    for (let k = 0; k < sz; k++) img01[k] = (src[k] + 1) / 2;
    files.push({ path: file, bytes: encodePng(img01, d.channels, d.height, d.width, { bitDepth }) });
    rows.push({ source, patientId, labels: d.labels.subarray(i * L, (i + 1) * L) });
  }
  const enc = new TextEncoder();
  for (const f of writeLabels(format, d.labelNames, rows)) {
    files.push({ path: f.path, bytes: enc.encode(f.text) });
  }
  const card = dataCard(d, format, bitDepth, opts);
  files.push({ path: "data_card.json", bytes: enc.encode(JSON.stringify(card, null, 2) + "\n") });
  files.push({ path: "data_card.md", bytes: enc.encode(dataCardMarkdown(card)) });
  return files;
}

/** The data card of an export (also written as data_card.json). */
export interface DataCard {
  /** Title. */
  title: string;
  /** ISO date of the export. */
  date: string;
  /** Generator description. */
  generator: Record<string, unknown>;
  /** Configuration. */
  config: unknown;
  /** Seed of the latents. */
  seed: number | null;
  /** Metrics recorded with the export. */
  metrics: Record<string, unknown>;
  /** The export itself. */
  export: {
    format: LabelFormat;
    images: number;
    channels: number;
    height: number;
    width: number;
    bitDepth: number;
    naming: string;
  };
  /** Statistics of the real source data (null when not given). */
  source: LabelStats | null;
  /** Statistics of the synthetic data. */
  synthetic: LabelStats;
}

function dataCard(d: Dataset, format: LabelFormat, bitDepth: number, opts: ExportOptions): DataCard {
  return {
    title: opts.title ?? "medsynth synthetic dataset",
    date: opts.date ?? new Date().toISOString(),
    generator: opts.generator ?? {},
    config: opts.config ?? null,
    seed: opts.seed ?? null,
    metrics: opts.metrics ?? {},
    export: {
      format,
      images: d.n,
      channels: d.channels,
      height: d.height,
      width: d.width,
      bitDepth,
      naming: "file names and ids are generated (synth_NNNNNN); nothing is derived from real names, " +
        "patient ids or metadata",
    },
    source: opts.sourceStats ?? null,
    synthetic: labelStats(d.labels, d.labelNames, new Array(d.n).fill(opts.patientId ?? "synth")),
  };
}

function statsTable(s: LabelStats, top = 20): string {
  const lines = [
    `- images: ${s.images}, patients: ${s.patients}, images with no label: ${s.noLabel}`,
    `- unique label combinations: ${s.uniqueCombinations}`,
    "",
    "| label | positive images |",
    "|---|---:|",
    ...s.labelNames.map((n, j) => `| ${n} | ${s.perLabel[j]} |`),
    "",
    `| combination (top ${Math.min(top, s.combinations.length)}) | images |`,
    "|---|---:|",
    ...s.combinations.slice(0, top).map((c) => `| ${describe(c.key, s.labelNames)} | ${c.count} |`),
  ];
  return lines.join("\n");
}

const mdValue = (v: unknown) => "`" + JSON.stringify(v).replaceAll("`", "'") + "`";

/** Renders a data card as Markdown. */
export function dataCardMarkdown(card: DataCard): string {
  const kv = (o: Record<string, unknown>) =>
    Object.keys(o).length
      ? Object.entries(o).map(([k, v]) => `- ${k}: ${mdValue(v)}`).join("\n")
      : "- (none)";
  const e = card.export;
  return [
    `# ${card.title}`,
    "",
    `Created ${card.date}. ${e.images} synthetic images, ${e.channels} channel(s), ${e.height}x${e.width}, ` +
    `${e.bitDepth}-bit PNG; labels in the ${e.format} CSV format.`,
    "",
    "Synthetic data: every image was generated by a model; " + e.naming + ".",
    "",
    "## Generator",
    kv(card.generator),
    "",
    "## Configuration",
    `- seed: ${card.seed ?? "(not given)"}`,
    `- config: ${mdValue(card.config)}`,
    "",
    "## Metrics",
    kv(card.metrics),
    "",
    "## Source data (real)",
    card.source ? statsTable(card.source) : "(not given)",
    "",
    "## Synthetic data",
    statsTable(card.synthetic),
    "",
  ].join("\n");
}
