/**
 * DICOM Part-10 parsing with dicom-parser and strict reading of the image header fields
 * (a bad number is an error naming the field, never a silent parseInt("1A") == 1).
 * @module
 */

import dicomParser from "dicom-parser";
import { inflateSync } from "fflate";
import { describeThrown, DicomError } from "./_dicom_error.ts";

/** The parts of dicom-parser's element we use. */
export interface DpElement {
  tag: string;
  vr?: string;
  length: number;
  dataOffset: number;
  hadUndefinedLength?: boolean;
  encapsulatedPixelData?: boolean;
  basicOffsetTable?: number[];
  fragments?: { offset: number; position: number; length: number }[];
}

/** The parts of dicom-parser's DataSet we use. */
export interface DpDataSet {
  byteArray: Uint8Array;
  elements: Record<string, DpElement>;
  string(tag: string, index?: number): string | undefined;
  uint16(tag: string, index?: number): number | undefined;
  int16(tag: string, index?: number): number | undefined;
}

/** The File Meta header as dicom-parser returns it. */
interface DpMeta {
  position: number;
  elements: Record<string, DpElement>;
  string(tag: string): string | undefined;
}

/** The dicom-parser internals used for the implicit-VR fallback (its .d.ts omits or over-constrains them). */
const dp = dicomParser as unknown as {
  readPart10Header(bytes: Uint8Array): DpMeta;
  DataSet: new (parser: unknown, bytes: Uint8Array, elements: object) => DpDataSet & { warnings: string[] };
  ByteStream: new (parser: unknown, bytes: Uint8Array, position: number) => unknown;
  littleEndianByteArrayParser: unknown;
  parseDicomDataSetImplicit(ds: DpDataSet, stream: unknown, max: number, opts: object): void;
};

/** A transfer syntax: UID and its name from PS3.6. */
export interface TransferSyntax {
  /** The UID, e.g. "1.2.840.10008.1.2.1". */
  uid: string;
  /** Its standard name, e.g. "Explicit VR Little Endian". */
  name: string;
}

/** How pixel data of a transfer syntax is stored, i.e. which decoder runs. */
export type PixelCodec =
  | "native"
  | "rle"
  | "jpeg-baseline"
  | "jpeg-lossless"
  | "jpeg-ls"
  | "jpeg2000"
  | "unsupported";

/** Known transfer syntaxes: name and the codec of its pixel data. */
export const TRANSFER_SYNTAX_TABLE: Readonly<Record<string, { name: string; codec: PixelCodec }>> = {
  "1.2.840.10008.1.2": { name: "Implicit VR Little Endian", codec: "native" },
  "1.2.840.10008.1.2.1": { name: "Explicit VR Little Endian", codec: "native" },
  "1.2.840.10008.1.2.1.99": { name: "Deflated Explicit VR Little Endian", codec: "native" },
  "1.2.840.10008.1.2.2": { name: "Explicit VR Big Endian", codec: "native" },
  "1.2.840.10008.1.2.5": { name: "RLE Lossless", codec: "rle" },
  "1.2.840.10008.1.2.4.50": { name: "JPEG Baseline (Process 1)", codec: "jpeg-baseline" },
  "1.2.840.10008.1.2.4.51": { name: "JPEG Extended (Process 2 & 4)", codec: "jpeg-baseline" },
  "1.2.840.10008.1.2.4.57": { name: "JPEG Lossless, Non-Hierarchical (Process 14)", codec: "jpeg-lossless" },
  "1.2.840.10008.1.2.4.70": {
    name: "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
    codec: "jpeg-lossless",
  },
  "1.2.840.10008.1.2.4.80": { name: "JPEG-LS Lossless Image Compression", codec: "jpeg-ls" },
  "1.2.840.10008.1.2.4.81": { name: "JPEG-LS Lossy (Near-Lossless) Image Compression", codec: "jpeg-ls" },
  "1.2.840.10008.1.2.4.90": { name: "JPEG 2000 Image Compression (Lossless Only)", codec: "jpeg2000" },
  "1.2.840.10008.1.2.4.91": { name: "JPEG 2000 Image Compression", codec: "jpeg2000" },
  // Known but not decoded: named in the error.
  "1.2.840.10008.1.2.1.98": {
    name: "Encapsulated Uncompressed Explicit VR Little Endian",
    codec: "unsupported",
  },
  "1.2.840.10008.1.2.4.52": { name: "JPEG Extended (Process 3 & 5) (retired)", codec: "unsupported" },
  "1.2.840.10008.1.2.4.53": { name: "JPEG Spectral Selection (retired)", codec: "unsupported" },
  "1.2.840.10008.1.2.4.55": { name: "JPEG Full Progression (retired)", codec: "unsupported" },
  "1.2.840.10008.1.2.4.58": { name: "JPEG Lossless, Hierarchical (retired)", codec: "unsupported" },
  "1.2.840.10008.1.2.4.92": {
    name: "JPEG 2000 Part 2 Multi-component (Lossless Only)",
    codec: "unsupported",
  },
  "1.2.840.10008.1.2.4.93": { name: "JPEG 2000 Part 2 Multi-component", codec: "unsupported" },
  "1.2.840.10008.1.2.4.94": { name: "JPIP Referenced", codec: "unsupported" },
  "1.2.840.10008.1.2.4.95": { name: "JPIP Referenced Deflate", codec: "unsupported" },
  "1.2.840.10008.1.2.4.100": { name: "MPEG2 Main Profile / Main Level", codec: "unsupported" },
  "1.2.840.10008.1.2.4.101": { name: "MPEG2 Main Profile / High Level", codec: "unsupported" },
  "1.2.840.10008.1.2.4.102": { name: "MPEG-4 AVC/H.264 High Profile / Level 4.1", codec: "unsupported" },
  "1.2.840.10008.1.2.4.103": { name: "MPEG-4 AVC/H.264 BD-compatible High Profile", codec: "unsupported" },
  "1.2.840.10008.1.2.4.104": { name: "MPEG-4 AVC/H.264 High Profile For 2D Video", codec: "unsupported" },
  "1.2.840.10008.1.2.4.105": { name: "MPEG-4 AVC/H.264 High Profile For 3D Video", codec: "unsupported" },
  "1.2.840.10008.1.2.4.106": { name: "MPEG-4 AVC/H.264 Stereo High Profile", codec: "unsupported" },
  "1.2.840.10008.1.2.4.107": { name: "HEVC/H.265 Main Profile", codec: "unsupported" },
  "1.2.840.10008.1.2.4.108": { name: "HEVC/H.265 Main 10 Profile", codec: "unsupported" },
  "1.2.840.10008.1.2.4.201": { name: "High-Throughput JPEG 2000 (Lossless Only)", codec: "unsupported" },
  "1.2.840.10008.1.2.4.202": {
    name: "High-Throughput JPEG 2000 with RPCL (Lossless Only)",
    codec: "unsupported",
  },
  "1.2.840.10008.1.2.4.203": { name: "High-Throughput JPEG 2000", codec: "unsupported" },
};

