import * as tf from "@tensorflow/tfjs";
import {
  conv2dBackwardInput,
  conv2dBackwardRef,
  conv2dBackwardWeight,
  conv2dForward,
  conv2dForwardRef,
  conv2dOutputSize,
  type Conv2dShape,
  type ConvVariant,
} from "../src/nn/conv2d.ts";
import { packOptions, packWorkgroup } from "../src/nn/_conv2d_gemm.ts";
import { dyPackOptions } from "../src/nn/_conv2d_blocked.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

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

/** Odd sizes, every kernel size 1..5, strides 1 and 2, padding 0..2, channel counts off the block sizes. */
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
  // >= 16 channels both sides: the weight gradient runs as the transposed conv's (stride 2 and 1)
  shape(2, 16, 8, 8, 20, 4, 2, 1),
  // a 1x1 conv of 1x1 images: forward and input gradient run as matmuls
  shape(5, 37, 1, 1, 19, 1, 1, 0),
  // 1x1-4x4 images, odd channel counts: the pack kernel fits several planes into one workgroup
  shape(3, 7, 1, 1, 5, 3, 1, 1),
  shape(3, 5, 2, 2, 9, 1, 1, 0),
  shape(2, 9, 3, 3, 7, 3, 1, 1),
  shape(3, 7, 4, 4, 11, 3, 1, 1),
  shape(2, 5, 4, 4, 3, 2, 2, 0),
  // 1x1 convs of 2x2-8x8 images: forward and input gradient run as one matmul over (image, pixel) rows
  shape(2, 7, 4, 4, 13, 1, 1, 0),
  shape(3, 19, 8, 8, 5, 1, 1, 0),
  shape(3, 5, 3, 3, 17, 1, 1, 0),
  // stride 2 with dy of >= 65,536 values: the input gradient runs as the transposed conv's forward; at 33 px
  // the transposed conv's output (32) is not the input's size, so it does not
  shape(16, 3, 32, 32, 17, 4, 2, 1),
  shape(16, 3, 33, 33, 17, 4, 2, 1),
];

const TOL = { atol: 1e-4, rtol: 1e-4 };

function sizes(s: Conv2dShape) {
  const [ho, wo] = conv2dOutputSize(s);
  return {
    x: [s.n, s.cin, s.h, s.w],
    w: [s.cout, s.cin, s.k, s.k],
    y: [s.n, s.cout, ho, wo],
  };
}
const numel = (a: number[]) => a.reduce((p, q) => p * q, 1);
const label = (s: Conv2dShape) =>
  `n${s.n} cin${s.cin} ${s.h}x${s.w} cout${s.cout} k${s.k} s${s.stride} p${s.pad}`;

/** Runs forward and both backward passes on the GPU; dx starts as junk (must be overwritten), dw/db at 0.5. */
async function gpuConv(
  s: Conv2dShape,
  xh: Float32Array,
  wh: Float32Array,
  bh: Float32Array | null,
  dyh: Float32Array,
  variant: ConvVariant,
) {
  const gpu = await testGpu();
  const z = sizes(s);
  const x = gpu.tensor(z.x, xh), w = gpu.tensor(z.w, wh), b = bh ? gpu.tensor([s.cout], bh) : null;
  const y = gpu.tensor(z.y), dy = gpu.tensor(z.y, dyh);
  const dx = gpu.tensor(z.x, new Float32Array(numel(z.x)).fill(7));
  const dw = gpu.tensor(z.w, new Float32Array(numel(z.w)).fill(0.5));
  const db = gpu.tensor([s.cout], new Float32Array(s.cout).fill(0.5));
  gpu.run((rec) => {
    conv2dForward(rec, x, w, b, y, s, variant);
    conv2dBackwardInput(rec, dy, w, dx, s, variant);
    conv2dBackwardWeight(rec, x, dy, dw, db, s, variant);
  });
  const out = {
    y: await gpu.read(y),
    dx: await gpu.read(dx),
    dw: await gpu.read(dw),
    db: await gpu.read(db),
  };
  for (const t of [x, w, b, y, dy, dx, dw, db]) t?.dispose();
  return out;
}

for (const variant of ["naive", "blocked"] as const) {
  Deno.test(`conv2d ${variant} GPU forward and backward equal the CPU reference`, async () => {
    for (const [i, s] of SHAPES.entries()) {
      const z = sizes(s);
      const xh = rand(numel(z.x), 10 + i), wh = rand(numel(z.w), 20 + i), dyh = rand(numel(z.y), 30 + i);
      const bh = i % 2 === 0 ? rand(s.cout, 40 + i) : null;
      const got = await gpuConv(s, xh, wh, bh, dyh, variant);
      const l = `${variant} ${label(s)}`;
      assertClose(got.y, conv2dForwardRef(xh, wh, bh, s), TOL, `y ${l}`);
      const ref = conv2dBackwardRef(xh, wh, dyh, s);
      assertClose(got.dx, ref.dx, TOL, `dx ${l}`);
      assertClose(got.dw, ref.dw.map((v) => v + 0.5), TOL, `dw ${l}`);
      assertClose(got.db, ref.db.map((v) => v + 0.5), TOL, `db ${l}`);
    }
  });
}

