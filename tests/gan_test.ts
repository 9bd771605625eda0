/**
 * The conditional GAN models and trainer:
 * - the GPU gradients of the whole generator and discriminator (parameters and, for D, the input image)
 *   equal central finite differences of the GPU forward along random directions;
 * - a short run on the phantom lowers D's auxiliary label loss on real images and yields finite images in
 *   [-1, 1] of the right shape; steps after the first allocate no buffers and compile no pipelines;
 * - the same seed gives bitwise the same samples in two runs;
 * - config errors name the field.
 */
import type { Gpu, Recorder } from "../src/gpu/gpu.ts";
import type { Tensor } from "../src/gpu/tensor.ts";
import type { ParamStore } from "../src/gpu/params.ts";
import { type GanConfig, PRESETS, resolveGanConfig } from "../src/models/config.ts";
import { Generator } from "../src/models/generator.ts";
import { auxOutputs, Discriminator } from "../src/models/discriminator.ts";
import { GanTrainer, type LossReport, phaseOf, topCombos } from "../src/train/gan.ts";
import { ProgressiveDiscriminator, ProgressiveGenerator } from "../src/models/progressive.ts";
import type { GeneratorPass } from "../src/models/generator.ts";
import type { DiscriminatorPass } from "../src/models/discriminator.ts";
import type { ProgressivePhase } from "../src/nn/blend.ts";
import { Rng } from "../src/util/rng.ts";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { quickSetup } from "./_gan_setup.ts";
import { restoreTrainer, trainerCheckpoint } from "../src/train/run_state.ts";
import { assertClose, testGpu } from "./_util.ts";
import { standardizeFixedForwardRef } from "../src/nn/standardize_fixed.ts";

const L = 3, N = 4;
/**
 * Finite-difference step relative to the parameters' scale. Leaky ReLU kinks and normalisations over few
 * values make the networks far from linear at larger steps; float32 noise limits smaller ones.
 */
const EPS = 2e-4;

/** A very small config: 8 px, 2 resolutions, few channels. */
function microConfig(over: Record<string, unknown> = {}): GanConfig {
  return resolveGanConfig({
    resolution: 8,
    gChannels: [16, 8],
    dChannels: [8, 4],
    latentDim: 4,
    dFeatures: 8,
    batchSize: N,
    mbstdGroup: 2,
    ...over,
  });
}

function dotArr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** A random direction over the real parameter values of a store (padding stays 0). */
function direction(store: ParamStore, rng: Rng): Float32Array {
  const u = new Float32Array(store.floats);
  for (const p of store.params) for (let i = 0; i < p.init.length; i++) u[p.offset / 4 + i] = rng.normal();
  return u;
}

/**
 * Checks the directional derivative of f along u at x0 (a tensor's contents): the analytic g.u against
 * (f(x0 + eps u) - f(x0 - eps u)) / (2 eps) evaluated on the GPU in float32.
 */
async function checkDirectional(
  gpu: Gpu,
  label: string,
  target: Tensor,
  x0: Float32Array,
  grad: Float32Array,
  u: Float32Array,
  f: () => Promise<number>,
  results: [string, number, number][],
): Promise<void> {
  const scale = Math.sqrt(dotArr(x0, x0) / Math.max(1, dotArr(u, u)));
  const eps = EPS * Math.max(scale, 0.05);
  const plus = Float32Array.from(x0, (v, i) => v + eps * u[i]);
  const minus = Float32Array.from(x0, (v, i) => v - eps * u[i]);
  gpu.write(target, plus);
  const fp = await f();
  gpu.write(target, minus);
  const fm = await f();
  gpu.write(target, x0);
  const fd = (fp - fm) / (2 * eps);
  const an = dotArr(grad, u);
  console.log(`${label}: analytic ${an.toExponential(5)}, finite difference ${fd.toExponential(5)}`);
  results.push([label, an, fd]);
}

