/**
 * Decoders for encapsulated (compressed) DICOM frames: RLE Lossless (PS3.5 Annex G, written here),
 * JPEG baseline/extended 8-bit (jpeg-js), JPEG Lossless (jpeg-lossless-decoder-js), JPEG-LS (CharLS) and
 * JPEG 2000 (OpenJPEG). The last two are emscripten WASM builds, loaded lazily on first use.
 * @module
 */

import jpeg from "jpeg-js";
import { Decoder as JpegLosslessDecoder } from "jpeg-lossless-decoder-js";
import { type CodestreamDims, jpegFrameHeader } from "./jpeg.ts";
import { describeThrown } from "./_dicom_error.ts";

export type { CodestreamDims };

/** Integer sample arrays a decoder may return. */
export type IntSamples = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

/** One decoded frame: samples, pixel-interleaved unless `planar`. */
export interface DecodedSamples {
  /** rows * columns * samplesPerPixel values. */
  data: IntSamples;
  /** Colour planes one after another (R…, G…, B…) instead of RGBRGB… */
  planar: boolean;
  /** The codec already converted YCbCr to RGB (JPEG colour transform, JPEG 2000 MCT). */
  rgb: boolean;
  /** Width and height the codestream declared (checked against the header). */
  width: number;
  height: number;
  /** Components the codestream declared. */
  components: number;
}

/** The geometry the header promises for a frame. */
export interface FrameGeometry {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  photometric: string;
}

/**
 * RLE Lossless (PS3.5 Annex G): a 64-byte header of 16 LE uint32 (segment count, then offsets), each
 * segment a PackBits byte stream of one byte plane (most significant first) of one sample.
 */
export function decodeRle(src: Uint8Array, g: FrameGeometry): DecodedSamples {
  const bytesPer = g.bitsAllocated / 8;
  if (!Number.isInteger(bytesPer) || bytesPer > 4) {
    throw new Error(`RLE with BitsAllocated ${g.bitsAllocated} is not supported (8, 16 or 32 only)`);
  }
  if (src.length < 64) throw new Error(`RLE frame of ${src.length} bytes is shorter than its 64-byte header`);
  const hdr = new DataView(src.buffer, src.byteOffset, 64);
  const nSeg = hdr.getUint32(0, true);
  const want = bytesPer * g.samplesPerPixel;
  if (nSeg !== want) {
    throw new Error(
      `RLE header has ${nSeg} segments, expected ${want} (${g.samplesPerPixel} samples x ${bytesPer} bytes)`,
    );
  }
  const n = g.rows * g.columns;
  const planes = new Uint8Array(n * nSeg); // segment s at [s*n, (s+1)*n)
  for (let s = 0; s < nSeg; s++) {
    const start = hdr.getUint32(4 + 4 * s, true);
    const end = s + 1 < nSeg ? hdr.getUint32(8 + 4 * s, true) : src.length;
    if (start < 64 || end > src.length || start > end) {
      throw new Error(`RLE segment ${s} offset out of range`);
    }
    unpackBits(src, start, end, planes, s * n, n);
  }
  const spp = g.samplesPerPixel;
  const data = bytesPer === 1
    ? new Uint8Array(n * spp)
    : bytesPer === 2
    ? new Uint16Array(n * spp)
    : new Uint32Array(n * spp);
  for (let c = 0; c < spp; c++) {
    for (let b = 0; b < bytesPer; b++) {
      const plane = planes.subarray((c * bytesPer + b) * n, (c * bytesPer + b + 1) * n);
      const shift = 8 * (bytesPer - 1 - b);
      if (shift === 0) { for (let i = 0; i < n; i++) data[i * spp + c] += plane[i]; }
      else for (let i = 0; i < n; i++) data[i * spp + c] += plane[i] * 2 ** shift;
    }
  }
  return { data, planar: false, rgb: false, width: g.columns, height: g.rows, components: spp };
}

/** PackBits: header byte h >= 0 copies h+1 literal bytes, -127..-1 repeats the next byte 1-h times. */
function unpackBits(src: Uint8Array, pos: number, end: number, out: Uint8Array, o: number, n: number): void {
  const stop = o + n;
  while (pos < end && o < stop) {
    const h = src[pos++];
    if (h < 128) {
      const len = Math.min(h + 1, stop - o, end - pos);
      out.set(src.subarray(pos, pos + len), o);
      pos += h + 1;
      o += len;
    } else if (h > 128) {
      const len = Math.min(257 - h, stop - o);
      out.fill(src[pos++], o, o + len);
      o += len;
    } // h == 128 (-128): no-op
  }
  if (o < stop) throw new Error(`RLE segment ends after ${n - (stop - o)} of ${n} bytes (truncated)`);
}

