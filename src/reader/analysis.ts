/**
 * Reader study analysis: accuracy per reader, per resolution and overall with Wilson 95% intervals and
 * an exact two-sided binomial test against chance (50%); sensitivity and specificity for "synthetic"
 * (single mode); Fleiss' kappa across readers on the items every reader rated; a self-contained SVG of
 * accuracy against resolution; JSON and a Markdown fragment.
 * @module
 */

import {
  binomialTest,
  fleissKappa,
  type ProportionInterval,
  sensitivitySpecificity,
  wilsonInterval,
} from "../metrics/stats.ts";
import { type AnswerRecord, findItem, isCorrect, type StudyManifest } from "./study.ts";

/** Accuracy of a set of answers. */
export interface AccuracySummary {
  /** Number of answers. */
  n: number;
  /** Correct answers. */
  correct: number;
  /** correct / n (null without answers). */
  accuracy: number | null;
  /** Wilson 95% interval of the accuracy (null without answers). */
  ci95: ProportionInterval | null;
  /** Exact two-sided binomial test of correct/n against 0.5 (null without answers). */
  pValue: number | null;
  /** Share of synthetic images called synthetic (single mode; null in pair mode or without synthetic). */
  sensitivity: number | null;
  /** Share of real images called real (single mode; null in pair mode or without real). */
  specificity: number | null;
  /** Mean confidence 1-5 of the answers that gave one (null if none did). */
  meanConfidence: number | null;
}

/** Accuracy at one resolution. */
export interface ResolutionSummary extends AccuracySummary {
  /** Image height in pixels. */
  resolution: number;
}

/** One reader's results. */
export interface ReaderSummary {
  /** Reader id. */
  reader: string;
  /** Experience level the reader gave ("" if unknown). */
  experience: string;
  /** Over all the reader's answers. */
  overall: AccuracySummary;
  /** Per block resolution, in block order. */
  perResolution: ResolutionSummary[];
}

/** Inter-reader agreement. */
export interface Agreement {
  /** Fleiss' kappa over the items every reader rated (null with < 2 readers, no such items, or one category). */
  fleissKappa: number | null;
  /** Readers included. */
  readers: number;
  /** Items rated by all of them. */
  items: number;
}

/** The whole analysis (JSON-serialisable; NaN never appears, undefined values are null). */
export interface StudyAnalysis {
  /** Single or pair mode. */
  mode: StudyManifest["mode"];
  /** Items in the study. */
  items: number;
  /** All readers' latest answers pooled. */
  overall: AccuracySummary;
  /** Pooled per resolution, in block order. */
  perResolution: ResolutionSummary[];
  /** Per reader (sorted by id). */
  perReader: ReaderSummary[];
  /** Agreement over all blocks. */
  agreement: Agreement;
  /** Agreement within each block. */
  agreementPerResolution: (Agreement & { resolution: number })[];
  /** Answer lines read and how many were later changed (replaced). */
  answerLines: number;
  /** Answers replaced by a later change. */
  replaced: number;
}

