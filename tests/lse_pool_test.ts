/**
 * Log-sum-exp pooling (src/nn/lse_pool.ts): GPU forward and backward equal the CPU references; the CPU
 * backward equals finite differences; the pooled value lies between the plane's mean and maximum and is
 * carried by its largest values (one bright place among many scores above a plane of the same mean spread
 * out).
 */
import {
  LSE_SHARPNESS,
  lsePoolBackward,
  lsePoolBackwardRef,
  lsePoolForward,
  lsePoolForwardRef,
} from "../src/nn/lse_pool.ts";
import { assert } from "./_assert.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

Deno.test("lse pool: GPU forward and backward equal the CPU references", async () => {
  const gpu = await testGpu();
  for (const [i, shape] of [[16, 6, 8, 8], [3, 2, 16, 16], [1, 1, 1, 1], [70, 3, 4, 4]].entries()) {
    const [n, c, h, w] = shape, s = h * w, total = n * c * s;
    const xh = rand(total, 60 + i, -3, 3), dyh = rand(n * c, 70 + i);
    const x = gpu.tensor(shape, xh), y = gpu.tensor([n, c]), dy = gpu.tensor([n, c], dyh);
    const dx = gpu.tensor(shape, new Float32Array(total).fill(9));
    gpu.run((rec) => {
      lsePoolForward(rec, x, y);
      lsePoolBackward(rec, x, y, dy, dx);
    });
    assertClose(await gpu.read(y), lsePoolForwardRef(xh, n * c, s), { atol: 2e-5, rtol: 1e-5 }, `y ${shape}`);
    assertClose(
      await gpu.read(dx),
      lsePoolBackwardRef(xh, dyh, n * c, s),
      { atol: 1e-5, rtol: 1e-4 },
      `dx ${shape}`,
    );
    for (const t of [x, y, dy, dx]) t.dispose();
  }
});

Deno.test("lse pool: CPU backward equals finite differences", () => {
  const planes = 3, s = 5, x = rand(planes * s, 8, -2, 2), w = rand(planes, 9);
  const f = (v: Float64Array) => dot(lsePoolForwardRef(v, planes, s), w);
  const fd = finiteDiff(f, Float64Array.from(x));
  assertClose(lsePoolBackwardRef(x, w, planes, s), fd, { atol: 1e-7, rtol: 1e-6 }, "dx");
});

Deno.test("lse pool: between the mean and the maximum; one bright place outscores the same sum spread out", () => {
  const s = 64, x = rand(10 * s, 4, -1, 1), y = lsePoolForwardRef(x, 10, s);
  for (let p = 0; p < 10; p++) {
    const v = Array.from(x.subarray(p * s, (p + 1) * s));
    const mean = v.reduce((a, b) => a + b, 0) / s, max = Math.max(...v);
    assert(y[p] >= mean - 1e-12 && y[p] <= max + 1e-12, `plane ${p}: ${y[p]} not in [${mean}, ${max}]`);
  }
  // a lesion: one place at +2; a diffuse change: every place at +2/64 (the same mean)
  const spot = new Float64Array(s), diffuse = new Float64Array(s).fill(2 / s);
  spot[17] = 2;
  const [ys, yd] = [lsePoolForwardRef(spot, 1, s)[0], lsePoolForwardRef(diffuse, 1, s)[0]];
  assert(ys > 5 * yd, `spot ${ys} vs diffuse ${yd} (sharpness ${LSE_SHARPNESS})`);
});
