/**
 * The DenseNet-style classifier: GPU forward == CPU reference built from the layers' *Ref functions,
 * backward == directional finite differences of the CPU loss, steps allocate nothing after the first,
 * config validation, class weights and the flip augmentation.
 */
import {
  Classifier,
  type ClassifierConfig,
  classifierConfig,
  classifierForwardRef,
  type ClassifierWorkspace,
} from "../src/models/classifier.ts";
import { bceWithLogits, bceWithLogitsRef } from "../src/nn/losses.ts";
import {
  ClassifierStepper,
  classWeights,
  gatherBatch,
  TIME_CHECK_STEPS,
  trainClassifier,
} from "../src/train/classifier.ts";
import type { Dataset } from "../src/data/dataset.ts";
import { Rng } from "../src/util/rng.ts";
import { assert, assertThrows } from "./_assert.ts";
import { assertClose, rand, testGpu } from "./_util.ts";

/** Plain dense layers, stride-1 stem, two blocks (8x8 and 4x4). */
const PLAIN: ClassifierConfig = classifierConfig({
  stemChannels: 3,
  stemKernel: 3,
  stemStride: 1,
  stemPool: false,
  growthRate: 2,
  blockDepths: [2, 2],
  bottleneck: 0,
  compression: 0.5,
}, { inChannels: 1, size: 8, labels: 3 });

/** Bottleneck layers, standardised input, stride-2 stem with pooling, odd channel counts: 12 px -> 6 -> 3 -> blocks at 3 and 1. */
const BOTTLENECK: ClassifierConfig = classifierConfig({
  inputNorm: true,
  stemChannels: 4,
  stemKernel: 5,
  stemStride: 2,
  stemPool: true,
  growthRate: 3,
  blockDepths: [2, 1],
  bottleneck: 2,
  compression: 0.5,
}, { inChannels: 2, size: 12, labels: 4 });

/** The `tiny` preset's layout, small: standardised input, stride-1 stem with pooling (8 px -> 8 -> 4), plain layers at 4 and 2. */
const POOLED_STEM: ClassifierConfig = classifierConfig({
  inputNorm: true,
  stemChannels: 3,
  stemKernel: 3,
  stemStride: 1,
  stemPool: true,
  growthRate: 2,
  blockDepths: [2, 2],
  bottleneck: 0,
  compression: 0.5,
}, { inChannels: 1, size: 8, labels: 3 });

const CASES: [string, ClassifierConfig, number][] = [
  ["plain", PLAIN, 2],
  ["bottleneck", BOTTLENECK, 3],
  ["pooled stem", POOLED_STEM, 3],
];

function inputs(cfg: ClassifierConfig, n: number, seed: number) {
  const rng = new Rng(seed);
  const x = rand(n * cfg.inChannels * cfg.size * cfg.size, seed);
  const y = Float32Array.from({ length: n * cfg.labels }, () => (rng.next() < 0.4 ? 1 : 0));
  const pos = Float32Array.from({ length: cfg.labels }, (_, j) => 1 + 0.5 * j);
  const neg = Float32Array.from({ length: cfg.labels }, (_, j) => 1.5 - 0.2 * j);
  return { x, y, pos, neg };
}

/** Records forward (training), BCE and backward from zeroed gradients; returns the GPU loss. */
async function gpuGradients(
  model: Classifier,
  ws: ClassifierWorkspace,
  d: ReturnType<typeof inputs>,
): Promise<number> {
  const gpu = model.gpu, L = model.config.labels;
  const tgt = gpu.tensor([ws.n, L], d.y), pos = gpu.tensor([L], d.pos), neg = gpu.tensor([L], d.neg);
  const loss = gpu.tensor([1]);
  gpu.write(ws.x, d.x);
  gpu.run((rec) => {
    rec.clear(model.params.grads);
    model.forward(rec, ws, true);
    bceWithLogits(rec, ws.logits, tgt, pos, neg, ws.dlogits, loss);
    model.backward(rec, ws);
  });
  const v = (await gpu.read(loss))[0];
  for (const t of [tgt, pos, neg, loss]) t.dispose();
  return v;
}

/** The cases on the fused path (the default) and the unfused reference path. */
const PATHS = CASES.flatMap(([name, cfg, n]) =>
  [true, false].map((fused) => [`${name}${fused ? "" : " (unfused)"}`, cfg, n, fused] as const)
);

