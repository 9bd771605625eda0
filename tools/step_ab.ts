/**
 * Interleaved A/B timing of a whole training step with one engine option on (A) and off (B), alternating
 * short rounds so that the load of a shared machine falls on both alike; prints each round and the medians.
 * `deno run -A tools/step_ab.ts --option NAME [--step gan|classifier] [--rounds 8] [--steps 4]`
 *
 * Options: `narrow` (conv2d_fwd_gemm computes 4 or 8 channels an invocation for convs that narrow, else
 * 16), `tinput` (stride-2 input gradients of >= 65,536 dy values as the transposed conv's forward),
 * `dypack` (the weight gradient's dy packed 4 pixels an invocation), `flatdy` (the weight gradient reads a
 * large dy copied as it lies, no pack), `fusedsum` (a leaky ReLU's backward and its conv's bias gradient in
 * one pass), `keepw` (packed conv weights kept until their buffer is written).
 */
import "../src/cli/_xdg.ts";
import { parseArgs } from "node:util";
import { classifierCases, classifierStepper } from "../src/bench/classifier_cases.ts";
import { ganCases, ganStepper } from "../src/bench/gan_cases.ts";
import { median } from "../src/bench/cases.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { gemmOptions } from "../src/nn/_conv2d_gemm.ts";
import { inputGradOptions } from "../src/nn/conv2d.ts";
import { dyPackOptions, weightPackOptions } from "../src/nn/_conv2d_blocked.ts";
import { biasActOptions } from "../src/nn/activation.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    option: { type: "string", default: "narrow" },
    step: { type: "string", default: "gan" },
    rounds: { type: "string", default: "8" },
    steps: { type: "string", default: "4" },
  },
});
const OPTIONS: Record<string, (on: boolean) => void> = {
  narrow: (on) => void (gemmOptions.narrow = on),
  tinput: (on) => void (inputGradOptions.transposedFrom = on ? 65536 : Infinity),
  dypack: (on) => void (dyPackOptions.vec4 = on),
  flatdy: (on) => void (dyPackOptions.flat = on),
  fusedsum: (on) => void (biasActOptions.fusedSum = on),
  keepw: (on) => void (weightPackOptions.reuse = on),
};
const set = OPTIONS[args.option!];
if (!set) throw new Error(`--option must be one of ${Object.keys(OPTIONS).join(", ")}, got ${args.option}`);
const gpu = await Gpu.create();
const step = args.step === "gan"
  ? ganStepper(gpu, ganCases(true)[0]).step
  : classifierStepper(gpu, classifierCases(true, ["tiny"])[0]).step;
const steps = Number(args.steps);
for (const on of [true, false]) {
  set(on);
  for (let i = 0; i < 3; i++) step(); // compile both forms' pipelines
  await gpu.sync();
}
const ms: Record<"A" | "B", number[]> = { A: [], B: [] };
for (let r = 0; r < Number(args.rounds); r++) {
  for (const on of r % 2 ? [false, true] : [true, false]) {
    set(on);
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    await gpu.sync();
    const t = (performance.now() - t0) / steps;
    ms[on ? "A" : "B"].push(t);
    console.log(`round ${r} ${on ? "on " : "off"} ${t.toFixed(1)} ms/step`);
  }
}
const a = median(ms.A), b = median(ms.B);
console.log(
  `${args.step} step, ${args.option}: on ${a.toFixed(1)} ms, off ${
    b.toFixed(1)
  } ms (medians of ${args.rounds}), ` +
    `speed-up ${(b / a).toFixed(2)}x`,
);
gpu.destroy();
