/**
 * The sweeps' configs and their expansion into cells (per preset and dataset), the subset a run's
 * data.json carries (loadSplitData applies it), the train CLI's subset flags, and the job files
 * (`--emit slurm`, `--emit k8s`, the YAML parsed back). No GPU work here: the runs are in
 * experiment_test.ts.
 */
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { expandCells, type ExperimentConfig, fitChannels } from "../src/experiments/config.ts";
import { EXPERIMENT_PRESETS } from "../src/experiments/config.ts";
import { STUDY_GRIDS } from "../src/experiments/presets.ts";
import { config as resolution } from "../experiments/resolution.ts";
import { config as combinations } from "../experiments/label_combinations.ts";
import { config as samples } from "../experiments/samples_per_combination.ts";
import { resolveGanConfig } from "../src/models/config.ts";
import { comboCounts } from "../src/data/subset.ts";
import { loadSplitData } from "../src/cli/_run_dir.ts";
import { trainedSeconds } from "../src/cli/experiment.ts";
import { assert, assertEquals } from "./_assert.ts";

const EXPERIMENT = new URL("../src/cli/experiment.ts", import.meta.url).pathname;
const TRAIN = new URL("../src/cli/train.ts", import.meta.url).pathname;
const CHEST = new URL("../../shared/data/chestxray14-64px/", import.meta.url).pathname;

