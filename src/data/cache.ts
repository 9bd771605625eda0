/**
 * A compact binary cache of a decoded, resized dataset, so large sets are decoded once per resolution.
 * Bytes in, bytes out (the CLI loader stores the file next to the data, atomically).
 *
 * Format "MSDC" version 1, little endian:
 * ```
 * offset 0   4 bytes  magic "MSDC"
 * offset 4   u32      format version (1)
 * offset 8   u32      header length H in bytes
 * offset 12  H bytes  header JSON (UTF-8, space padded so the pixels start at a multiple of 8):
 *                     {dtype: "uint8"|"uint16", n, channels, height, width, format, labelNames,
 *                      patientIds, sources, key}
 * then       N*C*H*W  pixels (N, C, H, W), uint8 or uint16: q = round((x + 1) / 2 * max), x in [-1, 1]
 * then       N*L      labels (N, L), uint8 0/1
 * ```
 * `key` is whatever identifies the source (CSV path, size, mtime, resolution, options): the loader reuses
 * a cache only when it matches.
 * @module
 */
import type { Dataset, DatasetFormat } from "./dataset.ts";

/** Pixel storage type of the cache. */
export type CacheDtype = "uint8" | "uint16";

/** Current format version. */
export const CACHE_VERSION = 1;
const MAGIC = [0x4d, 0x53, 0x44, 0x43]; // "MSDC"

/** The JSON header of a cache file. */
export interface CacheHeader {
  /** Pixel storage type. */
  dtype: CacheDtype;
  /** Images N. */
  n: number;
  /** Channels C. */
  channels: number;
  /** Height H. */
  height: number;
  /** Width W. */
  width: number;
  /** Source format. */
  format: DatasetFormat;
  /** Label names. */
  labelNames: string[];
  /** Patient id per image. */
  patientIds: string[];
  /** Source name per image. */
  sources: string[];
  /** Whatever identifies the source (compared by the loader). */
  key: unknown;
}

const maxOf = (dtype: CacheDtype) => (dtype === "uint16" ? 65535 : 255);

/** Rounds images in [-1, 1] to the cache's grid in place (so fresh and cached loads agree exactly). */
export function quantizeImages(images: Float32Array, dtype: CacheDtype): Float32Array {
  const max = maxOf(dtype);
  for (let i = 0; i < images.length; i++) images[i] = (quant(images[i], max) / max) * 2 - 1;
  return images;
}

function quant(x: number, max: number): number {
  const v = Math.round(((x + 1) / 2) * max);
  return v < 0 ? 0 : v > max ? max : v || 0;
}

/** Encodes a dataset as a cache file. `key` (JSON-serialisable) identifies the source. */
export function encodeDatasetCache(d: Dataset, dtype: CacheDtype, key: unknown = null): Uint8Array {
  const L = d.labelNames.length;
  const size = d.n * d.channels * d.height * d.width;
  if (d.images.length !== size || d.labels.length !== d.n * L) {
    throw new Error(
      `cache: dataset arrays do not match n=${d.n} (images ${d.images.length}, labels ${d.labels.length})`,
    );
  }
  const header: CacheHeader = {
    dtype,
    n: d.n,
    channels: d.channels,
    height: d.height,
    width: d.width,
    format: d.format,
    labelNames: d.labelNames,
    patientIds: d.patientIds,
    sources: d.sources,
    key,
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - ((12 + json.length) % 8)) % 8;
  if (pad) {
    const p = new Uint8Array(json.length + pad).fill(0x20);
    p.set(json);
    json = p;
  }
  const pixStart = 12 + json.length;
  const bps = dtype === "uint16" ? 2 : 1;
  const out = new Uint8Array(pixStart + size * bps + d.n * L);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(4, CACHE_VERSION, true);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  const max = maxOf(dtype);
  if (bps === 1) {
    for (let i = 0; i < size; i++) out[pixStart + i] = quant(d.images[i], max);
  } else {
    for (let i = 0; i < size; i++) dv.setUint16(pixStart + 2 * i, quant(d.images[i], max), true);
  }
  out.set(d.labels, pixStart + size * bps);
  return out;
}

/** Decodes a cache file; `name` is used in error messages. */
export function decodeDatasetCache(bytes: Uint8Array, name = "cache"): { dataset: Dataset; key: unknown } {
  const header = readCacheHeader(bytes, name);
  const { dtype, n, channels, height, width, labelNames } = header.header;
  const size = n * channels * height * width, L = labelNames.length;
  const bps = dtype === "uint16" ? 2 : 1;
  const start = header.pixelOffset;
  if (bytes.length !== start + size * bps + n * L) {
    throw new Error(
      `${name}: truncated or oversized cache (${bytes.length} bytes, expected ${start + size * bps + n * L})`,
    );
  }
  const images = new Float32Array(size); // (N, C, H, W)
  const max = maxOf(dtype);
  if (bps === 1) {
    for (let i = 0; i < size; i++) images[i] = (bytes[start + i] / max) * 2 - 1;
  } else {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < size; i++) images[i] = (dv.getUint16(start + 2 * i, true) / max) * 2 - 1;
  }
  const labels = bytes.slice(start + size * bps, start + size * bps + n * L);
  const h = header.header;
  return {
    dataset: {
      images,
      n,
      channels,
      height,
      width,
      labels,
      labelNames,
      patientIds: h.patientIds,
      sources: h.sources,
      format: h.format,
    },
    key: h.key,
  };
}

/** Reads only the header (cheap key check before decoding pixels). */
export function readCacheHeader(
  bytes: Uint8Array,
  name = "cache",
): { header: CacheHeader; pixelOffset: number } {
  if (bytes.length < 12 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new Error(`${name}: not a medsynth cache file`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  if (version !== CACHE_VERSION) {
    throw new Error(`${name}: cache version ${version}, this build reads ${CACHE_VERSION}`);
  }
  const len = dv.getUint32(8, true);
  if (12 + len > bytes.length) throw new Error(`${name}: truncated cache header`);
  let header: CacheHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len)));
  } catch (e) {
    throw new Error(`${name}: corrupt cache header: ${(e as Error).message}`);
  }
  if (header.patientIds?.length !== header.n || header.sources?.length !== header.n) {
    throw new Error(`${name}: corrupt cache header (id lists do not match n=${header.n})`);
  }
  return { header, pixelOffset: 12 + len };
}

/** Stable JSON text of a key (sorted object keys), for comparing cache keys. */
export function stableKey(key: unknown): string {
  return JSON.stringify(
    key,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
  );
}
