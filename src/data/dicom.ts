/**
 * DICOM decoding for the data layer: bytes in, arrays out (Deno and browsers).
 *
 * `parseDicom` reads the header (dicom-parser; implicit/explicit little endian, explicit big endian,
 * deflated), `decodeFrames` gives each frame in modality units (Hounsfield units for CT: stored values
 * masked to BitsStored, sign-extended, times RescaleSlope plus RescaleIntercept), and `dicomToImage`
 * windows and resizes one frame to a (C, H, W) tensor for a Dataset (one window → 1 channel, the RSNA
 * brain/subdural/bone windows → 3 channels). Compressed syntaxes: RLE, JPEG baseline/extended 8-bit,
 * JPEG Lossless, JPEG-LS and JPEG 2000 (WASM, loaded lazily, hence the async decoders).
 * Every failure is a `DicomError` naming the file, the problem and what to do.
 * @module
 */

import { DicomError, explainCodecError } from "./_dicom_error.ts";
import {
  codestreamDims,
  type DecodedSamples,
  decodeJpeg2000,
  decodeJpegBaseline,
  decodeJpegLossless,
  decodeJpegLs,
  decodeRle,
  type IntSamples,
  setCodecModuleOptions,
} from "./_dicom_codecs.ts";
import type { CodecModuleOptions } from "./_dicom_codecs.ts";
import {
  type DpDataSet,
  type DpElement,
  HeaderReader,
  noPixelDataMessage,
  parseDataSet,
  type PixelCodec,
  tagLabel,
  TRANSFER_SYNTAX_TABLE,
  type TransferSyntax,
  transferSyntaxOf,
} from "./_dicom_header.ts";
import {
  expandYbr422,
  interleave,
  modalityValues,
  nativeFrameBits,
  type PaletteLut,
  paletteToGrey,
  readNativeFrame,
  rgbToGrey,
  storedValues,
  type ValueStats,
  valueStats,
  ybrToGrey,
} from "./_dicom_pixels.ts";
import { applyWindow, type CtWindow, WINDOWS } from "./window.ts";
import { resizeImage } from "./resize.ts";

export { DicomError };
export type { CodecModuleOptions, TransferSyntax, ValueStats };

/**
 * The most samples one frame may have (2^27, e.g. 11585 x 11585 grey): a header beyond it is refused
 * before any allocation. Large images in DICOM (whole-slide pathology) come as tiles in frames.
 */
export const MAX_FRAME_SAMPLES: number = 2 ** 27;

/** The header fields that decide how pixels decode, plus the file's display windows. */
export interface DicomHeader {
  /** Rows (0028,0010): image height. */
  rows: number;
  /** Columns (0028,0011): image width. */
  columns: number;
  /** Number of Frames (0028,0008), 1 when absent. */
  frames: number;
  /** Modality (0008,0060), "" when absent. */
  modality: string;
  /** Transfer syntax UID and name. */
  transferSyntax: TransferSyntax;
  /** Photometric Interpretation (0028,0004), e.g. MONOCHROME2, MONOCHROME1, RGB, YBR_FULL. */
  photometric: string;
  /** Samples per Pixel (0028,0002): 1 grey, 3 colour. */
  samplesPerPixel: number;
  /** Bits Allocated (0028,0100). */
  bitsAllocated: number;
  /** Bits Stored (0028,0101). */
  bitsStored: number;
  /** High Bit (0028,0102). */
  highBit: number;
  /** Pixel Representation (0028,0103): 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  /** Planar Configuration (0028,0006) of colour data: 0 RGBRGB…, 1 RR…GG…BB. */
  planarConfiguration: number;
  /** Rescale Slope (0028,1053), 1 when absent. */
  slope: number;
  /** Rescale Intercept (0028,1052), 0 when absent. */
  intercept: number;
  /** The file's windows (0028,1050)/(0028,1051), in modality units, in file order ([] when absent). */
  windows: CtWindow[];
  /** Whether the pixel data is compressed (encapsulated). */
  encapsulated: boolean;
}

