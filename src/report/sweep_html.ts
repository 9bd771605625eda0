/**
 * The report of a sweep as one self-contained HTML page (inline CSS and SVG; no scripts, fonts or network
 * references), rendered from the merged {@linkcode SweepResults} document (DIR/results.json of
 * `deno task experiment NAME --out DIR --merge`), plus a Markdown summary table for a README.
 *
 * The page follows the study's figures: the AUROC gap (real-trained minus synthetic-trained) with its
 * bootstrap interval against the swept value, the two mean AUROCs against it, then per cell the per-label
 * AUROCs, fidelity and privacy. Cells that failed or have not finished are listed with their status and
 * error but are not plotted.
 * @module
 */
import type { CellPrivacySpace, CellStatus, SweepCellResult, SweepResults } from "../experiments/results.ts";
import { COLORS, errorBarChart, type ErrorBarSeries, esc, fmt, fmtSig } from "./plots.ts";

const CSS = `
:root { --fg:#111827; --muted:#4b5563; --line:#e5e7eb; --panel:#f8fafc; --real:${COLORS.real};
  --synth:${COLORS.synthetic}; }
* { box-sizing: border-box; }
body { margin:0; background:#f3f4f6; color:var(--fg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI",
  Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 28px 60px; background: #fff; }
header { border-bottom: 3px solid var(--fg); padding-bottom: 14px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 34px 0 8px; padding-top: 10px; border-top: 1px solid var(--line); }
p { margin: 6px 0 10px; }
.sub { color: var(--muted); font-size: 13px; }
.lead { color: var(--muted); max-width: 880px; }
nav { font-size: 13px; margin: 10px 0 0; display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav a { color: var(--muted); text-decoration: none; border-bottom: 1px dotted var(--muted); }
.explain { background: #f0f9ff; border-left: 4px solid var(--real); padding: 8px 14px; margin: 10px 0 14px;
  font-size: 13.5px; max-width: 900px; }
.explain p { margin: 4px 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0 14px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 9px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted); font-weight: 600; }
thead th, thead th.num { white-space: normal; vertical-align: bottom; max-width: 150px; }
thead th.group { text-align: center; border-bottom: 2px solid var(--line); max-width: none; }
tbody th { font-weight: 500; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.none { color: #9ca3af; }
tr.mean td, tr.mean th { font-weight: 650; border-top: 2px solid var(--fg); }
tr.error td { color: #b91c1c; font-size: 12.5px; white-space: pre-wrap; word-break: break-word; }
.kv th { width: 230px; color: var(--muted); font-weight: 500; }
.status { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 10px; }
.status.complete { background: #d1fae5; color: #047857; } .status.failed { background: #fee2e2; color: #b91c1c; }
.status.partial { background: #fef3c7; color: #b45309; } .status.pending { background: #e5e7eb; color: #374151; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0; }
.charts { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.charts svg { max-width: 100%; height: auto; background: white; }
.note { font-size: 12.5px; color: var(--muted); max-width: 900px; }
details { margin: 8px 0; } summary { cursor: pointer; color: var(--muted); }
pre { background: var(--panel); border: 1px solid var(--line); padding: 10px; font-size: 12px; overflow-x: auto;
  max-height: 420px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
@media print { body { background: white; } main { padding: 0; } h2 { break-after: avoid; } svg { break-inside: avoid; } }
`;

const STATUSES: readonly CellStatus[] = ["complete", "failed", "partial", "pending"];
const NONE = "—";

const finite = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v);

/** A number or "—" for null / NaN. */
function num(v: number | null | undefined, digits = 3): string {
  return finite(v) ? fmt(v, digits) : NONE;
}

/** A share as a percentage or "—". */
function pct(v: number | null | undefined, digits = 1): string {
  return finite(v) ? `${(100 * v).toFixed(digits)}%` : NONE;
}

/** An integer count (with thousands separators) or "—". */
function count(v: number | null | undefined): string {
  return finite(v) ? Math.round(v).toLocaleString("en-US") : NONE;
}

