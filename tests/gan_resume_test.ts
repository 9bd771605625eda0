/**
 * Resume is exact: a `train` process killed with SIGKILL right after its first checkpoint and resumed with
 * --resume ends with bitwise the same state (weights, Adam moments, EMA, spectral-norm vectors, RNG,
 * augmentation p) as an uninterrupted run with the same seed on the same adapter, with the label-fidelity
 * probe measuring inside the loop. Also: SIGTERM stops a run with exit code 130 and a usable checkpoint.
 */
import { join } from "node:path";
import { decodeCheckpoint } from "../src/train/checkpoint.ts";
import { assert, assertEquals } from "./_assert.ts";
import { testGpu } from "./_util.ts";

const TRAIN = new URL("../src/cli/train.ts", import.meta.url).pathname;
const BATCH = 8, STEPS = 14, IMAGES = BATCH * STEPS;

const CONFIG = {
  preset: "tiny",
  resolution: 16,
  gChannels: [16, 8, 8],
  dChannels: [16, 8, 8],
  latentDim: 8,
  dFeatures: 16,
  batchSize: BATCH,
  images: IMAGES,
  logEvery: 3,
  checkpointEvery: 4 * BATCH,
  keepCheckpoints: 10,
  sampleEvery: 0,
  sampleRows: 3,
  sampleColumns: 2,
  augment: { adaptive: true, adaSpeedImages: 500 },
  // the label-fidelity probe runs inside the training loop: it must not change the trajectory
  labelFidelity: { every: 4 * BATCH, classifier: "tiny", classifierImages: 48 },
};

function trainCmd(args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TRAIN, "--quiet", ...args],
    env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
    stdout: "piped",
    stderr: "piped",
  });
}

async function run(args: string[]): Promise<{ code: number; err: string }> {
  const out = await trainCmd(args).output();
  return { code: out.code, err: new TextDecoder().decode(out.stderr) };
}

async function checkpoints(dir: string): Promise<string[]> {
  try {
    const names: string[] = [];
    for await (const e of Deno.readDir(join(dir, "checkpoints"))) {
      if (e.name.endsWith(".ckpt")) names.push(e.name);
    }
    return names.sort();
  } catch {
    return [];
  }
}

/** Starts a run, sends `signal` as soon as its first checkpoint exists; returns the exit code. */
async function interrupted(dir: string, cfgPath: string, signal: Deno.Signal): Promise<number> {
  const child = trainCmd(["--config", cfgPath, "--data", "phantom:120", "--out", dir]).spawn();
  const t0 = Date.now();
  while ((await checkpoints(dir)).length === 0) {
    if (Date.now() - t0 > 240_000) {
      child.kill("SIGKILL");
      throw new Error("no checkpoint after 240 s");
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill(signal);
  const st = await child.status;
  await child.stdout.cancel();
  await child.stderr.cancel();
  return st.code;
}

async function finalState(dir: string) {
  const names = await checkpoints(dir);
  const last = names[names.length - 1];
  assertEquals(last, `ckpt_${String(IMAGES).padStart(12, "0")}.ckpt`, `final checkpoint of ${dir}`);
  return decodeCheckpoint(await Deno.readFile(join(dir, "checkpoints", last)), last);
}

function assertSameState(
  a: Awaited<ReturnType<typeof finalState>>,
  b: Awaited<ReturnType<typeof finalState>>,
) {
  for (const k of ["step", "imagesSeen", "rng", "augP", "adamG", "adamD"]) {
    assertEquals(b.meta[k], a.meta[k], `meta.${k}`);
  }
  assertEquals([...b.arrays.keys()].sort(), [...a.arrays.keys()].sort());
  for (const [k, v] of a.arrays) {
    const w = b.arrays.get(k)!;
    const diff = v.findIndex((x, i) => !Object.is(x, w[i]));
    assert(diff < 0, `array ${k} differs at [${diff}]: ${v[diff]} vs ${w[diff]}`);
  }
}

Deno.test("train killed (SIGKILL) after its first checkpoint and resumed ends bitwise equal to an uninterrupted run", async () => {
  await testGpu(); // fail (not skip) without an adapter
  const tmp = await Deno.makeTempDir({ prefix: "gan_resume_" });
  try {
    const cfgPath = join(tmp, "config.json");
    await Deno.writeTextFile(cfgPath, JSON.stringify(CONFIG));
    const full = await run(["--config", cfgPath, "--data", "phantom:120", "--out", join(tmp, "full")]);
    assertEquals(full.code, 0, full.err);
    const killedDir = join(tmp, "killed");
    const code = await interrupted(killedDir, cfgPath, "SIGKILL");
    assert(code !== 0, "the killed run should not exit cleanly");
    const left = await checkpoints(killedDir);
    assert(left.length >= 1, "a checkpoint survives the kill");
    assert(
      !left.includes(`ckpt_${String(IMAGES).padStart(12, "0")}.ckpt`),
      `the kill should come before the end of the run (checkpoints: ${left.join(", ")})`,
    );
    const resumed = await run(["--out", killedDir, "--resume"]);
    assertEquals(resumed.code, 0, resumed.err);
    assertSameState(await finalState(join(tmp, "full")), await finalState(killedDir));
    // the stand-alone generator of both runs is the same too
    const ga = await Deno.readFile(join(tmp, "full", "generator.ckpt"));
    const gb = await Deno.readFile(join(killedDir, "generator.ckpt"));
    assertEquals(decodeCheckpoint(gb).arrays, decodeCheckpoint(ga).arrays);
    const fidelity = (await Deno.readTextFile(join(tmp, "full", "metrics.jsonl"))).split("\n")
      .filter((l) => l.includes('"labelFidelity"')).map((l) => JSON.parse(l));
    assertEquals(
      fidelity.map((f) => f.imagesSeen),
      [32, 64, 96, IMAGES],
      "label fidelity every 32 images and at the end",
    );
    for (const f of fidelity) assertEquals(f.perLabel.length, 6);

    // SIGTERM: a clean stop (exit 130) with a checkpoint at the stop, and the resumed run ends the same
    const termDir = join(tmp, "term");
    assertEquals(await interrupted(termDir, cfgPath, "SIGTERM"), 130);
    assertEquals((await run(["--out", termDir, "--resume"])).code, 0);
    assertSameState(await finalState(join(tmp, "full")), await finalState(termDir));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
