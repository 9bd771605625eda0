/**
 * The kernel benchmark cases: the hot ops at the shapes a 32/64/128 px GAN and classifier use
 * (batch 32). Shared by `deno task bench` and the browser benchmark page, so both emit the same rows.
 * @module
 */

/** One benchmarked op at one shape. */
export interface BenchCase {
  /** Op name, e.g. "conv2d_fwd". */
  op: string;
  /** Human-readable shape, e.g. "x32x32x32x32 k3s1p1 ->32". */
  shape: string;
  /** Floating-point operations of one run (2 per multiply-add). */
  flops: number;
  /** The op's parameters. */
  params: ConvCase | MatmulCase | PeakCase;
}

/** A convolution or transposed convolution case (NCHW). */
export interface ConvCase {
  kind: "conv" | "convT";
  /** Which pass: forward, gradient wrt input, gradient wrt weight. */
  pass: "fwd" | "bwd_input" | "bwd_weight";
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
}

/** C (m, n) = A (m, k) B (k, n). */
export interface MatmulCase {
  kind: "matmul";
  m: number;
  n: number;
  k: number;
}

/**
 * The adapter's arithmetic ceiling (shaders/fma_peak.wgsl): register-only FMA chains, no memory
 * traffic. No peer runs it; it tells how far each real kernel is from what the adapter can do at all.
 */
export interface PeakCase {
  kind: "peak";
  /** Invocations dispatched (enough to fill every core or SM). */
  invocations: number;
  /** Loop trips of each invocation (128 scalar FMAs a trip). */
  iters: number;
}

/** Output spatial size of a conv or transposed conv. */
export function convOut(c: ConvCase): [number, number] {
  if (c.kind === "conv") {
    return [
      Math.floor((c.h + 2 * c.pad - c.k) / c.stride) + 1,
      Math.floor((c.w + 2 * c.pad - c.k) / c.stride) + 1,
    ];
  }
  return [(c.h - 1) * c.stride - 2 * c.pad + c.k, (c.w - 1) * c.stride - 2 * c.pad + c.k];
}

function convFlops(c: ConvCase): number {
  // Every pass of a (transposed) conv does the same multiply-adds: one per (input pixel tap, cin, cout).
  const [ho, wo] = convOut(c);
  const pixels = c.kind === "conv" ? ho * wo : c.h * c.w;
  return 2 * c.n * pixels * c.cin * c.cout * c.k * c.k;
}

const PASSES = ["fwd", "bwd_input", "bwd_weight"] as const;

/** Layers of the 32/64/128 px GAN generator, discriminator and classifier (batch 32). */
const CONVS: Omit<ConvCase, "pass">[] = [
  // discriminator / classifier convs
  { kind: "conv", n: 32, cin: 32, h: 32, w: 32, cout: 32, k: 3, stride: 1, pad: 1 },
  { kind: "conv", n: 32, cin: 64, h: 16, w: 16, cout: 64, k: 3, stride: 1, pad: 1 },
  { kind: "conv", n: 32, cin: 128, h: 8, w: 8, cout: 128, k: 3, stride: 1, pad: 1 },
  { kind: "conv", n: 32, cin: 32, h: 32, w: 32, cout: 64, k: 4, stride: 2, pad: 1 },
  { kind: "conv", n: 32, cin: 16, h: 64, w: 64, cout: 32, k: 3, stride: 1, pad: 1 },
  { kind: "conv", n: 32, cin: 8, h: 128, w: 128, cout: 16, k: 3, stride: 1, pad: 1 },
  // generator up-convs
  { kind: "convT", n: 32, cin: 128, h: 4, w: 4, cout: 128, k: 4, stride: 2, pad: 1 },
  { kind: "convT", n: 32, cin: 64, h: 16, w: 16, cout: 32, k: 4, stride: 2, pad: 1 },
  { kind: "convT", n: 32, cin: 32, h: 32, w: 32, cout: 16, k: 4, stride: 2, pad: 1 },
  { kind: "convT", n: 32, cin: 16, h: 64, w: 64, cout: 8, k: 4, stride: 2, pad: 1 },
];

