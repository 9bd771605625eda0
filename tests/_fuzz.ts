/**
 * A seeded mutation fuzzer for the readers of untrusted input: DICOM (the shared test files), PNG (the
 * chest radiographs), JPEG (the same radiographs encoded at several qualities) and label CSVs (all four
 * formats). Case `i` of seed `s` is a pure function of (s, i): a seed file and one to three mutations (bit
 * flips, truncation, corrupted lengths, swapped transfer syntaxes, absurd dimensions, empty pixel data, and
 * format-specific ones). {@linkcode runCase} feeds the bytes to the reader a user's data would reach and
 * classifies the end: a decoded image (or label table), the documented error type naming the file, or
 * anything else ("undocumented"). Hangs and process deaths are caught by `tools/fuzz.ts`, which runs the
 * cases in a child process under a per-case time limit.
 * @module
 */
import { join } from "node:path";
import jpeg from "jpeg-js";
import { Rng } from "../src/util/rng.ts";
import { decodeFrames, DicomError, dicomToImage, parseDicom } from "../src/data/dicom.ts";
import { parseDataSet, TRANSFER_SYNTAX_TABLE } from "../src/data/_dicom_header.ts";
import { decodeImage, ImageError, toModelInput } from "../src/data/png.ts";
import {
  CHESTXRAY14_LABELS,
  CHEXPERT_LABELS,
  decodeCsvText,
  LabelError,
  parseCsv,
  parseLabels,
  RSNA_LABELS,
  writeLabels,
} from "../src/data/labels.ts";

/** What the fuzzer feeds. */
export type FuzzKind = "dicom" | "png" | "jpeg" | "csv";

/** One seed file. */
export interface SeedFile {
  kind: FuzzKind;
  /** Where it came from (relative to the shared data, or how it was made). */
  name: string;
  bytes: Uint8Array;
}

/** One generated case. */
export interface FuzzCase {
  index: number;
  kind: FuzzKind;
  /** The seed file. */
  seed: string;
  /** The mutations applied, in order (with their parameters). */
  mutations: string[];
  /** The name the reader is given (so its errors can be checked for it). */
  name: string;
  bytes: Uint8Array;
}

/** How a case ended. */
export interface FuzzOutcome {
  index: number;
  kind: FuzzKind;
  /** decoded: an image/table came out; error: the documented error naming the file; undocumented: else. */
  result: "decoded" | "error" | "undocumented";
  /** The error's class and message (error and undocumented). */
  error?: string;
  /** Stack of an undocumented exception, for the bug report. */
  stack?: string;
  ms: number;
}

const SHARED = new URL("../../shared/data/", import.meta.url).pathname;

/** DICOM seeds: every `.dcm` under shared/data/dicom up to `maxBytes` (the big multi-frame ones cost seconds). */
function dicomSeeds(maxBytes: number): SeedFile[] {
  const out: SeedFile[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of [...Deno.readDirSync(dir)].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name), r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) walk(p, r);
      else if (e.name.endsWith(".dcm") && Deno.statSync(p).size <= maxBytes) {
        out.push({ kind: "dicom", name: `dicom/${r}`, bytes: Deno.readFileSync(p) });
      }
    }
  };
  walk(join(SHARED, "dicom"), "");
  return out;
}

/** PNG seeds (the first `n` chest radiographs) and JPEG seeds (some of them re-encoded at several qualities). */
function imageSeeds(n: number): { png: SeedFile[]; jpeg: SeedFile[] } {
  const dir = join(SHARED, "chestxray14-64px/images");
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((x) => x.endsWith(".png")).sort()
    .slice(0, n);
  const png = names.map((x) => ({
    kind: "png" as const,
    name: `chest/${x}`,
    bytes: Deno.readFileSync(join(dir, x)),
  }));
  const jpg = png.slice(0, 8).map((s, i) => {
    const img = decodeImage(s.bytes, { channels: 3 });
    const rgba = new Uint8Array(img.width * img.height * 4);
    const hw = img.width * img.height;
    for (let k = 0; k < hw; k++) {
      for (let c = 0; c < 3; c++) rgba[4 * k + c] = Math.round(img.data[c * hw + k] * 255);
      rgba[4 * k + 3] = 255;
    }
    const quality = [95, 75, 50, 20][i % 4];
    const enc = jpeg.encode({ data: rgba, width: img.width, height: img.height }, quality);
    return { kind: "jpeg" as const, name: `${s.name.replace(".png", "")}_q${quality}.jpg`, bytes: enc.data };
  });
  return { png, jpeg: jpg };
}

