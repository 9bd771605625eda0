/**
 * `deno task experiment NAME|CONFIG.json [--preset smoke|cpu|paper] [--data PATH] [--dataset brain|chest]
 *   --out DIR [--list] [--cell I] [--merge] [--emit slurm|k8s ...]`
 *
 * Runs one of the study's sweeps (experiments/resolution.ts, label_combinations.ts,
 * samples_per_combination.ts, or an experiment.json written by an earlier run) as a grid of cells. Cell i
 * is DIR/cells/<i>_<slug>/, an ordinary run folder: the runner calls `deno task train ... --out CELL` and
 * `deno task evaluate --run CELL` as child processes, so a cell can be inspected, re-evaluated or reported
 * (`deno task report --run CELL`) like any run.
 *
 * - DIR/experiment.json (the resolved config) is written first; a later call with another config on the
 *   same DIR is refused.
 * - Cells with results.json are skipped; a cell with a started GAN run resumes it (train --resume, with
 *   what is left of the time limit); a cell that fails gets DIR/cells/<i>_<slug>/failed.json (error,
 *   stage, exit code, log tail) and the sweep goes on; the exit code is 1 when any cell failed. Child
 *   output goes to train.log / evaluate.log in the cell folder (`--verbose`: also to the terminal).
 *   Ctrl-C stops the running child at a checkpoint; the same command resumes.
 * - `--list` prints the cells; `--cell I` runs cell I only (an array-job task); `--merge` writes
 *   DIR/results.json (src/experiments/results.ts, SweepResults), DIR/report.html (plots of the gap and
 *   AUROC vs the swept value) and DIR/summary.md from the cells; a full run merges at
 *   the end.
 * - `--emit slurm` writes DIR/job.sbatch (an array job, one task per cell), `--emit k8s` writes
 *   DIR/job.yaml (an Indexed batch/v1 Job, the sweep folder on a PersistentVolumeClaim).
 *
 * Datasets: the grids follow brain CT (the phantom, RSNA) unless `--dataset chest`, or `--data` names a
 * ChestX-ray14 / CheXpert CSV (told from its format or its label names).
 */
import "./_xdg.ts";
import { parseArgs } from "node:util";
import { basename, join, resolve } from "node:path";
import {
  type Cell,
  type DatasetKind,
  expandCells,
  EXPERIMENT_PRESETS,
  type ExperimentConfig,
  type ExperimentPreset,
  SWEEP_NAMES,
  type SweepName,
  validateExperimentConfig,
} from "../experiments/config.ts";
import { cellResult, type CellStatus, mergeSweep, type SweepResults } from "../experiments/results.ts";
import { parseResults } from "../report/results.ts";
import { sweepReportHtml, sweepSummaryMarkdown } from "../report/sweep_html.ts";
import { config as resolutionConfig } from "../../experiments/resolution.ts";
import { config as combinationsConfig } from "../../experiments/label_combinations.ts";
import { config as samplesConfig } from "../../experiments/samples_per_combination.ts";
import { config as learningCurveConfig } from "../../experiments/learning_curve.ts";
import { writeFileAtomic } from "./_atomic.ts";
import { readLabelTable } from "./_fs_dataset.ts";
import { exists, readJson, runPaths, writeJson } from "./_run_dir.ts";

const USAGE = `usage: deno task experiment NAME|CONFIG.json [--preset smoke|cpu|paper] [--data PATH]
                           [--dataset brain|chest] --out DIR [--list] [--cell I] [--merge] [--quiet] [--verbose]
       deno task experiment NAME ... --out DIR --emit slurm|k8s [--parallelism P] [--pvc NAME]
                           [--image IMAGE] [--workdir DIR]
sweeps: ${SWEEP_NAMES.join(", ")} (default preset cpu, data: the phantom)`;

const SWEEPS: Record<SweepName, (p: ExperimentPreset, d: DatasetKind) => ExperimentConfig> = {
  resolution: resolutionConfig,
  label_combinations: combinationsConfig,
  samples_per_combination: samplesConfig,
  learning_curve: learningCurveConfig,
};

