/**
 * The discriminator's auxiliary classifier learns the labels of real images. Regression test: with the
 * spectrally normalised trunk, the differences between images in the feature vector h are tiny next to its
 * common part, and an aux head reading h directly stayed at the label-prior BCE for thousands of images
 * (no GAN loss needed to show it). The head now reads batch-standardised features and its bias starts at
 * the labels' log-odds.
 */
import { DEFAULT_PHANTOM_CONFIG, makePhantom, type PhantomLabelSpec } from "../src/data/phantom.ts";
import { resolveGanConfig } from "../src/models/config.ts";
import { Discriminator } from "../src/models/discriminator.ts";
import { Adam } from "../src/nn/adam.ts";
import { bceWithLogits } from "../src/nn/losses.ts";
import { initAuxBias } from "../src/train/gan.ts";
import { Rng } from "../src/util/rng.ts";
import { assert } from "./_assert.ts";
import { testGpu } from "./_util.ts";

/** Mean BCE of predicting each label's frequency (the best a label-blind classifier can do). */
function priorBce(labels: Uint8Array, n: number, l: number): number {
  let s = 0;
  for (let j = 0; j < l; j++) {
    let c = 0;
    for (let i = 0; i < n; i++) c += labels[i * l + j];
    const p = c / n;
    s += -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
  }
  return s / l;
}

Deno.test("D's trunk + aux head (spectral norm on) learn real phantom labels: BCE well below the prior", async () => {
  const gpu = await testGpu();
  const R = 16, N = 16;
  const labels = { ...DEFAULT_PHANTOM_CONFIG.labels, count: 600 } as PhantomLabelSpec;
  const data = makePhantom({ resolution: R, labels, seed: 4 });
  const L = data.labelNames.length, sz = R * R;
  const cfg = resolveGanConfig({
    resolution: R,
    gChannels: [32, 16, 8],
    dChannels: [32, 16, 8],
    dFeatures: 32,
    batchSize: N,
    spectralNorm: true,
  });
  const d = new Discriminator(gpu, cfg, L, 2);
  initAuxBias(gpu, d, data);
  const pass = d.pass(N, false);
  const adam = new Adam(gpu, d.weights.store, { lr: 2e-3, beta1: 0, beta2: 0.99, zeroGrads: true });
  const x = gpu.tensor([N, 1, R, R]), y = gpu.tensor([N, L]);
  const dout = gpu.tensor([N, 1], new Float32Array(N)); // no GAN loss: the aux loss alone
  const daux = gpu.tensor([N, L]);
  const w = gpu.tensor([L], new Float32Array(L).fill(1)), w2 = gpu.tensor([L], new Float32Array(L).fill(1));
  const log = gpu.tensor([2], new Float32Array(2));
  const rng = new Rng(9);
  const hx = new Float32Array(N * sz), hy = new Float32Array(N * L);
  const steps = 150, tail = 40;
  for (let s = 0; s < steps; s++) {
    for (let i = 0; i < N; i++) {
      const r = rng.int(data.n);
      hx.set(data.images.subarray(r * sz, (r + 1) * sz), i * sz);
      for (let l = 0; l < L; l++) hy[i * L + l] = data.labels[r * L + l];
    }
    gpu.write(x, hx);
    gpu.write(y, hy);
    const rec = gpu.recorder();
    if (s === steps - tail) rec.clear(log);
    d.weights.snForward(rec, true);
    d.weights.snClear(rec);
    pass.forward(rec, x, y, true);
    bceWithLogits(rec, pass.aux, y, w, w2, daux, log, { slot: 0, accumulate: true });
    pass.backward(rec, dout, daux, true);
    d.weights.snBackward(rec);
    adam.step(rec);
    gpu.submit(rec);
  }
  const bce = (await gpu.read(log))[0] / tail, prior = priorBce(data.labels, data.n, L);
  console.log(`aux BCE over the last ${tail} steps ${bce.toFixed(4)}, label prior ${prior.toFixed(4)}`);
  assert(bce < 0.85 * prior, `D's aux BCE ${bce} should fall well below the label prior's ${prior}`);
});
