/** Test helpers for the reader study: a fake "synthetic" folder, the study CLI as a child process. */
import { join } from "node:path";
import { decodeImage, encodePng } from "../src/data/png.ts";
import { parseCsv, toCsv } from "../src/data/labels.ts";
import { Rng } from "../src/util/rng.ts";

/** The real chest radiographs (read-only shared data). */
export const REAL_DIR: string = new URL("../../shared/data/chestxray14-64px/", import.meta.url).pathname;

const ROOT = new URL("../", import.meta.url).pathname;

/**
 * Writes a stand-in "synthetic" set: `n` real images (from row `offset` on) blurred and with noise,
 * with their labels, in the ChestX-ray14 CSV layout.
 */
export async function makeSyntheticFolder(dir: string, n: number, offset = 0): Promise<void> {
  const csv = parseCsv(await Deno.readTextFile(join(REAL_DIR, "Data_Entry.csv")));
  const [iImg, iLab] = [csv.header.indexOf("Image Index"), csv.header.indexOf("Finding Labels")];
  await Deno.mkdir(join(dir, "images"), { recursive: true });
  const rows = [["Image Index", "Finding Labels", "Patient ID"]];
  const rng = new Rng(7);
  for (let k = 0; k < n; k++) {
    const row = csv.rows[offset + k];
    const img = decodeImage(await Deno.readFile(join(REAL_DIR, "images", row[iImg])), { channels: 1 });
    const { width: w, height: h, data } = img;
    const out = new Float32Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0, c = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy, xx = x + dx;
            if (yy >= 0 && yy < h && xx >= 0 && xx < w) (s += data[yy * w + xx]), c++;
          }
        }
        out[y * w + x] = s / c + rng.uniform(-0.03, 0.03);
      }
    }
    const name = `synth_${String(k).padStart(4, "0")}.png`;
    await Deno.writeFile(join(dir, "images", name), encodePng(out, 1, h, w));
    rows.push([name, row[iLab], "synth"]);
  }
  await Deno.writeTextFile(join(dir, "Data_Entry.csv"), toCsv(rows));
}

/** A running `deno task reader` child process. */
export interface ReaderProc {
  /** The printed reader link (with the token when --host was given). */
  link: string;
  /** Base URL without path or token. */
  base: string;
  /** Process id of the server. */
  pid: number;
  /** Kills it with `signal` and waits for the exit. */
  kill(signal?: Deno.Signal): Promise<void>;
}

/** Starts `src/cli/reader.ts` with `args` and waits until it prints its link. */
export async function startReader(args: string[]): Promise<ReaderProc> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "src/cli/reader.ts"), ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const dec = new TextDecoder();
  let out = "", err = "";
  const errDone = (async () => {
    for await (const c of child.stderr) err += dec.decode(c);
  })();
  const reader = child.stdout.getReader();
  const deadline = Date.now() + 60_000;
  while (!/Reader link: (\S+)/.test(out)) {
    const r = await Promise.race([
      reader.read(),
      new Promise<null>((res) => setTimeout(() => res(null), Math.max(0, deadline - Date.now()))),
    ]);
    if (r === null || r.done) {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
      await errDone;
      throw new Error(`reader CLI did not start (${r === null ? "timeout" : "exited"}):\n${out}\n${err}`);
    }
    out += dec.decode(r.value);
  }
  // keep draining stdout so the child never blocks on a full pipe
  (async () => {
    try {
      while (!(await reader.read()).done) { /* drain */ }
    } catch { /* closed */ }
  })();
  const link = /Reader link: (\S+)/.exec(out)![1];
  return {
    link,
    base: new URL(link).origin,
    pid: child.pid,
    async kill(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      await child.status;
      await errDone;
    },
  };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

/** Runs the reader CLI to completion; returns stdout (throws with stderr on failure). */
export async function runReaderCli(args: string[]): Promise<string> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "src/cli/reader.ts"), ...args],
    cwd: ROOT,
  }).output();
  const dec = new TextDecoder();
  if (!r.success) throw new Error(`reader CLI ${args.join(" ")} failed:\n${dec.decode(r.stderr)}`);
  return dec.decode(r.stdout);
}

/** Minimal manifest shape the independent analysis needs. */
interface ManifestLike {
  mode: "single" | "pair";
  blocks: { resolution: number; items: { id: string; images: string[] }[] }[];
  images: Record<string, { truth: "real" | "synthetic" }>;
}

/** Accuracy numbers computed here from scratch, to check src/reader/analysis.ts against. */
export interface IndependentSummary {
  n: number;
  correct: number;
  accuracy: number;
  lo: number;
  hi: number;
  p: number;
  sensitivity: number | null;
  specificity: number | null;
}

function lnFact(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
}