/**
 * All directional derivatives together: the vector of analytic values within 5 % of the finite differences
 * (relative L2), and each within 10 % of itself plus 3 % of the largest one.
 */
function assertDirectional(results: [string, number, number][]): void {
  let num = 0, den = 0, big = 0;
  for (const [, an, fd] of results) {
    num += (an - fd) ** 2;
    den += fd * fd;
    big = Math.max(big, Math.abs(fd));
  }
  assert(
    Math.sqrt(num / den) < 0.05,
    `relative L2 error ${Math.sqrt(num / den)} of the directional derivatives`,
  );
  for (const [label, an, fd] of results) {
    const err = Math.abs(an - fd);
    assert(err <= 0.1 * Math.abs(fd) + 0.03 * big, `${label}: analytic ${an} vs finite difference ${fd}`);
  }
}

async function scalar(gpu: Gpu, t: Tensor, w: Float32Array): Promise<number> {
  return dotArr(await gpu.read(t), w);
}

for (const condNorm of ["pixel", "instance"] as const) {
  Deno.test(`generator (${condNorm} cond norm) GPU gradients match finite differences`, async () => {
    const gpu = await testGpu();
    const cfg = microConfig({ condNorm, upsample: condNorm === "pixel" ? "convT" : "nearest" });
    const G = new Generator(gpu, cfg, L, 3);
    const pass = G.pass(N);
    const rng = new Rng(11);
    const Z = cfg.latentDim;
    const zy = gpu.tensor([N, Z + L], rng.normals(N * (Z + L)));
    const dOut = rng.normals(N * cfg.imageChannels * 64);
    const dimg = gpu.tensor([N, cfg.imageChannels, 8, 8], dOut);
    const store = G.weights.store;
    const f = async () => {
      gpu.run((rec) => pass.forward(rec, zy, zy));
      return await scalar(gpu, pass.out, dOut);
    };
    const rec = gpu.recorder();
    rec.clear(store.grads);
    pass.forward(rec, zy, zy);
    pass.backward(rec, dimg);
    gpu.submit(rec);
    const grad = await gpu.read(store.grads);
    const x0 = await gpu.read(store.values);
    const results: [string, number, number][] = [];
    for (let k = 0; k < 3; k++) {
      await checkDirectional(
        gpu,
        `G params, direction ${k}`,
        store.values,
        x0,
        grad,
        direction(store, rng),
        f,
        results,
      );
    }
    // one parameter tensor at a time, so a wrong small layer is not hidden by a big one
    // (g.b8.conv.noise: the tiny preset's noise inputs, whose maps stay fixed between the passes)
    const names = [
      "g.fc.w",
      "g.b4.norm0.gamma.w",
      "g.b8.up.w",
      "g.b8.norm1.beta.b",
      "g.b8.conv.noise",
      "g.to_img.w",
    ];
    for (const name of names) {
      const p = store.params.find((q) => q.name === name)!;
      const u = new Float32Array(store.floats);
      for (let i = 0; i < p.init.length; i++) u[p.offset / 4 + i] = rng.normal();
      await checkDirectional(gpu, `G ${name}`, store.values, x0, grad, u, f, results);
    }
    assertDirectional(results);
  });
}