const MATMULS: MatmulCase[] = [
  { kind: "matmul", m: 512, n: 512, k: 512 },
  { kind: "matmul", m: 32, n: 4096, k: 134 }, // generator input layer: (z + labels) -> 256 x 4 x 4
];

// ~1 GFLOP: tens of ms on llvmpipe, and 65536 invocations fill a big GPU.
const PEAK: PeakCase = { kind: "peak", invocations: 65536, iters: 64 };

/** All benchmark cases; `quick` keeps one shape per op (for smoke runs and CI). */
export function benchCases(quick = false): BenchCase[] {
  const out: BenchCase[] = [];
  const convs = quick ? [CONVS[0], CONVS[7]] : CONVS;
  for (const c of convs) {
    for (const pass of PASSES) {
      const p: ConvCase = { ...c, pass };
      const [ho, wo] = convOut(p);
      out.push({
        op: `${c.kind === "conv" ? "conv2d" : "conv_t2d"}_${pass}`,
        shape: `${c.n}x${c.cin}x${c.h}x${c.w} k${c.k}s${c.stride}p${c.pad} -> ${c.cout}x${ho}x${wo}`,
        flops: convFlops(p),
        params: p,
      });
    }
  }
  for (const m of quick ? MATMULS.slice(0, 1) : MATMULS) {
    out.push({ op: "matmul", shape: `${m.m}x${m.k} * ${m.k}x${m.n}`, flops: 2 * m.m * m.n * m.k, params: m });
  }
  out.push({
    op: "fma_peak",
    shape: `${PEAK.invocations} invocations x ${128 * PEAK.iters} FMAs`,
    flops: 2 * 128 * PEAK.invocations * PEAK.iters,
    params: PEAK,
  });
  return out;
}

/** One measured row of the benchmark JSON. */
export interface BenchRow {
  op: string;
  shape: string;
  impl: string;
  /** Median milliseconds per run; null where the implementation has no such op. */
  ms: number | null;
  gflops: number | null;
  /** Images per second, for whole training-step rows. */
  images_per_s?: number | null;
  note?: string;
  /** Why the row was not measured, e.g. "time budget" (then ms is null). */
  skipped?: string;
}

/**
 * Thrown by {@linkcode timePerRun} when the first runs show that the measurement would take longer than
 * its budget: the row is written as skipped instead of holding up the whole benchmark.
 */
export class BudgetSkip extends Error {
  constructor(readonly estimateMs: number, readonly budgetMs: number) {
    super(
      `skipped: the first runs predict ${(estimateMs / 1000).toFixed(0)} s, over the row's budget of ` +
        `${(budgetMs / 1000).toFixed(0)} s (--row-budget, or what was left of --budget)`,
    );
    this.name = "BudgetSkip";
  }
}

/** The row of a measurement that {@linkcode BudgetSkip} stopped. */
export function skippedRow(
  base: Pick<BenchRow, "op" | "shape" | "impl">,
  e: BudgetSkip,
): BenchRow {
  return { ...base, ms: null, gflops: null, skipped: "time budget", note: e.message };
}

/** Median of a list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Renders rows as a fixed-width table with the speed-up of medsynth over each peer. */
export function benchTable(rows: BenchRow[]): string {
  const impls = [...new Set(rows.map((r) => r.impl))];
  const keys = [...new Set(rows.map((r) => `${r.op}\t${r.shape}`))];
  const head = [
    "op",
    "shape",
    ...impls.map((i) => `${i} GFLOP/s`),
    ...impls.filter((i) => i !== "medsynth").map((i) => `x vs ${i}`),
  ];
  const lines = [head];
  for (const key of keys) {
    const [op, shape] = key.split("\t");
    const get = (impl: string) => rows.find((r) => r.op === op && r.shape === shape && r.impl === impl);
    const ours = get("medsynth");
    const cells = [op, shape];
    for (const i of impls) {
      const r = get(i);
      cells.push(
        r?.skipped
          ? `skipped (${r.skipped})`
          : r?.gflops != null
          ? r.gflops.toFixed(1)
          : r?.images_per_s != null
          ? `${r.images_per_s.toFixed(1)} img/s`
          : "n/a",
      );
    }
    for (const i of impls.filter((i) => i !== "medsynth")) {
      const r = get(i);
      cells.push(ours?.ms != null && r?.ms != null ? (r.ms / ours.ms).toFixed(2) : "n/a");
    }
    lines.push(cells);
  }
  const widths = head.map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  return lines.map((l) => l.map((s, c) => s.padEnd(widths[c])).join("  ")).join("\n");
}

