/**
 * DICOM through the dataset loader, end to end: the phantom written as a DICOM series with an RSNA label
 * CSV loads back with its exact labels and patients, and images equal to the phantom's own windowed
 * images up to the int16 rounding of HU (and the project resize); corrupt and missing files stop the
 * load with the file and line, or are skipped and listed; the `data` CLI on the folder.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { assertClose } from "./_util.ts";
import { loadDataset } from "../src/cli/_fs_dataset.ts";
import { DicomError, dicomToHu } from "../src/data/dicom.ts";
import { encodePng } from "../src/data/png.ts";
import { benchDataCases, phantomCtDicom } from "../src/bench/data_cases.ts";
import { RSNA_LABELS } from "../src/data/labels.ts";
import { makePhantom, PHANTOM_LABELS, phantomToDicomSeries } from "../src/data/phantom.ts";
import { resizeImage } from "../src/data/resize.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const tmp = await Deno.makeTempDir({ prefix: "medsynth_dcmset_" });
const SIZE = 48;
const cfg = {
  labels: {
    kind: "combos" as const,
    count: 10,
    combos: [
      { findings: [], weight: 2 },
      { findings: ["subdural" as const], weight: 1 },
      { findings: ["epidural" as const, "intraventricular" as const], weight: 1 },
      { findings: ["intraparenchymal" as const, "subarachnoid" as const], weight: 1 },
    ],
  },
  seed: 21,
  resolution: SIZE,
  slicesPerPatient: [1, 3] as [number, number],
};

/** Writes the phantom series (and optional extra files / CSV rows) into a fresh folder. */
async function writeSeries(
  name: string,
  extra: { files?: Record<string, Uint8Array>; rows?: string[] } = {},
): Promise<string> {
  const dir = join(tmp, name);
  await Deno.mkdir(dir, { recursive: true });
  const s = phantomToDicomSeries(cfg, { size: SIZE });
  for (const f of s.files) await Deno.writeFile(join(dir, f.name), f.bytes);
  for (const [n, b] of Object.entries(extra.files ?? {})) await Deno.writeFile(join(dir, n), b);
  await Deno.writeTextFile(join(dir, "labels.csv"), s.csv + (extra.rows ?? []).map((r) => r + "\n").join(""));
  await Deno.writeTextFile(join(dir, "patients.csv"), s.patientsCsv);
  return dir;
}

/** Six RSNA rows (five subtypes and any) of an image with no finding. */
const normalRows = (id: string) => [...RSNA_LABELS.slice(0, 5), "any"].map((s) => `${id}_${s},0`);
const patientRow = (id: string) => `${id},P_extra`;

// HU are stored as int16 (rounded): at most 0.5 HU off, i.e. 0.5 / 80 of the brain window in [0, 1],
// twice that in [-1, 1]; the other windows are wider.
const HU_TOL = { atol: 2 * 0.5 / 80 + 1e-6, rtol: 0 };

const series = await writeSeries("ok");

Deno.test("dicom dataset: RSNA CSV + .dcm series: exact labels and patients, 3 windows", async () => {
  const res = await loadDataset(series, { cache: false });
  const d = res.dataset;
  const ref = makePhantom({ ...cfg, channels: 3 });
  assertEquals([d.n, d.channels, d.height, d.width, d.format], [ref.n, 3, SIZE, SIZE, "rsna"]);
  assertEquals(d.labelNames, [...PHANTOM_LABELS], "RSNA classes = phantom labels, same order");
  assertEquals(d.sources, ref.sources);
  assertEquals(d.patientIds, ref.patientIds, "patients from patients.csv");
  assertEquals(Array.from(d.labels), Array.from(ref.labels));
  assertClose(d.images, ref.images, HU_TOL, "3 windows (brain, subdural, bone)");
  assertEquals(res.skipped, []);
});

