/**
 * Prints a Markdown summary of the committed benchmark results (experiments/results/bench/*.json):
 * per device, medsynth's speed and its ratio to each peer measured in the same run.
 * `deno run -A tools/bench_table.ts` (the README's benchmark table is pasted from it).
 */
import type { BenchRow } from "../src/bench/cases.ts";

const dir = new URL("../experiments/results/bench/", import.meta.url);
const files: string[] = [];
for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".json")) files.push(e.name);
files.sort();
for (const f of files) {
  const doc = JSON.parse(await Deno.readTextFile(new URL(f, dir)));
  const rows = doc.results as BenchRow[];
  const peers = [...new Set(rows.map((r) => r.impl))].filter((i) => i !== "medsynth");
  console.log(
    `\n### ${doc.adapter.description}\n\n${f}, ${
      doc.date.slice(0, 10)
    }, fallback adapter: ${doc.adapter.isFallbackAdapter}\n`,
  );
  console.log(`| op | shape | medsynth | ${peers.map((p) => `x vs ${p}`).join(" | ")} |`);
  console.log(`| --- | --- | --- | ${peers.map(() => "---").join(" | ")} |`);
  const ours = rows.filter((r) => r.impl === "medsynth");
  for (const r of ours) {
    const speed = r.skipped
      ? `skipped (${r.skipped})`
      : r.gflops != null
      ? `${r.gflops.toFixed(1)} GFLOP/s`
      : r.images_per_s != null
      ? `${r.images_per_s.toFixed(1)} img/s`
      : "n/a";
    const ratios = peers.map((p) => {
      const q = rows.find((x) => x.impl === p && x.op === r.op && x.shape === r.shape);
      if (q?.skipped) return `skipped (${q.skipped})`;
      return q?.ms != null && r.ms != null ? (q.ms / r.ms).toFixed(2) : "n/a";
    });
    console.log(`| ${r.op} | ${r.shape} | ${speed} | ${ratios.join(" | ")} |`);
  }
  console.log();
}