Deno.test("classifier GPU forward equals the CPU reference (training and evaluation mode)", async () => {
  const gpu = await testGpu();
  for (const [name, cfg, n, fused] of PATHS) {
    const model = new Classifier(gpu, cfg, { seed: 3, fused });
    const ws = model.workspace(n, true);
    const d = inputs(cfg, n, 11);
    const before = await model.readState();
    gpu.write(ws.x, d.x);
    gpu.run((rec) => model.forward(rec, ws, true));
    const ref = classifierForwardRef(cfg, before, d.x, n, true);
    // float32 GPU vs float64 CPU through ~10 BN-normalised layers: errors ~1e-6 relative to O(1) values
    assertClose(await gpu.read(ws.logits), ref.logits, { atol: 2e-5, rtol: 1e-4 }, `${name} train logits`);
    assertClose(
      await gpu.read(ws.features),
      ref.features,
      { atol: 2e-5, rtol: 1e-4 },
      `${name} train features`,
    );

    // the training forward updated the running statistics; evaluation mode must use them
    const after = await model.readState();
    const moved = [...after.keys()].filter((k) => k.endsWith(".running"))
      .some((k) => after.get(k)!.some((v, i) => v !== before.get(k)![i]));
    assert(moved, `${name}: a training forward updates the BN running statistics`);
    const evalRef = classifierForwardRef(cfg, after, d.x, n, false);
    const { logits, features } = await model.infer(d.x, n, { logits: true, features: true });
    assertClose(logits!, evalRef.logits, { atol: 2e-5, rtol: 1e-4 }, `${name} eval logits`);
    assertClose(features!, evalRef.features, { atol: 2e-5, rtol: 1e-4 }, `${name} eval features`);
    let differs = 0;
    for (let i = 0; i < logits!.length; i++) {
      differs = Math.max(differs, Math.abs(logits![i] - ref.logits[i]));
    }
    assert(differs > 1e-3, `${name}: evaluation mode differs from training mode (max diff ${differs})`);
    // the naive conv kernels (debugging variant) give the same forward
    const naive = new Classifier(gpu, cfg, { seed: 3, convVariant: "naive", fused });
    const nws = naive.workspace(n, true);
    gpu.write(nws.x, d.x);
    gpu.run((rec) => naive.forward(rec, nws, true));
    assertClose(
      await gpu.read(nws.logits),
      ref.logits,
      { atol: 2e-5, rtol: 1e-4 },
      `${name} naive train logits`,
    );
    naive.disposeWorkspaces();
    // batching in infer (batch 1) gives the same outputs
    const one = await model.infer(d.x, n, { logits: true }, 1);
    assertClose(one.logits!, logits!, { atol: 1e-6, rtol: 1e-5 }, `${name} eval logits batch 1`);
    model.disposeWorkspaces();
  }
});

Deno.test("classifier backward equals directional finite differences of the CPU forward loss", async () => {
  const gpu = await testGpu();
  for (const [name, cfg, n, fused] of PATHS) {
    const model = new Classifier(gpu, cfg, { seed: 5, fused });
    const ws = model.workspace(n, true);
    const d = inputs(cfg, n, 21);
    const state = await model.readState();
    const gpuLoss = await gpuGradients(model, ws, d);
    const grads = await model.params.readValues(gpu, model.params.grads);
    const state64 = new Map<string, Float64Array>();
    for (const [k, v] of state) state64.set(k, Float64Array.from(v));
    const lossOf = (s: Map<string, Float64Array>) =>
      bceWithLogitsRef(classifierForwardRef(cfg, s, d.x, n, true).logits, d.y, d.pos, d.neg).loss;
    const loss0 = lossOf(state64);
    assertClose([gpuLoss], [loss0], { atol: 1e-5, rtol: 1e-4 }, `${name} loss`);

    // Per parameter tensor p: a random unit direction v, compare <grad_p, v> with the central difference
    // (L(p + eps v) - L(p - eps v)) / (2 eps) of the float64 CPU loss. eps = 1e-5 keeps the truncation error
    // ~1e-10 and the chance of crossing a ReLU kink negligible; the GPU gradient is float32 through ~10 layers
    // (relative rounding ~1e-6 per op, sums of <= a few hundred terms), so the error of <grad, v> is far
    // below 1e-3 |grad|. A missing or wrong backward term gives an error of the order of |grad| itself.
    const rng = new Rng(99);
    const eps = 1e-5;
    let checked = 0;
    for (const p of model.params.params) {
      const g = grads.get(p.name)!;
      const v = Float64Array.from({ length: g.length }, () => rng.normal());
      const norm = Math.hypot(...v);
      v.forEach((x, i) => (v[i] = x / norm));
      const base = state64.get(p.name)!;
      const shifted = (sign: number) => {
        const s = new Map(state64);
        s.set(p.name, base.map((b, i) => b + sign * eps * v[i]));
        return lossOf(s);
      };
      const fd = (shifted(1) - shifted(-1)) / (2 * eps);
      let an = 0, gnorm = 0;
      for (let i = 0; i < g.length; i++) {
        an += g[i] * v[i];
        gnorm += g[i] * g[i];
      }
      gnorm = Math.sqrt(gnorm);
      assert(gnorm > 1e-6, `${name} ${p.name}: gradient is zero`);
      const err = Math.abs(an - fd);
      assert(
        err <= 1e-3 * gnorm + 1e-7,
        `${name} ${p.name}: <grad, v> = ${an}, finite difference ${fd}, error ${err} vs |grad| ${gnorm}`,
      );
      checked++;
    }
    assert(checked === model.params.params.length, "every parameter checked");
    model.disposeWorkspaces();
  }
});

