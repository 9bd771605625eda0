/**
 * A minimal DICOM writer for CT slices: one uncompressed, explicit-VR little-endian Part-10 file per
 * slice (CT Image Storage), with Rescale Slope/Intercept so readers recover Hounsfield units, and a
 * display window. Hand-written (about one page) rather than through a general DICOM library so that it
 * runs unchanged in Deno and browsers and writes exactly the elements listed here.
 * @module
 */

import type { Rng } from "../util/rng.ts";

/** SOP Class UID of CT Image Storage. */
export const CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2";
/** Transfer Syntax UID of Explicit VR Little Endian. */
export const EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1";
/** Implementation Class UID of this writer (a 2.25 UUID-derived UID, fixed). */
export const IMPLEMENTATION_CLASS_UID = "2.25.150323867519411063417153946937843712207";

/** One CT slice to write. */
export interface DicomCtSlice {
  /** Hounsfield units, (rows, columns) row-major; rounded to integers and clipped to the stored range. */
  hu: ArrayLike<number>;
  /** Image height. */
  rows: number;
  /** Image width. */
  columns: number;
  /** SOP Instance UID (also the Media Storage SOP Instance UID). */
  sopInstanceUid: string;
  /** Study Instance UID. */
  studyInstanceUid: string;
  /** Series Instance UID. */
  seriesInstanceUid: string;
  /** Frame of Reference UID; default: the series UID. */
  frameOfReferenceUid?: string;
  /** Patient ID (synthetic). */
  patientId: string;
  /** Patient's Name; default "Phantom^<patientId>". */
  patientName?: string;
  /** Instance Number (1-based position in the series). */
  instanceNumber: number;
  /** Pixel spacing [row, column] in mm; default [0.45, 0.45]. */
  pixelSpacing?: [number, number];
  /** Slice thickness in mm; default 5. */
  sliceThickness?: number;
  /** Image Position (Patient) of the first pixel, mm; default centred, z = (instance − 1) × thickness. */
  imagePosition?: [number, number, number];
  /** Window centre/width written for viewers; default 40/80 (brain). */
  window?: { center: number; width: number };
  /** Rescale Intercept; default −1024 (stored = HU + 1024, unsigned 12 bits, as most CT scanners). */
  rescaleIntercept?: number;
  /** Series Description. */
  seriesDescription?: string;
  /** Manufacturer. */
  manufacturer?: string;
}

/** A DICOM UID "2.25.<128-bit integer>" (UUID-derived form, ISO/IEC 9834-8) drawn from `rng`. */
export function randomUid(rng: Rng): string {
  let v = 0n;
  for (let i = 0; i < 4; i++) v = (v << 32n) | BigInt(rng.nextU32());
  return `2.25.${v}`;
}

type Vr = "UL" | "OB" | "OW" | "UI" | "SH" | "CS" | "DA" | "TM" | "LO" | "PN" | "DS" | "IS" | "US";

class Writer {
  private chunks: Uint8Array[] = [];
  length = 0;

  bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  element(group: number, elem: number, vr: Vr, value: Uint8Array): void {
    const long = vr === "OB" || vr === "OW";
    const head = new Uint8Array(long ? 12 : 8);
    const dv = new DataView(head.buffer);
    dv.setUint16(0, group, true);
    dv.setUint16(2, elem, true);
    head[4] = vr.charCodeAt(0);
    head[5] = vr.charCodeAt(1);
    if (long) dv.setUint32(8, value.length, true);
    else {
      if (value.length > 0xffff) throw new Error(`DICOM write: element (${group},${elem}) too long`);
      dv.setUint16(6, value.length, true);
    }
    this.bytes(head);
    this.bytes(value);
  }

  str(group: number, elem: number, vr: Vr, s: string): void {
    let b = new TextEncoder().encode(s);
    if (b.length % 2) { // values have even length: UIDs pad with NUL, text with a space
      const p = new Uint8Array(b.length + 1);
      p.set(b);
      p[b.length] = vr === "UI" ? 0 : 0x20;
      b = p;
    }
    this.element(group, elem, vr, b);
  }

  us(group: number, elem: number, v: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, true);
    this.element(group, elem, "US", b);
  }

  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** A decimal string for DS (at most 16 characters). */
function ds(v: number): string {
  const s = String(Number(v.toPrecision(10)));
  if (s.length > 16) return v.toExponential(8);
  return s;
}

