/**
 * Reader study without a browser: preparation (label-matched, balanced, random ids, resized PNGs), per-reader
 * order, the server's API (validation, one answer per item, durable appends, restart, path traversal,
 * token) and the analysis against numbers computed independently here.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodePng } from "../src/data/png.ts";
import { analyzeStudy } from "../src/reader/analysis.ts";
import { type AnswerRecord, readerOrder, type StudyManifest } from "../src/reader/study.ts";
import {
  assertSummaryMatches,
  freePort,
  independentAnalysis,
  makeSyntheticFolder,
  REAL_DIR,
  runReaderCli,
  startReader,
} from "./_reader_util.ts";

const tmp = await Deno.makeTempDir({ prefix: "reader_test_" });
const SYN = join(tmp, "synthetic");
await makeSyntheticFolder(SYN, 40);

async function prepare(
  name: string,
  mode: "single" | "pair",
  perBlock = 4,
): Promise<{ dir: string; m: StudyManifest }> {
  const dir = join(tmp, name);
  await runReaderCli([
    "--real",
    REAL_DIR,
    "--synthetic",
    SYN,
    "--resolutions",
    "16,32",
    "--per-block",
    String(perBlock),
    "--mode",
    mode,
    "--seed",
    "11",
    "--out",
    dir,
    "--no-serve",
  ]);
  return { dir, m: JSON.parse(await Deno.readTextFile(join(dir, "manifest.json"))) };
}

const single = await prepare("single", "single");
const pair = await prepare("pair", "pair");
const load = await prepare("load", "single");

Deno.test("prepare: balanced, label-matched blocks of resized PNGs under random ids", async () => {
  const { dir, m } = single;
  assert.deepEqual(m.blocks.map((b) => b.resolution), [16, 32]);
  const files = [];
  for await (const e of Deno.readDir(join(dir, "images"))) files.push(e.name);
  assert.deepEqual(files.sort(), Object.keys(m.images).map((id) => `${id}.png`).sort());
  const sources = new Set<string>();
  for (const b of m.blocks) {
    const imgs = b.items.map((it) => m.images[it.images[0]]);
    const real = imgs.filter((i) => i.truth === "real"), syn = imgs.filter((i) => i.truth === "synthetic");
    assert.equal(real.length, 4);
    assert.equal(syn.length, 4);
    // label-matched: the same multiset of label combinations on both sides
    assert.deepEqual(real.map((i) => i.labels).sort(), syn.map((i) => i.labels).sort());
    for (const i of imgs) {
      assert.match(i.id, /^[0-9a-f]{32}$/);
      const png = decodePng(await Deno.readFile(join(dir, "images", `${i.id}.png`)));
      assert.equal(png.height, b.resolution);
      assert.equal(png.width, b.resolution);
      assert.ok(!sources.has(`${i.truth}:${i.source}`), `image ${i.source} used twice`);
      sources.add(`${i.truth}:${i.source}`);
    }
  }
  assert.ok(!(await Deno.readTextFile(join(dir, "manifest.json"))).includes("undefined"));
  // a second prepare into the same folder is refused (the study is not overwritten)
  await assert.rejects(() => prepare("single", "single"), /already a study/);
});

Deno.test("reader order: seeded per reader, blocks in order, pair sides balanced", () => {
  const a = readerOrder(single.m, "alice"),
    a2 = readerOrder(single.m, "alice"),
    b = readerOrder(single.m, "bob");
  assert.deepEqual(a, a2);
  assert.notDeepEqual(a.map((t) => t.item), b.map((t) => t.item));
  assert.deepEqual(a.map((t) => t.block), [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(
    a.map((t) => t.item).sort(),
    single.m.blocks.flatMap((bl) => bl.items.map((i) => i.id)).sort(),
  );
  for (const r of ["alice", "bob", "carol"]) {
    const order = readerOrder(pair.m, r);
    for (const blk of [0, 1]) {
      const left = order.filter((t) => t.block === blk).map((t) => pair.m.images[t.images[0]].truth);
      assert.equal(left.filter((t) => t === "synthetic").length, 2, `reader ${r} block ${blk}: ${left}`);
    }
  }
});

/** How a request authenticates: the study token (as the link's query parameter or the page's header), a reader key. */
interface Auth {
  query?: string;
  token?: string;
  key?: string;
  origin?: string;
}

