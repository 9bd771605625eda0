/**
 * The sweep runner end to end on the `smoke` preset (a 400-slice phantom at 16 px, a GAN shown 256 images,
 * one classifier epoch): the array-job script's task command run for both cells of a sweep, the merge,
 * a second run that skips every complete cell; a cell with an impossible subset that fails alone; and a
 * half-trained cell that resumes from its checkpoint. Each cell is a real train + evaluate run (GPU).
 */
import { dirname, join } from "node:path";
import type { ExperimentConfig } from "../src/experiments/config.ts";
import { parseSweepResults } from "../src/experiments/results.ts";
import { parseResults } from "../src/report/results.ts";
import { config as samples } from "../experiments/samples_per_combination.ts";
import { config as learningCurve } from "../experiments/learning_curve.ts";
import { decodeCheckpoint } from "../src/train/checkpoint.ts";
import { assert, assertEquals } from "./_assert.ts";
import { testGpu } from "./_util.ts";

const EXPERIMENT = new URL("../src/cli/experiment.ts", import.meta.url).pathname;

interface Out {
  code: number;
  out: string;
  err: string;
}

async function experiment(args: string[]): Promise<Out> {
  const r = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", EXPERIMENT, ...args] }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

const readJson = async (p: string) => JSON.parse(await Deno.readTextFile(p));
const mtime = async (p: string) => (await Deno.stat(p)).mtime!.getTime();
const existsSync = (p: string) => {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
};

Deno.test("experiment: sbatch task command per cell, merge, and a rerun that skips complete cells", async () => {
  await testGpu();
  const tmp = await Deno.makeTempDir({ prefix: "medsynth_sweep_" });
  try {
    const out = join(tmp, "label_combinations");
    let r = await experiment(["label_combinations", "--preset", "smoke", "--out", out, "--emit", "slurm"]);
    assertEquals(r.code, 0, r.err);
    const script = await Deno.readTextFile(join(out, "job.sbatch"));
    assert(script.includes("#SBATCH --array=0-1\n"), script);
    // the per-task command, run as slurm would: from the project root with the task id set
    const task = script.split("\n").find((l) => l.endsWith('--cell "$SLURM_ARRAY_TASK_ID"'));
    assert(task !== undefined && task.startsWith("deno task experiment "), `no task command in\n${script}`);
    const cd = script.split("\n").find((l) => l.startsWith("cd "));
    assert(cd !== undefined, "the script changes to the project root");
    for (const id of ["0", "1"]) {
      const b = await new Deno.Command("bash", {
        args: ["-euo", "pipefail", "-c", `${cd}\n${task}`],
        env: {
          SLURM_ARRAY_TASK_ID: id,
          PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}`,
        },
      }).output();
      assertEquals(b.code, 0, new TextDecoder().decode(b.stderr));
    }
    // --cell runs do not merge; --merge does
    assert(!existsSync(join(out, "results.json")), "no merge after --cell");
    r = await experiment(["label_combinations", "--preset", "smoke", "--out", out, "--merge"]);
    assertEquals(r.code, 0, r.err);
    const m = parseSweepResults(await readJson(join(out, "results.json")));
    assertEquals(m.counts, { complete: 2, failed: 0, partial: 0, pending: 0 });
    assertEquals([m.name, m.axis], ["label_combinations", "topK"]);
    assertEquals(m.cells.map((c) => c.value), [4, 2]);
    for (const c of m.cells) {
      assertEquals(c.status, "complete");
      // the subset reached train, generate and evaluate: k combinations in the real and synthetic sets
      assertEquals(c.combinations, c.value, `${c.slug} combinations`);
      const res = parseResults(await readJson(join(out, c.dir, "results.json")));
      assertEquals(res.dataset.synthetic.train.uniqueCombinations, c.value);
      assertEquals(res.dataset.synthetic.train.images, c.images!.train);
      assertEquals((await readJson(join(out, c.dir, "data.json"))).subset, { topK: c.value, seed: 1 });
      assertEquals(c.ganImages, 256);
      for (const v of [c.utility!.trtr, c.utility!.tstr]) {
        assert(v !== null && v >= 0 && v <= 1, `AUROC ${v}`);
      }
      assert(
        c.utility!.gapLo! <= c.utility!.gap! && c.utility!.gap! <= c.utility!.gapHi!,
        "gap inside its CI",
      );
      assert(c.fidelity !== null && Number.isFinite(c.fidelity.frechetDistance), "fidelity");
      assert(
        c.privacy !== null && c.privacy.pixels.miaAuc !== null && c.privacy.pixels.copies !== null,
        "privacy",
      );
    }
    assert(m.cells[0].images!.train > m.cells[1].images!.train, "4 combinations hold more images than 2");
    // the merge also renders the sweep report (one error bar per complete cell) and the summary table
    const html = await Deno.readTextFile(join(out, "report.html"));
    assertEquals(html.match(/class="errorbar"/g)?.length, 2, "an error bar per cell in report.html");
    const md = await Deno.readTextFile(join(out, "summary.md"));
    for (const c of m.cells) assert(md.includes(`| ${c.value} `), `summary.md row for ${c.value}`);

    // a second full run skips both cells: nothing is retrained or re-evaluated
    const before = await Promise.all(m.cells.flatMap((c) => [
      mtime(join(out, c.dir, "generator.ckpt")),
      mtime(join(out, c.dir, "results.json")),
      Deno.stat(join(out, c.dir, "train.log")).then((s) => s.size),
    ]));
    r = await experiment(["label_combinations", "--preset", "smoke", "--out", out]);
    assertEquals(r.code, 0, r.err);
    assertEquals(r.err.match(/complete earlier, skipped/g)?.length, 2, r.err);
    const after = await Promise.all(m.cells.flatMap((c) => [
      mtime(join(out, c.dir, "generator.ckpt")),
      mtime(join(out, c.dir, "results.json")),
      Deno.stat(join(out, c.dir, "train.log")).then((s) => s.size),
    ]));
    assertEquals(after, before);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("experiment: a failing cell is recorded and the others complete; a half-trained cell resumes", async () => {
  await testGpu();
  const tmp = await Deno.makeTempDir({ prefix: "medsynth_sweep_fail_" });
  try {
    // a custom sweep: perCombo 1000 is impossible on a 400-slice phantom, 10 is fine
    const cfg: ExperimentConfig = { ...samples("smoke", "brain"), name: "isolation", preset: "custom" };
    cfg.values = [1000, 10];
    const cfgPath = join(tmp, "isolation.json");
    await Deno.writeTextFile(cfgPath, JSON.stringify(cfg));
    const out = join(tmp, "sweep");
    let r = await experiment([cfgPath, "--out", out]);
    assertEquals(r.code, 1, `a failed cell makes the exit code non-zero\n${r.err}`);
    const failed = await readJson(join(out, "cells", "0_n1000_s1", "failed.json"));
    assertEquals([failed.index, failed.stage], [0, "train"]);
    assert(String(failed.error).includes("perCombo=1000"), failed.error);
    const cell1 = join(out, "cells", "1_n10_s1");
    assert(existsSync(join(cell1, "results.json")), "the other cell completed");
    const m = parseSweepResults(await readJson(join(out, "results.json")));
    assertEquals([m.counts.complete, m.counts.failed], [1, 1]);
    assert(m.cells[0].error!.includes("perCombo=1000") && m.cells[0].utility === null, "failed row");
    assertEquals(m.cells[1].images!.train, 2 * 10, "topK 2 x perCombo 10");

    // make cell 1 half-done: training stopped after its first checkpoint, never evaluated
    const ckDir = join(cell1, "checkpoints");
    const cks = [...Deno.readDirSync(ckDir)].map((e) => e.name).filter((n) => n.endsWith(".ckpt")).sort();
    assert(cks.length >= 2, `several checkpoints: ${cks}`);
    for (const n of cks.slice(1)) await Deno.remove(join(ckDir, n));
    for (const f of ["generator.ckpt", "results.json"]) await Deno.remove(join(cell1, f));
    const firstImages = Number(/ckpt_(\d+)/.exec(cks[0])![1]);
    assert(firstImages > 0 && firstImages < 256, `first checkpoint at ${firstImages}`);

    r = await experiment([cfgPath, "--out", out, "--cell", "1"]);
    assertEquals(r.code, 0, r.err);
    assert(r.err.includes("resuming the GAN"), r.err);
    const events = (await Deno.readTextFile(join(cell1, "metrics.jsonl"))).trim().split("\n").map((l) =>
      JSON.parse(l)
    ).filter((e) => e.event);
    const resume = events.filter((e) => e.event === "resume");
    assertEquals(resume.length, 1);
    assertEquals(resume[0].imagesSeen, firstImages);
    assertEquals(events.at(-1).event, "done");
    assertEquals(events.at(-1).imagesSeen, 256);
    assert(existsSync(join(cell1, "results.json")), "evaluated after the resume");
    // --cell leaves the other cells alone
    assert(existsSync(join(out, "cells", "0_n1000_s1", "failed.json")), "cell 0 untouched");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("experiment learning_curve: the longer cell continues the shorter one's GAN and ends as a run from scratch", async () => {
  await testGpu();
  const tmp = await Deno.makeTempDir({ prefix: "medsynth_curve_" });
  try {
    const cfg = learningCurve("smoke", "brain");
    assertEquals(cfg.axis, "ganImages");
    assertEquals(cfg.values, [128, 256]);
    assertEquals(learningCurve("cpu", "brain").values, [6000, 25_000, 100_000]);
    const out = join(tmp, "curve");
    const r = await experiment(["learning_curve", "--preset", "smoke", "--out", out]);
    assertEquals(r.code, 0, r.err);
    assert((r.out + r.err).includes("continuing the GAN of cells/0_g128_s1"), r.out + r.err);
    const long = join(out, "cells", "1_g256_s1");
    const events = (await Deno.readTextFile(join(long, "metrics.jsonl"))).trim().split("\n").map((l) =>
      JSON.parse(l)
    ).filter((e) => e.event);
    assertEquals(events.filter((e) => e.event === "resume").map((e) => e.imagesSeen), [128]);
    assertEquals(events.at(-1).imagesSeen, 256);
    // the same GAN trained from scratch for 256 images ends with the same generator
    const scratch = join(tmp, "scratch");
    const t = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../src/cli/train.ts", import.meta.url).pathname,
        "--config",
        join(long, "gan_config.json"),
        "--data",
        cfg.data,
        "--out",
        scratch,
        "--images",
        "256",
        "--quiet",
      ],
    }).output();
    assertEquals(t.code, 0, new TextDecoder().decode(t.stderr));
    const a = decodeCheckpoint(await Deno.readFile(join(long, "generator.ckpt"))).arrays;
    const b = decodeCheckpoint(await Deno.readFile(join(scratch, "generator.ckpt"))).arrays;
    assertEquals(a, b, "continued vs from-scratch generator");
    const m = parseSweepResults(await readJson(join(out, "results.json")));
    assertEquals(m.axisLabel, "GAN training images shown");
    assertEquals(m.cells.map((c) => [c.value, c.status, c.ganImages]), [[128, "complete", 128], [
      256,
      "complete",
      256,
    ]]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
