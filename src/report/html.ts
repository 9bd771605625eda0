/**
 * The evaluation report as one self-contained HTML page: inline CSS, inline SVG charts, PNG images as
 * data: URLs; no scripts, fonts, or network references, so it opens offline and can be mailed or
 * archived as a single file. Rendered from a {@linkcode Results} document (results.json).
 *
 * Written for a clinician-scientist: every metric block says in plain words what the number means and
 * which direction is good.
 * @module
 */
import type { ArmSummary, GalleryPair, LabelAuroc, Results, TrainingRow } from "./results.ts";
import type { PrivacySpaceResult } from "../eval/privacy.ts";
import type { LabelStats } from "../data/subset.ts";
import type { AccuracySummary } from "../reader/analysis.ts";
import { accuracyPlotSvg } from "../reader/analysis.ts";
import {
  binMeans,
  COLORS,
  esc,
  fmt,
  fmtSig,
  histogramChart,
  intervalChart,
  lineChart,
  rocChart,
  type Series,
} from "./plots.ts";

const CSS = `
:root { --fg:#111827; --muted:#4b5563; --line:#e5e7eb; --bg:#ffffff; --panel:#f8fafc; --real:${COLORS.real};
  --synth:${COLORS.synthetic}; --good:#047857; --warn:#b45309; --bad:#b91c1c; }
* { box-sizing: border-box; }
body { margin:0; background:#f3f4f6; color:var(--fg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI",
  Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 28px 60px; background: var(--bg); }
header { border-bottom: 3px solid var(--fg); padding-bottom: 14px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-top: 10px; border-top: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p { margin: 6px 0 10px; }
.sub { color: var(--muted); font-size: 13px; }
.lead { color: var(--muted); max-width: 860px; }
nav { font-size: 13px; margin: 10px 0 0; display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav a { color: var(--muted); text-decoration: none; border-bottom: 1px dotted var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; margin: 18px 0 6px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .k { font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
.card .v { font-size: 24px; font-weight: 650; margin: 2px 0; font-variant-numeric: tabular-nums; }
.card .v small { font-size: 13px; font-weight: 500; color: var(--muted); }
.card .d { font-size: 12.5px; color: var(--muted); }
.card.real { border-top: 4px solid var(--real); } .card.synth { border-top: 4px solid var(--synth); }
.card.neutral { border-top: 4px solid #9ca3af; }
.verdict { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 10px; }
.verdict.good { background: #d1fae5; color: var(--good); } .verdict.warn { background: #fef3c7; color: var(--warn); }
.verdict.bad { background: #fee2e2; color: var(--bad); }
table { border-collapse: collapse; margin: 8px 0 14px; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted); font-weight: 600; }
tbody th { font-weight: 500; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.undef { color: #9ca3af; font-style: italic; }
tr.mean td { font-weight: 650; border-top: 2px solid var(--fg); }
.grid-table td, .grid-table th { padding: 3px 10px; vertical-align: middle; border-bottom: none; }
.grid-table tr.first td, .grid-table tr.first th { border-top: 1px solid var(--line); padding-top: 8px; }
.grid-table th { width: 150px; font-weight: 600; }
.grid-table td.tag { font-size: 11px; text-transform: uppercase; letter-spacing: 0.04em; width: 80px; }
.grid-table td.tag.real { color: var(--real); } .grid-table td.tag.synth { color: var(--synth); }
.grid-table img { display: block; image-rendering: pixelated; }
.strip-empty { color: #9ca3af; font-style: italic; font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.charts svg { max-width: 100%; height: auto; background: white; }
.roc-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 10px; }
.roc-grid svg { width: 100%; height: auto; }
.roc-undef { border: 1px dashed var(--line); border-radius: 6px; display: flex; align-items: center;
  justify-content: center; color: #9ca3af; font-style: italic; min-height: 160px; text-align: center; padding: 10px; }
.explain { background: #f0f9ff; border-left: 4px solid var(--real); padding: 8px 14px; margin: 10px 0 14px;
  font-size: 13.5px; max-width: 900px; }
.explain p { margin: 4px 0; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 12px; }
.pair { border: 1px solid var(--line); border-radius: 8px; padding: 8px; background: var(--panel); }
.pair .imgs { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; }
.pair img { width: 100%; image-rendering: pixelated; display: block; border-radius: 3px; }
.pair .cap { font-size: 11px; color: var(--muted); text-align: center; margin-top: 2px; }
.pair .meta { font-size: 12px; margin-top: 6px; }
.pair .meta b { font-variant-numeric: tabular-nums; }
details { margin: 8px 0; } summary { cursor: pointer; color: var(--muted); }
pre { background: var(--panel); border: 1px solid var(--line); padding: 10px; font-size: 12px; overflow-x: auto;
  max-height: 420px; }
.legend-dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin: 0 4px 0 0; }
.notes li { color: var(--warn); }
caption { text-align: left; font-size: 12.5px; color: var(--muted); padding: 0 10px 4px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
@media print { body { background: white; } main { padding: 0; } h2 { break-after: avoid; } .pair, svg { break-inside: avoid; } }
`;

