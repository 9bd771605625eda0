/**
 * End-to-end tests in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core; never a
 * browser download): the library bundle, the benchmark page with and without WebGPU, and a reader study
 * done by three simulated readers across a server crash and a closed tab. Fails when Chromium is missing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { bodyState, launchChromium, ROOT, startServe } from "./_chromium.ts";
import { readerOrder, type StudyManifest } from "../src/reader/study.ts";
import {
  assertSummaryMatches,
  freePort,
  independentAnalysis,
  makeSyntheticFolder,
  type ReaderProc,
  REAL_DIR,
  runReaderCli,
  startReader,
} from "./_reader_util.ts";

Deno.test("bundle: dist/medsynth.js and dist/bench.js have no Deno references", async () => {
  const r = await new Deno.Command(Deno.execPath(), { args: ["task", "bundle"], cwd: ROOT }).output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  for (const f of ["medsynth.js", "bench.js", "studio.js", "studio_worker.js"]) {
    const text = await Deno.readTextFile(join(ROOT, "dist", f));
    assert.ok(text.length > 10_000, `${f} is only ${text.length} bytes`);
    assert.equal(/\bDeno\.[A-Za-z_]/.exec(text), null, `${f} refers to Deno APIs`);
  }
  assert.match(await Deno.readTextFile(join(ROOT, "dist", "medsynth.js")), /export\s*\{[^}]*\bGpu\b/);
  // the studio's static page loads its script from beside it (dist/ on any static file server)
  assert.match(
    await Deno.readTextFile(join(ROOT, "dist", "studio.html")),
    /<script type="module" src="studio\.js">/,
  );
});

Deno.test("pages in Chromium: bundle loads, bench runs on WebGPU, clear message without WebGPU", async () => {
  const serve = await startServe();
  const withGpu = await launchChromium(true), without = await launchChromium(false);
  try {
    // without WebGPU: a message, not a blank page
    const p0 = await without.newPage();
    await p0.goto(`${serve.base}/`);
    await p0.waitForFunction(() => document.body.dataset.state === "no-webgpu", null, { timeout: 30_000 });
    assert.match(await p0.textContent("#error") ?? "", /WebGPU is not available/);
    await p0.goto(`${serve.base}/bench?quick=1&autorun=1`);
    await p0.waitForFunction(() => document.body.dataset.state === "no-webgpu", null, { timeout: 30_000 });
    assert.match(await p0.textContent("#error") ?? "", /WebGPU is not available in this browser/);
    assert.ok(await p0.isVisible("#error"));
    assert.equal(await p0.isDisabled("#run"), true);

    // with WebGPU: the library bundle's Gpu.create() finds an adapter
    const p1 = await withGpu.newPage();
    const errors: string[] = [];
    p1.on("pageerror", (e) => errors.push(String(e)));
    await p1.goto(`${serve.base}/`);
    await p1.waitForFunction(() => document.body.dataset.state !== "checking", null, { timeout: 30_000 });
    assert.equal(await bodyState(p1), "webgpu", await p1.textContent("#error") ?? "");
    assert.match(await p1.textContent("#webgpu") ?? "", /WebGPU adapter: /);

    // the bench page runs a quick case and produces the same JSON row fields as `deno task bench`
    await p1.goto(`${serve.base}/bench?quick=1&filter=matmul&samples=1&autorun=1`);
    await p1.waitForFunction(
      () => ["done", "error", "no-webgpu"].includes(document.body.dataset.state ?? ""),
      null,
      {
        timeout: 90_000,
      },
    );
    assert.equal(await bodyState(p1), "done", await p1.textContent("#error") ?? "");
    // deno-lint-ignore no-explicit-any
    const doc = await p1.evaluate(() => (globalThis as any).medsynthBench);
    assert.equal(doc.results.length, 1);
    const row = doc.results[0];
    assert.deepEqual(Object.keys(row).sort(), ["gflops", "impl", "ms", "op", "shape"]);
    assert.equal(row.op, "matmul");
    assert.equal(row.impl, "medsynth");
    assert.ok(row.ms > 0 && row.gflops > 0, JSON.stringify(row));
    assert.equal(doc.adapter.runtime, "browser");
    assert.match(await p1.textContent("#table") ?? "", /matmul/);
    // the JSON download, as a visitor clicking the link gets it
    const [dl] = await Promise.all([p1.waitForEvent("download"), p1.click("#download")]);
    assert.equal(dl.suggestedFilename(), "medsynth-bench.json");
    const downloaded = JSON.parse(await Deno.readTextFile(await dl.path()));
    assert.deepEqual(downloaded.results, doc.results);
    assert.deepEqual(errors, []);
  } finally {
    await withGpu.close();
    await without.close();
    await serve.stop();
  }
});

Deno.test("reader study: three readers, a server crash, a closed tab; analysis matches", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "browser_reader_" });
  const browser = await launchChromium(false);
  let srv: ReaderProc | null = null;
  try {
    const syn = join(tmp, "synthetic"), dir = join(tmp, "study");
    await makeSyntheticFolder(syn, 24, 100);
    await runReaderCli([
      ...["--real", REAL_DIR, "--synthetic", syn, "--resolutions", "16,32", "--per-block", "3"],
      ...["--mode", "single", "--seed", "3", "--out", dir, "--no-serve"],
    ]);
    const m: StudyManifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    const port = freePort();
    const args = ["serve", dir, "--host", "127.0.0.1", "--port", String(port)];
    srv = await startReader(args);
    const link = srv.link;
    assert.match(link, /token=/);

    const readers = ["ann", "ben", "cat"];
    const intended = new Map<string, { answer: string; confidence: number | null }>();
    // reader r answers correctly except on trials k with (k + r) % 3 === 0; confidence on odd trials
    const decide = (r: number, reader: string, item: string) => {
      const k = readerOrder(m, reader).findIndex((t) => t.item === item);
      const truth = m.images[item].truth;
      const answer = (k + r) % 3 === 0 ? (truth === "real" ? "synthetic" : "real") : truth;
      return { answer, confidence: k % 2 ? 1 + ((k + r) % 5) : null };
    };
    const pages = new Map<string, Page>();
    const open = async (reader: string, ctx?: BrowserContext) => {
      const page = await (ctx ?? await browser.newContext()).newPage();
      await page.goto(link);
      await page.waitForFunction(() => document.body.dataset.state === "login");
      await page.fill("#reader", reader);
      await page.selectOption("#experience", "resident");
      await page.click("#start");
      await page.waitForFunction(() =>
        ["trial", "interlude", "done"].includes(document.body.dataset.state ?? "")
      );
      pages.set(reader, page);
      return page;
    };
    /** Answers `count` items (passing interludes); when `wait` is false, returns right after the key press. */
    const answer = async (r: number, count: number, wait = true) => {
      const reader = readers[r], page = pages.get(reader)!;
      for (let done = 0; done < count;) {
        const state = await bodyState(page);
        if (state === "done") return;
        if (state === "interlude") {
          await page.keyboard.press("Enter");
          await page.waitForFunction(() => document.body.dataset.state === "trial");
          continue;
        }
        const item = await page.getAttribute("#trial", "data-item");
        const d = decide(r, reader, item!);
        intended.set(`${reader}|${item}`, d);
        if (d.confidence) await page.keyboard.press(String(d.confidence));
        await page.keyboard.press(
          d.answer === "real" ? (r === 0 ? "r" : "ArrowLeft") : (r === 0 ? "s" : "ArrowRight"),
        );
        done++;
        if (!wait) return;
        await page.waitForFunction(
          (prev) =>
            document.body.dataset.state !== "trial" ||
            document.getElementById("trial")!.dataset.item !== prev,
          item,
          { timeout: 30_000 },
        );
      }
    };

    for (const reader of readers) await open(reader);
    await answer(0, 4);
    await answer(1, 5);
    await answer(2, 2);

    // the server crashes; ann answers while it is down (the page retries), then it comes back
    await srv.kill("SIGKILL");
    await answer(0, 1, false);
    await pages.get("ann")!.waitForFunction(() =>
      /retrying/.test(document.getElementById("status")!.textContent!)
    );
    srv = await startReader(args);
    await pages.get("ann")!.waitForFunction(
      () => document.getElementById("status")!.textContent === "",
      null,
      {
        timeout: 30_000,
      },
    );

    // someone in another browser cannot take over ben's id (his key stays in his browser)
    const other = await (await browser.newContext()).newPage();
    await other.goto(link);
    await other.waitForFunction(() => document.body.dataset.state === "login");
    await other.fill("#reader", "ben");
    await other.selectOption("#experience", "resident");
    await other.click("#start");
    await other.waitForFunction(() => /already taken/.test(document.getElementById("error")!.textContent!));
    assert.equal(await bodyState(other), "login");
    await other.context().close();

    // ben closes his tab and comes back: the page resumes at his first unanswered item
    const benBrowser = pages.get("ben")!.context();
    await pages.get("ben")!.close();
    const ben = await open("ben", benBrowser);
    assert.equal(await bodyState(ben), "trial");
    assert.match(await ben.textContent("#progress") ?? "", /^Item 6 of 12 \(5 answered\)/);
    assert.equal(await ben.getAttribute("#trial", "data-item"), readerOrder(m, "ben")[5].item);

    for (let r = 0; r < 3; r++) await answer(r, 100);
    for (const reader of readers) {
      await pages.get(reader)!.waitForFunction(() => document.body.dataset.state === "done");
      assert.match(await pages.get(reader)!.textContent("#done") ?? "", /All 12 items answered/);
    }

    // every answer is on disk exactly once, as given
    const lines = (await Deno.readTextFile(join(dir, "answers.jsonl"))).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(lines.length, 36);
    assert.equal(new Set(lines.map((l) => `${l.reader}|${l.item}`)).size, 36);
    for (const l of lines) {
      assert.deepEqual({ answer: l.answer, confidence: l.confidence }, intended.get(`${l.reader}|${l.item}`));
      assert.equal(l.change, false);
    }
    const registered = (await Deno.readTextFile(join(dir, "readers.jsonl"))).trim().split("\n");
    assert.equal(registered.length, 3);

    // the analysis agrees with an independent computation from the answers
    const got = JSON.parse(await runReaderCli(["analyze", dir, "--json"]));
    const want = independentAnalysis(m, lines);
    assertSummaryMatches(got.overall, want.overall, "overall");
    for (const r of got.perResolution) {
      assertSummaryMatches(r, want.perResolution[r.resolution], `${r.resolution} px`);
    }
    for (const r of got.perReader) {
      assertSummaryMatches(r.overall, want.perReader[r.reader], r.reader);
      assert.equal(r.experience, "resident");
    }
    assert.equal(got.agreement.items, 12);
    assert.ok(Math.abs(got.agreement.fleissKappa - want.kappa!) < 1e-12);
    // 2 of 3 answers correct by construction
    assert.equal(got.overall.correct, 24);
  } finally {
    await browser.close();
    await srv?.kill();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("reader study, pair mode: keys pick the left or right image as synthetic", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "browser_pair_" });
  const browser = await launchChromium(false);
  let srv: ReaderProc | null = null;
  try {
    const syn = join(tmp, "synthetic"), dir = join(tmp, "study");
    await makeSyntheticFolder(syn, 8, 200);
    await runReaderCli([
      ...["--real", REAL_DIR, "--synthetic", syn, "--resolutions", "16,24", "--per-block", "2"],
      ...["--mode", "pair", "--seed", "4", "--out", dir, "--no-serve"],
    ]);
    srv = await startReader(["serve", dir, "--port", "0"]);
    const page = await browser.newPage();
    await page.goto(srv.link);
    await page.waitForFunction(() => document.body.dataset.state === "login");
    await page.fill("#reader", "pat");
    await page.selectOption("#experience", "student");
    await page.press("#reader", "Enter");
    const picked: string[] = [];
    const keys = ["1", "ArrowRight", "ArrowLeft", "2"];
    for (let k = 0; k < keys.length;) {
      await page.waitForFunction(() => ["trial", "interlude"].includes(document.body.dataset.state ?? ""));
      if (await bodyState(page) === "interlude") {
        await page.keyboard.press("Enter");
        continue;
      }
      const ids = await page.$$eval(
        "#images img",
        (els) => els.map((e) => (e as HTMLImageElement).dataset.id!),
      );
      assert.equal(ids.length, 2);
      picked.push(keys[k] === "1" || keys[k] === "ArrowLeft" ? ids[0] : ids[1]);
      await page.keyboard.press(keys[k++]);
      await page.waitForFunction(
        (n) =>
          document.body.dataset.state !== "trial" ||
          document.getElementById("progress")!.textContent!.includes(`(${n} answered)`),
        k,
      );
    }
    await page.waitForFunction(() => document.body.dataset.state === "done");
    const lines = (await Deno.readTextFile(join(dir, "answers.jsonl"))).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(lines.map((l) => l.answer), picked);
  } finally {
    await browser.close();
    await srv?.kill();
    await Deno.remove(tmp, { recursive: true });
  }
});