/** Seconds as s / min / h, or "—". */
function duration(s: number | null | undefined): string {
  if (!finite(s)) return NONE;
  if (s >= 7200) return `${(s / 3600).toFixed(1)} h`;
  if (s >= 120) return `${(s / 60).toFixed(1)} min`;
  return `${s.toFixed(1)} s`;
}

/** A table cell with a right-aligned number text (grey when undefined). */
function td(text: string): string {
  return `<td class="num${text === NONE ? " none" : ""}">${esc(text)}</td>`;
}

/** "gap [lo, hi]" or "—". */
function gapText(c: SweepCellResult): string {
  const u = c.utility;
  if (!u || !finite(u.gap)) return NONE;
  return finite(u.gapLo) && finite(u.gapHi) ? `${fmt(u.gap)} [${fmt(u.gapLo)}, ${fmt(u.gapHi)}]` : fmt(u.gap);
}

/** "rate (expected)" of the feature-space memorisation, or "—". */
function memorisationText(c: SweepCellResult): string {
  const m = c.privacy?.features;
  if (!m || !finite(m.memorisationRate)) return NONE;
  return finite(m.memorisationExpected)
    ? `${pct(m.memorisationRate)} (exp. ${pct(m.memorisationExpected)})`
    : pct(m.memorisationRate);
}

function statusBadge(s: CellStatus): string {
  return `<span class="status ${esc(s)}">${esc(s)}</span>`;
}

/** Seed of a cell (from its parameters; null if the document lacks it). */
function seedOf(c: SweepCellResult): number | null {
  return finite(c.params?.seed) ? c.params.seed : null;
}

