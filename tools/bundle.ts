/**
 * `deno task bundle`: browser bundles of the library (dist/medsynth.js from mod.ts) and of the benchmark
 * page (dist/bench.js), with `deno bundle --platform browser`. dist/ is not committed.
 */
import { buildBundles } from "../src/cli/_bundle.ts";

for (const f of await buildBundles()) {
  const { size } = await Deno.stat(f);
  console.log(`wrote ${f} (${(size / 1024).toFixed(0)} KiB)`);
}
