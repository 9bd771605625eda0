/**
 * The recipe pieces of the conditional GAN added for label fidelity:
 * - ADC-GAN targets of the 2L auxiliary outputs (CPU, exact), the ADC head's prior bias, and a short ADC
 *   run: finite losses, D's loss on generated images logged, nothing allocated after the first step;
 * - the EMA ramp-up rule (StyleGAN2-ADA's), exact values;
 * - label smoothing of G's auxiliary targets (G's step only) and the label entering G's input layer only;
 * - configs written before these fields existed still load, with the old behaviour.
 */
import { DEFAULT_PHANTOM_CONFIG, makePhantom, type PhantomLabelSpec } from "../src/data/phantom.ts";
import { PRESETS, resolveGanConfig, validateGanConfig } from "../src/models/config.ts";
import {
  adcTargets,
  auxWeightGAt,
  emaDecayAt,
  GanTrainer,
  generatorInputs,
  initAuxBias,
  instanceNoiseAt,
  type LossReport,
  lrFactorAt,
  smoothTargets,
} from "../src/train/gan.ts";
import { Discriminator } from "../src/models/discriminator.ts";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { testGpu } from "./_util.ts";
import { quickSetup } from "./_gan_setup.ts";
import { restoreTrainer, trainerCheckpoint } from "../src/train/run_state.ts";

