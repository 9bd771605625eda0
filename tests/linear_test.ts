import * as tf from "@tensorflow/tfjs";
import {
  linearBackwardInput,
  linearBackwardRef,
  linearBackwardWeight,
  linearForward,
  linearForwardRef,
  type LinearShape,
} from "../src/nn/linear.ts";
import { matmul, matmulRef, type MatmulShape, type MatmulVariant, tiledWorkgroup } from "../src/nn/matmul.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

const VARIANTS: MatmulVariant[] = ["naive", "blocked", "tiled"];
// [5, 300, 40]: tiled runs 8-row tiles on 32 x 2 workgroups
const MNK: [number, number, number][] = [
  [1, 7, 33],
  [33, 129, 7],
  [129, 1, 33],
  [70, 33, 129],
  [5, 3, 1],
  [5, 300, 40],
];

Deno.test("matmul GPU (naive, blocked and tiled) equals the CPU reference: transposes, odd sizes, accumulate", async () => {
  const gpu = await testGpu();
  for (const [m, n, k] of MNK) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const ah = rand(m * k, m + 10 * n), bh = rand(k * n, k + 7), c0 = rand(m * n, 3);
        const ref = matmulRef(ah, bh, { m, n, k, transA, transB });
        for (const variant of VARIANTS) {
          for (const accumulate of [false, true]) {
            const s: MatmulShape = { m, n, k, transA, transB, accumulate };
            const a = gpu.tensor(transA ? [k, m] : [m, k], ah);
            const b = gpu.tensor(transB ? [n, k] : [k, n], bh);
            const c = gpu.tensor([m, n], c0);
            gpu.run((rec) => matmul(rec, a, b, c, s, variant));
            const want = accumulate ? ref.map((v, i) => v + c0[i]) : ref;
            assertClose(
              await gpu.read(c),
              want,
              { atol: 1e-4, rtol: 1e-4 },
              `${variant} ${JSON.stringify(s)}`,
            );
            for (const t of [a, b, c]) t.dispose();
          }
        }
      }
    }
  }
});

Deno.test("tiled matmul on its full 64 x 64 tiles (16 x 16 workgroups) equals the CPU reference", async () => {
  const gpu = await testGpu();
  const [m, n, k] = [1030, 1031, 21]; // over 256 tiles of 64 x 64, every edge partial
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const s: MatmulShape = { m, n, k, transA, transB, accumulate: transA };
      const ah = rand(m * k, 51), bh = rand(k * n, 52), c0 = rand(m * n, 53);
      const ref = matmulRef(ah, bh, s);
      const a = gpu.tensor(transA ? [k, m] : [m, k], ah);
      const b = gpu.tensor(transB ? [n, k] : [k, n], bh);
      const c = gpu.tensor([m, n], c0);
      gpu.run((rec) => matmul(rec, a, b, c, s, "tiled"));
      const want = transA ? ref.map((v, i) => v + c0[i]) : ref;
      assertClose(await gpu.read(c), want, { atol: 1e-4, rtol: 1e-4 }, `tiled ${JSON.stringify(s)}`);
      for (const t of [a, b, c]) t.dispose();
    }
  }
});

Deno.test("tiledWorkgroup picks 16 x 16 for big outputs and at least 64 invocations for narrow ones", () => {
  const eq = (got: [number, number], want: [number, number], what: string) => {
    if (got[0] !== want[0] || got[1] !== want[1]) throw new Error(`${what}: got ${got}, want ${want}`);
  };
  eq(tiledWorkgroup(1030, 1031), [16, 16], "1030 x 1031");
  eq(tiledWorkgroup(512, 512), [8, 8], "512 x 512 (64 tiles of 64 x 64 are too few)");
  eq(tiledWorkgroup(5, 300), [32, 2], "5 x 300");
  eq(tiledWorkgroup(8, 32768), [32, 2], "8 x 32768");
});

Deno.test("matmul rejects mismatched sizes with a clear error", async () => {
  const gpu = await testGpu();
  const a = gpu.tensor([3, 4]), b = gpu.tensor([5, 2]), c = gpu.tensor([3, 2]);
  let msg = "";
  try {
    gpu.run((rec) => matmul(rec, a, b, c, { m: 3, n: 2, k: 4 }));
  } catch (e) {
    msg = String(e);
  }
  if (!msg.includes("B has 10 values")) throw new Error(`expected a size error, got "${msg}"`);
  for (const t of [a, b, c]) t.dispose();
});

const LIN: LinearShape[] = [{ n: 3, in: 5, out: 7 }, { n: 32, in: 134, out: 65 }, { n: 1, in: 1, out: 1 }, {
  n: 9,
  in: 64,
  out: 33,
}];

