/**
 * Label CSVs: an RFC 4180 parser (quotes, CRLF, BOM) and readers/writers for the four label formats:
 * ChestX-ray14 (`Image Index`, `Finding Labels`, `Patient ID`), CheXpert (`Path`, `Frontal/Lateral`, 14
 * columns of 1/0/-1/blank), RSNA intracranial hemorrhage (`ID_<image>_<subtype>,Label` rows) and a plain
 * multi-hot CSV (path column + one 0/1 column per label). Text in, label tables out; no file access.
 * @module
 */

/** A label CSV that cannot be used: the message names the file, the line when there is one, and the fix. */
export class LabelError extends Error {
  /** Creates the error; the message already names the file (and line). */
  constructor(message: string) {
    super(message);
    this.name = "LabelError";
  }
}

/**
 * CSV bytes to text. Invalid UTF-8 is an error naming the line and column, not a silent U+FFFD: a
 * rewritten Patient ID would merge or split patients and so break the patient-level split.
 */
export function decodeCsvText(bytes: Uint8Array, file = "CSV"): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    let start = 0, line = 1, lineStart = 0;
    // the first byte where strict decoding of a growing prefix fails, found line by line
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(start, i));
        } catch {
          break;
        }
        start = i + 1, lineStart = i + 1, line++;
      }
    }
    const row = new TextDecoder().decode(bytes.subarray(lineStart, Math.min(bytes.length, lineStart + 200)));
    const col = row.indexOf("\ufffd");
    const field = row.slice(0, col).split(",").length;
    throw new LabelError(
      `${file} line ${line}: invalid UTF-8 in field ${field} (character ${col + 1}); the CSV must be UTF-8 ` +
        "(re-save it as UTF-8; ids are kept byte for byte, never rewritten)",
    );
  }
}

/** A label-table format (the dataset formats minus the phantom). */
export type LabelFormat = "chestxray14" | "chexpert" | "rsna" | "plain";

/** The 14 ChestX-ray14 findings, in the order of the NIH release. */
export const CHESTXRAY14_LABELS: readonly string[] = [
  "Atelectasis",
  "Cardiomegaly",
  "Effusion",
  "Infiltration",
  "Mass",
  "Nodule",
  "Pneumonia",
  "Pneumothorax",
  "Consolidation",
  "Edema",
  "Emphysema",
  "Fibrosis",
  "Pleural_Thickening",
  "Hernia",
];

/** The 14 CheXpert observation columns, in the order of the CheXpert CSV. */
export const CHEXPERT_LABELS: readonly string[] = [
  "No Finding",
  "Enlarged Cardiomediastinum",
  "Cardiomegaly",
  "Lung Opacity",
  "Lung Lesion",
  "Edema",
  "Consolidation",
  "Pneumonia",
  "Atelectasis",
  "Pneumothorax",
  "Pleural Effusion",
  "Pleural Other",
  "Fracture",
  "Support Devices",
];

/** The five RSNA hemorrhage subtypes. */
export const RSNA_SUBTYPES: readonly string[] = [
  "epidural",
  "intraparenchymal",
  "intraventricular",
  "subarachnoid",
  "subdural",
];

/** The study's six RSNA classes: the five subtypes plus "no_finding" (= not `any`). */
export const RSNA_LABELS: readonly string[] = [...RSNA_SUBTYPES, "no_finding"];

/** One labelled image. */
export interface LabelEntry {
  /** Image reference as written in the CSV (file name, relative path, or RSNA `ID_<image>`). */
  source: string;
  /** Patient id. */
  patientId: string;
  /** Multi-hot labels, 0/1, one per label name. */
  labels: Uint8Array;
  /** 1-based line of the CSV the entry came from (first line for multi-row formats), for error messages. */
  line: number;
}

/** A parsed label CSV. */
export interface LabelTable {
  /** The format it was read as. */
  format: LabelFormat;
  /** Label names, in column order of every entry's `labels`. */
  labelNames: string[];
  /** The labelled images, in CSV order. */
  entries: LabelEntry[];
  /** Rows dropped by a documented rule (CheXpert lateral views, no positive label), with the reason. */
  dropped: { line: number; reason: string }[];
}

