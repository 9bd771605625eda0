/** A labelled image folder made from the phantom with the library's writers (browser and loader tests). */
import { join } from "node:path";
import { DEFAULT_PHANTOM_CONFIG, makePhantom, type PhantomLabelSpec } from "../src/data/phantom.ts";
import { encodePng } from "../src/data/png.ts";
import { writeLabels } from "../src/data/labels.ts";

/** A folder of phantom PNGs + a plain label CSV (the library's writers), as a hospital export would be. */
export async function writePhantomFolder(dir: string, count: number, size = 16): Promise<void> {
  const labels = { ...DEFAULT_PHANTOM_CONFIG.labels, count } as PhantomLabelSpec;
  const d = makePhantom({ resolution: size, labels, seed: 7 });
  const sz = d.channels * size * size, L = d.labelNames.length;
  await Deno.mkdir(join(dir, "images"), { recursive: true });
  const rows = [];
  for (let i = 0; i < d.n; i++) {
    const name = `slice_${String(i).padStart(4, "0")}.png`;
    const v01 = Float32Array.from(d.images.subarray(i * sz, (i + 1) * sz), (v) => (v + 1) / 2);
    await Deno.writeFile(join(dir, "images", name), encodePng(v01, d.channels, size, size));
    rows.push({
      source: `images/${name}`,
      patientId: d.patientIds[i],
      labels: d.labels.subarray(i * L, (i + 1) * L),
    });
  }
  for (const f of writeLabels("plain", d.labelNames, rows)) {
    await Deno.writeTextFile(join(dir, f.path), f.text);
  }
}