/** The transfer syntax named by `uid` (name "unknown transfer syntax" when not in PS3.6's list). */
export function transferSyntaxOf(uid: string): TransferSyntax & { codec: PixelCodec } {
  const t = TRANSFER_SYNTAX_TABLE[uid];
  return t ? { uid, ...t } : { uid, name: "unknown transfer syntax", codec: "unsupported" };
}

/** Storage class names (PS3.4) of common objects without an image, for the "no pixel data" message. */
const NO_IMAGE_MODALITIES: Record<string, string> = {
  SR: "a Structured Report",
  RTPLAN: "an RT Plan",
  RTSTRUCT: "an RT Structure Set",
  ECG: "a waveform (ECG)",
  KO: "a Key Object Selection",
  PR: "a Presentation State",
  REG: "a Spatial Registration",
};

/** Parses a Part-10 file; every failure becomes a DicomError naming `file`. */
export function parseDataSet(bytes: Uint8Array, file: string): DpDataSet {
  if (!(bytes instanceof Uint8Array)) throw new DicomError(file, "expected the file's bytes as a Uint8Array");
  if (bytes.length < 132) {
    throw new DicomError(
      file,
      `only ${bytes.length} bytes: too short for a DICOM Part-10 file (128-byte preamble + "DICM"); ` +
        "the file is truncated or not DICOM",
    );
  }
  const magic = String.fromCharCode(bytes[128], bytes[129], bytes[130], bytes[131]);
  if (magic !== "DICM") {
    throw new DicomError(
      file,
      'no "DICM" prefix at byte 128, so no DICOM File Meta header: not a DICOM Part-10 file ' +
        "(a raw data set or another format); re-save it as Part-10 (e.g. dcmconv or pydicom's save_as)",
    );
  }
  try {
    if (explicitButImplicit(bytes)) return parseImplicit(bytes);
    return dicomParser.parseDicom(bytes, { inflater }) as DpDataSet;
  } catch (e) {
    const msg = describeThrown(e);
    if (msg.includes("0002,0010")) {
      throw new DicomError(
        file,
        "the File Meta header has no Transfer Syntax UID (0002,0010), so the encoding of the data set is " +
          "unknown; re-save the file with a transfer syntax",
      );
    }
    const partial = (e as { dataSet?: DpDataSet } | undefined)?.dataSet;
    const px = partial?.elements?.x7fe00010;
    if (px && px.dataOffset + px.length > partial!.byteArray.length) {
      const have = Math.max(0, partial!.byteArray.length - px.dataOffset);
      throw new DicomError(
        file,
        `truncated file: Pixel Data (7FE0,0010) declares ${px.length} bytes but only ${have} are present; ` +
          "copy or download the file again",
      );
    }
    throw new DicomError(
      file,
      `cannot parse the data set: ${msg}; the file is truncated or corrupt, copy or download it again`,
    );
  }
}

/**
 * Some writers declare an explicit-VR transfer syntax but write the data set in implicit VR (pydicom's
 * SC_rgb_jpeg.dcm); readers like pydicom and GDCM detect it by the missing VR letters, and so do we.
 */