/** A parsed CSV with a header row. */
export interface CsvTable {
  /** Header cells (trimmed). */
  header: string[];
  /** Data rows (blank lines skipped), each as long as the header. */
  rows: string[][];
  /** 1-based line number of each data row's start. */
  lines: number[];
}

/**
 * Parses CSV text (RFC 4180: `"` quotes, `""` escapes, newlines inside quotes, CRLF, a leading BOM)
 * into rows with line numbers. Throws on an unterminated quote or text after a closing quote.
 */
export function parseCsvRows(text: string, file = "CSV"): { rows: string[][]; lines: number[] } {
  const rows: string[][] = [], lines: number[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let row: string[] = [], rowLine = 1;
  let cell = "";
  const n = text.length;
  const endRow = () => {
    row.push(cell);
    cell = "";
    if (!(row.length === 1 && row[0].trim() === "")) {
      rows.push(row);
      lines.push(rowLine);
    }
    row = [];
  };
  while (i < n) {
    const c = text[i];
    if (c === '"' && cell.trim() === "") {
      const qLine = line;
      cell = "";
      i++;
      for (;;) {
        if (i >= n) throw new LabelError(`${file} line ${qLine}: unterminated quoted field`);
        const d = text[i];
        if (d === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (d === "\n") line++;
        cell += d;
        i++;
      }
      while (i < n && (text[i] === " " || text[i] === "\t")) i++;
      if (i < n && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
        throw new LabelError(`${file} line ${line}: unexpected text after a closing quote`);
      }
      continue;
    }
    if (c === ",") {
      row.push(cell);
      cell = "";
      i++;
    } else if (c === "\r" || c === "\n") {
      endRow();
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      rowLine = line;
    } else {
      cell += c;
      i++;
    }
  }
  if (cell !== "" || row.length > 0) endRow();
  return { rows, lines };
}

/** Parses a CSV with a header row; every data row must have as many fields as the header. */
export function parseCsv(text: string, file = "CSV"): CsvTable {
  const { rows, lines } = parseCsvRows(text, file);
  if (rows.length === 0) throw new LabelError(`${file}: empty CSV (no header row)`);
  const header = rows[0].map((h) => h.trim());
  const dup = header.find((h, i) => h !== "" && header.indexOf(h) !== i);
  if (dup !== undefined) {
    throw new LabelError(
      `${file} line ${lines[0]}: the header names column "${dup}" twice; rename or remove one`,
    );
  }
  const out: CsvTable = { header, rows: [], lines: [] };
  for (let r = 1; r < rows.length; r++) {
    if (rows[r].length !== header.length) {
      throw new LabelError(
        `${file} line ${lines[r]}: malformed row: ${rows[r].length} fields, the header has ${header.length}`,
      );
    }
    out.rows.push(rows[r].map((v) => v.trim()));
    out.lines.push(lines[r]);
  }
  return out;
}

/** Quotes a CSV field when needed. */
export function csvField(v: string): string {
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replaceAll('"', '""')}"` : v;
}

/** Joins rows to CSV text (LF line ends, trailing newline). */
export function toCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => r.map(csvField).join(",")).join("\n") + "\n";
}

/** Guesses the format from a CSV header (throws naming the headers when none fits). */
export function detectLabelFormat(header: readonly string[], file = "CSV"): LabelFormat {
  const h = new Set(header.map((x) => x.trim()));
  if (h.has("Image Index") && h.has("Finding Labels")) return "chestxray14";
  if (h.has("Path") && CHEXPERT_LABELS.some((l) => h.has(l))) return "chexpert";
  if (header.length === 2 && header[0].trim() === "ID" && header[1].trim() === "Label") return "rsna";
  if (findColumn(header, PATH_COLUMNS) >= 0) return "plain";
  throw new LabelError(
    `${file}: cannot tell the label format from the header [${header.join(", ")}]; expected ` +
      `ChestX-ray14 (Image Index, Finding Labels, Patient ID), CheXpert (Path, ...), RSNA (ID, Label) or a ` +
      `plain CSV with a path column (${PATH_COLUMNS.join("/")}); or pass the format explicitly`,
  );
}

