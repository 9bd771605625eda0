import type { NormVariant } from "../src/nn/batch_norm.ts";
import {
  pixelNormBackward,
  pixelNormBackwardRef,
  pixelNormForward,
  pixelNormForwardRef,
} from "../src/nn/pixel_norm.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

const SHAPES = [[1, 3, 5, 5], [2, 3, 7, 7], [3, 8, 16, 16], [4, 6, 9, 9], [5, 12]];
const VARIANTS: NormVariant[] = ["naive", "blocked"];

Deno.test("pixel norm GPU forward and backward equal the CPU reference", async () => {
  const gpu = await testGpu();
  for (const shape of SHAPES) {
    for (const variant of VARIANTS) {
      const n = shape.reduce((a, b) => a * b, 1);
      const xh = rand(n, 41, -2, 2), dyh = rand(n, 42);
      const x = gpu.tensor(shape, xh),
        y = gpu.tensor(shape),
        dy = gpu.tensor(shape, dyh),
        dx = gpu.tensor(shape);
      gpu.run((rec) => {
        pixelNormForward(rec, x, y, { variant });
        pixelNormBackward(rec, x, dy, dx, { variant });
      });
      const label = `${shape} ${variant}`;
      assertClose(
        await gpu.read(y),
        pixelNormForwardRef(xh, shape),
        { atol: 1e-5, rtol: 1e-4 },
        `y ${label}`,
      );
      assertClose(
        await gpu.read(dx),
        pixelNormBackwardRef(xh, dyh, shape),
        { atol: 1e-4, rtol: 1e-4 },
        `dx ${label}`,
      );
      for (const t of [x, y, dy, dx]) t.dispose();
    }
  }
});

Deno.test("pixel norm CPU backward equals finite differences", () => {
  for (const shape of [[2, 3, 2, 3], [3, 5]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = Float64Array.from(rand(n, 51, -2, 2)), dy = Float64Array.from(rand(n, 52));
    const fd = finiteDiff((xx) => dot(dy, pixelNormForwardRef(xx, shape)), x.slice());
    assertClose(pixelNormBackwardRef(x, dy, shape), fd, { atol: 1e-6, rtol: 1e-5 }, `fd dx ${shape}`);
  }
});

Deno.test("pixel norm output has unit mean square per pixel", () => {
  const shape = [2, 4, 3, 3];
  const y = pixelNormForwardRef(rand(72, 53, -3, 3), shape);
  for (let n = 0; n < 2; n++) {
    for (let s = 0; s < 9; s++) {
      let ms = 0;
      for (let c = 0; c < 4; c++) ms += y[(n * 4 + c) * 9 + s] ** 2 / 4;
      assertClose([ms], [1], { atol: 1e-6, rtol: 0 }, `mean square n${n} s${s}`);
    }
  }
});
