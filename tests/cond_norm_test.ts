import type { NormVariant } from "../src/nn/batch_norm.ts";
import {
  condNormBackward,
  condNormBackwardRef,
  condNormForward,
  condNormForwardRef,
  type CondNormKind,
  condNormSavedShape,
  pgradWorkgroup,
} from "../src/nn/cond_norm.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { assertEquals } from "./_assert.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

const KINDS: CondNormKind[] = ["instance", "pixel", "none"];
// [2, 3, 24, 24]: S > 256, where the parameter gradient takes 16 lanes on CPU adapters
const SHAPES = [[1, 3, 5, 5], [2, 3, 7, 7], [3, 5, 16, 16], [4, 6, 9, 9], [4, 10], [2, 3, 24, 24]];
const VARIANTS: NormVariant[] = ["naive", "blocked"];

async function checkCondNorm(gpu: Gpu, norm: CondNormKind, shape: number[], variant: NormVariant) {
  const n = shape.reduce((a, b) => a * b, 1), nc = shape[0] * shape[1];
  const xh = rand(n, 61, -2, 3), gh = rand(nc, 62, -0.5, 0.5), bh = rand(nc, 63), dyh = rand(n, 64);
  const x = gpu.tensor(shape, xh),
    y = gpu.tensor(shape),
    dy = gpu.tensor(shape, dyh),
    dx = gpu.tensor(shape);
  const g = gpu.tensor([shape[0], shape[1]], gh), b = gpu.tensor([shape[0], shape[1]], bh);
  // stale values in the gradients must be overwritten (=), not accumulated
  const dg = gpu.tensor([shape[0], shape[1]], new Float32Array(nc).fill(7));
  const db = gpu.tensor([shape[0], shape[1]], new Float32Array(nc).fill(7));
  const ss = condNormSavedShape(shape, norm);
  const saved = ss ? gpu.tensor(ss) : null;
  const opts = { norm, variant };
  gpu.run((rec) => {
    condNormForward(rec, x, g, b, y, saved, opts);
    condNormBackward(rec, x, dy, g, saved, dx, dg, db, opts);
  });
  const label = `${norm} ${shape} ${variant}`;
  const yRef = condNormForwardRef(xh, gh, bh, shape, opts);
  assertClose(await gpu.read(y), yRef, { atol: 2e-5, rtol: 1e-4 }, `y ${label}`);
  const bw = condNormBackwardRef(xh, dyh, gh, shape, opts);
  const tol = { atol: 1e-4, rtol: 1e-4 };
  assertClose(await gpu.read(dx), bw.dx, tol, `dx ${label}`);
  assertClose(await gpu.read(dg), bw.dgamma, tol, `dgamma ${label}`);
  assertClose(await gpu.read(db), bw.dbeta, tol, `dbeta ${label}`);
  for (const t of [x, y, dy, dx, g, b, dg, db, saved]) t?.dispose();
}

Deno.test("conditional norm GPU forward and backward equal the CPU reference", async () => {
  const gpu = await testGpu();
  for (const norm of KINDS) {
    for (const shape of SHAPES) {
      if (norm === "instance" && shape.length === 2) continue; // one value per (n, c): nothing to normalise
      for (const variant of VARIANTS) await checkCondNorm(gpu, norm, shape, variant);
    }
  }
});

Deno.test("conditional norm's parameter gradient takes 4, 16 or 64 lanes by adapter and size, all exact", async () => {
  assertEquals(pgradWorkgroup(true, "blocked", 256), 4);
  assertEquals(pgradWorkgroup(true, "auto", 1024), 16);
  assertEquals(pgradWorkgroup(false, "auto", 16), 64);
  assertEquals(pgradWorkgroup(false, "naive", 16), 1);
  // the same device presented as a GPU runs the 64-lane form that real GPUs get
  const asGpu = await Gpu.create();
  asGpu.adapter.isFallbackAdapter = false;
  try {
    for (const norm of ["pixel", "none"] as const) {
      for (const shape of [[3, 5, 16, 16], [2, 3, 24, 24]]) {
        await checkCondNorm(asGpu, norm, shape, "blocked");
      }
    }
  } finally {
    asGpu.destroy();
  }
});

Deno.test("conditional norm CPU backward equals finite differences", () => {
  const shape = [2, 3, 2, 3];
  const n = 36, nc = 6;
  for (const norm of KINDS) {
    const opts = { norm };
    const x = Float64Array.from(rand(n, 71, -2, 2)), dy = Float64Array.from(rand(n, 72));
    const g = Float64Array.from(rand(nc, 73, -0.5, 0.5)), b = Float64Array.from(rand(nc, 74));
    const loss = (xx: Float64Array, gg: Float64Array, bb: Float64Array) =>
      dot(dy, condNormForwardRef(xx, gg, bb, shape, opts));
    const bw = condNormBackwardRef(x, dy, g, shape, opts);
    const tol = { atol: 1e-6, rtol: 1e-5 };
    assertClose(bw.dx, finiteDiff((xx) => loss(xx, g, b), x.slice()), tol, `fd dx ${norm}`);
    assertClose(bw.dgamma, finiteDiff((gg) => loss(x, gg, b), g.slice()), tol, `fd dgamma ${norm}`);
    assertClose(bw.dbeta, finiteDiff((bb) => loss(x, g, bb), b.slice()), tol, `fd dbeta ${norm}`);
  }
});

Deno.test("conditional instance norm output has per-(n, c) mean beta and std 1 + gamma", () => {
  const shape = [2, 3, 4, 4];
  const gh = Float64Array.from(rand(6, 81, -0.5, 0.5)), bh = Float64Array.from(rand(6, 82));
  const y = condNormForwardRef(rand(96, 83, -3, 3), gh, bh, shape, { norm: "instance", eps: 0 });
  for (let k = 0; k < 6; k++) {
    const v = y.subarray(k * 16, (k + 1) * 16);
    const mean = v.reduce((a, b) => a + b, 0) / 16;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / 16);
    assertClose([mean, sd], [bh[k], Math.abs(1 + gh[k])], { atol: 1e-9, rtol: 1e-9 }, `group ${k}`);
  }
});