const PATH_COLUMNS = ["path", "file", "filename", "image", "imageindex", "imagepath"];
const PATIENT_COLUMNS = ["patient", "patientid", "subject", "subjectid"];
const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

function findColumn(header: readonly string[], names: readonly string[]): number {
  const hs = header.map(norm);
  for (const n of names) {
    const i = hs.indexOf(n);
    if (i >= 0) return i;
  }
  return -1;
}

/** Options of {@linkcode parseLabels}. */
export interface LabelOptions {
  /** The format, or "auto" (default) to detect it from the header. */
  format?: LabelFormat | "auto";
  /** File name for error messages. */
  file?: string;
  /** CheXpert: uncertain (-1) labels become positive (the study's choice, default) or negative. */
  uncertain?: "positive" | "negative";
  /** CheXpert: drop rows with no positive label (the study's choice, default true). */
  dropNoPositive?: boolean;
  /** RSNA: CSV text mapping image id to patient id (else patient = image). */
  patientMap?: string;
  /** RSNA: file name of the patient map, for error messages. */
  patientMapFile?: string;
  /** Plain CSV: the path column (default: path/file/filename/image). */
  pathColumn?: string;
  /** Plain CSV: the patient column (default: patient/patient id, else patient = path). */
  patientColumn?: string;
}

/** Parses a label CSV in any of the four formats. */
export function parseLabels(text: string, opts: LabelOptions = {}): LabelTable {
  const file = opts.file ?? "CSV";
  const csv = parseCsv(text, file);
  const format = !opts.format || opts.format === "auto" ? detectLabelFormat(csv.header, file) : opts.format;
  let table: LabelTable;
  switch (format) {
    case "chestxray14":
      table = readChestXray14(csv, file);
      break;
    case "chexpert":
      table = readCheXpert(csv, file, opts);
      break;
    case "rsna":
      table = readRsna(csv, file, opts);
      break;
    case "plain":
      table = readPlain(csv, file, opts);
      break;
    default:
      throw new LabelError(`${file}: unknown label format "${format}"`);
  }
  if (table.entries.length === 0) {
    throw new LabelError(
      `${file}: no labelled images${table.dropped.length ? ` (${table.dropped.length} dropped)` : ""}`,
    );
  }
  return table;
}

function requireColumns(csv: CsvTable, names: string[], file: string): number[] {
  return names.map((n) => {
    const i = csv.header.indexOf(n);
    if (i < 0) throw new LabelError(`${file}: missing column "${n}" (header: ${csv.header.join(", ")})`);
    return i;
  });
}

function checkDuplicate(
  seen: Map<string, number>,
  id: string,
  line: number,
  file: string,
  what = "image",
): void {
  const prev = seen.get(id);
  if (prev !== undefined) {
    throw new LabelError(`${file} line ${line}: duplicate ${what} "${id}" (first on line ${prev})`);
  }
  seen.set(id, line);
}

function readChestXray14(csv: CsvTable, file: string): LabelTable {
  const [ci, cf, cp] = requireColumns(csv, ["Image Index", "Finding Labels", "Patient ID"], file);
  const index = new Map(CHESTXRAY14_LABELS.map((l, i) => [l, i]));
  const entries: LabelEntry[] = [];
  const seen = new Map<string, number>();
  csv.rows.forEach((row, r) => {
    const line = csv.lines[r];
    const source = row[ci];
    if (!source) throw new LabelError(`${file} line ${line}: empty "Image Index"`);
    checkDuplicate(seen, source, line, file);
    const labels = new Uint8Array(CHESTXRAY14_LABELS.length);
    const f = row[cf];
    if (f !== "No Finding") {
      for (const name of f.split("|").map((s) => s.trim())) {
        const j = index.get(name);
        if (name === "No Finding") {
          throw new LabelError(
            `${file} line ${line}: "${f}" combines "No Finding" with findings; a row is either "No Finding" ` +
              `alone or findings joined with "|"`,
          );
        }
        if (j === undefined) {
          throw new LabelError(
            `${file} line ${line}: unknown finding "${name}" in "${f}"; known: ${
              CHESTXRAY14_LABELS.join(", ")
            }, ` +
              `or "No Finding"`,
          );
        }
        labels[j] = 1;
      }
    }
    const patientId = row[cp];
    if (!patientId) throw new LabelError(`${file} line ${line}: empty "Patient ID"`);
    entries.push({ source, patientId, labels, line });
  });
  return { format: "chestxray14", labelNames: [...CHESTXRAY14_LABELS], entries, dropped: [] };
}

