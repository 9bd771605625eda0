/**
 * Reader study: "real or synthetic?" judged by people in a browser.
 *
 * ```
 * deno task reader --real DIR --synthetic DIR [--resolutions 32,64,128] [--per-block 20]
 *   [--mode single|pair] [--seed N] --out STUDY_DIR [--host H] [--port P] [--no-serve]
 * deno task reader serve STUDY_DIR [--host H] [--port P]
 * deno task reader analyze STUDY_DIR [--json] [--out DIR]
 * ```
 *
 * The first form prepares the study folder (label-matched images under random ids, manifest.json with the
 * truth) and serves it; `serve` serves an existing study (after a restart: answers are on disk);
 * `analyze` prints accuracy, intervals, tests, agreement (Markdown, or JSON with --json) and with --out
 * writes analysis.json, analysis.md and accuracy_vs_resolution.svg.
 *
 * The server listens on 127.0.0.1 unless --host is given; with --host every request needs the study's
 * random token, which the printed link carries. Every write needs it in any case (the reader page gets it
 * from the server; another web page cannot), and each reader's answers need that reader's own key.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { accuracyPlotSvg, analysisMarkdown, analyzeStudy } from "../reader/analysis.ts";
import type { AnswerRecord, StudyMode } from "../reader/study.ts";
import { writeFileAtomic } from "./_atomic.ts";
import { readJsonLines, serverUrl } from "./_http.ts";
import { prepareStudy } from "./_reader_prepare.ts";
import { readerHandler, type ReaderRecord, readManifest } from "./_reader_server.ts";

const USAGE = `usage:
  deno task reader --real DIR --synthetic DIR [--resolutions 32,64,128] [--per-block 20] [--mode single|pair]
                   [--seed N] --out STUDY_DIR [--host H] [--port P] [--no-serve]
  deno task reader serve STUDY_DIR [--host H] [--port P]
  deno task reader analyze STUDY_DIR [--json] [--out DIR]`;

type Args = ReturnType<typeof parse>["values"];
let args = {} as Args;

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      real: { type: "string" },
      synthetic: { type: "string" },
      resolutions: { type: "string", default: "32,64,128" },
      "per-block": { type: "string", default: "20" },
      mode: { type: "string", default: "single" },
      seed: { type: "string" },
      out: { type: "string" },
      host: { type: "string" },
      port: { type: "string", default: "8017" },
      "no-serve": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

function fail(msg: string): never {
  console.error(`error: ${msg}\n${USAGE}`);
  Deno.exit(2);
}

async function serve(studyDir: string): Promise<void> {
  const requireToken = args.host !== undefined;
  const hostname = args.host ?? "127.0.0.1";
  const port = Number(args.port);
  if (!(Number.isInteger(port) && port >= 0 && port < 65536)) {
    fail(`--port must be 0..65535, got ${args.port}`);
  }
  const manifest = await readManifest(studyDir);
  const handler = await readerHandler(studyDir, { requireToken, hosts: args.host ? [args.host] : [] });
  const server = Deno.serve({
    hostname,
    port,
    onListen: (addr) => {
      const link = `${serverUrl(addr)}/${requireToken ? `?token=${manifest.token}` : ""}`;
      console.log(`Reader link: ${link}`);
      console.log(`Study folder: ${studyDir} (answers.jsonl grows as readers answer; Ctrl-C to stop)`);
    },
  }, handler);
  const stop = () => server.shutdown();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
}

async function analyze(studyDir: string): Promise<void> {
  const manifest = await readManifest(studyDir);
  const answers = await readJsonLines<AnswerRecord>(join(studyDir, "answers.jsonl"));
  const experience: Record<string, string> = {};
  for (const r of await readJsonLines<ReaderRecord>(join(studyDir, "readers.jsonl"))) {
    experience[r.reader] ??= r.experience;
  }
  const result = analyzeStudy(manifest, answers, experience);
  const md = analysisMarkdown(result);
  console.log(args.json ? JSON.stringify(result, null, 2) : md);
  if (args.out) {
    await writeFileAtomic(join(args.out, "analysis.json"), JSON.stringify(result, null, 2) + "\n");
    await writeFileAtomic(
      join(args.out, "analysis.md"),
      md + "\n![accuracy vs resolution](accuracy_vs_resolution.svg)\n",
    );
    await writeFileAtomic(join(args.out, "accuracy_vs_resolution.svg"), accuracyPlotSvg(result) + "\n");
    console.error(`wrote ${join(args.out, "analysis.json")}, analysis.md, accuracy_vs_resolution.svg`);
  }
}

async function main(): Promise<void> {
  const parsed = parse(Deno.args);
  args = parsed.values;
  const positionals = parsed.positionals;
  if (args.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  try {
    const [cmd, dir] = positionals;
    if (cmd === "analyze" || cmd === "serve") {
      if (!dir || positionals.length > 2) fail(`${cmd} needs exactly one STUDY_DIR`);
      if (cmd === "analyze") await analyze(dir);
      else await serve(dir);
    } else {
      if (positionals.length) fail(`unknown command ${cmd}`);
      if (!args.real || !args.synthetic || !args.out) fail("--real, --synthetic and --out are required");
      const seed = args.seed === undefined ? undefined : Number(args.seed);
      if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) {
        fail("--seed must be a uint32");
      }
      if (await Deno.stat(join(args.out, "manifest.json")).catch(() => null)) {
        fail(`${args.out} is already a study; serve it with: deno task reader serve ${args.out}`);
      }
      const manifest = await prepareStudy({
        real: args.real,
        synthetic: args.synthetic,
        resolutions: args.resolutions!.split(",").map((s) => Number(s.trim())),
        perBlock: Number(args["per-block"]),
        mode: args.mode as StudyMode,
        out: args.out,
        seed,
        log: (m) => console.error(m),
      });
      console.error(
        `prepared ${args.out}: ${Object.keys(manifest.images).length} images, ${manifest.mode} mode`,
      );
      if (!args["no-serve"]) await serve(args.out);
    }
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}

if (import.meta.main) await main();