async function post(
  base: string,
  path: string,
  body: unknown,
  auth: Auth = {},
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth.token) headers["x-study-token"] = auth.token;
  if (auth.key) headers["x-reader-key"] = auth.key;
  if (auth.origin) headers["origin"] = auth.origin;
  const r = await fetch(`${base}${path}${auth.query ? `?token=${auth.query}` : ""}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

/** GET /api/state of a reader with a key. */
function state(base: string, reader: string, key?: string): Promise<Response> {
  return fetch(`${base}/api/state?reader=${reader}`, { headers: key ? { "x-reader-key": key } : {} });
}

/** Sends a raw request line (no client-side URL normalisation) and returns status and body. */
async function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
  );
  let text = "";
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (!n) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  conn.close();
  return { status: Number(text.split(" ")[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

Deno.test("server: validation, one answer per item, durable appends, restart, no path traversal", async () => {
  const { dir, m } = single;
  const port = freePort();
  let srv = await startReader(["serve", dir, "--port", String(port)]);
  try {
    const base = srv.base;
    assert.equal((await fetch(`${base}/`)).status, 200);
    const study = await (await fetch(`${base}/api/study`)).json();
    assert.equal(study.total, 16);
    assert.ok(!JSON.stringify(study).includes('synthetic"'), "the study description names no truth");

    const item = readerOrder(m, "r1")[0].item;
    const tok = { token: m.token };
    assert.equal((await post(base, "/api/answer", { reader: "r1", item, answer: "real" }, tok)).status, 403);
    assert.equal(
      (await post(base, "/api/reader", { reader: "../etc", experience: "student" }, tok)).status,
      400,
    );
    assert.equal((await post(base, "/api/reader", { reader: "r1", experience: "wizard" }, tok)).status, 400);
    const reg = await post(base, "/api/reader", { reader: "r1", experience: "student" }, tok);
    assert.equal(reg.status, 200);
    assert.deepEqual(reg.body.trials, readerOrder(m, "r1"));
    assert.ok(!JSON.stringify(reg.body).includes("truth"));
    const r1 = { ...tok, key: reg.body.key as string };
    assert.match(r1.key, /^[0-9a-f]{32}$/);
    assert.equal(
      (await post(base, "/api/answer", { reader: "r1", item: "f".repeat(32), answer: "real" }, r1)).status,
      400,
    );
    assert.equal((await post(base, "/api/answer", { reader: "r1", item, answer: "maybe" }, r1)).status, 400);
    assert.equal(
      (await post(base, "/api/answer", { reader: "r1", item, answer: "real", confidence: 9 }, r1)).status,
      400,
    );
    assert.equal(
      (await post(base, "/api/answer", { reader: "r1", item, answer: "real", confidence: 3 }, r1)).status,
      200,
    );
    // a retry of the same answer is acknowledged without a second line
    const dup = await post(base, "/api/answer", { reader: "r1", item, answer: "real", confidence: 3 }, r1);
    assert.equal(dup.status, 200);
    assert.equal(dup.body.duplicate, true);
    const conflict = await post(base, "/api/answer", { reader: "r1", item, answer: "synthetic" }, r1);
    assert.equal(conflict.status, 409);
    assert.deepEqual(conflict.body.answer, { answer: "real", confidence: 3 });
    assert.equal(
      (await post(base, "/api/answer", { reader: "r1", item, answer: "synthetic", change: true }, r1)).status,
      200,
    );
    const lines = (await Deno.readTextFile(join(dir, "answers.jsonl"))).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(lines.map((l) => [l.answer, l.change]), [["real", false], ["synthetic", true]]);

    // path traversal and non-image files are refused
    const id = Object.keys(m.images)[0];
    assert.equal((await rawGet(port, `/img/${id}.png`)).status, 200);
    for (
      const p of [
        "/manifest.json",
        "/answers.jsonl",
        "/readers.jsonl",
        "/img/../manifest.json",
        "/img/..%2Fmanifest.json",
        "/img/%2e%2e/manifest.json",
        `/img/${id}.png/../../manifest.json`,
        "/img/..%2F..%2F..%2Fetc%2Fpasswd.png",
        `/images/${id}.png`,
        "/img/" + "0".repeat(32) + ".png",
        "/../manifest.json",
        "//etc/passwd",
      ]
    ) {
      const r = await rawGet(port, p);
      assert.ok(r.status >= 400, `${p} gave ${r.status}`);
      assert.ok(!r.body.includes(m.token) && !r.body.includes("root:"), `${p} leaked content`);
    }

    // crash mid-append: the unacknowledged half line is dropped at restart, acknowledged ones stay
    await srv.kill("SIGKILL");
    await Deno.writeTextFile(join(dir, "answers.jsonl"), '{"reader":"r1","item":"', { append: true });
    srv = await startReader(["serve", dir, "--port", String(port)]);
    const st = await (await state(srv.base, "r1", r1.key)).json();
    assert.deepEqual(st.answers[item], { answer: "synthetic", confidence: null });
    const item2 = readerOrder(m, "r1")[1].item;
    assert.equal(
      (await post(srv.base, "/api/answer", { reader: "r1", item: item2, answer: "real" }, r1)).status,
      200,
    );
    const after = (await Deno.readTextFile(join(dir, "answers.jsonl"))).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(after.map((l) => l.item), [item, item, item2]);
    assert.equal((await fetch(`${srv.base}/api/state?reader=nobody`)).status, 404);
  } finally {
    await srv.kill();
  }
});

Deno.test("server: with --host every request needs the study token", async () => {
  const { dir, m } = pair;
  const srv = await startReader(["serve", dir, "--host", "127.0.0.1", "--port", "0"]);
  try {
    assert.ok(srv.link.includes(`token=${m.token}`), srv.link);
    const id = Object.keys(m.images)[0];
    for (const p of ["/", "/api/study", `/img/${id}.png`]) {
      assert.equal((await fetch(`${srv.base}${p}`)).status, 403, p);
      assert.equal(
        (await fetch(`${srv.base}${p}${p.includes("?") ? "&" : "?"}token=${"0".repeat(32)}`)).status,
        403,
        p,
      );
      const ok = await fetch(`${srv.base}${p}?token=${m.token}`);
      await ok.body?.cancel();
      assert.equal(ok.status, 200, p);
    }
    assert.equal((await post(srv.base, "/api/reader", { reader: "x", experience: "student" })).status, 403);
    const reg = await post(srv.base, "/api/reader", { reader: "x", experience: "student" }, {
      query: m.token,
    });
    assert.equal(reg.status, 200);
    assert.equal(
      (await post(srv.base, "/api/answer", { reader: "x", item: m.blocks[0].items[0].id, answer: id }, {
        query: m.token,
      })).status,
      403,
      "the token alone does not let anyone answer for reader x",
    );
  } finally {
    await srv.kill();
  }
});

/** A raw request with any Host/Origin header (fetch fixes Host to the URL's); returns the status. */
async function rawRequest(port: number, lines: string[], body = ""): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(
      [...lines, `Content-Length: ${body.length}`, "Connection: close", "", body].join("\r\n"),
    ),
  );
  const buf = new Uint8Array(4096);
  let text = "";
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (!n) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  conn.close();
  return Number(text.split(" ")[1]);
}

Deno.test("server without --host: writes need the page's study token and no other site can write or read", async () => {
  const { dir, m } = single;
  const port = freePort();
  const srv = await startReader(["serve", dir, "--port", String(port)]);
  try {
    const base = srv.base;
    // the page this server serves carries the token its API calls send
    const page = await (await fetch(`${base}/`)).text();
    assert.ok(page.includes(`<meta name="medsynth-study-token" content="${m.token}">`));
    // the attack of the issue: text/plain POSTs from another page, no token
    const reg = JSON.stringify({ reader: "mallory", experience: "student" });
    for (
      const headers of [
        [`Host: 127.0.0.1:${port}`, "Origin: http://evil.example"],
        [`Host: 127.0.0.1:${port}`],
        [`Host: 127.0.0.1:${port}`, "Origin: http://evil.example", `x-study-token: ${m.token}`],
        [`Host: evil.example:${port}`, `Origin: http://evil.example:${port}`, `x-study-token: ${m.token}`],
      ]
    ) {
      const st = await rawRequest(
        port,
        ["POST /api/reader HTTP/1.1", ...headers, "Content-Type: text/plain"],
        reg,
      );
      assert.equal(st, 403, headers.join(" | "));
    }
    // DNS rebinding cannot read the page (and so the token) either
    assert.equal(await rawRequest(port, ["GET / HTTP/1.1", `Host: evil.example:${port}`]), 403);
    assert.equal(await rawRequest(port, ["GET / HTTP/1.1", `Host: 127.0.0.1:${port}`]), 200);
    const readers = await Deno.readTextFile(join(dir, "readers.jsonl")).catch(() => "");
    assert.ok(!readers.includes("mallory"), "nothing refused was written");

    // a reader id alone reads and writes nothing: the key handed out at registration is needed
    const tok = { token: m.token };
    const a = await post(base, "/api/reader", { reader: "alice", experience: "student" }, tok);
    const b = await post(base, "/api/reader", { reader: "bob", experience: "student" }, tok);
    assert.equal(a.status, 200);
    const item = readerOrder(m, "alice")[0].item;
    assert.equal(
      (await post(base, "/api/answer", { reader: "alice", item, answer: "real" }, {
        ...tok,
        key: a.body.key,
      }))
        .status,
      200,
    );
    assert.equal((await state(base, "alice")).status, 403, "no key");
    assert.equal((await state(base, "alice", b.body.key)).status, 403, "bob's key");
    const own = await state(base, "alice", a.body.key);
    assert.equal(own.status, 200);
    assert.deepEqual((await own.json()).answers[item], { answer: "real", confidence: null });
    const again = await post(base, "/api/reader", { reader: "alice", experience: "student" }, tok);
    assert.equal(again.status, 403, "registering alice's id again without her key");
    assert.match(again.body.error, /already taken: continue in the browser where you started/);
    assert.ok(!JSON.stringify(again.body).includes(item));
    const back = await post(
      base,
      "/api/reader",
      { reader: "alice", experience: "student", key: a.body.key },
      tok,
    );
    assert.equal(back.status, 200);
    assert.deepEqual(Object.keys(back.body.answers), [item]);
    const forged = { reader: "alice", item: readerOrder(m, "alice")[1].item, answer: "real" };
    assert.equal((await post(base, "/api/answer", forged, tok)).status, 403);
    assert.equal((await post(base, "/api/answer", forged, { ...tok, key: b.body.key })).status, 403);
    // only the key's hash is stored
    const stored = await Deno.readTextFile(join(dir, "readers.jsonl"));
    assert.ok(!stored.includes(a.body.key) && /"keyHash":"[0-9a-f]{64}"/.test(stored));
  } finally {
    await srv.kill();
  }
});

