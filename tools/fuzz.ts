/**
 * The mutation fuzzer of the input readers (DICOM, PNG, JPEG, label CSVs; see tests/_fuzz.ts).
 *
 * ```
 * deno task fuzz [--count N] [--seed S] [--timeout-ms T] [--json] [--save DIR] [--case I]
 * ```
 *
 * Cases run in a child process, one after another; the parent watches each under a time limit. A case
 * that passes the limit is a hang (the child is killed and a new one continues after it), a child that
 * dies during a case is a process death, and an exception other than the reader's documented error type
 * naming the file is undocumented. Exit status 1 when any of the three happened. `--case I` runs one case
 * in this process and, with `--save DIR`, writes its bytes there for a bug report.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { type FuzzKind, type FuzzOutcome, loadCorpus, makeCase, runCase } from "../tests/_fuzz.ts";

/** The run's findings. */
export interface FuzzSummary {
  seed: number;
  cases: number;
  decoded: number;
  documentedErrors: number;
  hangs: { index: number; case: string }[];
  undocumented: { index: number; case: string; error: string; stack?: string }[];
  deaths: { index: number; case: string; status: string }[];
  byKind: Record<string, { cases: number; decoded: number; errors: number }>;
  slowest: { index: number; ms: number; case: string };
  seconds: number;
  command: string;
}

const SELF = new URL(import.meta.url).pathname;

/** Cases handled by one child before a fresh one takes over (bounds whatever a decoder leaks). */
const CHILD_CASES = 2000;

async function child(seed: number, from: number, to: number): Promise<void> {
  const corpus = loadCorpus();
  const enc = new TextEncoder();
  const out = (s: string) => Deno.stdout.writeSync(enc.encode(s + "\n"));
  // MEDSYNTH_FUZZ_SELFTEST="hang:3,die:5,throw:7" makes those cases misbehave, so the test of this
  // supervisor can see each kind of failure reported (a fuzzer that cannot fail proves nothing)
  const faults = new Map(
    (Deno.env.get("MEDSYNTH_FUZZ_SELFTEST") ?? "").split(",").filter(Boolean).map((f) => {
      const [what, at] = f.split(":");
      return [Number(at), what] as const;
    }),
  );
  for (let i = from; i < to; i++) {
    const c = makeCase(corpus, seed, i);
    out(`B ${i}`);
    const fault = faults.get(i);
    if (fault === "hang") { for (;;) { /* a decoder stuck in a loop */ } }
    if (fault === "die") Deno.exit(3);
    const o = fault === "throw"
      ? { index: i, kind: c.kind, result: "undocumented" as const, error: "TypeError: self-test", ms: 0 }
      : await runCase(c);
    out(`E ${JSON.stringify(o)}`);
  }
}

function describe(corpus: ReturnType<typeof loadCorpus>, seed: number, i: number): string {
  const c = makeCase(corpus, seed, i);
  return `${c.kind} ${c.seed} ${c.mutations.join(" + ")}`;
}

