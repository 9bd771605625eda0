/**
 * Standardisation with another batch's statistics (src/nn/standardize_fixed.ts): the GPU kernels equal the
 * CPU references; with the statistics batch norm saved for batch A, batch A itself comes out as batch
 * norm's output, and an image of batch B comes out the same whatever the other images of B are; the CPU
 * backward equals finite differences (the statistics held constant).
 */
import { batchNormForward, batchNormForwardRef, batchNormRunningInit } from "../src/nn/batch_norm.ts";
import {
  standardizeFixedBackward,
  standardizeFixedBackwardRef,
  standardizeFixedForward,
  standardizeFixedForwardRef,
} from "../src/nn/standardize_fixed.ts";
import { numel } from "../src/gpu/tensor.ts";
import { assertThrows } from "./_assert.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

const TOL = { atol: 2e-5, rtol: 1e-4 };

Deno.test("standardize fixed: GPU forward and backward equal the CPU reference", async () => {
  const gpu = await testGpu();
  for (const [i, shape] of [[16, 128], [3, 5, 4, 4], [1, 7], [300, 9]].entries()) {
    const n = numel(shape), c = shape[1];
    const xh = rand(n, 20 + i, -3, 2), dyh = rand(n, 30 + i);
    const st = new Float32Array(2 * c);
    st.set(rand(c, 40 + i, -1, 1));
    st.set(rand(c, 50 + i, 0.2, 5), c);
    const x = gpu.tensor(shape, xh), dy = gpu.tensor(shape, dyh), stats = gpu.tensor([2, c], st);
    const y = gpu.tensor(shape), dx = gpu.tensor(shape);
    gpu.run((rec) => {
      standardizeFixedForward(rec, x, stats, y);
      standardizeFixedBackward(rec, dy, stats, dx);
    });
    assertClose(await gpu.read(y), standardizeFixedForwardRef(xh, shape, st), TOL, `y ${shape}`);
    assertClose(await gpu.read(dx), standardizeFixedBackwardRef(dyh, shape, st), TOL, `dx ${shape}`);
    for (const t of [x, dy, stats, y, dx]) t.dispose();
  }
});

Deno.test("standardize fixed: batch norm's saved statistics of batch A reproduce A; B's rows are batch-independent", async () => {
  const gpu = await testGpu();
  const n = 8, f = 6, shape = [n, f];
  const ah = rand(n * f, 1, -2, 4), bh = rand(n * f, 2, -1, 1);
  const ones = gpu.tensor([f], new Float32Array(f).fill(1)), zeros = gpu.tensor([f], new Float32Array(f));
  const a = gpu.tensor(shape, ah), ya = gpu.tensor(shape), saved = gpu.tensor([2, f]);
  const running = gpu.tensor([2, f], batchNormRunningInit(f));
  const ya2 = gpu.tensor(shape);
  gpu.run((rec) => {
    batchNormForward(rec, a, ones, zeros, ya, saved, running, { training: true });
    standardizeFixedForward(rec, a, saved, ya2);
  });
  const bnRef = batchNormForwardRef(
    ah,
    new Float32Array(f).fill(1),
    new Float32Array(f),
    batchNormRunningInit(f),
    shape,
    {
      training: true,
    },
  );
  assertClose(await gpu.read(ya2), bnRef.y, TOL, "A standardised with its own saved statistics");
  // batch B twice: its first row kept, the others replaced; row 0's output must not move
  const b2h = bh.slice();
  b2h.set(rand((n - 1) * f, 3, -5, 5), f);
  const b = gpu.tensor(shape, bh),
    b2 = gpu.tensor(shape, b2h),
    yb = gpu.tensor(shape),
    yb2 = gpu.tensor(shape);
  gpu.run((rec) => {
    standardizeFixedForward(rec, b, saved, yb);
    standardizeFixedForward(rec, b2, saved, yb2);
  });
  const r0 = (await gpu.read(yb)).slice(0, f), r0b = (await gpu.read(yb2)).slice(0, f);
  assertClose(r0b, r0, { atol: 0, rtol: 0 }, "row 0 of B with other rows around it");
  // ... and equals (b - mean_A) / std_A with A's biased variance
  const expect = Array.from({ length: f }, (_, k) => (bh[k] - bnRef.mean[k]) * bnRef.invstd[k]);
  assertClose(r0, expect, TOL, "row 0 of B on A's scale");
  assertThrows(() => gpu.run((rec) => standardizeFixedForward(rec, a, gpu.tensor([f]), yb)), Error, /stats/);
});

Deno.test("standardize fixed: CPU backward equals finite differences", () => {
  const shape = [3, 2, 2, 2], n = numel(shape);
  const x = rand(n, 4), w = rand(n, 5), st = new Float32Array([0.3, -0.2, 1.7, 0.4]);
  const loss = (v: Float64Array | Float32Array) => dot(standardizeFixedForwardRef(v, shape, st), w);
  const fd = finiteDiff(loss, Float64Array.from(x));
  assertClose(standardizeFixedBackwardRef(w, shape, st), fd, { atol: 1e-6, rtol: 1e-5 }, "dx");
});