/** "undefined (no positives in test)" / "(no negatives ...)" for a label whose AUROC is null. */
export function undefinedReason(l: Pick<LabelAuroc, "testPositives" | "testNegatives">): string {
  if (l.testPositives === 0) return "undefined (no positives in test)";
  if (l.testNegatives === 0) return "undefined (no negatives in test)";
  return "undefined";
}

const pct = (v: number | null | undefined, d = 1) =>
  v === null || v === undefined || !Number.isFinite(v) ? "n/a" : `${(100 * v).toFixed(d)}%`;

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`;
}

function explain(...paragraphs: string[]): string {
  return `<div class="explain">${paragraphs.map((p) => `<p>${p}</p>`).join("")}</div>`;
}

function card(kind: string, key: string, value: string, detail: string): string {
  return `<div class="card ${kind}"><div class="k">${
    esc(key)
  }</div><div class="v">${value}</div><div class="d">${detail}</div></div>`;
}

function verdict(kind: "good" | "warn" | "bad", text: string): string {
  return `<span class="verdict ${kind}">${esc(text)}</span>`;
}

/** Share of the real data's above-chance AUROC the synthetic data kept: (TSTR - 0.5) / (TRTR - 0.5). */
function retained(trtr: number | null, tstr: number | null): number | null {
  if (trtr === null || tstr === null || !(trtr > 0.5)) return null;
  return (tstr - 0.5) / (trtr - 0.5);
}

function privacyVerdict(p: PrivacySpaceResult): { kind: "good" | "warn" | "bad"; text: string } {
  const m = p.memorisation, mia = p.membershipInference.auc;
  if ((p.copies && p.copies.count > 0) || m.rate > 5 * m.expected + 0.02 || mia > 0.7) {
    return { kind: "bad", text: "signs of copying" };
  }
  if (m.rate > 2 * m.expected + 0.005 || mia > 0.6) return { kind: "warn", text: "closer than expected" };
  return { kind: "good", text: "no sign of copying" };
}

function headline(r: Results): string {
  const u = r.utility;
  const cards: string[] = [];
  cards.push(card(
    "real",
    "Real-trained · mean AUROC",
    fmt(u.trtr.mean),
    `Trained and tested on real images (TRTR); ${
      u.perLabel.filter((l) => l.trtr !== null).length
    } of ${u.perLabel.length} labels defined.`,
  ));
  const kept = retained(u.trtr.mean, u.tstr.mean);
  cards.push(card(
    "synth",
    "Synthetic-trained · mean AUROC",
    fmt(u.tstr.mean),
    kept === null
      ? "Trained on synthetic, tested on real images (TSTR)."
      : kept <= 0
      ? "Trained on synthetic, tested on real (TSTR): no better than chance."
      : `Trained on synthetic, tested on real (TSTR): keeps <b>${pct(kept, 0)}</b> of the real data's ` +
        "above-chance AUROC.",
  ));
  const g = u.gap;
  cards.push(card(
    "neutral",
    "Gap (real − synthetic)",
    `${fmt(g.gap)}`,
    `${Math.round(g.confidence * 100)}% CI [${fmt(g.lo)}, ${
      fmt(g.hi)
    }], patient bootstrap (${g.resamples}×). ` +
      (g.lo !== null && g.hi !== null
        ? g.lo > 0
          ? "Synthetic-trained is significantly worse."
          : g.hi < 0
          ? "Synthetic-trained is significantly better."
          : "No significant difference."
        : ""),
  ));
  if (r.fidelity) {
    const f = r.fidelity;
    cards.push(card(
      "neutral",
      "Fidelity: precision / recall",
      `${fmt(f.prdc.precision, 2)} / ${fmt(f.prdc.recall, 2)}`,
      `Realism / variety in the classifier's feature space (1 = ideal). Fréchet distance ${
        fmtSig(f.frechetDistance)
      }, KID×10³ ${fmtSig(f.kid.mean * 1e3)}.`,
    ));
  }
  if (r.privacy) {
    const p = r.privacy.features, v = privacyVerdict(p);
    const px = r.privacy.pixels, vp = privacyVerdict(px);
    const worst = v.kind === "bad" || vp.kind === "bad"
      ? "bad"
      : v.kind === "warn" || vp.kind === "warn"
      ? "warn"
      : "good";
    cards.push(card(
      "neutral",
      "Memorisation (features / pixels)",
      `${pct(p.memorisation.rate)} / ${pct(px.memorisation.rate)}`,
      `Expected by chance: ${pct(p.memorisation.expected)}. Membership-inference AUC ${
        fmt(p.membershipInference.auc, 2)
      } / ${fmt(px.membershipInference.auc, 2)} (0.5 = no leak). ${
        verdict(
          worst,
          worst === "good"
            ? "no sign of copying"
            : worst === "warn"
            ? "closer than expected"
            : "signs of copying",
        )
      }`,
    ));
  }
  if (r.inceptionFid) {
    cards.push(card(
      "neutral",
      "Inception FID",
      fmt(r.inceptionFid.fid, 2),
      `${
        esc(r.inceptionFid.model)
      }; ${r.inceptionFid.realCount} real vs ${r.inceptionFid.syntheticCount} synthetic.`,
    ));
  }
  return `<div class="cards">${cards.join("")}</div>`;
}