Deno.test("dicom dataset: brain window 1 channel, C/W = named, resize, cache", async () => {
  const ref1 = makePhantom({ ...cfg, channels: 1 });
  const brain = await loadDataset(series, { cache: false, windows: "brain" });
  assertEquals(brain.dataset.channels, 1);
  assertClose(brain.dataset.images, ref1.images, HU_TOL, "brain window");
  const cw = await loadDataset(series, { cache: false, windows: { center: 40, width: 80 } });
  assertEquals(cw.dataset.images, brain.dataset.images);
  // resized on load: the phantom's own images resized with the same filter (resize is linear, so it
  // commutes with the [0, 1] -> [-1, 1] map)
  const small = await loadDataset(series, { cache: false, size: 20 });
  const ref3 = makePhantom({ ...cfg, channels: 3 });
  const sz = 3 * SIZE * SIZE;
  for (let i = 0; i < ref3.n; i++) {
    const want = resizeImage(ref3.images.subarray(i * sz, (i + 1) * sz), 3, SIZE, SIZE, 20, 20);
    assertClose(small.dataset.images.subarray(i * 1200, (i + 1) * 1200), want, HU_TOL, `image ${i} at 20 px`);
  }
  // the cache (16-bit) gives the same images within its grid, and is reused
  const c1 = await loadDataset(series, { size: 20, cacheDir: join(tmp, "cache") });
  const c2 = await loadDataset(series, { size: 20, cacheDir: join(tmp, "cache") });
  assertEquals([c1.cache.status, c2.cache.status], ["written", "hit"]);
  assertEquals(c2.dataset.images, c1.dataset.images);
  assertClose(c1.dataset.images, small.dataset.images, { atol: 1 / 65535 + 1e-6, rtol: 0 }, "uint16 cache");
  // a different window is another cache entry, not a stale hit
  const c3 = await loadDataset(series, {
    size: 20,
    cacheDir: join(tmp, "cache"),
    windows: "bone",
    channels: 3,
  });
  assertEquals(c3.cache.status, "written");
  await assertRejects(
    () => loadDataset(series, { cache: false, windows: "rsna", channels: 1 }),
    Error,
    /windows "rsna" gives 3 channels/,
  );
});

Deno.test("dicom dataset: corrupt or non-DICOM .dcm: error with file and line, or skipped", async () => {
  const one = phantomToDicomSeries(cfg, { size: SIZE, limit: 1 }).files[0].bytes;
  const dir = await writeSeries("corrupt", {
    files: {
      "ID_cut000001.dcm": one.slice(0, one.length - 500), // truncated pixel data
      "ID_txt000002.dcm": new TextEncoder().encode("not a DICOM file at all ".repeat(10)),
    },
    rows: [...normalRows("ID_cut000001"), ...normalRows("ID_txt000002")],
  });
  await Deno.writeTextFile(
    join(dir, "patients.csv"),
    (await Deno.readTextFile(join(dir, "patients.csv"))) + patientRow("ID_cut000001") + "\n" +
      patientRow("ID_txt000002") + "\n",
  );
  const line1 = 2 + cfg.labels.count * 6, line2 = line1 + 6;
  const err = await assertRejects(
    () => loadDataset(dir, { cache: false }),
    DicomError,
    new RegExp(
      `labels\\.csv line ${line1}: image "ID_cut000001": .*ID_cut000001\\.dcm: truncated file: Pixel Data`,
    ),
  );
  assert(err.file.endsWith("ID_cut000001.dcm"), err.file);
  const res = await loadDataset(dir, { cache: false, skipBad: true });
  assertEquals(res.dataset.n, cfg.labels.count);
  assertEquals(res.skipped.map((s) => [s.line, s.source]), [[line1, "ID_cut000001"], [
    line2,
    "ID_txt000002",
  ]]);
  assert(
    /truncated file.*copy or download the file again/.test(res.skipped[0].reason),
    res.skipped[0].reason,
  );
  assert(/ID_txt000002\.dcm: .*"DICM"/.test(res.skipped[1].reason), res.skipped[1].reason);

  // the CLI lists them: `data cache --skip-bad` exits 0, `data stats --check` reports them
  const cli = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), { args: ["run", "-A", "src/cli/data.ts", ...args], cwd: ROOT })
      .output();
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  const cache = await cli("cache", dir, "--size", "16", "--skip-bad", "--cache", join(tmp, "cli_cache"));
  assertEquals(cache.code, 0, dec(cache.stderr));
  const out = dec(cache.stdout);
  assert(out.includes(`${cfg.labels.count} images 3x16x16`), out);
  assert(new RegExp(`skipped 2:\\n  line ${line1} ID_cut000001: .*truncated`).test(out), out);
  const noSkip = await cli(
    "cache",
    dir,
    "--size",
    "16",
    "--windows",
    "brain",
    "--cache",
    join(tmp, "cli_cache"),
  );
  assertEquals(noSkip.code, 1);
  assert(
    /^error: .*labels\.csv line \d+: image "ID_cut000001": .*truncated file/.test(dec(noSkip.stderr)),
  );
  const check = await cli("stats", dir, "--check", "--json");
  assertEquals(check.code, 1, `--check fails when files are bad\n${dec(check.stderr)}`);
  const j = JSON.parse(dec(check.stdout));
  assertEquals([j.format, j.images, j.check.loaded, j.check.skipped.length], [
    "rsna",
    cfg.labels.count + 2,
    cfg.labels.count,
    2,
  ]);
});