/** The patient id in a CheXpert-style path `.../patientXXXXX/studyY/...`, or null. */
export function patientFromPath(path: string): string | null {
  const m = /(?:^|[\\/])patient([^\\/]+)[\\/]/.exec(path);
  return m ? m[1] : null;
}

function readCheXpert(csv: CsvTable, file: string, opts: LabelOptions): LabelTable {
  const [cp] = requireColumns(csv, ["Path"], file);
  const cfl = csv.header.indexOf("Frontal/Lateral");
  const cols = requireColumns(csv, [...CHEXPERT_LABELS], file);
  const uncertain = opts.uncertain ?? "positive";
  const dropNoPositive = opts.dropNoPositive ?? true;
  const entries: LabelEntry[] = [], dropped: LabelTable["dropped"] = [];
  const seen = new Map<string, number>();
  csv.rows.forEach((row, r) => {
    const line = csv.lines[r];
    const source = row[cp];
    if (!source) throw new LabelError(`${file} line ${line}: empty "Path"`);
    checkDuplicate(seen, source, line, file);
    const view = cfl >= 0 ? row[cfl] : (/lateral/i.test(source) ? "Lateral" : "Frontal");
    if (view !== "Frontal") {
      if (view !== "Lateral") {
        throw new LabelError(
          `${file} line ${line}: "Frontal/Lateral" is "${view}", expected Frontal or Lateral`,
        );
      }
      dropped.push({ line, reason: "lateral view" });
      return;
    }
    const labels = new Uint8Array(cols.length);
    cols.forEach((c, j) => {
      const v = row[c];
      if (v === "" || v === "0" || v === "0.0") labels[j] = 0;
      else if (v === "1" || v === "1.0") labels[j] = 1;
      else if (v === "-1" || v === "-1.0") labels[j] = uncertain === "positive" ? 1 : 0;
      else {
        throw new LabelError(
          `${file} line ${line}: column "${CHEXPERT_LABELS[j]}" has "${v}", expected 1, 0, -1 or blank`,
        );
      }
    });
    if (dropNoPositive && labels.every((v) => v === 0)) {
      dropped.push({ line, reason: "no positive label" });
      return;
    }
    entries.push({ source, patientId: patientFromPath(source) ?? source, labels, line });
  });
  return { format: "chexpert", labelNames: [...CHEXPERT_LABELS], entries, dropped };
}

/** Parses an image -> patient map CSV (columns image/ID/SOPInstanceUID and patient/PatientID). */
export function parsePatientMap(text: string, file = "patient map"): Map<string, string> {
  const csv = parseCsv(text, file);
  const ci = findColumn(csv.header, ["image", "id", "imageid", "sopinstanceuid", "imageindex", "path"]);
  const cp = findColumn(csv.header, PATIENT_COLUMNS);
  if (ci < 0 || cp < 0) {
    throw new LabelError(
      `${file}: needs an image column (image/ID/SOPInstanceUID) and a patient column (patient/PatientID); ` +
        `header: ${csv.header.join(", ")}`,
    );
  }
  const map = new Map<string, string>();
  const seen = new Map<string, number>();
  csv.rows.forEach((row, r) => {
    const img = row[ci].replace(/^ID_/, "");
    checkDuplicate(seen, img, csv.lines[r], file);
    if (!row[cp]) throw new LabelError(`${file} line ${csv.lines[r]}: empty patient id`);
    map.set(img, row[cp]);
  });
  return map;
}