/** Label CSV seeds: the first rows of Data_Entry.csv, and the same labels written in the other formats. */
function csvSeeds(rows: number): SeedFile[] {
  const enc = new TextEncoder();
  const text = Deno.readTextFileSync(join(SHARED, "chestxray14-64px/Data_Entry.csv"));
  const lines = text.split("\n");
  const head = lines.slice(0, rows + 1).join("\n") + "\n";
  const table = parseLabels(head, { file: "Data_Entry.csv" });
  const out: SeedFile[] = [{ kind: "csv", name: "chestxray14/Data_Entry.csv", bytes: enc.encode(head) }];
  const pick = (names: readonly string[], j: number) => names[(j * 5) % names.length];
  const chex = table.entries.map((e, j) => ({
    source: `CheXpert-v1.0-small/train/patient${e.patientId}/study${j}/view1_frontal.jpg`,
    patientId: e.patientId,
    labels: CHEXPERT_LABELS.map((l) => (l === pick(CHEXPERT_LABELS, j) ? 1 : 0)),
  }));
  const rsna = table.entries.map((e, j) => {
    const labels = RSNA_LABELS.map((l) => (l === pick(RSNA_LABELS, j) ? 1 : 0));
    return { source: `ID_${e.source.replace(".png", "")}`, patientId: e.patientId, labels };
  });
  const plain = table.entries.map((e) => ({
    source: `images/${e.source}`,
    patientId: e.patientId,
    labels: Array.from(e.labels.subarray(0, 4)),
  }));
  for (
    const [format, names, rs] of [
      ["chexpert", CHEXPERT_LABELS, chex],
      ["rsna", RSNA_LABELS, rsna],
      ["plain", CHESTXRAY14_LABELS.slice(0, 4), plain],
    ] as const
  ) {
    out.push({
      kind: "csv",
      name: `${format}/labels.csv`,
      bytes: enc.encode(writeLabels(format, names, rs)[0].text),
    });
  }
  return out;
}

/** The seed corpus (read once per process). */
export interface Corpus {
  dicom: SeedFile[];
  png: SeedFile[];
  jpeg: SeedFile[];
  csv: SeedFile[];
}

/** Loads the seed corpus from the shared data (DICOM files up to 1.1 MB, 40 radiographs, 4 CSVs). */
export function loadCorpus(): Corpus {
  return { dicom: dicomSeeds(1_100_000), ...imageSeeds(40), csv: csvSeeds(30) };
}

// ---------------------------------------------------------------------------------------------- mutators

type Mutator = (b: Uint8Array, rng: Rng) => { bytes: Uint8Array; what: string };

const pickOf = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

function splice(
  b: Uint8Array,
  at: number,
  remove: number,
  insert: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, at));
  out.set(insert, at);
  out.set(b.subarray(at + remove), at + insert.length);
  return out;
}

/** Absurd 16- and 32-bit values for counts and sizes. */
const ABSURD16 = [0, 1, 2, 3, 7, 9, 12, 17, 24, 31, 33, 64, 255, 0x7fff, 0x8000, 0xfffe, 0xffff];
const ABSURD32 = [0, 1, 2, 0x7f, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];