/** A parsed DICOM file whose pixel data can be decoded. */
export interface DicomImage {
  /** The name given to `parseDicom` (used in error messages). */
  readonly name: string;
  /** The header summary. */
  readonly header: DicomHeader;
}

/** What the decoders need besides the header; kept off the public object. */
interface Internal {
  ds: DpDataSet;
  pixel: DpElement;
  codec: PixelCodec;
  bigEndian: boolean;
}
const internals = new WeakMap<DicomImage, Internal>();

/** One decoded frame before rescaling: stored values (masked, sign-extended), pixel-interleaved. */
export interface RawFrame {
  /** rows * columns * samples values. */
  values: Float64Array;
  /** Samples per pixel in `values` (1 or 3). */
  samples: number;
  /** What the samples are: grey, RGB, Y Cb Cr (full range) or palette indices. */
  colorSpace: "MONOCHROME" | "RGB" | "YBR" | "PALETTE";
}

/** Transfer syntaxes this module decodes (UID → name). */
export function supportedTransferSyntaxes(): TransferSyntax[] {
  return Object.entries(TRANSFER_SYNTAX_TABLE)
    .filter(([, t]) => t.codec !== "unsupported")
    .map(([uid, t]) => ({ uid, name: t.name }));
}

/**
 * Options for the WASM codecs (JPEG-LS, JPEG 2000). In a browser bundle pass `locateFile` to say where
 * `charlswasm_decode.wasm` / `openjpegwasm_decode.wasm` are served; Deno needs nothing.
 */
export function configureDicomCodecs(opts: CodecModuleOptions): void {
  setCodecModuleOptions(opts);
}

/**
 * Parses a DICOM Part-10 file and checks that it holds decodable pixel data.
 * Throws `DicomError` (naming `name`) for non-DICOM, truncated, imageless or malformed files.
 */
