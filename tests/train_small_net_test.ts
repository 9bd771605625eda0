/**
 * A small conv net trained 20 steps on the GPU follows the CPU reference's loss curve:
 * conv3x3 (1->4) + bias + leaky ReLU -> 2x2 avg pool -> conv4x4 valid (4->3) = logits (N, 3)
 * -> class-weighted BCE -> Adam. Every step is recorded and submitted once; the test reads the
 * loss back each step only to compare curves.
 */
import { Adam, adamStepRef } from "../src/nn/adam.ts";
import {
  biasActBackward,
  biasActBackwardRef,
  biasActForward,
  biasActForwardRef,
} from "../src/nn/activation.ts";
import {
  conv2dBackwardInput,
  conv2dBackwardRef,
  conv2dBackwardWeight,
  conv2dForward,
  conv2dForwardRef,
  type Conv2dShape,
} from "../src/nn/conv2d.ts";
import { bceWithLogits, bceWithLogitsRef } from "../src/nn/losses.ts";
import { avgPool2Backward, avgPool2BackwardRef, avgPool2Forward, avgPool2Ref } from "../src/nn/pool.ts";
import { ParamStore } from "../src/gpu/params.ts";
import { Rng } from "../src/util/rng.ts";
import { assert } from "./_assert.ts";
import { assertClose, testGpu } from "./_util.ts";

const N = 8, H = 8, C1 = 4, L = 3, STEPS = 20, LR = 0.02;
const s1: Conv2dShape = { n: N, cin: 1, h: H, w: H, cout: C1, k: 3, stride: 1, pad: 1 };
const s2: Conv2dShape = { n: N, cin: C1, h: H / 2, w: H / 2, cout: L, k: 4, stride: 1, pad: 0 };

/** A learnable toy task: label l is on when quadrant l of the image is bright. */
function makeData(rng: Rng): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(N * H * H), y = new Float32Array(N * L);
  for (let n = 0; n < N; n++) {
    for (let l = 0; l < L; l++) y[n * L + l] = rng.next() < 0.5 ? 1 : 0;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < H; j++) {
        const q = (i < H / 2 ? 0 : 2) + (j < H / 2 ? 0 : 1);
        const on = q < L && y[n * L + q] === 1;
        x[(n * H + i) * H + j] = (on ? 0.8 : -0.2) + 0.3 * rng.normal();
      }
    }
  }
  return { x, y };
}

