/**
 * Resizing with one documented filter for real and synthetic images alike (FID-style metrics
 * shift with the resize filter): exact area averaging (box filter) when shrinking, which is
 * antialiased by construction, and bilinear interpolation (half-pixel centres) when enlarging.
 * @module
 */

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
  const rows = axisWeights(height, outHeight);
  const cols = axisWeights(width, outWidth);
  const out = new Float32Array(channels * outHeight * outWidth);
  const tmp = new Float64Array(outHeight * width);
  for (let c = 0; c < channels; c++) {
    const base = c * height * width;
    tmp.fill(0);
    for (let oy = 0; oy < outHeight; oy++) {
      for (const [y, wy] of rows[oy]) {
        const srow = base + y * width;
        for (let x = 0; x < width; x++) tmp[oy * width + x] += wy * src[srow + x];
      }
    }
    const obase = c * outHeight * outWidth;
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        let acc = 0;
        for (const [x, wx] of cols[ox]) acc += wx * tmp[oy * width + x];
        out[obase + oy * outWidth + ox] = acc;
      }
    }
  }
  return out;
}

/** For each output index, the (input index, weight) pairs along one axis. */
function axisWeights(inSize: number, outSize: number): [number, number][][] {
  const res: [number, number][][] = [];
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const taps: [number, number][] = [];
    if (outSize <= inSize) {
      // area: output pixel covers [o*scale, (o+1)*scale) of the input
      const a = o * scale, b = (o + 1) * scale;
      for (let i = Math.floor(a); i < Math.ceil(b); i++) {
        const w = Math.min(b, i + 1) - Math.max(a, i);
        if (w > 1e-12) taps.push([i, w / scale]);
      }
    } else {
      const x = (o + 0.5) * scale - 0.5;
      const i0 = Math.floor(x), f = x - i0;
      const lo = Math.min(Math.max(i0, 0), inSize - 1), hi = Math.min(Math.max(i0 + 1, 0), inSize - 1);
      taps.push([lo, 1 - f], [hi, f]);
    }
    res.push(taps);
  }
  return res;
}