for (
  const [auxLoss, auxStats, auxLocal, projPooled] of [
    ["ac", "batch", 0, 0],
    ["adc", "batch", 0, 0],
    ["ac", "real", 0, 0],
    ["ac", "batch", 8, 0],
    ["ac", "batch", 0, 8],
  ] as const
) {
  Deno.test(
    `discriminator GPU gradients (parameters, spectral norm, input; ${auxLoss} head, ${auxStats} statistics${
      auxLocal ? ", local head" : ""
    }${projPooled ? ", pooled projection" : ""}) match finite differences`,
    async () => {
      const gpu = await testGpu();
      const cfg = microConfig({ auxLoss, auxStats, auxLocal, projPooled });
      const D = new Discriminator(gpu, cfg, L, 5);
      const A = auxOutputs(cfg, L);
      assertEquals(D.head.aux.param.shape[0], A, "aux head outputs");
      const rng = new Rng(12);
      // "real": the pass under test standardises with another batch's statistics, constants of its function
      const other = auxStats === "real" ? D.pass(N, false) : null;
      if (other) {
        const xo = gpu.tensor([N, 1, 8, 8], rng.uniforms(N * 64, -1, 1));
        const yo = gpu.tensor([N, L], Float32Array.from({ length: N * L }, () => (rng.next() < 0.5 ? 1 : 0)));
        gpu.run((rec) => other.forward(rec, xo, yo, true));
      }
      const pass = D.pass(N, true, other?.auxNorm);
      const x0 = rng.uniforms(N * 64, -1, 1);
      const x = gpu.tensor([N, 1, 8, 8], x0);
      const y = gpu.tensor([N, L], Float32Array.from({ length: N * L }, () => (rng.next() < 0.5 ? 1 : 0)));
      const r1 = rng.normals(N), r2 = rng.normals(N * A);
      const dout = gpu.tensor([N, 1], r1), daux = gpu.tensor([N, A], r2);
      const set = D.weights, store = set.store;
      if (auxLocal) {
        // the local head starts at zero (silent): give it weights so that its path into the trunk is checked
        const p = store.params.find((q) => q.name === "d.aux_local.w")!;
        const v = await gpu.read(store.values);
        v.set(rng.normals(p.init.length), p.offset / 4);
        gpu.write(store.values, v);
      }
      // a few power iterations so u is a good estimate; the check then keeps u fixed (update = false)
      for (let i = 0; i < 5; i++) gpu.run((rec) => set.snForward(rec, true));
      const fwd = (rec: Recorder) => {
        set.snForward(rec, false);
        pass.forward(rec, x, y, true);
      };
      const f = async () => {
        gpu.run(fwd);
        return (await scalar(gpu, pass.out, r1)) + (await scalar(gpu, pass.aux, r2));
      };
      const rec = gpu.recorder();
      rec.clear(store.grads);
      set.snClear(rec);
      fwd(rec);
      pass.backward(rec, dout, daux, true);
      set.snBackward(rec);
      gpu.submit(rec);
      const grad = await gpu.read(store.grads);
      const dx = await gpu.read(pass.dx!);
      const p0 = await gpu.read(store.values);
      const results: [string, number, number][] = [];
      for (let k = 0; k < 3; k++) {
        await checkDirectional(
          gpu,
          `D params, direction ${k}`,
          store.values,
          p0,
          grad,
          direction(store, rng),
          f,
          results,
        );
      }
      const named = ["d.from_img.w", "d.b8.down.w", "d.b4.conv.w", "d.embed.w", "d.aux.w", "d.out.b"];
      if (auxLocal) named.push("d.aux_local.w", "d.aux_local.b", "d.b8.conv0.w");
      if (projPooled) named.push("d.proj_pooled.embed.w", "d.proj_pooled.out.w", "d.b8.conv0.w");
      for (const name of named) {
        const p = store.params.find((q) => q.name === name)!;
        const u = new Float32Array(store.floats);
        for (let i = 0; i < p.init.length; i++) u[p.offset / 4 + i] = rng.normal();
        await checkDirectional(gpu, `D ${name}`, store.values, p0, grad, u, f, results);
      }
      await checkDirectional(gpu, "D input image", x, x0, dx, rng.normals(x0.length), f, results);
      assertDirectional(results);
    },
  );
}

