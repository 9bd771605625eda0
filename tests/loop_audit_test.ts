/**
 * The loop-iteration audit (src/gpu/loop_audit.ts) counts what it should, and no kernel of the training
 * steps and evaluation passes the presets run on llvmpipe reaches its silent loop cap.
 */
import "../src/cli/_xdg.ts";
import { assert, assertEquals } from "./_assert.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { instrumentLoops, LoopAudit } from "../src/gpu/loop_audit.ts";
import { type ClassifierCase, classifierStepper } from "../src/bench/classifier_cases.ts";
import { ganCases, ganStepper } from "../src/bench/gan_cases.ts";
import { Classifier, classifierConfig } from "../src/models/classifier.ts";
import { rand } from "./_util.ts";

const NESTED = `
struct P { a: u32, b: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> p: P;
fn inner(n: u32) -> u32 {
  var c = 0u;
  var k = 0u;
  while (k < (n + 0u)) { c += 1u; k += 1u; } // a comment with for (x) {
  return c;
}
@compute @workgroup_size(4)
fn main(@builtin(local_invocation_index) lid: u32) {
  var cnt = 0u;
  for (var i = 0u; i < p.a + lid; i++) {
    cnt += inner(p.b);
  }
  out[lid] = cnt;
}`;

Deno.test("loop audit counts every loop iteration of the busiest invocation and changes no result", async () => {
  assertEquals(
    instrumentLoops("@compute @workgroup_size(1) fn main() { }"),
    null,
    "no loop: no instrumentation",
  );
  const code = instrumentLoops(NESTED)!;
  assertEquals(code.match(/loop_audit_n \+= 1u/g)?.length, 2, "the for and the while, not the comment");
  const gpu = await Gpu.create();
  try {
    const audit = new LoopAudit(gpu.device);
    gpu.loopAudit = audit;
    const out = gpu.tensor([4]);
    gpu.run((rec) =>
      rec.dispatch({ name: "nested", code: NESTED, workgroupSize: [4, 1, 1] }, [out, gpu.uniform([3, 5])], [
        1,
        1,
        1,
      ])
    );
    gpu.loopAudit = null;
    const loops = await audit.read();
    gpu.checkErrors();
    // lane 3: 6 outer iterations, each calling inner() with 5 iterations
    assertEquals(loops, [{ name: "nested", maxIterations: 6 + 6 * 5, overCap: false }]);
    assertEquals([...new Uint32Array((await gpu.read(out)).buffer)], [15, 20, 25, 30]);
    audit.destroy();
  } finally {
    gpu.destroy();
  }
});

Deno.test("no kernel of the tiny classifier (32, 64 px) and GAN steps reaches llvmpipe's loop cap", async () => {
  const gpu = await Gpu.create();
  try {
    const audit = new LoopAudit(gpu.device);
    gpu.loopAudit = audit;
    for (const size of [32, 64]) {
      const cfg = classifierConfig("tiny", { inChannels: 1, size, labels: 6 });
      const c: ClassifierCase = { op: "audit", preset: "tiny", cfg, batch: 32 };
      const { step, dispose } = classifierStepper(gpu, c);
      step();
      await gpu.sync();
      dispose();
      // evaluation: the default batch of predictProbabilities
      const model = new Classifier(gpu, cfg, { seed: 1 });
      await model.infer(rand(256 * size * size, 3, -1, 1), 256, { logits: true }, 128);
      model.disposeWorkspaces();
    }
    for (const g of ganCases(true)) {
      ganStepper(gpu, g).step();
      await gpu.sync();
    }
    gpu.loopAudit = null;
    const loops = await audit.read();
    gpu.checkErrors();
    assert(loops.length > 30, `audited ${loops.length} kernels`);
    const over = loops.filter((k) => k.overCap);
    assertEquals(over, [], "kernels at the cap");
    // the classifier's stem backward needed the lanes form to get here
    assert(loops.some((k) => k.name.startsWith("bn_relu_bwd_lanes")), "the stem's backward ran as lanes");
    audit.destroy();
  } finally {
    gpu.destroy();
  }
});
