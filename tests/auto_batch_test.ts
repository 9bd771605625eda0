/**
 * `batchSize: "auto"` (chooseAutoBatch, scaleGanBatch): the largest preset-batch x 2^k whose step stays under
 * the target, learning rates by the square-root rule, the preset's batch kept on CPU (fallback) adapters.
 * Fake step-time functions (no clock); one GPU smoke run of the real step timer.
 */
import { PRESETS, resolveGanConfig, scaleGanBatch } from "../src/models/config.ts";
import { chooseAutoBatch, ganStepTimer } from "../src/train/gan.ts";
import { benchGanAutoMedsynth, ganCases } from "../src/bench/gan_cases.ts";
import { quickSetup, TINY_RUN } from "./_gan_setup.ts";
import { join } from "node:path";
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

const TRAIN = new URL("../src/cli/train.ts", import.meta.url).pathname;

function train(dir: string, cfgPath: string, extra: string[] = []): Promise<Deno.CommandOutput> {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      TRAIN,
      "--quiet",
      "--config",
      cfgPath,
      "--data",
      "phantom:60",
      "--out",
      dir,
      ...extra,
    ],
    env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
    stdout: "null",
    stderr: "piped",
  }).output();
}

Deno.test('deno task train with "batchSize": "auto": config.json records the chosen batch, resume keeps it', async () => {
  const gpu = await testGpu(); // fail (not skip) without an adapter
  const fallback = gpu.adapter.isFallbackAdapter;
  const tmp = await Deno.makeTempDir({ prefix: "medsynth_autobatch_" });
  try {
    const cfgPath = join(tmp, "auto.json"), dir = join(tmp, "run");
    await Deno.writeTextFile(
      cfgPath,
      JSON.stringify({ ...TINY_RUN, batchSize: "auto", images: 16, sampleEvery: 0 }),
    );
    const r = await train(dir, cfgPath);
    assert(r.success, new TextDecoder().decode(r.stderr));
    const cfg = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
    assert(
      Number.isInteger(cfg.batchSize) && cfg.batchSize >= PRESETS.tiny.batchSize,
      `batch ${cfg.batchSize}`,
    );
    const ev = (await Deno.readTextFile(join(dir, "metrics.jsonl"))).split("\n").filter((l) =>
      l.includes('"autoBatch"')
    ).map((l) => JSON.parse(l));
    assertEquals(ev.length, 1, "one autoBatch event");
    assertEquals(ev[0].batchSize, cfg.batchSize);
    if (fallback) {
      // a CPU adapter keeps the preset's batch (not the 8 the file would have said) without measuring
      assertEquals(cfg.batchSize, PRESETS.tiny.batchSize);
      assertEquals(ev[0].trials, []);
    } else {
      assert(
        ev[0].trials.length >= 1 && ev[0].trials[0].batch === PRESETS.tiny.batchSize,
        JSON.stringify(ev[0]),
      );
    }
    // a longer resume trains on at the recorded batch without choosing again
    const again = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        TRAIN,
        "--quiet",
        "--out",
        dir,
        "--resume",
        "--images",
        String(16 + 2 * cfg.batchSize),
      ],
      env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
      stdout: "null",
      stderr: "piped",
    }).output();
    assert(again.success, new TextDecoder().decode(again.stderr));
    const after = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
    assertEquals(after.batchSize, cfg.batchSize);
    const events = (await Deno.readTextFile(join(dir, "metrics.jsonl"))).split("\n").filter((l) =>
      l.includes('"autoBatch"')
    );
    assertEquals(events.length, 1, "the resume did not choose again");
    // any other word is refused, naming the field and the one word it accepts
    const badPath = join(tmp, "bad.json");
    await Deno.writeTextFile(badPath, JSON.stringify({ ...TINY_RUN, batchSize: "big" }));
    const bad = await train(join(tmp, "bad"), badPath);
    assert(!bad.success);
    const msg = new TextDecoder().decode(bad.stderr);
    assert(/batchSize/.test(msg) && /"auto"/.test(msg), msg);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("bench gan_step_32_auto: skipped on a CPU adapter, otherwise timed at the batch auto chose", async () => {
  const gpu = await testGpu();
  const c = ganCases(true)[0];
  c.cfg = { ...c.cfg, gChannels: [16, 8, 8, 8], dChannels: [16, 8, 8, 8], batchSize: 8, mbstdGroup: 4 };
  const asCpu = Object.create(gpu, { adapter: { value: { ...gpu.adapter, isFallbackAdapter: true } } });
  const skipped = await benchGanAutoMedsynth(asCpu, c, 3);
  assertEquals(skipped.skipped, "cpu adapter");
  assertEquals(skipped.ms, null);
  // the same device presented as a real GPU: batches are tried from the preset's up, the chosen one timed
  const asGpu = Object.create(gpu, { adapter: { value: { ...gpu.adapter, isFallbackAdapter: false } } });
  const row = await benchGanAutoMedsynth(asGpu, c, 3);
  assertEquals(row.op, "gan_step_32_auto");
  assert(row.ms !== null && row.ms > 0 && row.images_per_s! > 0, JSON.stringify(row));
  assert(/trials 8:/.test(row.note ?? ""), row.note);
  const batch = Number(/batch (\d+)/.exec(row.shape)![1]);
  assert(batch >= 8 && Math.log2(batch / 8) % 1 === 0, row.shape);
});
