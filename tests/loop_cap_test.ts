/**
 * llvmpipe stops every loop of an invocation once the invocation has run 65535 loop iterations, silently
 * (LOOP_ITERATION_CAP in src/gpu/kernel.ts). These tests pin that down on the CPU adapter and check that the
 * kernels whose loops grow with the batch pick a form that stays under it.
 */
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { LOOP_ITERATION_CAP, loopsFit } from "../src/gpu/kernel.ts";
import { bnReluBwdLoops, bnReluFwdLoops, bnReluLanes } from "../src/nn/bn_relu.ts";
import { testGpu } from "./_util.ts";

const COUNT = `
struct P { a: u32, b: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> p: P;
@compute @workgroup_size(1)
fn main() {
  var cnt = 0u;
  for (var i = 0u; i < p.a; i++) {
    for (var j = 0u; j < p.b; j++) { cnt += 1u; }
  }
  out[0] = cnt;
}`;

Deno.test("llvmpipe stops an invocation's loops after 65535 iterations (other adapters run them all)", async () => {
  const gpu = await testGpu();
  const out = gpu.tensor([1]);
  const run = async (a: number, b: number) => {
    gpu.run((rec) =>
      rec.dispatch(
        { name: "loop_count", code: COUNT, workgroupSize: [1, 1, 1] },
        [out, gpu.uniform([a, b])],
        [
          1,
          1,
          1,
        ],
      )
    );
    return new Uint32Array((await gpu.read(out)).buffer)[0];
  };
  assertEquals(await run(1, 60_000), 60_000, "under the cap every iteration runs");
  const llvmpipe = gpu.adapter.description.toLowerCase().includes("llvmpipe");
  if (llvmpipe) {
    assertEquals(await run(1, 70_000), LOOP_ITERATION_CAP);
    // nested loops share the count: 2 x 40,000 inner iterations (+ 2 outer) stop just short of 80,000
    const nested = await run(2, 40_000);
    assert(nested < LOOP_ITERATION_CAP && nested > LOOP_ITERATION_CAP - 10, `nested: ${nested}`);
  } else {
    assert((await run(1, 70_000)) <= 70_000);
  }
});

Deno.test("BN+ReLU kernels keep one invocation's loops under the cap", () => {
  // the classifier's pooled stem at batch 32: per pixel one invocation would pass the cap, window by window it
  // fits; at 64 px it takes the lanes form
  assert(!loopsFit(bnReluBwdLoops(1, 32, 32, 32)), "one invocation a channel, per pixel, would pass the cap");
  assertEquals(bnReluLanes("t", (l) => bnReluBwdLoops(l, 32, 32, 32, true)), 0);
  const stem64 = bnReluLanes("t", (l) => bnReluBwdLoops(l, 32, 64, 64, true));
  assertEquals(stem64, 8);
  assert(loopsFit(bnReluBwdLoops(stem64, 32, 64, 64, true)));
  // unpooled at 32x32 x 32: lanes
  assertEquals(bnReluLanes("t", (l) => bnReluBwdLoops(l, 32, 1, 1024)), 8);
  // a dense block at 16x16: one invocation a channel fits, and keeps the faster kernel
  assertEquals(bnReluLanes("t", (l) => bnReluBwdLoops(l, 32, 1, 256)), 0);
  assertEquals(bnReluLanes("t", (l) => bnReluFwdLoops(l, true, true, 32, 1024, 32, 32)), 0);
  // the forward without pooling at 32x32 x 32 does not fit one invocation
  assertEquals(bnReluLanes("t", (l) => bnReluFwdLoops(l, true, false, 32, 1024, 1, 1024)), 8);
  // evaluation batches of 512 images at 64 px need more lanes, and the count stays under the cap
  const big = bnReluLanes("t", (l) => bnReluFwdLoops(l, false, false, 512, 4096, 1, 4096));
  assert(big > 8 && loopsFit(bnReluFwdLoops(big, false, false, 512, 4096, 1, 4096)), `lanes ${big}`);
  // beyond what 256 lanes can cover: one clear error, not a silently truncated result
  assertThrows(
    () => bnReluLanes("bnReluForward", (l) => bnReluFwdLoops(l, true, false, 1 << 16, 4096, 1, 4096)),
    Error,
    /smaller batch/,
  );
});
