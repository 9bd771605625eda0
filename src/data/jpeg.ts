/**
 * Baseline/progressive JPEG decoding (jpeg-js, pure JavaScript): bytes in, (C, H, W) values in [0, 1].
 * CheXpert ships JPEGs; colour becomes grey by BT.601 luma.
 * @module
 */
import jpeg from "jpeg-js";
import type { DecodedImage, DecodeOptions } from "./png.ts";

/** True when the bytes start with the JPEG SOI marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Decodes a JPEG to grey (luma) or RGB values in [0, 1]. */
export function decodeJpeg(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedImage {
  const name = opts.name ?? "JPEG";
  if (!isJpeg(bytes)) throw new Error(`${name}: not a JPEG file (no SOI marker)`);
  let img;
  try {
    // RGBA output always has 4 samples per pixel, whatever the component count.
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 });
  } catch (e) {
    throw new Error(`${name}: JPEG decoding failed: ${(e as Error).message}`);
  }
  const { width, height, data } = img;
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
