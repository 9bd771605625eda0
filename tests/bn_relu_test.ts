/**
 * Fused batch norm + ReLU (src/nn/bn_relu.ts): the GPU kernels equal the CPU reference and the unfused GPU
 * path (batch norm, then ReLU; their backwards), also reading x from / adding dx into the first channels of
 * wider tensors (a dense block's shared buffers), and with the 2x2 average pooling fused (odd sizes drop
 * the last row / column); the CPU backward equals finite differences.
 */
import { biasActBackward, biasActForward } from "../src/nn/activation.ts";
import { batchNormBackward, batchNormForward } from "../src/nn/batch_norm.ts";
import { bnReluBackward, bnReluBackwardRef, bnReluForward, bnReluForwardRef } from "../src/nn/bn_relu.ts";
import { readChannelsRef } from "../src/nn/concat.ts";
import { avgPool2Backward, avgPool2Forward } from "../src/nn/pool.ts";
import { assertClose, bnRunningStart as runningStart, dot, finiteDiff, rand, testGpu } from "./_util.ts";
import { numel } from "../src/gpu/tensor.ts";

// [32, 4, 32, 32]: 32,768 values a channel, past llvmpipe's loop cap for one invocation (the _lanes kernels)
const SHAPES = [[4, 6, 9, 9], [1, 3, 5, 5], [3, 13, 16, 16], [8, 10], [32, 20, 1, 1], [2, 9, 2, 2], [
  32,
  4,
  32,
  32,
]];
const TOL = { atol: 3e-5, rtol: 2e-4 };

Deno.test("bn+relu GPU forward (train, eval) and backward equal the CPU reference and the unfused path", async () => {
  const gpu = await testGpu();
  for (const shape of SHAPES) {
    const n = numel(shape), c = shape[1];
    // an offset mean (x in [-2, 3]) exercises the shifted one-pass statistics
    const xh = rand(n, 11, -2, 3), gh = rand(c, 12, 0.5, 1.5), bh = rand(c, 13), drh = rand(n, 14);
    const rh = runningStart(c, 15);
    const x = gpu.tensor(shape, xh), g = gpu.tensor([c], gh), b = gpu.tensor([c], bh);
    const dr = gpu.tensor(shape, drh);
    // fused
    const r = gpu.tensor(shape), rEval = gpu.tensor(shape), saved = gpu.tensor([2, c]);
    const running = gpu.tensor([2, c], rh), dx = gpu.tensor(shape);
    const dg = gpu.tensor([c], new Float32Array(c).fill(0.5)),
      db = gpu.tensor([c], new Float32Array(c).fill(-1));
    // unfused: batch norm -> y -> ReLU -> r2; backward ReLU -> dy -> batch norm
    const y = gpu.tensor(shape), r2 = gpu.tensor(shape), saved2 = gpu.tensor([2, c]);
    const running2 = gpu.tensor([2, c], rh), dy = gpu.tensor(shape), dx2 = gpu.tensor(shape);
    const dg2 = gpu.tensor([c], new Float32Array(c).fill(0.5)),
      db2 = gpu.tensor([c], new Float32Array(c).fill(-1));
    gpu.run((rec) => {
      bnReluForward(rec, x, g, b, r, saved, running, { training: true, momentum: 0.2 });
      bnReluBackward(rec, x, dr, g, b, saved, dx, dg, db);
      bnReluForward(rec, x, g, b, rEval, null, running, { training: false });
      batchNormForward(rec, x, g, b, y, saved2, running2, { training: true, momentum: 0.2 });
      biasActForward(rec, y, null, r2, "relu");
      biasActBackward(rec, dr, r2, dy, null, "relu");
      batchNormBackward(rec, x, dy, g, saved2, dx2, dg2, db2);
    });
    const label = `${shape}`;
    const ref = bnReluForwardRef(xh, gh, bh, rh, shape, { training: true, momentum: 0.2 });
    const got = {
      r: await gpu.read(r),
      saved: await gpu.read(saved),
      running: await gpu.read(running),
      dx: await gpu.read(dx),
      dg: await gpu.read(dg),
      db: await gpu.read(db),
    };
    assertClose(got.r, ref.r, TOL, `r ${label}`);
    assertClose(got.saved.subarray(0, c), ref.mean, TOL, `saved mean ${label}`);
    assertClose(got.saved.subarray(c), ref.invstd, TOL, `saved invstd ${label}`);
    assertClose(got.running, ref.running, TOL, `running ${label}`);
    const evalRef = bnReluForwardRef(xh, gh, bh, ref.running, shape, { training: false });
    assertClose(await gpu.read(rEval), evalRef.r, TOL, `eval r ${label}`);
    const bw = bnReluBackwardRef(xh, drh, gh, bh, shape);
    const gtol = { atol: 1e-4, rtol: 2e-4 };
    assertClose(got.dx, bw.dx, gtol, `dx ${label}`);
    assertClose(got.dg, bw.dgamma.map((v) => v + 0.5), gtol, `dgamma ${label}`);
    assertClose(got.db, bw.dbeta.map((v) => v - 1), gtol, `dbeta ${label}`);
    // the unfused path
    assertClose(got.r, await gpu.read(r2), TOL, `r vs unfused ${label}`);
    assertClose(got.running, await gpu.read(running2), TOL, `running vs unfused ${label}`);
    assertClose(got.dx, await gpu.read(dx2), gtol, `dx vs unfused ${label}`);
    assertClose(got.dg, await gpu.read(dg2), gtol, `dgamma vs unfused ${label}`);
    assertClose(got.db, await gpu.read(db2), gtol, `dbeta vs unfused ${label}`);
    for (
      const t of [
        x,
        g,
        b,
        dr,
        r,
        rEval,
        saved,
        running,
        dx,
        dg,
        db,
        y,
        r2,
        saved2,
        running2,
        dy,
        dx2,
        dg2,
        db2,
      ]
    ) {
      t.dispose();
    }
  }
});