const bitflip: Mutator = (b, rng) => {
  const out = b.slice();
  const n = 1 + rng.int(16);
  // half the time in the first 4 KiB, where the headers are
  const span = rng.next() < 0.5 ? Math.min(out.length, 4096) : out.length;
  for (let k = 0; k < n && span > 0; k++) out[rng.int(span)] ^= 1 << rng.int(8);
  return { bytes: out, what: `bitflip(${n})` };
};

const truncate: Mutator = (b, rng) => {
  const at = rng.next() < 0.3 ? rng.int(Math.min(b.length, 600)) : rng.int(b.length);
  return { bytes: b.slice(0, at), what: `truncate(${at}/${b.length})` };
};

const overwrite: Mutator = (b, rng) => {
  const out = b.slice();
  const at = rng.int(out.length), len = 1 + rng.int(32);
  for (let k = 0; k < len && at + k < out.length; k++) out[at + k] = rng.int(256);
  return { bytes: out, what: `overwrite(${at},${len})` };
};

// --- DICOM

/** A top-level element's position, found once per seed with dicom-parser. */
interface ElementPos {
  tag: string;
  dataOffset: number;
  length: number;
  lenPos: number;
  lenSize: 2 | 4;
  bigEndian: boolean;
  undefinedLength: boolean;
}

const LONG_VRS = new Set(["OB", "OW", "OF", "OD", "OL", "OV", "SQ", "UT", "UN", "UC", "UR", "SV", "UV"]);
const elementCache = new WeakMap<Uint8Array, ElementPos[] | null>();

/** Top-level elements of a seed (null for deflated or unparsable files: raw mutations only). */
function elementsOf(b: Uint8Array): ElementPos[] | null {
  if (elementCache.has(b)) return elementCache.get(b)!;
  let out: ElementPos[] | null = null;
  try {
    const ds = parseDataSet(b, "seed");
    if (ds.byteArray === b || ds.byteArray.buffer === b.buffer) {
      const ts = (ds.string("x00020010") ?? "").replace(/\0/g, "").trim();
      out = Object.values(ds.elements).map((el) => {
        const meta = el.tag.startsWith("x0002");
        const explicit = el.vr !== undefined;
        const lenSize: 2 | 4 = !explicit || LONG_VRS.has(el.vr!) ? 4 : 2;
        return {
          tag: el.tag,
          dataOffset: el.dataOffset,
          length: el.length,
          lenPos: el.dataOffset - lenSize,
          lenSize,
          bigEndian: !meta && ts === "1.2.840.10008.1.2.2",
          undefinedLength: el.hadUndefinedLength === true,
        };
      }).filter((e) => e.dataOffset > 0 && e.dataOffset <= b.length);
    }
  } catch {
    out = null;
  }
  elementCache.set(b, out);
  return out;
}

function writeUint(out: Uint8Array, at: number, size: number, v: number, bigEndian: boolean): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.length);
  if (at < 0 || at + size > out.length) return;
  if (size === 2) dv.setUint16(at, v & 0xffff, !bigEndian);
  else dv.setUint32(at, v >>> 0, !bigEndian);
}

/** Replaces an element's value (fixing its length field; parents of top-level elements have none). */
function replaceValue(b: Uint8Array, el: ElementPos, value: Uint8Array): Uint8Array {
  const v = value.length % 2 ? Uint8Array.of(...value, 0x20) : value;
  const out = splice(b, el.dataOffset, Math.min(el.length, b.length - el.dataOffset), v);
  writeUint(out, el.lenPos, el.lenSize, v.length, el.bigEndian);
  return out;
}

const dicomLength: Mutator = (b, rng) => {
  const els = elementsOf(b);
  if (!els?.length) return bitflip(b, rng);
  const el = pickOf(rng, els);
  const out = b.slice();
  const max = el.lenSize === 2 ? 0xffff : 0xffffffff;
  const v = pickOf(rng, [0, 1, 3, el.length + 1, el.length + 2, el.length * 2, max, max - 1, rng.int(max)]);
  writeUint(out, el.lenPos, el.lenSize, v, el.bigEndian);
  return { bytes: out, what: `length(${el.tag}=${v})` };
};

