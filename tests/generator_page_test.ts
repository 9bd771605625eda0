/**
 * The browser generator page (`deno task serve --run DIR`, `/generate`) in headless Chromium (Debian's
 * /usr/bin/chromium driven by playwright-core): a tiny run trained by `deno task train`, labels and seed
 * picked on the page, the images generated on Chromium's WebGPU compared with the same generation in Deno
 * and with `deno task generate`'s PNGs; only the run's generator.ckpt is readable; without WebGPU, without
 * a run and with a bad checkpoint the page says what is wrong. Fails when Chromium is missing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { bodyState, launchChromium, startServe } from "./_chromium.ts";
import { DEFAULT_PHANTOM_CONFIG, makePhantom, type PhantomLabelSpec } from "../src/data/phantom.ts";
import { decodePng } from "../src/data/png.ts";
import { resolveGanConfig } from "../src/models/config.ts";
import { decodeCheckpoint, encodeCheckpoint } from "../src/train/checkpoint.ts";
import { GanTrainer } from "../src/train/gan.ts";
import { generatorCheckpoint } from "../src/train/run_state.ts";
import { generateImages } from "../src/train/sampler.ts";
import { assertClose, testGpu } from "./_util.ts";
import { TINY_RUN } from "./_gan_setup.ts";
import { cli } from "./_cli.ts";

/** A generator small enough to train and sample in seconds on a CPU adapter. */
const TINY = {
  ...TINY_RUN,
  sampleEvery: 100_000,
  checkpointEvery: 100_000,
};

/** Waits until the page's state is one of `states` (30 s); returns it. */
async function waitState(page: Page, states: string[], timeout = 60_000): Promise<string> {
  await page.waitForFunction((s) => s.includes(document.body.dataset.state ?? ""), states, { timeout });
  return await bodyState(page);
}

