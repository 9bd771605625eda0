import {
  globalAvgPoolBackward,
  globalAvgPoolBackwardRef,
  globalAvgPoolForward,
  globalAvgPoolRef,
  globalPoolLanes,
} from "../src/nn/global_pool.ts";
import type { NormVariant } from "../src/nn/batch_norm.ts";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

const SHAPES = [[1, 1, 7, 7], [3, 3, 64, 64], [1, 1, 33, 33], [3, 3, 9, 9], [5, 3, 32, 32], [2, 5, 1, 1], [
  3,
  2,
  4,
  4,
], [1, 3, 9, 7]];
const VARIANTS: NormVariant[] = ["naive", "blocked", "auto"];

Deno.test("global average pool GPU forward and backward equal the CPU reference", async () => {
  const gpu = await testGpu();
  for (const shape of SHAPES) {
    const [n, c] = shape;
    const size = shape.reduce((a, b) => a * b, 1);
    const xh = rand(size, 11, -2, 2), dyh = rand(n * c, 12);
    const x = gpu.tensor(shape, xh), dy = gpu.tensor([n, c], dyh);
    const y = gpu.tensor([n, c]), dx = gpu.tensor(shape, new Float32Array(size).fill(7));
    const yRef = globalAvgPoolRef(xh, shape), dxRef = globalAvgPoolBackwardRef(dyh, shape);
    for (const variant of VARIANTS) {
      gpu.run((rec) => {
        globalAvgPoolForward(rec, x, y, { variant });
        globalAvgPoolBackward(rec, dy, dx);
      });
      assertClose(await gpu.read(y), yRef, { atol: 1e-6, rtol: 1e-5 }, `fwd ${variant} ${shape}`);
      assertClose(await gpu.read(dx), dxRef, { atol: 1e-7, rtol: 1e-6 }, `bwd ${variant} ${shape}`);
    }
    for (const t of [x, dy, y, dx]) t.dispose();
  }
});

Deno.test("global average pool CPU backward equals finite differences", () => {
  for (const shape of [[2, 3, 5, 4], [1, 1, 7, 7]]) {
    const size = shape.reduce((a, b) => a * b, 1);
    const x = Float64Array.from(rand(size, 21));
    const dy = Float64Array.from(rand(shape[0] * shape[1], 22));
    const fd = finiteDiff((xx) => dot(dy, globalAvgPoolRef(xx, shape)), x);
    assertClose(globalAvgPoolBackwardRef(dy, shape), fd, { atol: 1e-8, rtol: 1e-6 }, `fd ${shape}`);
  }
});

Deno.test("global average pool: the auto lane count follows the plane size; bad shapes throw", async () => {
  assertEquals([1, 16, 1024, 1025, 4096, 65536].map((v) => globalPoolLanes(v)), [1, 1, 1, 8, 16, 64]);
  assertEquals(globalPoolLanes(65536, "naive"), 1);
  assertEquals(globalPoolLanes(4, "blocked"), 64);
  const gpu = await testGpu();
  const x = gpu.tensor([2, 3, 4, 4]), y = gpu.tensor([2, 4]);
  const err = assertThrows(
    () => gpu.run((rec) => globalAvgPoolForward(rec, x, y)),
    Error,
    /y must be \(2,3\)/,
  );
  assert(err.message.includes("globalAvgPoolForward"));
  x.dispose();
  y.dispose();
});