const DIM_TAGS: Record<string, string> = {
  x00280010: "Rows",
  x00280011: "Columns",
  x00280002: "SamplesPerPixel",
  x00280100: "BitsAllocated",
  x00280101: "BitsStored",
  x00280102: "HighBit",
  x00280103: "PixelRepresentation",
  x00280006: "PlanarConfiguration",
};

const dicomDims: Mutator = (b, rng) => {
  const els = elementsOf(b);
  if (!els?.length) return bitflip(b, rng);
  if (rng.next() < 0.3) {
    const nf = els.find((e) => e.tag === "x00280008");
    const v = pickOf(rng, ["0", "-1", "999999999", "2147483648", "65536", "1e9", "abc", "", "2", "3"]);
    if (nf) return { bytes: replaceValue(b, nf, new TextEncoder().encode(v)), what: `NumberOfFrames=${v}` };
  }
  const cands = els.filter((e) => DIM_TAGS[e.tag] && e.length === 2);
  if (!cands.length) return bitflip(b, rng);
  let out = b;
  const what: string[] = [];
  for (let k = 1 + rng.int(2); k > 0; k--) {
    const el = pickOf(rng, cands);
    const v = pickOf(rng, ABSURD16);
    out = out === b ? b.slice() : out;
    writeUint(out, el.dataOffset, 2, v, el.bigEndian);
    what.push(`${DIM_TAGS[el.tag]}=${v}`);
  }
  return { bytes: out, what: `dims(${what.join(",")})` };
};

const TS_UIDS = [...Object.keys(TRANSFER_SYNTAX_TABLE), "1.2.3.4.5", "", "1.2.840.10008.1.2.4"];

const dicomTs: Mutator = (b, rng) => {
  const el = elementsOf(b)?.find((e) => e.tag === "x00020010");
  if (!el) return bitflip(b, rng);
  const uid = pickOf(rng, TS_UIDS);
  const v = new TextEncoder().encode(uid.length % 2 ? uid + "\0" : uid);
  return { bytes: replaceValue(b, el, v), what: `transferSyntax(${uid})` };
};

const ITEM = Uint8Array.of(0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0);
const DELIM = Uint8Array.of(0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0);

const dicomEmptyPixels: Mutator = (b, rng) => {
  const el = elementsOf(b)?.find((e) => e.tag === "x7fe00010");
  if (!el) return truncate(b, rng);
  if (el.undefinedLength) {
    const tail = rng.next() < 0.5 ? DELIM : Uint8Array.of(...ITEM, ...DELIM);
    return {
      bytes: splice(b, el.dataOffset, b.length - el.dataOffset, tail),
      what: "emptyPixelData(encapsulated)",
    };
  }
  const out = splice(b, el.dataOffset, Math.min(el.length, b.length - el.dataOffset));
  writeUint(out, el.lenPos, el.lenSize, 0, el.bigEndian);
  return { bytes: out, what: "emptyPixelData(native)" };
};

/** Corrupts the item lengths or Basic Offset Table of encapsulated Pixel Data. */
const dicomFragments: Mutator = (b, rng) => {
  const el = elementsOf(b)?.find((e) => e.tag === "x7fe00010" && e.undefinedLength);
  if (!el) return dicomDims(b, rng);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const items: number[] = [];
  for (let p = el.dataOffset; p + 8 <= b.length && items.length < 10000;) {
    if (dv.getUint16(p, true) !== 0xfffe || dv.getUint16(p + 2, true) !== 0xe000) break;
    items.push(p);
    p += 8 + dv.getUint32(p + 4, true);
  }
  if (!items.length) return bitflip(b, rng);
  const out = b.slice();
  const at = pickOf(rng, items);
  const odv = new DataView(out.buffer);
  if (at === items[0] && dv.getUint32(at + 4, true) >= 4 && rng.next() < 0.5) {
    odv.setUint32(at + 8, pickOf(rng, ABSURD32), true); // a Basic Offset Table entry
    return { bytes: out, what: "basicOffsetTable" };
  }
  const v = pickOf(rng, [0, 1, 7, 0xffffffff, 0x7fffffff, dv.getUint32(at + 4, true) + 8, rng.int(1 << 20)]);
  odv.setUint32(at + 4, v, true);
  return { bytes: out, what: `fragmentLength(${v})` };
};