export function parseDicom(bytes: Uint8Array, name = "<bytes>"): DicomImage {
  const ds = parseDataSet(bytes, name);
  const h = new HeaderReader(ds, name);
  const uid = (h.str("x00020010") ?? "").replace(/\0/g, "").trim();
  const ts = transferSyntaxOf(uid);
  const modality = h.str("x00080060") ?? "";
  const pixel = ds.elements.x7fe00010;
  if (!pixel) {
    if (ds.elements.x7fe00008 || ds.elements.x7fe00009) {
      throw new DicomError(
        name,
        "Float/Double Float Pixel Data (parametric maps) is not supported; only integer Pixel Data " +
          "(7FE0,0010) decodes",
      );
    }
    throw new DicomError(name, noPixelDataMessage(modality));
  }
  const need = (tag: string, field: string): number => {
    const v = h.us(tag, field);
    if (v === undefined) {
      throw new DicomError(
        name,
        `has Pixel Data but no ${field} ${
          tag === "x00280010" ? "(0028,0010)" : tag === "x00280011" ? "(0028,0011)" : "(0028,0100)"
        }, ` +
          "which is required to decode it; the header is incomplete, fix or re-export the file",
      );
    }
    return v;
  };
  const rows = need("x00280010", "Rows");
  const columns = need("x00280011", "Columns");
  const bitsAllocated = need("x00280100", "BitsAllocated");
  const samplesPerPixel = h.us("x00280002", "SamplesPerPixel") ?? 1;
  const bitsStored = h.us("x00280101", "BitsStored") ?? bitsAllocated;
  const highBit = h.us("x00280102", "HighBit") ?? bitsStored - 1;
  const pixelRepresentation = h.us("x00280103", "PixelRepresentation") ?? 0;
  const planarConfiguration = h.us("x00280006", "PlanarConfiguration") ?? 0;
  const photometric = (h.str("x00280004") ?? (samplesPerPixel === 1 ? "MONOCHROME2" : "RGB")).toUpperCase();
  const frames = h.is("x00280008", "NumberOfFrames") ?? 1;
  const slope = h.ds_("x00281053", "RescaleSlope")[0] ?? 1;
  const intercept = h.ds_("x00281052", "RescaleIntercept")[0] ?? 0;
  const centers = h.ds_("x00281050", "WindowCenter");
  const widths = h.ds_("x00281051", "WindowWidth");
  const windows: CtWindow[] = [];
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    if (widths[i] > 0) windows.push({ center: centers[i], width: widths[i] });
  }
  if (rows === 0 || columns === 0) throw new DicomError(name, `empty image: ${rows} x ${columns} pixels`);
  if (frames < 1) throw h.bad("x00280008", "NumberOfFrames", `${frames} frames`);
  if (![1, 8, 16, 32].includes(bitsAllocated)) {
    throw h.bad("x00280100", "BitsAllocated", `${bitsAllocated} (supported: 1, 8, 16, 32)`);
  }
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw h.bad(
      "x00280101",
      "BitsStored/HighBit",
      `BitsStored ${bitsStored}, HighBit ${highBit} with BitsAllocated ${bitsAllocated}`,
    );
  }
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) {
    throw h.bad("x00280002", "SamplesPerPixel", `${samplesPerPixel} (supported: 1 grey, 3 colour)`);
  }
  if (rows * columns * samplesPerPixel > MAX_FRAME_SAMPLES) {
    throw h.bad(
      "x00280010",
      "Rows/Columns",
      `${rows} x ${columns} x ${samplesPerPixel} samples per frame, more than this reader decodes ` +
        `(${MAX_FRAME_SAMPLES})`,
    );
  }
  const header: DicomHeader = {
    rows,
    columns,
    frames,
    modality,
    transferSyntax: { uid: ts.uid, name: ts.name },
    photometric,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation,
    planarConfiguration,
    slope,
    intercept,
    windows,
    encapsulated: pixel.encapsulatedPixelData === true || pixel.hadUndefinedLength === true,
  };
  if (ts.codec === "native") {
    if (header.encapsulated) {
      throw new DicomError(
        name,
        `Pixel Data is encapsulated but the transfer syntax is ${ts.name} (${ts.uid})`,
      );
    }
    // YBR_FULL_422 stores 2 samples per pixel on average (Y1 Y2 Cb Cr per pixel pair).
    const frameBits = photometric === "YBR_FULL_422" && samplesPerPixel === 3
      ? rows * Math.ceil(columns / 2) * 4 * bitsAllocated
      : nativeFrameBits(header);
    const needBytes = Math.ceil((frames * frameBits) / 8);
    const have = Math.min(pixel.length, ds.byteArray.length - pixel.dataOffset);
    if (have < needBytes) {
      throw new DicomError(
        name,
        `truncated Pixel Data: ${have} bytes, but ${frames} frame(s) of ${rows} x ${columns} x ` +
          `${samplesPerPixel} samples at ${bitsAllocated} bits need ${needBytes}; copy or download the file again`,
      );
    }
  } else if (header.encapsulated) {
    // every frame needs a fragment of its own (an item of >= 8 bytes): a count beyond that is a corrupt
    // header, refused before anything is allocated per frame
    const have = Math.max(0, ds.byteArray.length - pixel.dataOffset);
    if (frames > Math.max(1, Math.floor(have / 8))) {
      throw h.bad(
        "x00280008",
        "NumberOfFrames",
        `${frames} frames, but the encapsulated Pixel Data has ${have} bytes, room for at most ` +
          `${Math.floor(have / 8)} fragments`,
      );
    }
  }
  if (ts.codec !== "native" && ts.codec !== "unsupported" && !header.encapsulated) {
    throw new DicomError(
      name,
      `transfer syntax ${ts.name} (${ts.uid}) needs encapsulated Pixel Data, found native`,
    );
  }
  const img: DicomImage = { name, header };
  internals.set(img, { ds, pixel, codec: ts.codec, bigEndian: ts.uid === "1.2.840.10008.1.2.2" });
  return img;
}

/** The internals of an image made by parseDicom. */
function internal(img: DicomImage): Internal {
  const it = internals.get(img);
  if (!it) throw new DicomError(img?.name ?? "<bytes>", "not an image returned by parseDicom()");
  return it;
}