/** Runs cases [0, count) of `seed` in child processes under a per-case time limit. */
export async function fuzz(
  seed: number,
  count: number,
  timeoutMs: number,
  onProgress?: (done: number) => void,
): Promise<FuzzSummary> {
  const t0 = performance.now();
  const corpus = loadCorpus();
  const s: FuzzSummary = {
    seed,
    cases: 0,
    decoded: 0,
    documentedErrors: 0,
    hangs: [],
    undocumented: [],
    deaths: [],
    byKind: {},
    slowest: { index: -1, ms: 0, case: "" },
    seconds: 0,
    command: `deno task fuzz --count ${count} --seed ${seed} --timeout-ms ${timeoutMs}`,
  };
  const record = (o: FuzzOutcome) => {
    s.cases++;
    const k = (s.byKind[o.kind as FuzzKind] ??= { cases: 0, decoded: 0, errors: 0 });
    k.cases++;
    if (o.result === "decoded") s.decoded++, k.decoded++;
    else if (o.result === "error") s.documentedErrors++, k.errors++;
    else {s.undocumented.push({
        index: o.index,
        case: describe(corpus, seed, o.index),
        error: o.error!,
        stack: o.stack,
      });}
    if (o.ms > s.slowest.ms) s.slowest = { index: o.index, ms: o.ms, case: describe(corpus, seed, o.index) };
    onProgress?.(s.cases);
  };
  let next = 0;
  while (next < count) {
    const to = Math.min(count, next + CHILD_CASES);
    const proc = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--v8-flags=--max-old-space-size=3072",
        SELF,
        "--child",
        "--seed",
        String(seed),
        "--from",
        String(next),
        "--to",
        String(to),
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let errTail = ""; // what a dying child last said
    const errDone = proc.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (t) => void (errTail = (errTail + t).slice(-2000)) }),
    ).catch(() => {});
    let open = -1; // the case the child is in
    let first = true; // a child's first case also compiles the WASM codecs it meets
    let timer: ReturnType<typeof setTimeout> | undefined;
    let hung = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        hung = true;
        try {
          proc.kill("SIGKILL");
        } catch { /* exited */ }
      }, timeoutMs + (first ? 10_000 : 0));
      first = false;
    };
    const lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const r = await lines.read();
      if (r.done) break;
      buf += r.value;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith("B ")) {
          open = Number(line.slice(2));
          arm();
        } else if (line.startsWith("E ")) {
          clearTimeout(timer);
          record(JSON.parse(line.slice(2)));
          next = open + 1;
          open = -1;
        }
      }
    }
    clearTimeout(timer);
    const status = await proc.status;
    await errDone;
    if (open >= 0) {
      // the child stopped inside a case: killed by us (hang) or died on its own
      const what = describe(corpus, seed, open);
      if (hung) s.hangs.push({ index: open, case: what });
      else {
        s.deaths.push({
          index: open,
          case: what,
          status: `exit ${status.code}${status.signal ? ` ${status.signal}` : ""}: ${
            errTail.trim().slice(-400)
          }`,
        });
      }
      s.cases++;
      next = open + 1;
    } else if (!status.success && next < to) {
      s.deaths.push({ index: next, case: "(between cases)", status: `exit ${status.code}` });
      next++;
    }
  }
  s.seconds = Math.round((performance.now() - t0) / 100) / 10;
  return s;
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    args: Deno.args,
    options: {
      count: { type: "string", default: "1000" },
      seed: { type: "string", default: "1" },
      "timeout-ms": { type: "string", default: "15000" },
      json: { type: "boolean", default: false },
      case: { type: "string" },
      save: { type: "string" },
      child: { type: "boolean", default: false },
      from: { type: "string" },
      to: { type: "string" },
    },
  });
  const seed = Number(a.seed), count = Number(a.count), timeoutMs = Number(a["timeout-ms"]);
  if (![seed, count, timeoutMs].every((v) => Number.isInteger(v) && v >= 0)) {
    console.error("error: --seed, --count and --timeout-ms take non-negative integers");
    Deno.exit(2);
  }
  if (a.child) return await child(seed, Number(a.from), Number(a.to));
  if (a.case !== undefined) {
    const c = makeCase(loadCorpus(), seed, Number(a.case));
    if (a.save) {
      await Deno.mkdir(a.save, { recursive: true });
      await Deno.writeFile(join(a.save, c.name), c.bytes);
    }
    console.log(JSON.stringify({ ...c, bytes: c.bytes.length, outcome: await runCase(c) }, null, 2));
    return;
  }
  const s = await fuzz(seed, count, timeoutMs, (n) => {
    if (!a.json && n % 500 === 0) console.error(`${n}/${count} cases`);
  });
  if (a.json) console.log(JSON.stringify(s, null, 2));
  else {
    console.log(
      `${s.cases} cases (seed ${s.seed}) in ${s.seconds} s: ${s.decoded} decoded, ${s.documentedErrors} ` +
        `documented errors, ${s.hangs.length} hangs, ${s.undocumented.length} undocumented exceptions, ` +
        `${s.deaths.length} process deaths; slowest ${s.slowest.ms} ms (case ${s.slowest.index}: ${s.slowest.case})`,
    );
    for (const [k, v] of Object.entries(s.byKind)) {
      console.log(`  ${k}: ${v.cases} cases, ${v.decoded} decoded, ${v.errors} errors`);
    }
    for (const h of s.hangs) console.log(`HANG case ${h.index}: ${h.case}`);
    for (const d of s.deaths) console.log(`DEATH case ${d.index} (${d.status}): ${d.case}`);
    for (const u of s.undocumented) console.log(`UNDOCUMENTED case ${u.index}: ${u.case}\n  ${u.error}`);
  }
  if (s.hangs.length || s.undocumented.length || s.deaths.length) Deno.exit(1);
}

if (import.meta.main) await main();