// --- PNG

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface Chunk {
  type: string;
  data: Uint8Array;
}

function pngChunks(b: Uint8Array): Chunk[] | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const out: Chunk[] = [];
  for (let p = 8; p + 12 <= b.length;) {
    const len = dv.getUint32(p);
    if (p + 12 + len > b.length) return null;
    out.push({ type: String.fromCharCode(...b.subarray(p + 4, p + 8)), data: b.slice(p + 8, p + 8 + len) });
    p += 12 + len;
  }
  return out;
}

/** Writes chunks back with correct lengths and CRCs (so a mutation gets past the checksum). */
function pngWrite(chunks: Chunk[]): Uint8Array {
  const size = 8 + chunks.reduce((s, c) => s + 12 + c.data.length, 0);
  const out = new Uint8Array(size);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(out.buffer);
  let p = 8;
  for (const c of chunks) {
    dv.setUint32(p, c.data.length);
    const typed = new Uint8Array(4 + c.data.length);
    for (let k = 0; k < 4; k++) typed[k] = c.type.charCodeAt(k);
    typed.set(c.data, 4);
    out.set(typed, p + 4);
    dv.setUint32(p + 8 + c.data.length, crc32(typed));
    p += 12 + c.data.length;
  }
  return out;
}

const pngStructured: Mutator = (b, rng) => {
  const chunks = pngChunks(b);
  if (!chunks?.length) return bitflip(b, rng);
  const ihdr = chunks.find((c) => c.type === "IHDR");
  const idats = chunks.filter((c) => c.type === "IDAT");
  const op = rng.int(8);
  if (op === 0 && ihdr) {
    const dv = new DataView(ihdr.data.buffer);
    const w = pickOf(rng, ABSURD32), h = pickOf(rng, ABSURD32);
    const which = rng.int(3);
    if (which !== 1) dv.setUint32(0, w);
    if (which !== 0) dv.setUint32(4, h);
    return { bytes: pngWrite(chunks), what: `ihdrDims(${which !== 1 ? w : "-"}x${which !== 0 ? h : "-"})` };
  }
  if (op === 1 && ihdr) {
    ihdr.data[8] = pickOf(rng, [0, 1, 2, 3, 4, 5, 8, 16, 32, 255]);
    ihdr.data[9] = pickOf(rng, [0, 1, 2, 3, 4, 5, 6, 7, 255]);
    if (rng.next() < 0.3) ihdr.data[12] = rng.int(3); // interlace
    return { bytes: pngWrite(chunks), what: `ihdrFormat(depth ${ihdr.data[8]}, type ${ihdr.data[9]})` };
  }
  if (op === 2 && idats.length) {
    for (const c of idats) {
      c.data = rng.next() < 0.5 ? new Uint8Array(0) : Uint8Array.of(0x78, 0x9c, 3, 0, 0, 0, 0, 1);
    }
    return { bytes: pngWrite(chunks), what: "emptyIdat" };
  }
  if (op === 3 && idats.length) {
    const c = pickOf(rng, idats);
    c.data = c.data.slice(0, rng.int(c.data.length + 1));
    return { bytes: pngWrite(chunks), what: "truncatedZlib" };
  }
  if (op === 4 && idats.length) {
    const c = pickOf(rng, idats);
    for (let k = 1 + rng.int(8); k > 0; k--) c.data[rng.int(c.data.length)] ^= 1 << rng.int(8);
    return { bytes: pngWrite(chunks), what: "idatBitflipWithCrc" };
  }
  if (op === 5) {
    const k = rng.int(chunks.length);
    const t = chunks[k].type;
    chunks.splice(k, 1);
    return { bytes: pngWrite(chunks), what: `dropChunk(${t})` };
  }
  if (op === 6 && ihdr) {
    chunks.splice(1 + rng.int(chunks.length), 0, { type: "IHDR", data: ihdr.data.slice() });
    return { bytes: pngWrite(chunks), what: "duplicateIhdr" };
  }
  // a chunk length field (outside the CRC) set to an absurd value
  const out = b.slice();
  const dv = new DataView(out.buffer);
  const starts: number[] = [];
  for (let p = 8; p + 12 <= b.length;) {
    starts.push(p);
    p += 12 + new DataView(b.buffer, b.byteOffset).getUint32(p);
  }
  const v = pickOf(rng, ABSURD32);
  dv.setUint32(pickOf(rng, starts), v);
  return { bytes: out, what: `chunkLength(${v})` };
};