function gridsSection(r: Results): string {
  const g = r.grids;
  if (!g) return "";
  const [h, w] = g.imageSize;
  // one uniform magnification for every strip (pixelated), at most 3x and never wider than the page
  const full = g.columns * w + g.columns - 1;
  const f = Math.max(0.25, Math.min(Math.max(1, Math.floor(80 / h)), 880 / full));
  const img = (src: string | null, n: number, what: string, label: string) =>
    src
      ? `<img src="${src}" width="${Math.round((n * w + n - 1) * f)}" height="${Math.round(h * f)}" alt="${
        esc(`${what} images: ${label}`)
      }">`
      : `<span class="strip-empty">no ${what} image with this label</span>`;
  const rows = g.rows.map((row) =>
    `<tr class="first"><th scope="row" rowspan="2">${esc(row.label)}</th><td class="tag real">real</td><td>${
      img(row.real, row.realCount, "real", row.label)
    }</td></tr><tr><td class="tag synth">synthetic</td><td>${
      img(row.synthetic, row.syntheticCount, "synthetic", row.label)
    }</td></tr>`
  ).join("");
  return section(
    "grids",
    "Real and synthetic images per label",
    `<p class="lead">For each label: up to ${g.columns} real test images carrying it (top) and ${g.columns} ` +
      `synthetic images generated for it (bottom), ${h}×${w} px${
        g.channels === 3 ? ", three CT windows shown as RGB" : ""
      }. Images with several findings appear in each of their rows.</p>` +
      `<table class="grid-table"><tbody>${rows}</tbody></table>`,
  );
}

function utilitySection(r: Results): string {
  const u = r.utility;
  const labels = u.perLabel.map((l) => l.label);
  const chart = intervalChart(labels, [
    { name: "trained on real (TRTR)", values: u.perLabel.map((l) => l.trtr), color: COLORS.real },
    { name: "trained on synthetic (TSTR)", values: u.perLabel.map((l) => l.tstr), color: COLORS.synthetic },
  ], {
    title: "AUROC per label on the real test set",
    xLabel: "AUROC (0.5 = chance, 1 = perfect)",
    xDomain: [Math.min(0.4, ...u.perLabel.flatMap((l) => [l.trtr ?? 1, l.tstr ?? 1])), 1],
    xRef: 0.5,
    undefinedText: "undefined (no positives in test)",
    width: 620,
  });
  const g = u.gap;
  const gapChart = intervalChart(["mean AUROC gap"], [{
    name: "gap",
    values: [g.gap],
    lo: [g.lo],
    hi: [g.hi],
    color: COLORS.grey,
  }], {
    title: `Gap TRTR − TSTR with ${Math.round(g.confidence * 100)}% bootstrap interval`,
    xLabel: "AUROC difference (0 = synthetic as good as real)",
    xRef: 0,
    width: 620,
    rowHeight: 34,
  });
  const cell = (v: number | null, l: LabelAuroc) =>
    v === null ? `<td class="undef">${esc(undefinedReason(l))}</td>` : `<td class="num">${fmt(v)}</td>`;
  const rows = u.perLabel.map((l) =>
    `<tr><th scope="row">${esc(l.label)}</th>${cell(l.trtr, l)}${cell(l.tstr, l)}<td class="num">${
      l.trtr !== null && l.tstr !== null ? fmt(l.trtr - l.tstr) : "–"
    }</td><td class="num">${l.testPositives}</td><td class="num">${l.testNegatives}</td></tr>`
  ).join("");
  const table = `<table><thead><tr><th>label</th><th class="num">AUROC real-trained</th>` +
    `<th class="num">AUROC synthetic-trained</th><th class="num">difference</th><th class="num">test positives</th>` +
    `<th class="num">test negatives</th></tr></thead><tbody>${rows}<tr class="mean"><td>mean (defined labels)</td>` +
    `<td class="num">${fmt(u.trtr.mean)}</td><td class="num">${fmt(u.tstr.mean)}</td><td class="num">${
      fmt(g.gap)
    } [${fmt(g.lo)}, ${fmt(g.hi)}]</td><td></td><td></td></tr></tbody></table>`;
  return section(
    "utility",
    "Utility: does a classifier learn as much from synthetic images?",
    explain(
      "The same classifier was trained twice with the same settings and seed: once on the real training images " +
        "(<b>TRTR</b>, train real / test real) and once only on the synthetic images (<b>TSTR</b>, train synthetic / " +
        "test real). Both were then tested on the same held-out <b>real</b> images. If the synthetic data carry the " +
        "diagnostic information of the real data, the two AUROCs are close.",
      `AUROC is the probability that a random image with the finding scores higher than one without (0.5 = chance). ` +
        `The gap's interval comes from resampling the ${u.testPatients} test patients (${u.testImages} images) ` +
        `with replacement ${g.resamples} times; an interval that excludes 0 means the difference is unlikely to be chance.`,
    ) +
      `<div class="charts">${chart}</div>${table}<div class="charts">${gapChart}</div>`,
  );
}

