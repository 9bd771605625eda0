/** The sweep report (src/report/sweep_html.ts): rows and values of every cell, plots, escaping, offline. */
import { assert, assertEquals } from "./_assert.ts";
import { sweepReportHtml, sweepSummaryMarkdown } from "../src/report/sweep_html.ts";
import { errorBarChart, lineChart } from "../src/report/plots.ts";
import type { Cell, ExperimentConfig } from "../src/experiments/config.ts";
import {
  AXIS_LABELS,
  type CellPrivacySpace,
  type CellStatus,
  mergeSweep,
  type SweepCellResult,
  type SweepResults,
} from "../src/experiments/results.ts";

const LABELS = ["epidural", "intraparenchymal", "subdural"];

function config(values: number[], seeds: number[], axis: ExperimentConfig["axis"]): ExperimentConfig {
  return {
    name: "samples_per_combination",
    title: "Synthetic utility vs training images per label combination",
    preset: "cpu",
    dataset: "brain",
    data: "phantom:4000",
    seeds,
    axis,
    values,
    resolution: 32,
    subset: { topK: 6 },
    gan: { preset: "tiny", overrides: {}, images: 5400, minutes: 6 },
    classifier: { preset: "tiny", minutes: 1.5, epochs: null, images: 8000, batch: null, resamples: 200 },
  };
}

function params(index: number, value: number, seed: number, axis: ExperimentConfig["axis"]): Cell {
  return {
    index,
    slug: `n${value}_s${seed}`,
    axis,
    value,
    seed,
    resolution: 32,
    subset: { topK: 6, perCombo: value, seed },
    data: "phantom:4000",
    ganConfig: { preset: "tiny", resolution: 32, seed },
    ganMinutes: 6,
    classifier: { preset: "tiny", minutes: 1.5, epochs: null, batch: null, resamples: 200 },
  };
}

const space = (rate: number | null, mia: number | null, copies: number | null): CellPrivacySpace => ({
  memorisationRate: rate,
  memorisationExpected: 0.01,
  miaAuc: mia,
  dcrMedianRatio: 0.93,
  copies,
});

interface Numbers {
  trtr: number | null;
  tstr: number | null;
  gap: number | null;
  lo: number | null;
  hi: number | null;
  perLabel: (number | null)[][];
  fd: number | null;
}

function cell(
  index: number,
  value: number,
  status: CellStatus,
  n: Numbers | null,
  opts: { seed?: number; error?: string; axis?: ExperimentConfig["axis"]; noFidelity?: boolean } = {},
): SweepCellResult {
  const p = params(index, value, opts.seed ?? 1, opts.axis ?? "perCombo");
  return {
    index,
    slug: p.slug,
    dir: `cells/${index}_${p.slug}`,
    status,
    value,
    params: p,
    error: opts.error ?? null,
    images: n ? { train: value * 6, valid: 400, test: 410 } : null,
    combinations: n ? 6 : null,
    ganImages: n ? 5400 : null,
    ganSeconds: n ? 301.5 : null,
    evaluateSeconds: n ? 190 : null,
    utility: n
      ? {
        trtr: n.trtr,
        tstr: n.tstr,
        gap: n.gap,
        gapLo: n.lo,
        gapHi: n.hi,
        confidence: 0.95,
        perLabel: LABELS.map((label, j) => ({ label, trtr: n.perLabel[j][0], tstr: n.perLabel[j][1] })),
        testImages: 410,
      }
      : null,
    fidelity: n && !opts.noFidelity
      ? {
        frechetDistance: n.fd,
        kid: 0.0123,
        kidStd: 0.0011,
        precision: 0.71,
        recall: 0.42,
        density: null,
        coverage: 0.55,
      }
      : null,
    privacy: n && !opts.noFidelity
      ? { features: space(0.034, 0.517, null), pixels: space(0.012, null, 0) }
      : null,
  };
}