Deno.test("ADC targets: D learns [y_real, 0] and [0, y_fake], G is pushed to [y_fake, 0]", () => {
  const L = 3;
  const yr = [1, 0, 1, 0, 0, 1], yf = [0, 1, 1, 1, 0, 0];
  const real = new Float32Array(12), fakeD = new Float32Array(12), fakeG = new Float32Array(12);
  fakeD.fill(7); // every value must be written
  adcTargets(yr, yf, L, real, fakeD, fakeG);
  assertEquals(Array.from(real), [1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
  assertEquals(Array.from(fakeD), [0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0]);
  assertEquals(Array.from(fakeG), [0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
});

Deno.test("EMA ramp-up: half-life min(rampup * images, emaDecay's), decay 0.5^(batch / half-life)", () => {
  const cfg = resolveGanConfig({ batchSize: 16, emaDecay: 0.999, emaRampup: 0.05 });
  const maxHalf = 16 * Math.log(0.5) / Math.log(0.999); // 11083 images
  assertEquals(emaDecayAt(cfg, 0), 0, "no average at the start");
  const close = (a: number, b: number, what: string) =>
    assert(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);
  close(emaDecayAt(cfg, 10_000), 0.5 ** (16 / 500), "10k images: half-life 500 images");
  close(emaDecayAt(cfg, 100_000), 0.5 ** (16 / 5000), "100k images: half-life 5000 images");
  close(
    emaDecayAt(cfg, 10_000_000),
    0.999,
    `long runs reach emaDecay (half-life ${maxHalf.toFixed(0)} images)`,
  );
  const off = resolveGanConfig({ emaDecay: 0.98, emaRampup: 0 });
  assertEquals(emaDecayAt(off, 5), 0.98, "without a ramp the decay is fixed");
});

Deno.test("G's auxiliary weight decays linearly to auxWeightGEnd over auxDecayImages, then stays", () => {
  const cfg = resolveGanConfig({ auxWeightG: 2, auxDecayImages: 10_000, auxWeightGEnd: 0.5 });
  assertEquals(auxWeightGAt(cfg, 0), 2);
  assert(Math.abs(auxWeightGAt(cfg, 5_000) - 1.25) < 1e-12, "halfway");
  assertEquals(auxWeightGAt(cfg, 10_000), 0.5);
  assertEquals(auxWeightGAt(cfg, 1_000_000), 0.5, "stays at the end value");
  const off = resolveGanConfig({ auxWeightG: 2, auxDecayImages: 0, auxWeightGEnd: 0.1 });
  assertEquals(auxWeightGAt(off, 1_000_000), 2, "auxDecayImages 0: no decay");
});

Deno.test("past its decay, a run trains G exactly as one with auxWeightG = auxWeightGEnd", async () => {
  const gpu = await testGpu();
  const gWeights = async (over: Record<string, unknown>) => {
    const { data, cfg } = quickSetup(over);
    const tr = new GanTrainer(gpu, cfg, data);
    tr.imagesSeen = 1_000_000; // past the decay (the schedules read imagesSeen only)
    for (let s = 0; s < 3; s++) tr.trainStep();
    return await gpu.read(tr.g.weights.store.values);
  };
  const decayed = await gWeights({ auxWeightG: 3, auxDecayImages: 5_000, auxWeightGEnd: 0.25 });
  const plain = await gWeights({ auxWeightG: 0.25, auxDecayImages: 0 });
  const undecayed = await gWeights({ auxWeightG: 3, auxDecayImages: 0 });
  assertEquals(decayed, plain, "same weights as a constant auxWeightG of the end value");
  assert(decayed.some((v, i) => v !== undecayed[i]), "the start value would have trained G differently");
});

Deno.test("learning-rate decay: 1 until lrDecayFrom, then linearly to lrEndFactor over lrDecayImages, then stays", () => {
  const cfg = resolveGanConfig({ lrDecayFrom: 24_000, lrDecayImages: 76_000, lrEndFactor: 0.1 });
  assertEquals(lrFactorAt(cfg, 0), 1);
  assertEquals(lrFactorAt(cfg, 24_000), 1, "the decay starts after lrDecayFrom");
  assert(Math.abs(lrFactorAt(cfg, 62_000) - 0.55) < 1e-12, `halfway: ${lrFactorAt(cfg, 62_000)}`);
  assert(Math.abs(lrFactorAt(cfg, 100_000) - 0.1) < 1e-12, "the end value");
  assert(Math.abs(lrFactorAt(cfg, 10_000_000) - 0.1) < 1e-12, "stays at the end value");
  const off = resolveGanConfig({ lrDecayFrom: 0, lrDecayImages: 0, lrEndFactor: 0 });
  assertEquals(lrFactorAt(off, 1_000_000), 1, "lrDecayImages 0: constant learning rates");
  assertEquals(lrFactorAt(PRESETS.tiny, 1_000_000), 1, "the tiny preset keeps its rates");
  assertThrows(() => resolveGanConfig({ lrEndFactor: 1.5 }), Error, /"lrEndFactor"/);
  assertThrows(() => resolveGanConfig({ lrDecayImages: -1 }), Error, /"lrDecayImages"/);
  assertThrows(() => resolveGanConfig({ lrDecayFrom: 0.5 }), Error, /"lrDecayFrom"/);
});

Deno.test("the decayed learning rates reach Adam: a run at factor 0 leaves G and D as they were", async () => {
  const gpu = await testGpu();
  const after = async (over: Record<string, unknown>) => {
    const { data, cfg } = quickSetup(over);
    const tr = new GanTrainer(gpu, cfg, data);
    const g0 = await gpu.read(tr.g.weights.store.values), d0 = await gpu.read(tr.d.weights.store.values);
    tr.imagesSeen = 1_000_000; // past the decay (the schedules read imagesSeen only)
    for (let s = 0; s < 2; s++) tr.trainStep();
    const g = await gpu.read(tr.g.weights.store.values), d = await gpu.read(tr.d.weights.store.values);
    return { g0, d0, g, d, lr: [tr.adamG.lr, tr.adamD.lr] };
  };
  const z = await after({ lrDecayFrom: 100, lrDecayImages: 1_000, lrEndFactor: 0 });
  assertEquals(z.lr, [0, 0]);
  assertEquals(z.g, z.g0, "G unchanged at learning rate 0");
  assertEquals(z.d, z.d0, "D unchanged at learning rate 0");
  const half = await after({ lrDecayFrom: 100, lrDecayImages: 1_000, lrEndFactor: 0.5 });
  const { cfg } = quickSetup();
  assertEquals(half.lr, [cfg.lrG * 0.5, cfg.lrD * 0.5]);
  assert(half.g.some((v, i) => v !== half.g0[i]), "G trains at half its rate");
});

Deno.test("resume may add a learning-rate decay that starts at or after the images seen, not before", async () => {
  const gpu = await testGpu();
  const { data, cfg } = quickSetup();
  const tr = new GanTrainer(gpu, cfg, data);
  tr.trainStep();
  tr.trainStep();
  const ck = await trainerCheckpoint(tr);
  const seen = tr.imagesSeen;
  const later = new GanTrainer(
    gpu,
    { ...cfg, lrDecayFrom: seen, lrDecayImages: 1_000, lrEndFactor: 0 },
    data,
  );
  restoreTrainer(later, ck, "a.ckpt");
  assertEquals(later.imagesSeen, seen);
  const earlier = new GanTrainer(
    gpu,
    { ...cfg, lrDecayFrom: seen - 1, lrDecayImages: 1_000, lrEndFactor: 0 },
    data,
  );
  assertThrows(() => restoreTrainer(earlier, ck, "a.ckpt"), Error, /config differs.*learning-rate decay/);
  // once steps ran under the decay, its checkpoint resumes with the same decay and refuses another one
  later.trainStep();
  const ck2 = await trainerCheckpoint(later);
  restoreTrainer(new GanTrainer(gpu, later.cfg, data), ck2, "b.ckpt");
  assertThrows(
    () => restoreTrainer(new GanTrainer(gpu, { ...later.cfg, lrEndFactor: 0.5 }, data), ck2, "b.ckpt"),
    Error,
    /config differs/,
  );
});

Deno.test("instance noise: its std falls linearly to 0 over instanceNoiseImages, or stays", () => {
  const cfg = resolveGanConfig({ instanceNoise: 0.2, instanceNoiseImages: 10_000 });
  assertEquals(instanceNoiseAt(cfg, 0), 0.2);
  assert(Math.abs(instanceNoiseAt(cfg, 5_000) - 0.1) < 1e-12, "halfway");
  assertEquals(instanceNoiseAt(cfg, 20_000), 0, "0 past the schedule");
  assertEquals(instanceNoiseAt(resolveGanConfig({ instanceNoise: 0.2 }), 1e6), 0.2, "constant without one");
});

Deno.test("instance noise trains D on noisy inputs, reproducibly, with and without augmentation", async () => {
  const gpu = await testGpu();
  const run = async (over: Record<string, unknown>) => {
    const { data, cfg } = quickSetup(over);
    const tr = new GanTrainer(gpu, cfg, data);
    for (let s = 0; s < 3; s++) tr.trainStep();
    return await gpu.read(tr.d.weights.store.values);
  };
  for (const augment of [{ enabled: true }, { enabled: false }]) {
    const noisy = await run({ instanceNoise: 0.3, augment }),
      again = await run({ instanceNoise: 0.3, augment });
    const clean = await run({ augment });
    assertEquals(noisy, again, `same seed, same noise (augment ${augment.enabled})`);
    assert(noisy.every(Number.isFinite), "finite weights");
    assert(
      noisy.some((v, i) => v !== clean[i]),
      `the noise changes D's training (augment ${augment.enabled})`,
    );
  }
});

Deno.test("configs without the newer fields load with the old behaviour; bad values name the field", () => {
  const old = structuredClone(PRESETS.tiny) as unknown as Record<string, unknown>;
  delete old.auxLoss;
  delete old.emaRampup;
  delete old.labelFidelity;
  delete old.auxDecayImages;
  delete old.auxWeightGEnd;
  delete old.instanceNoise;
  delete old.instanceNoiseImages;
  delete old.auxSmoothG;
  delete old.auxStats;
  delete old.auxLocal;
  delete old.projPooled;
  delete old.lrDecayFrom;
  delete old.lrDecayImages;
  delete old.lrEndFactor;
  delete old.featMatchWeight;
  delete old.featMatchMode;
  delete old.featMatchDecay;
  const c = validateGanConfig(old);
  assertEquals(c.featMatchWeight, 0, "no feature matching in an older run");
  assertEquals([c.lrDecayFrom, c.lrDecayImages, c.lrEndFactor], [0, 0, 1], "constant rates in an older run");
  assertEquals([c.auxStats, c.auxLocal, c.projPooled], ["batch", 0, 0], "D's heads in an older run");
  assertEquals(c.auxSmoothG, 0, "hard targets in an older run");
  assertEquals([c.instanceNoise, c.instanceNoiseImages], [0, 0], "no instance noise in an older run");
  assertThrows(() => resolveGanConfig({ instanceNoise: -0.1 }), Error, /"instanceNoise"/);
  assertThrows(() => resolveGanConfig({ instanceNoiseImages: 0.5 }), Error, /"instanceNoiseImages"/);
  assertEquals(c.auxLoss, "ac");
  assertEquals(c.emaRampup, 0);
  assertEquals(c.auxDecayImages, 0, "no decay of the auxiliary weight in an older run");
  assertThrows(() => resolveGanConfig({ auxDecayImages: -5 }), Error, /"auxDecayImages"/);
  assertThrows(() => resolveGanConfig({ auxWeightGEnd: -1 }), Error, /"auxWeightGEnd"/);
  assertEquals(c.labelFidelity.every, 0, "no label fidelity in a run made before it existed");
  assertThrows(() => resolveGanConfig({ auxLoss: "tac" }), Error, /"auxLoss"/);
  assertThrows(() => resolveGanConfig({ emaRampup: -1 }), Error, /"emaRampup"/);
  assertThrows(() => resolveGanConfig({ labelFidelity: { every: 1.5 } }), Error, /"labelFidelity\.every"/);
  assertThrows(
    () => resolveGanConfig({ labelFidelity: { classifier: "big" } }),
    Error,
    /"labelFidelity\.classifier"/,
  );
  assertThrows(() => resolveGanConfig({ labelFidelity: { evry: 5 } }), Error, /labelFidelity\.evry/);
});

Deno.test("ADC head: 2L outputs start at the log-odds of half each label's frequency", async () => {
  const gpu = await testGpu();
  const labels = { ...DEFAULT_PHANTOM_CONFIG.labels, count: 120 } as PhantomLabelSpec;
  const data = makePhantom({ resolution: 8, labels, seed: 4 });
  const L = data.labelNames.length;
  const cfg = resolveGanConfig({
    resolution: 8,
    gChannels: [8, 4],
    dChannels: [8, 4],
    latentDim: 4,
    dFeatures: 8,
    batchSize: 4,
    mbstdGroup: 2,
    auxLoss: "adc",
  });
  const d = new Discriminator(gpu, cfg, L, 1);
  initAuxBias(gpu, d, data);
  const b = await gpu.read(d.weights.store.params.find((p) => p.name === "d.aux.b")!.value);
  assertEquals(b.length, 2 * L);
  for (let l = 0; l < L; l++) {
    let c = 0;
    for (let i = 0; i < data.n; i++) c += data.labels[i * L + l];
    const f = c / data.n / 2, want = Math.log(f / (1 - f));
    assert(
      Math.abs(b[l] - want) < 1e-5 && Math.abs(b[L + l] - want) < 1e-5,
      `label ${l}: ${b[l]}, ${b[L + l]} vs ${want}`,
    );
  }
});

Deno.test("a short ADC run: finite losses, D's label loss on generated images logged, no allocation after step 1", async () => {
  const gpu = await testGpu();
  const { data, cfg } = quickSetup({ auxLoss: "adc", emaRampup: 0.05, emaDecay: 0.999 });
  const tr = new GanTrainer(gpu, cfg, data);
  tr.trainStep();
  await tr.readLosses();
  const bufs = gpu.buffersCreated, pipes = gpu.pipelinesCreated;
  const reports: LossReport[] = [];
  for (let s = 1; s < 40; s++) {
    tr.trainStep();
    if (tr.logDue) reports.push(await tr.readLosses());
  }
  assertEquals(gpu.buffersCreated, bufs, "storage buffers created after the first step");
  assertEquals(gpu.pipelinesCreated, pipes, "pipelines compiled after the first step");
  for (const r of reports) {
    assert(r.dAuxFake > 0 && r.dAux > 0 && r.gAux > 0, `aux losses must be logged: ${JSON.stringify(r)}`);
  }
  assert(tr.ema.currentDecay > 0 && tr.ema.currentDecay < 0.999, `ramped decay ${tr.ema.currentDecay}`);
  assertEquals(tr.ema.currentDecay, emaDecayAt(cfg, tr.imagesSeen - cfg.batchSize));
});

Deno.test("auxSmoothG: G's auxiliary targets become s and 1 - s; D's stay hard", async () => {
  assertEquals(
    Array.from(smoothTargets(new Float32Array([0, 1, 1, 0]), 0.1)),
    [0.1, 0.9, 0.9, 0.1].map(Math.fround),
  );
  assertEquals(Array.from(smoothTargets(new Float32Array([0, 1]), 0)), [0, 1], "0 leaves the targets hard");
  const gpu = await testGpu();
  const oneStep = async (over: Record<string, unknown>) => {
    const { data, cfg } = quickSetup(over);
    const tr = new GanTrainer(gpu, cfg, data);
    tr.trainStep(); // D's step comes first, with the same fakes, then G's
    return { d: await gpu.read(tr.d.weights.store.values), g: await gpu.read(tr.g.weights.store.values) };
  };
  for (const auxLoss of ["ac", "adc"]) {
    const hard = await oneStep({ auxLoss }), smooth = await oneStep({ auxLoss, auxSmoothG: 0.2 });
    assertEquals(smooth.d, hard.d, `${auxLoss}: D's step does not see G's targets`);
    assert(smooth.g.some((v, i) => v !== hard.g[i]), `${auxLoss}: G's step trains towards other targets`);
    assert(smooth.g.every(Number.isFinite), "finite weights");
  }
  assertThrows(() => resolveGanConfig({ auxSmoothG: 0.5 }), Error, /"auxSmoothG"/);
  assertThrows(() => resolveGanConfig({ auxSmoothG: -0.1 }), Error, /"auxSmoothG"/);
});

Deno.test('condInput "latent": the norms see z only, the label still reaches G through its input layer', async () => {
  const cfg = resolveGanConfig({ latentDim: 3, condInput: "latent" });
  const z = new Float32Array([1, 2, 3, 4, 5, 6]), y = [1, 0, 0, 1];
  const zy = new Float32Array(10), cond = new Float32Array(6).fill(9);
  generatorInputs(cfg, 2, z, y, zy, cond);
  assertEquals(Array.from(zy), [1, 2, 3, 1, 0, 4, 5, 6, 0, 1]);
  assertEquals(Array.from(cond), [1, 2, 3, 4, 5, 6]);
  const gpu = await testGpu();
  const { data, cfg: qc } = quickSetup({ condInput: "latent" });
  const tr = new GanTrainer(gpu, qc, data);
  const gamma = tr.g.weights.store.params.find((p) => p.name === "g.b4.norm0.gamma.w")!;
  assertEquals(gamma.shape[1], qc.latentDim, "norm weights (C, Z)");
  for (let s = 0; s < 3; s++) tr.trainStep();
  const L = data.labelNames.length, n = 4, rows = new Uint8Array(n * L);
  for (let i = 0; i < n; i++) rows[i * L + (i % L)] = 1;
  const a = await tr.generate(rows, 5), b = await tr.generate(new Uint8Array(n * L), 5);
  assert(a.some((v, i) => v !== b[i]), "the label changes the image");
  assertThrows(() => resolveGanConfig({ condInput: "noise" }), Error, /"condInput".*"latent"/);
});
