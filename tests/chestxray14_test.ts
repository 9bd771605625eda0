/** The loaders, splits, subsets, cache and CLI on the real ChestX-ray14 sample (800 images, 64x64). */
import { join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { decode as pngDecode } from "fast-png";
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { comboKey } from "../src/data/dataset.ts";
import { CHESTXRAY14_LABELS } from "../src/data/labels.ts";
import { assertPatientDisjoint, splitByPatient } from "../src/data/split.ts";
import { comboCounts, makeSubset } from "../src/data/subset.ts";
import { loadDataset } from "../src/cli/_fs_dataset.ts";

const DIR = fromFileUrl(new URL("../../shared/data/chestxray14-64px/", import.meta.url));
const CSV = join(DIR, "Data_Entry.csv");

/** The CSV read independently: no quotes in this file, so a plain split is exact. */
function rawCsv(): { image: string; findings: string[]; patient: string }[] {
  const lines = Deno.readTextFileSync(CSV).trim().split(/\r?\n/);
  assertEquals(lines[0], "Image Index,Finding Labels,Patient ID");
  return lines.slice(1).map((l) => {
    const [image, f, patient] = l.split(",");
    return { image, findings: f === "No Finding" ? [] : f.split("|"), patient };
  });
}

const tmp = await Deno.makeTempDir({ prefix: "medsynth_cx14_" });
const first = await loadDataset(DIR, { cacheDir: join(tmp, "cache") });
const d = first.dataset;
const raw = rawCsv();

Deno.test({
  name: "chestxray14: 800 images, labels and patients as in the CSV",
  fn() {
    assertEquals(first.cache.status, "written");
    assertEquals([d.n, d.channels, d.height, d.width, d.format], [800, 1, 64, 64, "chestxray14"]);
    assertEquals(d.labelNames, [...CHESTXRAY14_LABELS]);
    assertEquals(d.sources, raw.map((r) => r.image));
    assertEquals(d.patientIds, raw.map((r) => r.patient));
    // a few rows checked by name against the CSV text
    for (const i of [0, 1, 137, 799]) {
      const on = d.labelNames.filter((_, j) => d.labels[i * 14 + j]);
      assertEquals(on.sort(), [...raw[i].findings].sort(), `row ${i} (${raw[i].image})`);
    }
    // totals per label, counted from the raw text
    const totals = CHESTXRAY14_LABELS.map((l) => raw.filter((r) => r.findings.includes(l)).length);
    const got = CHESTXRAY14_LABELS.map((_, j) => {
      let s = 0;
      for (let i = 0; i < d.n; i++) s += d.labels[i * 14 + j];
      return s;
    });
    assertEquals(got, totals);
    assert(totals.every((t) => t > 0), "every finding occurs in the sample");
    // pixels: the first image's red channel (grey content) mapped to [-1, 1]
    const png = pngDecode(Deno.readFileSync(join(DIR, "images", raw[0].image)));
    assertEquals([png.width, png.height, png.channels], [64, 64, 3]);
    for (const k of [0, 100, 2080, 4095]) {
      assert(Math.abs(d.images[k] - (png.data[k * 3] / 255 * 2 - 1)) < 1e-6, `pixel ${k}`);
    }
    let lo = Infinity, hi = -Infinity;
    for (const v of d.images) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    assert(lo >= -1 && hi <= 1 && hi - lo > 1, `range [${lo}, ${hi}]`);
  },
});

Deno.test("chestxray14: the cache is reused and identical; a resized load is cached separately", async () => {
  const again = await loadDataset(DIR, { cacheDir: join(tmp, "cache") });
  assertEquals(again.cache.status, "hit");
  assertEquals(again.cache.path, first.cache.path);
  assertEquals(again.dataset.labels, d.labels);
  assertEquals(again.dataset.patientIds, d.patientIds);
  assert(again.dataset.images.every((v, i) => v === d.images[i]), "cached pixels equal the fresh load");
  const small = await loadDataset(DIR, { cacheDir: join(tmp, "cache"), size: 32 });
  assertEquals(small.cache.status, "written");
  assert(small.cache.path !== first.cache.path, "one cache file per resolution");
  assertEquals([small.dataset.height, small.dataset.width], [32, 32]);
  // area average of the 2x2 blocks (up to the uint8 cache grid)
  const ref = (d.images[0] + d.images[1] + d.images[64] + d.images[65]) / 4;
  assert(Math.abs(small.dataset.images[0] - ref) <= 1 / 255 + 1e-6, "area resize");
});

Deno.test("chestxray14: a changed CSV (mtime) invalidates the cache", async () => {
  const dir = join(tmp, "mtime");
  await Deno.mkdir(join(dir, "images"), { recursive: true });
  const lines = Deno.readTextFileSync(CSV).trim().split("\n").slice(0, 4);
  for (const l of lines.slice(1)) {
    const img = l.split(",")[0];
    await Deno.copyFile(join(DIR, "images", img), join(dir, "images", img));
  }
  const csv = join(dir, "Data_Entry.csv");
  Deno.writeTextFileSync(csv, lines.join("\n") + "\n");
  Deno.utimeSync(csv, 1_000_000, 1_000_000);
  assertEquals((await loadDataset(dir)).cache.status, "written");
  assertEquals((await loadDataset(dir)).cache.status, "hit");
  assert(
    (await Deno.stat(join(dir, ".medsynth-cache"))).isDirectory,
    "default cache folder next to the data",
  );
  Deno.utimeSync(csv, 2_000_000, 2_000_000);
  assertEquals((await loadDataset(dir)).cache.status, "written");
});

Deno.test("chestxray14: patient-level split ~80/10/10, disjoint, same seed same split", () => {
  const s = splitByPatient(d.patientIds, { seed: 0 });
  assertPatientDisjoint(d.patientIds, s);
  assertEquals(s.train.length + s.valid.length + s.test.length, 800);
  const fr = [s.train.length, s.valid.length, s.test.length].map((c) => c / 800);
  // patients hold up to 66 images here, so whole-patient splits are only roughly 80/10/10
  assert(
    Math.abs(fr[0] - 0.8) < 0.03 && Math.abs(fr[1] - 0.1) < 0.03 && Math.abs(fr[2] - 0.1) < 0.03,
    `${fr}`,
  );
  assertEquals(splitByPatient(d.patientIds, { seed: 0 }), s);
  assert(splitByPatient(d.patientIds, { seed: 1 }).test.join() !== s.test.join(), "seed changes the split");
});

Deno.test("chestxray14: subsets keep the k most frequent combinations with n training images each", () => {
  const s = splitByPatient(d.patientIds, { seed: 0 });
  const sub = makeSubset(d, s, { topK: 2, perCombo: 30, seed: 0 });
  const top2 = comboCounts(d).slice(0, 2).map(([k]) => k);
  assertEquals(sub.combos, top2);
  for (const key of top2) assertEquals(sub.train.filter((i) => comboKey(d, i) === key).length, 30);
  assertEquals(sub.train.length, 60);
  const fixed = makeSubset(d, s, { topK: 2 });
  assertEquals(sub.valid, fixed.valid);
  assertEquals(sub.test, fixed.test);
  const rare = makeSubset(d, s, { minCount: 20 });
  const counts = new Map(comboCounts(d));
  assert(
    [...rare.train, ...rare.valid, ...rare.test].every((i) => counts.get(comboKey(d, i))! >= 20),
    "minCount",
  );
});

Deno.test("chestxray14: bad files stop the import with file and line, or are skipped and listed", async () => {
  const dir = join(tmp, "bad");
  await Deno.mkdir(join(dir, "images"), { recursive: true });
  const lines = Deno.readTextFileSync(CSV).trim().split("\n").slice(0, 6);
  for (const l of lines.slice(1)) {
    const img = l.split(",")[0];
    await Deno.copyFile(join(DIR, "images", img), join(dir, "images", img));
  }
  const broken = lines[2].split(",")[0];
  const bytes = Deno.readFileSync(join(DIR, "images", broken));
  Deno.writeFileSync(join(dir, "images", broken), bytes.slice(0, 200)); // truncated PNG
  Deno.writeTextFileSync(
    join(dir, "Data_Entry.csv"),
    [...lines, "missing_000.png,Mass,99999"].join("\n") + "\n",
  );
  await assertRejects(
    () => loadDataset(dir, { cache: false }),
    Error,
    new RegExp(
      `Data_Entry\\.csv line 3: image "${broken}": .*${broken}: PNG chunk "IDAT" .*past the end of the file`,
    ),
  );
  const res = await loadDataset(dir, { cache: false, skipBad: true });
  assertEquals(res.dataset.n, 4);
  assertEquals(res.skipped.map((s) => [s.line, s.source]), [[3, broken], [7, "missing_000.png"]]);
  assert(/file not found/.test(res.skipped[1].reason), res.skipped[1].reason);
  // the CLI lists them too
  const cli = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/data.ts", "stats", dir, "--check", "--json"],
    cwd: fromFileUrl(new URL("..", import.meta.url)),
  }).output();
  const out = JSON.parse(new TextDecoder().decode(cli.stdout));
  assertEquals(out.check.skipped.length, 2);
  // and a duplicate row is one clear error
  Deno.writeTextFileSync(join(dir, "Data_Entry.csv"), [...lines, lines[1]].join("\n") + "\n");
  await assertRejects(() => loadDataset(dir, { cache: false }), Error, /line 7: duplicate image/);
  // a malformed row stops the CLI with exit code 1 and a message naming the file and line
  Deno.writeTextFileSync(join(dir, "Data_Entry.csv"), [...lines, "x.png,Mass"].join("\n") + "\n");
  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/data.ts", "stats", dir],
    cwd: fromFileUrl(new URL("..", import.meta.url)),
  }).output();
  assertEquals(bad.code, 1);
  const msg = new TextDecoder().decode(bad.stderr);
  assert(/Data_Entry\.csv line 7: malformed row: 2 fields, the header has 3/.test(msg), msg);
});

