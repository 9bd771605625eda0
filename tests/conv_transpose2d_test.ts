import * as tf from "@tensorflow/tfjs";
import {
  convT2dBackwardInput,
  convT2dBackwardRef,
  convT2dBackwardWeight,
  convT2dForward,
  convT2dForwardRef,
  convT2dOutputSize,
  type ConvT2dShape,
  type ConvVariant,
} from "../src/nn/conv_transpose2d.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

const SHAPES: ConvT2dShape[] = [
  { n: 2, cin: 5, h: 3, w: 4, cout: 6, k: 4, stride: 2, pad: 1 }, // the GAN's up-conv, odd channels
  { n: 1, cin: 3, h: 5, w: 7, cout: 9, k: 3, stride: 1, pad: 1 }, // the GAN's same-size conv
  { n: 3, cin: 9, h: 4, w: 3, cout: 13, k: 5, stride: 2, pad: 2 }, // odd output size (7 x 5)
  { n: 2, cin: 4, h: 3, w: 3, cout: 4, k: 2, stride: 2, pad: 0 },
  { n: 1, cin: 17, h: 2, w: 5, cout: 3, k: 1, stride: 1, pad: 0 },
  { n: 2, cin: 8, h: 6, w: 5, cout: 16, k: 3, stride: 2, pad: 0 },
  { n: 4, cin: 33, h: 4, w: 4, cout: 20, k: 4, stride: 2, pad: 1 },
  { n: 1, cin: 70, h: 2, w: 3, cout: 65, k: 3, stride: 2, pad: 1 }, // 5 channel tiles: (16, 4) workgroups
];

const size = (...d: number[]) => d.reduce((a, b) => a * b, 1);

Deno.test("transposed conv GPU (naive, blocked and tiled) equals the CPU reference", async () => {
  const gpu = await testGpu();
  for (const s of SHAPES) {
    const [ho, wo] = convT2dOutputSize(s);
    const xs = [s.n, s.cin, s.h, s.w], ws = [s.cin, s.cout, s.k, s.k], ys = [s.n, s.cout, ho, wo];
    const xh = rand(size(...xs), 1),
      wh = rand(size(...ws), 2),
      bh = rand(s.cout, 3),
      dyh = rand(size(...ys), 4);
    const yRef = convT2dForwardRef(xh, wh, bh, s);
    const yRefNoBias = convT2dForwardRef(xh, wh, null, s);
    const g = convT2dBackwardRef(xh, wh, dyh, s);
    for (const variant of ["naive", "blocked", "tiled"] as ConvVariant[]) {
      const label = `${variant} ${JSON.stringify(s)}`;
      const x = gpu.tensor(xs, xh), w = gpu.tensor(ws, wh), b = gpu.tensor([s.cout], bh);
      const y = gpu.tensor(ys), y2 = gpu.tensor(ys), dy = gpu.tensor(ys, dyh), dx = gpu.tensor(xs);
      const dw = gpu.tensor(ws, new Float32Array(size(...ws)).fill(0.5));
      const db = gpu.tensor([s.cout], new Float32Array(s.cout).fill(-0.25));
      gpu.run((rec) => {
        convT2dForward(rec, x, w, b, y, s, variant);
        convT2dForward(rec, x, w, null, y2, s, variant);
        convT2dBackwardInput(rec, dy, w, dx, s, variant);
        convT2dBackwardWeight(rec, x, dy, dw, db, s, variant);
      });
      const tol = { atol: 1e-4, rtol: 1e-4 };
      assertClose(await gpu.read(y), yRef, tol, `fwd ${label}`);
      assertClose(await gpu.read(y2), yRefNoBias, tol, `fwd no bias ${label}`);
      assertClose(await gpu.read(dx), g.dx, tol, `dx ${label}`);
      assertClose(await gpu.read(dw), g.dw.map((v) => v + 0.5), { atol: 1e-3, rtol: 1e-4 }, `dw ${label}`);
      assertClose(await gpu.read(db), g.db.map((v) => v - 0.25), { atol: 1e-3, rtol: 1e-4 }, `db ${label}`);
      for (const t of [x, w, b, y, y2, dy, dx, dw, db]) t.dispose();
    }
  }
});

Deno.test("transposed conv blocked weight gradient splits its reduction correctly", async () => {
  // few weights, many rows: the blocked kernel splits over rows and reduces the partial sums
  const gpu = await testGpu();
  const s: ConvT2dShape = { n: 5, cin: 3, h: 9, w: 7, cout: 2, k: 4, stride: 2, pad: 1 };
  const [ho, wo] = convT2dOutputSize(s);
  const xh = rand(size(s.n, s.cin, s.h, s.w), 11), dyh = rand(size(s.n, s.cout, ho, wo), 12);
  const wh = rand(size(s.cin, s.cout, s.k, s.k), 13);
  const ref = convT2dBackwardRef(xh, wh, dyh, s);
  const x = gpu.tensor([s.n, s.cin, s.h, s.w], xh), dy = gpu.tensor([s.n, s.cout, ho, wo], dyh);
  const dw = gpu.tensor([s.cin, s.cout, s.k, s.k], new Float32Array(wh.length));
  gpu.run((rec) => {
    convT2dBackwardWeight(rec, x, dy, dw, null, s, "blocked");
    convT2dBackwardWeight(rec, x, dy, dw, null, s, "blocked"); // accumulates: twice the gradient
  });
  assertClose(await gpu.read(dw), ref.dw.map((v) => 2 * v), { atol: 1e-3, rtol: 1e-4 }, "dw split");
  for (const t of [x, dy, dw]) t.dispose();
});

