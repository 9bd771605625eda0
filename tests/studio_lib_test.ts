/**
 * The studio's library layer in Deno: the folder loader reads a folder as the CLI's loader does (same
 * images, labels, patients; same error for a missing image), and TrainSession over a run store trains
 * exactly as `deno task train` (same generator.ckpt on the same adapter), pausing and resuming from the
 * stored checkpoint without changing the result.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { validateGanConfig } from "../src/models/config.ts";
import { DEFAULT_PHANTOM_CONFIG, type PhantomLabelSpec, phantomToDicomSeries } from "../src/data/phantom.ts";
import { decodeCheckpoint } from "../src/train/checkpoint.ts";
import { loadDataset } from "../src/cli/_fs_dataset.ts";
import { loadSplitData } from "../src/cli/_run_dir.ts";
import { FsStore } from "../src/cli/_fs_store.ts";
import { type FolderFile, loadFolderDataset } from "../src/studio/folder.ts";
import { listStoreCheckpoints, MemoryStore, RUN_FILES } from "../src/studio/run_store.ts";
import { TrainSession } from "../src/studio/train_session.ts";
import { ROOT } from "./_chromium.ts";
import { testGpu } from "./_util.ts";
import { writePhantomFolder } from "./_phantom_folder.ts";
import { TINY_RUN } from "./_gan_setup.ts";

/** A folder on disk as the page sees a `webkitdirectory` pick (paths relative to the folder). */
async function folderFiles(dir: string): Promise<FolderFile[]> {
  const out: FolderFile[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else out.push({ path: relative(dir, p), read: () => Deno.readFile(p) });
    }
  };
  await walk(dir);
  return out;
}

Deno.test("studio folder loader: the CLI loader's images, labels and patients; its error for a missing image", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "studio_folder_" });
  try {
    await writePhantomFolder(tmp, 60);
    const cli = (await loadDataset(tmp, { size: 8, channels: 1, cache: false })).dataset;
    const page = (await loadFolderDataset(await folderFiles(tmp), { size: 8, channels: 1 })).dataset;
    assert.equal(page.n, 60);
    assert.deepEqual(page.labelNames, cli.labelNames);
    assert.deepEqual(page.patientIds, cli.patientIds);
    assert.deepEqual(page.labels, cli.labels);
    assert.equal(page.format, "plain");
    assert.deepEqual(page.images, cli.images);

    await Deno.remove(join(tmp, "images", "slice_0003.png"));
    const files = await folderFiles(tmp);
    await assert.rejects(
      () => loadFolderDataset(files, { size: 8, channels: 1, folder: "scans" }),
      /^Error: labels\.csv line 5: image "images\/slice_0003\.png": file not found \(looked in scans\/images and scans\)/,
    );
    await assert.rejects(
      () =>
        loadFolderDataset(files.filter((f) => !f.path.endsWith(".csv")), {
          size: 8,
          channels: 1,
          folder: "scans",
        }),
      /scans: no label CSV in this folder/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("studio folder loader: an RSNA DICOM series (ids without extension, patients.csv) as the CLI reads it", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "studio_dicom_" });
  try {
    const labels = { ...DEFAULT_PHANTOM_CONFIG.labels, count: 12 } as PhantomLabelSpec;
    const s = phantomToDicomSeries({ labels, seed: 5 }, { size: 24 });
    for (const f of s.files) await Deno.writeFile(join(tmp, f.name), f.bytes);
    await Deno.writeTextFile(join(tmp, "labels.csv"), s.csv);
    await Deno.writeTextFile(join(tmp, "patients.csv"), s.patientsCsv);
    for (const channels of [1, 3] as const) {
      const cli = (await loadDataset(tmp, { size: 16, channels, cache: false })).dataset;
      const page = (await loadFolderDataset(await folderFiles(tmp), { size: 16, channels })).dataset;
      assert.equal(page.format, "rsna");
      assert.equal(page.n, 12);
      assert.deepEqual(page.patientIds, cli.patientIds);
      assert.deepEqual(page.labels, cli.labels);
      assert.deepEqual(page.images, cli.images, `${channels} channel(s)`);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

const TINY = {
  ...TINY_RUN,
  sampleEvery: 24,
  checkpointEvery: 24,
  images: 48,
};

Deno.test("studio TrainSession: deno task train's generator.ckpt, also when paused and resumed", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "studio_session_" });
  try {
    const run = join(tmp, "cli");
    await Deno.writeTextFile(join(tmp, "tiny.json"), JSON.stringify(TINY));
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(ROOT, "src/cli/train.ts"),
        "--config",
        join(tmp, "tiny.json"),
        "--data",
        "phantom:120",
        "--out",
        run,
        "--quiet",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    const cfg = validateGanConfig(JSON.parse(await Deno.readTextFile(join(run, "config.json"))));
    const spec = JSON.parse(await Deno.readTextFile(join(run, "data.json")));
    const { train } = await loadSplitData(spec, run);
    const want = decodeCheckpoint(await Deno.readFile(join(run, "generator.ckpt")));
    const gpu = await testGpu();

    // straight through, on disk
    const fs = new FsStore(join(tmp, "studio"));
    const s1 = await TrainSession.open(gpu, fs, cfg, train);
    assert.equal(s1.resumedFrom, null);
    assert.equal(await s1.run({}, spec), "done");
    const got = decodeCheckpoint((await fs.read(RUN_FILES.generator))!);
    assert.deepEqual([...got.arrays.keys()], [...want.arrays.keys()]);
    for (const [k, v] of want.arrays) assert.deepEqual(got.arrays.get(k), v, `${k} vs deno task train`);
    assert.deepEqual(got.meta.data, spec);
    assert.ok((await fs.list(RUN_FILES.samples)).some((n) => /^samples_\d{10}\.png$/.test(n)));

    // paused after the first checkpoint, then a new session (a reloaded tab) resumes from the store
    const mem = new MemoryStore();
    const s2 = await TrainSession.open(gpu, mem, cfg, train);
    assert.equal(await s2.run({ shouldStop: () => s2.tr.imagesSeen >= 24 }, spec), "stopped");
    assert.deepEqual(await listStoreCheckpoints(mem), ["checkpoints/ckpt_000000000024.ckpt"]);
    // a torn newer checkpoint is skipped, as --resume skips it
    await mem.write("checkpoints/ckpt_000000000032.ckpt", new Uint8Array(10));
    const warned: string[] = [];
    const s3 = await TrainSession.open(gpu, mem, cfg, train, (w) => warned.push(w));
    assert.equal(s3.resumedFrom, "checkpoints/ckpt_000000000024.ckpt");
    assert.match(warned.join("\n"), /skipping checkpoints\/ckpt_000000000032\.ckpt/);
    assert.equal(s3.tr.imagesSeen, 24);
    assert.equal(await s3.run({}, spec), "done");
    const resumed = decodeCheckpoint((await mem.read(RUN_FILES.generator))!);
    for (const [k, v] of want.arrays) assert.deepEqual(resumed.arrays.get(k), v, `${k} after resume`);
    const events = new TextDecoder().decode((await mem.read(RUN_FILES.metrics))!).split("\n").filter(Boolean)
      .map((l) => JSON.parse(l).event).filter(Boolean);
    assert.deepEqual(events, ["stopped", "resume", "done"]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