Deno.test("bn+relu reads x from and adds dx into the first channels of wider tensors", async () => {
  const gpu = await testGpu();
  const [n, c, wide, hw] = [3, 5, 9, 4 * 4];
  const wshape = [n, wide, 4, 4], shape = [n, c, 4, 4];
  const xw = rand(n * wide * hw, 21, -1, 2), dxw = rand(n * wide * hw, 22);
  const gh = rand(c, 23, 0.5, 1.5), bh = rand(c, 24), drh = rand(n * c * hw, 25);
  const x = gpu.tensor(wshape, xw), dx = gpu.tensor(wshape, dxw), dr = gpu.tensor(shape, drh);
  const g = gpu.tensor([c], gh), b = gpu.tensor([c], bh), r = gpu.tensor(shape), saved = gpu.tensor([2, c]);
  const running = gpu.tensor([2, c], runningStart(c, 26));
  const dg = gpu.tensor([c], new Float32Array(c)), db = gpu.tensor([c], new Float32Array(c));
  gpu.run((rec) => {
    bnReluForward(rec, x, g, b, r, saved, running, { training: true });
    bnReluBackward(rec, x, dr, g, b, saved, dx, dg, db, { accumulate: true });
  });
  const xs = readChannelsRef(xw, wshape, 0, c);
  const ref = bnReluForwardRef(xs, gh, bh, runningStart(c, 26), shape, { training: true });
  assertClose(await gpu.read(r), ref.r, TOL, "r from the slice");
  const bw = bnReluBackwardRef(xs, drh, gh, bh, shape);
  const want = Float64Array.from(dxw);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c * hw; j++) want[i * wide * hw + j] += bw.dx[i * c * hw + j];
  }
  assertClose(
    await gpu.read(dx),
    want,
    { atol: 1e-4, rtol: 2e-4 },
    "dx added into the slice, rest untouched",
  );
  for (const t of [x, dx, dr, g, b, r, saved, running, dg, db]) t.dispose();
});