/** The page's last generation: its metadata and (n, C, R, R) values. */
async function pageImages(
  page: Page,
): Promise<{ n: number; seed: number; labels: number[]; data: Float32Array }> {
  // deno-lint-ignore no-explicit-any
  const r = await page.evaluate(() => (globalThis as any).__medsynthImages);
  const bin = atob(r.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return { n: r.n, seed: r.seed, labels: r.labels, data: new Float32Array(bytes.buffer) };
}

/** Picks labels, seed and count on the page, clicks Generate and waits for the images. */
async function generateOnPage(page: Page, labels: string[], seed: number, n: number): Promise<void> {
  for (const box of await page.$$("#labels input[type=checkbox]")) {
    const name = await box.getAttribute("value");
    await box.setChecked(labels.includes(name!));
  }
  await page.fill("#seed", String(seed));
  await page.fill("#count", String(n));
  await page.click("#generate");
  const state = await waitState(page, ["done", "error"], 120_000);
  assert.equal(state, "done", await page.textContent("#error") ?? "");
}

Deno.test("generator page: labels + seed on Chromium's WebGPU give deno task generate's images", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "generator_page_" });
  let serve: Awaited<ReturnType<typeof startServe>> | null = null;
  let browser: Browser | null = null;
  try {
    // a real (tiny) training run: generator.ckpt written by deno task train
    const run = join(tmp, "run");
    await Deno.writeTextFile(join(tmp, "tiny.json"), JSON.stringify(TINY));
    const t0 = performance.now();
    const tr = await cli("train", [
      ...["--config", join(tmp, "tiny.json"), "--data", "phantom:120", "--out", run, "--images", "48"],
      "--quiet",
    ]);
    assert.equal(tr.code, 0, tr.stderr);
    console.log(`tiny train: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const ckBytes = await Deno.readFile(join(run, "generator.ckpt"));
    const ck = decodeCheckpoint(ckBytes, "generator.ckpt");
    const labelNames = ck.meta.labelNames as string[];

    serve = await startServe(["--run", run, "--rebuild"]);
    // only the checkpoint is readable, byte for byte; nothing else of the run folder
    const got = new Uint8Array(await (await fetch(`${serve.base}/run/generator.ckpt`)).arrayBuffer());
    assert.deepEqual(got, ckBytes);
    for (
      const p of [
        "/run/config.json",
        "/run/data.json",
        "/run/metrics.jsonl",
        "/run/checkpoints/",
        "/run/%2e%2e/run/config.json",
        "/run/generator.ckpt/../config.json",
        "/run/..%2fconfig.json",
        "/dist/..%2f..%2frun%2fgenerator.ckpt",
        `/dist/${encodeURIComponent(join(run, "config.json"))}`,
      ]
    ) {
      const r = await fetch(`${serve.base}${p}`);
      await r.body?.cancel();
      assert.ok(r.status === 404 || r.status === 400, `${p}: status ${r.status}`);
    }

    browser = await launchChromium(true);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${serve.base}/generate`);
    const state = await waitState(page, ["ready", "error", "no-webgpu"]);
    assert.equal(state, "ready", await page.textContent("#error") ?? "");
    // deno-lint-ignore no-explicit-any
    const adapter = JSON.stringify(await page.evaluate(() => (globalThis as any).__medsynthAdapter));
    const boxes = await page.$$eval("#labels input", (els) => els.map((e) => (e as HTMLInputElement).value));
    assert.deepEqual(boxes, labelNames);
    assert.equal(await page.inputValue("#seed"), String((ck.meta.config as { seed: number }).seed + 1));

    const gpu = await testGpu();
    const cases = [
      { labels: ["epidural", "subdural"], seed: 5, n: 3 },
      { labels: [], seed: 6, n: 2 },
    ];
    let maxDiff = 0;
    const pageResults: Float32Array[] = [];
    for (const c of cases) {
      const t1 = performance.now();
      await generateOnPage(page, c.labels, c.seed, c.n);
      const ms = performance.now() - t1;
      const img = await pageImages(page);
      const combo = labelNames.map((l) => c.labels.includes(l) ? 1 : 0);
      assert.deepEqual({ n: img.n, seed: img.seed, labels: img.labels }, {
        n: c.n,
        seed: c.seed,
        labels: combo,
      });
      assert.equal(await page.locator("#images canvas").count(), c.n);
      const ref = await generateImages(gpu, ck, combo, c.seed, c.n);
      assert.equal(img.data.length, c.n * ref.channels * ref.resolution ** 2);
      // Chromium's adapter (SwiftShader) and Deno's (llvmpipe) round differently: the images are tanh
      // outputs in [-1, 1] after ~10 layers of f32 sums, so 2e-3 (a quarter of an 8-bit PNG step) is room
      // for rounding and small enough that a different latent, label or weight would fail it
      assertClose(img.data, ref.images, { atol: 2e-3, rtol: 0 }, `page vs Deno, ${JSON.stringify(c)}`);
      const d = img.data.reduce((m, v, i) => Math.max(m, Math.abs(v - ref.images[i])), 0);
      maxDiff = Math.max(maxDiff, d);
      console.log(`${JSON.stringify(c)}: page ${ms.toFixed(0)} ms, max |page - Deno| ${d.toExponential(2)}`);
      pageResults.push(img.data);
    }
    console.log(`page adapter: ${adapter}; Deno adapter: ${gpu.adapter.description}; max diff ${maxDiff}`);
    // the inputs matter: other labels and seed give other images (so the comparison above can fail)
    const a = pageResults[0].subarray(0, pageResults[1].length), b = pageResults[1];
    assert.ok(a.some((v, i) => Math.abs(v - b[i]) > 0.01), "different labels/seed should give other images");

    // deno task generate draws the same images: its PNGs are the Deno values quantised
    const out = join(tmp, "cli");
    const gen = await cli("generate", [
      ...["--run", run, "--out", out, "--n", "3", "--combos", "epidural+subdural", "--seed", "5"],
    ]);
    assert.equal(gen.code, 0, gen.stderr);
    const combo = labelNames.map((l) => l === "epidural" || l === "subdural" ? 1 : 0);
    const ref = await generateImages(gpu, ck, combo, 5, 3);
    const sz = ref.channels * ref.resolution ** 2;
    const files = [...Deno.readDirSync(join(out, "images"))].map((e) => e.name).sort();
    assert.equal(files.length, 3);
    files.forEach((f, i) => {
      const png = decodePng(Deno.readFileSync(join(out, "images", f)));
      const max = 2 ** png.bitDepth - 1;
      const want = Array.from(
        ref.images.subarray(i * sz, (i + 1) * sz),
        (v) => Math.round((v + 1) / 2 * max),
      );
      assert.deepEqual(Array.from(png.data, (v) => Math.round(v * max)), want, `${f} vs generateImages`);
    });
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await serve?.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("generator page: clear messages without WebGPU, without a run, with a bad checkpoint", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "generator_page_msg_" });
  const servers: { stop: () => Promise<void> }[] = [];
  const browser = await launchChromium(false);
  try {
    // a generator checkpoint through the library's encode path (weights as initialised: no training needed)
    const gpu = await testGpu();
    const labels = { ...DEFAULT_PHANTOM_CONFIG.labels, count: 16 } as PhantomLabelSpec;
    const data = makePhantom({ resolution: 16, labels, seed: 3 });
    const { preset: _, ...over } = TINY;
    const tr = new GanTrainer(gpu, resolveGanConfig(over, "tiny"), data);
    await Deno.mkdir(join(tmp, "good"));
    await Deno.writeFile(
      join(tmp, "good", "generator.ckpt"),
      encodeCheckpoint(await generatorCheckpoint(tr)),
    );
    await Deno.mkdir(join(tmp, "bad"));
    await Deno.writeFile(join(tmp, "bad", "generator.ckpt"), new TextEncoder().encode("not a checkpoint"));

    // a run without generator.ckpt: serve refuses to start and says why
    const missing = await cli("serve", ["--run", join(tmp, "unfinished"), "--port", "0"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /generator\.ckpt not found/);

    const page = await browser.newPage();
    // no WebGPU: the labels are shown, Generate stays disabled, the message says what to do
    const good = await startServe(["--run", join(tmp, "good")]);
    servers.push(good);
    await page.goto(`${good.base}/generate`);
    assert.equal(await waitState(page, ["no-webgpu", "ready", "error"]), "no-webgpu");
    const msg = (await page.textContent("#error"))!;
    assert.match(msg, /WebGPU is not available in this browser/);
    assert.match(msg, /Chrome or Edge/);
    assert.match(msg, /enable-unsafe-webgpu/);
    assert.ok(await page.isVisible("#error"));
    assert.equal(await page.isDisabled("#generate"), true);
    assert.deepEqual(
      await page.$$eval("#labels input", (els) => els.map((e) => (e as HTMLInputElement).value)),
      data.labelNames,
    );

    // no run: the page says how to start with one, and there is no checkpoint to fetch
    const none = await startServe([]);
    servers.push(none);
    await page.goto(`${none.base}/generate`);
    assert.equal(await bodyState(page), "no-run");
    assert.match((await page.textContent("#error"))!, /No training run is loaded/);
    assert.match((await page.textContent("pre"))!, /deno task serve --run DIR/);
    assert.equal(
      (await fetch(`${none.base}/run/generator.ckpt`).then(async (r) => (await r.body?.cancel(), r))).status,
      404,
    );
    await page.goto(`${none.base}/`);
    assert.ok(await page.isVisible('a[href="/generate"]'));

    // a corrupt checkpoint: an error on the page, naming the problem
    const bad = await startServe(["--run", join(tmp, "bad")]);
    servers.push(bad);
    await page.goto(`${bad.base}/generate`);
    assert.equal(await waitState(page, ["error", "ready", "no-webgpu"]), "error");
    assert.match(
      (await page.textContent("#error"))!,
      /Bad generator checkpoint: .*not a medsynth checkpoint/,
    );
    assert.ok(await page.isVisible("#error"));
  } finally {
    await browser.close();
    for (const s of servers) await s.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});