Deno.test("transposed conv tiled kernels on larger shapes (16 x 16 workgroups, split weight gradient)", async () => {
  // the first is big enough that the tiled forward runs 16 x 16 workgroups (2 x 32 x 4 tiles of 64 x 64);
  // both split the weight gradient's pixels
  const gpu = await testGpu();
  for (
    const s of [
      { n: 8, cin: 40, h: 16, w: 16, cout: 66, k: 4, stride: 2, pad: 1 },
      { n: 2, cin: 9, h: 40, w: 33, cout: 5, k: 3, stride: 1, pad: 1 },
    ] as ConvT2dShape[]
  ) {
    const [ho, wo] = convT2dOutputSize(s);
    const xs = [s.n, s.cin, s.h, s.w], ws = [s.cin, s.cout, s.k, s.k], ys = [s.n, s.cout, ho, wo];
    const xh = rand(size(...xs), 61), wh = rand(size(...ws), 62), bh = rand(s.cout, 63);
    const dyh = rand(size(...ys), 64);
    const g = convT2dBackwardRef(xh, wh, dyh, s);
    const x = gpu.tensor(xs, xh), w = gpu.tensor(ws, wh), b = gpu.tensor([s.cout], bh);
    const y = gpu.tensor(ys), dy = gpu.tensor(ys, dyh), dx = gpu.tensor(xs);
    const dw = gpu.tensor(ws, new Float32Array(size(...ws)).fill(0.5));
    gpu.run((rec) => {
      convT2dForward(rec, x, w, b, y, s, "tiled");
      convT2dBackwardInput(rec, dy, w, dx, s, "tiled");
      convT2dBackwardWeight(rec, x, dy, dw, null, s, "tiled");
    });
    const label = `tiled ${JSON.stringify(s)}`;
    assertClose(
      await gpu.read(y),
      convT2dForwardRef(xh, wh, bh, s),
      { atol: 1e-4, rtol: 1e-4 },
      `fwd ${label}`,
    );
    assertClose(await gpu.read(dx), g.dx, { atol: 1e-4, rtol: 1e-4 }, `dx ${label}`);
    assertClose(await gpu.read(dw), g.dw.map((v) => v + 0.5), { atol: 2e-3, rtol: 1e-4 }, `dw ${label}`);
    for (const t of [x, w, b, y, dy, dx, dw]) t.dispose();
  }
});

Deno.test("transposed conv CPU backward equals finite differences", () => {
  for (const s of [SHAPES[0], SHAPES[2], { n: 1, cin: 2, h: 3, w: 2, cout: 3, k: 3, stride: 1, pad: 0 }]) {
    const [ho, wo] = convT2dOutputSize(s);
    const x = Float64Array.from(rand(size(s.n, s.cin, s.h, s.w), 21));
    const w = Float64Array.from(rand(size(s.cin, s.cout, s.k, s.k), 22));
    const b = Float64Array.from(rand(s.cout, 23));
    const dy = Float64Array.from(rand(size(s.n, s.cout, ho, wo), 24));
    const g = convT2dBackwardRef(x, w, dy, s);
    const tol = { atol: 1e-7, rtol: 1e-6 };
    assertClose(g.dx, finiteDiff((v) => dot(dy, convT2dForwardRef(v, w, b, s)), x.slice()), tol, "fd dx");
    assertClose(g.dw, finiteDiff((v) => dot(dy, convT2dForwardRef(x, v, b, s)), w.slice()), tol, "fd dw");
    assertClose(g.db, finiteDiff((v) => dot(dy, convT2dForwardRef(x, w, v, s)), b.slice()), tol, "fd db");
  }
});

Deno.test("transposed conv forward and gradients equal tfjs (cpu backend)", async () => {
  await tf.setBackend("cpu");
  for (const s of [SHAPES[0], SHAPES[1], SHAPES[2], SHAPES[5]]) {
    const [ho, wo] = convT2dOutputSize(s);
    const xh = rand(size(s.n, s.cin, s.h, s.w), 31), wh = rand(size(s.cin, s.cout, s.k, s.k), 32);
    const dyh = rand(size(s.n, s.cout, ho, wo), 33);
    // NCHW -> NHWC; weight (Cin, Cout, K, K) -> tfjs filter (K, K, Cout, Cin)
    const x = tf.transpose(tf.tensor4d(xh, [s.n, s.cin, s.h, s.w]), [0, 2, 3, 1]) as tf.Tensor4D;
    const f = tf.transpose(tf.tensor4d(wh, [s.cin, s.cout, s.k, s.k]), [2, 3, 1, 0]) as tf.Tensor4D;
    const dy = tf.transpose(tf.tensor4d(dyh, [s.n, s.cout, ho, wo]), [0, 2, 3, 1]);
    const fwd = (a: tf.Tensor4D, k: tf.Tensor4D) =>
      tf.conv2dTranspose(a, k, [s.n, ho, wo, s.cout], s.stride, s.pad);
    const y = tf.transpose(fwd(x, f), [0, 3, 1, 2]);
    const [dx, df] = tf.grads((a, k) => tf.sum(tf.mul(fwd(a as tf.Tensor4D, k as tf.Tensor4D), dy)))([x, f]);
    const ref = convT2dBackwardRef(xh, wh, dyh, s);
    const tol = { atol: 1e-4, rtol: 1e-4 };
    const label = JSON.stringify(s);
    assertClose(y.dataSync(), convT2dForwardRef(xh, wh, null, s), tol, `tfjs fwd ${label}`);
    assertClose(tf.transpose(dx, [0, 3, 1, 2]).dataSync(), ref.dx, tol, `tfjs dx ${label}`);
    assertClose(tf.transpose(df, [3, 2, 0, 1]).dataSync(), ref.dw, tol, `tfjs dw ${label}`);
    tf.dispose([x, f, dy, y, dx, df]);
  }
});