Deno.test("server: a 200 MiB body is refused with 413 after reading at most a little of it, memory flat", async () => {
  const { dir, m } = pair;
  const srv = await startReader(["serve", dir, "--port", "0"]);
  const rss = async () =>
    Number(/VmRSS:\s+(\d+)/.exec(await Deno.readTextFile(`/proc/${srv.pid}/status`))![1]) * 1024;
  try {
    await (await fetch(`${srv.base}/api/study`)).body?.cancel();
    const before = await rss();
    const chunk = new TextEncoder().encode(" ".repeat(1 << 20));
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (pulled >= 200 * (1 << 20)) return c.close();
        pulled += chunk.length;
        c.enqueue(chunk);
      },
    });
    const r = await fetch(`${srv.base}/api/reader`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-study-token": m.token },
    }).catch((e) => e as Error);
    // the server may close the connection while the client still sends; either way it did not read on
    if (!(r instanceof Error)) {
      assert.equal(r.status, 413);
      await r.body?.cancel();
    }
    const grew = (await rss()) - before;
    assert.ok(pulled <= 64 * (1 << 20), `the client got to send ${pulled >> 20} MiB`);
    assert.ok(grew < 64 * (1 << 20), `the server grew by ${grew >> 20} MiB`);
    assert.equal((await fetch(`${srv.base}/api/study`)).status, 200, "and still serves");
  } finally {
    await srv.kill();
  }
});