/**
 * Median milliseconds per run of an op, given `timeReps(r)`: the wall time of recording or issuing
 * `r` runs and waiting once. The wait itself costs ~11 ms on Deno, so fast ops are timed as the
 * difference between `2r` and `r` runs (the fixed cost cancels), with `r` grown until `r` runs take
 * `targetMs`. Ops slower than `targetMs` on their own are timed one run at a time.
 *
 * `budgetMs` bounds the whole measurement: the warm-up run and the first timed run predict its cost (a
 * slow op takes one single run per sample, a fast one about 3 x targetMs per sample; a warm-up over
 * the budget on its own decides at once). When `samples` do not fit the budget, or a run takes over
 * {@linkcode SLOW_RUN_MS}, fewer are taken, down to {@linkcode MIN_SAMPLES} (a median still); when not
 * even those fit, it throws {@linkcode BudgetSkip} instead of going on.
 */
export async function timePerRun(
  timeReps: (reps: number) => Promise<number>,
  samples = 5,
  targetMs = 150,
  budgetMs = Infinity,
): Promise<number> {
  const warm = await timeReps(1); // warm-up: compilation, first touch of buffers
  const least = Math.min(samples, MIN_SAMPLES);
  // a run after the warm-up is assumed to take at least half of it (the warm-up is one run + compiling)
  if (warm + (least + 1) * warm / 2 > budgetMs) {
    throw new BudgetSkip(warm + (least + 1) * warm / 2, budgetMs);
  }
  let reps = 1;
  let t = await timeReps(1);
  const perSample = Math.max(t, 3 * targetMs);
  // slow runs vary little from run to run: the fewest samples do
  const want = t > SLOW_RUN_MS ? least : samples;
  const fit = Math.min(want, Math.floor((budgetMs - warm - t) / perSample));
  if (fit < least) throw new BudgetSkip(warm + t + least * perSample, budgetMs);
  while (t < targetMs && reps < 1 << 16) {
    reps *= t < targetMs / 8 ? 8 : 2;
    t = await timeReps(reps);
  }
  const per: number[] = reps === 1 ? [t] : []; // a single timed run is a sample already
  for (let i = per.length; i < fit; i++) {
    if (reps === 1) {
      per.push(await timeReps(1));
    } else {
      const a = await timeReps(reps);
      const b = await timeReps(2 * reps);
      per.push(Math.max(b - a, 1e-6) / reps);
    }
  }
  return median(per);
}

/** The fewest timed samples a measurement takes (when its budget allows fewer than asked for). */
export const MIN_SAMPLES = 3;
/** Runs longer than this take {@linkcode MIN_SAMPLES} samples, whatever was asked for. */
export const SLOW_RUN_MS = 1000;

/**
 * The cheap first measurement of a whole training step's peer, before any full-size step runs: a step at a
 * small batch (`probeMs`, e.g. {@linkcode tfjsStepMs}) times `scale` (full batch / probe batch) predicts a
 * full step; when the full measurement (warm-up and {@linkcode MIN_SAMPLES} runs) would not fit
 * `budgetMs`, it throws {@linkcode BudgetSkip}. So a peer
 * whose one step takes minutes (tfjs-webgpu's 64 px GAN on llvmpipe) costs seconds to skip, not minutes.
 * Returns the predicted full step in ms.
 */
