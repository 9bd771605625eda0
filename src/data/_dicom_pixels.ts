/**
 * Pixel arithmetic of the DICOM reader: native (uncompressed) frame unpacking, BitsStored masking and
 * sign extension, planar → interleaved, colour → grey, palette lookup, and value statistics.
 * @module
 */

/** What native unpacking and sample normalisation need from the header. */
export interface PixelLayout {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  planarConfiguration: number;
}

/** Whether typed arrays on this machine are little endian (all current platforms; checked, not assumed). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bits of one native frame. */
export function nativeFrameBits(l: PixelLayout): number {
  return l.rows * l.columns * l.samplesPerPixel * l.bitsAllocated;
}

/**
 * Reads frame `f` of native pixel data starting at `offset` in `bytes`, as unsigned container values
 * (BitsAllocated wide), pixel-interleaved order as stored. `bigEndian` for Explicit VR Big Endian.
 */
export function readNativeFrame(
  bytes: Uint8Array,
  offset: number,
  f: number,
  l: PixelLayout,
  bigEndian: boolean,
): Float64Array | Uint8Array | Uint16Array | Uint32Array {
  const count = l.rows * l.columns * l.samplesPerPixel;
  const ba = l.bitsAllocated;
  if (ba === 1) {
    // Bit-packed (segmentations): frames may start mid-byte; the first pixel is the least significant bit.
    const out = new Uint8Array(count);
    const bit0 = f * count;
    for (let i = 0; i < count; i++) {
      const b = bit0 + i;
      out[i] = (bytes[offset + (b >> 3)] >> (b & 7)) & 1;
    }
    return out;
  }
  const start = offset + (f * count * ba) / 8;
  if (ba === 8) return bytes.slice(start, start + count);
  if (!bigEndian && HOST_LITTLE_ENDIAN) {
    // Same byte order as the host: view (or, when misaligned, copy) the bytes as words.
    const at = bytes.byteOffset + start, len = (count * ba) / 8;
    const buf = at % (ba / 8) === 0 ? bytes.buffer : bytes.slice(start, start + len).buffer;
    const off = at % (ba / 8) === 0 ? at : 0;
    return ba === 16 ? new Uint16Array(buf, off, count) : new Uint32Array(buf, off, count);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset + start, (count * ba) / 8);
  const le = !bigEndian;
  if (ba === 16) {
    const out = new Uint16Array(count);
    for (let i = 0; i < count; i++) out[i] = dv.getUint16(2 * i, le);
    return out;
  }
  if (ba === 32) {
    const out = new Uint32Array(count);
    for (let i = 0; i < count; i++) out[i] = dv.getUint32(4 * i, le);
    return out;
  }
  throw new Error(`BitsAllocated ${ba} is not supported (1, 8, 16 or 32)`);
}

/**
 * Container values → stored values: shift the HighBit down, keep BitsStored bits and sign-extend them
 * when PixelRepresentation is 1 (two's complement). Bits above the stored ones (overlays, junk) are dropped.
 * `shiftHighBit` is false for codec output, which is already right-aligned.
 */
