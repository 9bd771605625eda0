/**
 * `deno task report --run DIR [--results FILE] [--out FILE]`
 *
 * Renders a results.json (default DIR/results.json, written by `deno task evaluate`) as a self-contained
 * HTML report (default DIR/report.html, written atomically): inline images and charts, no network. It shows
 * real images and says so at the top; beside it the shareable form (report_shareable.html and
 * results_shareable.json: no real pixels, no local paths) is written for sharing.
 */
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { renderReport } from "../report/html.ts";
import { parseResults, shareableResults } from "../report/results.ts";
import { writeFileAtomic } from "./_atomic.ts";
import { exists, readJson } from "./_run_dir.ts";

const USAGE = "usage: deno task report --run DIR [--results FILE] [--out FILE]";

async function main(argv: string[]): Promise<number> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      run: { type: "string" },
      results: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  if (!a.run && !a.results) throw new Error(`--run DIR or --results FILE is required\n${USAGE}`);
  const src = a.results ?? join(a.run!, "results.json");
  if (!(await exists(src))) {
    throw new Error(`${src} not found: run deno task evaluate --run ${a.run ?? "DIR"} first`);
  }
  const results = parseResults(await readJson(src), src);
  const out = a.out ?? (a.run ? join(a.run, "report.html") : src.replace(/\.json$/, "") + ".html");
  await writeFileAtomic(out, renderReport(results));
  const shared = shareableResults(results);
  const base = out.replace(/\.html$/, "");
  await writeFileAtomic(`${base}_shareable.html`, renderReport(shared));
  await writeFileAtomic(join(dirname(out), "results_shareable.json"), JSON.stringify(shared, null, 2) + "\n");
  console.error(
    `wrote ${out} (shows real images) and ${base}_shareable.html + results_shareable.json (to share)`,
  );
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`report: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
