import {
  type Activation,
  biasActBackward,
  biasActBackwardRef,
  biasActForward,
  biasActForwardRef,
  biasActOptions,
} from "../src/nn/activation.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

const ACTS: Activation[] = ["identity", "relu", "leaky_relu", "tanh", "sigmoid"];
// S = 1 (a linear layer's bias sum), S % 4 != 0 (separate passes), and planes of 4k values where dx and the
// bias gradient take one pass: 1, 3, 8 channels (images split across workgroups) and 20 (one split)
const SHAPES = [
  [3, 5, 7, 9],
  [2, 17],
  [1, 1, 1, 1],
  [4, 64, 33],
  [16, 8, 32, 32],
  [3, 1, 4, 4],
  [5, 3, 8],
  [2, 20, 2, 2],
];

for (const fusedSum of [true, false]) {
  Deno.test(`bias+activation GPU forward and backward equal the CPU reference (fused sum ${fusedSum})`, async () => {
    biasActOptions.fusedSum = fusedSum;
    try {
      await compareWithReference();
    } finally {
      biasActOptions.fusedSum = true;
    }
  });
}

async function compareWithReference() {
  const gpu = await testGpu();
  for (const shape of SHAPES) {
    for (const act of ACTS) {
      const n = shape.reduce((a, b) => a * b, 1);
      const c = shape[1];
      const xh = rand(n, 1, -2, 2), bh = rand(c, 2), dyh = rand(n, 3);
      const x = gpu.tensor(shape, xh), b = gpu.tensor([c], bh), y = gpu.tensor(shape);
      const dy = gpu.tensor(shape, dyh),
        dx = gpu.tensor(shape),
        db = gpu.tensor([c], new Float32Array(c).fill(0.5));
      gpu.run((rec) => {
        biasActForward(rec, x, b, y, act);
        biasActBackward(rec, dy, y, dx, db, act);
      });
      const yRef = biasActForwardRef(xh, bh, shape, act);
      const yGot = await gpu.read(y);
      assertClose(yGot, yRef, { atol: 1e-6, rtol: 1e-5 }, `fwd ${act} ${shape}`);
      const { dx: dxRef, dbias } = biasActBackwardRef(dyh, yGot, shape, act);
      assertClose(await gpu.read(dx), dxRef, { atol: 1e-6, rtol: 1e-5 }, `dx ${act} ${shape}`);
      assertClose(
        await gpu.read(db),
        dbias.map((v) => v + 0.5),
        { atol: 1e-4, rtol: 1e-4 },
        `db ${act} ${shape}`,
      );
      for (const t of [x, b, y, dy, dx, db]) t.dispose();
    }
  }
}

Deno.test("bias+activation CPU backward equals finite differences", () => {
  const shape = [2, 3, 4];
  const n = 24;
  for (const act of ACTS) {
    // keep inputs away from the kinks of relu/leaky relu
    const x = Float64Array.from(rand(n, 7, -2, 2), (v) => Math.abs(v) < 0.05 ? v + 0.1 : v);
    const b = new Float64Array(3);
    const dy = Float64Array.from(rand(n, 8));
    const y = biasActForwardRef(x, b, shape, act);
    const { dx, dbias } = biasActBackwardRef(dy, y, shape, act);
    const fdx = finiteDiff((xx) => dot(dy, biasActForwardRef(xx, b, shape, act)), x.slice());
    assertClose(dx, fdx, { atol: 1e-6, rtol: 1e-5 }, `fd dx ${act}`);
    const fdb = finiteDiff((bb) => dot(dy, biasActForwardRef(x, bb, shape, act)), b.slice());
    assertClose(dbias, fdb, { atol: 1e-6, rtol: 1e-5 }, `fd dbias ${act}`);
  }
});