/** Frame indices to decode: all when `frames` is undefined; checks the range. */
function frameList(img: DicomImage, frames?: readonly number[]): number[] {
  const n = img.header.frames;
  const list = frames ? [...frames] : Array.from({ length: n }, (_, i) => i);
  for (const f of list) {
    if (!Number.isInteger(f) || f < 0 || f >= n) {
      throw new DicomError(img.name, `frame ${f} does not exist: the file has ${n} frame(s) (0..${n - 1})`);
    }
  }
  return list;
}

/**
 * Decodes frames to stored values (BitsStored masked and sign-extended, before rescale), interleaved.
 * Colour stays colour: RGB, YBR (full range, 4:2:2 expanded) or palette indices. All frames by default.
 */
export async function decodeRawFrames(img: DicomImage, frames?: readonly number[]): Promise<RawFrame[]> {
  const h = img.header;
  return (await decodeContainers(img, frames)).map((c) => ({
    values: storedValues(c.data, h, c.shiftHighBit),
    samples: h.samplesPerPixel,
    colorSpace: c.colorSpace,
  }));
}

/** A frame as decoded, before BitsStored masking: container values, pixel-interleaved. */
interface ContainerFrame {
  data: ArrayLike<number>;
  /** Native data keeps the HighBit position; codec output is right-aligned. */
  shiftHighBit: boolean;
  colorSpace: RawFrame["colorSpace"];
}

/** Decodes the container values of frames; codec failures become DicomErrors naming the frame. */
async function decodeContainers(img: DicomImage, frames?: readonly number[]): Promise<ContainerFrame[]> {
  const it = internal(img);
  const h = img.header;
  if (it.codec === "unsupported") {
    throw new DicomError(
      img.name,
      `unsupported transfer syntax ${h.transferSyntax.uid} (${h.transferSyntax.name}); supported: ` +
        "Implicit/Explicit VR Little Endian, Explicit VR Big Endian, Deflated, RLE Lossless, JPEG Baseline/" +
        "Extended (8-bit), JPEG Lossless, JPEG-LS, JPEG 2000. Convert the file (e.g. gdcmconv --raw)",
    );
  }
  const list = frameList(img, frames);
  const out: ContainerFrame[] = [];
  const fragments = it.codec === "native" ? [] : frameFragments(img, it);
  for (const f of list) {
    try {
      out.push(await decodeOne(img, it, f, fragments[f]));
    } catch (e) {
      if (e instanceof DicomError) throw e;
      throw new DicomError(
        img.name,
        `cannot decode frame ${f} (${h.transferSyntax.name}, ${h.transferSyntax.uid}): ${
          explainCodecError(e)
        }`,
      );
    }
  }
  return out;
}

/** Decodes one frame to container values. */
async function decodeOne(
  img: DicomImage,
  it: Internal,
  f: number,
  src: Uint8Array | undefined,
): Promise<ContainerFrame> {
  const h = img.header;
  const n = h.rows * h.columns;
  const spp = h.samplesPerPixel;
  const ybr422 = h.photometric === "YBR_FULL_422";
  let colorSpace: RawFrame["colorSpace"] = spp === 1
    ? (h.photometric === "PALETTE COLOR" ? "PALETTE" : "MONOCHROME")
    : h.photometric.startsWith("YBR")
    ? "YBR"
    : "RGB";
  if (it.codec === "native") {
    if (ybr422 && spp === 3) {
      // 4:2:2 native data has 2 samples per pixel on average: Y1 Y2 Cb Cr per pair.
      const bytesPerFrame = Math.ceil(h.columns / 2) * 4 * h.rows;
      const start = it.pixel.dataOffset + f * bytesPerFrame;
      const full = expandYbr422(it.ds.byteArray.subarray(start, start + bytesPerFrame), h.rows, h.columns);
      return { data: full, shiftHighBit: false, colorSpace };
    }
    let raw = readNativeFrame(it.ds.byteArray, it.pixel.dataOffset, f, h, it.bigEndian);
    if (spp > 1 && h.planarConfiguration === 1) {
      raw = interleave(raw, spp, (k) => new (raw.constructor as Float64ArrayConstructor)(k));
    }
    return { data: raw, shiftHighBit: true, colorSpace };
  } else {
    checkCodestream(img, it.codec, src!, f);
    const dec = await runCodec(it.codec, src!, h);
    if (dec.width !== h.columns || dec.height !== h.rows) {
      throw new Error(
        `the codestream is ${dec.width} x ${dec.height}, the header says ${h.columns} x ${h.rows}`,
      );
    }
    if (dec.components !== spp) {
      throw new Error(
        `the codestream has ${dec.components} component(s), the header says SamplesPerPixel ${spp}`,
      );
    }
    let data: IntSamples = dec.data;
    if (data.length < n * spp) throw new Error(`decoded ${data.length} samples, expected ${n * spp}`);
    if (spp > 1 && dec.planar) {
      data = interleave(data, spp, (k) => new (data.constructor as Uint16ArrayConstructor)(k));
    }
    if (dec.rgb) colorSpace = "RGB";
    return { data: data.subarray(0, n * spp), shiftHighBit: false, colorSpace };
  }
}