Deno.test("a small conv net trained 20 steps on the GPU follows the CPU reference's loss curve", async () => {
  const gpu = await testGpu();
  const rng = new Rng(42);
  const w1 = rng.normals(C1 * 9, 0.4), b1 = new Float32Array(C1);
  const w2 = rng.normals(L * C1 * 16, 0.15), b2 = new Float32Array(L);
  const posW = Float32Array.from([1.5, 1, 2]), negW = Float32Array.from([1, 1, 0.5]);

  // GPU model
  const store = new ParamStore("small");
  const pw1 = store.add("w1", [C1, 1, 3, 3], w1), pb1 = store.add("b1", [C1], b1);
  const pw2 = store.add("w2", [L, C1, 4, 4], w2), pb2 = store.add("b2", [L], b2);
  store.build(gpu);
  const adam = new Adam(gpu, store, { lr: LR, beta1: 0.9, beta2: 0.999 });
  const x = gpu.tensor([N, 1, H, H]), tgt = gpu.tensor([N, L]);
  const pos = gpu.tensor([L], posW), neg = gpu.tensor([L], negW);
  const a1 = gpu.tensor([N, C1, H, H]),
    h1 = gpu.tensor([N, C1, H, H]),
    p1 = gpu.tensor([N, C1, H / 2, H / 2]);
  const logits = gpu.tensor([N, L, 1, 1]), dlogits = gpu.tensor([N, L]);
  const dp1 = gpu.tensor([N, C1, H / 2, H / 2]),
    dh1 = gpu.tensor([N, C1, H, H]),
    da1 = gpu.tensor([N, C1, H, H]);
  const dx = gpu.tensor([N, 1, H, H]);
  const loss = gpu.tensor([1]);

  // CPU model (float64)
  const cw1 = Float64Array.from(w1),
    cb1 = Float64Array.from(b1),
    cw2 = Float64Array.from(w2),
    cb2 = Float64Array.from(b2);
  const params = [cw1, cb1, cw2, cb2];
  const ms = params.map((p) => new Float64Array(p.length)),
    vs = params.map((p) => new Float64Array(p.length));

  const gpuLoss: number[] = [], cpuLoss: number[] = [];
  const dataRng = new Rng(7);
  for (let step = 1; step <= STEPS; step++) {
    const { x: xh, y: yh } = makeData(dataRng);
    gpu.write(x, xh);
    gpu.write(tgt, yh);
    const rec = gpu.recorder();
    rec.clear(store.grads);
    conv2dForward(rec, x, pw1.value, null, a1, s1);
    biasActForward(rec, a1, pb1.value, h1, "leaky_relu");
    avgPool2Forward(rec, h1, p1);
    conv2dForward(rec, p1, pw2.value, pb2.value, logits, s2);
    bceWithLogits(rec, logits.reshape([N, L]), tgt, pos, neg, dlogits, loss);
    const dl4 = dlogits.reshape([N, L, 1, 1]);
    conv2dBackwardWeight(rec, p1, dl4, pw2.grad, pb2.grad, s2);
    conv2dBackwardInput(rec, dl4, pw2.value, dp1, s2);
    avgPool2Backward(rec, dp1, dh1);
    biasActBackward(rec, dh1, h1, da1, pb1.grad, "leaky_relu");
    conv2dBackwardWeight(rec, x, da1, pw1.grad, null, s1);
    conv2dBackwardInput(rec, da1, pw1.value, dx, s1); // exercised though unused
    adam.step(rec);
    gpu.submit(rec);
    gpuLoss.push((await gpu.read(loss))[0]);

    // the same step on the CPU reference
    const ca1 = conv2dForwardRef(xh, cw1, null, s1);
    const ch1 = biasActForwardRef(ca1, cb1, [N, C1, H, H], "leaky_relu");
    const cp1 = avgPool2Ref(ch1, [N, C1, H, H]);
    const clog = conv2dForwardRef(cp1, cw2, cb2, s2);
    const { loss: cl, grad: cdl } = bceWithLogitsRef(clog, yh, posW, negW);
    cpuLoss.push(cl);
    const g2 = conv2dBackwardRef(cp1, cw2, cdl, s2);
    const cdh1 = avgPool2BackwardRef(g2.dx, [N, C1, H, H]);
    const { dx: cda1, dbias: gb1 } = biasActBackwardRef(cdh1, ch1, [N, C1, H, H], "leaky_relu");
    const g1 = conv2dBackwardRef(xh, cw1, cda1, s1);
    const grads = [g1.dw, gb1, g2.dw, g2.db];
    params.forEach((p, i) =>
      adamStepRef(p, grads[i], ms[i], vs[i], step, { lr: LR, beta1: 0.9, beta2: 0.999 })
    );
  }
  console.log("loss GPU:", gpuLoss.map((v) => v.toFixed(4)).join(" "));
  console.log("loss CPU:", cpuLoss.map((v) => v.toFixed(4)).join(" "));
  assertClose(gpuLoss, cpuLoss, { atol: 2e-4, rtol: 2e-3 }, "loss curve GPU vs CPU");
  const vals = await store.readValues(gpu);
  assertClose(vals.get("w2")!, cw2, { atol: 1e-3, rtol: 1e-2 }, "w2 after 20 steps");
  assert(cpuLoss[STEPS - 1] < 0.8 * cpuLoss[0], `the net learns: ${cpuLoss[0]} -> ${cpuLoss[STEPS - 1]}`);
});
