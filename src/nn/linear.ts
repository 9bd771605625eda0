/**
 * Linear (fully connected) layer y = x W^T + b, x (N, In), W (Out, In), b (Out), on the GPU (through
 * {@linkcode matmul}) and as a CPU reference. Parameter gradients accumulate (+=), dx is written (=).
 * @module
 */

import { channelSumAccumulate } from "./activation.ts";
import type { Recorder } from "../gpu/gpu.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { matmul, matmulBias, type MatmulVariant } from "./matmul.ts";

/** Sizes of a linear layer: batch N, input features In, output features Out. */
export interface LinearShape {
  n: number;
  in: number;
  out: number;
}

function shapeOf(x: Tensor, w: Tensor, fn: string): LinearShape {
  if (x.shape.length !== 2 || w.shape.length !== 2) {
    throw new Error(`${fn}: x must be (N, In) and W (Out, In); got x ${x.shape}, W ${w.shape}`);
  }
  if (x.shape[1] !== w.shape[1]) {
    throw new Error(
      `${fn}: x has ${x.shape[1]} features but W (Out, In) = (${w.shape}) expects ${w.shape[1]}`,
    );
  }
  return { n: x.shape[0], in: x.shape[1], out: w.shape[0] };
}

function expectSize(t: Tensor, size: number, what: string, fn: string): void {
  if (t.size !== size) throw new Error(`${fn}: ${what} has ${t.size} values, expected ${size}`);
}

/** y = x W^T + b (`b` null: no bias). y must be another buffer than x, W and b. */
export function linearForward(
  rec: Recorder,
  x: Tensor, // (N, In)
  w: Tensor, // (Out, In)
  b: Tensor | null, // (Out)
  y: Tensor, // (N, Out)
  variant: MatmulVariant = "auto",
): void {
  const s = shapeOf(x, w, "linearForward");
  expectSize(y, s.n * s.out, "y (N, Out)", "linearForward");
  matmulBias(rec, x, w, b, y, { m: s.n, n: s.out, k: s.in, transB: true }, variant);
}

/** dx = dy W (written). */
export function linearBackwardInput(
  rec: Recorder,
  dy: Tensor, // (N, Out)
  w: Tensor, // (Out, In)
  dx: Tensor, // (N, In)
  variant: MatmulVariant = "auto",
): void {
  if (w.shape.length !== 2) throw new Error(`linearBackwardInput: W must be (Out, In), got ${w.shape}`);
  const [out, inF] = w.shape;
  const n = dy.size / out;
  if (!Number.isInteger(n)) {
    throw new Error(`linearBackwardInput: dy has ${dy.size} values, not N * Out = N * ${out}`);
  }
  expectSize(dx, n * inF, "dx (N, In)", "linearBackwardInput");
  matmul(rec, dy, w, dx, { m: n, n: inF, k: out }, variant);
}

/** dW += dy^T x and db += sum of dy over the batch (`db` null: no bias). */
export function linearBackwardWeight(
  rec: Recorder,
  x: Tensor, // (N, In)
  dy: Tensor, // (N, Out)
  dw: Tensor, // (Out, In), accumulated
  db: Tensor | null, // (Out), accumulated
  variant: MatmulVariant = "auto",
): void {
  const s = shapeOf(x, dw, "linearBackwardWeight");
  expectSize(dy, s.n * s.out, "dy (N, Out)", "linearBackwardWeight");
  matmul(rec, dy, x, dw, { m: s.out, n: s.in, k: s.n, transA: true, accumulate: true }, variant);
  if (db) {
    expectSize(db, s.out, "db (Out)", "linearBackwardWeight");
    channelSumAccumulate(rec, dy, db, s.n, s.out, 1);
  }
}

// ---------------------------------------------------------------- CPU reference

type Arr = ArrayLike<number>;

/** CPU reference of {@linkcode linearForward}: y (N, Out). */
export function linearForwardRef(x: Arr, w: Arr, b: Arr | null, s: LinearShape): Float64Array {
  const y = new Float64Array(s.n * s.out);
  for (let i = 0; i < s.n; i++) {
    for (let o = 0; o < s.out; o++) {
      let acc = b ? b[o] : 0;
      for (let f = 0; f < s.in; f++) acc += x[i * s.in + f] * w[o * s.in + f];
      y[i * s.out + o] = acc;
    }
  }
  return y;
}

/** CPU reference of the linear backward passes: dx, dW and db (not accumulated). */
export function linearBackwardRef(
  x: Arr, // (N, In)
  w: Arr, // (Out, In)
  dy: Arr, // (N, Out)
  s: LinearShape,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(s.n * s.in);
  const dw = new Float64Array(s.out * s.in);
  const db = new Float64Array(s.out);
  for (let i = 0; i < s.n; i++) {
    for (let o = 0; o < s.out; o++) {
      const g = dy[i * s.out + o];
      db[o] += g;
      for (let f = 0; f < s.in; f++) {
        dx[i * s.in + f] += g * w[o * s.in + f];
        dw[o * s.in + f] += g * x[i * s.in + f];
      }
    }
  }
  return { dx, dw, db };
}