Deno.test("classifier fused path (BN+ReLU kernels, concat-free blocks) equals the unfused path", async () => {
  // the tiny preset's architecture at 16 px: blocks at 8, 4 and 2 px, two steps of Adam
  const gpu = await testGpu();
  const cfg = classifierConfig("tiny", { inChannels: 1, size: 16, labels: 3 }), n = 4;
  const d = inputs(cfg, n, 31);
  const run = async (fused: boolean) => {
    const model = new Classifier(gpu, cfg, { seed: 7, fused });
    const stepper = new ClassifierStepper(model, n, { lr: 1e-2, posWeight: d.pos, negWeight: d.neg });
    stepper.step(d.x, d.y);
    const ws = model.workspace(n, true);
    const loss = await gpuGradients(model, ws, d); // after one Adam step: weights and statistics moved
    const out = {
      loss,
      logits: await gpu.read(ws.logits),
      features: await gpu.read(ws.features),
      grads: await gpu.read(model.params.grads),
      state: await model.readState(),
    };
    stepper.dispose();
    model.disposeWorkspaces();
    return out;
  };
  const fused = await run(true), unfused = await run(false);
  const tol = { atol: 1e-4, rtol: 1e-3 };
  assertClose([fused.loss], [unfused.loss], tol, "loss");
  assertClose(fused.logits, unfused.logits, tol, "logits");
  assertClose(fused.features, unfused.features, tol, "features");
  assertClose(fused.grads, unfused.grads, tol, "parameter gradients");
  for (const [k, v] of unfused.state) assertClose(fused.state.get(k)!, v, tol, `state ${k}`);
});

Deno.test("classifier training steps allocate nothing after the first and reduce the loss", async () => {
  const gpu = await testGpu();
  const cfg = PLAIN, n = 8;
  const model = new Classifier(gpu, cfg, { seed: 1 });
  const { pos, neg } = {
    pos: new Float32Array(cfg.labels).fill(1),
    neg: new Float32Array(cfg.labels).fill(1),
  };
  const stepper = new ClassifierStepper(model, n, { lr: 1e-2, posWeight: pos, negWeight: neg });
  // a learnable batch: label j is on when the mean of image row band j is bright
  const rng = new Rng(4);
  const x = new Float32Array(n * 64), y = new Float32Array(n * cfg.labels);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < cfg.labels; j++) y[i * 3 + j] = rng.next() < 0.5 ? 1 : 0;
    for (let r = 0; r < 8; r++) {
      const band = Math.min(2, Math.floor(r / 3));
      for (let c = 0; c < 8; c++) x[i * 64 + r * 8 + c] = (y[i * 3 + band] ? 0.7 : -0.3) + 0.2 * rng.normal();
    }
  }
  stepper.step(x, y);
  const first = await stepper.readLoss();
  const buffers = gpu.buffersCreated, pipelines = gpu.pipelinesCreated;
  for (let s = 0; s < 40; s++) stepper.step(x, y);
  const last = await stepper.readLoss();
  assert(gpu.buffersCreated === buffers, `buffers created during steps: ${gpu.buffersCreated - buffers}`);
  assert(
    gpu.pipelinesCreated === pipelines,
    `pipelines created during steps: ${gpu.pipelinesCreated - pipelines}`,
  );
  stepper.step(x, y);
  const final = await stepper.readLoss();
  assert(final < 0.5 * first, `the loss falls: first ${first}, mean of next 40 ${last}, final ${final}`);
  stepper.dispose();
  model.disposeWorkspaces();
});

Deno.test("classifier config: presets build and bad fields give clear errors", () => {
  const tiny = classifierConfig("tiny", { inChannels: 1, size: 32, labels: 6 });
  assert(tiny.growthRate > 0 && tiny.blockDepths.length >= 2, "tiny preset");
  const paper = classifierConfig("paper", { inChannels: 3, size: 128, labels: 6 });
  assert(
    paper.blockDepths.join() === "6,12,24,16" && paper.growthRate === 32 && paper.bottleneck === 4,
    "paper",
  );
  assertThrows(() => classifierConfig("paper", { inChannels: 1, size: 16, labels: 6 }), Error, /too small/);
  assertThrows(
    () => classifierConfig("tiny", { inChannels: 1, size: 32, labels: 6 }, { growthRate: 0 }),
    Error,
    /growthRate/,
  );
  assertThrows(
    () => classifierConfig("tiny", { inChannels: 1, size: 32, labels: 6 }, { stemKernel: 4 }),
    Error,
    /odd/,
  );
  assertThrows(
    () => classifierConfig("tiny", { inChannels: 1, size: 32, labels: 6 }, { compression: 0 }),
    Error,
    /compression/,
  );
  assertThrows(
    () => classifierConfig("nope" as "tiny", { inChannels: 1, size: 32, labels: 6 }),
    Error,
    /preset/,
  );
});