function rocSection(r: Results): string {
  if (!r.roc.length) return "";
  const byLabel = new Map(r.utility.perLabel.map((l) => [l.label, l]));
  const cells = r.roc.map((c) => {
    const l = byLabel.get(c.label);
    if (!c.trtr && !c.tstr) {
      return `<div class="roc-undef"><div><b>${esc(c.label)}</b><br>${
        esc(l ? undefinedReason(l) : "undefined")
      }</div></div>`;
    }
    const curves = [];
    if (c.trtr) curves.push({ name: "real-trained", ...c.trtr, color: COLORS.real });
    if (c.tstr) curves.push({ name: "synthetic-trained", ...c.tstr, color: COLORS.synthetic });
    return rocChart(curves, { title: c.label, width: 260, height: 260 });
  });
  return section(
    "roc",
    "ROC curves per label",
    `<p class="lead">True positive rate against false positive rate over all decision thresholds, on the real test ` +
      `set. The dashed diagonal is chance; a curve toward the top-left corner is better.</p>` +
      `<div class="roc-grid">${cells.join("")}</div>`,
  );
}

function trainingSection(r: Results): string {
  const rows = r.training.rows;
  const charts: string[] = [];
  const xOf = (row: TrainingRow) => row.imagesSeen ?? row.step ?? NaN;
  const series = (key: keyof TrainingRow, name: string, color: string, dash?: string): Series => ({
    name,
    color,
    dash,
    points: binMeans(rows.map((row) => [xOf(row), Number(row[key])] as [number, number])),
  });
  const has = (key: keyof TrainingRow) => rows.some((row) => typeof row[key] === "number");
  const xLabel = rows.some((row) => row.imagesSeen !== undefined) ? "real images shown" : "step";
  if (rows.length) {
    if (has("dLoss") || has("gLoss")) {
      charts.push(lineChart(
        [
          series("dLoss", "discriminator", COLORS.real),
          series("gLoss", "generator", COLORS.synthetic),
        ].filter((s) => s.points.length),
        { title: "GAN losses", xLabel, yLabel: "loss" },
      ));
    }
    if (has("dAux") || has("gAux")) {
      charts.push(lineChart(
        [
          series("dAux", "label loss, real images (D)", COLORS.real),
          series("gAux", "label loss, generated (G)", COLORS.synthetic),
        ].filter((s) => s.points.length),
        { title: "Auxiliary label losses", xLabel, yLabel: "BCE" },
      ));
    }
    if (has("dReal") || has("dFake")) {
      charts.push(lineChart(
        [
          series("dReal", "D output on real", COLORS.real),
          series("dFake", "D output on generated", COLORS.synthetic),
          ...(has("augP") ? [series("augP", "augmentation p", COLORS.grey, "4,3")] : []),
        ].filter((s) => s.points.length),
        { title: "Discriminator outputs", xLabel, yLabel: "mean logit" },
      ));
    }
  }
  const lf = r.training.labelFidelity ?? [];
  if (lf.length) {
    const palette = [COLORS.real, COLORS.synthetic, COLORS.green, COLORS.purple, COLORS.sky, COLORS.yellow];
    const names = r.dataset.labelNames;
    const perLabel: Series[] = names.map((name, l) => ({
      name,
      color: palette[l % palette.length],
      dash: l >= palette.length ? "4,3" : undefined,
      points: lf.filter((p) => p.perLabel[l] !== null).map((p) => [p.imagesSeen, p.perLabel[l] as number]),
    }));
    charts.push(lineChart(
      [
        ...perLabel.filter((s) => s.points.length),
        { name: "mean", color: "#111827", points: lf.map((p) => [p.imagesSeen, p.mean]) },
        {
          name: "mean on real images",
          color: COLORS.grey,
          dash: "6,4",
          points: lf.map((p) => [p.imagesSeen, p.realMean]),
        },
      ],
      {
        title: "Label fidelity vs images seen",
        xLabel: "real images shown",
        yLabel: "AUROC",
        yRef: 0.5,
        legend: "below",
      },
    ));
  }
  const arm = (a: ArmSummary, name: string, color: string, dash?: string): Series => ({
    name,
    color,
    dash,
    points: a.epochs.map((e) => [e.epoch, e.validMean ?? NaN]),
  });
  const u = r.utility;
  if (u.trtr.epochs.length || u.tstr.epochs.length) {
    charts.push(lineChart([
      arm(u.trtr, "real-trained", COLORS.real),
      arm(u.tstr, "synthetic-trained", COLORS.synthetic),
    ], {
      title: "Classifier validation AUROC",
      xLabel: "epoch",
      yLabel: "mean AUROC",
      legend: "bottom-right",
      integerX: true,
    }));
    charts.push(lineChart([
      { name: "real-trained", color: COLORS.real, points: u.trtr.epochs.map((e) => [e.epoch, e.loss]) },
      {
        name: "synthetic-trained",
        color: COLORS.synthetic,
        points: u.tstr.epochs.map((e) => [e.epoch, e.loss]),
      },
    ], { title: "Classifier training loss", xLabel: "epoch", yLabel: "weighted BCE", integerX: true }));
  }
  if (!charts.length) return "";
  const ev = r.training.events.map((e) =>
    `${esc(e.event ?? "")}${e.imagesSeen !== undefined ? ` at ${e.imagesSeen} images` : ""}${
      e.time !== undefined ? ` (${fmt(e.time / 60, 1)} min)` : ""
    }`
  );
  return section(
    "training",
    "Training curves",
    `<p class="lead">GAN losses are averaged over the steps between log lines (and over bins when there are many). ` +
      `Adversarial losses oscillate by design; a steady drift of one side or a jump to very large values signals ` +
      `trouble. ${
        lf.length
          ? "<b>Label fidelity</b>: a classifier trained on the real training images scored a fixed set of generated " +
            "images while the GAN trained; per label, the AUROC of its score for images generated with vs without " +
            "the label (0.5: the generator does not draw the finding as real images show it; the grey dashed line " +
            "is the same classifier on real validation images, its ceiling). "
          : ""
      }Validation AUROC per epoch shows where each classifier was stopped (best epoch kept: real-trained ` +
      `${u.trtr.bestEpoch}, synthetic-trained ${u.tstr.bestEpoch}).</p>` +
      `<div class="charts">${charts.join("")}</div>` +
      (ev.length ? `<p class="sub">Run events: ${ev.join("; ")}.</p>` : ""),
  );
}

