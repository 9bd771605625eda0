/**
 * A run is a function of (config, data, seed, adapter) (issue 14 item 1):
 * - two fresh `deno task train` runs of one config started at the same time (so each loads the other)
 *   end with identical checkpoints, generators and loss logs (a killed and resumed run equals an
 *   uninterrupted one: tests/gan_resume_test.ts);
 * - training does not depend on what pooled GPU buffers held before: every pool tensor handed out
 *   without data is filled with NaN and the result is bitwise the same (a kernel reading such a buffer
 *   before writing it would make a run depend on what ran before it in the process).
 */
import { join } from "node:path";
import { decodeCheckpoint } from "../src/train/checkpoint.ts";
import { GanTrainer } from "../src/train/gan.ts";
import { trainerCheckpoint } from "../src/train/run_state.ts";
import type { Gpu } from "../src/gpu/gpu.ts";
import { quickSetup, TINY_RUN } from "./_gan_setup.ts";
import { assert, assertEquals } from "./_assert.ts";
import { testGpu } from "./_util.ts";

const TRAIN = new URL("../src/cli/train.ts", import.meta.url).pathname;

const CONFIG = {
  ...TINY_RUN,
  sampleEvery: 0,
  images: 8 * 16,
  logEvery: 4,
  checkpointEvery: 32,
  keepCheckpoints: 10,
  augment: { adaptive: true, adaSpeedImages: 500 },
  // the reference classifier trains inside each run first: both runs do GPU work before the GAN
  labelFidelity: { every: 32, classifier: "tiny", classifierImages: 48 },
};

function train(dir: string, cfgPath: string): Promise<Deno.CommandOutput> {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TRAIN, "--quiet", "--config", cfgPath, "--data", "phantom:120", "--out", dir],
    env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
    stdout: "null",
    stderr: "piped",
  }).output();
}

/** The loss rows of metrics.jsonl without their wall-clock fields. */
async function losses(dir: string): Promise<unknown[]> {
  return (await Deno.readTextFile(join(dir, "metrics.jsonl"))).split("\n").filter((l) =>
    l.includes('"dLoss"')
  )
    .map((l) => {
      const { time: _t, imagesPerSec: _r, ...rest } = JSON.parse(l);
      return rest;
    });
}

Deno.test("two fresh train runs of one config started together end bitwise equal", async () => {
  await testGpu(); // fail (not skip) without an adapter
  const tmp = await Deno.makeTempDir({ prefix: "medsynth_repro_" });
  try {
    const cfgPath = join(tmp, "config.json");
    await Deno.writeTextFile(cfgPath, JSON.stringify(CONFIG));
    const [a, b] = await Promise.all([train(join(tmp, "a"), cfgPath), train(join(tmp, "b"), cfgPath)]);
    assert(a.success && b.success, new TextDecoder().decode(a.success ? b.stderr : a.stderr));
    const la = await losses(join(tmp, "a")), lb = await losses(join(tmp, "b"));
    assertEquals(la.length, CONFIG.images / 8 / CONFIG.logEvery);
    assertEquals(lb, la, "the loss logs agree from the first logged step on");
    for (
      const f of [
        "checkpoints/ckpt_000000000064.ckpt",
        "checkpoints/ckpt_000000000128.ckpt",
        "generator.ckpt",
      ]
    ) {
      const ca = decodeCheckpoint(await Deno.readFile(join(tmp, "a", f)), f);
      const cb = decodeCheckpoint(await Deno.readFile(join(tmp, "b", f)), f);
      assertEquals([...cb.arrays.keys()], [...ca.arrays.keys()]);
      for (const [k, v] of ca.arrays) {
        const w = cb.arrays.get(k)!;
        const at = v.findIndex((x, i) => !Object.is(x, w[i]));
        assert(at < 0, `${f}: ${k}[${at}] ${v[at]} vs ${w[at]}`);
      }
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/** Trains 30 steps; with `poison`, every pool tensor handed out without data starts as NaN. */
async function trainedState(gpu: Gpu, poison: boolean) {
  const original = gpu.tensor;
  let poisoned = 0;
  if (poison) {
    gpu.tensor = (shape, data) => {
      const t = original.call(gpu, shape, data);
      if (!data) {
        gpu.write(t, new Float32Array(t.size).fill(NaN));
        poisoned++;
      }
      return t;
    };
  }
  try {
    const { data, cfg } = quickSetup({ augment: { enabled: true, adaptive: true, adaSpeedImages: 500 } });
    const tr = new GanTrainer(gpu, cfg, data);
    for (let s = 0; s < 30; s++) {
      tr.trainStep();
      if (tr.logDue) await tr.readLosses();
    }
    return { ck: await trainerCheckpoint(tr), poisoned };
  } finally {
    gpu.tensor = original;
  }
}

Deno.test("GAN training reads no pooled buffer before writing it (NaN-filled pool, same result)", async () => {
  const gpu = await testGpu();
  const clean = await trainedState(gpu, false);
  const poisoned = await trainedState(gpu, true);
  assert(poisoned.poisoned > 100, `only ${poisoned.poisoned} tensors came from the pool`);
  assertEquals(poisoned.ck.meta.step, clean.ck.meta.step);
  for (const [k, v] of clean.ck.arrays) {
    const w = poisoned.ck.arrays.get(k)!;
    const at = v.findIndex((x, i) => !Object.is(x, w[i]));
    assert(at < 0, `${k}[${at}]: ${v[at]} clean vs ${w[at]} with a poisoned pool`);
  }
});