Deno.test("bn+relu+pool GPU forward and backward equal the CPU reference and the unfused path", async () => {
  const gpu = await testGpu();
  // [32, 16, 32, 32]: the tiny classifier's stem at batch 32, whose backward passes llvmpipe's loop cap
  for (const shape of [[3, 5, 5, 7], [4, 6, 8, 8], [32, 3, 2, 2], [32, 16, 32, 32], [33, 3, 33, 31]]) {
    const [n, c, h, w] = shape, size = numel(shape);
    const pshape = [n, c, h >> 1, w >> 1], psize = numel(pshape);
    const xh = rand(size, 41, -2, 3), gh = rand(c, 42, 0.5, 1.5), bh = rand(c, 43), dph = rand(psize, 44);
    const rh = runningStart(c, 45);
    const x = gpu.tensor(shape, xh),
      g = gpu.tensor([c], gh),
      b = gpu.tensor([c], bh),
      dp = gpu.tensor(pshape, dph);
    const p = gpu.tensor(pshape), pEval = gpu.tensor(pshape), saved = gpu.tensor([2, c]);
    const running = gpu.tensor([2, c], rh),
      dx = gpu.tensor(shape),
      dg = gpu.tensor([c], new Float32Array(c)),
      db = gpu.tensor([c], new Float32Array(c));
    // unfused: batch norm -> ReLU -> avgpool; backward avgpool -> ReLU -> batch norm
    const y = gpu.tensor(shape), r = gpu.tensor(shape), p2 = gpu.tensor(pshape), saved2 = gpu.tensor([2, c]);
    const running2 = gpu.tensor([2, c], rh), dr = gpu.tensor(shape), dy = gpu.tensor(shape);
    const dx2 = gpu.tensor(shape),
      dg2 = gpu.tensor([c], new Float32Array(c)),
      db2 = gpu.tensor([c], new Float32Array(c));
    gpu.run((rec) => {
      bnReluForward(rec, x, g, b, p, saved, running, { training: true, pool: true });
      bnReluBackward(rec, x, dp, g, b, saved, dx, dg, db, { pool: true });
      bnReluForward(rec, x, g, b, pEval, null, running, { training: false, pool: true });
      batchNormForward(rec, x, g, b, y, saved2, running2, { training: true });
      biasActForward(rec, y, null, r, "relu");
      avgPool2Forward(rec, r, p2);
      avgPool2Backward(rec, dp, dr);
      biasActBackward(rec, dr, r, dy, null, "relu");
      batchNormBackward(rec, x, dy, g, saved2, dx2, dg2, db2);
    });
    const label = `${shape} pooled`;
    const ref = bnReluForwardRef(xh, gh, bh, rh, shape, { training: true, pool: true });
    const got = {
      p: await gpu.read(p),
      dx: await gpu.read(dx),
      dg: await gpu.read(dg),
      db: await gpu.read(db),
    };
    assertClose(got.p, ref.r, TOL, `p ${label}`);
    const evalRef = bnReluForwardRef(xh, gh, bh, ref.running, shape, { training: false, pool: true });
    assertClose(await gpu.read(pEval), evalRef.r, TOL, `eval p ${label}`);
    const bw = bnReluBackwardRef(xh, dph, gh, bh, shape, { pool: true });
    const gtol = { atol: 1e-4, rtol: 2e-4 };
    assertClose(got.dx, bw.dx, gtol, `dx ${label}`);
    assertClose(got.dg, bw.dgamma, gtol, `dgamma ${label}`);
    assertClose(got.db, bw.dbeta, gtol, `dbeta ${label}`);
    assertClose(got.p, await gpu.read(p2), TOL, `p vs unfused ${label}`);
    assertClose(got.dx, await gpu.read(dx2), gtol, `dx vs unfused ${label}`);
    assertClose(got.dg, await gpu.read(dg2), gtol, `dgamma vs unfused ${label}`);
    for (
      const t of [x, g, b, dp, p, pEval, saved, running, dx, dg, db, y, r, p2, saved2, running2, dr, dy, dx2]
    ) {
      t.dispose();
    }
    dg2.dispose();
    db2.dispose();
  }
});

Deno.test("bn+relu CPU backward equals finite differences", () => {
  for (const shape of [[3, 2, 2, 3], [5, 4]]) {
    const n = numel(shape), c = shape[1];
    const x = Float64Array.from(rand(n, 31, -2, 2));
    const g = Float64Array.from(rand(c, 32, 0.5, 1.5)), b = Float64Array.from(rand(c, 33));
    const dr = Float64Array.from(rand(n, 34));
    const run = new Float64Array(2 * c).fill(1);
    const loss = (xx: Float64Array, gg: Float64Array, bb: Float64Array) =>
      dot(dr, bnReluForwardRef(xx, gg, bb, run, shape, { training: true }).r);
    const bw = bnReluBackwardRef(x, dr, g, b, shape);
    const tol = { atol: 1e-6, rtol: 1e-5 };
    assertClose(bw.dx, finiteDiff((xx) => loss(xx, g, b), x.slice()), tol, `fd dx ${shape}`);
    assertClose(bw.dgamma, finiteDiff((gg) => loss(x, gg, b), g.slice()), tol, `fd dgamma ${shape}`);
    assertClose(bw.dbeta, finiteDiff((bb) => loss(x, g, bb), b.slice()), tol, `fd dbeta ${shape}`);
  }
  // pooled, odd width: the dropped column gets no gradient through the pool
  const shape = [2, 2, 4, 5], n = numel(shape);
  const x = Float64Array.from(rand(n, 35, -2, 2)), dp = Float64Array.from(rand(2 * 2 * 2 * 2, 36));
  const g = Float64Array.from(rand(2, 37, 0.5, 1.5)), b = Float64Array.from(rand(2, 38));
  const run = new Float64Array(4).fill(1);
  const loss = (xx: Float64Array) =>
    dot(dp, bnReluForwardRef(xx, g, b, run, shape, { training: true, pool: true }).r);
  const bw = bnReluBackwardRef(x, dp, g, b, shape, { pool: true });
  assertClose(bw.dx, finiteDiff(loss, x.slice()), { atol: 1e-6, rtol: 1e-5 }, "fd dx pooled");
});
