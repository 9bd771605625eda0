/**
 * The studio (`deno task serve`, `/studio`) in headless Chromium (Debian's, through playwright-core): a
 * folder of phantom PNGs + label CSV picked through the file input, a tiny config trained on Chromium's
 * WebGPU, the tab reloaded in the middle and the run resumed from its OPFS checkpoint, an evaluation with
 * small budgets, and the zip checked (results.json in the CLI's schema, the synthetic set in the input's
 * format, a run folder that `deno task generate` and `deno task report` accept). Every request the page
 * makes is recorded: only the origin's static files, no body. Screenshots of each step (1280x800 and
 * 420 px wide) go to $STUDIO_SHOTS when set. Also: a folder opened through showDirectoryPicker, and the page
 * without WebGPU. Fails when Chromium is missing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { unzipSync } from "fflate";
import type { Browser, Page } from "playwright-core";
import { bodyState, launchChromium, startServe } from "./_chromium.ts";
import { writePhantomFolder } from "./_phantom_folder.ts";
import { loadDataset } from "../src/cli/_fs_dataset.ts";
import { datasetStats } from "../src/data/subset.ts";
import { splitByPatient } from "../src/data/split.ts";
import { parseLabels } from "../src/data/labels.ts";
import { decodeCheckpoint } from "../src/train/checkpoint.ts";
import { parseResults, RESULTS_SCHEMA } from "../src/report/results.ts";
import { resolveGanConfig } from "../src/models/config.ts";
import { TINY_RUN } from "./_gan_setup.ts";
import { cli } from "./_cli.ts";

/** Small enough to train in well under a minute on a CPU adapter; checkpoints every 32 images. */
const TINY = {
  ...TINY_RUN,
  sampleEvery: 32,
  checkpointEvery: 32,
  images: 96,
};

// Liveness bounds, not timings: on a loaded 2-core machine (two training runs beside the suite) the pause's
// checkpoint took over 120 s, so every wait allows 10 minutes before it calls the studio stuck.
const STUCK_MS = 600_000;

async function waitState(page: Page, states: string[], timeout = STUCK_MS): Promise<string> {
  await page.waitForFunction((s) => s.includes(document.body.dataset.state ?? ""), states, { timeout });
  return await bodyState(page);
}

// deno-lint-ignore no-explicit-any
const studio = (page: Page): Promise<any> => page.evaluate(() => (globalThis as any).__studio);