/** "value" or "value · seed s" when the sweep has several seeds: a cell's name in headers and legends. */
function cellName(c: SweepCellResult, manySeeds: boolean): string {
  const seed = seedOf(c);
  return manySeeds && seed !== null ? `${c.value} · seed ${seed}` : String(c.value);
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`;
}

/** Distinct seeds of the cells (the config's list when the cells say nothing). */
function seedsOf(r: SweepResults): number[] {
  const s = new Set<number>();
  for (const c of r.cells) {
    const seed = seedOf(c);
    if (seed !== null) s.add(seed);
  }
  return s.size ? [...s].sort((a, b) => a - b) : [...(r.config?.seeds ?? [])];
}

function headerBlock(r: SweepResults): string {
  const created = esc(String(r.createdAt ?? "").replace("T", " ").replace(/\.\d+Z$/, " UTC"));
  const nav = [
    ["plots", "plots"],
    ["cells", "cells"],
    ["per-label", "per-label AUROC"],
    [
      "fidelity",
      "fidelity",
    ],
    ["privacy", "privacy"],
    ["config", "configuration"],
  ]
    .map(([id, name]) => `<a href="#${id}">${esc(name)}</a>`).join("");
  return `<header><h1>${esc(r.title || r.name)}</h1><div class="sub">Sweep <b>${
    esc(r.name)
  }</b> · swept: <b>${
    esc(r.axisLabel)
  }</b> · merged ${created} · ${r.cells.length} cells</div><nav>${nav}</nav></header>`;
}

function countsBlock(r: SweepResults): string {
  const items = STATUSES.map((s) => {
    const n = r.counts?.[s] ?? r.cells.filter((c) => c.status === s).length;
    return `<span>${statusBadge(s)} ${n}</span>`;
  });
  return `<div class="counts">${items.join("")}</div>`;
}

function configSummary(r: SweepResults): string {
  const c = r.config;
  const g = c?.gan, k = c?.classifier;
  const subset = c?.subset && Object.keys(c.subset).length
    ? Object.entries(c.subset).map(([key, v]) => `${key} ${v}`).join(", ")
    : "all data";
  const rows: [string, string][] = [
    ["preset", `${c?.preset ?? NONE} (dataset grids: ${c?.dataset ?? NONE})`],
    ["data source", c?.data ?? NONE],
    ["swept parameter", `${r.axisLabel}: ${(c?.values ?? []).join(", ")}`],
    ["seeds", seedsOf(r).join(", ") || NONE],
    ...(r.axis !== "resolution" ? [["image size", `${c?.resolution ?? NONE} px`] as [string, string]] : []),
    ["subset (every cell)", subset],
    [
      "GAN",
      `preset ${g?.preset ?? NONE}; ${
        finite(g?.images) ? `${count(g.images)} real images shown` : "the preset's training length"
      }${finite(g?.minutes) ? `, at most ${g.minutes} min` : ""}${
        g?.overrides && Object.keys(g.overrides).length ? `; overrides ${JSON.stringify(g.overrides)}` : ""
      }`,
    ],
    [
      "classifiers (real- and synthetic-trained)",
      `preset ${k?.preset ?? NONE}; ${finite(k?.epochs) ? `at most ${k.epochs} epochs` : "default epochs"}${
        finite(k?.images) ? `, at most ${count(k.images)} training images each` : ""
      }${finite(k?.minutes) ? `, at most ${k.minutes} min each` : ""}${
        finite(k?.batch) ? `, batch ${k.batch}` : ""
      }; gap interval from ${k?.resamples ?? NONE} bootstrap resamples`,
    ],
  ];
  return `<table class="kv"><tbody>${
    rows.map(([a, b]) => `<tr><th scope="row">${esc(a)}</th><td>${esc(b)}</td></tr>`).join("")
  }</tbody></table>`;
}

/**
 * Plots of the complete cells against the swept value. X scale: resolutions are powers of two and the
 * images-per-combination grid roughly halves from step to step, so a log axis gives each step the same
 * width while the positions stay numeric (an evenly spaced categorical axis would look the same for the
 * study's grids but would hide uneven steps of custom grids); the label-combination grid (10, 8, 6, 4, 2)
 * is linear and stays linear. Any axis whose values span more than 10x goes log too.
 */
function plotsSection(r: SweepResults, manySeeds: boolean): string {
  const done = r.cells.filter((c) => c.status === "complete" && c.utility);
  const values = [...new Set(done.map((c) => c.value).filter((v) => finite(v) && v > 0))].sort((a, b) =>
    a - b
  );
  const logX = values.length > 1 && (r.axis === "resolution" || values[values.length - 1] / values[0] > 10);
  // ticks at the grid's own values: each one is a cell of the sweep
  const xTicks = values.length <= 12 ? values : undefined;
  const seeds = manySeeds ? seedsOf(r) : [null];
  const ofSeed = (seed: number | null) => done.filter((c) => seed === null || seedOf(c) === seed);
  // seeds share the x values: shift each seed's dots a few px so their bars stay visible
  const offset = (i: number) => (seeds.length > 1 ? (i - (seeds.length - 1) / 2) * 7 : 0);
  const seedColors = [COLORS.grey, COLORS.green, COLORS.purple, COLORS.sky, COLORS.yellow];
  const gapSeries: ErrorBarSeries[] = seeds.map((seed, i) => ({
    name: seed === null ? "gap" : `seed ${seed}`,
    color: seedColors[i % seedColors.length],
    offset: offset(i),
    points: ofSeed(seed).map((c) => ({
      x: c.value,
      y: c.utility!.gap,
      lo: c.utility!.gapLo,
      hi: c.utility!.gapHi,
    })),
  }));
  const dashes = [undefined, "5,3", "2,3", "8,3,2,3"];
  const aurocSeries: ErrorBarSeries[] = seeds.flatMap((seed, i) => {
    const suffix = seed === null ? "" : `, seed ${seed}`;
    return [
      {
        name: `trained on real (TRTR)${suffix}`,
        color: COLORS.real,
        dash: dashes[i % dashes.length],
        offset: offset(i),
        points: ofSeed(seed).map((c) => ({ x: c.value, y: c.utility!.trtr })),
      },
      {
        name: `trained on synthetic (TSTR)${suffix}`,
        color: COLORS.synthetic,
        dash: dashes[i % dashes.length],
        offset: offset(i),
        points: ofSeed(seed).map((c) => ({ x: c.value, y: c.utility!.tstr })),
      },
      // label fidelity (GAN-test), where the cells' GANs measured it: its ceiling is TRTR-like
      ...(ofSeed(seed).some((c) => finite(c.labelFidelity?.mean))
        ? [{
          name: `label fidelity (real classifier on generated)${suffix}`,
          color: COLORS.green,
          dash: dashes[i % dashes.length],
          offset: offset(i),
          points: ofSeed(seed).filter((c) => finite(c.labelFidelity?.mean)).map((c) => ({
            x: c.value,
            y: c.labelFidelity!.mean,
          })),
        }]
        : []),
    ];
  });
  const confidence = done.find((c) => finite(c.utility?.confidence))?.utility?.confidence ?? 0.95;
  const common = { xLabel: r.axisLabel, width: 540, height: 320, logX, xTicks };
  const charts = done.length
    ? errorBarChart(gapSeries, {
      ...common,
      title: `AUROC gap (TRTR − TSTR), ${Math.round(confidence * 100)}% bootstrap interval`,
      yLabel: "mean AUROC gap",
      yRef: 0,
      legend: seeds.length > 1 ? "below" : "none",
    }) +
      errorBarChart(aurocSeries, {
        ...common,
        title: "Mean test AUROC",
        yLabel: "mean AUROC (0.5 = chance)",
        yRef: 0.5,
        legend: "below",
      })
    : `<p class="note">No complete cell yet: nothing to plot.</p>`;
  const absent = r.cells.filter((c) => c.status !== "complete" || !c.utility);
  const undefinedGap = done.filter((c) => !finite(c.utility?.gap));
  const notes = [
    `One dot per complete cell${manySeeds ? " and seed" : ""}; bars: the gap's ${
      Math.round(confidence * 100)
    }% patient-bootstrap interval. A positive gap means the classifier trained on synthetic images is worse ` +
    `on the real test set; 0 (dashed) means as good. X axis: ${
      logX ? "logarithmic (each doubling gets the same width)" : "linear"
    }.`,
  ];
  if (absent.length) {
    notes.push(
      `Not plotted (see the table below): ${
        absent.map((c) => `${cellName(c, manySeeds)} (${c.status})`).join(", ")
      }.`,
    );
  }
  if (undefinedGap.length) {
    notes.push(
      `Complete, but the gap is undefined (no dot): ${
        undefinedGap.map((c) => cellName(c, manySeeds)).join(", ")
      }.`,
    );
  }
  return section(
    "plots",
    `Utility against ${r.axisLabel}`,
    `<div class="charts">${charts}</div>${notes.map((n) => `<p class="note">${esc(n)}</p>`).join("")}`,
  );
}

function cellsSection(r: SweepResults, manySeeds: boolean): string {
  const head = [
    "#",
    r.axisLabel,
    ...(manySeeds ? ["seed"] : []),
    "status",
    "TRTR",
    "TSTR",
    "gap [CI]",
    "FD",
    "memorisation (features)",
    "MIA AUC (features)",
    "train / valid / test images",
    "label combinations",
    "GAN images shown",
    "GAN time",
    "evaluation time",
  ];
  const rows = r.cells.map((c) => {
    const u = c.utility;
    const cells = [
      `<td class="num">${c.index}</td>`,
      `<th scope="row" class="num">${esc(c.value)}</th>`,
      ...(manySeeds ? [td(String(seedOf(c) ?? NONE))] : []),
      `<td>${statusBadge(c.status)}</td>`,
      td(num(u?.trtr)),
      td(num(u?.tstr)),
      td(gapText(c)),
      td(finite(c.fidelity?.frechetDistance) ? fmtSig(c.fidelity.frechetDistance) : NONE),
      td(memorisationText(c)),
      td(num(c.privacy?.features.miaAuc)),
      td(c.images ? `${count(c.images.train)} / ${count(c.images.valid)} / ${count(c.images.test)}` : NONE),
      td(count(c.combinations)),
      td(count(c.ganImages)),
      td(duration(c.ganSeconds)),
      td(duration(c.evaluateSeconds)),
    ];
    const row = `<tr class="cell ${esc(c.status)}" id="cell-${c.index}">${cells.join("")}</tr>`;
    const err = c.error
      ? `<tr class="error"><td></td><td colspan="${head.length - 1}">${esc(c.dir)}: ${esc(c.error)}</td></tr>`
      : "";
    return row + err;
  }).join("");
  return section(
    "cells",
    "Cells",
    `<p class="lead">Every cell of the sweep in run order. TRTR / TSTR: mean test AUROC of the classifier trained ` +
      `on real / synthetic images (both tested on real images); gap = TRTR − TSTR with its bootstrap interval. ` +
      `FD: Fréchet distance in the real-trained classifier's feature space (lower = closer). Memorisation: share ` +
      `of synthetic images closer to a training image than most real holdout images are, against what chance ` +
      `gives. MIA AUC: distance-based membership inference (0.5 = training images not recognisable). ` +
      `${NONE} = undefined or not measured.</p>` +
      `<div class="scroll"><table><thead><tr>${
        head.map((h, i) => `<th${i === 2 + (manySeeds ? 1 : 0) ? "" : ' class="num"'}>${esc(h)}</th>`).join(
          "",
        )
      }</tr></thead><tbody>${rows}</tbody></table></div>`,
  );
}

