/**
 * The "fma_peak" benchmark row: a kernel of register-only FMA chains (shaders/fma_peak.wgsl) that
 * measures the adapter's arithmetic ceiling for code shaped like this engine's kernels, so each real
 * kernel's GFLOP/s can be read as a fraction of what the adapter can do at all. A CPU reference of the
 * same chains lets the test check the kernel really runs every step.
 * @module
 */
import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import type { Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";

const WG = 64;

const peakKernel: Kernel = {
  name: "fma_peak",
  code: WGSL.fma_peak,
  constants: { WG },
  workgroupSize: [WG, 1, 1],
};

/** Records the peak kernel: `out` (invocations), a multiple of 64 long and at most 65535 * 64. */
export function fmaPeak(rec: Recorder, out: Tensor, iters: number): void {
  if (out.size % WG !== 0 || out.size / WG > 65535) {
    throw new Error(`fmaPeak: out has ${out.size} elements; need a multiple of ${WG}, at most ${65535 * WG}`);
  }
  rec.dispatch(peakKernel, [out, rec.gpu.uniform([iters])], [out.size / WG, 1, 1]);
}

/** CPU reference of {@linkcode fmaPeak} (float64): what each invocation writes. */
export function fmaPeakCpu(invocations: number, iters: number): Float64Array {
  const out = new Float64Array(invocations);
  const m = [0.999, 0.998, 0.997, 0.996];
  for (let g = 0; g < invocations; g++) {
    const s = Math.fround((g % 97) * 0.001);
    let total = 0;
    for (let c = 0; c < 4; c++) {
      const d = Math.fround(s + 0.1 * c);
      for (let chain = 1; chain <= 8; chain++) {
        let a = d * chain;
        for (let i = 0; i < 4 * iters; i++) a = a * m[c] + d;
        total += a;
      }
    }
    out[g] = total;
  }
  return out;
}
