import { conv2dBackwardRef, conv2dForwardRef, conv2dOutputSize, type Conv2dShape } from "../src/nn/conv2d.ts";
import {
  conv2dBackwardInputTiled,
  conv2dBackwardWeightTiled,
  conv2dForwardTiled,
} from "../src/nn/_conv2d_tiled.ts";
import { assertClose, rand, testGpu } from "./_util.ts";

const shape = (
  n: number,
  cin: number,
  h: number,
  w: number,
  cout: number,
  k: number,
  stride: number,
  pad: number,
): Conv2dShape => ({ n, cin, h, w, cout, k, stride, pad });

/**
 * conv2d_test's shapes (odd sizes, kernels 1..5, strides 1 and 2 with and without a remainder, padding
 * 0..2) plus two larger ones (several tiles each way, split weight gradients).
 */
const SHAPES: Conv2dShape[] = [
  shape(3, 5, 9, 9, 7, 3, 1, 1),
  shape(3, 5, 11, 11, 7, 3, 2, 1),
  shape(3, 5, 9, 9, 7, 1, 1, 0),
  shape(3, 5, 11, 11, 7, 4, 2, 1),
  shape(3, 5, 9, 9, 7, 4, 1, 2),
  shape(3, 5, 11, 11, 7, 5, 1, 2),
  shape(3, 5, 11, 11, 7, 5, 2, 0),
  shape(2, 3, 9, 13, 9, 2, 2, 0),
  shape(2, 1, 7, 12, 1, 3, 2, 2),
  shape(1, 17, 6, 5, 33, 3, 1, 1),
  shape(2, 8, 16, 16, 16, 3, 1, 1),
  shape(4, 66, 16, 16, 70, 3, 1, 1), // several tiles each way; the weight gradient splits its pixels
  shape(2, 6, 33, 31, 5, 4, 2, 1),
];

const size = (...d: number[]) => d.reduce((a, b) => a * b, 1);

Deno.test("conv2d tiled forward and backward equal the CPU reference", async () => {
  const gpu = await testGpu();
  for (const [i, s] of SHAPES.entries()) {
    const [ho, wo] = conv2dOutputSize(s);
    const xs = [s.n, s.cin, s.h, s.w], ws = [s.cout, s.cin, s.k, s.k], ys = [s.n, s.cout, ho, wo];
    const xh = rand(size(...xs), 10 + i), wh = rand(size(...ws), 20 + i), dyh = rand(size(...ys), 30 + i);
    const bh = i % 2 === 0 ? rand(s.cout, 40 + i) : null;
    const x = gpu.tensor(xs, xh), w = gpu.tensor(ws, wh), dy = gpu.tensor(ys, dyh);
    const b = bh ? gpu.tensor([s.cout], bh) : null;
    const y = gpu.tensor(ys), dx = gpu.tensor(xs);
    const dw = gpu.tensor(ws, new Float32Array(size(...ws)).fill(0.5));
    const db = gpu.tensor([s.cout], new Float32Array(s.cout).fill(0.5));
    const done: boolean[] = [];
    gpu.run((rec) => {
      done.push(conv2dForwardTiled(rec, x, w, b, y, s));
      done.push(conv2dBackwardInputTiled(rec, dy, w, dx, s));
      done.push(conv2dBackwardWeightTiled(rec, x, dy, dw, db, s));
    });
    const l = `tiled ${JSON.stringify(s)}`;
    if (!done.every((d) => d)) throw new Error(`${l}: a tiled kernel declined the shape (${done})`);
    const ref = conv2dBackwardRef(xh, wh, dyh, s);
    const tol = { atol: 1e-4, rtol: 1e-4 }, sumTol = { atol: 2e-3, rtol: 2e-4 };
    assertClose(await gpu.read(y), conv2dForwardRef(xh, wh, bh, s), tol, `y ${l}`);
    assertClose(await gpu.read(dx), ref.dx, tol, `dx ${l}`);
    assertClose(await gpu.read(dw), ref.dw.map((v) => v + 0.5), sumTol, `dw ${l}`);
    assertClose(await gpu.read(db), ref.db.map((v) => v + 0.5), sumTol, `db ${l}`);
    for (const t of [x, w, dy, y, dx, dw, db]) t.dispose();
    b?.dispose();
  }
});

Deno.test("conv2d tiled rejects mismatched tensors with a clear error", async () => {
  const gpu = await testGpu();
  const s = shape(1, 2, 5, 5, 3, 3, 1, 1);
  const x = gpu.tensor([1, 2, 5, 5]), w = gpu.tensor([3, 2, 3, 2]), y = gpu.tensor([1, 3, 5, 5]);
  let msg = "";
  try {
    gpu.run((rec) => conv2dForwardTiled(rec, x, w, null, y, s));
  } catch (e) {
    msg = String(e);
  }
  if (!msg.includes("w must have shape")) throw new Error(`expected a shape error, got "${msg}"`);
  for (const t of [x, w, y]) t.dispose();
});
