/**
 * Baseline/progressive JPEG decoding (jpeg-js, pure JavaScript): bytes in, (C, H, W) values in [0, 1].
 * CheXpert ships JPEGs; colour becomes grey by BT.601 luma.
 * @module
 */
import jpeg from "jpeg-js";
import type { DecodedImage, DecodeOptions } from "./png.ts";
import { explainDecoderError, ImageError } from "./_image_error.ts";

/** True when the bytes start with the JPEG SOI marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** What a codestream's own header declares. */
export interface CodestreamDims {
  width: number;
  height: number;
  components: number;
  precision: number;
}

/**
 * The frame header of a JPEG-family codestream (SOF0-15 or JPEG-LS SOF55), found by walking the marker
 * segments from SOI; null when there is none before the data runs out.
 */
export function jpegFrameHeader(src: Uint8Array): CodestreamDims | null {
  if (src.length < 4 || src[0] !== 0xff || src[1] !== 0xd8) return null;
  for (let i = 2; i + 9 < src.length;) {
    if (src[i] !== 0xff) return null;
    const m = src[i + 1];
    if (m === 0xff) { // fill byte
      i++;
      continue;
    }
    if ((m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xf7) {
      return {
        precision: src[i + 4],
        height: (src[i + 5] << 8) | src[i + 6],
        width: (src[i + 7] << 8) | src[i + 8],
        components: src[i + 9],
      };
    }
    i += 2 + ((src[i + 2] << 8) | src[i + 3]);
  }
  return null;
}

/** Baseline JPEG codes an 8x8 block in 2 bits at the least: no real file has more pixels per byte than this. */
const MAX_PIXELS_PER_BYTE = 1024;

/** Decodes a JPEG to grey (luma) or RGB values in [0, 1]. */
export function decodeJpeg(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedImage {
  const name = opts.name ?? "JPEG";
  if (!isJpeg(bytes)) throw new ImageError(name, "not a JPEG file (no SOI marker)");
  const sof = jpegFrameHeader(bytes);
  if (
    sof &&
    (sof.width < 1 || sof.height < 1 || sof.width * sof.height > MAX_PIXELS_PER_BYTE * bytes.length + 65536)
  ) {
    throw new ImageError(
      name,
      `the JPEG frame header (SOF) says ${sof.width}x${sof.height} pixels, ` +
        (sof.width < 1 || sof.height < 1
          ? "an empty image"
          : `more than its ${bytes.length} bytes can hold`) +
        "; the file is corrupt, copy or export it again",
    );
  }
  let img;
  try {
    // RGBA output always has 4 samples per pixel, whatever the component count.
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 });
  } catch (e) {
    throw new ImageError(name, `JPEG decoding failed: ${explainDecoderError("JPEG", e)}`, { cause: e });
  }
  const { width, height, data } = img;
  if (!(width >= 1 && height >= 1) || data.length < width * height * 4) {
    throw new ImageError(name, `the JPEG header says ${width}x${height} pixels; the file is corrupt`);
  }
  const n = width * height;
  const outCh = opts.channels ?? 1;
  const out = new Float32Array(n * outCh); // (C, H, W)
  const s = 1 / 255;
  if (outCh === 1) {
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      out[i] = (0.299 * data[j] + 0.587 * data[j + 1] + 0.114 * data[j + 2]) * s;
    }
  } else {
    for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) out[c * n + i] = data[i * 4 + c] * s;
  }
  return { data: out, channels: outCh, height, width, bitDepth: 8 };
}