// --- JPEG

/** Marker segments before the scan data: [offset of the 0xFF, marker, length]. */
function jpegSegments(b: Uint8Array): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let p = 2; p + 4 <= b.length;) {
    if (b[p] !== 0xff) break;
    const m = b[p + 1], len = (b[p + 2] << 8) | b[p + 3];
    out.push([p, m, len]);
    if (m === 0xda) break;
    p += 2 + len;
  }
  return out;
}

const jpegStructured: Mutator = (b, rng) => {
  const segs = jpegSegments(b);
  if (!segs.length) return bitflip(b, rng);
  const out = b.slice();
  const op = rng.int(5);
  const sof = segs.find(([, m]) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc);
  if (op === 0 && sof) {
    const [p] = sof;
    const h = pickOf(rng, ABSURD16), w = pickOf(rng, ABSURD16);
    out[p + 5] = h >> 8, out[p + 6] = h & 0xff, out[p + 7] = w >> 8, out[p + 8] = w & 0xff;
    if (rng.next() < 0.3) out[p + 9] = pickOf(rng, [0, 1, 2, 3, 4, 5, 255]);
    if (rng.next() < 0.2) out[p + 4] = pickOf(rng, [0, 1, 2, 8, 12, 16, 255]);
    return { bytes: out, what: `sofDims(${w}x${h})` };
  }
  if (op === 1) {
    const [p, m] = pickOf(rng, segs);
    const v = pickOf(rng, [0, 1, 2, 3, 0xffff, rng.int(0x10000)]);
    out[p + 2] = v >> 8, out[p + 3] = v & 0xff;
    return { bytes: out, what: `segmentLength(${m.toString(16)}=${v})` };
  }
  if (op === 2) {
    const sos = segs.find(([, m]) => m === 0xda);
    if (sos) {
      const end = sos[0] + 2 + sos[2];
      return { bytes: Uint8Array.of(...b.subarray(0, end), 0xff, 0xd9), what: "emptyScan" };
    }
  }
  if (op === 3) {
    const [p, m, len] = pickOf(
      rng,
      segs.filter(([, m]) => m !== 0xda).length ? segs.filter(([, m]) => m !== 0xda) : segs,
    );
    return { bytes: splice(b, p, Math.min(2 + len, b.length - p)), what: `dropSegment(${m.toString(16)})` };
  }
  // overwrite the SOS/DHT/DQT tables with noise
  const [p, m, len] = pickOf(rng, segs);
  for (let k = 4; k < 2 + len && p + k < out.length; k++) if (rng.next() < 0.2) out[p + k] = rng.int(256);
  return { bytes: out, what: `segmentNoise(${m.toString(16)})` };
};

// --- CSV

