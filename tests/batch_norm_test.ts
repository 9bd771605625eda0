import * as tf from "@tensorflow/tfjs";
import {
  batchNormBackward,
  batchNormBackwardRef,
  batchNormForward,
  batchNormForwardRef,
  batchNormRunningInit,
  type NormVariant,
} from "../src/nn/batch_norm.ts";
import { assertClose, bnRunningStart as runningStart, dot, finiteDiff, rand, testGpu } from "./_util.ts";
import { numel } from "../src/gpu/tensor.ts";

const SHAPES = [[4, 6, 9, 9], [1, 3, 5, 5], [2, 3, 7, 7], [3, 5, 16, 16], [8, 10], [5, 3, 1, 1]];
const VARIANTS: NormVariant[] = ["naive", "blocked"];
const TOL = { atol: 2e-5, rtol: 1e-4 };

Deno.test("batch norm GPU forward (train, eval) and backward equal the CPU reference", async () => {
  const gpu = await testGpu();
  for (const shape of SHAPES) {
    for (const variant of VARIANTS) {
      const n = numel(shape), c = shape[1];
      const xh = rand(n, 11, -2, 3), gh = rand(c, 12, 0.5, 1.5), bh = rand(c, 13), dyh = rand(n, 14);
      const rh = runningStart(c, 15);
      const x = gpu.tensor(shape, xh), g = gpu.tensor([c], gh), b = gpu.tensor([c], bh);
      const y = gpu.tensor(shape), yEval = gpu.tensor(shape), saved = gpu.tensor([2, c]);
      const running = gpu.tensor([2, c], rh);
      const dy = gpu.tensor(shape, dyh), dx = gpu.tensor(shape);
      const dg = gpu.tensor([c], new Float32Array(c).fill(0.5)),
        db = gpu.tensor([c], new Float32Array(c).fill(-1));
      gpu.run((rec) => {
        batchNormForward(rec, x, g, b, y, saved, running, { training: true, momentum: 0.2, variant });
        batchNormBackward(rec, x, dy, g, saved, dx, dg, db, { variant });
        // evaluation with the updated running statistics
        batchNormForward(rec, x, g, b, yEval, null, running, { training: false });
      });
      const label = `${shape} ${variant}`;
      const ref = batchNormForwardRef(xh, gh, bh, rh, shape, { training: true, momentum: 0.2 });
      assertClose(await gpu.read(y), ref.y, TOL, `y ${label}`);
      const sv = await gpu.read(saved);
      assertClose(sv.subarray(0, c), ref.mean, TOL, `saved mean ${label}`);
      assertClose(sv.subarray(c), ref.invstd, TOL, `saved invstd ${label}`);
      assertClose(await gpu.read(running), ref.running, TOL, `running ${label}`);
      const evalRef = batchNormForwardRef(xh, gh, bh, ref.running, shape, { training: false });
      assertClose(await gpu.read(yEval), evalRef.y, TOL, `eval y ${label}`);
      const bw = batchNormBackwardRef(xh, dyh, gh, shape);
      assertClose(await gpu.read(dx), bw.dx, { atol: 1e-4, rtol: 1e-4 }, `dx ${label}`);
      assertClose(
        await gpu.read(dg),
        bw.dgamma.map((v) => v + 0.5),
        { atol: 1e-4, rtol: 1e-4 },
        `dg ${label}`,
      );
      assertClose(await gpu.read(db), bw.dbeta.map((v) => v - 1), { atol: 1e-4, rtol: 1e-4 }, `db ${label}`);
      for (const t of [x, g, b, y, yEval, saved, running, dy, dx, dg, db]) t.dispose();
    }
  }
});

Deno.test("batch norm CPU backward equals finite differences", () => {
  for (const shape of [[3, 2, 2, 3], [5, 4]]) {
    const n = numel(shape), c = shape[1];
    const x = Float64Array.from(rand(n, 21, -2, 2));
    const g = Float64Array.from(rand(c, 22, 0.5, 1.5)), b = Float64Array.from(rand(c, 23));
    const dy = Float64Array.from(rand(n, 24));
    const run = batchNormRunningInit(c);
    const loss = (xx: Float64Array, gg: Float64Array, bb: Float64Array) =>
      dot(dy, batchNormForwardRef(xx, gg, bb, run, shape, { training: true }).y);
    const bw = batchNormBackwardRef(x, dy, g, shape);
    const tol = { atol: 1e-6, rtol: 1e-5 };
    assertClose(bw.dx, finiteDiff((xx) => loss(xx, g, b), x.slice()), tol, `fd dx ${shape}`);
    assertClose(bw.dgamma, finiteDiff((gg) => loss(x, gg, b), g.slice()), tol, `fd dgamma ${shape}`);
    assertClose(bw.dbeta, finiteDiff((bb) => loss(x, g, bb), b.slice()), tol, `fd dbeta ${shape}`);
  }
});

Deno.test("batch norm CPU reference equals tfjs (cpu backend) forward and gradients", async () => {
  await tf.setBackend("cpu");
  for (const shape of [[4, 6, 9, 9], [8, 10]]) {
    const n = numel(shape), c = shape[1];
    const xh = rand(n, 31, -2, 3), gh = rand(c, 32, 0.5, 1.5), bh = rand(c, 33), dyh = rand(n, 34);
    const rh = runningStart(c, 35);
    const bshape = shape.length === 4 ? [1, c, 1, 1] : [1, c];
    const axes = shape.length === 4 ? [0, 2, 3] : [0];
    const eps = 1e-5;
    const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      const { mean, variance } = tf.moments(x, axes, true);
      return x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(g.reshape(bshape)).add(b.reshape(bshape));
    };
    const [x, g, b, dy] = [tf.tensor(xh, shape), tf.tensor(gh), tf.tensor(bh), tf.tensor(dyh, shape)];
    const ref = batchNormForwardRef(xh, gh, bh, rh, shape, { training: true });
    assertClose(await f(x, g, b).data(), ref.y, { atol: 1e-5, rtol: 1e-4 }, `tf fwd ${shape}`);
    const grads = tf.grads((xx, gg, bb) => f(xx, gg, bb).mul(dy).sum());
    const [tdx, tdg, tdb] = grads([x, g, b]);
    const bw = batchNormBackwardRef(xh, dyh, gh, shape);
    assertClose(await tdx.data(), bw.dx, { atol: 1e-4, rtol: 1e-3 }, `tf dx ${shape}`);
    assertClose(await tdg.data(), bw.dgamma, { atol: 1e-4, rtol: 1e-3 }, `tf dgamma ${shape}`);
    assertClose(await tdb.data(), bw.dbeta, { atol: 1e-4, rtol: 1e-3 }, `tf dbeta ${shape}`);
    // evaluation mode against tf.batchNorm with the running statistics
    // (tf.batchNorm indexes the statistics by the LAST axis, so NCHW goes through NHWC)
    const rm = tf.tensor(rh.subarray(0, c)), rv = tf.tensor(rh.subarray(c));
    const tEval = shape.length === 4
      ? tf.batchNorm(x.transpose([0, 2, 3, 1]), rm, rv, b, g, eps).transpose([0, 3, 1, 2])
      : tf.batchNorm(x, rm, rv, b, g, eps);
    const evalRef = batchNormForwardRef(xh, gh, bh, rh, shape, { training: false });
    assertClose(await tEval.data(), evalRef.y, { atol: 1e-5, rtol: 1e-4 }, `tf eval ${shape}`);
    tf.dispose([x, g, b, dy, tdx, tdg, tdb, rm, rv, tEval]);
  }
});
