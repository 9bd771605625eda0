import { throws as assertThrows } from "node:assert";
import type { NormVariant } from "../src/nn/batch_norm.ts";
import {
  mbstdSavedShape,
  minibatchStdBackward,
  minibatchStdBackwardRef,
  minibatchStdForward,
  minibatchStdForwardRef,
} from "../src/nn/minibatch_std.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

// [shape, group size or undefined for the default min(4, N)]
const CASES: [number[], number | undefined][] = [
  [[4, 3, 5, 5], undefined],
  [[8, 3, 7, 7], undefined],
  [[6, 3, 5, 5], 3],
  [[1, 3, 5, 5], undefined],
  [[4, 6, 16, 16], 2],
  [[6, 5, 9, 9], 6],
];
const VARIANTS: NormVariant[] = ["naive", "blocked"];

Deno.test("minibatch std GPU forward and backward equal the CPU reference", async () => {
  const gpu = await testGpu();
  for (const [shape, groupSize] of CASES) {
    for (const variant of VARIANTS) {
      const [n, c, h, w] = shape;
      const outShape = [n, c + 1, h, w];
      const nx = n * c * h * w, ny = n * (c + 1) * h * w;
      const xh = rand(nx, 91, -2, 2), dyh = rand(ny, 92);
      const x = gpu.tensor(shape, xh),
        y = gpu.tensor(outShape),
        saved = gpu.tensor(mbstdSavedShape(n, groupSize));
      const dy = gpu.tensor(outShape, dyh), dx = gpu.tensor(shape);
      const opts = { groupSize, variant };
      gpu.run((rec) => {
        minibatchStdForward(rec, x, y, saved, opts);
        minibatchStdBackward(rec, x, dy, saved, dx, opts);
      });
      const label = `${shape} G${groupSize} ${variant}`;
      const ref = minibatchStdForwardRef(xh, shape, groupSize);
      assertClose(await gpu.read(y), ref.y, { atol: 1e-5, rtol: 1e-4 }, `y ${label}`);
      const dxRef = minibatchStdBackwardRef(xh, dyh, shape, groupSize);
      assertClose(await gpu.read(dx), dxRef, { atol: 1e-4, rtol: 1e-4 }, `dx ${label}`);
      for (const t of [x, y, saved, dy, dx]) t.dispose();
    }
  }
});

Deno.test("minibatch std CPU backward equals finite differences", () => {
  for (const [shape, groupSize] of [[[4, 2, 2, 3], 2], [[6, 2, 3], 3], [[4, 3, 2, 2], undefined]] as const) {
    const nx = shape.reduce((a, b) => a * b, 1);
    const ny = nx / shape[1] * (shape[1] + 1);
    const x = Float64Array.from(rand(nx, 93, -2, 2)), dy = Float64Array.from(rand(ny, 94));
    const fd = finiteDiff((xx) => dot(dy, minibatchStdForwardRef(xx, shape, groupSize).y), x.slice());
    assertClose(
      minibatchStdBackwardRef(x, dy, shape, groupSize),
      fd,
      { atol: 1e-6, rtol: 1e-5 },
      `fd ${shape}`,
    );
  }
});

Deno.test("minibatch std statistic is the mean group std, grouped by n % M", () => {
  // N = 4, G = 2 -> M = 2: groups {0, 2} and {1, 3}; one value per sample
  const x = new Float64Array([0, 10, 2, 10]);
  const { stat } = minibatchStdForwardRef(x, [4, 1, 1, 1], 2);
  assertClose(stat, [1, 1e-4], { atol: 1e-9, rtol: 1e-6 }, "stat");
  assertThrows(() => minibatchStdForwardRef(new Float64Array(6), [6, 1, 1, 1]), /dividing the batch size 6/);
});