Deno.test("conv2d blocked with the former 8 x 8 pack workgroups equals the CPU reference", async () => {
  packOptions.fitted = false;
  try {
    if (packWorkgroup(1, 2).join() !== "8,8,1") throw new Error("the 8 x 8 pack form was not selected");
    for (const [i, s] of SHAPES.entries()) {
      if (s.h > 4) continue;
      const z = sizes(s);
      const xh = rand(numel(z.x), 10 + i), wh = rand(numel(z.w), 20 + i), dyh = rand(numel(z.y), 30 + i);
      const got = await gpuConv(s, xh, wh, null, dyh, "blocked");
      assertClose(got.y, conv2dForwardRef(xh, wh, null, s), TOL, `y 8x8 pack ${label(s)}`);
      assertClose(got.dx, conv2dBackwardRef(xh, wh, dyh, s).dx, TOL, `dx 8x8 pack ${label(s)}`);
    }
  } finally {
    packOptions.fitted = true;
  }
});

Deno.test("conv2d blocked weight gradient: dy copied flat, packed 4 pixels an invocation or texel-wise, bit for bit", async () => {
  // output rows of 4k pixels (dy copied as it lies: flat), incl. 16 x 32x32 images = 16,384 dy rows (two folds
  // of 8192 when packed), and rows that are not (6x6, 9x9: packed either way; 6x6 planes with the vec4 pack)
  const cases = [
    shape(3, 5, 11, 11, 7, 3, 2, 1),
    shape(2, 8, 16, 16, 13, 3, 1, 1),
    shape(3, 7, 4, 4, 11, 3, 1, 1),
    shape(16, 3, 32, 32, 5, 3, 1, 1),
    shape(3, 5, 9, 9, 7, 3, 1, 1),
    shape(2, 3, 8, 8, 9, 4, 2, 1),
  ];
  const defaults = { ...dyPackOptions };
  const modes = [
    { flat: true, vec4: true, maxValues: 0 },
    { flat: false, vec4: true, maxValues: Infinity },
    { flat: false, vec4: false, maxValues: Infinity },
  ];
  for (const [i, s] of cases.entries()) {
    const z = sizes(s);
    const xh = rand(numel(z.x), 50 + i), wh = rand(numel(z.w), 60 + i), dyh = rand(numel(z.y), 70 + i);
    const got: Float32Array[] = [];
    for (const m of modes) {
      Object.assign(dyPackOptions, m);
      try {
        got.push((await gpuConv(s, xh, wh, null, dyh, "blocked")).dw);
      } finally {
        Object.assign(dyPackOptions, defaults);
      }
    }
    for (const [j, dw] of got.entries()) {
      const differ = dw.findIndex((v, q) => v !== got[2][q]);
      if (differ >= 0) {
        throw new Error(`dw ${label(s)} mode ${j} differs at ${differ}: ${dw[differ]} vs ${got[2][differ]}`);
      }
    }
    assertClose(got[0], conv2dBackwardRef(xh, wh, dyh, s).dw.map((v) => v + 0.5), TOL, `dw ${label(s)}`);
  }
});

Deno.test("conv2d pack workgroups hold whole small planes and at most 64 invocations", () => {
  // (hp, wp4) of 1x1 (k 1), 2x2 (k 1), 4x4 (k 3, pad 1) and 32x32 (k 3, pad 1) planes
  const cases: [number, number, string][] = [[1, 2, "2,1,32"], [2, 2, "2,2,16"], [6, 2, "2,6,5"], [
    34,
    10,
    "8,8,1",
  ]];
  for (const [hp, wp4, want] of cases) {
    const got = packWorkgroup(hp, wp4);
    if (got.join() !== want || got[0] * got[1] * got[2] > 64) {
      throw new Error(`pack workgroup for ${hp} x ${wp4}: ${got}, want ${want}`);
    }
  }
});

Deno.test("conv2d blocked handles a grid beyond 65535 workgroups and a 256x256 image", async () => {
  // 33 x 32 x 64 x 64 = 4.3 M outputs: more groups than one dispatch dimension allows for 1-output kernels
  for (const s of [shape(33, 1, 64, 64, 32, 3, 1, 1), shape(1, 2, 256, 256, 3, 4, 2, 1)]) {
    const z = sizes(s);
    const xh = rand(numel(z.x), 1), wh = rand(numel(z.w), 2), bh = rand(s.cout, 3), dyh = rand(numel(z.y), 4);
    const got = await gpuConv(s, xh, wh, bh, dyh, "auto");
    assertClose(got.y, conv2dForwardRef(xh, wh, bh, s), TOL, `y ${label(s)}`);
    const ref = conv2dBackwardRef(xh, wh, dyh, s);
    assertClose(got.dx, ref.dx, TOL, `dx ${label(s)}`);
    assertClose(got.dw, ref.dw.map((v) => v + 0.5), { atol: 2e-3, rtol: 2e-4 }, `dw ${label(s)}`);
    assertClose(got.db, ref.db.map((v) => v + 0.5), { atol: 2e-3, rtol: 2e-4 }, `db ${label(s)}`);
  }
});