Deno.test("projPooled: the added term and its input gradient, isolated from the rest of D, match finite differences", async () => {
  // D with and without the pooled projection share every other weight (it is declared last), so the
  // difference of their outputs is that term alone, and so is the difference of their input gradients
  const gpu = await testGpu();
  const [with8, without] = [8, 0].map((projPooled) =>
    new Discriminator(gpu, microConfig({ projPooled }), L, 5)
  );
  const passes = [with8.pass(N, true), without.pass(N, true)];
  const rng = new Rng(21);
  const x0 = rng.uniforms(N * 64, -1, 1);
  const x = gpu.tensor([N, 1, 8, 8], x0);
  const y = gpu.tensor([N, L], Float32Array.from({ length: N * L }, () => (rng.next() < 0.5 ? 1 : 0)));
  const r1 = rng.normals(N), dout = gpu.tensor([N, 1], r1);
  for (const d of [with8, without]) {
    for (let i = 0; i < 5; i++) gpu.run((rec) => d.weights.snForward(rec, true));
  }
  const f = async () => {
    for (const [k, d] of [with8, without].entries()) {
      gpu.run((rec) => {
        d.weights.snForward(rec, false);
        passes[k].forward(rec, x, y, false);
      });
    }
    return (await scalar(gpu, passes[0].out, r1)) - (await scalar(gpu, passes[1].out, r1));
  };
  const term = await f();
  assert(Math.abs(term) > 1e-4, `the pooled term should move D's output (${term})`);
  const grads: Float32Array[] = [];
  for (const [k, d] of [with8, without].entries()) {
    const rec = gpu.recorder();
    rec.clear(d.weights.store.grads);
    d.weights.snForward(rec, false);
    passes[k].forward(rec, x, y, false);
    passes[k].backward(rec, dout, null, true);
    gpu.submit(rec);
    grads.push(await gpu.read(passes[k].dx!));
  }
  const dTerm = grads[0].map((v, i) => v - grads[1][i]);
  const results: [string, number, number][] = [];
  for (let k = 0; k < 3; k++) {
    await checkDirectional(
      gpu,
      `pooled term, input direction ${k}`,
      x,
      x0,
      dTerm,
      rng.normals(x0.length),
      f,
      results,
    );
  }
  assertDirectional(results);
});

Deno.test("a short run on the phantom learns (D's aux loss on real images drops), allocates nothing after the first step", async () => {
  const gpu = await testGpu();
  const { data, cfg } = quickSetup();
  const tr = new GanTrainer(gpu, cfg, data);
  tr.trainStep();
  await tr.readLosses();
  const bufs = gpu.buffersCreated, pipes = gpu.pipelinesCreated;
  const reports: LossReport[] = [];
  const steps = 120;
  for (let s = 1; s < steps; s++) {
    tr.trainStep();
    if (tr.logDue) reports.push(await tr.readLosses());
  }
  assertEquals(gpu.buffersCreated, bufs, "storage buffers created after the first step");
  assertEquals(gpu.pipelinesCreated, pipes, "pipelines compiled after the first step");
  const first = reports.slice(0, 2), last = reports.slice(-3);
  const mean = (rs: typeof reports, k: "dAux" | "dLoss") => rs.reduce((a, r) => a + r[k], 0) / rs.length;
  console.log(
    reports.map((r) => `${r.step}: D ${r.dLoss.toFixed(3)} aux ${r.dAux.toFixed(3)} G ${r.gLoss.toFixed(3)}`)
      .join("\n"),
  );
  // the aux head starts at the labels' prior (its bias is the log-odds), so a drop below the prior's BCE
  // is learning from the images (a drop from the first reports alone was also met by a label-blind head)
  const L = data.labelNames.length;
  let prior = 0;
  for (let l = 0; l < L; l++) {
    let c = 0;
    for (let i = 0; i < data.n; i++) c += data.labels[i * L + l];
    const p = c / data.n;
    prior -= (p * Math.log(p) + (1 - p) * Math.log(1 - p)) / L;
  }
  assert(
    mean(last, "dAux") < 0.97 * prior,
    `D's aux BCE on real images should fall below the label prior's ${prior}: ` +
      `${mean(first, "dAux")} -> ${mean(last, "dAux")}`,
  );
  const labels = topCombos(data, 4);
  const imgs = await tr.generate(labels, 7);
  assertEquals(imgs.length, 4 * 16 * 16);
  let lo = Infinity, hi = -Infinity, sd = 0, m = 0;
  for (const v of imgs) {
    assert(Number.isFinite(v), "generated values must be finite");
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    m += v / imgs.length;
  }
  for (const v of imgs) sd += (v - m) ** 2 / imgs.length;
  assert(lo >= -1 && hi <= 1, `images must lie in [-1, 1], got [${lo}, ${hi}]`);
  assert(Math.sqrt(sd) > 0.05, `images should not be flat (std ${Math.sqrt(sd)})`);
});