export async function probeStep(
  probeMs: () => Promise<number>,
  scale: number,
  budgetMs: number,
): Promise<number> {
  const step = (await probeMs()) * scale;
  const predicted = (MIN_SAMPLES + 1) * step;
  if (predicted > budgetMs) throw new BudgetSkip(predicted, budgetMs);
  return step;
}

/** A tfjs whole-step peer (a GAN or a classifier training step). */
export interface TfjsStepPeer {
  step(): Promise<void>;
  dispose(): void;
}

/**
 * Times a tfjs whole-step peer at `batch` images a step: with a finite budget, a batch-2 peer's probe step
 * ({@linkcode probeStep}) first skips a peer whose full steps would not fit; then the median step, as a
 * row with images per second. `build(batch)` makes a peer (disposed here).
 */
export async function benchTfjsWholeStep(
  base: Pick<BenchRow, "op" | "shape" | "impl">,
  batch: number,
  build: (batch: number) => TfjsStepPeer,
  samples: number,
  budgetMs: number,
): Promise<BenchRow> {
  const t0 = performance.now();
  const scale = batch / PROBE_BATCH;
  if (budgetMs < Infinity && scale > 1) {
    await probeStep(() => tfjsStepMs(build(PROBE_BATCH), scale, budgetMs), scale, budgetMs);
  }
  const peer = build(batch);
  try {
    const ms = await timePerRun(
      async (reps) => {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) await peer.step();
        return performance.now() - t0;
      },
      samples,
      300,
      budgetMs - (performance.now() - t0),
    );
    return { ...base, ms, gflops: null, images_per_s: (batch * 1000) / ms };
  } finally {
    peer.dispose();
  }
}

/** Batch of the probe steps of {@linkcode probeStep} (batch norm needs 2). */
export const PROBE_BATCH = 2;

/**
 * Milliseconds of one probe step of a tfjs peer; disposes the peer. The first step (compiling included)
 * is the answer when, scaled by `scale`, it fits `budgetMs` (it over-estimates); else a second step,
 * compiled already, is.
 */
export async function tfjsStepMs(
  peer: { step(): Promise<void>; dispose(): void },
  scale: number,
  budgetMs: number,
): Promise<number> {
  try {
    let t0 = performance.now();
    await peer.step();
    const first = performance.now() - t0;
    if ((MIN_SAMPLES + 1) * first * scale <= budgetMs) return first;
    t0 = performance.now();
    await peer.step();
    return performance.now() - t0;
  } finally {
    peer.dispose();
  }
}

/**
 * The whole benchmark run's time budget: each measurement gets the per-row budget or what is left of the
 * run's, whichever is less, and once the run's budget is spent the remaining rows are skipped without
 * running anything. `now` is the clock in ms (tests pass a fake one).
 */
export class RunBudget {
  private readonly deadline: number;

  constructor(
    readonly runMs: number,
    readonly rowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.deadline = now() + runMs;
  }

  /** Milliseconds the next measurement may take (<= 0: the run's budget is spent). */
  nextRowMs(): number {
    return Math.min(this.rowMs, this.deadline - this.now());
  }

  /**
   * Runs one measurement under the budget: a {@linkcode BudgetSkip} (or a spent run budget) becomes a
   * skipped row; other errors a row with the error when `keepErrors`, else they are thrown.
   */
  async measure(
    base: Pick<BenchRow, "op" | "shape" | "impl">,
    f: (budgetMs: number) => Promise<BenchRow>,
    keepErrors = false,
  ): Promise<BenchRow> {
    const ms = this.nextRowMs();
    if (ms <= 0) {
      return {
        ...base,
        ms: null,
        gflops: null,
        skipped: "time budget",
        note: `skipped: the run's budget of ${(this.runMs / 1000).toFixed(0)} s (--budget) was spent`,
      };
    }
    try {
      return await f(ms);
    } catch (e) {
      if (e instanceof BudgetSkip) return skippedRow(base, e);
      if (!keepErrors) throw e;
      return { ...base, ms: null, gflops: null, note: String((e as Error).message) };
    }
  }
}
