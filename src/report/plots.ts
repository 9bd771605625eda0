/**
 * Small hand-written SVG charts for the report: line chart (axes, ticks, legend), ROC chart, point chart
 * with interval whiskers, overlaid histograms. Output is an inline `<svg>` element (no xmlns, no fonts, no
 * scripts), sized by its viewBox so it scales with the page. All text is escaped.
 * @module
 */

/** Colour-blind-safe colours (Okabe & Ito): real data blue, synthetic data orange, then the rest. */
export const COLORS = {
  real: "#0072B2",
  synthetic: "#D55E00",
  green: "#009E73",
  purple: "#CC79A7",
  sky: "#56B4E9",
  yellow: "#E69F00",
  grey: "#6b7280",
} as const;

/** Escapes text for HTML / SVG content and attribute values. */
export function esc(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/** A number for display: `digits` decimals, "n/a" for null / NaN, compact for large or tiny magnitudes. */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "n/a";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 10 ** -digits)) return v.toExponential(Math.max(1, digits - 1));
  return v.toFixed(digits);
}

/** A number with `sig` significant digits (3750.025 -> "3750", 0.0041234 -> "0.004123"); "n/a" for null / NaN. */
export function fmtSig(v: number | null | undefined, sig = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "n/a";
  return String(+v.toPrecision(sig));
}

/** About `count` round tick values covering [lo, hi] (1, 2, 5 x 10^k steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  // the 1-2-5 step whose tick count comes closest to the requested count
  const step = [1, 2, 5, 10].map((m) => m * mag)
    .reduce((a, b) => (Math.abs((hi - lo) / b - count) < Math.abs((hi - lo) / a - count) ? b : a));
  const out: number[] = [];
  // integer multiples of the step, rounded to 12 digits so 3 * 0.2 prints as 0.6
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
    out.push(+(k * step).toPrecision(12));
  }
  return out;
}

/** Tick label: as few decimals as the step needs; k / M suffixes for big values. */
function tickLabel(v: number, step: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  const dec = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(dec);
}

/** A data series of a line chart. */
export interface Series {
  /** Legend name. */
  name: string;
  /** Points [x, y]; non-finite ones break the line. */
  points: [number, number][];
  /** Stroke colour. */
  color?: string;
  /** SVG stroke-dasharray, e.g. "4,3". */
  dash?: string;
  /** Stroke width (default 1.8). */
  width?: number;
}

/** Options of {@linkcode lineChart}. */
export interface ChartOptions {
  /** Title above the plot. */
  title?: string;
  /** X axis label. */
  xLabel?: string;
  /** Y axis label. */
  yLabel?: string;
  /** Width in px of the viewBox (default 480). */
  width?: number;
  /** Height in px (default 300). */
  height?: number;
  /** Fixed x range; default: the data's. */
  xDomain?: [number, number];
  /** Fixed y range; default: the data's, padded. */
  yDomain?: [number, number];
  /** Draw the y = x diagonal (ROC chance line). */
  diagonal?: boolean;
  /** Horizontal reference line at this y (dashed). */
  yRef?: number;
  /** Legend position (default "top-right"; "none" hides it). */
  legend?: "top-right" | "bottom-right" | "below" | "none";
  /** Only integer ticks on the x axis (epochs, counts). */
  integerX?: boolean;
  /** Accessible description (the svg's title); default the title. */
  description?: string;
}

interface Frame {
  w: number;
  h: number;
  l: number;
  r: number;
  t: number;
  b: number;
  x: (v: number) => number;
  y: (v: number) => number;
}

function extent(vals: number[], pad: number): [number, number] {
  const f = vals.filter(Number.isFinite);
  if (!f.length) return [0, 1];
  let lo = Math.min(...f), hi = Math.max(...f);
  if (lo === hi) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  const p = (hi - lo) * pad;
  return [lo - p, hi + p];
}