/** Posts until the server acknowledges (it may be down for a restart); bounded. */
async function postUntilAcknowledged(
  base: () => string,
  path: string,
  body: unknown,
  auth: Auth,
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      const r = await post(base(), path, body, auth);
      if (r.status < 500) return r;
    } catch { /* connection refused or reset: the server is restarting */ }
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`${path}: no acknowledgement within 60 s`);
}

Deno.test("server: concurrent readers and two SIGKILLs: every acknowledged answer on disk exactly once", async () => {
  const { dir, m } = load;
  const port = freePort();
  const args = ["serve", dir, "--port", String(port)];
  let srv = await startReader(args);
  const base = () => srv.base;
  const readers = Array.from({ length: 12 }, (_, r) => `load${r}`);
  const acknowledged = new Set<string>();
  let restarting: Promise<void> | null = null;
  let kills = 0;
  const maybeKill = () => {
    // two SIGKILLs while readers are mid-way, each followed by a restart on the same port
    const due = kills === 0 ? 40 : kills === 1 ? 110 : Infinity;
    if (acknowledged.size >= due && !restarting) {
      kills++;
      restarting = (async () => {
        await srv.kill("SIGKILL");
        srv = await startReader(args);
        restarting = null;
      })();
    }
  };
  try {
    await Promise.all(readers.map(async (reader) => {
      const key = `k${reader}`.padEnd(32, "0");
      const reg = await postUntilAcknowledged(base, "/api/reader", { reader, experience: "student", key }, {
        token: m.token,
      });
      assert.equal(reg.status, 200, JSON.stringify(reg.body));
      for (const t of readerOrder(m, reader)) {
        const body = { reader, item: t.item, answer: t.item.charCodeAt(0) % 2 ? "real" : "synthetic" };
        const r = await postUntilAcknowledged(base, "/api/answer", body, { token: m.token, key });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        acknowledged.add(`${reader}|${t.item}`);
        maybeKill();
      }
    }));
    await restarting;
    assert.equal(kills, 2, "both kills happened while answers were coming in");
  } finally {
    await srv.kill();
  }
  const lines = (await Deno.readTextFile(join(dir, "answers.jsonl"))).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  const keys = lines.map((l) => `${l.reader}|${l.item}`);
  assert.equal(new Set(keys).size, keys.length, "no answer twice");
  assert.deepEqual(new Set(keys), acknowledged, "every acknowledged answer, and only those");
  assert.equal(keys.length, readers.length * readerOrder(m, "x").length);
});

