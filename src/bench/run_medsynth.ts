/**
 * Runs benchmark cases on medsynth's own kernels: records `reps` runs of an op in one
 * submit and waits once, so the ~11 ms Deno pays per wait is spread over the runs.
 * @module
 */

import type { Gpu, Recorder } from "../gpu/gpu.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, type ConvVariant } from "../nn/conv2d.ts";
import { convT2dBackwardInput, convT2dBackwardWeight, convT2dForward } from "../nn/conv_transpose2d.ts";
import { matmul } from "../nn/matmul.ts";
import { fmaPeak } from "./fma_peak.ts";
import { Rng } from "../util/rng.ts";
import { type BenchCase, type BenchRow, convOut, timePerRun } from "./cases.ts";

/** Prepared op: `record` appends one run to a recorder. */
interface Prepared {
  record: (rec: Recorder) => void;
  dispose: () => void;
}

function prepare(gpu: Gpu, c: BenchCase, variant: ConvVariant): Prepared {
  const rng = new Rng(1);
  const made: Tensor[] = [];
  const t = (shape: number[]) => {
    const x = gpu.tensor(shape, rng.uniforms(shape.reduce((a, b) => a * b, 1), -1, 1));
    made.push(x);
    return x;
  };
  const p = c.params;
  let record: (rec: Recorder) => void;
  if (p.kind === "peak") {
    const out = t([p.invocations]);
    record = (rec) => fmaPeak(rec, out, p.iters);
  } else if (p.kind === "matmul") {
    const a = t([p.m, p.k]), b = t([p.k, p.n]), out = t([p.m, p.n]);
    record = (rec) => matmul(rec, a, b, out, { m: p.m, n: p.n, k: p.k }, variant);
  } else {
    const [ho, wo] = convOut(p);
    const s = { n: p.n, cin: p.cin, h: p.h, w: p.w, cout: p.cout, k: p.k, stride: p.stride, pad: p.pad };
    const x = t([p.n, p.cin, p.h, p.w]), y = t([p.n, p.cout, ho, wo]);
    const w = p.kind === "conv" ? t([p.cout, p.cin, p.k, p.k]) : t([p.cin, p.cout, p.k, p.k]);
    const dw = t(w.shape as number[]);
    if (p.kind === "conv") {
      record = p.pass === "fwd"
        ? (rec) => conv2dForward(rec, x, w, null, y, s, variant)
        : p.pass === "bwd_input"
        ? (rec) => conv2dBackwardInput(rec, y, w, x, s, variant)
        : (rec) => conv2dBackwardWeight(rec, x, y, dw, null, s, variant);
    } else {
      record = p.pass === "fwd"
        ? (rec) => convT2dForward(rec, x, w, null, y, s, variant)
        : p.pass === "bwd_input"
        ? (rec) => convT2dBackwardInput(rec, y, w, x, s, variant)
        : (rec) => convT2dBackwardWeight(rec, x, y, dw, null, s, variant);
    }
  }
  return { record, dispose: () => made.forEach((x) => x.dispose()) };
}

/** Times one case (see {@linkcode timePerRun}): median ms per run. */
export async function benchMedsynth(
  gpu: Gpu,
  c: BenchCase,
  opts: { samples?: number; targetMs?: number; variant?: ConvVariant; budgetMs?: number } = {},
): Promise<BenchRow> {
  const samples = opts.samples ?? 5;
  const variant = opts.variant ?? "auto";
  const prep = prepare(gpu, c, variant);
  const timeReps = async (reps: number) => {
    const t0 = performance.now();
    gpu.run((rec) => {
      for (let i = 0; i < reps; i++) prep.record(rec);
    });
    await gpu.sync();
    return performance.now() - t0;
  };
  const ms = await timePerRun(timeReps, samples, opts.targetMs, opts.budgetMs);
  prep.dispose();
  return {
    op: c.op,
    shape: c.shape,
    impl: variant === "auto" ? "medsynth" : `medsynth-${variant}`,
    ms,
    gflops: c.flops / ms / 1e6,
  };
}
