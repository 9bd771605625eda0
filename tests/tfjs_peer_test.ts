/**
 * The tfjs peers of the whole-step benchmarks must do the same work as medsynth: on tfjs-wasm (no
 * Conv2DBackpropFilter kernel) their conv and transposed-conv filter gradients are custom; they must equal
 * tfjs-cpu's own gradients.
 */
import * as tf from "@tensorflow/tfjs";
import * as wasm from "@tensorflow/tfjs-backend-wasm";
import { tfjsConv, tfjsConvTranspose } from "../src/bench/_tfjs_conv.ts";
import { assertClose } from "./_util.ts";

wasm.setWasmPaths(new URL("../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url).href);

/** Gradients of sum(conv(x, w)^2) (stride 2, pad 1) and sum(convT(x, wt)^2) wrt inputs and filters. */
function grads(): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.randomUniform([2, 6, 6, 3], -1, 1, "float32", 1) as tf.Tensor4D;
    const w = tf.randomUniform([3, 3, 3, 4], -1, 1, "float32", 2) as tf.Tensor4D;
    const wt = tf.randomUniform([4, 4, 5, 3], -1, 1, "float32", 3) as tf.Tensor4D;
    const conv = tfjsConv(tf), convT = tfjsConvTranspose(tf);
    const sq = (t: tf.Tensor) => tf.sum(tf.square(t));
    const g1 = tf.grads((a: tf.Tensor, b: tf.Tensor) => sq(conv(a as tf.Tensor4D, b as tf.Tensor4D, 2, 1)))([
      x,
      w,
    ]);
    const g2 = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      sq(convT(a as tf.Tensor4D, b as tf.Tensor4D, [2, 12, 12, 5], 2))
    )([x, wt]);
    return [...g1, ...g2].map((t) => t.dataSync() as Float32Array);
  });
}

Deno.test("tfjs peers: the custom tfjs-wasm conv / transposed-conv gradients equal tfjs-cpu's", async () => {
  await tf.setBackend("cpu");
  const ref = grads();
  if (!(await tf.setBackend("wasm"))) throw new Error("tfjs-wasm failed to initialise");
  const got = grads();
  const names = ["conv dx", "conv dw", "convT dx", "convT dw"];
  names.forEach((name, i) => assertClose(got[i], ref[i], { atol: 1e-4, rtol: 1e-4 }, name));
});
