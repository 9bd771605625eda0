/**
 * Browser bundles with `deno bundle --platform browser`: mod.ts -> dist/medsynth.js (the library),
 * src/bench/page.ts -> dist/bench.js (the benchmark page) and src/studio/page.ts -> dist/studio.js (the
 * studio; its decoding worker dist/studio_worker.js, and dist/studio.html beside them so dist/ works from
 * any static file server). Used by
 * `deno task bundle` and, when the bundles are missing, by `deno task serve`.
 * @module
 */
import { join } from "node:path";
import { studioPage } from "./_studio_page.ts";

/** Bundle entries: output file name -> entry module (relative to the project root). */
export const BUNDLES: Readonly<Record<string, string>> = {
  "medsynth.js": "mod.ts",
  "bench.js": "src/bench/page.ts",
  "studio.js": "src/studio/page.ts",
  "studio_worker.js": "src/studio/decode_worker.ts",
};

/** The project root (two levels above this file). */
export const PROJECT_ROOT: string = new URL("../../", import.meta.url).pathname;

/** Builds every bundle into `outDir` (default `<root>/dist`); throws with deno's output on failure. */
export async function buildBundles(outDir: string = join(PROJECT_ROOT, "dist")): Promise<string[]> {
  const written: string[] = [];
  for (const [name, entry] of Object.entries(BUNDLES)) {
    const out = join(outDir, name);
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "browser", "--format", "esm", "--sourcemap", "linked", "-o", out, entry],
      cwd: PROJECT_ROOT,
    }).output();
    if (!r.success) {
      throw new Error(`deno bundle ${entry} failed:\n${new TextDecoder().decode(r.stderr)}`);
    }
    const text = await Deno.readTextFile(out);
    // the library must run in browsers: a Deno.* reference would fail there at run time
    const m = /\bDeno\.[A-Za-z_]+/.exec(text);
    if (m) throw new Error(`${out} refers to ${m[0]}; library code must not use Deno APIs`);
    written.push(out);
  }
  const html = join(outDir, "studio.html");
  await Deno.writeTextFile(html, studioPage({ script: "studio.js" }));
  written.push(html);
  return written;
}