Deno.test("linear GPU forward and backward equal the CPU reference", async () => {
  const gpu = await testGpu();
  for (const s of LIN) {
    const xh = rand(s.n * s.in, 1),
      wh = rand(s.out * s.in, 2),
      bh = rand(s.out, 3),
      dyh = rand(s.n * s.out, 4);
    const yRef = linearForwardRef(xh, wh, bh, s);
    const g = linearBackwardRef(xh, wh, dyh, s);
    for (const variant of VARIANTS) {
      const x = gpu.tensor([s.n, s.in], xh), w = gpu.tensor([s.out, s.in], wh), b = gpu.tensor([s.out], bh);
      const y = gpu.tensor([s.n, s.out]), y2 = gpu.tensor([s.n, s.out]), dy = gpu.tensor([s.n, s.out], dyh);
      const dx = gpu.tensor([s.n, s.in]);
      const dw = gpu.tensor([s.out, s.in], new Float32Array(s.out * s.in).fill(0.5));
      const db = gpu.tensor([s.out], new Float32Array(s.out).fill(-1));
      gpu.run((rec) => {
        linearForward(rec, x, w, b, y, variant);
        linearForward(rec, x, w, null, y2, variant);
        linearBackwardInput(rec, dy, w, dx, variant);
        linearBackwardWeight(rec, x, dy, dw, db, variant);
      });
      const tol = { atol: 1e-4, rtol: 1e-4 };
      const label = `${variant} ${JSON.stringify(s)}`;
      assertClose(await gpu.read(y), yRef, tol, `y ${label}`);
      assertClose(await gpu.read(y2), linearForwardRef(xh, wh, null, s), tol, `y no bias ${label}`);
      assertClose(await gpu.read(dx), g.dx, tol, `dx ${label}`);
      assertClose(await gpu.read(dw), g.dw.map((v) => v + 0.5), tol, `dw ${label}`);
      assertClose(await gpu.read(db), g.db.map((v) => v - 1), tol, `db ${label}`);
      for (const t of [x, w, b, y, y2, dy, dx, dw, db]) t.dispose();
    }
  }
});

Deno.test("linear CPU backward equals finite differences", () => {
  const s: LinearShape = { n: 3, in: 4, out: 5 };
  const x = Float64Array.from(rand(12, 5)),
    w = Float64Array.from(rand(20, 6)),
    b = Float64Array.from(rand(5, 7));
  const dy = Float64Array.from(rand(15, 8));
  const g = linearBackwardRef(x, w, dy, s);
  const tol = { atol: 1e-7, rtol: 1e-6 };
  assertClose(g.dx, finiteDiff((v) => dot(dy, linearForwardRef(v, w, b, s)), x.slice()), tol, "fd dx");
  assertClose(g.dw, finiteDiff((v) => dot(dy, linearForwardRef(x, v, b, s)), w.slice()), tol, "fd dw");
  assertClose(g.db, finiteDiff((v) => dot(dy, linearForwardRef(x, w, v, s)), b.slice()), tol, "fd db");
  // and matmulRef agrees with the linear reference (y = x W^T)
  assertClose(
    matmulRef(x, w, { m: 3, n: 5, k: 4, transB: true }).map((v, i) => v + b[i % 5]),
    linearForwardRef(x, w, b, s),
    tol,
    "matmulRef vs linearForwardRef",
  );
});

Deno.test("linear forward and gradients equal tfjs (cpu backend)", async () => {
  await tf.setBackend("cpu");
  for (const s of LIN.slice(0, 2)) {
    const xh = rand(s.n * s.in, 41),
      wh = rand(s.out * s.in, 42),
      bh = rand(s.out, 43),
      dyh = rand(s.n * s.out, 44);
    const x = tf.tensor2d(xh, [s.n, s.in]), w = tf.tensor2d(wh, [s.out, s.in]), b = tf.tensor1d(bh);
    const dy = tf.tensor2d(dyh, [s.n, s.out]);
    const fwd = (a: tf.Tensor, k: tf.Tensor, c: tf.Tensor) => tf.add(tf.matMul(a, k, false, true), c);
    const y = fwd(x, w, b);
    const [dx, dw, db] = tf.grads((a, k, c) => tf.sum(tf.mul(fwd(a, k, c), dy)))([x, w, b]);
    const g = linearBackwardRef(xh, wh, dyh, s);
    const tol = { atol: 1e-4, rtol: 1e-4 };
    assertClose(y.dataSync(), linearForwardRef(xh, wh, bh, s), tol, "tfjs y");
    assertClose(dx.dataSync(), g.dx, tol, "tfjs dx");
    assertClose(dw.dataSync(), g.dw, tol, "tfjs dw");
    assertClose(db.dataSync(), g.db, tol, "tfjs db");
    tf.dispose([x, w, b, dy, y, dx, dw, db]);
  }
});