const TRAIN = decodeURIComponent(new URL("./train.ts", import.meta.url).pathname);
const EVALUATE = decodeURIComponent(new URL("./evaluate.ts", import.meta.url).pathname);
/** The project root (where deno.json lives): job scripts run `deno task` from there. */
const PROJECT_ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");

/** What failed.json holds. */
export interface CellFailure {
  /** The cell's index. */
  index: number;
  /** The cell's slug. */
  slug: string;
  /** "train" or "evaluate" (or "setup"). */
  stage: string;
  /** The error, one line. */
  error: string;
  /** Exit code of the child process (null when no child ran). */
  exitCode: number | null;
  /** Last lines of the child's output. */
  logTail: string;
  /** ISO time. */
  time: string;
}

/** The folder of a cell, relative to the sweep folder. */
export function cellDirName(cell: Cell): string {
  return join("cells", `${cell.index}_${cell.slug}`);
}

const CHEST_LABELS = ["Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Pneumothorax", "Edema"];
const BRAIN_LABELS = ["epidural", "intraparenchymal", "intraventricular", "subarachnoid", "subdural"];

/** Which study grids a data path follows: from its label CSV's format, else its label names. */
async function detectDataset(data: string): Promise<DatasetKind> {
  if (/^phantom(:\d+)?$/.test(data)) return "brain";
  const { table, csvPath } = await readLabelTable(data);
  if (table.format === "chestxray14" || table.format === "chexpert") return "chest";
  if (table.format === "rsna") return "brain";
  const names = table.labelNames.map((n) => n.toLowerCase());
  if (CHEST_LABELS.some((l) => names.includes(l.toLowerCase()))) return "chest";
  if (BRAIN_LABELS.some((l) => names.includes(l))) return "brain";
  throw new Error(
    `${csvPath}: cannot tell chest from brain from the labels (${table.labelNames.join(", ")}); ` +
      `give --dataset brain or --dataset chest`,
  );
}

/** The experiment config of NAME (a sweep or a JSON file) with the command line's data and preset. */
async function resolveExperiment(
  name: string,
  opts: { preset?: string; data?: string; dataset?: string },
): Promise<ExperimentConfig> {
  if (opts.dataset !== undefined && opts.dataset !== "brain" && opts.dataset !== "chest") {
    throw new Error(`--dataset must be brain or chest, got ${opts.dataset}`);
  }
  const data = opts.data === undefined || /^phantom(:\d+)?$/.test(opts.data) ? opts.data : resolve(opts.data);
  if (name.endsWith(".json")) {
    if (opts.preset) throw new Error(`--preset does not apply to a config file (${name})`);
    const v = await readJson(name) as ExperimentConfig;
    if (typeof v !== "object" || v === null) {
      throw new Error(`${name}: must hold an experiment config object`);
    }
    const cfg = { ...v, ...(data ? { data } : {}), ...(opts.dataset ? { dataset: opts.dataset } : {}) };
    try {
      return validateExperimentConfig(cfg as ExperimentConfig);
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  }
  if (!(name in SWEEPS)) {
    throw new Error(`unknown experiment "${name}": use one of ${SWEEP_NAMES.join(", ")} or a .json config`);
  }
  const preset = (opts.preset ?? "cpu") as ExperimentPreset;
  if (!EXPERIMENT_PRESETS.includes(preset)) {
    throw new Error(`--preset must be one of ${EXPERIMENT_PRESETS.join(", ")}, got ${opts.preset}`);
  }
  const dataset = (opts.dataset as DatasetKind | undefined) ?? (data ? await detectDataset(data) : "brain");
  const cfg = SWEEPS[name as SweepName](preset, dataset);
  if (data) cfg.data = data;
  else if (dataset === "chest") {
    throw new Error(`--dataset chest needs --data PATH (a chest radiograph dataset; the phantom is head CT)`);
  }
  return validateExperimentConfig(cfg);
}

/** Seconds of GAN training recorded in a run's metrics.jsonl, summed over its resumed segments. */
export function trainedSeconds(metricsText: string): number {
  let total = 0, seg = 0;
  for (const line of metricsText.split("\n")) {
    if (!line.trim()) continue;
    let r: { event?: string; time?: number };
    try {
      r = JSON.parse(line);
    } catch {
      continue;
    }
    if (r.event === "resume") {
      total += seg;
      seg = 0;
    } else if (typeof r.time === "number" && Number.isFinite(r.time)) seg = Math.max(seg, r.time);
  }
  return total + seg;
}

/** The signal that asked the sweep to stop (the running child is let finish its checkpoint), or null. */
let stopping: Deno.Signal | null = null;
/** The running child process, for forwarding SIGTERM. */
let current: Deno.ChildProcess | null = null;

/**
 * Ctrl-C reaches the child from the terminal itself (same process group), so SIGINT is only noted here;
 * SIGTERM (a batch system stopping the task, maybe only this process) is passed on to the child once.
 * Either way the sweep stops after the child: train writes a checkpoint first, and the next run resumes.
 */
function installSignalHandlers(): void {
  Deno.addSignalListener("SIGINT", () => {
    if (stopping) Deno.exit(130);
    stopping = "SIGINT";
  });
  Deno.addSignalListener("SIGTERM", () => {
    if (stopping) Deno.exit(143);
    stopping = "SIGTERM";
    try {
      current?.kill("SIGTERM");
    } catch { /* already ended */ }
  });
}

/** A child process's result: exit code and the tail of its output (also written to `logPath`). */
async function runChild(
  script: string,
  args: string[],
  logPath: string,
  echo: boolean,
  env: Record<string, string>,
): Promise<{ code: number; tail: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  current = child;
  const log = await Deno.open(logPath, { write: true, create: true, append: true });
  const enc = new TextEncoder();
  await log.write(enc.encode(`\n$ deno run -A ${basename(script)} ${args.map(shq).join(" ")}\n`));
  let tail = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) {
      await log.write(chunk);
      if (echo) await Deno.stderr.write(chunk);
      tail = (tail + dec.decode(chunk, { stream: true })).slice(-4000);
    }
  };
  await Promise.all([pump(child.stdout), pump(child.stderr)]);
  const { code } = await child.status;
  current = null;
  log.close();
  return { code, tail: tail.trim() };
}

