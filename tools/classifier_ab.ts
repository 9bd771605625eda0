/**
 * Interleaved A/B timing of the whole classifier training step: the fused path (BN+ReLU kernels,
 * concat-free dense blocks) against the unfused reference path, alternating short rounds so that the load
 * of a shared machine falls on both alike; prints each round and the medians. `--compare pack` instead
 * times the conv im2col pack kernel's fitted workgroups against the former 8 x 8 ones, `--compare
 * pointwise` 1x1 convs of 2x2-8x8 images as matmuls against the gemm conv kernel, `--compare convs` both.
 * `deno run -A tools/classifier_ab.ts [--preset tiny|paper] [--rounds 5] [--samples 3] [--compare fused|pack|pointwise|convs]`
 */
import "../src/cli/_xdg.ts";
import { parseArgs } from "node:util";
import { benchClassifierMedsynth, classifierCases } from "../src/bench/classifier_cases.ts";
import { median } from "../src/bench/cases.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { packOptions } from "../src/nn/_conv2d_gemm.ts";
import { pointwiseOptions } from "../src/nn/conv2d.ts";
import type { ClassifierPreset } from "../src/models/classifier.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    preset: { type: "string", default: "tiny" },
    rounds: { type: "string", default: "5" },
    samples: { type: "string", default: "3" },
    compare: { type: "string", default: "fused" },
  },
});
const gpu = await Gpu.create();
const [c] = classifierCases(false, [args.preset as ClassifierPreset]);
const both = args.compare === "convs";
const pack = both || args.compare === "pack", pw = both || args.compare === "pointwise";
// [new, reference]
const [a, b] = both
  ? ["new", "old"]
  : pack
  ? ["fitted", "8x8"]
  : pw
  ? ["matmul", "gemm"]
  : ["fused", "unfused"];
const ms: Record<string, number[]> = { [a]: [], [b]: [] };
for (let r = 0; r < Number(args.rounds); r++) {
  for (const path of r % 2 ? [b, a] : [a, b]) {
    packOptions.fitted = !pack || path === a;
    pointwiseOptions.maxPixels = !pw || path === a ? 64 : 1;
    const row = await benchClassifierMedsynth(gpu, c, {
      samples: Number(args.samples),
      fused: pack || pw || path === a,
    });
    ms[path].push(row.ms!);
    console.log(`round ${r} ${path.padEnd(7)} ${row.ms!.toFixed(1)} ms/step`);
  }
}
const f = median(ms[a]), u = median(ms[b]);
console.log(
  `${c.op} ${args.preset}: ${a} ${f.toFixed(1)} ms, ${b} ${u.toFixed(1)} ms (medians of ${args.rounds}), ` +
    `speed-up ${(u / f).toFixed(2)}x`,
);
gpu.destroy();