/**
 * Compares the codestream's own header (JPEG SOF, JPEG-LS SOF55, JPEG 2000 SIZ) with Rows/Columns/
 * SamplesPerPixel before the codec allocates anything for it, and refuses RLE data that cannot expand to
 * the header's size (PackBits expands at most 64-fold). A mismatch is a corrupt header or codestream.
 */
function checkCodestream(img: DicomImage, codec: PixelCodec, src: Uint8Array, f: number): void {
  const h = img.header;
  if (codec === "rle") {
    const segments = h.samplesPerPixel * Math.ceil(h.bitsAllocated / 8);
    if (h.rows * h.columns * segments > 64 * src.length) {
      throw new DicomError(
        img.name,
        `Rows x Columns (0028,0010/0011) say ${h.rows} x ${h.columns}, but frame ${f} has only ${src.length} ` +
          "bytes of RLE data, too few for that many pixels; the header or the Pixel Data is corrupt",
      );
    }
    return;
  }
  const dims = codestreamDims(src);
  if (!dims) return; // no header found: the codec reports what is wrong
  if (dims.width !== h.columns || dims.height !== h.rows || dims.components !== h.samplesPerPixel) {
    throw new DicomError(
      img.name,
      `frame ${f}: the ${h.transferSyntax.name} codestream is ${dims.width} x ${dims.height} with ` +
        `${dims.components} component(s), but the header says Columns x Rows (0028,0011/0010) ` +
        `${h.columns} x ${h.rows} and SamplesPerPixel (0028,0002) ${h.samplesPerPixel}; the header or ` +
        "the Pixel Data is corrupt, re-export the file",
    );
  }
}

/** Runs the codec of the transfer syntax on one frame's bytes. */
function runCodec(
  codec: PixelCodec,
  src: Uint8Array,
  h: DicomHeader,
): DecodedSamples | Promise<DecodedSamples> {
  switch (codec) {
    case "rle":
      return decodeRle(src, h);
    case "jpeg-baseline":
      return decodeJpegBaseline(src, h);
    case "jpeg-lossless":
      return decodeJpegLossless(src, h);
    case "jpeg-ls":
      return decodeJpegLs(src);
    case "jpeg2000":
      return decodeJpeg2000(src);
    default:
      throw new Error(`no decoder for ${codec}`);
  }
}

/**
 * The compressed bytes of every frame. Frames are split by the Basic Offset Table when present,
 * else one fragment per frame, else (JPEG family) at each JPEG start-of-image marker.
 */