function open(o: ChartOptions, w: number, h: number): string[] {
  return [
    `<svg class="chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" font-size="11">`,
    `<title>${esc(o.description ?? o.title ?? "chart")}</title>`,
  ];
}

/**
 * Axes, grid, ticks and labels of a frame. `xTicks` (frame coordinates and labels) replaces the nice x
 * ticks, e.g. for a log axis whose frame works in log10 units.
 */
function axes(
  f: Frame,
  xd: [number, number],
  yd: [number, number],
  o: ChartOptions,
  xTicks?: { at: number; label: string }[],
): string[] {
  const out: string[] = [];
  const pr = f.w - f.r, pb = f.h - f.b;
  let xt = niceTicks(xd[0], xd[1], Math.max(3, Math.round((f.w - f.l - f.r) / 80)));
  if (o.integerX) xt = xt.filter(Number.isInteger);
  const yt = niceTicks(yd[0], yd[1], Math.max(3, Math.round((f.h - f.t - f.b) / 50)));
  const xs = xt.length > 1 ? xt[1] - xt[0] : 1, ys = yt.length > 1 ? yt[1] - yt[0] : 1;
  const xTickList = xTicks ?? xt.map((v) => ({ at: v, label: tickLabel(v, xs) }));
  for (const v of yt) {
    const y = f.y(v).toFixed(1);
    out.push(
      `<line x1="${f.l}" x2="${pr}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`,
      `<text x="${f.l - 6}" y="${y}" dy="0.32em" text-anchor="end" fill="#4b5563">${tickLabel(v, ys)}</text>`,
    );
  }
  for (const { at, label } of xTickList) {
    const x = f.x(at).toFixed(1);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${pb}" y2="${pb + 4}" stroke="#9ca3af"/>`,
      `<text x="${x}" y="${pb + 16}" text-anchor="middle" fill="#4b5563">${esc(label)}</text>`,
    );
  }
  out.push(
    `<line x1="${f.l}" x2="${pr}" y1="${pb}" y2="${pb}" stroke="#9ca3af"/>`,
    `<line x1="${f.l}" x2="${f.l}" y1="${f.t}" y2="${pb}" stroke="#9ca3af"/>`,
  );
  if (o.xLabel) {
    out.push(
      `<text x="${(f.l + pr) / 2}" y="${pb + 34}" text-anchor="middle" fill="#111827">${
        esc(o.xLabel)
      }</text>`,
    );
  }
  if (o.yLabel) {
    const cy = (f.t + pb) / 2;
    out.push(
      `<text x="13" y="${cy}" text-anchor="middle" fill="#111827" transform="rotate(-90 13 ${cy})">${
        esc(o.yLabel)
      }</text>`,
    );
  }
  if (o.title) {
    out.push(
      `<text x="${f.l}" y="16" font-size="13" font-weight="600" fill="#111827">${esc(o.title)}</text>`,
    );
  }
  return out;
}

function legend(
  f: Frame,
  items: { name: string; color: string; dash?: string }[],
  pos: ChartOptions["legend"],
) {
  if (pos === "none" || items.length === 0) return [];
  const lh = 15, pw = Math.max(...items.map((s) => s.name.length)) * 6.2 + 34;
  if (pos === "below") {
    // under the axis label: no box, nothing of the plot hidden
    const y0 = f.h - items.length * lh;
    return items.flatMap((s, i) => {
      const y = y0 + 6 + i * lh;
      return [
        `<line x1="${f.l}" x2="${f.l + 18}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2.5"${
          s.dash ? ` stroke-dasharray="${s.dash}"` : ""
        }/>`,
        `<text x="${f.l + 23}" y="${y}" dy="0.32em" fill="#111827">${esc(s.name)}</text>`,
      ];
    });
  }
  const x0 = f.w - f.r - pw - 4;
  const y0 = pos === "bottom-right" ? f.h - f.b - items.length * lh - 10 : f.t + 4;
  const out = [
    `<rect x="${x0}" y="${y0}" width="${pw}" height="${
      items.length * lh + 6
    }" rx="3" fill="white" fill-opacity="0.85" stroke="#e5e7eb"/>`,
  ];
  items.forEach((s, i) => {
    const y = y0 + 11 + i * lh;
    out.push(
      `<line x1="${x0 + 6}" x2="${x0 + 24}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2.5"${
        s.dash ? ` stroke-dasharray="${s.dash}"` : ""
      }/>`,
      `<text x="${x0 + 29}" y="${y}" dy="0.32em" fill="#111827">${esc(s.name)}</text>`,
    );
  });
  return out;
}

