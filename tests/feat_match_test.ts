/**
 * Class-conditional feature matching (src/nn/feat_match.ts, `featMatchWeight`):
 * - the GPU kernel equals the float64 reference over several steps of moving averages, including batches
 *   without a label (the estimate keeps its last value, no gradient flows for it);
 * - with decay 0 the reference's gradient equals finite differences of its loss;
 * - in the trainer it changes G's step only (D's step is identical), its loss is logged, its state travels
 *   in the checkpoint (two steps after a restore equal two uninterrupted ones), and a run without it is
 *   unchanged bit for bit by its existence.
 */
import { featMatch, featMatchRef, featMatchStateSize } from "../src/nn/feat_match.ts";
import { resolveGanConfig } from "../src/models/config.ts";
import { GanTrainer } from "../src/train/gan.ts";
import { restoreTrainer, trainerCheckpoint } from "../src/train/run_state.ts";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { assertClose, finiteDiff, rand, testGpu } from "./_util.ts";
import { quickSetup } from "./_gan_setup.ts";

/** 0/1 labels (n, l) from a seed; label `empty` never occurs (a rare finding absent from the batch). */
function labels(n: number, l: number, seed: number, empty = -1): Float32Array {
  const u = rand(n * l, seed, 0, 1), y = new Float32Array(n * l);
  for (let k = 0; k < y.length; k++) y[k] = k % l === empty ? 0 : u[k] < 0.4 ? 1 : 0;
  return y;
}

Deno.test("feature matching: GPU equals the CPU reference over steps of moving averages", async () => {
  const gpu = await testGpu();
  const cases = [[16, 64, 6, 0.9, "contrast"], [8, 70, 3, 0, "means"], [5, 130, 15, 0.5, "means"], [
    7,
    33,
    2,
    0,
    "contrast",
  ]] as const;
  for (const [n, f, l, decay, mode] of cases) {
    const state = gpu.tensor([4, l, 2, f], new Float32Array(featMatchStateSize(l, f)));
    const ref = new Float64Array(featMatchStateSize(l, f));
    const log = gpu.tensor([8], new Float32Array(8));
    for (let step = 0; step < 4; step++) {
      // step 1 has no image with label 1 among the generated ones, step 2 none among the real ones
      const hr = rand(n * f, 10 * step + 1, -1, 2), hf = rand(n * f, 10 * step + 2, -1, 1);
      const yr = labels(n, l, 10 * step + 3, step === 2 ? 1 : -1);
      const yf = labels(n, l, 10 * step + 4, step === 1 ? 1 : -1);
      const t = [
        gpu.tensor([n, f], hr),
        gpu.tensor([n, l], yr),
        gpu.tensor([n, f], hf),
        gpu.tensor([n, l], yf),
      ];
      const dh = gpu.tensor([n, f], new Float32Array(n * f).fill(7));
      gpu.run((rec) =>
        featMatch(rec, t[0], t[1], t[2], t[3], state, dh, log, { scale: 1.5, decay, slot: 5, mode })
      );
      const before = Float64Array.from(ref);
      const want = featMatchRef(hr, yr, hf, yf, ref, n, l, 1.5, decay, mode);
      const what = `${mode} n ${n} f ${f} l ${l} decay ${decay} step ${step}`;
      assertClose(await gpu.read(dh), want.dh, { atol: 1e-5, rtol: 1e-4 }, `dh, ${what}`);
      assertClose(await gpu.read(state), ref, { atol: 1e-5, rtol: 1e-4 }, `state, ${what}`);
      assertClose([(await gpu.read(log))[5]], [want.loss], { atol: 1e-5, rtol: 1e-4 }, `loss, ${what}`);
      if (step === 1 && decay > 0) {
        // label 1 is absent from the generated batch: its "generated, with" averages keep their values
        const row = (2 * l + 1) * 2 * f;
        assertEquals(ref.subarray(row, row + 2 * f), before.subarray(row, row + 2 * f), what);
        assert(ref.some((v, k) => v !== before[k]), "the other averages move");
      }
      for (const x of [...t, dh]) x.dispose();
    }
    for (const x of [state, log]) x.dispose();
  }
});

Deno.test("feature matching: with decay 0 the gradient is the loss's, by finite differences", () => {
  const n = 7, f = 5, l = 3;
  const hr = rand(n * f, 1, -1, 1), yr = labels(n, l, 2), yf = labels(n, l, 3), hf = rand(n * f, 4, -1, 1);
  for (const mode of ["means", "contrast"] as const) {
    const run = (h: Float64Array | Float32Array) =>
      featMatchRef(hr, yr, h, yf, new Float64Array(featMatchStateSize(l, f)), n, l, 1, 0, mode);
    const fd = finiteDiff((h) => run(h).loss, Float64Array.from(hf));
    assertClose(run(hf).dh, fd, { atol: 1e-7, rtol: 1e-6 }, `dh, ${mode}`);
  }
});