/** Status of a cell from its folder. */
async function cellStatus(dir: string): Promise<CellStatus> {
  if (await exists(join(dir, "results.json"))) return "complete";
  if (await exists(join(dir, "failed.json"))) return "failed";
  if (await exists(runPaths(dir).config)) return "partial";
  return "pending";
}

/** The arguments of `train` that start a cell's run. */
function trainArgs(cell: Cell, dir: string): string[] {
  const args = ["--config", join(dir, "gan_config.json"), "--data", cell.data, "--out", dir, "--quiet"];
  if (cell.subset?.topK !== undefined) args.push("--top-k", String(cell.subset.topK));
  if (cell.subset?.perCombo !== undefined) args.push("--per-combo", String(cell.subset.perCombo));
  if (cell.subset?.minCount !== undefined) args.push("--min-count", String(cell.subset.minCount));
  return args;
}

/**
 * A learning-curve cell (axis ganImages) starts as a copy of the same seed's longest shorter cell that has
 * finished its GAN (config, data, metrics, checkpoints, samples), and resumes from its final checkpoint to
 * its own budget: the same trajectory as a run from scratch, without training the shared part again.
 * Returns the donor's folder name, or null when there is none (the cell trains from the start).
 */
async function continueFrom(
  cfg: ExperimentConfig,
  cell: Cell,
  root: string,
  dir: string,
): Promise<string | null> {
  const donors = expandCells(cfg).filter((c) => c.seed === cell.seed && c.value < cell.value)
    .sort((a, b) => b.value - a.value);
  for (const d of donors) {
    const src = join(root, cellDirName(d));
    if (!(await exists(runPaths(src).generator))) continue;
    for (const sub of ["checkpoints", "samples"]) {
      if (!(await exists(join(src, sub)))) continue;
      await Deno.mkdir(join(dir, sub), { recursive: true });
      for await (const e of Deno.readDir(join(src, sub))) {
        if (e.isFile) await Deno.copyFile(join(src, sub, e.name), join(dir, sub, e.name));
      }
    }
    // config.json last: its presence marks the copy as complete (a cut copy starts over from the donor)
    for (const name of ["data.json", "metrics.jsonl", "gan_config.json", "config.json"]) {
      if (await exists(join(src, name))) await Deno.copyFile(join(src, name), join(dir, name));
    }
    return cellDirName(d);
  }
  return null;
}

