/**
 * The same benchmark cases on tfjs (the peer we measure against): tfjs-webgpu on the same
 * adapter, and tfjs-wasm (SIMD, one thread). tfjs uses NHWC; shapes are transposed accordingly.
 * @module
 */

import type * as TF from "@tensorflow/tfjs";
import { type BenchCase, type BenchRow, type ConvCase, convOut, timePerRun } from "./cases.ts";

type Tf = typeof TF;

/**
 * Gradient wrt the filter written as a forward conv, for backends without a
 * Conv2DBackpropFilter kernel (tfjs-wasm 4.22): dW = conv(x^T, dy^T) with dilation = stride.
 */
function backpropFilterViaConv(tf: Tf, x: TF.Tensor4D, dy: TF.Tensor4D, p: ConvCase): TF.Tensor {
  const xp = tf.pad(x, [[0, 0], [p.pad, p.pad], [p.pad, p.pad], [0, 0]]);
  const xt = tf.transpose(xp, [3, 1, 2, 0]) as TF.Tensor4D; // (Cin, H, W, N)
  const dyt = tf.transpose(dy, [1, 2, 0, 3]) as TF.Tensor4D; // (Ho, Wo, N, Cout)
  const r = tf.conv2d(xt, dyt, 1, "valid", "NHWC", p.stride); // (Cin, >=K, >=K, Cout)
  return tf.slice(r, [0, 0, 0, 0], [p.cin, p.k, p.k, p.cout]);
}

function makeRun(tf: Tf, c: BenchCase, noFilterGrad: boolean): () => TF.Tensor {
  const p = c.params;
  if (p.kind === "matmul") {
    const a = tf.randomUniform([p.m, p.k], -1, 1) as TF.Tensor2D;
    const b = tf.randomUniform([p.k, p.n], -1, 1) as TF.Tensor2D;
    return () => tf.matMul(a, b);
  }
  if (p.kind === "peak") throw new Error("fma_peak has no tfjs peer");
  const [ho, wo] = convOut(p);
  const pad = [[0, 0], [p.pad, p.pad], [p.pad, p.pad], [0, 0]] as [number, number][];
  const x = tf.randomUniform([p.n, p.h, p.w, p.cin], -1, 1) as TF.Tensor4D;
  const y = tf.randomUniform([p.n, ho, wo, p.cout], -1, 1) as TF.Tensor4D;
  if (p.kind === "conv") {
    const w = tf.randomUniform([p.k, p.k, p.cin, p.cout], -1, 1) as TF.Tensor4D;
    const xp = tf.pad(x, pad);
    if (p.pass === "fwd") return () => tf.conv2d(xp, w, p.stride, "valid");
    if (p.pass === "bwd_input") {
      return () => tf.conv2dTranspose(y, w, [p.n, p.h, p.w, p.cin], p.stride, p.pad === 0 ? "valid" : "same");
    }
    if (noFilterGrad) return () => backpropFilterViaConv(tf, x, y, p);
    return () =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x: xp, dy: y }, {
        strides: p.stride,
        pad: "valid",
        dataFormat: "NHWC",
        filterShape: [p.k, p.k, p.cin, p.cout],
      }) as TF.Tensor;
  }
  // transposed conv: forward = Conv2DBackpropInput of a conv from y-space to x-space
  const w = tf.randomUniform([p.k, p.k, p.cout, p.cin], -1, 1) as TF.Tensor4D;
  const padMode = p.k === 2 * p.stride && p.pad === p.stride / 2 ? "same" : "valid";
  if (p.pass === "fwd") return () => tf.conv2dTranspose(x, w, [p.n, ho, wo, p.cout], p.stride, padMode);
  if (p.pass === "bwd_input") return () => tf.conv2d(y, w, p.stride, padMode);
  if (noFilterGrad) {
    const q: ConvCase = { ...p, kind: "conv", cin: p.cout, cout: p.cin, h: ho, w: wo };
    return () => backpropFilterViaConv(tf, y, x, q);
  }
  return () =>
    tf.engine().runKernel("Conv2DBackpropFilter", { x: y, dy: x }, {
      strides: p.stride,
      pad: padMode,
      dataFormat: "NHWC",
      filterShape: [p.k, p.k, p.cout, p.cin],
    }) as TF.Tensor;
}

/** Times one case on the current tfjs backend (`impl` names it in the row). */
export async function benchTfjs(
  tf: Tf,
  c: BenchCase,
  impl: string,
  opts: { samples?: number; targetMs?: number; budgetMs?: number } = {},
): Promise<BenchRow> {
  if (c.params.kind === "peak") {
    return {
      op: c.op,
      shape: c.shape,
      impl,
      ms: null,
      gflops: null,
      note: "no peer: the adapter's FMA ceiling",
    };
  }
  const noFilterGrad = tf.getBackend() === "wasm";
  let note: string | undefined;
  if (noFilterGrad && c.op.endsWith("bwd_weight")) {
    note = "tfjs-wasm has no Conv2DBackpropFilter: measured as a dilated forward conv";
  }
  const run = makeRun(tf, c, noFilterGrad);
  const timeReps = async (reps: number) => {
    const t0 = performance.now();
    let last: TF.Tensor | null = null;
    for (let i = 0; i < reps; i++) {
      last?.dispose();
      last = tf.tidy(run);
    }
    await last!.data();
    last!.dispose();
    return performance.now() - t0;
  };
  const ms = await timePerRun(timeReps, opts.samples ?? 5, opts.targetMs, opts.budgetMs);
  return { op: c.op, shape: c.shape, impl, ms, gflops: c.flops / ms / 1e6, ...(note ? { note } : {}) };
}
