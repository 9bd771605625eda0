/**
 * conv2d and conv2dTranspose for the tfjs peers of the whole-step benchmarks (GAN and classifier), with
 * explicit symmetric padding. tfjs-wasm 4.22 has no Conv2DBackpropFilter kernel, so there the filter
 * gradients are supplied through `tf.customGrad` as a forward conv with dilation = stride (what a tfjs-wasm
 * user would do).
 * @module
 */

import type * as TF from "@tensorflow/tfjs";

type Tf = typeof TF;
type T4 = TF.Tensor4D;

/** A conv2d (NHWC input, HWIO filter) that trains on the current backend. */
export type TfjsConv = (x: T4, w: TF.Tensor4D, stride: number, pad: number) => T4;

/**
 * A transposed conv with tfjs's "same" padding (filter (K, K, Cout, Cin), output (N, H*s, W*s, Cout)) that
 * trains on the current backend.
 */
export type TfjsConvT = (
  x: T4,
  w: TF.Tensor4D,
  outShape: [number, number, number, number],
  stride: number,
) => T4;

/**
 * Filter gradient (K, K, Cin, Cout) of the valid conv `xp (N, H, W, Cin) -> dy (N, Ho, Wo, Cout)` with
 * `stride`, as one forward conv with dilation = stride.
 */
function filterGrad(tf: Tf, xp: T4, dy: T4, k: number, stride: number): TF.Tensor4D {
  const xt = tf.transpose(xp, [3, 1, 2, 0]) as T4; // (Cin, H, W, N)
  const dyt = tf.transpose(dy, [1, 2, 0, 3]) as TF.Tensor4D; // (Ho, Wo, N, Cout)
  const dw = tf.slice(tf.conv2d(xt, dyt, 1, "valid", "NHWC", stride), [0, 0, 0, 0], [
    xp.shape[3],
    k,
    k,
    dy.shape[3],
  ]); // (Cin, K, K, Cout)
  return tf.transpose(dw, [1, 2, 0, 3]) as TF.Tensor4D;
}

/** `value` with the gradients `grad(dy, x, w)` on wasm; the backend's own gradients elsewhere. */
function withGrad(
  tf: Tf,
  value: (x: T4, w: TF.Tensor4D) => T4,
  grad: (dy: T4, x: T4, w: TF.Tensor4D) => [TF.Tensor, TF.Tensor],
): (x: T4, w: TF.Tensor4D) => T4 {
  if (tf.getBackend() !== "wasm") return value;
  const f = tf.customGrad(
    ((xi: TF.Tensor, wi: TF.Tensor, save: TF.GradSaveFunc) => {
      save([xi, wi]);
      return {
        value: value(xi as T4, wi as TF.Tensor4D),
        gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) =>
          grad(dy as T4, saved[0] as T4, saved[1] as TF.Tensor4D),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return (x, w) => f(x, w) as T4;
}

/** The conv2d of the current tfjs backend (call after `tf.setBackend`). */
export function tfjsConv(tf: Tf): TfjsConv {
  return (x, w, stride, pad) => {
    const xp = pad ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
    const conv = withGrad(
      tf,
      (xi, wi) => tf.conv2d(xi, wi, stride, "valid"),
      (dy, xs, ws) => [
        tf.conv2dTranspose(dy, ws, xs.shape, stride, "valid"),
        filterGrad(tf, xs, dy, ws.shape[0], stride),
      ],
    );
    return conv(xp, w);
  };
}

/** The transposed conv of the current tfjs backend ("same" padding: (K - stride) / 2 each side). */
export function tfjsConvTranspose(tf: Tf): TfjsConvT {
  return (x, w, outShape, stride) => {
    const k = w.shape[0], pad = (k - stride) / 2;
    const convT = withGrad(
      tf,
      (xi, wi) => tf.conv2dTranspose(xi, wi, outShape, stride, "same"),
      (dy, xs, ws) => [
        tf.conv2d(dy, ws, stride, "same"),
        // the transposed conv's filter is the filter of the conv from its output back to its input
        filterGrad(tf, tf.pad(dy, [[0, 0], [pad, pad], [pad, pad], [0, 0]]), xs, k, stride),
      ],
    );
    return convT(x, w);
  };
}