/** Stopped by a signal (Ctrl-C / SIGTERM): the child kept its checkpoint; the sweep stops too. */
class Interrupted extends Error {}

/**
 * Runs one cell to completion (or resumes it); returns "complete", "skipped" or "failed". Throws
 * Interrupted when a child was stopped by a signal.
 */
async function runCell(
  cfg: ExperimentConfig,
  cell: Cell,
  root: string,
  log: (s: string) => void,
  echo: boolean,
): Promise<"complete" | "skipped" | "failed"> {
  const dir = join(root, cellDirName(cell));
  const paths = runPaths(dir);
  if (await exists(join(dir, "results.json"))) return "skipped";
  await Deno.mkdir(dir, { recursive: true });
  await Deno.remove(join(dir, "failed.json")).catch(() => {});
  await writeJson(join(dir, "cell.json"), cell);
  const fail = async (stage: string, error: string, exitCode: number | null, logTail: string) => {
    const f: CellFailure = {
      index: cell.index,
      slug: cell.slug,
      stage,
      error,
      exitCode,
      logTail,
      time: new Date().toISOString(),
    };
    await writeJson(join(dir, "failed.json"), f);
    log(`cell ${cell.index} ${cell.slug}: FAILED in ${stage}: ${error}`);
    return "failed" as const;
  };
  const lastLine = (tail: string) => tail.split("\n").filter((l) => l.trim()).at(-1) ?? "(no output)";
  // every cell draws the same phantom: one cache for the sweep (src/cli/_run_dir.ts, phantomCacheDir)
  const env = { MEDSYNTH_CACHE_DIR: Deno.env.get("MEDSYNTH_CACHE_DIR") || join(root, "cache") };

  if (!(await exists(paths.generator))) {
    let args: string[];
    const minutes = cell.ganMinutes;
    if (!(await exists(paths.config)) && cell.axis === "ganImages") {
      const from = await continueFrom(cfg, cell, root, dir);
      if (from) log(`cell ${cell.index} ${cell.slug}: continuing the GAN of ${from}`);
    }
    if (await exists(paths.config)) {
      const metrics = (await exists(paths.metrics)) ? await Deno.readTextFile(paths.metrics) : "";
      const done = trainedSeconds(metrics) / 60;
      log(`cell ${cell.index} ${cell.slug}: resuming the GAN (${done.toFixed(1)} min trained before)`);
      args = ["--out", dir, "--resume", "--quiet"];
      if (cell.axis === "ganImages") args.push("--images", String(cell.value));
      if (minutes !== null) args.push("--minutes", String(Math.max(0.01, minutes - done)));
    } else {
      log(`cell ${cell.index} ${cell.slug}: training the GAN`);
      await writeJson(join(dir, "gan_config.json"), cell.ganConfig);
      args = trainArgs(cell, dir);
      if (minutes !== null) args.push("--minutes", String(minutes));
    }
    const r = await runChild(TRAIN, args, join(dir, "train.log"), echo, env);
    if (r.code === 130 || stopping) throw new Interrupted(`cell ${cell.index}: training stopped by a signal`);
    if (r.code !== 0 || !(await exists(paths.generator))) {
      return await fail("train", lastLine(r.tail), r.code, r.tail);
    }
  }

  // evaluation is not resumable: a half-written synthetic export from an interrupted one is redone
  await Deno.remove(join(dir, "synthetic"), { recursive: true }).catch(() => {});
  log(`cell ${cell.index} ${cell.slug}: evaluating (synthetic export, two classifiers, fidelity, privacy)`);
  const c = cell.classifier;
  const args = ["--run", dir, "--classifier", c.preset, "--resamples", String(c.resamples)];
  args.push("--seed", String(cell.seed), "--title", `${cfg.name} ${cell.slug}`);
  if (c.minutes !== null) args.push("--minutes", String(c.minutes));
  if (c.epochs !== null) args.push("--epochs", String(c.epochs));
  if (c.images != null) args.push("--images", String(c.images));
  if (c.batch !== null) args.push("--batch", String(c.batch));
  if (!echo) args.push("--quiet");
  const r = await runChild(EVALUATE, args, join(dir, "evaluate.log"), echo, env);
  if (r.code === 130 || stopping) throw new Interrupted(`cell ${cell.index}: evaluation stopped by a signal`);
  if (r.code !== 0 || !(await exists(join(dir, "results.json")))) {
    return await fail("evaluate", lastLine(r.tail), r.code, r.tail);
  }
  return "complete";
}

