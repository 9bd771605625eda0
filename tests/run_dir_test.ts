/** The run folder's phantom cache: drawn once, reused, redrawn when unreadable or for another config. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadSplitData } from "../src/cli/_run_dir.ts";
import type { DataSpec } from "../src/cli/_run_dir.ts";
import { makePhantom } from "../src/data/phantom.ts";

const spec = (count: number): DataSpec => ({
  source: "phantom",
  phantom: {
    labels: {
      kind: "combos",
      count,
      combos: [{ findings: [], weight: 1 }, { findings: ["subdural"], weight: 1 }],
    },
  },
  splitSeed: 3,
  size: 16,
  channels: 1,
});

Deno.test("phantom cache: one file per config, hits equal misses, a corrupt file is redrawn", async () => {
  const dir = await Deno.makeTempDir({ prefix: "medsynth_cache_" });
  try {
    const first = await loadSplitData(spec(60), dir);
    const files = () => [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".msdc"));
    assert.equal(files().length, 1, "one cache file after the first load");
    // the cached images are the drawn phantom up to uint16 quantisation
    const exact = makePhantom({ ...spec(60).phantom, resolution: 16, channels: 1 });
    let maxErr = 0;
    for (let i = 0; i < exact.images.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(exact.images[i] - first.all.images[i]));
    }
    assert.ok(maxErr < 2e-5, `quantisation error ${maxErr}`);
    const path = join(dir, files()[0]);
    const mtime = Deno.statSync(path).mtime!.getTime();
    const hit = await loadSplitData(spec(60), dir);
    assert.deepEqual(hit.all.images, first.all.images, "a hit returns the same images as the miss");
    assert.deepEqual(hit.train.labels, first.train.labels);
    assert.equal(Deno.statSync(path).mtime!.getTime(), mtime, "a hit does not rewrite the file");
    // another config: its own file
    await loadSplitData(spec(40), dir);
    assert.equal(files().length, 2);
    // a corrupt file is drawn again, not trusted
    Deno.writeFileSync(path, new Uint8Array([1, 2, 3]));
    const redrawn = await loadSplitData(spec(60), dir);
    assert.deepEqual(redrawn.all.images, first.all.images);
    assert.ok(Deno.statSync(path).size > 1000, "the corrupt cache file was replaced");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
