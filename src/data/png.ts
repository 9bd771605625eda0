/**
 * PNG decoding and encoding (fast-png): bytes in, (C, H, W) float arrays out, browser-safe.
 * Grey, grey+alpha, RGB, RGBA and palette images at 1-16 bits decode; colour becomes grey by BT.601
 * luma (exact for the grey-content RGB files radiograph collections ship). Alpha is ignored: medical
 * exports write it opaque, and compositing over a background would change the intensities.
 * Also decodes JPEG by signature ({@linkcode decodeImage}) and prepares model input
 * ({@linkcode toModelInput}: channels, resize, [-1, 1]).
 * @module
 */
import { convertIndexedToRgb, decode as pngDecode, encode as pngEncode, hasPngSignature } from "fast-png";
import { decodeJpeg, isJpeg } from "./jpeg.ts";
import { resizeImage } from "./resize.ts";
import { explainDecoderError, ImageError } from "./_image_error.ts";

export { ImageError };

/** A decoded image with values in [0, 1]. */
export interface DecodedImage {
  /** Values in [0, 1], (C, H, W) row-major. */
  data: Float32Array;
  /** Channels C: 1 (grey) or 3 (RGB). */
  channels: number;
  /** Height H. */
  height: number;
  /** Width W. */
  width: number;
  /** Bits per sample of the source (1..16); decides 8- vs 16-bit caching. */
  bitDepth: number;
}

/** Options of {@linkcode decodePng} and {@linkcode decodeImage}. */
export interface DecodeOptions {
  /** Output channels: 1 = grey (colour by luma), 3 = RGB (grey replicated). Default 1. */
  channels?: 1 | 3;
  /** Name used in error messages (file name). */
  name?: string;
}

const LUMA = [0.299, 0.587, 0.114];

/** True when the bytes start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && hasPngSignature(bytes);
}

/** Decodes a PNG (any colour type, 1-16 bits) to grey or RGB values in [0, 1]. */
export function decodePng(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedImage {
  const name = opts.name ?? "PNG";
  if (!isPng(bytes)) throw new ImageError(name, "not a PNG file (no PNG signature)");
  checkPngHeader(bytes, name);
  let png;
  try {
    png = pngDecode(bytes, { checkCrc: true }); // a flipped bit must not decode silently
  } catch (e) {
    throw new ImageError(name, `PNG decoding failed: ${explainDecoderError("PNG", e)}`, { cause: e });
  }
  const { width, height } = png;
  let data: ArrayLike<number> = png.data;
  let ch = png.channels;
  let depth: number = png.depth;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    ch = png.palette[0].length;
    depth = 8;
  } else if (depth < 8) {
    data = unpackBits(png.data as Uint8Array, width, height, ch, depth);
  }
  const n = width * height;
  if (data.length < n * ch) {
    throw new ImageError(
      name,
      `PNG data too short (${data.length} samples for ${width}x${height}x${ch}); the file is damaged`,
    );
  }
  const scale = 1 / ((1 << (png.palette ? 8 : depth)) - 1);
  return { ...toChannels(data, ch, n, opts.channels ?? 1, scale), height, width, bitDepth: depth };
}

/** Samples per pixel of each PNG colour type (grey, RGB, palette, grey+alpha, RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Deflate expands at most ~1032:1; a header promising more pixels than that is corrupt. */
const MAX_INFLATE_RATIO = 1100;

/**
 * Checks the header against the data present before anything is allocated for it: chunk lengths inside
 * the file, IHDR first, width and height at least 1, a valid colour type and depth, and no more raw
 * bytes than the IDAT chunks can inflate to. Each problem is an {@linkcode ImageError} naming the field.
 */
function checkPngHeader(bytes: Uint8Array, name: string): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const bad = (what: string) => new ImageError(name, `${what}; the file is corrupt, copy or export it again`);
  let p = 8, idat = 0, first = true;
  let width = 0, height = 0, depth = 0, colorType = 0;
  while (p + 8 <= bytes.length) {
    const len = dv.getUint32(p);
    const code = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
    const type = /^[A-Za-z]{4}$/.test(code) ? code : "(unreadable name)";
    if (p + 12 + len > bytes.length) {
      throw bad(`PNG chunk "${type}" at byte ${p} says ${len} bytes, past the end of the file (truncated?)`);
    }
    if (first) {
      if (type !== "IHDR" || len < 13) throw bad("PNG does not start with its IHDR header chunk");
      width = dv.getUint32(p + 8), height = dv.getUint32(p + 12);
      depth = bytes[p + 16], colorType = bytes[p + 17];
      first = false;
    }
    if (type === "IDAT") idat += len;
    if (type === "IEND") break;
    p += 12 + len;
  }
  if (first) throw bad("PNG has no IHDR header chunk (truncated?)");
  if (width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff) {
    throw bad(`the PNG header (IHDR) says ${width}x${height} pixels (width and height must be at least 1)`);
  }
  const ch = PNG_CHANNELS[colorType];
  const depths = colorType === 0 ? [1, 2, 4, 8, 16] : colorType === 3 ? [1, 2, 4, 8] : [8, 16];
  if (ch === undefined || !depths.includes(depth)) {
    throw bad(`the PNG header (IHDR) has colour type ${colorType} with bit depth ${depth}, not a valid pair`);
  }
  const raw = height * (1 + Math.ceil((width * ch * depth) / 8));
  if (raw > MAX_INFLATE_RATIO * idat + 1024) {
    throw bad(
      `the PNG header (IHDR) says ${width}x${height} pixels (${raw} bytes), more than its ${idat} bytes of ` +
        "image data (IDAT) can hold",
    );
  }
}