/** Reads every cell's state and results into the merged document and writes DIR/results.json. */
export async function mergeCells(cfg: ExperimentConfig, root: string): Promise<SweepResults> {
  const rows = [];
  for (const cell of expandCells(cfg)) {
    const rel = cellDirName(cell), dir = join(root, rel);
    const status = await cellStatus(dir);
    let results = null, error: string | null = null;
    if (status === "complete") {
      try {
        results = parseResults(await readJson(join(dir, "results.json")), join(dir, "results.json"));
      } catch (e) {
        rows.push(cellResult(cell, rel, "failed", null, `merge: ${(e as Error).message}`));
        continue;
      }
    } else if (status === "failed") {
      const f = await readJson(join(dir, "failed.json")) as Partial<CellFailure>;
      error = `${f.stage ?? "?"}: ${f.error ?? "unknown error"}`;
    }
    const row = cellResult(cell, rel, status, results, error);
    // results.json times the last training segment only; a resumed run has several
    const metrics = runPaths(dir).metrics;
    if (status === "complete" && (await exists(metrics))) {
      row.ganSeconds = trainedSeconds(await Deno.readTextFile(metrics));
    }
    rows.push(row);
  }
  const merged = mergeSweep(cfg, rows, new Date().toISOString());
  await writeJson(join(root, "results.json"), merged);
  await writeFileAtomic(join(root, "report.html"), sweepReportHtml(merged));
  await writeFileAtomic(join(root, "summary.md"), sweepSummaryMarkdown(merged));
  return merged;
}

/** Shell-quotes one argument for a POSIX shell. */
function shq(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'"'"'`)}'`;
}

/** The `deno task experiment ...` words that address this sweep (config file, data, out). */
function sweepWords(root: string): string[] {
  return ["deno", "task", "experiment", join(root, "experiment.json"), "--out", root];
}

/** DIR/job.sbatch: an array job, task i = cell i; the merge is a separate step. */
export function slurmScript(cfg: ExperimentConfig, cells: Cell[], root: string): string {
  const words = sweepWords(root).map(shq).join(" ");
  return `#!/bin/bash
# medsynth sweep "${cfg.name}" (preset ${cfg.preset}, ${cells.length} cells): one array task per cell.
# Submit: sbatch ${shq(join(root, "job.sbatch"))}
# When every task has ended, merge the cells into ${join(root, "results.json")}:
#   cd ${shq(PROJECT_ROOT)} && ${words} --merge
# (or: sbatch --dependency=afterany:<JOBID> --wrap "cd ${PROJECT_ROOT} && ${words} --merge")
# A task that dies resumes its cell when resubmitted (sbatch --array=<I> ${join(root, "job.sbatch")}).
#SBATCH --job-name=medsynth-${cfg.name}
#SBATCH --array=0-${cells.length - 1}
#SBATCH --output=${join(root, "logs", "%A_%a.out")}
#SBATCH --cpus-per-task=4
${
    cfg.preset === "paper"
      ? "#SBATCH --gres=gpu:1\n"
      : ""
  }# add --partition / --time / --gres lines for your cluster here
set -euo pipefail
cd ${shq(PROJECT_ROOT)}
export XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-/tmp/medsynth-xdg-$(id -u)}"
${words} --cell "$SLURM_ARRAY_TASK_ID"
`;
}

/** A JSON string is a valid YAML double-quoted scalar. */
const y = (s: string) => JSON.stringify(s);