function explicitButImplicit(bytes: Uint8Array): boolean {
  let meta: DpMeta;
  try {
    meta = dp.readPart10Header(bytes);
  } catch {
    return false; // parseDicom reports the problem
  }
  const uid = (meta.string("x00020010") ?? "").replace(/\0/g, "").trim();
  const explicitLe = uid !== "" && uid !== "1.2.840.10008.1.2" && uid !== "1.2.840.10008.1.2.2" &&
    uid !== "1.2.840.10008.1.2.1.99";
  const p = meta.position;
  if (!explicitLe || p + 6 > bytes.length) return false;
  const isUpper = (b: number) => b >= 65 && b <= 90;
  return !(isUpper(bytes[p + 4]) && isUpper(bytes[p + 5]));
}

/** Parses the data set after the File Meta header as Implicit VR Little Endian. */
function parseImplicit(bytes: Uint8Array): DpDataSet {
  const meta = dp.readPart10Header(bytes);
  const ds = new dp.DataSet(dp.littleEndianByteArrayParser, bytes, {});
  ds.warnings = [];
  const stream = new dp.ByteStream(dp.littleEndianByteArrayParser, bytes, meta.position);
  try {
    dp.parseDicomDataSetImplicit(ds, stream, bytes.length, {});
  } catch (e) {
    throw { exception: e, dataSet: ds };
  }
  Object.assign(ds.elements, meta.elements);
  return ds as DpDataSet;
}

/** Deflated Explicit VR LE: dicom-parser calls this with the whole file and the data set's start. */
function inflater(bytes: Uint8Array, position: number): Uint8Array {
  // The data set is raw deflate (RFC 1951, no zlib header), PS3.5 A.5.
  const inflated = inflateSync(bytes.subarray(position));
  const full = new Uint8Array(position + inflated.length);
  full.set(bytes.subarray(0, position), 0);
  full.set(inflated, position);
  return full;
}

/** Formats a tag key "x00280010" as "(0028,0010)". */
export function tagLabel(tag: string): string {
  return `(${tag.slice(1, 5).toUpperCase()},${tag.slice(5, 9).toUpperCase()})`;
}

/** Reads header values with their VR rules; errors name the file and the field. */
export class HeaderReader {
  constructor(readonly ds: DpDataSet, readonly file: string) {}

  /** Whether the element is present with a non-empty value. */
  has(tag: string): boolean {
    const el = this.ds.elements[tag];
    return el !== undefined && el.length > 0;
  }

  /** Refuses an element whose value runs past the end of the file (dicom-parser would throw a string). */
  private inFile(tag: string): void {
    const el = this.ds.elements[tag];
    if (el && el.dataOffset + el.length > this.ds.byteArray.length) {
      throw new DicomError(
        this.file,
        `truncated file: element ${
          tagLabel(tag)
        } declares ${el.length} bytes at byte ${el.dataOffset}, past ` +
          `the end of the file (${this.ds.byteArray.length} bytes); copy or download the file again`,
      );
    }
  }

  /** A string value (trimmed), or undefined when absent or empty. */
  str(tag: string): string | undefined {
    if (!this.has(tag)) return undefined;
    this.inFile(tag);
    const s = this.ds.string(tag);
    return s === undefined || s === "" ? undefined : s.trim();
  }

  /** A US value (Rows, BitsAllocated…); undefined when absent. */
  us(tag: string, field: string): number | undefined {
    const el = this.ds.elements[tag];
    if (!el || el.length === 0) return undefined;
    if (el.length < 2) throw this.bad(tag, field, `${el.length}-byte value, expected US (2 bytes)`);
    this.inFile(tag);
    return this.ds.uint16(tag);
  }

  /** All values of a decimal-string (DS) element; [] when absent. */
  ds_(tag: string, field: string): number[] {
    const s = this.str(tag);
    if (s === undefined) return [];
    return s.split("\\").map((part) => {
      const t = part.trim();
      const v = Number(t);
      if (t === "" || !Number.isFinite(v)) throw this.bad(tag, field, `"${s}" is not a decimal string (DS)`);
      return v;
    });
  }

  /** One integer-string (IS) value; undefined when absent. */
  is(tag: string, field: string): number | undefined {
    const s = this.str(tag);
    if (s === undefined) return undefined;
    if (!/^[+-]?\d+$/.test(s)) throw this.bad(tag, field, `"${s}" is not an integer string (IS)`);
    return Number(s);
  }

  /** The error for a malformed value. */
  bad(tag: string, field: string, what: string): DicomError {
    return new DicomError(
      this.file,
      `bad value of ${field} ${tagLabel(tag)}: ${what}; the header is corrupt (bad VR or value), ` +
        "fix the element (e.g. with dcmodify) or re-export the file",
    );
  }
}

/** The message for a file without Pixel Data, naming what the object is when the modality says so. */
export function noPixelDataMessage(modality: string): string {
  const what = NO_IMAGE_MODALITIES[modality];
  const kind = what
    ? `it is ${what} (Modality ${modality}), not an image`
    : modality
    ? `Modality ${modality}`
    : "no Modality";
  return `no Pixel Data (7FE0,0010) element (${kind}); only image objects can be decoded, pick an image file`;
}