Deno.test("class weights balance positives and negatives; flip mirrors rows", () => {
  // label 0: 1 of 4 positive; label 1: all positive (one class: weights 1)
  const { pos, neg } = classWeights(Uint8Array.from([1, 1, 0, 1, 0, 1, 0, 1]), 4, 2);
  assertClose(pos, [2, 1], { atol: 1e-7, rtol: 0 }, "pos weights");
  assertClose(neg, [4 / 6, 1], { atol: 1e-7, rtol: 0 }, "neg weights");

  const d: Dataset = {
    images: Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i), // (2, 1, 2, 3)
    n: 2,
    channels: 1,
    height: 2,
    width: 3,
    labels: Uint8Array.from([1, 0]),
    labelNames: ["a"],
    patientIds: ["p", "q"],
    sources: ["0", "1"],
    format: "plain",
  };
  const xb = new Float32Array(12), yb = new Float32Array(2);
  gatherBatch(d, [1, 0], xb, yb, new Rng(0), 1);
  assertClose(xb, [8, 7, 6, 11, 10, 9, 2, 1, 0, 5, 4, 3], { atol: 0, rtol: 0 }, "flipped batch");
  assertClose(yb, [0, 1], { atol: 0, rtol: 0 }, "targets follow the rows");
  gatherBatch(d, [0, 1], xb, yb, new Rng(0), 0);
  assertClose(xb, d.images, { atol: 0, rtol: 0 }, "no flip");
});

/** n random (1, 8, 8) images of PLAIN's size with random labels (40 % positive): for budget tests. */
function noiseDataset(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  return {
    images: rand(n * PLAIN.size * PLAIN.size, seed + 1), // (n, 1, 8, 8)
    n,
    channels: 1,
    height: PLAIN.size,
    width: PLAIN.size,
    labels: Uint8Array.from({ length: n * PLAIN.labels }, () => (rng.next() < 0.4 ? 1 : 0)),
    labelNames: ["a", "b", "c"],
    patientIds: Array.from({ length: n }, (_, i) => `p${i}`),
    sources: Array.from({ length: n }, (_, i) => `${i}`),
    format: "plain",
  };
}

Deno.test("classifier training stops inside an epoch once its time limit is reached", async () => {
  const gpu = await testGpu();
  const n = 256, d = noiseDataset(n, 11);
  // 128 steps an epoch, each time check waits for the GPU (~11 ms): 0.05 s ends the first epoch early
  const r = await trainClassifier(gpu, d, d, {
    config: { model: PLAIN, batchSize: 2, maxEpochs: 3, maxSeconds: 0.05, evalBatchSize: 64 },
  });
  assert(r.stoppedBy === "time", `stopped by ${r.stoppedBy}, expected time`);
  assert(r.history.length === 1, `ran ${r.history.length} epochs, expected the first one cut short`);
  assert(
    r.steps >= TIME_CHECK_STEPS && r.steps < n / 2 && r.steps % TIME_CHECK_STEPS === 0,
    `stopped after ${r.steps} steps, expected a multiple of ${TIME_CHECK_STEPS} below a full epoch (${
      n / 2
    })`,
  );
  assert(Number.isFinite(r.history[0].loss), "the partial epoch's loss is logged");
  r.model.disposeWorkspaces();
});

Deno.test("classifier training stops at its image budget, exactly, inside an epoch", async () => {
  const gpu = await testGpu();
  const n = 64, d = noiseDataset(n, 12);
  // 16 steps of 4 images an epoch; 88 images = 22 steps: one full epoch and 6 steps of the second
  const r = await trainClassifier(gpu, d, d, {
    config: {
      model: PLAIN,
      batchSize: 4,
      maxEpochs: 5,
      maxImages: 88,
      evalBatchSize: 64,
      earlyStopPatience: 9,
    },
  });
  assert(r.stoppedBy === "images", `stopped by ${r.stoppedBy}, expected images`);
  assert(r.steps === 22, `trained ${r.steps} steps, expected 22`);
  assert(r.history.length === 2, `ran ${r.history.length} epochs, expected 2 (the second cut short)`);
  r.model.disposeWorkspaces();
});
