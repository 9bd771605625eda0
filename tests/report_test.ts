/** The HTML report (src/report): self-contained, complete, escaped, and showing the numbers of results.json. */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { reportFixture } from "./_report_fixture.ts";
import { renderReport, undefinedReason } from "../src/report/html.ts";
import { curveForReport, parseResults, type Results, shareableResults } from "../src/report/results.ts";
import { esc, fmt, fmtSig, intervalChart, lineChart, niceTicks, rocChart } from "../src/report/plots.ts";
import { imageStrip } from "../src/report/images.ts";
import { decodePng } from "../src/data/png.ts";

const fixture = reportFixture({ readerStudy: true });
const html = renderReport(fixture.results);

/** Visible text of the page (tags, style and svg markup removed, entities decoded). */
function text(h: string): string {
  return h.replace(/<style>[\s\S]*?<\/style>/g, " ").replace(/<[^>]*>/g, " ")
    .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&").replace(/\s+/g, " ");
}

const VOID = new Set(["meta", "img", "br", "hr", "input", "link", "col", "source", "wbr"]);

/** Checks that every non-void tag is closed in order; returns the number of elements seen. */
function checkBalanced(h: string): number {
  const body = h.replace(/<style>[\s\S]*?<\/style>/, "<style></style>").replace(/^<!DOCTYPE html>/, "");
  const stack: string[] = [];
  let count = 0;
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*?(\/?)>/g)) {
    const [, close, rawName, selfClose] = m;
    const name = rawName.toLowerCase();
    count++;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at offset ${m.index}`);
    } else if (!selfClose && !VOID.has(name)) stack.push(name);
  }
  if (stack.length) throw new Error(`unclosed: ${stack.slice(-5).join(", ")}`);
  // no stray angle brackets outside tags (text must be escaped)
  const stray = body.replace(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*?(\/?)>/g, "").match(/[<>]/);
  if (stray) throw new Error(`stray "${stray[0]}" in text`);
  return count;
}

Deno.test("report: self-contained (no network references, no scripts) with inline PNG and SVG", () => {
  assert(html.startsWith("<!DOCTYPE html>"), "doctype");
  assert(!/https?:\/\//i.test(html), "an http(s):// reference");
  assert(
    !/<script|<link|@import|url\((?!#)/i.test(html),
    "a script, stylesheet link, import or external url()",
  );
  assert(!/\bsrc="(?!data:image\/png;base64,)/.test(html), "an img src that is not an inline PNG");
  const pngs = html.match(/data:image\/png;base64,[A-Za-z0-9+/=]+/g) ?? [];
  // grids: 2 strips x rows (one missing real strip), gallery: 2 images x 4 pairs x 2 spaces
  assert(pngs.length >= 16, `only ${pngs.length} PNGs`);
  const first = decodePng(Uint8Array.from(atob(pngs[0]!.slice(22)), (c) => c.charCodeAt(0)));
  assertEquals([first.height, first.channels], [32, 1]);
  assert((html.match(/<svg /g) ?? []).length >= 8, "inline SVG charts");
});

Deno.test("report: HTML is well formed (balanced tags, escaped text)", () => {
  assert(checkBalanced(html) > 500, "element count");
});

Deno.test("report: every label, the undefined label and the key numbers appear", () => {
  const t = text(html);
  const r = fixture.results;
  for (const name of r.dataset.labelNames) assert(t.includes(name), `label ${name}`);
  const undef = r.utility.perLabel.find((l) => l.label === fixture.undefinedLabel)!;
  assertEquals(undef.trtr, null);
  assertEquals(undefinedReason(undef), "undefined (no positives in test)");
  assert(t.includes(`${fixture.undefinedLabel} undefined (no positives in test)`), "undefined label row");
  // headline and table numbers, formatted as the report formats them
  const u = r.utility;
  for (const v of [u.trtr.mean, u.tstr.mean, u.gap.gap, u.gap.lo, u.gap.hi]) {
    assert(t.includes(fmt(v)), `number ${fmt(v)}`);
  }
  for (const l of u.perLabel) {
    if (l.trtr !== null) assert(t.includes(fmt(l.trtr)), `${l.label} TRTR ${fmt(l.trtr)}`);
    if (l.tstr !== null) assert(t.includes(fmt(l.tstr)), `${l.label} TSTR ${fmt(l.tstr)}`);
  }
  assert(t.includes(fmtSig(r.fidelity!.frechetDistance)), "Fréchet distance");
  assert(t.includes(fmt(r.fidelity!.prdc.precision)), "precision");
  const mem = r.privacy!.pixels.memorisation.rate;
  assert(t.includes(`${(100 * mem).toFixed(1)}%`), "pixel memorisation rate");
  assert(t.includes(fmt(r.privacy!.pixels.membershipInference.auc)), "MIA AUC");
  // the fixture's copies are flagged, and the reader study is there
  assert(t.includes("signs of copying"), "copy verdict");
  assert(t.includes("Reader study") && t.includes("Fleiss"), "reader study");
  for (
    const id of [
      "grids",
      "utility",
      "roc",
      "training",
      "fidelity",
      "privacy",
      "gallery",
      "reader",
      "datacard",
    ]
  ) {
    assert(html.includes(`<section id="${id}">`), `section ${id}`);
  }
});

Deno.test("report: the gallery puts the copied pairs first at distance 0", () => {
  const g = fixture.results.gallery.filter((p) => p.space === "pixels");
  assertEquals(g.length, 4);
  for (const p of g.slice(0, fixture.copies)) assert(p.distance < 1e-6, `pair ${p.rank} at ${p.distance}`);
  assertEquals(g.map((p) => p.rank), [1, 2, 3, 4]);
});

Deno.test("report: results.json round trip renders the same page", () => {
  const parsed = parseResults(JSON.parse(JSON.stringify(fixture.results)));
  assertEquals(renderReport(parsed), html);
});

Deno.test("report: optional parts can be absent", () => {
  const r: Results = {
    ...fixture.results,
    fidelity: null,
    privacy: null,
    grids: null,
    gallery: [],
    readerStudy: null,
    roc: [],
    training: { rows: [], events: [] },
    notes: [],
  };
  const h = renderReport(r);
  checkBalanced(h);
  for (const id of ["grids", "fidelity", "privacy", "gallery", "reader", "roc"]) {
    assert(!h.includes(`<section id="${id}">`), `section ${id} should be absent`);
  }
  assert(h.includes(`<section id="utility">`), "utility stays");
});

Deno.test("report: text from results is escaped", () => {
  const r = structuredClone(fixture.results);
  r.title = `<script>alert("x")</script>`;
  r.utility.perLabel[1].label = "a<b>&c";
  const h = renderReport(r);
  assert(!h.includes("<script>"), "raw script tag");
  assert(h.includes("&lt;script&gt;"), "escaped title");
  assert(h.includes("a&lt;b&gt;&amp;c"), "escaped label");
  checkBalanced(h);
});

Deno.test("results: parseResults names what is wrong", () => {
  assertThrows(() => parseResults([]), Error, /not a results object/);
  assertThrows(() => parseResults({ schema: "x" }), Error, /schema is "x"/);
  assertThrows(() => parseResults({ schema: "medsynth.results", version: 99 }), Error, /version 99/);
  const { utility: _, ...rest } = fixture.results;
  assertThrows(() => parseResults(rest), Error, /"utility" is missing/);
});

Deno.test("results: ROC curves are thinned for the report and keep their ends", () => {
  const n = 1001;
  const fpr = Float64Array.from({ length: n }, (_, i) => i / (n - 1));
  const c = curveForReport({ fpr, tpr: fpr.map((v) => Math.sqrt(v)) }, 0.66, 50);
  assertEquals(c.fpr.length, 50);
  assertEquals([c.fpr[0], c.fpr[49], c.tpr[49], c.auc], [0, 1, 1, 0.66]);
  assertEquals(curveForReport({ fpr: [0, 1], tpr: [0, 1] }, 0.5).fpr, [0, 1]);
});

Deno.test("plots: ticks, escaping, undefined values and ROC legends", () => {
  assertEquals(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assertEquals(niceTicks(-0.03, 0.27, 6), [0, 0.05, 0.1, 0.15, 0.2, 0.25]);
  assertEquals(niceTicks(0, 100, 4), [0, 20, 40, 60, 80, 100]);
  assertEquals(esc(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  assertEquals([fmt(null), fmt(NaN), fmt(0.12345), fmt(1e-9, 3)], ["n/a", "n/a", "0.123", "1.00e-9"]);
  assertEquals([fmtSig(3750.025), fmtSig(0.0041234), fmtSig(null)], ["3750", "0.004123", "n/a"]);
  const ic = intervalChart(["a", "b"], [{ name: "s", values: [0.7, null] }], {
    undefinedText: "undefined (x)",
  });
  assert(ic.includes("undefined (x)"), "undefined marked");
  checkBalanced(ic);
  const roc = rocChart([{ name: "real", fpr: [0, 0.5, 1], tpr: [0, 1, 1], auc: 0.75 }]);
  assert(roc.includes("real (AUROC 0.750)"), "AUROC in the legend");
  checkBalanced(roc);
  const lc = lineChart([{ name: "gaps", points: [[0, 1], [1, NaN], [2, 3]] }]);
  assertEquals((lc.match(/M/g) ?? []).length >= 2, true, "a non-finite point breaks the line");
  assertEquals(lineChart([{ name: "x", points: [[0, 1]] }]), lineChart([{ name: "x", points: [[0, 1]] }]));
});

Deno.test("images: strips are PNGs of n images with 1 px gaps", () => {
  const set = { images: new Float32Array(3 * 2 * 4 * 5).fill(-1), n: 3, channels: 2, height: 4, width: 5 };
  assertThrows(() => imageStrip(set, [0]), Error, /1 or 3/);
  const grey = { ...set, channels: 1, images: new Float32Array(3 * 20).fill(1) };
  const url = imageStrip(grey, [0, 2]);
  const png = decodePng(Uint8Array.from(atob(url.split(",")[1]), (c) => c.charCodeAt(0)));
  assertEquals([png.width, png.height], [11, 4]);
  assertThrows(() => imageStrip(grey, [3]), Error, /outside/);
});

Deno.test("report: label fidelity vs images seen is plotted when the run measured it", () => {
  const names = fixture.results.dataset.labelNames;
  const point = (imagesSeen: number, v: number) => ({
    imagesSeen,
    perLabel: names.map(() => v),
    mean: v,
    realPerLabel: names.map(() => 0.9),
    realMean: 0.9,
  });
  const without = renderReport(fixture.results);
  assert(!without.includes("Label fidelity vs images seen"), "no chart without measurements");
  const r: Results = {
    ...fixture.results,
    training: { ...fixture.results.training, labelFidelity: [point(2000, 0.55), point(4000, 0.7)] },
  };
  const h = renderReport(r);
  checkBalanced(h);
  assert(h.includes("Label fidelity vs images seen"), "chart title");
  assert(h.includes("mean on real images"), "the ceiling series");
  for (const n of names) assert(h.includes(`>${n}<`), `legend names ${n}`);
});

Deno.test("report: the shareable form has no real image and no local path; the full one says it has real images", () => {
  const secret = "/home/hospital/ward7/patients";
  const full: Results = {
    ...fixture.results,
    run: { name: "example", dir: `${secret}/run` },
    dataset: { ...fixture.results.dataset, source: secret },
    config: {
      ...fixture.results.config,
      data: { ...fixture.results.config.data, source: secret },
      evaluation: { ...fixture.results.config.evaluation, syntheticSource: `${secret}/run/synthetic` },
    },
    // exports written before paths were dropped from data cards carry the checkpoint's full path
    dataCard: {
      title: "t",
      date: "2026-01-01",
      generator: { checkpoint: `${secret}/run/generator.ckpt`, step: 6 },
      config: null,
      seed: 1,
      metrics: {},
      export: { format: "plain", images: 1, channels: 1, height: 32, width: 32, bitDepth: 8, naming: "" },
      source: null,
      synthetic: fixture.results.dataset.real.train,
    },
  };
  const realImages = [
    ...(full.grids?.rows.map((g) => g.real).filter((x): x is string => x !== null) ?? []),
    ...full.gallery.map((p) => p.train.image),
  ];
  assert(realImages.length > 0 && full.gallery.length > 0, "the fixture has real images to leave out");
  const fullHtml = renderReport(full);
  assert(
    fullHtml.includes("Contains real images") && realImages.every((u) => fullHtml.includes(u)),
    "full form",
  );
  const shared = shareableResults(full);
  const text = JSON.stringify(shared), html = renderReport(shared);
  for (const out of [text, html]) {
    assert(!out.includes(secret), "a local path leaked");
    for (const u of realImages) assert(!out.includes(u), "a real image leaked");
  }
  assert(html.includes("Shareable form") && !html.includes("Contains real images"));
  const synth = full.grids!.rows.map((g) => g.synthetic).filter((x): x is string => x !== null);
  assert(synth.length > 0 && synth.every((u) => html.includes(u)), "synthetic images stay");
  assertEquals(shared.utility, full.utility, "metrics stay");
  assertEquals(shared.dataCard?.generator.checkpoint, "generator.ckpt");
  checkBalanced(html);
});