/** The last answer of every (reader, item): a change replaces the earlier answer. */
export function latestAnswers(answers: readonly AnswerRecord[]): AnswerRecord[] {
  const m = new Map<string, AnswerRecord>();
  for (const a of answers) {
    const key = `${a.reader}\u0000${a.item}`;
    m.delete(key); // keep insertion order = order of the final answers
    m.set(key, a);
  }
  return [...m.values()];
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

interface Scored {
  rec: AnswerRecord;
  correct: boolean;
  truthSynthetic: boolean;
  saidSynthetic: boolean;
  resolution: number;
  block: number;
}

function summarize(mode: StudyManifest["mode"], xs: readonly Scored[]): AccuracySummary {
  const n = xs.length;
  const correct = xs.filter((x) => x.correct).length;
  const conf = xs.map((x) => x.rec.confidence).filter((c): c is number => typeof c === "number");
  let sensitivity: number | null = null, specificity: number | null = null;
  if (mode === "single" && n > 0) {
    const ss = sensitivitySpecificity(xs.map((x) => x.saidSynthetic), xs.map((x) => x.truthSynthetic));
    sensitivity = finite(ss.sensitivity);
    specificity = finite(ss.specificity);
  }
  return {
    n,
    correct,
    accuracy: n ? correct / n : null,
    ci95: n ? wilsonInterval(correct, n) : null,
    pValue: n ? binomialTest(correct, n, 0.5) : null,
    sensitivity,
    specificity,
    meanConfidence: conf.length ? conf.reduce((a, b) => a + b, 0) / conf.length : null,
  };
}

function agreement(manifest: StudyManifest, xs: readonly Scored[], blocks: number[]): Agreement {
  const readers = [...new Set(xs.map((x) => x.rec.reader))].sort();
  const byItem = new Map<string, Map<string, string>>();
  for (const x of xs) {
    if (!byItem.has(x.rec.item)) byItem.set(x.rec.item, new Map());
    // pair mode: readers see different sides, so rate by the manifest's image, not left/right
    byItem.get(x.rec.item)!.set(x.rec.reader, x.rec.answer);
  }
  const items: string[] = [];
  for (const b of blocks) {
    for (const it of manifest.blocks[b].items) {
      const r = byItem.get(it.id);
      if (r && readers.every((id) => r.has(id))) items.push(it.id);
    }
  }
  if (readers.length < 2 || items.length === 0) {
    return { fleissKappa: null, readers: readers.length, items: items.length };
  }
  const categories = manifest.mode === "single" ? ["real", "synthetic"] : ["first", "second"]; // the item's first (real) or second (synthetic) image chosen
  const table = items.map((id) => {
    const row = [0, 0];
    const images = findItem(manifest, id)!.item.images;
    for (const reader of readers) {
      const a = byItem.get(id)!.get(reader)!;
      const c = manifest.mode === "single" ? categories.indexOf(a) : images.indexOf(a);
      row[c]++;
    }
    return row;
  });
  return { fleissKappa: finite(fleissKappa(table)), readers: readers.length, items: items.length };
}

/**
 * Analyses the answers of a study. `answers` are the lines of answers.jsonl in order (changes replace
 * earlier answers); `experience` maps reader ids to the experience level they gave.
 */
export function analyzeStudy(
  manifest: StudyManifest,
  answers: readonly AnswerRecord[],
  experience: Readonly<Record<string, string>> = {},
): StudyAnalysis {
  const latest = latestAnswers(answers);
  const scored: Scored[] = latest.map((rec) => {
    const found = findItem(manifest, rec.item);
    if (!found) throw new Error(`answers: item ${rec.item} of reader ${rec.reader} is not in the manifest`);
    const correct = isCorrect(manifest, found.item, rec.answer);
    const truthSynthetic = manifest.mode === "single"
      ? manifest.images[found.item.images[0]].truth === "synthetic"
      : true;
    return {
      rec,
      correct,
      truthSynthetic,
      saidSynthetic: manifest.mode === "single" ? rec.answer === "synthetic" : true,
      resolution: manifest.blocks[found.block].resolution,
      block: found.block,
    };
  });
  const blockIdx = manifest.blocks.map((_, b) => b);
  const perRes = (xs: Scored[]): ResolutionSummary[] =>
    manifest.blocks.map((blk, b) => ({
      resolution: blk.resolution,
      ...summarize(manifest.mode, xs.filter((x) => x.block === b)),
    }));
  const readers = [...new Set(scored.map((x) => x.rec.reader))].sort();
  return {
    mode: manifest.mode,
    items: manifest.blocks.reduce((s, b) => s + b.items.length, 0),
    overall: summarize(manifest.mode, scored),
    perResolution: perRes(scored),
    perReader: readers.map((reader) => {
      const xs = scored.filter((x) => x.rec.reader === reader);
      return {
        reader,
        experience: experience[reader] ?? "",
        overall: summarize(manifest.mode, xs),
        perResolution: perRes(xs),
      };
    }),
    agreement: agreement(manifest, scored, blockIdx),
    agreementPerResolution: manifest.blocks.map((blk, b) => ({
      resolution: blk.resolution,
      ...agreement(manifest, scored.filter((x) => x.block === b), [b]),
    })),
    answerLines: answers.length,
    replaced: answers.length - latest.length,
  };
}

const pct = (v: number | null) => (v === null ? "n/a" : `${(100 * v).toFixed(1)}%`);
const num = (v: number | null, d = 3) => (v === null ? "n/a" : v.toFixed(d));
const pv = (v: number | null) => (v === null ? "n/a" : v < 1e-4 ? v.toExponential(1) : v.toFixed(4));

function row(label: string, s: AccuracySummary, single: boolean): string {
  const ci = s.ci95 ? `${pct(s.ci95.lo)}-${pct(s.ci95.hi)}` : "n/a";
  const cells = [label, String(s.n), pct(s.accuracy), ci, pv(s.pValue)];
  if (single) cells.push(pct(s.sensitivity), pct(s.specificity));
  return `| ${cells.join(" | ")} |`;
}

/** A Markdown fragment with the tables (valid inside HTML-rendering Markdown viewers too). */
export function analysisMarkdown(a: StudyAnalysis): string {
  const single = a.mode === "single";
  const head = ["", "n", "accuracy", "95% CI (Wilson)", "p (vs 50%)"];
  if (single) head.push('sensitivity ("synthetic")', "specificity");
  const th = `| ${head.join(" | ")} |\n|${head.map(() => "---").join("|")}|`;
  const lines: string[] = [];
  lines.push(`## Reader study (${a.mode} mode, ${a.items} items, ${a.perReader.length} readers)`, "");
  lines.push("### Overall and per resolution", "", th, row("all", a.overall, single));
  for (const r of a.perResolution) lines.push(row(`${r.resolution} px`, r, single));
  lines.push("", "### Per reader", "", th);
  for (const r of a.perReader) {
    lines.push(row(`${r.reader}${r.experience ? ` (${r.experience})` : ""}`, r.overall, single));
    for (const p of r.perResolution) lines.push(row(`&nbsp;&nbsp;${p.resolution} px`, p, single));
  }
  lines.push("", "### Agreement (Fleiss' kappa, items rated by every reader)", "");
  lines.push("| | kappa | readers | items |", "|---|---|---|---|");
  lines.push(`| all | ${num(a.agreement.fleissKappa)} | ${a.agreement.readers} | ${a.agreement.items} |`);
  for (const g of a.agreementPerResolution) {
    lines.push(`| ${g.resolution} px | ${num(g.fleissKappa)} | ${g.readers} | ${g.items} |`);
  }
  lines.push(
    "",
    `Answers: ${a.answerLines} lines, ${a.replaced} replaced by a later change. ` +
      (single
        ? 'Sensitivity: synthetic images called "synthetic"; specificity: real images called "real".'
        : "Pair mode: a trial is correct when the synthetic image of the pair was picked."),
    "",
  );
  return lines.join("\n");
}

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/**
 * Accuracy against resolution as a self-contained SVG: pooled accuracy with Wilson 95% bars, each reader
 * as a thin line, chance (50%) dashed.
 */
export function accuracyPlotSvg(a: StudyAnalysis, width = 480, height = 320): string {
  const m = { l: 56, r: 16, t: 28, b: 44 };
  const pw = width - m.l - m.r, ph = height - m.t - m.b;
  const n = a.perResolution.length;
  const x = (i: number) => m.l + (n <= 1 ? pw / 2 : (i * pw) / (n - 1));
  const y = (v: number) => m.t + (1 - v) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>Reader accuracy against resolution</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  );
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    out.push(
      `<line x1="${m.l}" x2="${m.l + pw}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v * 100)}%</text>`,
    );
  }
  out.push(
    `<line x1="${m.l}" x2="${m.l + pw}" y1="${y(0.5)}" y2="${y(0.5)}" stroke="#888" stroke-dasharray="5,4"/>`,
  );
  a.perResolution.forEach((r, i) => {
    out.push(`<text x="${x(i)}" y="${m.t + ph + 18}" text-anchor="middle">${r.resolution} px</text>`);
  });
  out.push(
    `<text x="${m.l + pw / 2}" y="${height - 6}" text-anchor="middle">resolution</text>`,
    `<text x="14" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${
      m.t + ph / 2
    })">accuracy</text>`,
    `<text x="${m.l}" y="16">Accuracy vs resolution (${esc(a.mode)} mode; dashed: chance)</text>`,
  );
  const path = (pts: [number, number][]) =>
    pts.map(([px, py], k) => `${k ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`).join(" ");
  for (const r of a.perReader) {
    const pts = r.perResolution.map((p, i) => [x(i), p.accuracy] as const)
      .filter((p): p is readonly [number, number] => p[1] !== null)
      .map(([px, v]) => [px, y(v)] as [number, number]);
    if (pts.length) {
      out.push(
        `<path d="${path(pts)}" fill="none" stroke="#9bb" stroke-width="1"><title>${
          esc(r.reader)
        }</title></path>`,
      );
    }
  }
  const pooled: [number, number][] = [];
  a.perResolution.forEach((r, i) => {
    if (r.accuracy === null || !r.ci95) return;
    pooled.push([x(i), y(r.accuracy)]);
    out.push(
      `<line x1="${x(i)}" x2="${x(i)}" y1="${y(r.ci95.lo)}" y2="${
        y(r.ci95.hi)
      }" stroke="#036" stroke-width="1.5"/>`,
      `<circle cx="${x(i)}" cy="${y(r.accuracy)}" r="4" fill="#036"><title>${r.resolution} px: ${
        pct(r.accuracy)
      } (n=${r.n})</title></circle>`,
    );
  });
  if (pooled.length) out.push(`<path d="${path(pooled)}" fill="none" stroke="#036" stroke-width="2"/>`);
  out.push("</svg>");
  return out.join("\n");
}