function perLabelSection(r: SweepResults, manySeeds: boolean): string {
  const done = r.cells.filter((c) => c.status === "complete" && c.utility);
  if (!done.length) {
    return section("per-label", "AUROC per label", `<p class="note">No complete cell yet.</p>`);
  }
  const labels: string[] = [];
  for (const c of done) {
    for (const l of c.utility!.perLabel ?? []) if (!labels.includes(l.label)) labels.push(l.label);
  }
  const lookup = done.map((c) => new Map((c.utility!.perLabel ?? []).map((l) => [l.label, l])));
  const group = done.map((c) => `<th class="group" colspan="2">${esc(cellName(c, manySeeds))}</th>`).join("");
  const sub = done.map(() => `<th class="num">TRTR</th><th class="num">TSTR</th>`).join("");
  const rows = labels.map((label) =>
    `<tr><th scope="row">${esc(label)}</th>${
      lookup.map((m) => td(num(m.get(label)?.trtr)) + td(num(m.get(label)?.tstr))).join("")
    }</tr>`
  ).join("");
  const mean = `<tr class="mean"><th scope="row">mean (defined labels)</th>${
    done.map((c) => td(num(c.utility!.trtr)) + td(num(c.utility!.tstr))).join("")
  }</tr>`;
  return section(
    "per-label",
    "AUROC per label",
    `<p class="lead">Test AUROC per label of the real-trained (TRTR) and synthetic-trained (TSTR) classifier, one ` +
      `column pair per complete cell (${esc(r.axisLabel)}${
        manySeeds ? " · seed" : ""
      }). ${NONE}: undefined ` +
      `(the test set of that cell has no positive or no negative image for the label).</p>` +
      `<div class="scroll"><table><thead><tr><th rowspan="2">label</th>${group}</tr><tr>${sub}</tr></thead>` +
      `<tbody>${rows}${mean}</tbody></table></div>`,
  );
}