function summary(
  mode: string,
  xs: { correct: boolean; truthSyn: boolean; saidSyn: boolean }[],
): IndependentSummary {
  const n = xs.length, k = xs.filter((x) => x.correct).length;
  const z = 1.959963984540054, ph = k / n;
  const c = (ph + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const hw = (z / (1 + (z * z) / n)) * Math.sqrt((ph * (1 - ph)) / n + (z * z) / (4 * n * n));
  const pmf = (i: number) => Math.exp(lnFact(n) - lnFact(i) - lnFact(n - i) - n * Math.LN2);
  let p = 0;
  for (let i = 0; i <= n; i++) if (pmf(i) <= pmf(k) * (1 + 1e-7)) p += pmf(i);
  const syn = xs.filter((x) => x.truthSyn), real = xs.filter((x) => !x.truthSyn);
  return {
    n,
    correct: k,
    accuracy: ph,
    lo: k === 0 ? 0 : c - hw,
    hi: k === n ? 1 : c + hw,
    p: Math.min(1, p),
    sensitivity: mode === "single" && syn.length ? syn.filter((x) => x.saidSyn).length / syn.length : null,
    specificity: mode === "single" && real.length
      ? real.filter((x) => !x.saidSyn).length / real.length
      : null,
  };
}

/**
 * From raw answers.jsonl lines: the final answer per (reader, item), accuracy overall / per resolution /
 * per reader with Wilson intervals and exact binomial p, and Fleiss' kappa over items all readers rated.
 */
export function independentAnalysis(
  m: ManifestLike,
  lines: { reader: string; item: string; answer: string }[],
): {
  overall: IndependentSummary;
  perResolution: Record<number, IndependentSummary>;
  perReader: Record<string, IndependentSummary>;
  kappa: number | null;
} {
  const final: Record<string, { reader: string; item: string; answer: string }> = {};
  for (const l of lines) final[l.reader + "|" + l.item] = l;
  const itemInfo: Record<string, { res: number; images: string[] }> = {};
  for (const b of m.blocks) {
    for (const it of b.items) itemInfo[it.id] = { res: b.resolution, images: it.images };
  }
  const scored = Object.values(final).map((a) => {
    const info = itemInfo[a.item];
    const truthSyn = m.mode === "single" ? m.images[info.images[0]].truth === "synthetic" : true;
    const saidSyn = m.mode === "single" ? a.answer === "synthetic" : true;
    const correct = m.mode === "single" ? truthSyn === saidSyn : m.images[a.answer].truth === "synthetic";
    return { ...a, res: info.res, truthSyn, saidSyn, correct };
  });
  const perResolution: Record<number, IndependentSummary> = {};
  for (const b of m.blocks) {
    perResolution[b.resolution] = summary(
      m.mode,
      scored.filter((x) => x.res === b.resolution),
    );
  }
  const readers = [...new Set(scored.map((x) => x.reader))];
  const perReader: Record<string, IndependentSummary> = {};
  for (const r of readers) perReader[r] = summary(m.mode, scored.filter((x) => x.reader === r));
  // Fleiss: rows = items rated by all readers, two categories
  const rows: number[][] = [];
  for (const id of Object.keys(itemInfo)) {
    const got = readers.map((r) => final[r + "|" + id]);
    if (got.some((g) => !g)) continue;
    const first = (g: { answer: string }) =>
      m.mode === "single" ? g.answer === "real" : g.answer === itemInfo[id].images[0];
    const a = got.filter(first).length;
    rows.push([a, got.length - a]);
  }
  let kappa: number | null = null;
  if (readers.length >= 2 && rows.length) {
    const R = readers.length, N = rows.length;
    const P = rows.map((r) => (r[0] * (r[0] - 1) + r[1] * (r[1] - 1)) / (R * (R - 1)));
    const pbar = P.reduce((s, v) => s + v, 0) / N;
    const p0 = rows.reduce((s, r) => s + r[0], 0) / (N * R);
    const pe = p0 * p0 + (1 - p0) * (1 - p0);
    kappa = pe === 1 ? null : (pbar - pe) / (1 - pe);
  }
  return { overall: summary(m.mode, scored), perResolution, perReader, kappa };
}

/** Asserts the library's summary equals the independent one (to 1e-9). */
export function assertSummaryMatches(
  got: {
    n: number;
    correct: number;
    accuracy: number | null;
    ci95: { lo: number; hi: number } | null;
    pValue: number | null;
    sensitivity: number | null;
    specificity: number | null;
  },
  want: IndependentSummary,
  label: string,
): void {
  const close = (a: number | null, b: number | null, what: string) => {
    if (a === null || b === null ? a !== b : !(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)))) {
      throw new Error(`${label} ${what}: analysis ${a}, independent ${b}`);
    }
  };
  close(got.n, want.n, "n");
  close(got.correct, want.correct, "correct");
  close(got.accuracy, want.accuracy, "accuracy");
  close(got.ci95?.lo ?? null, want.lo, "ci lo");
  close(got.ci95?.hi ?? null, want.hi, "ci hi");
  close(got.pValue, want.p, "p");
  close(got.sensitivity, want.sensitivity, "sensitivity");
  close(got.specificity, want.specificity, "specificity");
}