function readRsna(csv: CsvTable, file: string, opts: LabelOptions): LabelTable {
  const [cid, clab] = requireColumns(csv, ["ID", "Label"], file);
  const subtypes = new Map(RSNA_SUBTYPES.map((s, i) => [s, i]));
  const byImage = new Map<string, { vals: (number | undefined)[]; line: number }>();
  const seen = new Map<string, number>();
  csv.rows.forEach((row, r) => {
    const line = csv.lines[r];
    const id = row[cid];
    const m = /^ID_(.+)_([a-z]+)$/.exec(id);
    if (!m) throw new LabelError(`${file} line ${line}: ID "${id}" is not of the form ID_<image>_<subtype>`);
    const [, img, sub] = m;
    const j = sub === "any" ? RSNA_SUBTYPES.length : subtypes.get(sub);
    if (j === undefined) {
      throw new LabelError(
        `${file} line ${line}: unknown subtype "${sub}"; known: ${RSNA_SUBTYPES.join(", ")}, any`,
      );
    }
    checkDuplicate(seen, id, line, file, "ID");
    const v = row[clab];
    if (v !== "0" && v !== "1") {
      throw new LabelError(`${file} line ${line}: Label "${v}" for ${id}, expected 0 or 1`);
    }
    let e = byImage.get(img);
    if (!e) byImage.set(img, e = { vals: new Array(RSNA_SUBTYPES.length + 1), line });
    e.vals[j] = Number(v);
  });
  const patients = opts.patientMap !== undefined
    ? parsePatientMap(opts.patientMap, opts.patientMapFile ?? "patient map")
    : null;
  const entries: LabelEntry[] = [];
  for (const [img, { vals, line }] of byImage) {
    const missing = RSNA_SUBTYPES.filter((_, j) => vals[j] === undefined);
    if (missing.length) {
      throw new LabelError(`${file} line ${line}: image ID_${img} has no row for ${missing.join(", ")}`);
    }
    const labels = new Uint8Array(RSNA_LABELS.length);
    let any = 0;
    for (let j = 0; j < RSNA_SUBTYPES.length; j++) any |= labels[j] = vals[j]!;
    const anyRow = vals[RSNA_SUBTYPES.length];
    if (anyRow !== undefined && anyRow !== any) {
      throw new LabelError(
        `${file} line ${line}: image ID_${img}: "any" is ${anyRow} but the subtypes say ${any}`,
      );
    }
    labels[RSNA_SUBTYPES.length] = any ? 0 : 1;
    let patientId = img;
    if (patients) {
      const p = patients.get(img);
      if (p === undefined) {
        throw new LabelError(
          `${opts.patientMapFile ?? "patient map"}: no patient for image ID_${img} (${file} line ${line})`,
        );
      }
      patientId = p;
    }
    entries.push({ source: `ID_${img}`, patientId, labels, line });
  }
  return { format: "rsna", labelNames: [...RSNA_LABELS], entries, dropped: [] };
}

function readPlain(csv: CsvTable, file: string, opts: LabelOptions): LabelTable {
  const col = (name: string | undefined, defaults: string[], what: string): number => {
    if (name !== undefined) {
      const i = csv.header.indexOf(name);
      if (i < 0) {
        throw new LabelError(`${file}: no ${what} column "${name}" (header: ${csv.header.join(", ")})`);
      }
      return i;
    }
    return findColumn(csv.header, defaults);
  };
  const cp = col(opts.pathColumn, PATH_COLUMNS, "path");
  if (cp < 0) {
    throw new LabelError(
      `${file}: no path column (${PATH_COLUMNS.join("/")}); header: ${csv.header.join(", ")}`,
    );
  }
  const cpat = col(opts.patientColumn, PATIENT_COLUMNS, "patient");
  const labelCols = csv.header.map((_, i) => i).filter((i) => i !== cp && i !== cpat);
  if (labelCols.length === 0) {
    throw new LabelError(`${file}: no label columns besides the path/patient columns`);
  }
  const labelNames = labelCols.map((i) => csv.header[i]);
  const entries: LabelEntry[] = [];
  const seen = new Map<string, number>();
  csv.rows.forEach((row, r) => {
    const line = csv.lines[r];
    const source = row[cp];
    if (!source) throw new LabelError(`${file} line ${line}: empty path`);
    checkDuplicate(seen, source, line, file);
    const labels = new Uint8Array(labelCols.length);
    labelCols.forEach((c, j) => {
      const v = row[c];
      if (v === "1" || v === "1.0") labels[j] = 1;
      else if (v !== "0" && v !== "0.0") {
        throw new LabelError(`${file} line ${line}: column "${labelNames[j]}" has "${v}", expected 0 or 1`);
      }
    });
    const patientId = cpat >= 0 ? row[cpat] : source;
    if (!patientId) throw new LabelError(`${file} line ${line}: empty patient id`);
    entries.push({ source, patientId, labels, line });
  });
  return { format: "plain", labelNames, entries, dropped: [] };
}