/** Converts interleaved samples (HWC, `ch` channels) to planar grey or RGB scaled by `scale`. */
function toChannels(
  data: ArrayLike<number>,
  ch: number,
  n: number,
  outCh: 1 | 3,
  scale: number,
): { data: Float32Array; channels: number } {
  const out = new Float32Array(n * outCh); // (C, H, W)
  const colour = ch >= 3;
  if (outCh === 1) {
    if (colour) {
      const r = LUMA[0] * scale, g = LUMA[1] * scale, b = LUMA[2] * scale;
      for (let i = 0, j = 0; i < n; i++, j += ch) out[i] = r * data[j] + g * data[j + 1] + b * data[j + 2];
    } else {
      for (let i = 0, j = 0; i < n; i++, j += ch) out[i] = data[j] * scale;
    }
  } else {
    for (let c = 0; c < 3; c++) {
      const off = colour ? c : 0;
      for (let i = 0, j = off; i < n; i++, j += ch) out[c * n + i] = data[j] * scale;
    }
  }
  return { data: out, channels: outCh };
}

/** Unpacks 1/2/4-bit samples (rows padded to whole bytes) to one byte per sample. */
function unpackBits(
  packed: Uint8Array,
  width: number,
  height: number,
  ch: number,
  depth: number,
): Uint8Array {
  const perRow = width * ch;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  const out = new Uint8Array(perRow * height);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < perRow; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)];
      out[y * perRow + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** Options of {@linkcode encodePng}. */
export interface EncodeOptions {
  /** Bits per sample for grey images: 8 (default) or 16. RGB is always 8-bit. */
  bitDepth?: 8 | 16;
}

/**
 * Encodes a (C, H, W) image with values in [0, 1] (clipped) as PNG: C = 1 gives grey (8 or 16 bit),
 * C = 3 gives 8-bit RGB (three CT windows).
 */
export function encodePng(
  data: ArrayLike<number>, // (C, H, W)
  channels: number,
  height: number,
  width: number,
  opts: EncodeOptions = {},
): Uint8Array {
  const n = height * width;
  if (data.length !== channels * n) {
    throw new Error(`encodePng: ${data.length} values for a ${channels}x${height}x${width} image`);
  }
  const q = (v: number, max: number) => Math.round((v < 0 ? 0 : v > 1 ? 1 : v) * max) || 0;
  if (channels === 1) {
    const depth = opts.bitDepth ?? 8;
    if (depth !== 8 && depth !== 16) throw new Error(`encodePng: bitDepth must be 8 or 16, got ${depth}`);
    const max = depth === 16 ? 65535 : 255;
    const px = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++) px[i] = q(data[i], max);
    return pngEncode({ width, height, data: px, depth, channels: 1 });
  }
  if (channels === 3) {
    const px = new Uint8Array(n * 3); // (H, W, 3)
    for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) px[i * 3 + c] = q(data[c * n + i], 255);
    return pngEncode({ width, height, data: px, depth: 8, channels: 3 });
  }
  throw new Error(`encodePng: channels must be 1 or 3, got ${channels}`);
}

/** Decodes a PNG or JPEG (chosen by signature) to values in [0, 1]. */
export function decodeImage(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedImage {
  if (isPng(bytes)) return decodePng(bytes, opts);
  if (isJpeg(bytes)) return decodeJpeg(bytes, opts);
  throw new ImageError(
    opts.name ?? "image",
    "neither PNG nor JPEG (unknown signature); DICOM needs the DICOM loader",
  );
}

/** Target shape of {@linkcode toModelInput}. */
export interface InputShape {
  /** Channels C (1 or 3). */
  channels: 1 | 3;
  /** Height H. */
  height: number;
  /** Width W. */
  width: number;
}

/**
 * Model input from a decoded image: its channels converted (must already match, see decode options),
 * resized with the project's one filter (area down, bilinear up) and mapped from [0, 1] to [-1, 1].
 * Writes into `out` (length C*H*W) when given.
 */
export function toModelInput(img: DecodedImage, shape: InputShape, out?: Float32Array): Float32Array {
  if (img.channels !== shape.channels) {
    throw new Error(`toModelInput: image has ${img.channels} channels, ${shape.channels} wanted`);
  }
  const r = resizeImage(img.data, img.channels, img.height, img.width, shape.height, shape.width);
  const res = out ?? new Float32Array(r.length);
  for (let i = 0; i < r.length; i++) res[i] = r[i] * 2 - 1;
  return res;
}

/** Result of {@linkcode benchDecodeResize}. */
export interface DecodeBench {
  /** Images decoded and resized. */
  images: number;
  /** Wall time, seconds. */
  seconds: number;
  /** Throughput, images per second. */
  imagesPerSecond: number;
}

/**
 * Measures decode + resize throughput over `files` (PNG/JPEG bytes), repeating the list until at least
 * `minSeconds` have passed (for the benchmark CLI).
 */
export function benchDecodeResize(
  files: Uint8Array[],
  shape: InputShape,
  minSeconds = 1,
): DecodeBench {
  if (files.length === 0) throw new Error("benchDecodeResize: no files");
  const out = new Float32Array(shape.channels * shape.height * shape.width);
  const t0 = performance.now();
  let count = 0;
  do {
    for (const f of files) {
      toModelInput(decodeImage(f, { channels: shape.channels }), shape, out);
      count++;
    }
  } while (performance.now() - t0 < minSeconds * 1000);
  const seconds = (performance.now() - t0) / 1000;
  return { images: count, seconds, imagesPerSecond: count / seconds };
}