Deno.test("conv2d CPU backward equals finite differences", () => {
  for (
    const s of [shape(2, 2, 5, 6, 3, 3, 2, 1), shape(1, 2, 5, 5, 2, 4, 1, 2), shape(2, 1, 4, 4, 2, 1, 1, 0)]
  ) {
    const z = sizes(s);
    const x = Float64Array.from(rand(numel(z.x), 1)), w = Float64Array.from(rand(numel(z.w), 2));
    const b = Float64Array.from(rand(s.cout, 3)), dy = Float64Array.from(rand(numel(z.y), 4));
    const { dx, dw, db } = conv2dBackwardRef(x, w, dy, s);
    const fdx = finiteDiff((v) => dot(dy, conv2dForwardRef(v, w, b, s)), x.slice());
    const fdw = finiteDiff((v) => dot(dy, conv2dForwardRef(x, v, b, s)), w.slice());
    const fdb = finiteDiff((v) => dot(dy, conv2dForwardRef(x, w, v, s)), b.slice());
    assertClose(dx, fdx, { atol: 1e-6, rtol: 1e-6 }, `fd dx ${label(s)}`);
    assertClose(dw, fdw, { atol: 1e-6, rtol: 1e-6 }, `fd dw ${label(s)}`);
    assertClose(db, fdb, { atol: 1e-6, rtol: 1e-6 }, `fd db ${label(s)}`);
  }
});

Deno.test("conv2d GPU forward and gradients equal tfjs (cpu backend)", async () => {
  await tf.setBackend("cpu");
  for (
    const s of [
      shape(3, 5, 11, 11, 7, 3, 1, 1),
      shape(2, 4, 12, 10, 6, 4, 2, 1),
      shape(2, 3, 9, 9, 5, 5, 2, 2),
    ]
  ) {
    const z = sizes(s);
    const xh = rand(numel(z.x), 5), wh = rand(numel(z.w), 6), bh = rand(s.cout, 7), dyh = rand(numel(z.y), 8);
    const got = await gpuConv(s, xh, wh, bh, dyh, "auto");
    const [ho, wo] = conv2dOutputSize(s);
    const res = tf.tidy(() => {
      // tfjs wants NHWC images and (K, K, Cin, Cout) filters
      const x = tf.tensor4d(xh, z.x as [number, number, number, number]).transpose([0, 2, 3, 1]);
      const w = tf.tensor4d(wh, z.w as [number, number, number, number]).transpose([2, 3, 1, 0]);
      const b = tf.tensor1d(bh);
      const dy = tf.tensor4d(dyh, z.y as [number, number, number, number]).transpose([0, 2, 3, 1]);
      const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.add(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, s.stride, s.pad), bb);
      const y = f(x, w, b);
      const grads = tf.grads((xx, ww, bb) => tf.sum(tf.mul(f(xx, ww, bb), dy)))([x, w, b]);
      return [
        y.transpose([0, 3, 1, 2]),
        grads[0].transpose([0, 3, 1, 2]),
        grads[1].transpose([3, 2, 0, 1]),
        grads[2],
      ].map((t) => t.dataSync().slice());
    });
    if (res[0].length !== s.n * s.cout * ho * wo) throw new Error(`tfjs output size differs for ${label(s)}`);
    assertClose(got.y, res[0], TOL, `tf y ${label(s)}`);
    assertClose(got.dx, res[1], TOL, `tf dx ${label(s)}`);
    assertClose(got.dw, res[2].map((v) => v + 0.5), TOL, `tf dw ${label(s)}`);
    assertClose(got.db, res[3].map((v) => v + 0.5), TOL, `tf db ${label(s)}`);
  }
});

Deno.test("conv2d rejects tensors that do not match the shape", async () => {
  const gpu = await testGpu();
  const s = shape(1, 2, 5, 5, 3, 3, 1, 1);
  const x = gpu.tensor([1, 2, 5, 5]), w = gpu.tensor([3, 2, 3, 3]), y = gpu.tensor([1, 3, 4, 4]);
  let msg = "";
  try {
    gpu.run((rec) => conv2dForward(rec, x, w, null, y, s));
  } catch (e) {
    msg = String(e);
  }
  if (!msg.includes("y must have shape (1,3,5,5)")) throw new Error(`unexpected error: ${msg}`);
  for (const t of [x, w, y]) t.dispose();
});