Deno.test("feature matching: equal means cost nothing; a label coded by an offset is pulled back", () => {
  const n = 4, f = 2, l = 1;
  const y = new Float32Array([1, 0, 1, 0]);
  const h = new Float32Array([1, 0, 3, 2, 1, 0, 3, 2]);
  const same = featMatchRef(h, y, h, y, new Float64Array(featMatchStateSize(l, f)), n, l, 1, 0);
  assertEquals(same.loss, 0);
  assert(same.dh.every((v) => v === 0), "no gradient at equal means");
  // generated images with the label have feature 0 higher than the real ones: only they move, downwards
  const hf = Float32Array.from(h);
  hf[0] += 1;
  hf[4] += 1;
  const off = featMatchRef(h, y, hf, y, new Float64Array(featMatchStateSize(l, f)), n, l, 1, 0);
  assert(Math.abs(off.loss - 1) < 1e-12, `loss ${off.loss}`);
  assertEquals(Array.from(off.dh), [1, 0, 0, 0, 1, 0, 0, 0]);
  // contrast: the same offset on every generated image is the overall difference, left to D: no cost
  const shifted = h.map((v) => v + 0.7);
  const flat = featMatchRef(
    h,
    y,
    shifted,
    y,
    new Float64Array(featMatchStateSize(l, f)),
    n,
    l,
    1,
    0,
    "contrast",
  );
  assert(
    flat.loss < 1e-12 && flat.dh.every((v) => Math.abs(v) < 1e-6),
    `contrast of a global shift ${flat.loss}`,
  );
  // ...while the label's offset is its contrast: images with it move down, those without up
  const c = featMatchRef(h, y, hf, y, new Float64Array(featMatchStateSize(l, f)), n, l, 1, 0, "contrast");
  assert(Math.abs(c.loss - 1) < 1e-12, `contrast loss ${c.loss}`);
  assertEquals(Array.from(c.dh), [1, 0, -1, 0, 1, 0, -1, 0]);
});

Deno.test("feature matching in the trainer: G's step only, logged, restored with the checkpoint", async () => {
  const gpu = await testGpu();
  const oneStep = async (over: Record<string, unknown>) => {
    const { data, cfg } = quickSetup(over);
    const tr = new GanTrainer(gpu, cfg, data);
    tr.trainStep();
    return { d: await gpu.read(tr.d.weights.store.values), g: await gpu.read(tr.g.weights.store.values) };
  };
  const off = await oneStep({}), on = await oneStep({ featMatchWeight: 1, featMatchMode: "means" });
  assertEquals(on.d, off.d, "D's step does not see the feature-matching loss");
  assert(on.g.some((v, i) => v !== off.g[i]), "G's step trains with it");
  const { data, cfg } = quickSetup({ featMatchWeight: 1 });
  const a = new GanTrainer(gpu, cfg, data);
  for (let s = 0; s < 10; s++) a.trainStep();
  const r = await a.readLosses();
  assert(r.featMatch > 0 && Number.isFinite(r.featMatch), `logged loss ${r.featMatch}`);
  const ck = await trainerCheckpoint(a);
  assert(ck.arrays.get("featMatch")!.some((v) => v !== 0), "the moving averages are in the checkpoint");
  const b = new GanTrainer(gpu, cfg, data);
  restoreTrainer(b, ck, "a.ckpt");
  for (let s = 0; s < 2; s++) {
    a.trainStep();
    b.trainStep();
  }
  assertEquals(
    await gpu.read(b.g.weights.store.values),
    await gpu.read(a.g.weights.store.values),
    "G after resume",
  );
  assertEquals(await gpu.read(b.featMatch!.state), await gpu.read(a.featMatch!.state), "state after resume");
  const plain = await trainerCheckpoint(new GanTrainer(gpu, quickSetup().cfg, data));
  assert(!plain.arrays.has("featMatch"), "no state without feature matching");
  assertThrows(() => resolveGanConfig({ featMatchWeight: -1 }), Error, /"featMatchWeight"/);
  assertThrows(() => resolveGanConfig({ featMatchDecay: 1 }), Error, /"featMatchDecay"/);
  assertThrows(() => resolveGanConfig({ featMatchMode: "max" }), Error, /"featMatchMode"/);
});