const ERROR = `GPU device lost <script>alert("x")</script> & "quotes" | pipe`;

/** perCombo sweep, one seed: 3 complete (one with an undefined gap), 1 failed, 1 pending. */
function fixture(): SweepResults {
  const cells = [
    cell(0, 5400, "complete", {
      trtr: 0.912,
      tstr: 0.845,
      gap: 0.067,
      lo: 0.031,
      hi: 0.104,
      perLabel: [[0.9, 0.81], [0.95, 0.88], [0.886, 0.845]],
      fd: 12.34,
    }),
    cell(1, 1350, "complete", {
      trtr: 0.899,
      tstr: 0.702,
      gap: 0.197,
      lo: 0.15,
      hi: 0.241,
      perLabel: [[null, 0.654], [0.93, 0.75], [0.868, null]],
      fd: 40.5,
    }),
    cell(2, 300, "failed", null, { error: ERROR }),
    cell(3, 100, "pending", null),
    cell(4, 600, "complete", {
      trtr: 0.88,
      tstr: null,
      gap: null,
      lo: null,
      hi: null,
      perLabel: [[0.8, null], [0.9, null], [0.94, null]],
      fd: null,
    }, { noFidelity: true }),
  ];
  return mergeSweep(config([5400, 1350, 600, 300, 100], [1], "perCombo"), cells, "2026-11-27T10:11:12.345Z");
}

const results = fixture();
const html = sweepReportHtml(results);

/** The `<tr>` elements of the table in section `id`. */
function rowsOf(h: string, id: string): string[] {
  const sec = h.match(new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`));
  assert(sec, `section ${id}`);
  return sec[1].match(/<tr[\s>][\s\S]*?<\/tr>/g) ?? [];
}

/** Visible text of a fragment (tags removed, entities decoded, whitespace collapsed). */
function text(h: string): string {
  return h.replace(/<[^>]*>/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'").replace(/&amp;/g, "&").replace(/\s+/g, " ").trim();
}

Deno.test("sweep report: self-contained, balanced, no external resources", () => {
  assert(html.startsWith("<!DOCTYPE html>"), "doctype");
  assert(!/\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i.test(html), "an http(s) src/href");
  assert(!/https?:\/\//i.test(html), "a network address");
  assert(!/<script|<link|@import|url\((?!#)/i.test(html), "a script, stylesheet link or external url()");
  // every opened element of these kinds is closed
  for (const tag of ["table", "tr", "section", "svg", "details", "g"]) {
    const open = (html.match(new RegExp(`<${tag}[\\s>]`, "g")) ?? []).length;
    const close = (html.match(new RegExp(`</${tag}>`, "g")) ?? []).length;
    assertEquals(open, close, `<${tag}> opened ${open}, closed ${close}`);
  }
  assertEquals((html.match(/<svg /g) ?? []).length, 2, "gap chart and AUROC chart");
});

Deno.test("sweep report: header, config summary and status counts", () => {
  const t = text(html);
  assert(t.includes(results.title), "title");
  assert(t.includes(`swept: ${AXIS_LABELS.perCombo}`), "axis label");
  assert(t.includes("2026-11-27 10:11:12 UTC"), "createdAt");
  for (const [status, n] of [["complete", 3], ["failed", 1], ["partial", 0], ["pending", 1]] as const) {
    assert(t.includes(`${status} ${n}`), `count of ${status}`);
  }
  assert(t.includes("phantom:4000"), "data source");
  assert(/seeds 1\b/.test(t), "seeds");
  assert(t.includes("5,400 real images shown, at most 6 min"), "GAN budget");
  assert(t.includes("at most 8,000 training images each, at most 1.5 min each"), "classifier budget");
  assert(t.includes("200 bootstrap resamples"), "resamples");
});

Deno.test("sweep report: one cells-table row per cell with its values; error row for the failed cell", () => {
  const rows = rowsOf(html, "cells").filter((r) => r.includes('class="cell '));
  assertEquals(rows.length, results.cells.length);
  const r0 = text(rows[0]);
  for (
    const s of ["5400", "complete", "0.912", "0.845", "0.067 [0.031, 0.104]", "12.34", "3.4% (exp. 1.0%)"]
  ) {
    assert(r0.includes(s), `row 0 lacks ${s}: ${r0}`);
  }
  assert(r0.includes("0.517") && r0.includes("32,400 / 400 / 410") && r0.includes("5.0 min"), r0);
  assert(text(rows[1]).includes("0.197 [0.150, 0.241]"), text(rows[1]));
  // failed and pending: status shown, every number undefined
  for (const i of [2, 3]) {
    const t = text(rows[i]);
    assert(t.includes(results.cells[i].status), t);
    assertEquals((t.match(/—/g) ?? []).length, 11, `row ${i}: ${t}`);
  }
  // complete with undefined TSTR / gap / FD / privacy
  const r4 = text(rows[4]);
  assert(r4.includes("0.880 — —"), r4);
  const errRows = rowsOf(html, "cells").filter((r) => r.includes('class="error"'));
  assertEquals(errRows.length, 1);
  assert(text(errRows[0]).includes(`cells/2_n300_s1: ${ERROR}`), text(errRows[0]));
});

Deno.test("sweep report: escapes an error message with <script>", () => {
  assert(!html.includes("<script>"), "raw script tag");
  assert(
    html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;"),
    "escaped",
  );
  const evil = fixture();
  evil.title = `<img src=x onerror=alert(1)>`;
  evil.axisLabel = `a<b>"`;
  evil.cells[0].utility!.perLabel[0].label = "<i>label</i>";
  const h = sweepReportHtml(evil);
  assert(!h.includes("<img") && !h.includes("<i>label") && !h.includes('a<b>"'), "unescaped text");
  assert(h.includes("&lt;img src=x onerror=alert(1)&gt;") && h.includes("&lt;i&gt;label&lt;/i&gt;"));
});

