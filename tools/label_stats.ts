/**
 * Does a generator tell its labels through whole-image statistics that real images do not have?
 *
 * `deno run -A tools/label_stats.ts --run DIR [--n 256] [--seed 5] [--out FILE.json]`
 *
 * For each label, over the real training images that carry that label alone ("no finding" too) and over
 * `n` images the run's generator draws for it: the mean value inside the head, its pixel noise (mean
 * |x - mean of the 4 neighbours|), the count of bright pixels (> 0.2) and the head's area in pixels (in
 * [-1, 1] images: the head is what is neither air (< -0.8) nor bone (> 0.6)). Real images of different
 * findings differ little in these; a generator whose "no finding" heads are larger, or whose images of a
 * finding are brighter overall, hands a classifier trained on its images a shortcut that real images do not
 * have (README, "Where the label goes in G"). `spotRate` asks whether the generator draws small findings
 * as compact spots: the fraction of images with a pixel (inside the head, away from its edge) that exceeds
 * the median of its 5x5 neighbourhood by more than a threshold, the 95th percentile over the real "no
 * finding" images of each image's largest such excess (so about 0.05 for those; an intraparenchymal clot is
 * such a spot).
 * Prints a table and the spread (max - min over labels) of each statistic; `--out` writes them as JSON.
 */
import { parseArgs } from "node:util";
import { Gpu } from "../src/gpu/gpu.ts";
import { decodeCheckpoint } from "../src/train/checkpoint.ts";
import { GeneratorSampler } from "../src/train/sampler.ts";
import { type DataSpec, loadSplitData, phantomCacheDir, runPaths } from "../src/cli/_run_dir.ts";

/** Statistics of one (S, S) image at offset o: [mean inside, noise, bright pixels, head pixels]. */
function imageStats(im: Float32Array, o: number, S: number): number[] {
  let n = 0, m = 0, hf = 0, bright = 0;
  for (let y = 1; y < S - 1; y++) {
    for (let x = 1; x < S - 1; x++) {
      const v = im[o + y * S + x];
      if (v < -0.8 || v > 0.6) continue;
      n++;
      m += v;
      const nb = (im[o + (y - 1) * S + x] + im[o + (y + 1) * S + x] + im[o + y * S + x - 1] +
        im[o + y * S + x + 1]) / 4;
      hf += Math.abs(v - nb);
      if (v > 0.2) bright++;
    }
  }
  return [n ? m / n : 0, n ? hf / n : 0, bright, n];
}

/**
 * The largest excess of a pixel over the median of its 5x5 neighbourhood in one (S, S) image at offset o,
 * over pixels whose 3x3 neighbourhood lies inside the head (neither air nor bone), or -Infinity.
 */
function largestSpot(im: Float32Array, o: number, S: number): number {
  let best = -Infinity;
  const nb = new Float32Array(25);
  for (let y = 2; y < S - 2; y++) {
    for (let x = 2; x < S - 2; x++) {
      let inside = true;
      for (let dy = -2, k = 0; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++, k++) {
          const v = im[o + (y + dy) * S + x + dx];
          if (Math.abs(dy) <= 1 && Math.abs(dx) <= 1 && (v < -0.9 || v > 0.9)) inside = false;
          nb[k] = v;
        }
      }
      if (inside) best = Math.max(best, im[o + y * S + x] - nb.sort()[12]);
    }
  }
  return best;
}

const STATS = ["meanInside", "noise", "brightPixels", "headPixels", "spotRate"] as const;

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    run: { type: "string" },
    n: { type: "string", default: "256" },
    seed: { type: "string", default: "5" },
    out: { type: "string" },
  },
});
if (!a.run) {
  console.error("usage: deno run -A tools/label_stats.ts --run DIR [--n 256] [--seed 5] [--out FILE.json]");
  Deno.exit(2);
}
const ckPath = runPaths(a.run).generator;
const gpu = await Gpu.create();
const sampler = new GeneratorSampler(gpu, decodeCheckpoint(await Deno.readFile(ckPath), ckPath), {
  batch: 64,
  source: ckPath,
});
const spec = sampler.meta.data as DataSpec | undefined;
if (!spec) throw new Error(`${ckPath} does not record its data`);
if (sampler.cfg.imageChannels !== 1) throw new Error("label_stats reads single-channel images only");
const { train } = await loadSplitData(spec, phantomCacheDir(a.run), a.run);
const L = sampler.numLabels, S = sampler.cfg.resolution, P = S * S, n = Number(a.n);
const alone = (i: number, l: number) => {
  const lab = train.labels.subarray(i * L, (i + 1) * L);
  return lab[l] === 1 && lab.reduce((s, v) => s + v, 0) === 1;
};
// the spot threshold: the 95th percentile of the real "no finding" images' largest spot
const nf = sampler.labelNames.indexOf("no_finding");
if (nf < 0) {
  throw new Error(`label_stats needs a no_finding label; labels are ${sampler.labelNames.join(", ")}`);
}
const nfSpots: number[] = [];
for (let i = 0; i < train.n; i++) if (alone(i, nf)) nfSpots.push(largestSpot(train.images, i * P, S));
const spotThreshold = nfSpots.sort((x, y) => x - y)[Math.floor(0.95 * (nfSpots.length - 1))];
const stats = (im: Float32Array, o: number) => [
  ...imageStats(im, o, S),
  largestSpot(im, o, S) > spotThreshold ? 1 : 0,
];
const rows: { label: string; realImages: number; real: number[]; generated: number[] }[] = [];
for (let l = 0; l < L; l++) {
  const real = STATS.map(() => 0);
  let k = 0;
  for (let i = 0; i < train.n; i++) {
    if (!alone(i, l)) continue;
    stats(train.images, i * P).forEach((v, j) => real[j] += v);
    k++;
  }
  const labels = new Uint8Array(n * L);
  for (let i = 0; i < n; i++) labels[i * L + l] = 1;
  const gen = await sampler.sample(labels, Number(a.seed));
  const g = STATS.map(() => 0);
  for (let i = 0; i < n; i++) stats(gen, i * P).forEach((v, j) => g[j] += v);
  rows.push({
    label: sampler.labelNames[l],
    realImages: k,
    real: real.map((v) => k ? v / k : NaN),
    generated: g.map((v) => v / n),
  });
}
const spread = (which: "real" | "generated") =>
  STATS.map((_, j) => {
    const v = rows.filter((r) => r.realImages > 0).map((r) => r[which][j]);
    return Math.max(...v) - Math.min(...v);
  });
// counts (bright and head pixels) to one decimal, the rest to three
const f = (v: number, j: number) => STATS[j].endsWith("Pixels") ? v.toFixed(1) : v.toFixed(3);
console.log(`| label | real images | ${STATS.map((s) => `${s} real / generated`).join(" | ")} |`);
console.log(`| --- | --- | ${STATS.map(() => "---").join(" | ")} |`);
for (const r of rows) {
  console.log(
    `| ${r.label} | ${r.realImages} | ${
      STATS.map((_, j) => `${f(r.real[j], j)} / ${f(r.generated[j], j)}`).join(" | ")
    } |`,
  );
}
const sr = spread("real"), sg = spread("generated");
console.log(
  `| spread over labels | | ${STATS.map((_, j) => `${f(sr[j], j)} / ${f(sg[j], j)}`).join(" | ")} |`,
);
if (a.out) {
  await Deno.writeTextFile(
    a.out,
    JSON.stringify(
      { stats: STATS, n, seed: Number(a.seed), spotThreshold, rows, spread: { real: sr, generated: sg } },
      null,
      1,
    ),
  );
}