function fidelitySection(r: SweepResults, manySeeds: boolean): string {
  const done = r.cells.filter((c) => c.status === "complete");
  const rows = done.map((c) => {
    const f = c.fidelity;
    const kid = f && finite(f.kid)
      ? `${fmtSig(f.kid * 1e3)}${finite(f.kidStd) ? ` ± ${fmtSig(f.kidStd * 1e3)}` : ""}`
      : NONE;
    return `<tr><th scope="row">${esc(cellName(c, manySeeds))}</th>${
      td(finite(f?.frechetDistance) ? fmtSig(f.frechetDistance) : NONE)
    }${td(kid)}${td(num(f?.precision))}${td(num(f?.recall))}${td(num(f?.density))}${
      td(num(f?.coverage))
    }</tr>`;
  }).join("");
  return section(
    "fidelity",
    "Fidelity",
    `<p class="lead">How alike real and synthetic images look to the real-trained classifier (its pooled features). ` +
      `Fréchet distance and KID: lower is closer (0 = same distribution). Precision: share of synthetic images that ` +
      `look real; recall: share of the real variety the synthetic set covers; density and coverage: robust versions ` +
      `of the two (1 = ideal).</p>` +
      (done.length
        ? `<div class="scroll"><table><thead><tr><th>${
          esc(r.axisLabel)
        }</th><th class="num">Fréchet distance</th>` +
          `<th class="num">KID ×10³ (± sd)</th><th class="num">precision</th><th class="num">recall</th>` +
          `<th class="num">density</th><th class="num">coverage</th></tr></thead><tbody>${rows}</tbody></table></div>`
        : `<p class="note">No complete cell yet.</p>`),
  );
}

