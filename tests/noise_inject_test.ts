/**
 * The generator's noise inputs (GanConfig.gNoise): the kernels against their CPU references, and what the
 * generator promises with them: zero strengths change nothing, an image does not depend on the batch it was
 * drawn in, the seed names the noise, and a training step gives the strengths a gradient.
 */
import { Generator } from "../src/models/generator.ts";
import { condDim } from "../src/models/generator.ts";
import { resolveGanConfig } from "../src/models/config.ts";
import {
  noiseInjectBackward,
  noiseInjectForward,
  noiseInjectGradRef,
  noiseInjectParams,
  noiseInjectRef,
} from "../src/nn/noise_inject.ts";
import { GanTrainer, sampleWith } from "../src/train/gan.ts";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { quickSetup } from "./_gan_setup.ts";
import { assertClose, rand, testGpu } from "./_util.ts";
import type { Gpu } from "../src/gpu/gpu.ts";

Deno.test("noise inject: forward and strength gradient equal the CPU references (row offset, +=)", async () => {
  const gpu = await testGpu();
  const shape = [3, 5, 7, 6], size = 3 * 5 * 7 * 6, seed = 0xdeadbeef, row0 = 11;
  const x0 = rand(size, 1), s0 = rand(5, 2), dy0 = rand(size, 3), ds0 = rand(5, 4);
  const x = gpu.tensor(shape, x0),
    s = gpu.tensor([5], s0),
    dy = gpu.tensor(shape, dy0),
    ds = gpu.tensor([5], ds0);
  const u = gpu.mutableUniform(20);
  gpu.device.queue.writeBuffer(u, 0, noiseInjectParams(shape, seed, row0));
  gpu.run((rec) => {
    noiseInjectForward(rec, x, s, u);
    noiseInjectBackward(rec, dy, ds, u);
  });
  assertClose(await gpu.read(x), noiseInjectRef(x0, s0, shape, seed, row0), { atol: 2e-5, rtol: 1e-5 }, "y");
  const g = noiseInjectGradRef(dy0, shape, seed, row0);
  assertClose(
    await gpu.read(ds),
    Float64Array.from(g, (v, k) => v + ds0[k]),
    { atol: 1e-4, rtol: 1e-4 },
    "ds",
  );
  // the map is shared by the channels and differs between images
  const y = noiseInjectRef(new Float64Array(size), [1, 1, 1, 1, 1], shape, seed, row0);
  assertEquals(y[0], y[42], "channel 0 and 1 of image 0 see the same map");
  assert(y[0] !== y[210], "image 1 gets another map");
  // image n with row0 = r is image n + 1 with row0 = r - 1: the row names the map
  const shifted = noiseInjectRef(new Float64Array(size), [1, 1, 1, 1, 1], shape, seed, row0 - 1);
  assertEquals(shifted.slice(210, 420), y.slice(0, 210));
});

/** Images of a Generator with batch `batch` drawn through sampleWith (what GeneratorSampler does). */
function draw(gpu: Gpu, g: Generator, L: number, batch: number, labels: Uint8Array, seed: number) {
  const cfg = g.cfg;
  const zy = gpu.tensor([batch, cfg.latentDim + L]), cond = gpu.tensor([batch, condDim(cfg, L)]);
  return sampleWith(gpu, cfg, L, g.pass(batch), zy, cond, labels, seed);
}

Deno.test("gNoise: zero strengths draw the generator without noise; then batch-independent and seeded", async () => {
  const gpu = await testGpu();
  const { data, cfg } = quickSetup();
  const L = data.labelNames.length, M = 7;
  const labels = new Uint8Array(M * L);
  for (let i = 0; i < M; i++) labels[i * L + (i % L)] = 1;
  const plain = new Generator(gpu, { ...cfg, gNoise: false }, L);
  const noisy = new Generator(gpu, { ...cfg, gNoise: true }, L);
  const strengths = noisy.weights.store.params.filter((p) => p.name.endsWith(".noise"));
  assertEquals(strengths.length, 1 + 2 * (cfg.gChannels.length - 1), "one after every conv");
  assertEquals(await draw(gpu, noisy, L, 4, labels, 9), await draw(gpu, plain, L, 4, labels, 9));
  for (const p of strengths) gpu.write(p.value, rand(p.shape[0], p.shape[0], 0.5, 1.5));
  const a = await draw(gpu, noisy, L, 3, labels, 9), b = await draw(gpu, noisy, L, 5, labels, 9);
  assertClose(a, b, { atol: 1e-5, rtol: 1e-5 }, "batch 3 vs 5");
  assertEquals(await draw(gpu, noisy, L, 3, labels, 9), a, "same seed, same images");
  const off = await draw(gpu, plain, L, 3, labels, 9), other = await draw(gpu, noisy, L, 3, labels, 10);
  assert(a.some((v, i) => Math.abs(v - off[i]) > 1e-3), "the noise changes the images");
  assert(other.some((v, i) => Math.abs(v - a[i]) > 1e-3), "another seed, other images");
});

Deno.test("gNoise: a training step moves every strength; the config checks the field", async () => {
  const gpu = await testGpu();
  const { data, cfg } = quickSetup();
  const tr = new GanTrainer(gpu, cfg, data);
  tr.trainStep();
  for (const p of tr.g.weights.store.params.filter((q) => q.name.endsWith(".noise"))) {
    const v = await gpu.read(p.value);
    assert(v.every((x) => x !== 0 && Number.isFinite(x)), `${p.name}: ${Array.from(v)}`);
  }
  assertEquals(resolveGanConfig({}).gNoise, true, "on in tiny");
  assertEquals(resolveGanConfig({}, "small64").gNoise, false, "off where it was not measured");
  assertThrows(() => resolveGanConfig({ gNoise: 1 }), Error, /"gNoise"/);
  assertThrows(
    () => resolveGanConfig({ model: "progressive", gNoise: true }),
    Error,
    /"gNoise".*progressive/,
  );
});