function fidelitySection(r: Results): string {
  const f = r.fidelity;
  if (!f) return "";
  const rows = [
    ["Fréchet distance", fmtSig(f.frechetDistance), "lower is better; 0 = same mean and spread of features"],
    [
      "KID (×10³)",
      `${fmtSig(f.kid.mean * 1e3)} ± ${fmtSig(f.kid.std * 1e3, 2)}`,
      `lower is better; ${f.kid.subsets} subsets of ${f.kid.subsetSize}`,
    ],
    [
      "precision",
      fmt(f.prdc.precision),
      "share of synthetic images that look like some real image (realism)",
    ],
    ["recall", fmt(f.prdc.recall), "share of real images whose kind the generator also produces (variety)"],
    [
      "density",
      fmt(f.prdc.density),
      "like precision, counting how many real neighbours vouch for each (≈1 typical)",
    ],
    ["coverage", fmt(f.prdc.coverage), "share of real images with a synthetic image nearby (robust recall)"],
  ].map(([k, v, d]) => `<tr><th scope="row">${k}</th><td class="num">${v}</td><td class="sub">${d}</td></tr>`)
    .join("");
  return section(
    "fidelity",
    "Fidelity: do synthetic images look like real ones?",
    explain(
      `Each image is summarised by a vector of ${f.featureDim} features: ${esc(f.featureSpace)}. ` +
        `Fidelity metrics compare the ${f.realCount} real test images with ` +
        `${f.syntheticCount} synthetic images in that feature space.`,
      "The <b>Fréchet distance</b> and <b>KID</b> measure how far apart the two clouds of points are (0 = identical " +
        "distributions). <b>Precision</b> asks whether synthetic images fall where real images are (realism); " +
        `<b>recall</b> and <b>coverage</b> ask whether the real variety is reproduced (k = ${f.prdc.k} nearest neighbours).`,
      "These numbers are comparable only between runs evaluated with the same feature extractor; they are not " +
        "Inception FIDs.",
    ) +
      `<table><thead><tr><th>metric</th><th class="num">value</th><th>meaning</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}

function spaceTable(p: PrivacySpaceResult): string {
  const v = privacyVerdict(p);
  const row = (k: string, a: string, b: string) =>
    `<tr><th scope="row">${k}</th><td class="num">${a}</td><td class="num">${b}</td></tr>`;
  const d = p.dcr;
  return `<table><caption>${esc(p.space === "pixels" ? "Pixel space" : "Feature space")}: ${
    esc(p.distanceUnit)
  }</caption><thead><tr><th></th><th class="num">synthetic → train</th>` +
    `<th class="num">real holdout → train</th></tr></thead><tbody>` +
    row("images", String(d.synthetic.count), String(d.holdout.count)) +
    row("closest distance (min)", fmtDist(d.synthetic.min), fmtDist(d.holdout.min)) +
    row("1st percentile", fmtDist(d.synthetic.p1), fmtDist(d.holdout.p1)) +
    row("median", fmtDist(d.synthetic.median), fmtDist(d.holdout.median)) +
    `<tr><th scope="row">memorisation rate</th><td class="num">${
      pct(p.memorisation.rate)
    } (${p.memorisation.count})</td>` +
    `<td class="num">${pct(p.memorisation.expected)} by definition</td></tr>` +
    `<tr><th scope="row">membership-inference AUC</th><td class="num" colspan="2">${
      fmt(p.membershipInference.auc)
    } (${p.membershipInference.members} training vs ${p.membershipInference.nonMembers} holdout images)</td></tr>` +
    (p.copies
      ? `<tr><th scope="row">pixel copies (&lt; 1 grey level)</th><td class="num" colspan="2">${p.copies.count}</td></tr>`
      : "") +
    `<tr><th scope="row">assessment</th><td colspan="2">${verdict(v.kind, v.text)}</td></tr></tbody></table>`;
}

function privacySection(r: Results): string {
  const p = r.privacy;
  if (!p) return "";
  const hist = (s: PrivacySpaceResult, title: string, xLabel: string) =>
    histogramChart(s.histogram.edges, [
      { name: "real holdout → train", values: s.histogram.holdout, color: COLORS.real },
      { name: "synthetic → train", values: s.histogram.synthetic, color: COLORS.synthetic },
    ], { title, xLabel, yLabel: "share of images", width: 500, height: 250 });
  return section(
    "privacy",
    "Privacy: does the generator copy its training images?",
    explain(
      "For every synthetic image we look up the <b>most similar real training image</b> (the images the generator " +
        "learned from). As a yardstick we do the same for real <b>holdout</b> images the generator never saw: they " +
        "show how close two different patients' images naturally are. A generator that copies produces synthetic " +
        "images much closer to a training image than any new real image would be.",
      `<b>Memorisation rate</b>: share of synthetic images closer to their nearest training image than ${
        100 - p.features.memorisation.percentile
      }% of holdout images are; about ${
        pct(p.features.memorisation.expected, 0)
      } is expected without copying. ` +
        "<b>Membership inference AUC</b>: how well an attacker holding only the synthetic images could tell whether " +
        "a given real image was in the training set (0.5 = not at all, 1 = always).",
      `Similarity is measured twice: in the classifier's feature space (content), and in pixel space (images ` +
        `reduced to ${p.pixelSize[0]}×${
          p.pixelSize[1]
        }, root mean square difference as a share of the intensity range). ` +
        "These checks find copies and near-copies; they are not a formal privacy guarantee (such as differential " +
        "privacy).",
    ) +
      `<div class="charts"><div>${spaceTable(p.features)}</div><div>${spaceTable(p.pixels)}</div></div>` +
      `<div class="charts">${
        hist(p.features, "Distance to the closest training image — features", p.features.distanceUnit)
      }${hist(p.pixels, "Distance to the closest training image — pixels", "RMS pixel difference")}</div>`,
  );
}

