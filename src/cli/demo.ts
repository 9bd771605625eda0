/**
 * `deno task demo [--out DIR] [--preset tiny|paper] [--data phantom|PATH] [--budget-minutes M]
 *   [--gan-minutes M] [--classifier-images N]`
 *
 * The main job on the built-in default data: generates the head-CT phantom, trains the classifier on the
 * real training images (it measures the GAN's label fidelity while it trains, and is the evaluation's
 * train-on-real arm), trains the GAN (`tiny`, 32 px) for the time the budget leaves, exports the synthetic
 * set (one image per real label vector), trains the same classifier on the synthetic set, computes
 * utility, fidelity and privacy, writes results.json and a self-contained report.html, and prints where
 * they are with the headline numbers. Each stage is the ordinary CLI (train, evaluate, report) in a child
 * process, so each shows its own progress bar; the run folder is an ordinary run folder, and a killed demo
 * resumes where it stopped when started again.
 *
 * Budget (tiny): `--budget-minutes` (10) for the whole demo. The classifiers have image budgets
 * (`--classifier-images`, default the preset's labelFidelity.classifierImages), so their results do not
 * depend on the machine's speed; the GAN gets what is left once the real-trained classifier has been timed:
 * budget - elapsed - (that classifier's time again for the synthetic-trained one + a fixed reserve for
 * generation, metrics and the report). `--gan-minutes` overrides it.
 * `--preset paper --data PATH` runs the same on real data (e.g. ../shared/data/chestxray14-64px) with
 * the paper-sized models and no time limits unless given.
 */
import "./_xdg.ts";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { exists, readJson, runPaths } from "./_run_dir.ts";
import type { Results } from "../report/results.ts";
import { PRESETS } from "../models/config.ts";

/**
 * Seconds the evaluation needs beside the synthetic-trained classifier: generating the export, loading,
 * features, fidelity and privacy metrics, the report, and two process starts (measured from a fresh clone on
 * the idle 2-core llvmpipe machine: ~30 s; the rest is slack for a busier machine).
 */
const EVAL_RESERVE_SECONDS = 60;

const USAGE = `usage: deno task demo [--out DIR] [--preset tiny|paper] [--data phantom|PATH] [--size PX]
  [--budget-minutes M] [--gan-minutes M] [--classifier-images N] [--fresh]`;

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: "runs/demo" },
    preset: { type: "string", default: "tiny" },
    data: { type: "string", default: "phantom" },
    size: { type: "string" },
    "budget-minutes": { type: "string" },
    "gan-minutes": { type: "string" },
    "classifier-images": { type: "string" },
    fresh: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (a.help) {
  console.log(USAGE);
  Deno.exit(0);
}
if (a.preset !== "tiny" && a.preset !== "paper") {
  console.error(`error: --preset must be tiny or paper, got "${a.preset}"\n${USAGE}`);
  Deno.exit(2);
}
const tiny = a.preset === "tiny";
const size = a.size ? Number(a.size) : tiny ? 32 : 64;
if (![32, 64, 128, 256].includes(size)) {
  console.error(`error: --size must be 32, 64, 128 or 256, got ${a.size}`);
  Deno.exit(2);
}
const positive = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n > 0)) {
    console.error(`error: --${flag} must be a number > 0, got "${v}"\n${USAGE}`);
    Deno.exit(2);
  }
  return n;
};
const budgetMinutes = positive(a["budget-minutes"], "budget-minutes") ?? (tiny ? 10 : undefined);
const ganMinutesFlag = positive(a["gan-minutes"], "gan-minutes");
const clsImages = positive(a["classifier-images"], "classifier-images") ??
  (tiny ? PRESETS.tiny.labelFidelity.classifierImages : undefined);
if (clsImages !== undefined && !Number.isInteger(clsImages)) {
  console.error(`error: --classifier-images must be an integer, got ${clsImages}\n${USAGE}`);
  Deno.exit(2);
}
const dir = a.out!;
const paths = runPaths(dir);
const t0 = performance.now();

