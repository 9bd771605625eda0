import * as tf from "@tensorflow/tfjs";
import {
  bceWithLogits,
  bceWithLogitsRef,
  type GanLoss,
  ganLossD,
  ganLossDRef,
  ganLossG,
  ganLossGRef,
} from "../src/nn/losses.ts";
import { assertClose, finiteDiff, rand, testGpu } from "./_util.ts";
import { Rng } from "../src/util/rng.ts";

const TOL = { atol: 1e-6, rtol: 1e-4 };

function targets(n: number, seed: number, soft = false): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => soft ? r.uniform(0, 1) : (r.next() < 0.3 ? 1 : 0));
}

Deno.test("BCE with logits: GPU equals the CPU reference (shapes, weights, mask, scale, slots)", async () => {
  const gpu = await testGpu();
  const shapes: [number, number][] = [[1, 1], [3, 5], [17, 14], [64, 40]];
  let seed = 1;
  for (const [n, l] of shapes) {
    for (const useMask of [false, true]) {
      const zh = rand(n * l, seed++, -6, 6), yh = targets(n * l, seed++, useMask);
      const wp = rand(l, seed++, 0.5, 4), wn = rand(l, seed++, 0.2, 1.5);
      const mh = useMask ? targets(n * l, seed++) : null;
      if (mh) mh[0] = 1; // never an all-zero mask here
      const scale = useMask ? 0.5 : 1;
      const z = gpu.tensor([n, l], zh), y = gpu.tensor([n, l], yh);
      const pw = gpu.tensor([l], wp), nw = gpu.tensor([l], wn);
      const mask = mh ? gpu.tensor([n, l], mh) : null;
      const dz = gpu.tensor([n, l], new Float32Array(n * l).fill(9));
      const log = gpu.tensor([4], [7, 7, 7, 7]);
      gpu.run((rec) =>
        bceWithLogits(rec, z, y, pw, nw, dz, log, { mask, scale, slot: 2, accumulate: useMask })
      );
      const ref = bceWithLogitsRef(zh, yh, wp, wn, mh, scale);
      const label = `bce (${n},${l}) mask=${useMask}`;
      assertClose(await gpu.read(dz), ref.grad, TOL, `${label} grad`);
      const want = [7, 7, useMask ? 7 + ref.loss : ref.loss, 7];
      assertClose(await gpu.read(log), want, { atol: 1e-5, rtol: 1e-5 }, `${label} loss`);
      for (const t of [z, y, pw, nw, dz, log]) t.dispose();
      mask?.dispose();
    }
  }
});

Deno.test("BCE with logits: stable for large logits and an all-zero mask gives zeros", async () => {
  const gpu = await testGpu();
  const zh = new Float32Array([80, -80, 30, -30, 0.5, -100]), yh = new Float32Array([0, 1, 1, 0, 1, 1]);
  const ones = new Float32Array(6).fill(1);
  const z = gpu.tensor([1, 6], zh), y = gpu.tensor([1, 6], yh), w = gpu.tensor([6], ones);
  const dz = gpu.tensor([1, 6]), log = gpu.tensor([1]);
  gpu.run((rec) => bceWithLogits(rec, z, y, w, w, dz, log));
  const ref = bceWithLogitsRef(zh, yh, ones, ones);
  const got = await gpu.read(log);
  if (!Number.isFinite(got[0])) throw new Error(`loss is ${got[0]}`);
  assertClose(got, [ref.loss], { atol: 1e-4, rtol: 1e-5 }, "large-logit loss");
  assertClose(await gpu.read(dz), ref.grad, TOL, "large-logit grad");
  const mask = gpu.tensor([1, 6], new Float32Array(6));
  gpu.run((rec) => bceWithLogits(rec, z, y, w, w, dz, log, { mask }));
  assertClose(await gpu.read(dz), new Float32Array(6), { atol: 0, rtol: 0 }, "zero-mask grad");
  assertClose(await gpu.read(log), [0], { atol: 0, rtol: 0 }, "zero-mask loss");
  for (const t of [z, y, w, dz, log, mask]) t.dispose();
});

Deno.test("BCE with logits: CPU gradient equals finite differences", () => {
  const n = 4, l = 3;
  const z = Float64Array.from(rand(n * l, 11, -4, 4));
  const y = Float64Array.from(targets(n * l, 12, true));
  const wp = Float64Array.from(rand(l, 13, 0.5, 3)), wn = Float64Array.from(rand(l, 14, 0.5, 2));
  for (const mask of [null, Float64Array.from(targets(n * l, 15))]) {
    const { grad } = bceWithLogitsRef(z, y, wp, wn, mask, 0.7);
    const fd = finiteDiff((zz) => 0.7 * bceWithLogitsRef(zz, y, wp, wn, mask).loss, z.slice());
    assertClose(grad, fd, { atol: 1e-8, rtol: 1e-6 }, `fd bce mask=${mask !== null}`);
  }
});

