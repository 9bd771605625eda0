/**
 * Interleaved A/B timing of the whole classifier training step: the fused path (BN+ReLU kernels,
 * concat-free dense blocks) against the unfused reference path, alternating short rounds so that the load
 * of a shared machine falls on both alike; prints each round and the medians.
 * `deno run -A tools/classifier_ab.ts [--preset tiny|paper] [--rounds 5] [--samples 3]`
 */
import "../src/cli/_xdg.ts";
import { parseArgs } from "node:util";
import { benchClassifierMedsynth, classifierCases } from "../src/bench/classifier_cases.ts";
import { median } from "../src/bench/cases.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import type { ClassifierPreset } from "../src/models/classifier.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    preset: { type: "string", default: "tiny" },
    rounds: { type: "string", default: "5" },
    samples: { type: "string", default: "3" },
  },
});
const gpu = await Gpu.create();
const [c] = classifierCases(false, [args.preset as ClassifierPreset]);
const ms: Record<"fused" | "unfused", number[]> = { fused: [], unfused: [] };
for (let r = 0; r < Number(args.rounds); r++) {
  for (const path of r % 2 ? ["unfused", "fused"] as const : ["fused", "unfused"] as const) {
    const row = await benchClassifierMedsynth(gpu, c, {
      samples: Number(args.samples),
      fused: path === "fused",
    });
    ms[path].push(row.ms!);
    console.log(`round ${r} ${path.padEnd(7)} ${row.ms!.toFixed(1)} ms/step`);
  }
}
const f = median(ms.fused), u = median(ms.unfused);
console.log(
  `${c.op} ${args.preset}: fused ${f.toFixed(1)} ms, unfused ${
    u.toFixed(1)
  } ms (medians of ${args.rounds}), ` +
    `speed-up ${(u / f).toFixed(2)}x`,
);
gpu.destroy();