/**
 * JPEG baseline / extended with 8-bit precision. Grey frames use libjpeg-turbo (WASM: 6x faster than
 * jpeg-js and bit-identical to GDCM's libjpeg); colour frames use jpeg-js, whose colour transform can be
 * switched off so the samples stay in the Photometric Interpretation's colour space.
 */
export async function decodeJpegBaseline(src: Uint8Array, g: FrameGeometry): Promise<DecodedSamples> {
  const precision = jpegPrecision(src);
  if (precision > 8) {
    throw new Error(
      `${precision}-bit JPEG Extended (Process 4) is not supported: the decoders available to this ` +
        "module (jpeg-js, libjpeg-turbo-8bit) handle 8-bit JPEG only; convert the file to a lossless " +
        "syntax (e.g. gdcmconv --raw or dcmdjpeg)",
    );
  }
  if (g.samplesPerPixel === 1) {
    const { bytes, info } = await runWasm("libjpeg-turbo", "JPEGDecoder", src);
    return {
      data: bytes,
      planar: false,
      rgb: false,
      width: info.width,
      height: info.height,
      components: info.componentCount,
    };
  }
  // Keep the components as coded, so they match the Photometric Interpretation (YBR_FULL stays Y Cb Cr,
  // as pydicom/GDCM return it); grey conversion takes Y then. (An Adobe APP14 transform flag still wins.)
  const colorTransform = g.samplesPerPixel === 3 ? false : undefined;
  const img = jpeg.decode(src, {
    useTArray: true,
    formatAsRGBA: false,
    colorTransform,
    tolerantDecoding: false,
    maxMemoryUsageInMB: 2048,
  });
  const n = img.width * img.height;
  const comps = g.samplesPerPixel === 1 ? 1 : 3;
  let data = img.data as Uint8Array; // always 3 channels with formatAsRGBA false (grey replicated)
  if (comps === 1) {
    const grey = new Uint8Array(n);
    for (let i = 0; i < n; i++) grey[i] = data[3 * i];
    data = grey;
  }
  return { data, planar: false, rgb: false, width: img.width, height: img.height, components: comps };
}

/** The sample precision in the JPEG SOF marker (8 when not found: let the decoder complain). */
function jpegPrecision(src: Uint8Array): number {
  return jpegFrameHeader(src)?.precision ?? 8;
}

/** The image size of a JPEG 2000 codestream (SOC then the SIZ marker segment); null when absent. */
function j2kSize(src: Uint8Array): CodestreamDims | null {
  if (src.length < 42 || src[0] !== 0xff || src[1] !== 0x4f || src[2] !== 0xff || src[3] !== 0x51) {
    return null;
  }
  const dv = new DataView(src.buffer, src.byteOffset, src.length);
  return {
    width: dv.getUint32(8) - dv.getUint32(16),
    height: dv.getUint32(12) - dv.getUint32(20),
    components: dv.getUint16(40),
    precision: (src[42] & 0x7f) + 1,
  };
}

/** The size a compressed frame declares for itself (JPEG family or JPEG 2000), or null when unknown. */
export function codestreamDims(src: Uint8Array): CodestreamDims | null {
  return jpegFrameHeader(src) ?? j2kSize(src);
}

/** JPEG Lossless, Process 14 (any predictor). */
export function decodeJpegLossless(src: Uint8Array, g: FrameGeometry): DecodedSamples {
  const dec = new JpegLosslessDecoder();
  const copy = src.slice(); // the decoder wants a whole ArrayBuffer
  const out = dec.decode(copy.buffer, 0, copy.length, g.bitsAllocated <= 8 ? 1 : 2) as
    | Uint8Array
    | Uint16Array;
  const d = dec as unknown as { xDim: number; yDim: number; numComp: number };
  return { data: out, planar: false, rgb: false, width: d.xDim, height: d.yDim, components: d.numComp };
}

/** Options handed to the emscripten module factories (e.g. `locateFile` for the .wasm in a browser). */
export interface CodecModuleOptions {
  /** Maps "charlswasm_decode.wasm" / "openjpegwasm_decode.wasm" to a URL the browser can fetch. */
  locateFile?: (file: string, scriptDirectory: string) => string;
}

let moduleOptions: CodecModuleOptions = {};

/** Sets options for the WASM codecs; call before the first JPEG-LS / JPEG 2000 decode. */
export function setCodecModuleOptions(opts: CodecModuleOptions): void {
  moduleOptions = { ...opts };
}

interface WasmFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}
interface WasmDecoder {
  getEncodedBuffer(n: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): WasmFrameInfo;
  getInterleaveMode?(): number;
  delete(): void;
}
type Factory = (opts: object) => Promise<Record<string, new () => WasmDecoder>>;

/** What the WASM codecs printed while decoding the current frame (their errors go there, not to throws). */
const codecLog: string[] = [];