Deno.test('auxStats "real": the G step scores generated features on the scale of the same step\'s real batch', async () => {
  const gpu = await testGpu();
  for (const auxStats of ["batch", "real"] as const) {
    const { data, cfg } = quickSetup({ auxStats });
    const tr = new GanTrainer(gpu, cfg, data);
    for (let s = 0; s < 3; s++) tr.trainStep();
    const norm = tr.dFake.auxNorm, stats = await gpu.read(tr.dReal.auxNorm.stats);
    const h = await gpu.read(norm.input), got = await gpu.read(norm.y);
    const [n, f] = norm.y.shape;
    if (auxStats === "real") {
      assertClose(
        got,
        standardizeFixedForwardRef(h, [n, f], stats),
        { atol: 1e-4, rtol: 1e-4 },
        "real scale",
      );
    }
    // on its own batch's scale every feature has batch mean 0; on the real batch's it need not
    let off = 0;
    for (let k = 0; k < f; k++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += got[i * f + k] / n;
      off = Math.max(off, Math.abs(m));
    }
    if (auxStats === "batch") assert(off < 1e-4, `batch statistics: a feature's batch mean is ${off}`);
    else {assert(
        off > 0.05,
        `real statistics: generated features should not be centred on their batch (${off})`,
      );}
  }
});

Deno.test("a checkpoint written before a config field existed restores; one with another config is refused", async () => {
  const gpu = await testGpu();
  const { data, cfg } = quickSetup();
  const tr = new GanTrainer(gpu, cfg, data);
  tr.trainStep();
  const ck = await trainerCheckpoint(tr);
  // as an older version wrote it: without the fields added since (at the values that reproduce it)
  const old = structuredClone(ck.meta.config) as Record<string, unknown>;
  delete old.auxStats;
  delete old.instanceNoise;
  const fresh = new GanTrainer(gpu, cfg, data);
  restoreTrainer(fresh, { meta: { ...ck.meta, config: old }, arrays: ck.arrays }, "old.ckpt");
  assertEquals(fresh.imagesSeen, tr.imagesSeen);
  const other = new GanTrainer(gpu, { ...cfg, auxStats: "real" }, data);
  assertThrows(
    () => restoreTrainer(other, { meta: { ...ck.meta, config: old }, arrays: ck.arrays }),
    Error,
    /config differs/,
  );
});

Deno.test("same seed, same adapter: two runs give bitwise the same samples", async () => {
  const gpu = await testGpu();
  const { data, cfg } = quickSetup({ augment: { adaptive: true } });
  const run = async () => {
    const tr = new GanTrainer(gpu, cfg, data);
    for (let s = 0; s < 12; s++) {
      tr.trainStep();
      if (tr.logDue) await tr.readLosses();
    }
    return await tr.generate(topCombos(data, 2), 99);
  };
  const a = await run(), b = await run();
  assertEquals(Array.from(a), Array.from(b));
  // and the latent matters: another seed gives other images
  const tr = new GanTrainer(gpu, cfg, data);
  const c = await tr.generate(topCombos(data, 2), 100), d = await tr.generate(topCombos(data, 2), 99);
  assert(Array.from(c).some((v, i) => v !== d[i]), "different latent seeds should give different images");
});

