import { benchCases } from "../src/bench/cases.ts";
import { fmaPeak, fmaPeakCpu } from "../src/bench/fma_peak.ts";
import { assertThrows } from "./_assert.ts";
import { assertClose, testGpu } from "./_util.ts";

Deno.test("fma_peak kernel runs every FMA step: equals its CPU reference for several trip counts", async () => {
  const gpu = await testGpu();
  const out = gpu.tensor([256]);
  for (const iters of [0, 1, 5, 40]) {
    gpu.run((rec) => fmaPeak(rec, out, iters));
    // float32 chains vs float64: errors stay ~1e-6 relative because the chains contract (m < 1)
    assertClose(await gpu.read(out), fmaPeakCpu(256, iters), { atol: 1e-4, rtol: 1e-4 }, `iters ${iters}`);
  }
  // a kernel that skipped steps would differ: 5 and 40 trips give clearly different sums
  const a = fmaPeakCpu(1, 5)[0], b = fmaPeakCpu(1, 40)[0];
  if (Math.abs(a - b) < 1) throw new Error(`reference too flat to tell trip counts apart: ${a} vs ${b}`);
});

Deno.test("fma_peak refuses an output it cannot cover exactly, and the bench counts its flops", async () => {
  const gpu = await testGpu();
  assertThrows(() => gpu.run((rec) => fmaPeak(rec, gpu.tensor([100]), 1)), Error, /multiple of 64/);
  const row = benchCases(true).find((c) => c.op === "fma_peak")!;
  if (row.params.kind !== "peak") throw new Error("fma_peak case has the wrong params");
  const { invocations, iters } = row.params;
  if (row.flops !== 2 * 128 * invocations * iters) throw new Error(`flops ${row.flops}`);
});