/** A distance for display: 4 decimals, rounding-level values (< 5e-5, e.g. 2e-16) shown as 0. */
function fmtDist(v: number | null): string {
  return v !== null && Math.abs(v) < 5e-5 ? "0.0000" : fmt(v, 4);
}

function galleryPairHtml(g: GalleryPair): string {
  const labels = (xs: string[]) => (xs.length ? xs.map(esc).join(", ") : "no finding");
  const other = g.space === "features" ? "pixels" : "features";
  return `<div class="pair"><div class="imgs"><div><img src="${g.synthetic.image}" alt="synthetic ${g.synthetic.index}">` +
    `<div class="cap">synthetic #${g.synthetic.index}</div></div><div><img src="${g.train.image}" alt="training ${g.train.index}">` +
    `<div class="cap">real training #${g.train.index}</div></div></div>` +
    `<div class="meta">#${g.rank} · distance <b>${fmtDist(g.distance)}</b>${
      g.otherDistance !== null ? ` <span class="sub">(${other} ${fmtDist(g.otherDistance)})</span>` : ""
    }<br>synthetic: ${labels(g.synthetic.labels)}<br>real: ${labels(g.train.labels)}</div></div>`;
}

function gallerySection(r: Results): string {
  if (!r.gallery.length) return "";
  const block = (space: "features" | "pixels", title: string) => {
    const gs = r.gallery.filter((g) => g.space === space);
    const unit = r.privacy?.[space].distanceUnit;
    return gs.length
      ? `<h3>${esc(title)}${
        unit ? ` <span class="sub">— ${esc(unit)}</span>` : ""
      }</h3><div class="gallery">${gs.map(galleryPairHtml).join("")}</div>`
      : "";
  };
  const thr = r.privacy
    ? ` For scale: the median real holdout image lies at ${fmtDist(r.privacy.features.dcr.holdout.median)} ` +
      `(features) and ${
        fmtDist(r.privacy.pixels.dcr.holdout.median)
      } (pixels) from its nearest training image.`
    : "";
  return section(
    "gallery",
    "Nearest-neighbour gallery",
    `<p class="lead">The synthetic images that came <b>closest</b> to a real training image, each beside that training ` +
      `image, closest first. Look for the same anatomy, same lesion in the same place, same noise: that would be a copy.` +
      `${thr}</p>` + block("features", "Closest in feature space") +
      block("pixels", "Closest in pixel space"),
  );
}