function frame(o: ChartOptions, xd: [number, number], yd: [number, number], legendRows = 0): Frame {
  const w = o.width ?? 480, below = o.legend === "below" ? legendRows * 15 + 4 : 0;
  const h = (o.height ?? 300) + below;
  // right margin: room for half of the last x tick label
  const l = o.yLabel ? 56 : 44, r = 20, t = o.title ? 28 : 12, b = (o.xLabel ? 42 : 26) + below;
  return {
    w,
    h,
    l,
    r,
    t,
    b,
    x: (v) => l + ((v - xd[0]) / (xd[1] - xd[0] || 1)) * (w - l - r),
    y: (v) => h - b - ((v - yd[0]) / (yd[1] - yd[0] || 1)) * (h - t - b),
  };
}

/** Path data of points, starting a new subpath after each non-finite point. */
function pathData(pts: [number, number][], f: Frame): string {
  let d = "", pen = false;
  for (const [x, y] of pts) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${f.x(x).toFixed(1)},${f.y(y).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/**
 * A line chart of one or more series with axes, nice ticks, grid and legend.
 *
 * @example
 * ```ts
 * import { lineChart } from "./plots.ts";
 * const svg = lineChart([{ name: "loss", points: [[0, 1], [1, 0.5], [2, 0.3]] }], { title: "Loss" });
 * if (!svg.startsWith("<svg") || !svg.includes("Loss")) throw new Error("no chart");
 * ```
 */
export function lineChart(series: Series[], o: ChartOptions = {}): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  if (o.yRef !== undefined) ys.push(o.yRef);
  const xd = o.xDomain ?? extent(xs, 0);
  const yd = o.yDomain ?? extent(ys, 0.05);
  const f = frame(o, xd, yd, series.length);
  const out = [...open(o, f.w, f.h), ...axes(f, xd, yd, o)];
  const id = `c${hash(JSON.stringify([series, o]))}`;
  out.push(
    `<clipPath id="${id}"><rect x="${f.l}" y="${f.t}" width="${f.w - f.l - f.r}" height="${
      f.h - f.t - f.b
    }"/></clipPath>`,
  );
  const clip = `clip-path="url(#${id})"`;
  if (o.diagonal) {
    out.push(
      `<line x1="${f.x(xd[0])}" y1="${f.y(xd[0])}" x2="${f.x(xd[1])}" y2="${
        f.y(xd[1])
      }" stroke="#9ca3af" stroke-dasharray="4,4" ${clip}/>`,
    );
  }
  if (o.yRef !== undefined) {
    const y = f.y(o.yRef).toFixed(1);
    out.push(
      `<line x1="${f.l}" x2="${f.w - f.r}" y1="${y}" y2="${y}" stroke="#6b7280" stroke-dasharray="5,4"/>`,
    );
  }
  const palette = Object.values(COLORS);
  series.forEach((s, i) => {
    const color = s.color ?? palette[i % palette.length];
    out.push(
      `<path d="${pathData(s.points, f)}" fill="none" stroke="${color}" stroke-width="${s.width ?? 1.8}"${
        s.dash ? ` stroke-dasharray="${s.dash}"` : ""
      } stroke-linejoin="round" ${clip}><title>${esc(s.name)}</title></path>`,
    );
  });
  out.push(
    ...legend(
      f,
      series.map((s, i) => ({ name: s.name, color: s.color ?? palette[i % palette.length], dash: s.dash })),
      o.legend ?? "top-right",
    ),
  );
  out.push("</svg>");
  return out.join("");
}

/** FNV-1a hash (hex) of a string: clip-path ids unique per chart content, and the same on every render. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}

/** One curve of a ROC chart. */
export interface RocSeries {
  /** Legend name (the AUROC is appended). */
  name: string;
  /** False positive rates. */
  fpr: ArrayLike<number>;
  /** True positive rates. */
  tpr: ArrayLike<number>;
  /** AUROC shown in the legend. */
  auc?: number | null;
  /** Colour. */
  color?: string;
  /** Dash pattern. */
  dash?: string;
}

/**
 * A square ROC chart (false positive rate vs true positive rate) with the chance diagonal.
 *
 * @example
 * ```ts
 * import { rocChart } from "./plots.ts";
 * const svg = rocChart([{ name: "real", fpr: [0, 0, 1], tpr: [0, 1, 1], auc: 1 }], { title: "x" });
 * if (!svg.includes("AUROC 1.000")) throw new Error("legend shows the AUROC");
 * ```
 */
export function rocChart(curves: RocSeries[], o: ChartOptions = {}): string {
  return lineChart(
    curves.map((c) => ({
      name: c.auc === undefined ? c.name : `${c.name} (AUROC ${fmt(c.auc)})`,
      points: Array.from(c.fpr, (x, i) => [x, c.tpr[i]] as [number, number]),
      color: c.color,
      dash: c.dash,
    })),
    {
      width: 300,
      height: 300,
      xLabel: "false positive rate",
      yLabel: "true positive rate",
      legend: "below",
      ...o,
      xDomain: [0, 1],
      yDomain: [0, 1],
      diagonal: true,
    },
  );
}

/** A series of an interval chart: one value (and optional interval) per row. */
export interface IntervalSeries {
  /** Legend name. */
  name: string;
  /** One value per row; null = undefined (drawn as a note). */
  values: (number | null)[];
  /** Lower interval ends (optional). */
  lo?: (number | null)[];
  /** Upper interval ends (optional). */
  hi?: (number | null)[];
  /** Colour. */
  color?: string;
}

/** Options of {@linkcode intervalChart}. */
export interface IntervalOptions {
  /** Title. */
  title?: string;
  /** Value axis label. */
  xLabel?: string;
  /** Value range (default: the data's). */
  xDomain?: [number, number];
  /** Dashed reference line (e.g. 0.5 = chance AUROC, 0 = no gap). */
  xRef?: number;
  /** Width (default 560). */
  width?: number;
  /** Height per row (default 26). */
  rowHeight?: number;
  /** Text for undefined values (default "undefined"). */
  undefinedText?: string;
  /** Draw bars from the reference (or domain start) to the value instead of dots only. */
  bars?: boolean;
}

/**
 * A horizontal point (or bar) chart: one row per category, one dot per series with optional interval
 * whiskers, e.g. per-label AUROC of the real- and synthetic-trained classifiers.
 *
 * @example
 * ```ts
 * import { intervalChart } from "./plots.ts";
 * const svg = intervalChart(["a", "b"], [{ name: "gap", values: [0.1, null], lo: [0.05, null], hi: [0.2, null] }]);
 * if (!svg.includes("undefined")) throw new Error("a null value is marked");
 * ```
 */
export function intervalChart(rows: string[], series: IntervalSeries[], o: IntervalOptions = {}): string {
  const rh = o.rowHeight ?? 26, w = o.width ?? 560;
  const labelW = Math.min(200, Math.max(60, Math.max(0, ...rows.map((r) => r.length)) * 6.6 + 18));
  const t = o.title ? 30 : 10, legendH = series.length > 1 ? 18 : 0;
  const h = t + legendH + rows.length * rh + (o.xLabel ? 40 : 26);
  const all = series.flatMap((s) => [...s.values, ...(s.lo ?? []), ...(s.hi ?? [])])
    .filter((v): v is number => v !== null && Number.isFinite(v));
  if (o.xRef !== undefined) all.push(o.xRef);
  const xd = o.xDomain ?? extent(all, 0.05);
  const l = labelW, r = 16, top = t + legendH, bottom = top + rows.length * rh;
  const x = (v: number) =>
    l + ((Math.min(Math.max(v, xd[0]), xd[1]) - xd[0]) / (xd[1] - xd[0] || 1)) * (w - l - r);
  const out = [
    `<svg class="chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" font-size="11">`,
    `<title>${esc(o.title ?? "interval chart")}</title>`,
  ];
  if (o.title) {
    out.push(`<text x="8" y="17" font-size="13" font-weight="600" fill="#111827">${esc(o.title)}</text>`);
  }
  const ticks = niceTicks(xd[0], xd[1], Math.max(3, Math.round((w - l - r) / 80)));
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  for (const v of ticks) {
    out.push(
      `<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${top}" y2="${bottom}" stroke="#e5e7eb"/>`,
      `<text x="${x(v).toFixed(1)}" y="${bottom + 15}" text-anchor="middle" fill="#4b5563">${
        tickLabel(v, step)
      }</text>`,
    );
  }
  if (o.xRef !== undefined) {
    out.push(
      `<line x1="${x(o.xRef).toFixed(1)}" x2="${
        x(o.xRef).toFixed(1)
      }" y1="${top}" y2="${bottom}" stroke="#6b7280" stroke-dasharray="5,4"/>`,
    );
  }
  out.push(`<line x1="${l}" x2="${w - r}" y1="${bottom}" y2="${bottom}" stroke="#9ca3af"/>`);
  if (o.xLabel) {
    out.push(
      `<text x="${(l + w - r) / 2}" y="${h - 6}" text-anchor="middle" fill="#111827">${esc(o.xLabel)}</text>`,
    );
  }
  const palette = Object.values(COLORS);
  const color = (i: number) => series[i].color ?? palette[i % palette.length];
  if (legendH) {
    let lx = l;
    series.forEach((s, i) => {
      out.push(
        `<circle cx="${lx + 5}" cy="${t + 6}" r="4" fill="${color(i)}"/>`,
        `<text x="${lx + 13}" y="${t + 6}" dy="0.32em" fill="#111827">${esc(s.name)}</text>`,
      );
      lx += s.name.length * 6.2 + 34;
    });
  }
  const base = o.xRef ?? xd[0];
  rows.forEach((row, ri) => {
    const cy = top + ri * rh + rh / 2;
    if (ri % 2 === 0) {
      out.push(`<rect x="0" y="${top + ri * rh}" width="${w}" height="${rh}" fill="#f9fafb"/>`);
    }
    out.push(`<text x="${l - 8}" y="${cy}" dy="0.32em" text-anchor="end" fill="#111827">${esc(row)}</text>`);
    const n = series.length;
    series.forEach((s, si) => {
      const y = cy + (n > 1 ? (si - (n - 1) / 2) * Math.min(8, (rh - 8) / n) : 0);
      const v = s.values[ri];
      if (v === null || v === undefined || !Number.isFinite(v)) {
        if (si === 0) {
          out.push(
            `<text x="${x(xd[0]) + 6}" y="${cy}" dy="0.32em" fill="#9ca3af" font-style="italic">${
              esc(o.undefinedText ?? "undefined")
            }</text>`,
          );
        }
        return;
      }
      const lo = s.lo?.[ri], hi = s.hi?.[ri];
      if (o.bars) {
        const x0 = x(base), x1 = x(v);
        out.push(
          `<rect x="${Math.min(x0, x1).toFixed(1)}" y="${(y - 3).toFixed(1)}" width="${
            Math.abs(x1 - x0).toFixed(1)
          }" height="6" fill="${color(si)}" fill-opacity="0.35"/>`,
        );
      }
      if (lo !== null && lo !== undefined && hi !== null && hi !== undefined) {
        out.push(
          `<line x1="${x(lo).toFixed(1)}" x2="${x(hi).toFixed(1)}" y1="${y.toFixed(1)}" y2="${
            y.toFixed(1)
          }" stroke="${color(si)}" stroke-width="1.6"/>`,
          `<line x1="${x(lo).toFixed(1)}" x2="${x(lo).toFixed(1)}" y1="${(y - 4).toFixed(1)}" y2="${
            (y + 4).toFixed(1)
          }" stroke="${color(si)}" stroke-width="1.6"/>`,
          `<line x1="${x(hi).toFixed(1)}" x2="${x(hi).toFixed(1)}" y1="${(y - 4).toFixed(1)}" y2="${
            (y + 4).toFixed(1)
          }" stroke="${color(si)}" stroke-width="1.6"/>`,
        );
      }
      out.push(
        `<circle cx="${x(v).toFixed(1)}" cy="${y.toFixed(1)}" r="4.2" fill="${
          color(si)
        }" stroke="white" stroke-width="1"><title>${
          esc(`${row} — ${s.name}: ${fmt(v)}${lo != null && hi != null ? ` [${fmt(lo)}, ${fmt(hi)}]` : ""}`)
        }</title></circle>`,
      );
    });
  });
  out.push("</svg>");
  return out.join("");
}

/** A histogram series (values per bin, e.g. fractions). */
export interface HistogramSeries {
  /** Legend name. */
  name: string;
  /** One value per bin. */
  values: number[];
  /** Colour. */
  color?: string;
}

/**
 * Overlaid histograms on shared bin `edges` (length bins + 1), drawn as translucent step areas.
 *
 * @example
 * ```ts
 * import { histogramChart } from "./plots.ts";
 * const svg = histogramChart([0, 1, 2], [{ name: "a", values: [0.3, 0.7] }], { title: "h" });
 * if (!svg.includes("<path")) throw new Error("no area");
 * ```
 */
export function histogramChart(edges: number[], series: HistogramSeries[], o: ChartOptions = {}): string {
  const xd: [number, number] = o.xDomain ?? [edges[0], edges[edges.length - 1]];
  const ymax = Math.max(1e-12, ...series.flatMap((s) => s.values));
  const yd: [number, number] = o.yDomain ?? [0, ymax * 1.08];
  const f = frame({ ...o, width: o.width ?? 480, height: o.height ?? 260 }, xd, yd, series.length);
  const out = [...open(o, f.w, f.h), ...axes(f, xd, yd, o)];
  const palette = Object.values(COLORS);
  series.forEach((s, i) => {
    const color = s.color ?? palette[i % palette.length];
    let d = `M${f.x(edges[0]).toFixed(1)},${f.y(0).toFixed(1)}`;
    s.values.forEach((v, b) => {
      d += `L${f.x(edges[b]).toFixed(1)},${f.y(v).toFixed(1)}L${f.x(edges[b + 1]).toFixed(1)},${
        f.y(v).toFixed(1)
      }`;
    });
    d += `L${f.x(edges[edges.length - 1]).toFixed(1)},${f.y(0).toFixed(1)}Z`;
    out.push(
      `<path d="${d}" fill="${color}" fill-opacity="0.22" stroke="${color}" stroke-width="1.5"><title>${
        esc(s.name)
      }</title></path>`,
    );
  });
  out.push(
    ...legend(
      f,
      series.map((s, i) => ({ name: s.name, color: s.color ?? palette[i % palette.length] })),
      o.legend ?? "top-right",
    ),
  );
  out.push("</svg>");
  return out.join("");
}

/**
 * Reduces points to at most `max` by averaging consecutive runs (a light smoothing that keeps the trend);
 * fewer points pass through unchanged.
 */
export function binMeans(points: [number, number][], max = 300): [number, number][] {
  const pts = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length <= max) return pts;
  const out: [number, number][] = [];
  const per = pts.length / max;
  for (let b = 0; b < max; b++) {
    const s = Math.floor(b * per), e = Math.floor((b + 1) * per);
    let sx = 0, sy = 0;
    for (let i = s; i < e; i++) {
      sx += pts[i][0];
      sy += pts[i][1];
    }
    out.push([sx / (e - s), sy / (e - s)]);
  }
  return out;
}