/** Writes one CT slice as a DICOM Part-10 file (explicit VR little endian, uint16 pixels). */
export function writeDicomCt(slice: DicomCtSlice): Uint8Array {
  const { rows, columns } = slice;
  if (!(Number.isInteger(rows) && rows > 0 && rows <= 0xffff && Number.isInteger(columns) && columns > 0)) {
    throw new Error(`DICOM write: rows/columns must be positive integers, got ${rows}x${columns}`);
  }
  if (slice.hu.length !== rows * columns) {
    throw new Error(
      `DICOM write: hu has ${slice.hu.length} values, expected rows*columns = ${rows * columns}`,
    );
  }
  const intercept = slice.rescaleIntercept ?? -1024;
  const spacing = slice.pixelSpacing ?? [0.45, 0.45];
  const thick = slice.sliceThickness ?? 5;
  const pos = slice.imagePosition ??
    [-(columns * spacing[1]) / 2, -(rows * spacing[0]) / 2, (slice.instanceNumber - 1) * thick];
  const win = slice.window ?? { center: 40, width: 80 };

  const meta = new Writer();
  meta.element(0x0002, 0x0001, "OB", new Uint8Array([0, 1]));
  meta.str(0x0002, 0x0002, "UI", CT_IMAGE_STORAGE);
  meta.str(0x0002, 0x0003, "UI", slice.sopInstanceUid);
  meta.str(0x0002, 0x0010, "UI", EXPLICIT_VR_LITTLE_ENDIAN);
  meta.str(0x0002, 0x0012, "UI", IMPLEMENTATION_CLASS_UID);
  meta.str(0x0002, 0x0013, "SH", "MEDSYNTH_0_1");
  const metaBytes = meta.concat();

  const d = new Writer();
  d.str(0x0008, 0x0005, "CS", "ISO_IR 100");
  d.str(0x0008, 0x0008, "CS", "DERIVED\\SECONDARY\\AXIAL");
  d.str(0x0008, 0x0016, "UI", CT_IMAGE_STORAGE);
  d.str(0x0008, 0x0018, "UI", slice.sopInstanceUid);
  d.str(0x0008, 0x0020, "DA", ""); // Study Date: type 2, left empty (synthetic data)
  d.str(0x0008, 0x0030, "TM", "");
  d.str(0x0008, 0x0050, "SH", "");
  d.str(0x0008, 0x0060, "CS", "CT");
  d.str(0x0008, 0x0070, "LO", slice.manufacturer ?? "medsynth phantom");
  d.str(0x0008, 0x0090, "PN", "");
  d.str(0x0008, 0x103e, "LO", slice.seriesDescription ?? "synthetic head CT phantom");
  d.str(0x0010, 0x0010, "PN", slice.patientName ?? `Phantom^${slice.patientId}`);
  d.str(0x0010, 0x0020, "LO", slice.patientId);
  d.str(0x0010, 0x0030, "DA", "");
  d.str(0x0010, 0x0040, "CS", "");
  d.str(0x0018, 0x0050, "DS", ds(thick));
  d.str(0x0018, 0x0060, "DS", "120");
  d.str(0x0020, 0x000d, "UI", slice.studyInstanceUid);
  d.str(0x0020, 0x000e, "UI", slice.seriesInstanceUid);
  d.str(0x0020, 0x0010, "SH", "1");
  d.str(0x0020, 0x0011, "IS", "1");
  d.str(0x0020, 0x0013, "IS", String(slice.instanceNumber));
  d.str(0x0020, 0x0032, "DS", pos.map(ds).join("\\"));
  d.str(0x0020, 0x0037, "DS", "1\\0\\0\\0\\1\\0");
  d.str(0x0020, 0x0052, "UI", slice.frameOfReferenceUid ?? slice.seriesInstanceUid);
  d.str(0x0020, 0x1041, "DS", ds(pos[2]));
  d.us(0x0028, 0x0002, 1);
  d.str(0x0028, 0x0004, "CS", "MONOCHROME2");
  d.us(0x0028, 0x0010, rows);
  d.us(0x0028, 0x0011, columns);
  d.str(0x0028, 0x0030, "DS", `${ds(spacing[0])}\\${ds(spacing[1])}`);
  d.us(0x0028, 0x0100, 16);
  d.us(0x0028, 0x0101, 12);
  d.us(0x0028, 0x0102, 11);
  d.us(0x0028, 0x0103, 0);
  d.str(0x0028, 0x1050, "DS", ds(win.center));
  d.str(0x0028, 0x1051, "DS", ds(win.width));
  d.str(0x0028, 0x1052, "DS", ds(intercept));
  d.str(0x0028, 0x1053, "DS", "1");
  d.str(0x0028, 0x1054, "LO", "HU");
  const px = new Uint8Array(rows * columns * 2);
  const pv = new DataView(px.buffer);
  for (let i = 0; i < rows * columns; i++) {
    const v = Math.round(slice.hu[i] - intercept);
    pv.setUint16(2 * i, v < 0 ? 0 : v > 4095 ? 4095 : v, true);
  }
  d.element(0x7fe0, 0x0010, "OW", px);
  const body = d.concat();

  const groupLen = new Writer();
  const ul = new Uint8Array(4);
  new DataView(ul.buffer).setUint32(0, metaBytes.length, true);
  groupLen.element(0x0002, 0x0000, "UL", ul);
  const gl = groupLen.concat();

  const out = new Uint8Array(132 + gl.length + metaBytes.length + body.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128); // "DICM" after the 128-byte preamble
  out.set(gl, 132);
  out.set(metaBytes, 132 + gl.length);
  out.set(body, 132 + gl.length + metaBytes.length);
  return out;
}