function frameFragments(img: DicomImage, it: Internal): Uint8Array[] {
  const bytes = it.ds.byteArray;
  const { bot, frags } = readItems(img, bytes, it.pixel.dataOffset);
  const nFrames = img.header.frames;
  if (frags.length === 0) {
    throw new DicomError(img.name, "encapsulated Pixel Data has no fragments (empty image)");
  }
  const groups: (typeof frags)[] = [];
  if (bot.length === nFrames && nFrames > 1) {
    for (let f = 0; f < nFrames; f++) {
      const lo = bot[f], hi = f + 1 < nFrames ? bot[f + 1] : Infinity;
      groups.push(frags.filter((fr) => fr.offset >= lo && fr.offset < hi));
    }
  } else if (nFrames === 1) {
    groups.push(frags);
  } else if (frags.length === nFrames) {
    for (const fr of frags) groups.push([fr]);
  } else {
    let cur: typeof frags = [];
    for (const fr of frags) {
      if (bytes[fr.position] === 0xff && bytes[fr.position + 1] === 0xd8 && cur.length) {
        groups.push(cur);
        cur = [];
      }
      cur.push(fr);
    }
    if (cur.length) groups.push(cur);
  }
  if (groups.length < nFrames || groups.some((g) => g.length === 0)) {
    throw new DicomError(
      img.name,
      `cannot split ${frags.length} Pixel Data fragments into ${nFrames} frames (no usable Basic Offset Table)`,
    );
  }
  return groups.map((g) => {
    if (g.length === 1) return bytes.subarray(g[0].position, g[0].position + g[0].length);
    const out = new Uint8Array(g.reduce((s, fr) => s + fr.length, 0));
    let o = 0;
    for (const fr of g) out.set(bytes.subarray(fr.position, fr.position + fr.length), o), o += fr.length;
    return out;
  });
}

/**
 * Reads the items of encapsulated Pixel Data (PS3.5 A.4): the Basic Offset Table, then one item per
 * fragment, up to the Sequence Delimitation Item. Walking by item lengths (not scanning for the
 * delimiter, as dicom-parser does) keeps fragments that happen to contain delimiter bytes intact.
 */
function readItems(
  img: DicomImage,
  bytes: Uint8Array,
  start: number,
): { bot: number[]; frags: { offset: number; position: number; length: number }[] } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const bot: number[] = [];
  const frags: { offset: number; position: number; length: number }[] = [];
  let p = start, first = -1;
  for (;;) {
    if (p + 8 > bytes.length) {
      throw new DicomError(
        img.name,
        "truncated file: encapsulated Pixel Data ends without a Sequence Delimitation Item",
      );
    }
    const group = dv.getUint16(p, true), elem = dv.getUint16(p + 2, true), len = dv.getUint32(p + 4, true);
    if (group === 0xfffe && elem === 0xe0dd) break;
    if (group !== 0xfffe || elem !== 0xe000) {
      throw new DicomError(
        img.name,
        `corrupt encapsulated Pixel Data: expected an item tag (FFFE,E000) at byte ${p}`,
      );
    }
    if (p + 8 + len > bytes.length) {
      throw new DicomError(
        img.name,
        "truncated file: a Pixel Data fragment runs past the end of the file; copy it again",
      );
    }
    if (first < 0 && bot.length === 0 && frags.length === 0 && p === start) {
      for (let i = 0; i + 4 <= len; i += 4) bot.push(dv.getUint32(p + 8 + i, true));
      first = p + 8 + len;
    } else {
      frags.push({ offset: p - first, position: p + 8, length: len });
    }
    p += 8 + len;
  }
  return { bot, frags };
}

/**
 * Decodes frames to modality units as Float32Array (H*W each): stored value * RescaleSlope +
 * RescaleIntercept (Hounsfield units for CT). Colour is converted to grey luma (BT.601) of the raw
 * values; palette colour through its lookup table. All frames by default.
 */
export async function decodeFrames(img: DicomImage, frames?: readonly number[]): Promise<Float32Array[]> {
  const h = img.header;
  const raw = await decodeContainers(img, frames);
  const n = h.rows * h.columns;
  const lut = raw.length && raw[0].colorSpace === "PALETTE" ? paletteLuts(img) : undefined;
  return raw.map((r) => {
    if (r.colorSpace === "MONOCHROME") return modalityValues(r.data, h, r.shiftHighBit, h.slope, h.intercept);
    const v = storedValues(r.data, h, r.shiftHighBit);
    if (r.colorSpace === "RGB") return rgbToGrey(v, n);
    if (r.colorSpace === "YBR") return ybrToGrey(v, n);
    return paletteToGrey(v, lut![0], lut![1], lut![2]);
  });
}

