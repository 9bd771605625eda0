import { IMAGE_NORM_SAT, imageNormForward, imageNormForwardRef } from "../src/nn/image_norm.ts";
import { assert, assertEquals } from "./_assert.ts";
import { assertClose, rand, testGpu } from "./_util.ts";

const numel = (a: number[]) => a.reduce((p, q) => p * q, 1);

/** Windowed-CT-like planes: a tissue disc with an offset and contrast of its own, air -1 and a bone ring 1. */
function ctLike(shape: number[], seed: number): Float32Array {
  const [n, c, h, w] = shape;
  const x = rand(numel(shape), seed, -0.6, 0.6);
  for (let p = 0; p < n * c; p++) {
    const off = (p % 5) * 0.07 - 0.14, gain = 0.5 + (p % 3) * 0.25;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const r = Math.hypot(i - (h - 1) / 2, j - (w - 1) / 2) / (Math.min(h, w) / 2);
        const k = p * h * w + i * w + j;
        x[k] = r > 0.95 ? -1 : r > 0.8 ? 1 : off + gain * x[k];
      }
    }
  }
  return x;
}

Deno.test("image norm: GPU equals the CPU reference; clipped pixels left out of the statistics", async () => {
  const gpu = await testGpu();
  for (const [i, shape] of [[3, 1, 16, 16], [2, 3, 9, 7], [70, 1, 8, 8], [1, 2, 32, 32]].entries()) {
    const xh = ctLike(shape, 10 + i);
    const x = gpu.tensor(shape, xh), y = gpu.tensor(shape, new Float32Array(numel(shape)).fill(7));
    gpu.run((rec) => imageNormForward(rec, x, y));
    const got = await gpu.read(y), ref = imageNormForwardRef(xh, shape);
    assertClose(got, ref, { atol: 2e-5, rtol: 1e-4 }, `image norm ${shape}`);
    // the unsaturated pixels of every plane come out with mean 0 and variance 1
    const s = shape[2] * shape[3];
    for (let p = 0; p < shape[0] * shape[1]; p++) {
      const tissue: number[] = [];
      for (let k = 0; k < s; k++) if (Math.abs(xh[p * s + k]) < IMAGE_NORM_SAT) tissue.push(ref[p * s + k]);
      const m = tissue.reduce((a, b) => a + b, 0) / tissue.length;
      const v = tissue.reduce((a, b) => a + (b - m) ** 2, 0) / tissue.length;
      assert(Math.abs(m) < 1e-9 && Math.abs(v - 1) < 1e-3, `plane ${p} of ${shape}: mean ${m}, var ${v}`);
    }
    x.dispose();
    y.dispose();
  }
});

Deno.test("image norm: tissue offset and contrast are removed, the same scan scaled gives the same input", async () => {
  const gpu = await testGpu();
  const shape = [2, 1, 12, 12];
  const a = ctLike([1, 1, 12, 12], 3);
  // the second image: the same tissue brighter and with more contrast, air and bone still clipped
  const b = a.map((v) => (Math.abs(v) >= IMAGE_NORM_SAT ? v : 0.1 + 1.3 * v));
  const x = gpu.tensor(shape, new Float32Array([...a, ...b])), y = gpu.tensor(shape);
  gpu.run((rec) => imageNormForward(rec, x, y));
  const out = await gpu.read(y), s = 144;
  for (let k = 0; k < s; k++) {
    if (Math.abs(a[k]) < IMAGE_NORM_SAT) {
      // eps in the variance leaves ~1e-4 (the tissue variance is ~0.03); unnormalised they differ by > 0.1
      assert(Math.abs(out[k] - out[s + k]) < 1e-3, `tissue pixel ${k}: ${out[k]} vs ${out[s + k]}`);
    }
  }
});

Deno.test("image norm: an all-clipped plane is copied; y must differ from x; shapes must match", async () => {
  const gpu = await testGpu();
  const shape = [1, 2, 4, 4];
  const xh = new Float32Array(32).fill(-1);
  xh.set(rand(16, 5, -0.5, 0.5), 16);
  const x = gpu.tensor(shape, xh), y = gpu.tensor(shape);
  gpu.run((rec) => imageNormForward(rec, x, y));
  const got = await gpu.read(y);
  assertEquals(Array.from(got.subarray(0, 16)), new Array(16).fill(-1), "all-air plane copied");
  assertClose(got, imageNormForwardRef(xh, shape), { atol: 2e-5, rtol: 1e-4 });
  let threw = "";
  try {
    gpu.run((rec) => imageNormForward(rec, x, x));
  } catch (e) {
    threw = (e as Error).message;
  }
  assert(/share a buffer/.test(threw), threw);
  threw = "";
  try {
    gpu.run((rec) => imageNormForward(rec, x, gpu.tensor([1, 2, 4, 5])));
  } catch (e) {
    threw = (e as Error).message;
  }
  assert(/must have x's shape/.test(threw), threw);
});