Deno.test("config: presets validate, and a bad field is named in the error", () => {
  for (const name of Object.keys(PRESETS)) resolveGanConfig({}, name);
  assertThrows(() => resolveGanConfig({ batchSize: 0 }), Error, /"batchSize"/);
  assertThrows(() => resolveGanConfig({ lrG: "fast" }), Error, /"lrG"/);
  assertThrows(() => resolveGanConfig({ gChannels: [8, 8] }), Error, /"gChannels"/);
  assertThrows(() => resolveGanConfig({ augment: { pCutout: 2 } }), Error, /"augment\.pCutout"/);
  assertThrows(() => resolveGanConfig({ batchSzie: 8 }), Error, /unknown field "batchSzie"/);
  assertThrows(() => resolveGanConfig({ mbstdGroup: 3, batchSize: 8 }), Error, /"mbstdGroup"/);
  assertThrows(() => resolveGanConfig({}, "huge"), Error, /unknown preset "huge"/);
  assertThrows(() => resolveGanConfig({ auxStats: "fake" }), Error, /"auxStats"/);
  assertThrows(() => resolveGanConfig({ auxLocal: 4 }), Error, /"auxLocal"/);
  assertThrows(() => resolveGanConfig({ auxLocal: 12 }), Error, /"auxLocal"/);
  assertThrows(() => resolveGanConfig({ auxLocal: 64 }), Error, /"auxLocal"/);
  assertThrows(
    () => resolveGanConfig({ auxLocal: 8, model: "progressive", gNoise: false }),
    Error,
    /"auxLocal"/,
  );
  assertThrows(() => resolveGanConfig({ projPooled: 2 }), Error, /"projPooled"/);
  assertThrows(
    () => resolveGanConfig({ projPooled: 8, model: "progressive", gNoise: false }),
    Error,
    /"projPooled"/,
  );
  assertThrows(() => resolveGanConfig({ auxStats: "real", auxWeightD: 0 }), Error, /"auxStats".*auxWeightD/);
  const c = resolveGanConfig({ resolution: 64 });
  assertEquals(c.gChannels.length, 5);
});