/** DIR/job.yaml: a Kubernetes Indexed Job, completion index i = cell i, the sweep folder on a PVC. */
export function k8sJob(
  cfg: ExperimentConfig,
  cells: Cell[],
  root: string,
  opts: { parallelism: number; pvc: string; image: string; workdir: string },
): string {
  const cmd = `${sweepWords(root).map(shq).join(" ")} --cell "$JOB_COMPLETION_INDEX"`;
  const name = `medsynth-${cfg.name.toLowerCase().replace(/[^a-z0-9-]+/g, "-")}`.slice(0, 52);
  const gpu = cfg.preset === "paper"
    ? `          resources:\n            limits:\n              nvidia.com/gpu: 1\n`
    : "";
  return `# medsynth sweep "${cfg.name}" (preset ${cfg.preset}, ${cells.length} cells): one completion index per cell.
# The image must hold Deno and this project at workingDir; the sweep folder ${root} is the PVC
# ${opts.pvc} (and --data paths must be reachable in the pod too). Apply: kubectl apply -f job.yaml
# After it completes, merge: ${sweepWords(root).map(shq).join(" ")} --merge
apiVersion: batch/v1
kind: Job
metadata:
  name: ${y(name)}
  labels:
    app: "medsynth"
    sweep: ${y(cfg.name.toLowerCase().replace(/[^a-z0-9-_.]+/g, "-"))}
spec:
  completionMode: Indexed
  completions: ${cells.length}
  parallelism: ${opts.parallelism}
  backoffLimit: ${cells.length * 2}
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: cell
          image: ${y(opts.image)}
          workingDir: ${y(opts.workdir)}
          command: ["sh", "-c"]
          args:
            - ${y(cmd)}
          env:
            - name: XDG_RUNTIME_DIR
              value: "/tmp"
${gpu}          volumeMounts:
            - name: sweep
              mountPath: ${y(root)}
      volumes:
        - name: sweep
          persistentVolumeClaim:
            claimName: ${y(opts.pvc)}
`;
}

function fmtN(v: number | null, d = 3): string {
  return v === null ? "n/a" : v.toFixed(d);
}