Deno.test("BCE with logits: CPU reference equals tfjs (sigmoidCrossEntropy; weighted log-sigmoid form)", async () => {
  await tf.setBackend("cpu");
  const n = 6, l = 5;
  const zh = rand(n * l, 21, -5, 5), yh = targets(n * l, 22);
  const ones = new Float32Array(l).fill(1);
  // unweighted: tfjs's own loss (mean over all elements)
  const zt = tf.tensor2d(zh, [n, l]), yt = tf.tensor2d(yh, [n, l]);
  const tfLoss = (zz: tf.Tensor) => tf.losses.sigmoidCrossEntropy(yt, zz) as tf.Scalar;
  const ref1 = bceWithLogitsRef(zh, yh, ones, ones);
  assertClose([(await tfLoss(zt).data())[0]], [ref1.loss], { atol: 1e-6, rtol: 1e-5 }, "tf loss");
  assertClose(await tf.grad(tfLoss)(zt).data(), ref1.grad, { atol: 1e-7, rtol: 1e-4 }, "tf grad");
  // class-weighted, written as in the paper: -mean(wp y log s(z) + wn (1 - y) log(1 - s(z)))
  const wp = rand(l, 23, 0.5, 4), wn = rand(l, 24, 0.2, 1.5);
  const wpt = tf.tensor1d(wp), wnt = tf.tensor1d(wn);
  const weighted = (zz: tf.Tensor) =>
    tf.neg(tf.mean(tf.add(
      tf.mul(tf.mul(wpt, yt), tf.log(tf.sigmoid(zz))),
      tf.mul(tf.mul(wnt, tf.sub(1, yt)), tf.log(tf.sub(1, tf.sigmoid(zz)))),
    ))) as tf.Scalar;
  const ref2 = bceWithLogitsRef(zh, yh, wp, wn);
  assertClose([(await weighted(zt).data())[0]], [ref2.loss], { atol: 1e-5, rtol: 1e-5 }, "tf weighted loss");
  assertClose(await tf.grad(weighted)(zt).data(), ref2.grad, { atol: 1e-6, rtol: 1e-4 }, "tf weighted grad");
});

const KINDS: GanLoss[] = ["hinge", "logistic"];

Deno.test("GAN losses: GPU equals the CPU reference for D and G", async () => {
  const gpu = await testGpu();
  let seed = 100;
  for (const kind of KINDS) {
    for (const [nr, nf] of [[1, 1], [7, 5], [300, 300]]) {
      const rh = rand(nr, seed++, -3, 3), fh = rand(nf, seed++, -3, 3);
      const real = gpu.tensor([nr, 1], rh), fake = gpu.tensor([nf], fh);
      const dr = gpu.tensor([nr, 1]), df = gpu.tensor([nf]), df2 = gpu.tensor([nf]);
      const log = gpu.tensor([3], [1, 1, 1]);
      gpu.run((rec) => {
        ganLossD(rec, kind, real, fake, dr, df, log, { scale: 2, slot: 0 });
        ganLossG(rec, kind, fake, df2, log, { scale: 0.25, slot: 2, accumulate: true });
      });
      const d = ganLossDRef(kind, rh, fh, 2), g = ganLossGRef(kind, fh, 0.25);
      const label = `${kind} (${nr},${nf})`;
      assertClose(await gpu.read(dr), d.dreal, TOL, `${label} dreal`);
      assertClose(await gpu.read(df), d.dfake, TOL, `${label} dfake`);
      assertClose(await gpu.read(df2), g.dfake, TOL, `${label} G dfake`);
      assertClose(
        await gpu.read(log),
        [d.loss, 1, 1 + g.loss],
        { atol: 1e-5, rtol: 1e-5 },
        `${label} losses`,
      );
      for (const t of [real, fake, dr, df, df2, log]) t.dispose();
    }
  }
});

Deno.test("GAN losses: CPU gradients equal finite differences", () => {
  for (const kind of KINDS) {
    // away from the hinge kinks at +-1
    const nudge = (v: number) => Math.abs(Math.abs(v) - 1) < 0.05 ? v + 0.1 : v;
    const r = Float64Array.from(rand(6, 31, -3, 3), nudge), f = Float64Array.from(rand(5, 32, -3, 3), nudge);
    const d = ganLossDRef(kind, r, f, 1.5);
    assertClose(d.dreal, finiteDiff((x) => 1.5 * ganLossDRef(kind, x, f).loss, r.slice()), {
      atol: 1e-8,
      rtol: 1e-6,
    }, `fd ${kind} dreal`);
    assertClose(d.dfake, finiteDiff((x) => 1.5 * ganLossDRef(kind, r, x).loss, f.slice()), {
      atol: 1e-8,
      rtol: 1e-6,
    }, `fd ${kind} dfake`);
    const g = ganLossGRef(kind, f, 0.5);
    assertClose(g.dfake, finiteDiff((x) => 0.5 * ganLossGRef(kind, x).loss, f.slice()), {
      atol: 1e-8,
      rtol: 1e-6,
    }, `fd ${kind} G`);
  }
});

Deno.test("losses reject bad inputs with clear errors", async () => {
  const gpu = await testGpu();
  const z = gpu.tensor([2, 3]), y = gpu.tensor([2, 3]), w = gpu.tensor([3]), log = gpu.tensor([1]);
  const rec = gpu.recorder();
  const expect = (f: () => void, what: string) => {
    try {
      f();
    } catch (e) {
      if (String(e).includes(what)) return;
      throw e;
    }
    throw new Error(`expected an error mentioning "${what}"`);
  };
  expect(() => bceWithLogits(rec, z, y, w, w, z, log), "other buffers");
  expect(() => bceWithLogits(rec, z, y, w, w, y.reshape([6]).reshape([2, 3]), log), "other buffers");
  expect(() => bceWithLogits(rec, z, y, gpu.tensor([2]), w, gpu.tensor([2, 3]), log), "needs L = 3");
  expect(() => bceWithLogits(rec, z, y, w, w, gpu.tensor([2, 3]), log, { slot: 1 }), "slot 1");
  expect(() => ganLossG(rec, "hinge", z, gpu.tensor([5]), log), "must match");
  rec.finish();
});