const csvText: Mutator = (b, rng) => {
  const text = new TextDecoder().decode(b);
  const lines = text.split("\n");
  const enc = new TextEncoder();
  const row = 1 + rng.int(Math.max(1, lines.length - 2));
  const cells = (lines[row] ?? "").split(",");
  const cell = rng.int(cells.length);
  const set = (v: string) => {
    cells[cell] = v;
    lines[row] = cells.join(",");
    return enc.encode(lines.join("\n"));
  };
  const op = rng.int(13);
  switch (op) {
    case 0: { // invalid UTF-8 inside a field
      const bad = pickOf(rng, [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [
        0xc0,
        0xaf,
      ]]);
      const pre = enc.encode(
        lines.slice(0, row).join("\n") + "\n" + cells.slice(0, cell).join(",") + (cell ? "," : ""),
      );
      return {
        bytes: splice(b, Math.min(pre.length, b.length), 0, Uint8Array.from(bad)),
        what: "invalidUtf8",
      };
    }
    case 1: { // a header column named twice
      const h = lines[0].split(",");
      h[rng.int(h.length)] = h[rng.int(h.length)];
      lines[0] = h.join(",");
      return { bytes: enc.encode(lines.join("\n")), what: "duplicateColumn" };
    }
    case 2:
      return {
        bytes: set(
          pickOf(rng, ["No Finding|Atelectasis", "Atelectasis|No Finding", "Mass||Nodule", "|", "Flu"]),
        ),
        what: "findingCombo",
      };
    case 3:
      return {
        bytes: set(
          pickOf(rng, [
            "../../../../etc/passwd",
            "/etc/passwd",
            "..",
            "C:\\Windows\\win.ini",
            "a/../../b.png",
          ]),
        ),
        what: "pathTraversal",
      };
    case 4:
      return { bytes: set(pickOf(rng, ['"', 'a"b', '"unterminated', '""', '"x"y'])), what: "quote" };
    case 5:
      lines[row] = rng.next() < 0.5 ? lines[row] + "," : cells.slice(1).join(",");
      return { bytes: enc.encode(lines.join("\n")), what: "fieldCount" };
    case 6:
      return { bytes: set(""), what: "emptyField" };
    case 7:
      return { bytes: set("a\0b"), what: "nul" };
    case 8:
      return { bytes: set("x".repeat(1 << (10 + rng.int(10)))), what: "hugeField" };
    case 9:
      return {
        bytes: set(pickOf(rng, ["2", "-1", "0.5", "1.0", "-1.0", "yes", "NaN", "1e9", " 1 "])),
        what: "labelValue",
      };
    case 10:
      return { bytes: enc.encode("\ufeff" + lines.join(rng.next() < 0.5 ? "\r\n" : "\r")), what: "lineEnds" };
    case 11: {
      const h = lines[0].split(",");
      for (let i = h.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [h[i], h[j]] = [h[j], h[i]];
      }
      lines[0] = h.join(",");
      return { bytes: enc.encode(lines.join("\n")), what: "headerShuffle" };
    }
    default:
      return { bytes: enc.encode(lines.slice(0, 1 + rng.int(2)).join("\n")), what: "headerOnly" };
  }
};

/** Bit flips inside the Pixel Data only: the header stays readable, so the codecs see damaged codestreams. */
const dicomPixelFlip: Mutator = (b, rng) => {
  const el = elementsOf(b)?.find((e) => e.tag === "x7fe00010");
  if (!el || el.dataOffset >= b.length) return bitflip(b, rng);
  const out = b.slice();
  const n = 1 + rng.int(8);
  const span = b.length - el.dataOffset;
  // compressed frames start with their headers: half the flips land in the first 512 bytes
  for (let k = 0; k < n; k++) {
    const at = el.dataOffset + (rng.next() < 0.5 ? rng.int(Math.min(span, 512)) : rng.int(span));
    out[at] ^= 1 << rng.int(8);
  }
  return { bytes: out, what: `pixelBitflip(${n})` };
};