async function main(argv: string[]): Promise<number> {
  const { values: a, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      preset: { type: "string" },
      data: { type: "string" },
      dataset: { type: "string" },
      out: { type: "string" },
      list: { type: "boolean", default: false },
      cell: { type: "string" },
      merge: { type: "boolean", default: false },
      emit: { type: "string" },
      parallelism: { type: "string" },
      pvc: { type: "string", default: "medsynth-sweeps" },
      image: { type: "string", default: "medsynth:latest" },
      workdir: { type: "string", default: "/app" },
      quiet: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new Error(`give exactly one experiment NAME or config file\n${USAGE}`);
  const cfg = await resolveExperiment(positionals[0], a);
  const cells = expandCells(cfg);
  const log = (s: string) => {
    if (!a.quiet) console.error(s);
  };

  if (a.list) {
    console.log(
      `${cfg.name} (preset ${cfg.preset}, ${cfg.dataset}, data ${cfg.data}): ${cells.length} cells`,
    );
    for (const c of cells) {
      const sub = c.subset
        ? Object.entries(c.subset).filter(([k]) => k !== "seed").map(([k, v]) => `${k}=${v}`).join(" ")
        : "all data";
      const gan = `GAN ${c.ganConfig.preset}${cfg.gan.images ? ` ${cfg.gan.images} img` : ""}${
        c.ganMinutes ? ` <=${c.ganMinutes} min` : ""
      }`;
      const cls = `classifier ${c.classifier.preset}${
        c.classifier.minutes ? ` ${c.classifier.minutes} min` : ""
      }${c.classifier.epochs ? ` ${c.classifier.epochs} ep` : ""}`;
      console.log(
        `${String(c.index).padStart(3)}  ${
          cellDirName(c).padEnd(22)
        } ${c.axis}=${c.value}  seed=${c.seed}  ` +
          `${c.resolution}px  ${sub}  ${gan}  ${cls}`,
      );
    }
    return 0;
  }

  if (!a.out) throw new Error(`--out DIR is required\n${USAGE}`);
  const root = resolve(a.out);
  const expPath = join(root, "experiment.json");
  if (await exists(expPath)) {
    const old = await readJson(expPath);
    if (JSON.stringify(old) !== JSON.stringify(cfg)) {
      throw new Error(
        `${expPath} holds another experiment config (name/preset/data/grid differ); use another --out, ` +
          `or run this one with: deno task experiment ${expPath} --out ${a.out}`,
      );
    }
  } else {
    await Deno.mkdir(root, { recursive: true });
    await writeJson(expPath, cfg);
  }

  if (a.emit !== undefined) {
    if (a.emit === "slurm") {
      await Deno.mkdir(join(root, "logs"), { recursive: true });
      await writeFileAtomic(join(root, "job.sbatch"), slurmScript(cfg, cells, root));
      console.log(`wrote ${join(root, "job.sbatch")} (${cells.length} array tasks); submit with sbatch`);
    } else if (a.emit === "k8s") {
      const parallelism = a.parallelism === undefined ? Math.min(cells.length, 4) : Number(a.parallelism);
      if (!Number.isInteger(parallelism) || parallelism < 1) {
        throw new Error(`--parallelism must be an integer >= 1, got ${a.parallelism}`);
      }
      const yaml = k8sJob(cfg, cells, root, {
        parallelism,
        pvc: a.pvc!,
        image: a.image!,
        workdir: a.workdir!,
      });
      await writeFileAtomic(join(root, "job.yaml"), yaml);
      console.log(`wrote ${join(root, "job.yaml")} (${cells.length} completions); kubectl apply -f it`);
    } else {
      throw new Error(`--emit must be slurm or k8s, got ${a.emit}`);
    }
    return 0;
  }

  if (a.merge) {
    const m = await mergeCells(cfg, root);
    console.log(
      `wrote ${
        join(root, "results.json")
      }, report.html and summary.md: ${m.counts.complete} complete, ${m.counts.failed} failed, ` +
        `${m.counts.partial} partial, ${m.counts.pending} pending`,
    );
    return m.counts.failed ? 1 : 0;
  }

  let todo = cells;
  if (a.cell !== undefined) {
    const i = Number(a.cell);
    if (!Number.isInteger(i) || i < 0 || i >= cells.length) {
      throw new Error(`--cell must be an integer in 0..${cells.length - 1}, got ${a.cell}`);
    }
    todo = [cells[i]];
  }
  installSignalHandlers();
  const t0 = performance.now();
  const outcome: Record<string, number> = { complete: 0, skipped: 0, failed: 0 };
  for (const cell of todo) {
    const t = performance.now();
    let r: "complete" | "skipped" | "failed";
    try {
      r = await runCell(cfg, cell, root, log, a.verbose! && !a.quiet);
    } catch (e) {
      if (e instanceof Interrupted) {
        console.error(`${e.message}; run the same command again to resume`);
        return stopping === "SIGTERM" ? 143 : 130;
      }
      // a runner-side error (disk, permissions) in one cell: record it and go on
      const dir = join(root, cellDirName(cell));
      await writeJson(
        join(dir, "failed.json"),
        {
          index: cell.index,
          slug: cell.slug,
          stage: "setup",
          error: (e as Error).message,
          exitCode: null,
          logTail: "",
          time: new Date().toISOString(),
        } satisfies CellFailure,
      ).catch(() => {});
      log(`cell ${cell.index} ${cell.slug}: FAILED: ${(e as Error).message}`);
      r = "failed";
    }
    outcome[r]++;
    if (r === "skipped") log(`cell ${cell.index} ${cell.slug}: complete earlier, skipped`);
    if (r === "complete") {
      const res = parseResults(await readJson(join(root, cellDirName(cell), "results.json")));
      const u = res.utility;
      log(
        `cell ${cell.index} ${cell.slug}: done in ${((performance.now() - t) / 60000).toFixed(1)} min: ` +
          `TRTR ${fmtN(u.trtr.mean)}, TSTR ${fmtN(u.tstr.mean)}, gap ${fmtN(u.gap.gap)} ` +
          `[${fmtN(u.gap.lo)}, ${fmtN(u.gap.hi)}]`,
      );
    }
  }
  log(
    `${todo.length} cell(s) in ${
      ((performance.now() - t0) / 60000).toFixed(1)
    } min: ${outcome.complete} run, ` +
      `${outcome.skipped} skipped, ${outcome.failed} failed`,
  );
  if (a.cell === undefined) {
    const m = await mergeCells(cfg, root);
    log(
      `wrote ${
        join(root, "results.json")
      }, report.html and summary.md (${m.counts.complete}/${cells.length} cells complete)`,
    );
  }
  return outcome.failed ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`experiment: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
