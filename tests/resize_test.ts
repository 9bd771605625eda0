/**
 * resizeImage against a straightforward 2-D reference: exact area integration (overlap of the output
 * pixel's rectangle with each input pixel) when shrinking, bilinear with half-pixel centres (tent
 * weights at the clamped sample position) when enlarging, per axis.
 */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { assertClose } from "./_util.ts";
import { resizeImage } from "../src/data/resize.ts";
import { Rng } from "../src/util/rng.ts";

/** Weight of input sample i for output sample o along one axis, from the definition. */
function weight1d(inSize: number, outSize: number, o: number, i: number): number {
  const s = inSize / outSize;
  if (outSize <= inSize) {
    // the output pixel covers [o*s, (o+1)*s); input pixel i covers [i, i+1); weight = overlap / s
    const overlap = Math.min((o + 1) * s, i + 1) - Math.max(o * s, i);
    return overlap > 0 ? overlap / s : 0;
  }
  const x = Math.min(Math.max((o + 0.5) * s - 0.5, 0), inSize - 1);
  return Math.max(0, 1 - Math.abs(x - i));
}

/** out[c, oy, ox] = sum_y sum_x wy(oy, y) wx(ox, x) src[c, y, x], float64. */
function reference(src: Float32Array, C: number, H: number, W: number, h: number, w: number): Float64Array {
  const out = new Float64Array(C * h * w);
  for (let c = 0; c < C; c++) {
    for (let oy = 0; oy < h; oy++) {
      for (let ox = 0; ox < w; ox++) {
        let acc = 0;
        for (let y = 0; y < H; y++) {
          const wy = weight1d(H, h, oy, y);
          if (wy === 0) continue;
          for (let x = 0; x < W; x++) {
            const wx = weight1d(W, w, ox, x);
            if (wx !== 0) acc += wy * wx * src[(c * H + y) * W + x];
          }
        }
        out[(c * h + oy) * w + ox] = acc;
      }
    }
  }
  return out;
}

// [C, H, W, h, w]: integer and non-integer ratios, shrinking, enlarging, mixed, 1-pixel edges
const CASES: [number, number, number, number, number][] = [
  [1, 64, 64, 32, 32],
  [3, 96, 80, 12, 10],
  [1, 37, 53, 10, 17],
  [2, 20, 30, 7, 9],
  [1, 100, 100, 30, 30],
  [1, 8, 8, 13, 21],
  [3, 5, 7, 16, 9],
  [1, 10, 12, 25, 5],
  [1, 1, 5, 3, 2],
  [1, 9, 9, 1, 1],
  [2, 33, 33, 33, 16],
];

Deno.test("resize: equals the reference on random images (area down, bilinear up, mixed)", () => {
  const rng = new Rng(7);
  for (const [C, H, W, h, w] of CASES) {
    const src = rng.uniforms(C * H * W, -2, 3);
    const got = resizeImage(src, C, H, W, h, w);
    assertEquals(got.length, C * h * w);
    assertClose(
      got,
      reference(src, C, H, W, h, w),
      { atol: 2e-6, rtol: 1e-6 },
      `${C}x${H}x${W} -> ${h}x${w}`,
    );
    // cached taps give the same result on a second call
    assertEquals(resizeImage(src, C, H, W, h, w), got);
  }
});

Deno.test("resize: same size is a copy; a constant image stays constant", () => {
  const src = new Rng(3).uniforms(2 * 9 * 11, 0, 1);
  const same = resizeImage(src, 2, 9, 11, 9, 11);
  assertEquals(same, src);
  assert(same !== src, "a copy, not the input");
  for (const [C, H, W, h, w] of CASES) {
    const out = resizeImage(new Float32Array(C * H * W).fill(0.37), C, H, W, h, w);
    assertClose(
      out,
      new Float64Array(out.length).fill(0.37),
      { atol: 1e-6, rtol: 0 },
      `${H}x${W}->${h}x${w}`,
    );
  }
});

Deno.test("resize: integer-ratio area downsampling preserves the mean and equals block means", () => {
  const rng = new Rng(11);
  for (const [H, W, h, w] of [[64, 64, 16, 16], [48, 36, 12, 9], [512, 512, 64, 64], [6, 4, 3, 1]]) {
    const src = rng.uniforms(H * W, 0, 1);
    const out = resizeImage(src, 1, H, W, h, w);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    assert(
      Math.abs(mean(out) - mean(src)) < 1e-6,
      `mean ${mean(out)} vs ${mean(src)} (${H}x${W}->${h}x${w})`,
    );
    // output pixel (1, 0) is the plain mean of its fy x fx block
    const fy = H / h, fx = W / w;
    if (h > 1) {
      let s = 0;
      for (let y = fy; y < 2 * fy; y++) for (let x = 0; x < fx; x++) s += src[y * W + x];
      assert(Math.abs(out[w] - s / (fy * fx)) < 1e-6, `block mean at (1, 0): ${out[w]} vs ${s / (fy * fx)}`);
    }
  }
});

Deno.test("resize: bad sizes are a clear error", () => {
  assertThrows(
    () => resizeImage(new Float32Array(4), 1, 2, 2, 0, 3),
    Error,
    /sizes must be positive integers/,
  );
  assertThrows(
    () => resizeImage(new Float32Array(4), 1, 2, 2, 1.5, 1),
    Error,
    /sizes must be positive integers/,
  );
});