/** Reads the red, green and blue palette lookup tables. */
function paletteLuts(img: DicomImage): [PaletteLut, PaletteLut, PaletteLut] {
  const { ds } = internal(img);
  const tags = [["x00281101", "x00281201"], ["x00281102", "x00281202"], ["x00281103", "x00281203"]];
  return tags.map(([dTag, dataTag]) => {
    const desc = ds.elements[dTag], data = ds.elements[dataTag];
    const inFile = (el: DpElement) => el.dataOffset + el.length <= ds.byteArray.length;
    if (!desc || !data || desc.length < 6 || !inFile(desc) || !inFile(data)) {
      throw new DicomError(
        img.name,
        "PALETTE COLOR image without a complete Palette Color Lookup Table (0028,1101-1203); decode the " +
          "indices with decodeRawFrames() or fix the file",
      );
    }
    const entries = ds.uint16(dTag, 0) || 65536;
    const firstMapped = ds.uint16(dTag, 1)!;
    const bits = ds.uint16(dTag, 2)!;
    if (data.length < 2 * entries && !(bits <= 8 && data.length === entries)) {
      throw new DicomError(
        img.name,
        `the Palette Color Lookup Table ${tagLabel(dataTag)} has ${data.length} bytes, but its descriptor ` +
          `${tagLabel(dTag)} says ${entries} entries; the header is corrupt, re-export the file`,
      );
    }
    const lut = new Uint16Array(entries);
    if (bits <= 8 && data.length === entries) {
      for (let i = 0; i < entries; i++) lut[i] = ds.byteArray[data.dataOffset + i];
    } else {
      for (let i = 0; i < entries; i++) lut[i] = ds.uint16(dataTag, i)!;
    }
    return { firstMapped, data: lut, bits };
  }) as [PaletteLut, PaletteLut, PaletteLut];
}

/** Parses and decodes all frames in modality units (HU for CT). */
export async function dicomToHu(
  bytes: Uint8Array,
  name?: string,
): Promise<{ header: DicomHeader; frames: Float32Array[] }> {
  const img = parseDicom(bytes, name);
  return { header: img.header, frames: await decodeFrames(img) };
}

/** Min, max, mean and population std over all values of the frames (float64 accumulation). */
export function frameStats(frames: readonly ArrayLike<number>[]): ValueStats {
  return valueStats(frames);
}

/** One display window: explicit, a named CT window, the file's own, or the frame's min–max range. */
export type WindowSpec = CtWindow | "brain" | "subdural" | "bone" | "file" | "minmax";

/** How `dicomToImage` turns a frame into a network input. */
export interface DicomImageOptions {
  /**
   * One window per output channel. "rsna" = brain, subdural, bone (3 channels). Default: the file's
   * window when it has one, else min–max.
   */
  windows?: WindowSpec | readonly WindowSpec[] | "rsna";
  /** Which of the file's windows "file" means (default 0, the first). */
  fileWindowIndex?: number;
  /** Output channels; a single window is repeated to fill them. Default: the number of windows. */
  channels?: number;
  /** Output size, square or [height, width]; area averaging down, bilinear up. Default: no resize. */
  size?: number | readonly [number, number];
  /** Value range: "unit" [0, 1] (default) or "symmetric" [-1, 1] (GAN inputs). */
  range?: "unit" | "symmetric";
  /** Frame of a multi-frame file (default 0). */
  frame?: number;
}

/** A windowed, resized frame ready for a Dataset. */
export interface DicomTensor {
  /** Values, (C, H, W) row-major. */
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
  /** Header of the source file. */
  header: DicomHeader;
}

/**
 * Decodes one frame, maps it through windows (MONOCHROME1 is inverted so that bright = dense, as for
 * MONOCHROME2), resizes it and scales to [0, 1] or [-1, 1]: (C, H, W).
 */