Deno.test("progressive: at alpha 0 the output is the upsampled output of the previous phase; fade gradients are right", async () => {
  const gpu = await testGpu();
  const cfg = microConfig({
    model: "progressive",
    gNoise: false, // the tiny preset's noise inputs exist for the cpd generator only
    resolution: 16,
    gChannels: [8, 8, 4],
    dChannels: [8, 8, 4],
    upsample: "nearest",
    progressive: { startRes: 8, fadeImages: 100, stableImages: 100 },
  });
  const G = new ProgressiveGenerator(gpu, cfg, L, 4);
  const pass = G.pass(N) as GeneratorPass & { setPhase(p: ProgressivePhase): void };
  const rng = new Rng(21);
  const zy = gpu.tensor([N, cfg.latentDim + L], rng.normals(N * (cfg.latentDim + L)));
  const at = async (images: number) => {
    const ph = phaseOf(cfg, images)!;
    pass.setPhase(ph);
    gpu.run((rec) => pass.forward(rec, zy, zy));
    return { ph, out: await gpu.read(pass.out) };
  };
  const stable8 = await at(50), fade0 = await at(100), fadeMid = await at(150), stable16 = await at(250);
  assertEquals([stable8.ph.res, stable8.ph.fading], [8, false]);
  assertEquals([fade0.ph.res, fade0.ph.fading, fade0.ph.alpha], [16, true, 0]);
  assertEquals(Array.from(fade0.out), Array.from(stable8.out), "alpha 0 = the upsampled 8 px output");
  // the 8 px phase's output is 2x2 blocks (nearest upsampling of 8 px images)
  for (let i = 0; i < 16; i += 2) assertEquals(stable8.out[i * 16 + 3], stable8.out[(i + 1) * 16 + 2]);
  assert(
    Array.from(fadeMid.out).some((v, i) => v !== stable8.out[i]),
    "alpha 0.5 differs from the old branch",
  );
  assert(
    Array.from(stable16.out).some((v, i) => v !== fadeMid.out[i]),
    "the 16 px phase differs from the fade",
  );

  // gradients mid-fade, generator and discriminator (with the input image)
  const results: [string, number, number][] = [];
  pass.setPhase(fadeMid.ph);
  const store = G.weights.store;
  const dOut = rng.normals(N * 256);
  const f = async () => {
    gpu.run((rec) => pass.forward(rec, zy, zy));
    return await scalar(gpu, pass.out, dOut);
  };
  const rec = gpu.recorder();
  rec.clear(store.grads);
  pass.forward(rec, zy, zy);
  pass.backward(rec, gpu.tensor([N, 1, 16, 16], dOut));
  gpu.submit(rec);
  const grad = await gpu.read(store.grads), x0 = await gpu.read(store.values);
  for (let k = 0; k < 2; k++) {
    await checkDirectional(
      gpu,
      `prog G, direction ${k}`,
      store.values,
      x0,
      grad,
      direction(store, rng),
      f,
      results,
    );
  }
  for (const name of ["g.to_img8.w", "g.to_img.w", "g.b16.conv.w", "g.b8.conv.w"]) {
    const p = store.params.find((q) => q.name === name)!;
    const u = new Float32Array(store.floats);
    for (let i = 0; i < p.init.length; i++) u[p.offset / 4 + i] = rng.normal();
    await checkDirectional(gpu, `prog G ${name}`, store.values, x0, grad, u, f, results);
  }

  const D = new ProgressiveDiscriminator(gpu, cfg, L, 6);
  const dp = D.pass(N, true) as DiscriminatorPass & { setPhase(p: ProgressivePhase): void };
  dp.setPhase(fadeMid.ph);
  const xs = rng.uniforms(N * 256, -1, 1);
  const x = gpu.tensor([N, 1, 16, 16], xs);
  const y = gpu.tensor([N, L], Float32Array.from({ length: N * L }, () => (rng.next() < 0.5 ? 1 : 0)));
  const r1 = rng.normals(N), r2 = rng.normals(N * L);
  const set = D.weights, dstore = set.store;
  for (let i = 0; i < 5; i++) gpu.run((rc) => set.snForward(rc, true));
  const fwd = (rc: Recorder) => {
    set.snForward(rc, false);
    dp.forward(rc, x, y, true);
  };
  const fd = async () => {
    gpu.run(fwd);
    return (await scalar(gpu, dp.out, r1)) + (await scalar(gpu, dp.aux, r2));
  };
  const rc = gpu.recorder();
  rc.clear(dstore.grads);
  set.snClear(rc);
  fwd(rc);
  dp.backward(rc, gpu.tensor([N, 1], r1), gpu.tensor([N, L], r2), true);
  set.snBackward(rc);
  gpu.submit(rc);
  const dgrad = await gpu.read(dstore.grads), dx = await gpu.read(dp.dx!), p0 = await gpu.read(dstore.values);
  for (const name of ["d.from_img8.w", "d.from_img.w", "d.b16.conv0.w", "d.b8.down.w"]) {
    const p = dstore.params.find((q) => q.name === name)!;
    const u = new Float32Array(dstore.floats);
    for (let i = 0; i < p.init.length; i++) u[p.offset / 4 + i] = rng.normal();
    await checkDirectional(gpu, `prog D ${name}`, dstore.values, p0, dgrad, u, fd, results);
  }
  await checkDirectional(gpu, "prog D input image", x, xs, dx, rng.normals(xs.length), fd, results);
  assertDirectional(results);
});
