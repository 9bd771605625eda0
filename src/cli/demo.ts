/**
 * `deno task demo [--out DIR] [--preset tiny|paper] [--data phantom|PATH] [--gan-minutes M]
 *   [--classifier-minutes M]`
 *
 * The main job on the built-in default data: generates the head-CT phantom, trains the GAN (`tiny`,
 * 32 px), exports the synthetic set (one image per real label vector), trains the real→real and
 * synthetic→real classifiers, computes utility, fidelity and privacy, writes results.json and a
 * self-contained report.html, and prints where they are with the headline numbers. Each stage is the
 * ordinary CLI (train, evaluate, report) in a child process, so each shows its own progress bar; the run
 * folder is an ordinary run folder, and a killed demo resumes where it stopped when started again.
 * `--preset paper --data PATH` runs the same on real data (e.g. ../shared/data/chestxray14-64px) with
 * the paper-sized models and no time limits unless given.
 */
import "./_xdg.ts";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { exists, readJson, runPaths } from "./_run_dir.ts";
import type { Results } from "../report/results.ts";

const USAGE = `usage: deno task demo [--out DIR] [--preset tiny|paper] [--data phantom|PATH] [--size PX]
  [--gan-minutes M] [--classifier-minutes M] [--fresh]`;

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: "runs/demo" },
    preset: { type: "string", default: "tiny" },
    data: { type: "string", default: "phantom" },
    size: { type: "string" },
    "gan-minutes": { type: "string" },
    "classifier-minutes": { type: "string" },
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
const ganMinutes = a["gan-minutes"] ?? (tiny ? "4" : undefined);
// The classifiers' time limit now ends an epoch early (it used to overshoot by up to an epoch: 1.5 min ran
// 100-108 s), so 1.6 min keeps the stage's total as it was while every second trains.
const clsMinutes = a["classifier-minutes"] ?? (tiny ? "1.6" : undefined);
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

if (a.fresh) await Deno.remove(dir, { recursive: true }).catch(() => {});
const started = await exists(paths.config);
const ganArgs = started
  ? ["--out", dir, "--resume"]
  : ["--config", tiny ? "tiny" : `paper${size}`, "--data", a.data!, "--out", dir];
if (ganMinutes) ganArgs.push("--minutes", ganMinutes);
if (!(await exists(join(dir, "generator.ckpt")))) {
  await stage("1/3 train the GAN", "./train.ts", ganArgs);
} else {
  console.log(`== 1/3 train the GAN: done earlier (${join(dir, "generator.ckpt")})`);
}
const evalArgs = ["--run", dir, "--classifier", tiny ? "tiny" : "paper"];
if (clsMinutes) evalArgs.push("--minutes", clsMinutes);
if (!(await exists(join(dir, "results.json")))) {
  await stage(
    "2/3 synthetic export, real vs synthetic classifiers, fidelity, privacy",
    "./evaluate.ts",
    evalArgs,
  );
}
await stage("3/3 report", "./report.ts", ["--run", dir]);

const r = await readJson(join(dir, "results.json")) as Results;
const f = (x: number | null | undefined, d = 3) => (x == null ? "undefined" : x.toFixed(d));
const u = r.utility;
console.log(`
medsynth demo done in ${((performance.now() - t0) / 60000).toFixed(1)} min
  report:   ${join(dir, "report.html")}
  results:  ${join(dir, "results.json")}
  synthetic dataset: ${join(dir, "synthetic")}
  mean AUROC trained on real (TRTR):      ${f(u.trtr.mean)}
  mean AUROC trained on synthetic (TSTR): ${f(u.tstr.mean)}
  gap TRTR - TSTR: ${f(u.gap.gap)} (95% CI ${f(u.gap.lo)} to ${f(u.gap.hi)}, patient bootstrap)
  Fréchet distance (classifier features): ${f(r.fidelity?.frechetDistance, 4)}
  memorisation rate (features / pixels): ${f(r.privacy?.features.memorisation.rate)} / ${
  f(r.privacy?.pixels.memorisation.rate)
} (chance ${f(r.privacy?.pixels.memorisation.expected, 2)})
  membership-inference AUC (pixels): ${f(r.privacy?.pixels.membershipInference.auc)}`);