const MUTATORS: Record<FuzzKind, [Mutator, number][]> = {
  dicom: [
    [bitflip, 2],
    [truncate, 2],
    [overwrite, 1],
    [dicomLength, 3],
    [dicomTs, 2],
    [dicomDims, 3],
    [dicomEmptyPixels, 1],
    [dicomFragments, 2],
    [dicomPixelFlip, 4],
  ],
  png: [[bitflip, 2], [truncate, 2], [overwrite, 1], [pngStructured, 6]],
  jpeg: [[bitflip, 3], [truncate, 2], [overwrite, 1], [jpegStructured, 5]],
  csv: [[bitflip, 2], [truncate, 1], [csvText, 8]],
};

function pickWeighted<T>(rng: Rng, xs: [T, number][]): T {
  let r = rng.next() * xs.reduce((s, [, w]) => s + w, 0);
  for (const [x, w] of xs) if ((r -= w) < 0) return x;
  return xs[xs.length - 1][0];
}

/** Case `index` of `seed`: a pure function of the two (and the corpus). */
export function makeCase(corpus: Corpus, seed: number, index: number): FuzzCase {
  const rng = new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const kind = pickWeighted<FuzzKind>(rng, [["dicom", 4], ["png", 2.5], ["jpeg", 1.5], ["csv", 2]]);
  const src = pickOf(rng, corpus[kind]);
  let bytes = src.bytes;
  const mutations: string[] = [];
  for (let k = rng.next() < 0.7 ? 1 : 2 + rng.int(2); k > 0; k--) {
    const m = pickWeighted(rng, MUTATORS[kind]);
    const r = m(bytes.length ? bytes : src.bytes, rng);
    bytes = r.bytes;
    mutations.push(r.what);
  }
  const ext = { dicom: "dcm", png: "png", jpeg: "jpg", csv: "csv" }[kind];
  return { index, kind, seed: src.name, mutations, name: `fuzz-${index}.${ext}`, bytes };
}

/** Frames decoded per DICOM case: all of a small file, else the first, second and last. */
function framesToDecode(n: number): number[] | undefined {
  return n <= 8 ? undefined : [0, 1, n - 1];
}

/** Runs one case through the reader its kind would reach and says how it ended. */
export async function runCase(c: FuzzCase): Promise<FuzzOutcome> {
  const t0 = performance.now();
  const done = (result: FuzzOutcome["result"], e?: unknown): FuzzOutcome => {
    const o: FuzzOutcome = { index: c.index, kind: c.kind, result, ms: Math.round(performance.now() - t0) };
    if (e !== undefined) {
      o.error = e instanceof Error ? `${e.name}: ${e.message}` : `thrown ${typeof e}: ${String(e)}`;
      if (result === "undocumented" && e instanceof Error) o.stack = e.stack;
    }
    return o;
  };
  const documented: new (...a: never[]) => Error = c.kind === "dicom"
    ? DicomError
    : c.kind === "csv"
    ? LabelError
    : ImageError;
  try {
    if (c.kind === "dicom") {
      const img = parseDicom(c.bytes, c.name);
      await decodeFrames(img, framesToDecode(img.header.frames));
      const t = await dicomToImage(img, { size: 16 });
      if (t.data.length !== t.channels * 256) throw new Error(`dicomToImage gave ${t.data.length} values`);
    } else if (c.kind === "csv") {
      const table = parseLabels(decodeCsvText(c.bytes, c.name), { file: c.name });
      parseCsv(decodeCsvText(c.bytes, c.name), c.name); // the header check runs on every format
      if (!table.entries.length) throw new Error("an empty table came out");
    } else {
      const img = decodeImage(c.bytes, { channels: 1, name: c.name });
      toModelInput(img, { channels: 1, height: 16, width: 16 });
    }
    return done("decoded");
  } catch (e) {
    const ok = e instanceof Error && e.constructor === documented && e.message.includes(c.name);
    return done(ok ? "error" : "undocumented", e);
  }
}