Deno.test("chestxray14: `data stats --json` reports the CSV's own counts", async () => {
  const cli = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/data.ts", "stats", DIR, "--json", "--split"],
    cwd: fromFileUrl(new URL("..", import.meta.url)),
  }).output();
  assertEquals(cli.code, 0, new TextDecoder().decode(cli.stderr));
  const s = JSON.parse(new TextDecoder().decode(cli.stdout));
  assertEquals(s.format, "chestxray14");
  assertEquals(s.images, raw.length);
  assertEquals(s.patients, new Set(raw.map((r) => r.patient)).size);
  assertEquals(s.perLabel, CHESTXRAY14_LABELS.map((l) => raw.filter((r) => r.findings.includes(l)).length));
  const combos = new Map<string, number>();
  for (const r of raw) {
    combos.set([...r.findings].sort().join("|"), (combos.get([...r.findings].sort().join("|")) ?? 0) + 1);
  }
  assertEquals(s.uniqueCombinations, combos.size);
  assertEquals(s.combinations[0].count, Math.max(...combos.values()));
  assertEquals(s.split.train.images + s.split.valid.images + s.split.test.images, raw.length);
});

Deno.test({
  name: "chestxray14: clean up",
  async fn() {
    await Deno.remove(tmp, { recursive: true });
  },
});
