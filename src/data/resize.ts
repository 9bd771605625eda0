/**
 * Resizing with one documented filter for real and synthetic images alike (FID-style metrics
 * shift with the resize filter): exact area averaging (box filter) when shrinking, which is
 * antialiased by construction, and bilinear interpolation (half-pixel centres) when enlarging.
 *
 * The filter is separable: rows first (into a float64 buffer of outHeight x width), then columns.
 * Each axis's taps are computed once per (in, out) size into flat typed arrays and cached, since a
 * dataset resizes thousands of images between the same two sizes.
 * @module
 */

/** The taps of one axis in CSR form: output o uses idx/w[start[o] .. start[o + 1]). */
interface AxisTaps {
  /** Offsets into idx/w, length outSize + 1. */
  start: Int32Array;
  /** Input indices. */
  idx: Int32Array;
  /** Weights (float64: the taps of an output sum to 1 to double precision). */
  w: Float64Array;
}

/** Cached taps per "in>out"; bounded so that odd sizes cannot grow it without limit. */
const TAPS = new Map<string, AxisTaps>();
const MAX_CACHED = 64;

/** Resizes one (C, H, W) image to (C, h, w). */
export function resizeImage(
  src: Float32Array, // (C, H, W)
  channels: number,
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
): Float32Array {
  if (outHeight === height && outWidth === width) return src.slice(0, channels * height * width);
  const rows = axisTaps(height, outHeight);
  const cols = axisTaps(width, outWidth);
  const out = new Float32Array(channels * outHeight * outWidth); // (C, h, w)
  const tmp = new Float64Array(outHeight * width); // (h, W) of one channel
  const rs = rows.start, ri = rows.idx, rw = rows.w;
  const cs = cols.start, ci = cols.idx, cw = cols.w;
  for (let c = 0; c < channels; c++) {
    const base = c * height * width;
    for (let oy = 0; oy < outHeight; oy++) {
      const t0 = oy * width;
      const k0 = rs[oy], k1 = rs[oy + 1];
      // first tap assigns, the others accumulate (no separate clearing pass)
      let s0 = base + ri[k0] * width, wy = rw[k0];
      for (let x = 0; x < width; x++) tmp[t0 + x] = wy * src[s0 + x];
      for (let k = k0 + 1; k < k1; k++) {
        s0 = base + ri[k] * width;
        wy = rw[k];
        for (let x = 0; x < width; x++) tmp[t0 + x] += wy * src[s0 + x];
      }
    }
    const obase = c * outHeight * outWidth;
    for (let oy = 0; oy < outHeight; oy++) {
      const t0 = oy * width, o0 = obase + oy * outWidth;
      for (let ox = 0; ox < outWidth; ox++) {
        let acc = 0;
        for (let k = cs[ox], k1 = cs[ox + 1]; k < k1; k++) acc += cw[k] * tmp[t0 + ci[k]];
        out[o0 + ox] = acc;
      }
    }
  }
  return out;
}

/** The cached taps of one axis from `inSize` to `outSize` samples. */
function axisTaps(inSize: number, outSize: number): AxisTaps {
  const key = `${inSize}>${outSize}`;
  let t = TAPS.get(key);
  if (!t) {
    if (!(Number.isInteger(inSize) && Number.isInteger(outSize) && inSize > 0 && outSize > 0)) {
      throw new Error(`resizeImage: sizes must be positive integers, got ${inSize} -> ${outSize}`);
    }
    t = computeTaps(inSize, outSize);
    if (TAPS.size >= MAX_CACHED) TAPS.clear();
    TAPS.set(key, t);
  }
  return t;
}

/** For each output index, the (input index, weight) taps along one axis. */
function computeTaps(inSize: number, outSize: number): AxisTaps {
  const idx: number[] = [], w: number[] = [];
  const start = new Int32Array(outSize + 1);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    start[o] = idx.length;
    if (outSize <= inSize) {
      // area: output pixel covers [o*scale, (o+1)*scale) of the input
      const a = o * scale, b = (o + 1) * scale;
      for (let i = Math.floor(a); i < Math.ceil(b); i++) {
        const f = Math.min(b, i + 1) - Math.max(a, i);
        if (f > 1e-12) idx.push(i), w.push(f / scale);
      }
    } else {
      // bilinear, half-pixel centres, edges clamped
      const x = (o + 0.5) * scale - 0.5;
      const i0 = Math.floor(x), f = x - i0;
      const lo = Math.min(Math.max(i0, 0), inSize - 1), hi = Math.min(Math.max(i0 + 1, 0), inSize - 1);
      idx.push(lo, hi), w.push(1 - f, f);
    }
  }
  start[outSize] = idx.length;
  return { start, idx: Int32Array.from(idx), w: Float64Array.from(w) };
}