type CodecKey = "charls" | "openjpeg" | "libjpeg-turbo";

const modules = new Map<string, Promise<Record<string, new () => WasmDecoder>>>();

/** Loads (once) an emscripten codec module. */
function loadModule(key: CodecKey): Promise<Record<string, new () => WasmDecoder>> {
  let p = modules.get(key);
  if (!p) {
    // Literal specifiers so bundlers can see them.
    const imp = key === "charls"
      ? import("@cornerstonejs/codec-charls/decodewasmjs")
      : key === "openjpeg"
      ? import("@cornerstonejs/codec-openjpeg/decodewasmjs")
      : import("@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs");
    p = imp.then((m) => {
      const factory = ((m as { default?: unknown }).default ?? m) as Factory;
      // OpenJPEG logs every tile at INFO level; keep the console quiet (errors surface as exceptions).
      const log = (line: string) => codecLog.push(line);
      return factory({ print: log, printErr: log, ...moduleOptions });
    });
    p.catch(() => modules.delete(key)); // let a later call retry (e.g. after setCodecModuleOptions)
    modules.set(key, p);
  }
  return p;
}

/** Runs one WASM decoder: copy in, decode, copy out (the WASM heap is reused), free. */
async function runWasm(
  key: CodecKey,
  cls: string,
  src: Uint8Array,
): Promise<{ bytes: Uint8Array; info: WasmFrameInfo; interleave: number }> {
  const mod = await loadModule(key);
  const dec = new mod[cls]();
  codecLog.length = 0;
  let thrown = false;
  try {
    dec.getEncodedBuffer(src.length).set(src);
    try {
      dec.decode();
    } catch (e) {
      thrown = true;
      // a C++ exception escapes as a bare number; the module may hold its half-built state, so the next
      // frame gets a fresh instance
      modules.delete(key);
      const errors = codecLog.filter((l) => /error/i.test(l)).map((l) => l.replace("[ERROR]", "").trim());
      if (e instanceof Error) throw e;
      throw new Error(
        `the ${CODEC_NAMES[key]} decoder rejected the compressed data (corrupt or truncated codestream` +
          `${errors.length ? `: ${errors.join("; ")}` : ""}; internal code ${String(e)})`,
      );
    }
    const info = dec.getFrameInfo();
    if (!(info.width > 0 && info.height > 0)) {
      const errors = codecLog.filter((l) => /error/i.test(l)).map((l) => l.replace("[ERROR]", "").trim())
        .join("; ");
      throw new Error(
        `the ${key} decoder produced no image (corrupt codestream)${errors ? `: ${errors}` : ""}`,
      );
    }
    const interleave = dec.getInterleaveMode ? dec.getInterleaveMode() : 1;
    return { bytes: dec.getDecodedBuffer().slice(), info, interleave };
  } finally {
    try {
      dec.delete();
    } catch (e) {
      // after a C++ exception the instance may not free cleanly; that module is dropped above
      if (!thrown) console.warn(`${CODEC_NAMES[key]} decoder: freeing failed: ${describeThrown(e)}`);
    }
  }
}

/** The libraries behind the WASM codecs, for messages. */
const CODEC_NAMES: Record<CodecKey, string> = {
  charls: "JPEG-LS (CharLS)",
  openjpeg: "JPEG 2000 (OpenJPEG)",
  "libjpeg-turbo": "JPEG (libjpeg-turbo)",
};

/** Wraps decoded bytes as the integer type the frame info says. */
function typed(bytes: Uint8Array, info: WasmFrameInfo): IntSamples {
  if (info.bitsPerSample <= 8) return info.isSigned ? new Int8Array(bytes.buffer) : bytes;
  return info.isSigned
    ? new Int16Array(bytes.buffer, 0, bytes.length >> 1)
    : new Uint16Array(bytes.buffer, 0, bytes.length >> 1);
}

/** JPEG-LS (lossless and near-lossless) with CharLS. */
export async function decodeJpegLs(src: Uint8Array): Promise<DecodedSamples> {
  const { bytes, info, interleave } = await runWasm("charls", "JpegLSDecoder", src);
  // CharLS interleave mode 0 ("none") leaves the components as planes.
  return {
    data: typed(bytes, info),
    planar: info.componentCount > 1 && interleave === 0,
    rgb: false,
    width: info.width,
    height: info.height,
    components: info.componentCount,
  };
}

/** JPEG 2000 with OpenJPEG (the multi-component transform, if any, is undone: output is RGB). */
export async function decodeJpeg2000(src: Uint8Array): Promise<DecodedSamples> {
  const { bytes, info } = await runWasm("openjpeg", "J2KDecoder", src);
  return {
    data: typed(bytes, info),
    planar: false,
    rgb: info.componentCount === 3,
    width: info.width,
    height: info.height,
    components: info.componentCount,
  };
}
