/**
 * Where a whole training step spends its GPU time: `deno task bench --profile` runs a step a few times
 * with a {@linkcode KernelProfiler} attached and sums the time per kernel. The benchmark rows say how fast
 * a step is against its peers; this says which kernels to work on.
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { KernelProfiler, type KernelTime } from "../gpu/profiler.ts";

/** The per-kernel profile of one whole step. */
export interface StepProfile {
  /** The benchmark row it profiles, e.g. "gan_step_32". */
  op: string;
  /** The row's shape text. */
  shape: string;
  /** Steps profiled (the kernel times below are per step). */
  steps: number;
  /** Dispatches per step. */
  dispatches: number;
  /** GPU time per step summed over the dispatches, milliseconds (one pass per dispatch: a bit above a real step). */
  gpuMs: number;
  /** Per kernel, per step, slowest first. */
  kernels: KernelTime[];
}

/**
 * Profiles `step` (records and submits one training step) over `steps` steps after `warmup` unprofiled
 * ones, collecting after every step so that no step overflows the query set.
 */
export async function profileStep(
  gpu: Gpu,
  op: string,
  shape: string,
  step: () => void,
  steps = 3,
  warmup = 2,
): Promise<StepProfile> {
  for (let i = 0; i < warmup; i++) step();
  await gpu.sync();
  const prof = new KernelProfiler(gpu.device);
  const sum = new Map<string, KernelTime>();
  gpu.profiler = prof;
  try {
    for (let i = 0; i < steps; i++) {
      step();
      await gpu.sync();
      if (prof.dropped > 0) {
        throw new Error(`profile ${op}: a step has more than ${prof.capacity} dispatches`);
      }
      for (const k of await prof.collect()) {
        const e = sum.get(k.name) ?? { name: k.name, dispatches: 0, ms: 0, share: 0 };
        e.dispatches += k.dispatches;
        e.ms += k.ms;
        sum.set(k.name, e);
      }
    }
  } finally {
    gpu.profiler = null;
    prof.destroy();
  }
  const kernels = [...sum.values()].map((k) => ({
    ...k,
    dispatches: k.dispatches / steps,
    ms: k.ms / steps,
  }));
  const gpuMs = kernels.reduce((a, k) => a + k.ms, 0);
  for (const k of kernels) k.share = gpuMs > 0 ? k.ms / gpuMs : 0;
  kernels.sort((a, b) => b.ms - a.ms);
  return { op, shape, steps, dispatches: kernels.reduce((a, k) => a + k.dispatches, 0), gpuMs, kernels };
}

/** A text table of a step profile: the kernels that make up `top` of its time, then the rest as one line. */
export function profileTable(p: StepProfile, top = 0.95): string {
  const lines = [
    `${p.op} (${p.shape}): ${p.gpuMs.toFixed(1)} ms GPU time per step in ${
      p.dispatches.toFixed(0)
    } dispatches`,
    `  ${"kernel".padEnd(48)} ${"dispatches".padStart(10)} ${"ms".padStart(8)} ${"share".padStart(7)}`,
  ];
  let acc = 0, shown = 0;
  for (const k of p.kernels) {
    if (acc >= top) break;
    acc += k.share;
    shown++;
    lines.push(
      `  ${k.name.padEnd(48)} ${k.dispatches.toFixed(1).padStart(10)} ${k.ms.toFixed(2).padStart(8)} ${
        (100 * k.share).toFixed(1).padStart(6)
      }%`,
    );
  }
  const rest = p.kernels.slice(shown);
  if (rest.length) {
    const ms = rest.reduce((a, k) => a + k.ms, 0), d = rest.reduce((a, k) => a + k.dispatches, 0);
    lines.push(
      `  ${`(${rest.length} more kernels)`.padEnd(48)} ${d.toFixed(1).padStart(10)} ${
        ms.toFixed(2).padStart(8)
      } ${(100 * (p.gpuMs > 0 ? ms / p.gpuMs : 0)).toFixed(1).padStart(6)}%`,
    );
  }
  return lines.join("\n");
}