function statsTable(r: Results): string {
  const d = r.dataset;
  const sets: [string, LabelStats | null][] = [
    ["real train", d.real.train],
    ["real valid", d.real.valid],
    ["real test", d.real.test],
    ["synthetic train", d.synthetic.train],
    ["synthetic valid", d.synthetic.valid],
    ["synthetic test", d.synthetic.test],
  ];
  const present = sets.filter((s): s is [string, LabelStats] => s[1] !== null);
  const head = present.map(([n]) => `<th class="num">${esc(n)}</th>`).join("");
  const line = (name: string, f: (s: LabelStats) => number | string) =>
    `<tr><th scope="row">${esc(name)}</th>${
      present.map(([, s]) => `<td class="num">${f(s)}</td>`).join("")
    }</tr>`;
  const rows = [
    line("images", (s) => s.images),
    line("patients", (s) => s.patients),
    line("unique label combinations", (s) => s.uniqueCombinations),
    line("no positive label", (s) => s.noLabel),
    ...d.labelNames.map((n, j) => line(n, (s) => s.perLabel[j] ?? 0)),
  ].join("");
  return `<table><thead><tr><th></th>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

function dataCardSection(r: Results): string {
  const d = r.dataset;
  const card = r.dataCard;
  const gen = card?.generator ?? {};
  const kv = (o: Record<string, unknown>) =>
    Object.entries(o).map(([k, v]) =>
      `<tr><th scope="row">${esc(k)}</th><td>${esc(typeof v === "string" ? v : JSON.stringify(v))}</td></tr>`
    ).join("");
  return section(
    "datacard",
    "Data card",
    `<p>Real data: <b>${esc(d.source)}</b> (${
      esc(d.format)
    }), ${d.channels} channel(s), ${d.height}×${d.width} px, ` +
      `${d.labelNames.length} labels, split by patient into train / validation / test. The generator was trained on ` +
      `the real training split only. Synthetic sets hold one generated image per real label vector of the ` +
      `corresponding split (same size, same label distribution).</p>` + statsTable(r) +
      (card
        ? `<h3>Synthetic export</h3><table><tbody>` +
          kv({
            title: card.title,
            created: card.date,
            format: card.export.format,
            images: card.export.images,
            "image size":
              `${card.export.height}×${card.export.width}, ${card.export.channels} channel(s), ${card.export.bitDepth}-bit PNG`,
            naming: card.export.naming,
            seed: card.seed,
            ...gen,
          }) + `</tbody></table>`
        : ""),
  );
}

function readerRow(label: string, s: AccuracySummary, single: boolean): string {
  const ci = s.ci95 ? `${pct(s.ci95.lo)}–${pct(s.ci95.hi)}` : "n/a";
  const p = s.pValue === null ? "n/a" : s.pValue < 1e-4 ? s.pValue.toExponential(1) : s.pValue.toFixed(4);
  return `<tr><th scope="row">${esc(label)}</th><td class="num">${s.n}</td><td class="num">${
    pct(s.accuracy)
  }</td><td class="num">${ci}</td><td class="num">${p}</td>${
    single ? `<td class="num">${pct(s.sensitivity)}</td><td class="num">${pct(s.specificity)}</td>` : ""
  }</tr>`;
}

function readerSection(r: Results): string {
  const a = r.readerStudy;
  if (!a) return "";
  const single = a.mode === "single";
  const head =
    `<tr><th></th><th class="num">answers</th><th class="num">accuracy</th><th class="num">95% CI (Wilson)</th>` +
    `<th class="num">p vs 50%</th>${
      single ? `<th class="num">sensitivity for “synthetic”</th><th class="num">specificity</th>` : ""
    }</tr>`;
  const rows = [
    readerRow("all readers", a.overall, single),
    ...a.perResolution.map((p) => readerRow(`${p.resolution} px`, p, single)),
    ...a.perReader.map((p) =>
      readerRow(`reader ${p.reader}${p.experience ? ` (${p.experience})` : ""}`, p.overall, single)
    ),
  ].join("");
  const k = a.agreement.fleissKappa;
  // the analysis module writes a standalone SVG; inline SVG needs no namespace attribute
  const svg = accuracyPlotSvg(a).replace(/\s+xmlns="[^"]*"/, "");
  return section(
    "reader",
    "Reader study",
    explain(
      `Readers judged ${
        single ? "single images as real or synthetic" : "pairs: which of the two is synthetic"
      }. ` +
        "Accuracy near 50% means they could not tell synthetic from real; the p-value tests against pure guessing.",
    ) + `<table><thead>${head}</thead><tbody>${rows}</tbody></table>` +
      `<p>Agreement between readers (Fleiss' κ): <b>${
        fmt(k)
      }</b> over ${a.agreement.items} items rated by all ` +
      `${a.agreement.readers} readers (0 = chance agreement, 1 = perfect).</p><div class="charts">${svg}</div>`,
  );
}

function configSection(r: Results): string {
  const t = r.timings;
  const rows: [string, number | null][] = [
    ["GAN training (from metrics.jsonl)", t.ganTraining],
    ["generate synthetic set", t.generate],
    ["load data", t.load],
    ["classifier on real data", t.trtrTrain],
    ["classifier on synthetic data", t.tstrTrain],
    ["prediction", t.predict],
    ["bootstrap", t.bootstrap],
    ["feature extraction", t.features],
    ["fidelity metrics", t.fidelity],
    ["privacy metrics", t.privacy],
    ["evaluation total", t.total],
  ];
  const time = (s: number) => (s >= 120 ? `${fmt(s / 60, 1)} min` : `${fmt(s, 1)} s`);
  const timing = rows.filter(([, v]) => v !== null).map(([k, v]) =>
    `<tr><th scope="row">${esc(k)}</th><td class="num">${time(v!)}</td></tr>`
  ).join("");
  const ad = r.adapter;
  const json = (v: unknown) => `<pre>${esc(JSON.stringify(v, null, 2))}</pre>`;
  return section(
    "config",
    "Configuration and timings",
    `<p>${
      ad
        ? `GPU adapter: <b>${esc(ad.description || ad.vendor)}</b>${
          ad.isFallbackAdapter ? " (software fallback)" : ""
        }, runtime ${esc(ad.runtime)}.`
        : "GPU adapter: not recorded."
    }</p>` +
      `<table><tbody>${timing}</tbody></table>` +
      `<details><summary>Evaluation settings</summary>${json(r.config.evaluation)}</details>` +
      `<details><summary>GAN configuration (config.json)</summary>${json(r.config.gan)}</details>` +
      `<details><summary>Data specification (data.json)</summary>${json(r.config.data)}</details>`,
  );
}

/**
 * Renders a results document as a self-contained HTML page (see the module notes).
 *
 * @example
 * ```ts
 * import { renderReport } from "./html.ts";
 * import { parseResults } from "./results.ts";
 * // results.json text (written by `deno task evaluate`) -> HTML page
 * const toHtml = (json: string): string => renderReport(parseResults(JSON.parse(json), "results.json"));
 * let message = "";
 * try {
 *   toHtml("{}");
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * if (!message.includes("schema")) throw new Error("a non-results document is refused");
 * ```
 */
export function renderReport(r: Results): string {
  const nav = [
    ["grids", "images", r.grids],
    ["utility", "utility", true],
    ["roc", "ROC curves", r.roc.length],
    ["training", "training", true],
    ["fidelity", "fidelity", r.fidelity],
    ["privacy", "privacy", r.privacy],
    ["gallery", "gallery", r.gallery.length],
    ["reader", "reader study", r.readerStudy],
    ["datacard", "data card", true],
    ["config", "configuration", true],
  ].filter((x) => x[2]).map(([id, name]) => `<a href="#${id}">${esc(name)}</a>`).join("");
  const d = r.dataset;
  const notes = r.notes.length
    ? `<h3>Notes</h3><ul class="notes">${r.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>`
    : "";
  const body = [
    `<header><h1>${esc(r.title)}</h1><div class="sub">Run <b>${esc(r.run.name)}</b> · evaluated ${
      esc(r.createdAt.replace("T", " ").replace(/\.\d+Z$/, " UTC"))
    } · ${
      esc(d.source)
    }, ${d.height}×${d.width} px, ${d.labelNames.length} labels · ${d.real.train.images} real training images, ${d.synthetic.train.images} synthetic</div><nav>${nav}</nav></header>`,
    `<p class="lead">Can these synthetic images stand in for the real ones? This report checks three things: ` +
    `<b>utility</b> (a classifier trained on synthetic images, tested on real ones), <b>fidelity</b> (do they look ` +
    `alike to that classifier) and <b>privacy</b> (are training images copied).</p>`,
    r.shareable
      ? `<p class="lead"><b>Shareable form</b>: no real image and no local path of the input is in this file.</p>`
      : `<p class="lead" style="color:var(--bad)"><b>Contains real images</b> of the input data (example strips ` +
        `and the nearest-neighbour gallery): keep it where the data may be. Share <code>report_shareable.html</code> ` +
        `instead.</p>`,
    headline(r),
    notes,
    gridsSection(r),
    utilitySection(r),
    rocSection(r),
    trainingSection(r),
    fidelitySection(r),
    privacySection(r),
    gallerySection(r),
    readerSection(r),
    dataCardSection(r),
    configSection(r),
    `<footer>medsynth evaluation report · results schema ${esc(r.schema)} v${r.version} · self-contained: ` +
    `no external resources.</footer>`,
  ].join("\n");
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${esc(r.title)}</title><style>${CSS}</style></head><body><main>${body}</main></body></html>\n`;
}