function privacySection(r: SweepResults, manySeeds: boolean): string {
  const done = r.cells.filter((c) => c.status === "complete");
  const rows = done.map((c) => {
    const p = c.privacy;
    const space = (s: CellPrivacySpace | undefined) =>
      td(pct(s?.memorisationRate)) + td(pct(s?.memorisationExpected)) + td(num(s?.miaAuc)) +
      td(num(s?.dcrMedianRatio));
    return `<tr><th scope="row">${esc(cellName(c, manySeeds))}</th>${space(p?.features)}${space(p?.pixels)}${
      td(count(p?.pixels.copies))
    }</tr>`;
  }).join("");
  const sub = `<th class="num">memorisation</th><th class="num">expected</th><th class="num">MIA AUC</th>` +
    `<th class="num">DCR ratio</th>`;
  return section(
    "privacy",
    "Privacy",
    `<p class="lead">Does the generator copy its training images? For each synthetic image the closest real ` +
      `training image is found, in the classifier's feature space and in pixel space, and compared with how close ` +
      `real holdout images come. Memorisation: share of synthetic images closer than most holdout images (expected ` +
      `by chance: the column beside it). MIA AUC: membership inference (0.5 = no leak). DCR ratio: median distance ` +
      `of synthetic over holdout images to the training set (well below 1: synthetic images sit close to training ` +
      `images). Copies: synthetic images equal to a training image up to 8-bit rounding.</p>` +
      (done.length
        ? `<div class="scroll"><table><thead><tr><th rowspan="2">${esc(r.axisLabel)}</th>` +
          `<th class="group" colspan="4">features</th><th class="group" colspan="5">pixels</th></tr>` +
          `<tr>${sub}${sub}<th class="num">copies</th></tr></thead><tbody>${rows}</tbody></table></div>`
        : `<p class="note">No complete cell yet.</p>`),
  );
}

function configSection(r: SweepResults): string {
  return section(
    "config",
    "Configuration",
    configSummary(r) +
      `<details><summary>Experiment config (experiment.json)</summary><pre>${
        esc(JSON.stringify(r.config, null, 2))
      }</pre></details>`,
  );
}

/**
 * Renders a merged sweep (DIR/results.json) as a self-contained HTML page: summary, plots of the AUROC
 * gap and of both mean AUROCs against the swept value, and tables of every cell (utility, per-label
 * AUROC, fidelity, privacy). Undefined numbers print as "—"; all text is escaped.
 *
 * @example
 * ```ts
 * import { sweepReportHtml } from "./sweep_html.ts";
 * import { parseSweepResults } from "../experiments/results.ts";
 * const toHtml = (json: string): string => sweepReportHtml(parseSweepResults(JSON.parse(json)));
 * let message = "";
 * try {
 *   toHtml("{}");
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * if (!message.includes("schema")) throw new Error("a non-sweep document is refused");
 * ```
 */
