/** A small phantom and a GAN config that trains in seconds (GAN tests). */
import { DEFAULT_PHANTOM_CONFIG, makePhantom, type PhantomLabelSpec } from "../src/data/phantom.ts";
import { resolveGanConfig } from "../src/models/config.ts";

/** A small phantom and a config that trains in seconds. */
export function quickSetup(over: Record<string, unknown> = {}) {
  const labels = { ...DEFAULT_PHANTOM_CONFIG.labels, count: 240 } as PhantomLabelSpec;
  const data = makePhantom({ resolution: 16, labels, seed: 3 });
  const cfg = resolveGanConfig({
    resolution: 16,
    gChannels: [32, 16, 8],
    dChannels: [32, 16, 8],
    latentDim: 16,
    dFeatures: 32,
    batchSize: 8,
    logEvery: 10,
    lrD: 1e-3,
    lrG: 1e-3,
    ...over,
  });
  return { data, cfg };
}

/**
 * A run config small enough to train and sample in seconds on a CPU adapter (16 px, batch 8), as JSON for
 * `deno task train --config`; tests add their own schedule. No label fidelity: it would train a
 * reference classifier the tests do not need.
 */
export const TINY_RUN = {
  preset: "tiny",
  resolution: 16,
  gChannels: [16, 8, 8],
  dChannels: [16, 8, 8],
  latentDim: 8,
  dFeatures: 16,
  batchSize: 8,
  logEvery: 2,
  labelFidelity: { every: 0 },
} as const;