Deno.test("dicom dataset: a CSV row naming a missing file says where it looked and what to do", async () => {
  const dir = await writeSeries("missing", { rows: normalRows("ID_gone00001") });
  await Deno.writeTextFile(
    join(dir, "patients.csv"),
    (await Deno.readTextFile(join(dir, "patients.csv"))) + patientRow("ID_gone00001") + "\n",
  );
  await assertRejects(
    () => loadDataset(dir, { cache: false }),
    Error,
    new RegExp(
      'labels\\.csv line \\d+: image "ID_gone00001": file not found \\(looked in .*\\.dcm.*\\); ' +
        "fix the path in the CSV.*--images DIR.*--skip-bad",
    ),
  );
  // every image bad: one error naming the first
  const empty = join(tmp, "empty");
  await Deno.mkdir(empty);
  await Deno.writeTextFile(
    join(empty, "labels.csv"),
    "ID,Label\n" + normalRows("ID_none00001").join("\n") + "\n",
  );
  await assertRejects(
    () => loadDataset(empty, { cache: false, skipBad: true }),
    Error,
    /labels\.csv: no image could be loaded \(1 skipped; first: line 2 "ID_none00001": file not found/,
  );
});

Deno.test("dicom dataset: `data stats` on the RSNA DICOM folder", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/data.ts", "stats", series, "--json"],
    cwd: ROOT,
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const s = JSON.parse(new TextDecoder().decode(out.stdout));
  const ref = makePhantom({ ...cfg, resolution: 8 });
  assertEquals([s.format, s.images, s.patients], ["rsna", ref.n, new Set(ref.patientIds).size]);
  const L = ref.labelNames.length;
  assertEquals(
    s.perLabel,
    ref.labelNames.map((_, j) => ref.labels.filter((v, k) => k % L === j && v === 1).length),
  );
});

Deno.test("dicom CLI: a folder argument reports each .dcm file; --json gives an array", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/dicom.ts", series, "--json"],
    cwd: ROOT,
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const reps = JSON.parse(new TextDecoder().decode(out.stdout));
  const names = makePhantom({ ...cfg, resolution: 8 }).sources.map((id) => `${id}.dcm`).sort();
  assertEquals(reps.map((r: { file: string }) => r.file), names.map((n) => join(series, n)));
  for (const r of reps) {
    assertEquals([r.header.rows, r.header.columns, r.header.modality, r.stats.units], [
      SIZE,
      SIZE,
      "CT",
      "HU",
    ]);
    assertEquals(r.header.windows, [{ center: 40, width: 80 }]);
    assert(
      r.stats.min >= -1024 && r.stats.max > 300,
      `HU range ${r.stats.min}..${r.stats.max} has air and bone`,
    );
  }
});

Deno.test("data bench rows: DICOM decode + 3 windows + resize, 16-bit PNG, radiograph PNGs", async () => {
  const ct = phantomToDicomSeries(cfg, { size: SIZE, limit: 1 }).files[0].bytes;
  const chest = [encodePng(new Float32Array(32 * 32).fill(0.5), 1, 32, 32)];
  const rows = await benchDataCases({ ctDicom: ct, ctName: "p.dcm", chestImages: chest }, {
    samples: 1,
    sampleMs: 1,
  });
  assertEquals(rows.map((r) => [r.op, r.shape, r.impl, r.gflops]), [
    ["dicom_decode_window_resize", `${SIZE}x${SIZE} -> 3x64x64`, "medsynth", null],
    ["png16_decode_resize", "512x512 -> 1x64x64", "medsynth", null],
    ["png_decode_resize", "32x32 -> 1x64x64", "medsynth", null],
  ]);
  for (const r of rows) {
    assert(
      r.ms! > 0 && Math.abs(r.ms! * r.images_per_s! - 1000) < 1e-6,
      `${r.op}: ${r.ms} ms, ${r.images_per_s}/s`,
    );
  }
  // without inputs: a 512 x 512 phantom slice written as DICOM in memory, and no radiograph row
  const fallback = phantomCtDicom();
  const h = (await dicomToHu(fallback, "phantom")).header;
  assertEquals([h.rows, h.columns, h.modality], [512, 512, "CT"]);
});

Deno.test({
  name: "dicom dataset: clean up",
  async fn() {
    await Deno.remove(tmp, { recursive: true });
  },
});