export function sweepReportHtml(results: SweepResults): string {
  const r = results;
  const manySeeds = seedsOf(r).length > 1;
  const body = [
    headerBlock(r),
    `<p class="lead">Each cell of this sweep trains a GAN on the real training images with one value of ` +
    `<b>${
      esc(r.axisLabel)
    }</b>, generates a synthetic dataset of the same size and labels, and trains the same ` +
    `classifier once on real and once on synthetic images; both are tested on the same real images.</p>`,
    countsBlock(r),
    configSummary(r),
    plotsSection(r, manySeeds),
    cellsSection(r, manySeeds),
    perLabelSection(r, manySeeds),
    fidelitySection(r, manySeeds),
    privacySection(r, manySeeds),
    configSection(r),
    `<footer>medsynth sweep report · ${esc(r.schema)} v${esc(r.version)} · self-contained: no external ` +
    `resources.</footer>`,
  ].join("\n");
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${
      esc(r.title || r.name)
    }</title><style>${CSS}</style></head><body><main>${body}</main></body></html>\n`;
}

/** Text for a Markdown table cell: one line, pipes and angle brackets escaped. */
function md(s: string): string {
  return s.replace(/\s+/g, " ").trim().replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * A short Markdown summary of a merged sweep for a README: one caption line and a table with one row per
 * cell (value, status, TRTR, TSTR, gap [CI], FD, memorisation, MIA AUC; a seed column when the sweep has
 * several seeds). Undefined numbers print as "—"; a failed cell's status carries the start of its error.
 *
 * @example
 * ```ts
 * import { sweepSummaryMarkdown } from "./sweep_html.ts";
 * import type { SweepResults } from "../experiments/results.ts";
 * const empty = { name: "x", title: "t", axisLabel: "resolution (px)", cells: [], counts: {} };
 * const text = sweepSummaryMarkdown(empty as unknown as SweepResults);
 * if (!text.includes("| resolution (px) |")) throw new Error("the table header names the axis");
 * ```
 */
export function sweepSummaryMarkdown(results: SweepResults): string {
  const r = results;
  const manySeeds = seedsOf(r).length > 1;
  const head = [
    r.axisLabel,
    ...(manySeeds ? ["seed"] : []),
    "status",
    "TRTR",
    "TSTR",
    "gap [CI]",
    "FD",
    "memorisation",
    "MIA AUC",
  ];
  const rows = r.cells.map((c) => {
    const err = c.error ? `: ${c.error.length > 80 ? `${c.error.slice(0, 77)}...` : c.error}` : "";
    return [
      String(c.value),
      ...(manySeeds ? [String(seedOf(c) ?? NONE)] : []),
      `${c.status}${err}`,
      num(c.utility?.trtr),
      num(c.utility?.tstr),
      gapText(c),
      finite(c.fidelity?.frechetDistance) ? fmtSig(c.fidelity.frechetDistance) : NONE,
      memorisationText(c),
      num(c.privacy?.features.miaAuc),
    ];
  });
  const line = (cells: string[]) => `| ${cells.map(md).join(" | ")} |`;
  const counts = STATUSES.map((s) => `${r.counts?.[s] ?? 0} ${s}`).join(", ");
  const confidence = r.cells.find((c) => finite(c.utility?.confidence))?.utility?.confidence ?? 0.95;
  return [
    `**${md(r.title || r.name)}** (sweep \`${md(r.name)}\`, ${md(r.axisLabel)}; ${counts})`,
    "",
    line(head),
    `|${head.map(() => " --- |").join("")}`,
    ...rows.map(line),
    "",
    `TRTR / TSTR: mean test AUROC of the classifier trained on real / synthetic images; gap = TRTR − TSTR with ` +
    `its ${
      Math.round(confidence * 100)
    }% patient-bootstrap interval; FD: Fréchet distance in the real-trained ` +
    `classifier's features; memorisation and MIA AUC in that feature space (expected rate in brackets).`,
    "",
  ].join("\n");
}
