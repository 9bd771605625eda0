import * as tf from "@tensorflow/tfjs";
import {
  avgPool2Backward,
  avgPool2BackwardRef,
  avgPool2Forward,
  avgPool2Ref,
  upsample2Backward,
  upsample2BackwardRef,
  upsample2Forward,
  upsample2Ref,
} from "../src/nn/pool.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

const SHAPES = [[3, 5, 9, 11], [2, 4, 8, 8], [1, 1, 2, 3], [2, 3, 7, 6], [33, 2, 16, 16]];
const numel = (a: number[]) => a.reduce((p, q) => p * q, 1);
const TOL = { atol: 1e-6, rtol: 1e-5 };

Deno.test("avgpool2 and upsample2 GPU forward and backward equal the CPU reference", async () => {
  const gpu = await testGpu();
  for (const [i, shape] of SHAPES.entries()) {
    const [n, c, h, w] = shape;
    const half = [n, c, Math.floor(h / 2), Math.floor(w / 2)];
    const dbl = [n, c, 2 * h, 2 * w];
    const xh = rand(numel(shape), 1 + i), dph = rand(numel(half), 2 + i), duh = rand(numel(dbl), 3 + i);
    const x = gpu.tensor(shape, xh);
    const p = gpu.tensor(half), dp = gpu.tensor(half, dph), u = gpu.tensor(dbl), du = gpu.tensor(dbl, duh);
    // gradients start as junk: they must be overwritten, not accumulated
    const dxp = gpu.tensor(shape, new Float32Array(numel(shape)).fill(9));
    const dxu = gpu.tensor(shape, new Float32Array(numel(shape)).fill(9));
    gpu.run((rec) => {
      avgPool2Forward(rec, x, p);
      avgPool2Backward(rec, dp, dxp);
      upsample2Forward(rec, x, u);
      upsample2Backward(rec, du, dxu);
    });
    assertClose(await gpu.read(p), avgPool2Ref(xh, shape), TOL, `avgpool fwd ${shape}`);
    assertClose(await gpu.read(dxp), avgPool2BackwardRef(dph, shape), TOL, `avgpool bwd ${shape}`);
    assertClose(await gpu.read(u), upsample2Ref(xh, shape), TOL, `upsample fwd ${shape}`);
    assertClose(await gpu.read(dxu), upsample2BackwardRef(duh, shape), TOL, `upsample bwd ${shape}`);
    for (const t of [x, p, dp, u, du, dxp, dxu]) t.dispose();
  }
});

Deno.test("avgpool2 and upsample2 CPU backward equal finite differences", () => {
  for (const shape of [[2, 2, 5, 4], [1, 3, 4, 7]]) {
    const [n, c, h, w] = shape;
    const x = Float64Array.from(rand(numel(shape), 5));
    const dp = Float64Array.from(rand(n * c * Math.floor(h / 2) * Math.floor(w / 2), 6));
    const du = Float64Array.from(rand(n * c * 4 * h * w, 7));
    const fp = finiteDiff((v) => dot(dp, avgPool2Ref(v, shape)), x.slice());
    assertClose(avgPool2BackwardRef(dp, shape), fp, { atol: 1e-7, rtol: 1e-6 }, `fd avgpool ${shape}`);
    const fu = finiteDiff((v) => dot(du, upsample2Ref(v, shape)), x.slice());
    assertClose(upsample2BackwardRef(du, shape), fu, { atol: 1e-7, rtol: 1e-6 }, `fd upsample ${shape}`);
  }
});

Deno.test("avgpool2 and upsample2 equal tfjs (cpu backend)", async () => {
  await tf.setBackend("cpu");
  const shape = [2, 3, 9, 10];
  const [n, c, h, w] = shape;
  const xh = rand(numel(shape), 11);
  const [pool, up] = tf.tidy(() => {
    const x = tf.tensor4d(xh, [n, c, h, w]).transpose([0, 2, 3, 1]);
    const p = tf.avgPool(x as tf.Tensor4D, 2, 2, "valid").transpose([0, 3, 1, 2]);
    const u = tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [2 * h, 2 * w]).transpose([0, 3, 1, 2]);
    return [p.dataSync().slice(), u.dataSync().slice()];
  });
  assertClose(avgPool2Ref(xh, shape), pool, TOL, "tf avgPool");
  assertClose(upsample2Ref(xh, shape), up, TOL, "tf resizeNearestNeighbor");
});

Deno.test("pool layers reject mismatched shapes", async () => {
  const gpu = await testGpu();
  const x = gpu.tensor([1, 2, 6, 6]), y = gpu.tensor([1, 2, 4, 4]);
  let msg = "";
  try {
    gpu.run((rec) => avgPool2Forward(rec, x, y));
  } catch (e) {
    msg = String(e);
  }
  if (!msg.includes("avgPool2Forward: y must be (1,2,3,3)")) throw new Error(`unexpected error: ${msg}`);
  x.dispose();
  y.dispose();
});