/** Runs one stage as a child `deno run -A src/cli/<script>`; exits on failure with the stage named. */
async function stage(name: string, script: string, args: string[]): Promise<void> {
  console.log(`\n== ${name} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(script, import.meta.url).pathname, ...args],
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await cmd.output();
  if (code !== 0) {
    console.error(
      `demo: stage "${name}" failed (exit ${code}); fix the error above and run the demo again ` +
        `(finished stages are kept in ${dir}).`,
    );
    Deno.exit(code);
  }
}

/** Seconds the run's real-trained classifier took (its "reference" line in metrics.jsonl), else null. */
async function referenceSeconds(): Promise<number | null> {
  if (!(await exists(paths.metrics))) return null;
  let secs: number | null = null;
  for (const line of (await Deno.readTextFile(paths.metrics)).split("\n")) {
    try {
      const o = JSON.parse(line);
      if (o?.event === "reference" && typeof o.seconds === "number") secs = o.seconds;
    } catch { /* a cut line */ }
  }
  return secs;
}

if (a.fresh) await Deno.remove(dir, { recursive: true }).catch(() => {});
const classifier = tiny ? "tiny" : "paper";
const fidelityArgs = clsImages ? ["--fidelity-every", "2000"] : [];
if (!(await exists(join(dir, "generator.ckpt")))) {
  if (!(await exists(paths.config))) {
    const cfgPath = join(dir, "demo_gan_config.json");
    await Deno.mkdir(dir, { recursive: true });
    // the preset, with the label-fidelity classifier set to the evaluation's, so evaluate reuses it
    const overrides: Record<string, unknown> = { preset: tiny ? "tiny" : `paper${size}` };
    if (clsImages) overrides.labelFidelity = { classifier, classifierImages: clsImages };
    // with a time budget the clock ends the GAN; the cap only matters on a fast GPU (the learning
    // curve's longest cpu point)
    if (budgetMinutes !== undefined && ganMinutesFlag === undefined) overrides.images = 100_000;
    await Deno.writeTextFile(cfgPath, JSON.stringify(overrides));
    await stage("1/4 the classifier on real images (it measures the GAN's label fidelity)", "./train.ts", [
      "--config",
      cfgPath,
      "--data",
      a.data!,
      "--out",
      dir,
      "--prepare",
      ...fidelityArgs,
    ]);
  }
  const ganArgs = ["--out", dir, "--resume"];
  let ganMinutes = ganMinutesFlag;
  if (ganMinutes === undefined && budgetMinutes !== undefined) {
    const ref = (await referenceSeconds()) ?? 120;
    const left = budgetMinutes * 60 - (performance.now() - t0) / 1000 - ref - EVAL_RESERVE_SECONDS;
    ganMinutes = Math.max(1, left / 60);
    console.log(
      `\nThe GAN gets ${ganMinutes.toFixed(1)} of the ${budgetMinutes} minutes: ${
        ((performance.now() - t0) / 60000).toFixed(1)
      } min are spent, the synthetic-trained classifier needs about ${(ref / 60).toFixed(1)} min like the ` +
        `real-trained one, and ${
          (EVAL_RESERVE_SECONDS / 60).toFixed(1)
        } min are kept for export, metrics and report.`,
    );
  }
  if (ganMinutes !== undefined) ganArgs.push("--minutes", String(ganMinutes));
  await stage("2/4 train the GAN", "./train.ts", ganArgs);
} else {
  console.log(`== 1-2/4 train the GAN: done earlier (${join(dir, "generator.ckpt")})`);
}
const evalArgs = ["--run", dir, "--classifier", classifier];
if (clsImages) evalArgs.push("--images", String(clsImages));
if (!(await exists(join(dir, "results.json")))) {
  await stage(
    "3/4 synthetic export, the classifier on synthetic images, fidelity, privacy",
    "./evaluate.ts",
    evalArgs,
  );
}
await stage("4/4 report", "./report.ts", ["--run", dir]);

const r = await readJson(join(dir, "results.json")) as Results;
const f = (x: number | null | undefined, d = 3) => (x == null ? "undefined" : x.toFixed(d));
const u = r.utility;
const lfLast = r.training.labelFidelity?.at(-1);
console.log(`
medsynth demo done in ${((performance.now() - t0) / 60000).toFixed(1)} min
  report:   ${join(dir, "report.html")} (shows real images: keep it with the data)
  to share: ${join(dir, "report_shareable.html")} (no real image, no local path)
  results:  ${join(dir, "results.json")}
  synthetic dataset: ${join(dir, "synthetic")}
  mean AUROC trained on real (TRTR):      ${f(u.trtr.mean)}
  mean AUROC trained on synthetic (TSTR): ${f(u.tstr.mean)}
  gap TRTR - TSTR: ${f(u.gap.gap)} (95% CI ${f(u.gap.lo)} to ${f(u.gap.hi)}, patient bootstrap)
  per label TRTR/TSTR: ${u.perLabel.map((p) => `${p.label} ${f(p.trtr, 2)}/${f(p.tstr, 2)}`).join(", ")}
  label fidelity at the end of GAN training: ${
  f(lfLast?.mean)
} (the real-trained classifier on real images: ${f(lfLast?.realMean)})
  precision / recall (classifier features): ${f(r.fidelity?.prdc?.precision)} / ${f(r.fidelity?.prdc?.recall)}
  Fréchet distance (classifier features): ${f(r.fidelity?.frechetDistance, 4)}
  memorisation rate (features / pixels): ${f(r.privacy?.features.memorisation.rate)} / ${
  f(r.privacy?.pixels.memorisation.rate)
} (chance ${f(r.privacy?.pixels.memorisation.expected, 2)})
  membership-inference AUC (pixels): ${f(r.privacy?.pixels.membershipInference.auc)}`);