Deno.test("pair mode: API answers and analysis (CLI --json) match an independent computation", async () => {
  const { dir, m } = pair;
  const srv = await startReader(["serve", dir, "--host", "127.0.0.1", "--port", "0"]);
  const all: AnswerRecord[] = [];
  try {
    for (const [r, reader] of ["p1", "p2", "p3"].entries()) {
      const reg = await post(srv.base, "/api/reader", { reader, experience: "resident" }, { query: m.token });
      assert.equal(reg.status, 200);
      const auth = { query: m.token, key: reg.body.key };
      for (const [k, t] of readerOrder(m, reader).entries()) {
        // reader r picks the synthetic image except on every (r + 2)-th trial, and reader p3 skips one trial
        if (reader === "p3" && k === 3) continue;
        const syn = t.images.find((id) => m.images[id].truth === "synthetic")!;
        const other = t.images.find((id) => id !== syn)!;
        const answer = k % (r + 2) === 0 ? other : syn;
        const res = await post(srv.base, "/api/answer", { reader, item: t.item, answer }, auth);
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
    }
  } finally {
    await srv.kill();
  }
  for (const l of (await Deno.readTextFile(join(dir, "answers.jsonl"))).trim().split("\n")) {
    all.push(JSON.parse(l));
  }
  assert.equal(all.length, 8 + 8 + 7);
  const got = JSON.parse(await runReaderCli(["analyze", dir, "--json"]));
  assert.deepEqual(
    got,
    JSON.parse(JSON.stringify(analyzeStudy(m, all, { p1: "resident", p2: "resident", p3: "resident" }))),
  );
  const want = independentAnalysis(m, all);
  assertSummaryMatches(got.overall, want.overall, "overall");
  for (const r of got.perResolution) {
    assertSummaryMatches(r, want.perResolution[r.resolution], `${r.resolution} px`);
  }
  for (const r of got.perReader) assertSummaryMatches(r.overall, want.perReader[r.reader], r.reader);
  assert.equal(got.agreement.items, 7);
  assert.ok(
    Math.abs(got.agreement.fleissKappa - want.kappa!) < 1e-12,
    `${got.agreement.fleissKappa} vs ${want.kappa}`,
  );
  assert.equal(got.overall.sensitivity, null);
  // the Markdown and SVG outputs
  const outDir = join(tmp, "analysis");
  const md = await runReaderCli(["analyze", dir, "--out", outDir]);
  assert.match(md, /\| all \| 23 \|/);
  const svg = await Deno.readTextFile(join(outDir, "accuracy_vs_resolution.svg"));
  assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<circle/g) ?? []).length, 2);
});

Deno.test("analysis: changes replace answers; unanimous ratings give kappa 1", () => {
  const { m } = single;
  const items = m.blocks[0].items.slice(0, 4);
  const rec = (reader: string, item: string, answer: string, change = false): AnswerRecord => ({
    reader,
    item,
    answer,
    confidence: null,
    change,
    t: "2020-01-01T00:00:00Z",
    ms: null,
  });
  const truthOf = (id: string) => m.images[id].truth;
  const answers = [
    ...items.map((it) => rec("a", it.id, truthOf(it.id) === "real" ? "synthetic" : "real")),
    ...items.map((it) => rec("a", it.id, truthOf(it.id), true)),
    ...items.map((it) => rec("b", it.id, truthOf(it.id))),
  ];
  const a = analyzeStudy(m, answers);
  assert.equal(a.overall.n, 8);
  assert.equal(a.overall.correct, 8);
  assert.equal(a.replaced, 4);
  const hasBoth = new Set(items.map((it) => truthOf(it.id))).size === 2;
  assert.equal(a.agreement.fleissKappa, hasBoth ? 1 : null);
  assert.equal(a.perResolution[1].n, 0);
  assert.equal(a.perResolution[1].accuracy, null);
});

addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