async function cli(script: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", script, ...args] }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

Deno.test("experiment grids: the study's values per dataset for the paper preset", () => {
  assertEquals(expandCells(resolution("paper", "brain")).map((c) => c.resolution), [32, 64, 128]);
  assertEquals(expandCells(combinations("paper", "chest")).map((c) => c.subset!.topK), [20, 15, 10, 6, 4, 2]);
  assertEquals(expandCells(combinations("paper", "brain")).map((c) => c.subset!.topK), [10, 8, 6, 4, 2]);
  const sc = expandCells(samples("paper", "chest")), sb = expandCells(samples("paper", "brain"));
  assertEquals([sc[0].value, sc.at(-1)!.value], [5950, 200]);
  assertEquals([sb[0].value, sb.at(-1)!.value], [5400, 100]);
  for (const cells of [sc, sb, expandCells(combinations("paper", "chest"))]) {
    // class and sample sweeps at 32 px, the study's rare-combination threshold in every cell
    assert(cells.every((c) => c.resolution === 32), "32 px");
    assert(cells.every((c) => c.subset!.minCount === STUDY_GRIDS.minCount[cells === sb ? "brain" : "chest"]));
  }
  // per-combination values fall, and each cell keeps the sweep's fixed top-k
  assert(sc.every((c, i) => i === 0 || c.value < sc[i - 1].value), "descending");
  assert(sc.every((c) => c.subset!.perCombo === c.value && c.subset!.topK === 6), "subset of the cell");
  // the paper GAN follows the resolution: paper32 / paper64 / paper128 (three CT windows at 128)
  for (const c of expandCells(resolution("paper", "brain"))) {
    assertEquals(c.ganConfig.preset, `paper${c.resolution}`);
    const g = resolveGanConfig(structuredClone(c.ganConfig));
    assertEquals([g.resolution, g.imageChannels, g.images], [
      c.resolution,
      c.resolution >= 128 ? 3 : 1,
      12e6,
    ]);
    assertEquals(c.classifier.preset, "paper");
  }
});

Deno.test("experiment grids: smoke and cpu presets are small, resolvable and uniquely named", () => {
  for (const preset of EXPERIMENT_PRESETS) {
    for (const make of [resolution, combinations, samples]) {
      const cfg = make(preset, "brain");
      const cells = expandCells(cfg);
      assertEquals(cells.length, cfg.values.length * cfg.seeds.length);
      assertEquals(cells.map((c) => c.index), cells.map((_, i) => i));
      assertEquals(new Set(cells.map((c) => c.slug)).size, cells.length, "unique slugs");
      for (const c of cells) {
        // every cell's GAN config resolves (channel lists fitted to the cell's resolution)
        const g = resolveGanConfig(structuredClone(c.ganConfig));
        assertEquals(g.resolution, c.resolution);
        assertEquals(g.gChannels.length, Math.log2(c.resolution) - 1);
        assertEquals(g.seed, c.seed);
        if (c.subset) assertEquals(c.subset.seed, c.seed);
      }
      if (preset === "smoke") {
        assert(cells.length <= 3, `${cfg.name}: smoke has ${cells.length} cells`);
        assert(cfg.data === "phantom:400" && (cfg.gan.images ?? Infinity) <= 512, "smoke is tiny");
        assertEquals(cfg.classifier.epochs, 1);
      }
      if (preset === "cpu") {
        assert(cells.length >= 3 && cells.length <= 5, `${cfg.name}: cpu has ${cells.length} cells`);
        // image budgets, not minutes: a cell's result must not depend on the machine's load
        assertEquals([cfg.data, cfg.gan.preset, cfg.gan.minutes, cfg.classifier.minutes], [
          "phantom",
          "tiny",
          null,
          null,
        ]);
        assert(cfg.gan.images !== null && cfg.gan.images <= 6000, "GAN image budget");
        assert(cfg.classifier.images != null && cfg.classifier.images <= 10_000, "classifier image budget");
      }
    }
  }
  assertEquals(expandCells(resolution("cpu", "brain")).map((c) => c.ganConfig.gChannels ?? null), [
    null,
    [64, 32, 16, 8, 8],
    [64, 32, 16, 8, 8, 8],
  ]);
  assertEquals(fitChannels([16, 8, 8], 32), [16, 8, 8, 8]);
  assertEquals(fitChannels([64, 32, 16, 8], 16), [64, 32, 16]);
});

Deno.test("experiment config validation names the field", () => {
  const bad = (edit: (c: ExperimentConfig) => void, field: string) => {
    const c = combinations("smoke", "brain");
    edit(c);
    let msg = "";
    try {
      expandCells(c);
    } catch (e) {
      msg = (e as Error).message;
    }
    assert(msg.includes(field), `expected an error naming ${field}, got "${msg}"`);
  };
  bad((c) => (c.values = []), "values");
  bad((c) => (c.values = [4, 4]), "duplicates");
  bad((c) => (c.resolution = 48), "resolution");
  bad((c) => (c.gan.preset = "huge"), "gan.preset");
  bad((c) => (c.classifier.resamples = 0), "classifier.resamples");
  bad((c) => (c.subset.minCount = -1), "subset.minCount");
});

Deno.test("a run's data.json subset: loadSplitData keeps the top-k combinations and n training images each", async () => {
  const base = { source: "phantom", splitSeed: 3, size: 16, channels: 1 as const };
  const phantom = {
    seed: 1,
    supersample: 1, // the pixels do not matter here: draw fast
    labels: {
      kind: "combos" as const,
      count: 300,
      combos: [
        { findings: [], weight: 0.5 },
        { findings: ["subdural" as const], weight: 0.3 },
        { findings: ["epidural" as const], weight: 0.2 },
      ],
    },
  };
  const full = await loadSplitData({ ...base, phantom });
  const sub = await loadSplitData({ ...base, phantom, subset: { topK: 2, perCombo: 20, seed: 3 } });
  assertEquals(full.train.n + full.valid.n + full.test.n, 300);
  assertEquals(comboCounts(full.train).length, 3);
  // train: exactly 20 of each of the two most frequent combinations
  assertEquals(comboCounts(sub.train).map(([, n]) => n), [20, 20]);
  assertEquals(sub.train.n, 40);
  // valid / test: every image of the kept combinations, none of the dropped one
  const kept = new Set(comboCounts(sub.train).map(([k]) => k));
  for (const s of ["valid", "test"] as const) {
    const want = comboCounts(full[s]).filter(([k]) => kept.has(k)).reduce((a, [, n]) => a + n, 0);
    assertEquals(sub[s].n, want, s);
    assert(sub[s].n < full[s].n, `${s} lost the third combination`);
  }
  // the same spec gives the same images (train, generate and evaluate all call loadSplitData)
  const again = await loadSplitData({ ...base, phantom, subset: { topK: 2, perCombo: 20, seed: 3 } });
  assertEquals(Array.from(again.train.images.subarray(0, 64)), Array.from(sub.train.images.subarray(0, 64)));
  assertEquals(again.train.patientIds, sub.train.patientIds);
  // an impossible subset is a clear error naming data.json
  let msg = "";
  try {
    await loadSplitData({ ...base, phantom, subset: { topK: 2, perCombo: 1000 } });
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(msg.includes("data.json subset") && msg.includes("perCombo=1000"), msg);
});

Deno.test("train --top-k/--per-combo/--min-count: validated before the run folder is written", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "medsynth_train_flags_" });
  try {
    const r = await cli(TRAIN, [
      "--config",
      "tiny",
      "--data",
      "phantom:100",
      "--out",
      tmp + "/run",
      "--top-k",
      "0",
    ]);
    assertEquals(r.code, 1);
    assert(r.err.includes("--top-k must be an integer >= 1"), r.err);
    let written = true;
    await Deno.stat(join(tmp, "run", "config.json")).catch(() => (written = false));
    assertEquals(written, false);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("experiment --emit k8s / slurm / --list: job files with one task per cell", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "medsynth_emit_" });
  try {
    const out = join(tmp, "sweep");
    let r = await cli(EXPERIMENT, [
      "label_combinations",
      "--preset",
      "cpu",
      "--out",
      out,
      "--emit",
      "k8s",
      "--parallelism",
      "2",
      "--pvc",
      "my-claim",
    ]);
    assertEquals(r.code, 0, r.err);
    const job = parseYaml(await Deno.readTextFile(join(out, "job.yaml")));
    assertEquals([job.apiVersion, job.kind], ["batch/v1", "Job"]);
    assertEquals([job.spec.completionMode, job.spec.completions, job.spec.parallelism], ["Indexed", 5, 2]);
    const pod = job.spec.template.spec;
    assertEquals(pod.restartPolicy, "Never");
    const c = pod.containers[0];
    const cmd = [...c.command, ...c.args].join(" ");
    assert(cmd.includes('--cell "$JOB_COMPLETION_INDEX"'), cmd);
    assert(cmd.includes(`deno task experiment ${join(out, "experiment.json")} --out ${out}`), cmd);
    assertEquals(c.volumeMounts[0].mountPath, out);
    assertEquals(pod.volumes[0].name, c.volumeMounts[0].name);
    assertEquals(pod.volumes[0].persistentVolumeClaim.claimName, "my-claim");
    assert(/^[a-z0-9-]+$/.test(job.metadata.name), `DNS-1123 name ${job.metadata.name}`);
    // experiment.json is the resolved config the tasks read back
    const exp = JSON.parse(await Deno.readTextFile(join(out, "experiment.json"))) as ExperimentConfig;
    assertEquals([exp.name, exp.preset, exp.values], ["label_combinations", "cpu", [10, 8, 6, 4, 2]]);

    r = await cli(EXPERIMENT, ["label_combinations", "--preset", "cpu", "--out", out, "--emit", "slurm"]);
    assertEquals(r.code, 0, r.err);
    const sb = await Deno.readTextFile(join(out, "job.sbatch"));
    assert(sb.startsWith("#!/bin/bash\n") && sb.includes("#SBATCH --array=0-4\n"), sb);
    assert(/--cell "\$SLURM_ARRAY_TASK_ID"$/m.test(sb), "task command");
    assert(sb.includes("--merge"), "merge note");

    // another config on the same folder is refused
    r = await cli(EXPERIMENT, ["label_combinations", "--preset", "smoke", "--out", out, "--merge"]);
    assertEquals(r.code, 1);
    assert(r.err.includes("holds another experiment config"), r.err);

    // --list; chest grids follow a ChestX-ray14 CSV
    r = await cli(EXPERIMENT, ["label_combinations", "--preset", "paper", "--data", CHEST, "--list"]);
    assertEquals(r.code, 0, r.err);
    assert(r.out.includes("chest") && r.out.includes("topK=20") && r.out.includes("minCount=256"), r.out);
    assertEquals(r.out.trim().split("\n").length, 1 + 6);
    r = await cli(EXPERIMENT, ["label_combinations", "--dataset", "chest", "--list"]);
    assertEquals(r.code, 1);
    assert(r.err.includes("needs --data"), r.err);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("trainedSeconds sums the training time of resumed segments", () => {
  const lines = [
    { step: 1, time: 10 },
    { step: 2, time: 25 },
    { event: "stopped", signal: "SIGTERM" },
    { event: "resume", step: 2 },
    { step: 3, time: 5 },
    { event: "done", time: 7.5 },
  ];
  assertEquals(trainedSeconds(lines.map((l) => JSON.stringify(l)).join("\n") + "\nnot json\n"), 32.5);
  assertEquals(trainedSeconds(""), 0);
});