export function storedValues(raw: ArrayLike<number>, l: PixelLayout, shiftHighBit: boolean): Float64Array {
  const n = raw.length;
  const out = new Float64Array(n);
  const bits = l.bitsStored;
  const shift = shiftHighBit ? Math.max(0, l.highBit + 1 - bits) : 0;
  const range = 2 ** bits, half = range / 2, div = 2 ** shift;
  const signed = l.pixelRepresentation === 1;
  if (bits <= 30 && shift === 0) {
    // Fast path with 32-bit integer ops.
    const mask = range - 1;
    for (let i = 0; i < n; i++) {
      const v = raw[i] & mask;
      out[i] = signed && v >= half ? v - range : v;
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    let v = raw[i] < 0 ? raw[i] + 2 ** 32 : raw[i]; // signed codec output as its unsigned bit pattern
    v = Math.floor(v / div) % range;
    out[i] = signed && v >= half ? v - range : v;
  }
  return out;
}

/**
 * `storedValues` and rescale fused into one pass to float32 (the hot path of CT decoding):
 * stored * slope + intercept.
 */
export function modalityValues(
  raw: ArrayLike<number>,
  l: PixelLayout,
  shiftHighBit: boolean,
  slope: number,
  intercept: number,
): Float32Array {
  const bits = l.bitsStored;
  const shift = shiftHighBit ? Math.max(0, l.highBit + 1 - bits) : 0;
  if (bits > 30 || shift !== 0) {
    const v = storedValues(raw, l, shiftHighBit);
    const out = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = v[i] * slope + intercept;
    return out;
  }
  const n = raw.length;
  const out = new Float32Array(n);
  const range = 2 ** bits, half = range / 2, mask = range - 1;
  if (l.pixelRepresentation === 1) {
    for (let i = 0; i < n; i++) {
      const v = raw[i] & mask;
      out[i] = (v >= half ? v - range : v) * slope + intercept;
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = (raw[i] & mask) * slope + intercept;
  }
  return out;
}

/** Planes (all of sample 0, then sample 1…) → pixel-interleaved. */
export function interleave<T extends ArrayLike<number> & { length: number }>(
  planar: T,
  spp: number,
  make: (n: number) => T & { [i: number]: number },
): T {
  const n = planar.length / spp;
  const out = make(planar.length);
  for (let c = 0; c < spp; c++) for (let i = 0; i < n; i++) out[i * spp + c] = planar[c * n + i];
  return out;
}

/** YBR_FULL_422 as stored (Y1 Y2 Cb Cr for each pixel pair) → Y Cb Cr for every pixel. */
export function expandYbr422(src: ArrayLike<number>, rows: number, columns: number): Uint8Array {
  const out = new Uint8Array(rows * columns * 3);
  let s = 0;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x += 2) {
      const y1 = src[s], y2 = src[s + 1], cb = src[s + 2], cr = src[s + 3];
      s += 4;
      const o = (y * columns + x) * 3;
      out[o] = y1, out[o + 1] = cb, out[o + 2] = cr;
      if (x + 1 < columns) out[o + 3] = y2, out[o + 4] = cb, out[o + 5] = cr;
    }
  }
  return out;
}

/** Interleaved RGB → luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B). */
export function rgbToGrey(rgb: ArrayLike<number>, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
  return out;
}

/** Interleaved Y Cb Cr → the Y (luma) plane. */
export function ybrToGrey(ybr: ArrayLike<number>, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = ybr[3 * i];
  return out;
}

/** A palette colour lookup table of one channel (PS3.3 C.7.6.3.1.5). */
export interface PaletteLut {
  /** First stored value that maps to entry 0; smaller values map to entry 0, larger to the last. */
  firstMapped: number;
  /** Entries (16-bit or 8-bit values). */
  data: Uint16Array;
  /** Bits of an entry (8 or 16). */
  bits: number;
}

/** Palette indices → luma of the looked-up RGB, scaled to [0, 255]. */
export function paletteToGrey(
  idx: ArrayLike<number>,
  r: PaletteLut,
  g: PaletteLut,
  b: PaletteLut,
): Float32Array {
  const look = (lut: PaletteLut, v: number): number => {
    const k = Math.min(Math.max(v - lut.firstMapped, 0), lut.data.length - 1);
    return lut.bits > 8 ? lut.data[k] / 257 : lut.data[k];
  };
  const out = new Float32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    out[i] = 0.299 * look(r, v) + 0.587 * look(g, v) + 0.114 * look(b, v);
  }
  return out;
}

/** Min, max, mean and (population) standard deviation of values. */
export interface ValueStats {
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Number of values. */
  count: number;
}

/** Statistics over several arrays together (e.g. all frames), accumulated in float64. */
export function valueStats(arrays: readonly ArrayLike<number>[]): ValueStats {
  let min = Infinity, max = -Infinity, sum = 0, count = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    count += a.length;
  }
  const mean = count ? sum / count : NaN;
  let ss = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) ss += (a[i] - mean) ** 2;
  return { min, max, mean, std: count ? Math.sqrt(ss / count) : NaN, count };
}