Deno.test("studio: folder -> train (reload, resume) -> evaluate -> zip, on Chromium's WebGPU, nothing uploaded", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "studio_" });
  const shots = Deno.env.get("STUDIO_SHOTS") ?? null;
  let serve: Awaited<ReturnType<typeof startServe>> | null = null;
  let browser: Browser | null = null;
  const shot = async (page: Page, name: string) => {
    if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  };
  try {
    const folder = join(tmp, "scans");
    await writePhantomFolder(folder, 120);
    serve = await startServe(["--rebuild"]);
    const base = serve.base;
    browser = await launchChromium(true);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    const requests: { url: string; method: string; body: string | null }[] = [];
    ctx.on("request", (r) => requests.push({ url: r.url(), method: r.method(), body: r.postData() }));
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));

    // 1. data: the folder through the file input, the stats and split of the CLI's loader
    await page.goto(`${base}/studio`);
    assert.equal(
      await waitState(page, ["ready", "error", "no-webgpu"]),
      "ready",
      await page.textContent("#error") ?? "",
    );
    await page.check("input[name=source][value=folder]");
    // a folder whose CSV names a missing image: the loader's error, naming the CSV line and the image
    const broken = join(tmp, "broken");
    await writePhantomFolder(broken, 60);
    await Deno.remove(join(broken, "images", "slice_0003.png"));
    await page.setInputFiles("#folder", broken);
    await page.click("#load");
    assert.equal(await waitState(page, ["loaded", "error"]), "error");
    assert.match(
      (await page.textContent("#error"))!,
      /^labels\.csv line 5: image "images\/slice_0003\.png": file not found \(looked in broken\/images and broken\)/,
    );
    await shot(page, "0-bad-folder");
    await page.setInputFiles("#folder", folder);
    await page.fill("#config", JSON.stringify(TINY));
    await page.click("#load");
    // the page still says "error" from the broken folder until this load starts: wait for it to leave that
    await page.waitForFunction(() => document.body.dataset.state !== "error", null, { timeout: STUCK_MS });
    assert.equal(
      await waitState(page, ["loaded", "error"]),
      "loaded",
      await page.textContent("#error") ?? "",
    );
    const ref = (await loadDataset(folder, { size: 16, channels: 1, cache: false })).dataset;
    const s = await studio(page);
    assert.deepEqual(s.stats, datasetStats(ref));
    assert.equal(s.decodedIn, "worker");
    const sp = splitByPatient(ref.patientIds, { seed: resolveGanConfig(TINY).seed });
    assert.deepEqual(
      Object.fromEntries(Object.entries(s.split).map(([k, v]) => [k, (v as { images: number }).images])),
      { train: sp.train.length, valid: sp.valid.length, test: sp.test.length },
    );
    assert.match((await page.textContent("#stats"))!, /images: 120 · patients: \d+/);
    await shot(page, "1-data");

    // 2. train; reload after the first checkpoint; the reloaded tab resumes from it
    await page.click("#train");
    // deno-lint-ignore no-explicit-any
    await page.waitForFunction(() => (globalThis as any).__studio.checkpoint?.imagesSeen >= 32, null, {
      timeout: STUCK_MS,
    });
    await shot(page, "2-training");
    const before = (await studio(page)).checkpoint;
    await page.reload();
    assert.equal(
      await waitState(page, ["paused", "error"]),
      "paused",
      await page.textContent("#error") ?? "",
    );
    const after = await studio(page);
    assert.match(after.resumedFrom, /^checkpoints\/ckpt_\d{12}\.ckpt$/);
    assert.ok(after.progress.imagesSeen >= before.imagesSeen, JSON.stringify({ before, after }));
    assert.match((await page.textContent("#train-status"))!, /Resumed from checkpoints\/ckpt_/);
    await shot(page, "3-resumed");
    const t0 = performance.now();
    await page.click("#train");
    // pause (a checkpoint and the "stopped" event, as Ctrl-C) and go on
    await page.waitForFunction(
      // deno-lint-ignore no-explicit-any
      (n) => (globalThis as any).__studio.progress?.imagesSeen >= n,
      after.progress.imagesSeen + 8,
      { timeout: STUCK_MS },
    );
    await page.click("#pause");
    assert.equal(await waitState(page, ["paused", "trained", "error"]), "paused");
    assert.match((await page.textContent("#train-status"))!, /^Paused at \d+ images/);
    await page.click("#train");
    assert.equal(
      await waitState(page, ["trained", "error"]),
      "trained",
      await page.textContent("#error") ?? "",
    );
    console.log(
      `page: trained the rest (${96 - after.progress.imagesSeen} images) in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
    );
    assert.match((await page.textContent("#train-numbers"))!, /96 \/ 96 images · [\d.]+ images\/s/);
    await shot(page, "4-trained");

    // 3. evaluate with small budgets
    await page.fill("#eval-images", "64");
    await page.fill("#eval-epochs", "1");
    await page.fill("#eval-resamples", "20");
    await page.click("#evaluate");
    assert.equal(
      await waitState(page, ["evaluated", "error"]),
      "evaluated",
      await page.textContent("#error") ?? "",
    );
    const stages = (await studio(page)).stages as string[];
    for (const st of ["generate train", "features", "fidelity", "privacy", "report", "done"]) {
      assert.ok(stages.some((x) => x.startsWith(st)), `stage ${st} in ${stages}`);
    }
    assert.ok(await page.isVisible("#report"));
    const reportTitle = await page.frameLocator("#report").locator("h1").first().textContent();
    assert.match(reportTitle!, /medsynth evaluation/);
    await shot(page, "5-evaluated");
    if (shots) await page.locator("#report").screenshot({ path: join(shots, "5b-report.png") });

    // 4. export: the zip is a run folder with the synthetic set and results.json
    await page.click("#export");
    await page.waitForSelector("#download:not([hidden])", { timeout: STUCK_MS });
    await shot(page, "6-export");
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    const zipPath = join(tmp, "run.zip");
    await dl.saveAs(zipPath);
    const zip = unzipSync(await Deno.readFile(zipPath));
    const names = Object.keys(zip).sort();
    const runDir = join(tmp, "unzipped");
    for (const [n, bytes] of Object.entries(zip)) {
      await Deno.mkdir(join(runDir, n, ".."), { recursive: true });
      await Deno.writeFile(join(runDir, n), bytes);
    }
    assert.ok(!names.some((n) => n.endsWith(".msdc")), "the real images stay in the browser");
    for (
      const n of [
        "config.json",
        "data.json",
        "metrics.jsonl",
        "generator.ckpt",
        "results.json",
        "report.html",
      ]
    ) {
      assert.ok(names.includes(`medsynth-run/${n}`), `${n} in ${names.join(", ")}`);
    }
    const results = parseResults(JSON.parse(new TextDecoder().decode(zip["medsynth-run/results.json"])));
    assert.equal(results.schema, RESULTS_SCHEMA);
    // the zip leaves the page: its results and report are the shareable forms (no real image)
    assert.equal(results.shareable, true);
    assert.deepEqual(results.gallery, []);
    assert.ok(results.grids === null || results.grids.rows.every((g) => g.real === null));
    assert.ok(new TextDecoder().decode(zip["medsynth-run/report.html"]).includes("Shareable form"));
    assert.equal(results.dataset.real.train.images, sp.train.length);
    assert.deepEqual(results.dataset.labelNames, ref.labelNames);
    for (const split of ["train", "valid", "test"] as const) {
      const csv = new TextDecoder().decode(zip[`medsynth-run/synthetic/${split}/labels.csv`]);
      const table = parseLabels(csv, { file: `${split}/labels.csv` });
      assert.equal(table.format, "plain");
      assert.equal(table.entries.length, sp[split].length);
      for (const e of table.entries) assert.ok(zip[`medsynth-run/synthetic/${split}/${e.source}`], e.source);
      assert.ok(zip[`medsynth-run/synthetic/${split}/data_card.json`]);
    }
    const ck = decodeCheckpoint(zip["medsynth-run/generator.ckpt"]);
    assert.equal(ck.meta.imagesSeen, 96);

    // the CLIs accept the run folder
    const run = join(runDir, "medsynth-run");
    const gen = await cli("generate", [
      "--run",
      run,
      "--out",
      join(tmp, "gen"),
      "--n",
      "2",
      "--combos",
      "epidural",
    ]);
    assert.equal(gen.code, 0, gen.stderr);
    assert.equal([...Deno.readDirSync(join(tmp, "gen", "images"))].length, 2);
    const rep = await cli("report", ["--run", run, "--out", join(tmp, "report.html")]);
    assert.equal(rep.code, 0, rep.stderr);

    // the same config and data in deno task train: speed, and how far Chromium's adapter drifts
    const metrics = new TextDecoder().decode(zip["medsynth-run/metrics.jsonl"]).split("\n").filter(Boolean)
      .map((l) => JSON.parse(l));
    // the reload left no event (as a crash), the reopened tab resumed, the pause stopped, the end is done
    assert.deepEqual(metrics.filter((m) => m.event).map((m) => m.event), ["resume", "stopped", "done"]);
    await Deno.writeTextFile(join(tmp, "tiny.json"), JSON.stringify(TINY));
    const dr = await cli("train", [
      "--config",
      join(tmp, "tiny.json"),
      "--data",
      folder,
      "--out",
      join(tmp, "deno"),
      "--quiet",
    ]);
    assert.equal(dr.code, 0, dr.stderr);
    const denoMetrics = (await Deno.readTextFile(join(tmp, "deno", "metrics.jsonl"))).split("\n").filter(
      Boolean,
    )
      .map((l) => JSON.parse(l));
    const denoCk = decodeCheckpoint(await Deno.readFile(join(tmp, "deno", "generator.ckpt")));
    assert.deepEqual(ck.meta.config, denoCk.meta.config);
    assert.deepEqual(ck.meta.labelNames, denoCk.meta.labelNames);
    let maxDiff = 0;
    for (const [k, v] of denoCk.arrays) {
      const w = ck.arrays.get(k)!;
      assert.equal(w.length, v.length, k);
      for (let i = 0; i < v.length; i++) maxDiff = Math.max(maxDiff, Math.abs(v[i] - w[i]));
    }
    // steady state: the median rate between loss readbacks over the last 32 images (pipelines compiled)
    const steady = (rows: { imagesSeen?: number; imagesPerSec?: number; event?: string }[]) => {
      const r = rows.filter((m) => !m.event && m.imagesSeen! > TINY.images - 32).map((m) => m.imagesPerSec!)
        .sort((a, b) => a - b);
      return r[r.length >> 1];
    };
    const done = (rows: { event?: string; imagesPerSec?: number }[]) => rows.find((m) => m.event === "done")!;
    console.log(
      `${await page.textContent("#adapter")}; steady img/s: page ${
        steady(metrics).toFixed(1)
      }, deno task train ` +
        `${steady(denoMetrics).toFixed(1)}; whole segment incl. pipeline compiles: page ` +
        `${done(metrics).imagesPerSec!.toFixed(1)}, deno ${done(denoMetrics).imagesPerSec!.toFixed(1)}; ` +
        `generator weights max |page - Deno| ${maxDiff.toExponential(2)}`,
    );

    // narrow window: the same page, restored from OPFS, at 420 px
    const narrow = await ctx.newPage();
    await narrow.setViewportSize({ width: 420, height: 800 });
    await narrow.goto(`${base}/studio`);
    assert.equal(await waitState(narrow, ["trained", "error"]), "trained");
    const overflow = await narrow.evaluate(() =>
      document.documentElement.scrollWidth - globalThis.innerWidth
    );
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than a 420 px window`);
    await shot(narrow, "7-narrow");

    // nothing left the page: only GETs of the origin's static files, no body
    const allowed = new Set(["/studio", "/dist/studio.js", "/dist/studio_worker.js", "/dist/studio.js.map"]);
    for (const r of requests) {
      if (/^(blob|data|about):/.test(r.url)) continue;
      const u = new URL(r.url);
      assert.equal(u.origin, base, `request to another origin: ${r.url}`);
      assert.ok(allowed.has(u.pathname), `request for ${u.pathname}`);
      assert.equal(r.method, "GET", `${r.method} ${r.url}`);
      assert.equal(r.body, null, `${r.url} carries a body`);
    }
    assert.ok(requests.some((r) => r.url.endsWith("/dist/studio.js")));
    console.log(
      `requests: ${requests.length} (${
        [...new Set(requests.map((r) => r.url.replace(base, "")))].join(", ")
      })`,
    );
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await serve?.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("studio: without WebGPU the page says what to do", async () => {
  const serve = await startServe([]);
  const browser = await launchChromium(false);
  try {
    const page = await browser.newPage();
    await page.goto(`${serve.base}/studio`);
    assert.equal(await waitState(page, ["no-webgpu", "ready", "error"]), "no-webgpu");
    assert.match(
      (await page.textContent("#error"))!,
      /WebGPU is not available in this browser.*Chrome or Edge/,
    );
    assert.equal(await page.isDisabled("#train"), true);
  } finally {
    await browser.close();
    await serve.stop();
  }
});