export async function dicomToImage(
  src: Uint8Array | DicomImage,
  opts: DicomImageOptions = {},
  name?: string,
): Promise<DicomTensor> {
  const img = src instanceof Uint8Array ? parseDicom(src, name) : src;
  const h = img.header;
  const [hu] = await decodeFrames(img, [opts.frame ?? 0]);
  const specs: readonly WindowSpec[] = opts.windows === "rsna"
    ? ["brain", "subdural", "bone"]
    : opts.windows === undefined
    ? [h.windows.length ? "file" : "minmax"]
    : Array.isArray(opts.windows)
    ? opts.windows as readonly WindowSpec[]
    : [opts.windows as WindowSpec];
  if (specs.length === 0) throw new DicomError(img.name, "windows: give at least one window");
  const channels = opts.channels ?? specs.length;
  if (specs.length !== 1 && specs.length !== channels) {
    throw new DicomError(
      img.name,
      `${specs.length} windows for ${channels} channels: give one window or one per channel`,
    );
  }
  const n = h.rows * h.columns;
  const out = new Float32Array(channels * n); // (C, H, W)
  const invert = h.photometric === "MONOCHROME1";
  for (let c = 0; c < channels; c++) {
    const dst = out.subarray(c * n, (c + 1) * n);
    if (c > 0 && specs.length === 1) {
      dst.set(out.subarray(0, n));
      continue;
    }
    applyWindow(hu, resolveWindow(img, specs[c], hu, opts.fileWindowIndex ?? 0), dst);
    if (invert) { for (let i = 0; i < n; i++) dst[i] = 1 - dst[i]; }
  }
  const [oh, ow] = opts.size === undefined
    ? [h.rows, h.columns]
    : typeof opts.size === "number"
    ? [opts.size, opts.size]
    : opts.size;
  if (!(Number.isInteger(oh) && Number.isInteger(ow) && oh > 0 && ow > 0)) {
    throw new DicomError(img.name, `size must be positive integers, got ${oh} x ${ow}`);
  }
  const data = resizeImage(out, channels, h.rows, h.columns, oh, ow);
  if (opts.range === "symmetric") { for (let i = 0; i < data.length; i++) data[i] = 2 * data[i] - 1; }
  return { data, channels, height: oh, width: ow, header: h };
}

/** Turns a window spec into a centre/width in modality units. */
function resolveWindow(img: DicomImage, spec: WindowSpec, hu: Float32Array, fileIndex: number): CtWindow {
  if (typeof spec === "object") {
    if (!(spec.width > 0) || !Number.isFinite(spec.center)) {
      throw new DicomError(img.name, `window ${JSON.stringify(spec)}: width must be > 0 and center finite`);
    }
    return spec;
  }
  if (spec === "file") {
    const w = img.header.windows[fileIndex];
    if (!w) {
      throw new DicomError(
        img.name,
        `the file has ${img.header.windows.length} window(s) (WindowCenter/Width, 0028,1050/1051), ` +
          `so "file" window ${fileIndex} does not exist; pass a window ({center, width}, "brain", "minmax"…)`,
      );
    }
    return w;
  }
  if (spec === "minmax") {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < hu.length; i++) {
      if (hu[i] < lo) lo = hu[i];
      if (hu[i] > hi) hi = hu[i];
    }
    // A constant image maps to 0 (its window starts at its value).
    return hi > lo ? { center: (lo + hi) / 2, width: hi - lo } : { center: lo + 0.5, width: 1 };
  }
  const named = WINDOWS[spec];
  if (!named) {
    throw new DicomError(
      img.name,
      `unknown window "${spec}"; use brain, subdural, bone, file, minmax or {center, width}`,
    );
  }
  return named;
}

/** Throughput of decode + window + resize, measured by `benchDicomDecode`. */
export interface DicomBenchResult {
  /** Images per second. */
  imagesPerSecond: number;
  /** Milliseconds per image. */
  msPerImage: number;
  /** Iterations timed (after one warm-up). */
  iterations: number;
}

/**
 * Times parse + decode + window + resize of one file `iterations` times (default: RSNA 3 windows to
 * 64 x 64), after one untimed warm-up (which also loads WASM codecs).
 */
export async function benchDicomDecode(
  bytes: Uint8Array,
  iterations: number,
  opts: DicomImageOptions = { windows: "rsna", size: 64 },
): Promise<DicomBenchResult> {
  await dicomToImage(bytes, opts, "bench");
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) await dicomToImage(bytes, opts, "bench");
  const ms = (performance.now() - t0) / Math.max(1, iterations);
  return { imagesPerSecond: 1000 / ms, msPerImage: ms, iterations };
}
