/**
 * The discriminator's conv + leaky ReLU as one layer (src/models/layers.ts `Conv` with `leaky`): where the gemm
 * kernel applies the activation in its output pass, forward and backward give the same bits as a conv layer
 * followed by a leaky-ReLU layer (the bias gradient, summed in another order, within rounding); where it cannot, the layer applies it in a pass of its own, and
 * conv2dForward refuses a leaky request it cannot honour.
 */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { ParamStore } from "../src/gpu/params.ts";
import { Act, Conv, WeightSet } from "../src/models/layers.ts";
import { biasActForwardRef } from "../src/nn/activation.ts";
import { conv2dForward, conv2dForwardRef, conv2dFusesLeaky, type Conv2dShape } from "../src/nn/conv2d.ts";
import { Rng } from "../src/util/rng.ts";
import { assertClose, rand, testGpu } from "./_util.ts";

const CASES: [Conv2dShape, boolean][] = [
  // fused on the gemm kernel: the GAN discriminator's shapes (3x3, 4x4 stride 2, 1x1 at 32 px)
  [{ n: 4, cin: 8, h: 16, w: 16, cout: 8, k: 3, stride: 1, pad: 1 }, true],
  [{ n: 4, cin: 8, h: 16, w: 16, cout: 20, k: 4, stride: 2, pad: 1 }, true],
  [{ n: 3, cin: 1, h: 32, w: 32, cout: 8, k: 1, stride: 1, pad: 0 }, true],
  // a 1x1 conv of 4x4 images runs as a matmul: the activation takes its own pass
  [{ n: 4, cin: 9, h: 4, w: 4, cout: 6, k: 1, stride: 1, pad: 0 }, false],
];

Deno.test("conv + leaky layer equals conv then leaky, bit for bit, fused or not", async () => {
  const gpu = await testGpu();
  for (const [s, fusable] of CASES) {
    assertEquals(conv2dFusesLeaky(gpu, s), fusable, `fusable ${JSON.stringify(s)}`);
    const ws = new WeightSet(gpu, new ParamStore("t"), new Rng(7));
    const w = ws.weight("c", [s.cout, s.cin, s.k, s.k], s.cin * s.k * s.k, {
      biasLen: s.cout,
      biasInit: 0.1,
    });
    ws.build();
    const one = new Conv(gpu, w, s, true, "auto", true);
    const conv = new Conv(gpu, w, s, true, "auto"), act = new Act(gpu, conv.y.shape.slice(), "leaky_relu");
    const x = gpu.tensor([s.n, s.cin, s.h, s.w], rand(s.n * s.cin * s.h * s.w, 3, -1, 1));
    const dy = gpu.tensor(conv.y.shape, rand(conv.y.size, 4));
    gpu.run((rec) => {
      one.forward(rec, x);
      act.forward(rec, conv.forward(rec, x));
    });
    const y1 = await gpu.read(one.y), y2 = await gpu.read(act.y);
    assertEquals(y1, y2, "forward bits");
    assert(y1.some((v) => v < 0) && y1.some((v) => v > 0), "both sides of the ReLU are exercised");
    const ref = biasActForwardRef(
      conv2dForwardRef(await gpu.read(x), await gpu.read(w.value), await gpu.read(w.bias!.value), s),
      null,
      conv.y.shape,
      "leaky_relu",
    );
    assertClose(y1, ref, { atol: 1e-5, rtol: 1e-4 }, "forward vs CPU reference");
    gpu.run((rec) => rec.clear(ws.store.grads));
    gpu.run((rec) => one.backward(rec, dy, true));
    const gw1 = await gpu.read(w.grad), gb1 = await gpu.read(w.bias!.grad), dx1 = await gpu.read(one.dx!);
    gpu.run((rec) => rec.clear(ws.store.grads));
    gpu.run((rec) => conv.backward(rec, act.backward(rec, dy), true));
    assertEquals(await gpu.read(w.grad), gw1, "weight gradient bits");
    // the layer sums its bias gradient in the leaky ReLU's backward pass (bias_act_bwd_sum), in another
    // order than the conv's channel sum
    assertClose(gb1, await gpu.read(w.bias!.grad), { atol: 1e-5, rtol: 1e-5 }, "bias gradient");
    assert(gb1.some((v) => v !== 0), "the bias gradient is exercised");
    assertEquals(await gpu.read(conv.dx!), dx1, "input gradient bits");
    if (!fusable) {
      const y = gpu.tensor(conv.y.shape);
      assertThrows(
        () => gpu.run((rec) => conv2dForward(rec, x, w.value, null, y, s, "auto", true)),
        Error,
        /cannot apply/,
      );
    }
  }
});

Deno.test("the leaky ReLU is fused only on the gemm kernel", async () => {
  const gpu = await testGpu();
  const s = CASES[0][0];
  assertEquals(conv2dFusesLeaky(gpu, s, "naive"), false);
  assertEquals(conv2dFusesLeaky(gpu, s, "tiled"), false);
  assertEquals(conv2dFusesLeaky(gpu, { ...s, h: 1, w: 1, k: 1, pad: 0 }), false, "1x1 images: a matmul");
});