Deno.test("studio: a folder opened through the File System Access API (showDirectoryPicker)", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "studio_fsa_" });
  const serve = await startServe(["--rebuild"]);
  const browser = await launchChromium(true);
  try {
    await writePhantomFolder(tmp, 60);
    const files: { path: string; b64: string }[] = [];
    for (const sub of ["", "images/"]) {
      for (const e of Deno.readDirSync(join(tmp, sub))) {
        if (!e.isFile) continue;
        const bytes = await Deno.readFile(join(tmp, sub, e.name));
        files.push({ path: sub + e.name, b64: btoa(String.fromCharCode(...bytes)) });
      }
    }
    const page = await browser.newPage();
    // the picker dialog cannot be driven headless: it answers with an OPFS folder holding the same files
    // (OPFS handles are the same FileSystemDirectoryHandle the picker returns)
    await page.addInitScript(() => {
      // deno-lint-ignore no-explicit-any
      (globalThis as any).showDirectoryPicker = async () =>
        await (await navigator.storage.getDirectory()).getDirectoryHandle("picked");
    });
    await page.goto(`${serve.base}/studio`);
    assert.equal(await waitState(page, ["ready", "error", "no-webgpu"]), "ready");
    await page.evaluate(async (files) => {
      const root = await (await navigator.storage.getDirectory()).getDirectoryHandle("picked", {
        create: true,
      });
      for (const f of files) {
        const parts = f.path.split("/");
        let d = root;
        for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p, { create: true });
        const w = await (await d.getFileHandle(parts[parts.length - 1], { create: true })).createWritable();
        await w.write(Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0)));
        await w.close();
      }
    }, files);
    await page.check("input[name=source][value=folder]");
    await page.fill("#config", JSON.stringify(TINY));
    await page.click("#open-folder");
    await page.waitForFunction(() =>
      /61 files in picked/.test(document.getElementById("data-status")!.textContent!)
    );
    await page.click("#load");
    assert.equal(
      await waitState(page, ["loaded", "error"]),
      "loaded",
      await page.textContent("#error") ?? "",
    );
    const ref = (await loadDataset(tmp, { size: 16, channels: 1, cache: false })).dataset;
    const s = await studio(page);
    assert.deepEqual(s.stats, datasetStats(ref));
    assert.equal(s.decodedIn, "worker");
  } finally {
    await browser.close();
    await serve.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("studio: a run folder of deno task train opens and continues in the page", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "studio_run_" });
  const serve = await startServe(["--rebuild"]);
  const browser = await launchChromium(true);
  try {
    const run = join(tmp, "cli-run");
    await Deno.writeTextFile(
      join(tmp, "tiny.json"),
      JSON.stringify({ ...TINY, images: 32, checkpointEvery: 16 }),
    );
    const tr = await cli("train", [
      "--config",
      join(tmp, "tiny.json"),
      "--data",
      "phantom:60",
      "--out",
      run,
      "--quiet",
    ]);
    assert.equal(tr.code, 0, tr.stderr);
    const want = decodeCheckpoint(await Deno.readFile(join(run, "generator.ckpt")));
    // as if the run had been interrupted before its end: checkpoints, no generator.ckpt
    await Deno.remove(join(run, "generator.ckpt"));
    const page = await browser.newPage();
    await page.goto(`${serve.base}/studio`);
    assert.equal(await waitState(page, ["ready", "error", "no-webgpu"]), "ready");
    await page.click("details summary");
    await page.setInputFiles("#run-folder", run);
    await page.click("#open-run");
    assert.equal(
      await waitState(page, ["paused", "trained", "error"]),
      "paused",
      await page.textContent("#error") ?? "",
    );
    assert.equal((await studio(page)).resumedFrom, "checkpoints/ckpt_000000000032.ckpt");
    assert.match((await page.textContent("#stats"))!, /images: 60 · /);
    await page.click("#train");
    assert.equal(
      await waitState(page, ["trained", "error"]),
      "trained",
      await page.textContent("#error") ?? "",
    );
    // the page's generator.ckpt (from the restored EMA weights) is the CLI's
    const b64 = await page.evaluate(async () => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle("medsynth-studio-run");
      const bytes = new Uint8Array(
        await (await (await dir.getFileHandle("generator.ckpt")).getFile()).arrayBuffer(),
      );
      let s = "";
      for (let i = 0; i < bytes.length; i += 0x8000) {
        s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      }
      return btoa(s);
    });
    const got = decodeCheckpoint(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    for (const [k, v] of want.arrays) assert.deepEqual(got.arrays.get(k), v, k);
  } finally {
    await browser.close();
    await serve.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});
