import { addForward, addForwardCpu, addInto } from "../src/nn/add.ts";
import { assertThrows } from "./_assert.ts";
import { assertClose, rand, testGpu } from "./_util.ts";

const SHAPES = [[1], [7], [3, 5, 9, 9], [2, 8, 32, 32], [257, 3]];

Deno.test("add and addInto equal a + b in float32 (exactly) on odd sizes", async () => {
  const gpu = await testGpu();
  for (const shape of SHAPES) {
    const size = shape.reduce((p, q) => p * q, 1);
    const ah = rand(size, 1), bh = rand(size, 2, -1e3, 1e3);
    const a = gpu.tensor(shape, ah), b = gpu.tensor(shape, bh), out = gpu.tensor(shape);
    const acc = gpu.tensor(shape, ah);
    gpu.run((rec) => {
      addForward(rec, a, b, out);
      addInto(rec, acc, b);
    });
    // one float32 rounding of the float64 sum: exactly fl(a + b)
    const ref = Float32Array.from(addForwardCpu(ah, bh));
    assertClose(await gpu.read(out), ref, { atol: 0, rtol: 0 }, `add ${shape}`);
    assertClose(await gpu.read(acc), ref, { atol: 0, rtol: 0 }, `addInto ${shape}`);
  }
});

Deno.test("add: mismatched sizes and an output aliasing an input are refused", async () => {
  const gpu = await testGpu();
  const a = gpu.tensor([4, 4]), b = gpu.tensor([4, 5]);
  assertThrows(() => gpu.run((rec) => addForward(rec, a, b, a)), Error, /addForward: b has shape \(4,5\)/);
  assertThrows(() => gpu.run((rec) => addInto(rec, a, b)), Error, /addInto: x has shape \(4,5\)/);
  const c = gpu.tensor([4, 4]);
  assertThrows(() => gpu.run((rec) => addForward(rec, a, c, a)));
  assertThrows(() => addForwardCpu([1, 2], [3]), Error, /lengths differ/);
});