Deno.test("sweep report: one error bar per complete cell with a gap; failed, pending and undefined not plotted", () => {
  const withGap = results.cells.filter((c) =>
    c.status === "complete" && c.utility?.gap !== null && c.utility?.gapLo !== null
  );
  assertEquals(withGap.length, 2);
  assertEquals((html.match(/<g class="errorbar"/g) ?? []).length, withGap.length);
  // the bars' tooltips name the plotted cells' values and intervals
  const bars = html.match(/<g class="errorbar"[^>]*><title>([^<]*)<\/title>/g) ?? [];
  assert(bars.some((b) => b.includes("5400 → 0.067 [0.031, 0.104]")), bars.join("\n"));
  assert(bars.some((b) => b.includes("1350 → 0.197 [0.150, 0.241]")), bars.join("\n"));
  // the AUROC chart: TRTR dots for 3 complete cells, TSTR for 2 (one undefined); gap dots: 2
  const circles = (html.match(/<circle [^>]*><title>[^<]*<\/title>/g) ?? []).map(text);
  assertEquals(circles.filter((c) => c.startsWith("gap:")).length, 2);
  assertEquals(circles.filter((c) => c.startsWith("trained on real")).length, 3);
  assertEquals(circles.filter((c) => c.startsWith("trained on synthetic")).length, 2);
  assert(!circles.some((c) => / (300|100) →/.test(c)), "a failed or pending cell is plotted");
  const notes = text(rowsOrSection(html, "plots"));
  assert(notes.includes("Not plotted (see the table below): 300 (failed), 100 (pending)."), notes);
  assert(notes.includes("gap is undefined (no dot): 600"), notes);
  // values span 5400 / 600 = 9x among plotted cells... all complete values 600..5400: < 10x, linear
  assert(notes.includes("X axis: linear"), notes);
});

