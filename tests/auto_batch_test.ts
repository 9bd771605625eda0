/**
 * `batchSize: "auto"` (chooseAutoBatch, scaleGanBatch): the largest preset-batch x 2^k whose step stays under
 * the target, learning rates by the square-root rule, the preset's batch kept on CPU (fallback) adapters.
 * Fake step-time functions (no clock); one GPU smoke run of the real step timer.
 */
import { PRESETS, resolveGanConfig, scaleGanBatch } from "../src/models/config.ts";
import { chooseAutoBatch, ganStepTimer } from "../src/train/gan.ts";
import { quickSetup } from "./_gan_setup.ts";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { testGpu } from "./_util.ts";

/** A launch-bound GPU: a fixed cost per step plus a little per image; records the batches asked for. */
function fakeGpu(fixedMs: number, perImageMs: number) {
  const asked: number[] = [];
  const stepMs = (cfg: { batchSize: number }) => {
    asked.push(cfg.batchSize);
    return Promise.resolve(fixedMs + perImageMs * cfg.batchSize);
  };
  return { stepMs, asked };
}

Deno.test("auto batch: the largest power-of-two multiple of the preset's batch under the step target", async () => {
  const tiny = PRESETS.tiny; // batch 16
  const gpu = fakeGpu(10, 0.05); // 10.8 ms at 16 ... 35.6 ms at 512, 61.2 ms at 1024
  const r = await chooseAutoBatch(tiny, gpu.stepMs, { targetMs: 50, fallbackAdapter: false });
  assertEquals(r.cfg.batchSize, 512);
  assertEquals(gpu.asked, [16, 32, 64, 128, 256, 512, 1024], "doubling stops at the first batch over");
  assertEquals(r.trials.length, 7);
  assert(r.reason.includes("1024"), r.reason);
  // square-root learning-rate rule, EMA half-life kept in images
  const k = 512 / 16;
  assertEquals(r.cfg.lrG, tiny.lrG * Math.sqrt(k));
  assertEquals(r.cfg.lrD, tiny.lrD * Math.sqrt(k));
  assert(Math.abs(r.cfg.emaDecay - tiny.emaDecay ** k) < 1e-12, `ema ${r.cfg.emaDecay}`);
  assertEquals(r.cfg.images, tiny.images, "the schedule in images is kept");
  assertEquals(PRESETS.tiny.batchSize, 16, "the preset itself is not modified");
});

Deno.test("auto batch: CPU adapters keep the preset's batch unmeasured; a slow preset batch is the floor", async () => {
  const tiny = PRESETS.tiny;
  const cpu = fakeGpu(0, 20); // llvmpipe-like: compute-bound, 320 ms at 16
  const kept = await chooseAutoBatch(tiny, cpu.stepMs, { targetMs: 100, fallbackAdapter: true });
  assertEquals(kept.cfg, tiny);
  assertEquals(cpu.asked, [], "nothing measured on a fallback adapter");
  const slow = await chooseAutoBatch(tiny, cpu.stepMs, { targetMs: 100, fallbackAdapter: false });
  assertEquals(slow.cfg.batchSize, 16, "never below the preset's batch");
  assertEquals(cpu.asked, [16]);
  assert(slow.reason.includes("over 100 ms"), slow.reason);
  const capped = await chooseAutoBatch(tiny, fakeGpu(5, 0).stepMs, {
    targetMs: 100,
    maxBatch: 64,
    fallbackAdapter: false,
  });
  assertEquals(capped.cfg.batchSize, 64);
  assert(capped.reason.includes("maxBatch 64"), capped.reason);
});

Deno.test("scaleGanBatch keeps mbstdGroup a divisor and names the field otherwise", () => {
  const cfg = resolveGanConfig({ batchSize: 16, mbstdGroup: 4 }, "tiny");
  assertEquals(scaleGanBatch(cfg, 64).batchSize, 64);
  assertThrows(() => scaleGanBatch(cfg, 18), Error, /mbstdGroup 4/);
});

Deno.test("auto batch: the GPU step timer trains at the asked batch and times a step", async () => {
  const gpu = await testGpu();
  const { data, cfg } = quickSetup();
  const timer = ganStepTimer(gpu, data);
  const ms = await timer(scaleGanBatch(cfg, 16));
  assert(ms > 0 && Number.isFinite(ms), `step ${ms} ms`);
});