/** A point of an error-bar chart: y with an optional interval; a null y is not drawn (and breaks the line). */
export interface ErrorBarPoint {
  /** Position on the x axis (> 0 on a log axis; other points are skipped). */
  x: number;
  /** Value; null = undefined. */
  y: number | null;
  /** Lower end of the interval (the bar is drawn only when both ends are finite). */
  lo?: number | null;
  /** Upper end of the interval. */
  hi?: number | null;
}

/** A series of {@linkcode errorBarChart}: dots joined by a line, with optional interval bars. */
export interface ErrorBarSeries {
  /** Legend name. */
  name: string;
  /** Points, in any order (joined in x order). */
  points: ErrorBarPoint[];
  /** Colour. */
  color?: string;
  /** Dash pattern of the joining line. */
  dash?: string;
  /** Horizontal shift in px, so series at the same x values do not hide each other's bars. */
  offset?: number;
}

/** Options of {@linkcode errorBarChart}. */
export interface ErrorBarOptions extends ChartOptions {
  /** Logarithmic x axis (points with x <= 0 are skipped). */
  logX?: boolean;
  /** Tick values of the x axis in data units (default: nice ticks; 1-2-5 per decade on a log axis). */
  xTicks?: number[];
}

/** A compact tick label for data-unit ticks: 4 significant digits, k / M for big values. */
function compactLabel(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(4));
}