function rowsOrSection(h: string, id: string): string {
  return h.match(new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`))![1];
}

Deno.test("sweep report: log x when the values span more than 10x, ticks at the grid values", () => {
  const r = fixture();
  r.cells[3] = cell(3, 100, "complete", {
    trtr: 0.86,
    tstr: 0.6,
    gap: 0.26,
    lo: 0.2,
    hi: 0.3,
    perLabel: [[0.8, 0.6], [0.9, 0.6], [0.88, 0.6]],
    fd: 80,
  });
  const h = sweepReportHtml(r);
  assert(text(rowsOrSection(h, "plots")).includes("X axis: logarithmic"));
  assertEquals((h.match(/<g class="errorbar"/g) ?? []).length, 3);
  // on a log axis 100 -> 600 -> 1350 -> 5400 keep their ratio spacing: x(600)-x(100) vs x(5400)-x(1350)
  const xOf = (v: number) => {
    const m = h.match(new RegExp(`<circle cx="([0-9.]+)"[^>]*><title>gap: ${v} →`)) ??
      h.match(new RegExp(`<circle cx="([0-9.]+)"[^>]*><title>trained on real \\(TRTR\\): ${v} →`));
    assert(m, `dot at ${v}`);
    return Number(m[1]);
  };
  const ratio = (xOf(600) - xOf(100)) / (xOf(5400) - xOf(1350));
  const want = Math.log(6) / Math.log(4);
  assert(Math.abs(ratio - want) < 0.02, `spacing ratio ${ratio}, log axis wants ${want}`);
});

Deno.test("sweep report: per-label, fidelity and privacy tables per complete cell; nulls print —", () => {
  const label = rowsOf(html, "per-label");
  // 2 header rows, 3 labels, 1 mean row
  assertEquals(label.length, 2 + LABELS.length + 1);
  assertEquals(text(label[2]), "epidural 0.900 0.810 — 0.654 0.800 —");
  assertEquals(text(label[4]), "subdural 0.886 0.845 0.868 — 0.940 —");
  assertEquals(text(label[5]), "mean (defined labels) 0.912 0.845 0.899 0.702 0.880 —");
  const fid = rowsOf(html, "fidelity");
  assertEquals(fid.length, 1 + 3);
  assertEquals(text(fid[1]), "5400 12.34 12.3 ± 1.1 0.710 0.420 — 0.550");
  assertEquals(text(fid[3]), "600 — — — — — —");
  const priv = rowsOf(html, "privacy");
  assertEquals(priv.length, 2 + 3);
  assertEquals(text(priv[2]), "5400 3.4% 1.0% 0.517 0.930 1.2% 1.0% — 0.930 0");
  assertEquals(text(priv[4]), "600 — — — — — — — — —");
  // no table cell prints a raw undefined number
  const tds = (html.match(/<td[^>]*>[^<]*<\/td>/g) ?? []).map(text);
  assert(tds.length > 50, "table cells");
  assert(
    !tds.some((t) => /n\/a|undefined|null|NaN/.test(t)),
    tds.filter((t) => /n\/a|null|NaN/.test(t)).join(),
  );
});

Deno.test("sweep report: several seeds get one series and one error bar per cell", () => {
  const n = (gap: number): Numbers => ({
    trtr: 0.9,
    tstr: 0.9 - gap,
    gap,
    lo: gap - 0.02,
    hi: gap + 0.02,
    perLabel: [[0.9, 0.8], [0.9, 0.8], [0.9, 0.8]],
    fd: 5,
  });
  const cells = [
    cell(0, 32, "complete", n(0.1), { seed: 1, axis: "resolution" }),
    cell(1, 32, "complete", n(0.12), { seed: 2, axis: "resolution" }),
    cell(2, 64, "complete", n(0.05), { seed: 1, axis: "resolution" }),
    cell(3, 64, "partial", null, { seed: 2, axis: "resolution" }),
  ];
  const r = mergeSweep(
    { ...config([32, 64], [1, 2], "resolution"), name: "resolution" },
    cells,
    "2026-11-27T00:00:00Z",
  );
  const h = sweepReportHtml(r);
  assertEquals((h.match(/<g class="errorbar"/g) ?? []).length, 3);
  assert(h.includes("seed 1") && h.includes("seed 2"), "seed legend");
  assert(text(rowsOrSection(h, "plots")).includes("64 · seed 2 (partial)"), "partial cell named");
  // resolutions are powers of two: log axis
  assert(text(rowsOrSection(h, "plots")).includes("X axis: logarithmic"));
  const md = sweepSummaryMarkdown(r);
  assert(md.includes("| resolution (px) | seed | status |"), md);
  assert(md.includes("| 64 | 2 | partial | — |"), md);
});

Deno.test("sweep summary markdown: one row per cell with value, status and numbers", () => {
  const md = sweepSummaryMarkdown(results);
  const lines = md.split("\n").filter((l) => l.startsWith("|"));
  assertEquals(lines.length, 2 + results.cells.length);
  assertEquals(
    lines[0],
    "| training images per label combination | status | TRTR | TSTR | gap [CI] | FD | memorisation | MIA AUC |",
  );
  assertEquals(lines[1], "| --- | --- | --- | --- | --- | --- | --- | --- |");
  assertEquals(
    lines[2],
    "| 5400 | complete | 0.912 | 0.845 | 0.067 [0.031, 0.104] | 12.34 | 3.4% (exp. 1.0%) | 0.517 |",
  );
  assertEquals(
    lines[3],
    "| 1350 | complete | 0.899 | 0.702 | 0.197 [0.150, 0.241] | 40.5 | 3.4% (exp. 1.0%) | 0.517 |",
  );
  // the failed cell's error: one line, pipe and angle brackets escaped, so the table keeps 8 columns
  assert(lines[4].startsWith("| 300 | failed: GPU device lost &lt;script&gt;"), lines[4]);
  assert(lines[4].includes("\\| pipe"), lines[4]);
  assertEquals(lines[4].split(/(?<!\\)\|/).length - 2, 8, lines[4]);
  assertEquals(lines[5], "| 100 | pending | — | — | — | — | — | — |");
  assertEquals(lines[6], "| 600 | complete | 0.880 | — | — | — | — | — |");
  assert(md.startsWith(`**${results.title}**`), md);
  assert(md.includes("3 complete, 1 failed, 0 partial, 1 pending"), md);
});

Deno.test("plots: errorBarChart draws bars only for finite intervals; lineChart unchanged by the shared axes", () => {
  const svg = errorBarChart([{
    name: "s",
    points: [{ x: 1, y: 0.5, lo: 0.4, hi: 0.6 }, { x: 2, y: 0.6, lo: null, hi: 0.7 }, { x: 3, y: null }],
  }], { xTicks: [1, 2, 3] });
  assertEquals((svg.match(/class="errorbar"/g) ?? []).length, 1);
  assertEquals((svg.match(/<circle /g) ?? []).length, 2);
  for (const t of ["1", "2", "3"]) assert(svg.includes(`text-anchor="middle" fill="#4b5563">${t}</text>`), t);
  // log axis skips x <= 0
  const log = errorBarChart([{ name: "s", points: [{ x: 0, y: 1 }, { x: 10, y: 2 }, { x: 1000, y: 3 }] }], {
    logX: true,
  });
  assertEquals((log.match(/<circle /g) ?? []).length, 2);
  // lineChart's nice ticks still come out as before
  const lc = lineChart([{ name: "a", points: [[0, 0], [10, 1]] }], { width: 480 });
  for (const t of ["0", "2", "4", "6", "8", "10"]) {
    assert(lc.includes(`text-anchor="middle" fill="#4b5563">${t}</text>`), `tick ${t}`);
  }
});