/** One row to write: where the image is, its patient and its labels. */
export interface LabelRow {
  /** Image reference (file name / relative path; RSNA: the `ID_<image>` without subtype). */
  source: string;
  /** Patient id. */
  patientId: string;
  /** Multi-hot labels in `labelNames` order. */
  labels: ArrayLike<number>;
}

/**
 * Writes label rows as CSV text in `format`. Label names must be the format's own (ChestX-ray14 findings,
 * CheXpert columns, RSNA subtypes with optional no_finding); plain accepts any names. Returns the files
 * (relative name, text): RSNA also writes `patients.csv` (image -> patient).
 */
export function writeLabels(
  format: LabelFormat,
  labelNames: readonly string[],
  rows: readonly LabelRow[],
): { path: string; text: string }[] {
  const col = (names: readonly string[]) => {
    const idx = names.map((n) => labelNames.indexOf(n));
    const extra = labelNames.filter((n) => !names.includes(n));
    return { idx, extra };
  };
  switch (format) {
    case "chestxray14": {
      const { extra } = col(CHESTXRAY14_LABELS);
      if (extra.length) {
        throw new LabelError(`ChestX-ray14 export: labels ${extra.join(", ")} are not findings`);
      }
      const out = [["Image Index", "Finding Labels", "Patient ID"]];
      for (const r of rows) {
        const f = labelNames.filter((_, j) => r.labels[j]);
        out.push([r.source, f.length ? f.join("|") : "No Finding", r.patientId]);
      }
      return [{ path: "Data_Entry.csv", text: toCsv(out) }];
    }
    case "chexpert": {
      const { idx, extra } = col(CHEXPERT_LABELS);
      if (extra.length) {
        throw new LabelError(`CheXpert export: labels ${extra.join(", ")} are not CheXpert columns`);
      }
      const out = [["Path", "Frontal/Lateral", ...CHEXPERT_LABELS]];
      for (const r of rows) {
        out.push([r.source, "Frontal", ...idx.map((j) => (j >= 0 && r.labels[j] ? "1" : "0"))]);
      }
      return [{ path: "train.csv", text: toCsv(out) }];
    }
    case "rsna": {
      const { idx, extra } = col(RSNA_SUBTYPES);
      if (extra.some((n) => n !== "no_finding") || idx.some((j) => j < 0)) {
        throw new LabelError(
          `RSNA export: labels must be ${RSNA_LABELS.join(", ")}; got ${labelNames.join(", ")}`,
        );
      }
      const nf = labelNames.indexOf("no_finding");
      const out = [["ID", "Label"]], pat = [["ID", "PatientID"]];
      for (const r of rows) {
        const img = r.source.replace(/^ID_/, "");
        let any = 0;
        for (const j of idx) any |= r.labels[j] ? 1 : 0;
        if (nf >= 0 && (r.labels[nf] ? 1 : 0) === any) {
          throw new LabelError(
            `RSNA export: ${r.source}: no_finding=${r.labels[nf]} contradicts the subtypes`,
          );
        }
        RSNA_SUBTYPES.forEach((s, k) => out.push([`ID_${img}_${s}`, r.labels[idx[k]] ? "1" : "0"]));
        out.push([`ID_${img}_any`, String(any)]);
        pat.push([`ID_${img}`, r.patientId]);
      }
      return [{ path: "labels.csv", text: toCsv(out) }, { path: "patients.csv", text: toCsv(pat) }];
    }
    case "plain": {
      const out = [["path", ...labelNames, "patient"]];
      for (const r of rows) {
        out.push([r.source, ...labelNames.map((_, j) => (r.labels[j] ? "1" : "0")), r.patientId]);
      }
      return [{ path: "labels.csv", text: toCsv(out) }];
    }
  }
}