/**
 * Points with vertical interval bars against a numeric x (linear or log), joined by a line per series,
 * e.g. a sweep's AUROC gap with its bootstrap interval per swept value. Each bar is a
 * `<g class="errorbar">`.
 *
 * @example
 * ```ts
 * import { errorBarChart } from "./plots.ts";
 * const svg = errorBarChart([{ name: "gap", points: [{ x: 100, y: 0.1, lo: 0.05, hi: 0.2 }, { x: 5400, y: 0.02 }] }], {
 *   logX: true,
 * });
 * if ((svg.match(/class="errorbar"/g) ?? []).length !== 1) throw new Error("one bar: one point has an interval");
 * ```
 */
export function errorBarChart(series: ErrorBarSeries[], o: ErrorBarOptions = {}): string {
  const log = o.logX === true;
  // the frame works in log10 units on a log axis; ticks carry the data-unit labels
  const tx = (v: number) => (log ? Math.log10(v) : v);
  const fin = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v);
  const usable = (p: ErrorBarPoint) => fin(p.x) && (!log || p.x > 0);
  const pts = series.map((s) => s.points.filter(usable).sort((a, b) => a.x - b.x));
  const xs = pts.flatMap((ps) => ps.map((p) => tx(p.x)));
  const ys = pts.flatMap((ps) => ps.flatMap((p) => [p.y, p.lo, p.hi])).filter(fin);
  if (o.yRef !== undefined) ys.push(o.yRef);
  // x padded so the dots and bar caps at the ends stay inside the plot
  const xd: [number, number] = o.xDomain ? [tx(o.xDomain[0]), tx(o.xDomain[1])] : extent(xs, 0.08);
  const yd = o.yDomain ?? extent(ys, 0.08);
  const f = frame(o, xd, yd, series.length);
  let ticks: number[];
  if (o.xTicks) ticks = o.xTicks.filter((v) => !log || v > 0);
  else if (log) {
    ticks = [];
    for (let k = Math.floor(xd[0]); k <= Math.ceil(xd[1]); k++) {
      for (const m of [1, 2, 5]) ticks.push(m * 10 ** k);
    }
  } else ticks = niceTicks(xd[0], xd[1], Math.max(3, Math.round((f.w - f.l - f.r) / 80)));
  // inside the domain, and labels that would overlap the previous one dropped
  const tickList: { at: number; label: string }[] = [];
  let lastRight = -Infinity;
  for (const v of [...ticks].sort((a, b) => a - b)) {
    const at = tx(v);
    if (at < xd[0] - 1e-9 || at > xd[1] + 1e-9) continue;
    const label = compactLabel(v), half = label.length * 3.3 + 3;
    if (f.x(at) - half < lastRight) continue;
    tickList.push({ at, label });
    lastRight = f.x(at) + half;
  }
  const out = [...open(o, f.w, f.h), ...axes(f, xd, yd, o, tickList)];
  const id = `c${hash(JSON.stringify(["errorbar", series, o]))}`;
  out.push(
    `<clipPath id="${id}"><rect x="${f.l}" y="${f.t}" width="${f.w - f.l - f.r}" height="${
      f.h - f.t - f.b
    }"/></clipPath>`,
  );
  if (o.yRef !== undefined) {
    const y = f.y(o.yRef).toFixed(1);
    out.push(
      `<line x1="${f.l}" x2="${f.w - f.r}" y1="${y}" y2="${y}" stroke="#6b7280" stroke-dasharray="5,4"/>`,
    );
  }
  const palette = Object.values(COLORS);
  const colorOf = (i: number) => series[i].color ?? palette[i % palette.length];
  series.forEach((s, i) => {
    const color = colorOf(i), dx = s.offset ?? 0;
    const X = (v: number) => (f.x(tx(v)) + dx).toFixed(1);
    let d = "", pen = false;
    for (const p of pts[i]) {
      if (!fin(p.y)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${X(p.x)},${f.y(p.y).toFixed(1)}`;
      pen = true;
    }
    if (d) {
      out.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${
          s.dash ? ` stroke-dasharray="${s.dash}"` : ""
        } stroke-linejoin="round" clip-path="url(#${id})"/>`,
      );
    }
    for (const p of pts[i]) {
      if (!fin(p.y)) continue;
      const x = X(p.x), interval = fin(p.lo) && fin(p.hi);
      const tip = esc(
        `${s.name}: ${compactLabel(p.x)} → ${fmt(p.y)}${interval ? ` [${fmt(p.lo)}, ${fmt(p.hi)}]` : ""}`,
      );
      if (interval) {
        const y0 = f.y(p.lo as number).toFixed(1), y1 = f.y(p.hi as number).toFixed(1);
        const xl = (Number(x) - 4).toFixed(1), xr = (Number(x) + 4).toFixed(1);
        out.push(
          `<g class="errorbar" stroke="${color}" stroke-width="1.5"><title>${tip}</title>` +
            `<line x1="${x}" x2="${x}" y1="${y0}" y2="${y1}"/><line x1="${xl}" x2="${xr}" y1="${y0}" y2="${y0}"/>` +
            `<line x1="${xl}" x2="${xr}" y1="${y1}" y2="${y1}"/></g>`,
        );
      }
      out.push(
        `<circle cx="${x}" cy="${
          f.y(p.y).toFixed(1)
        }" r="3.8" fill="${color}" stroke="white" stroke-width="1"><title>${tip}</title></circle>`,
      );
    }
  });
  out.push(
    ...legend(
      f,
      series.map((s, i) => ({ name: s.name, color: colorOf(i), dash: s.dash })),
      o.legend ?? "top-right",
    ),
  );
  out.push("</svg>");
  return out.join("");
}
