/** Test helpers: a shared GPU that fails (never skips) without an adapter, tolerances, seeded data. */
import "../src/cli/_xdg.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { Rng } from "../src/util/rng.ts";

let gpuPromise: Promise<Gpu> | null = null;

/** The test GPU. Throws NoWebGpuError when there is no adapter: GPU tests fail, they never skip. */
export function testGpu(): Promise<Gpu> {
  if (!gpuPromise) gpuPromise = Gpu.create();
  return gpuPromise;
}

/** Tolerance `|got - ref| <= atol + rtol * |ref|`. */
export interface Tol {
  atol: number;
  rtol: number;
}

/**
 * Asserts two arrays are close elementwise; on failure the message lists the first
 * mismatches, the max absolute error and where it is.
 */
export function assertClose(
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  tol: Tol = { atol: 1e-5, rtol: 1e-4 },
  label = "",
): void {
  if (got.length !== ref.length) {
    throw new Error(`${label}: length ${got.length} != reference length ${ref.length}`);
  }
  const bad: string[] = [];
  let nBad = 0;
  let maxErr = 0;
  let maxAt = -1;
  for (let i = 0; i < ref.length; i++) {
    const g = got[i], r = ref[i];
    const err = Math.abs(g - r);
    if (!(err <= tol.atol + tol.rtol * Math.abs(r))) {
      nBad++;
      if (bad.length < 8) bad.push(`  [${i}] got ${g} ref ${r} err ${err.toExponential(3)}`);
    }
    if (!(err <= maxErr)) {
      maxErr = err;
      maxAt = i;
    }
  }
  if (nBad > 0) {
    throw new Error(
      `${label}: ${nBad}/${ref.length} values outside atol ${tol.atol} + rtol ${tol.rtol}*|ref|; ` +
        `max error ${maxErr} at [${maxAt}]\nfirst mismatches:\n${bad.join("\n")}`,
    );
  }
}

/** Seeded uniform values in [lo, hi). */
export function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  return new Rng(seed).uniforms(n, lo, hi);
}

/**
 * Central finite difference of a scalar function of `x` at every index (or the listed ones), in float64.
 * `f` reads x, which is perturbed in place and restored.
 */
export function finiteDiff(
  f: (x: Float64Array) => number,
  x: Float64Array,
  eps = 1e-6,
  indices?: number[],
): Float64Array {
  const g = new Float64Array(x.length);
  for (const i of indices ?? x.keys()) {
    const old = x[i];
    x[i] = old + eps;
    const fp = f(x);
    x[i] = old - eps;
    const fm = f(x);
    x[i] = old;
    g[i] = (fp - fm) / (2 * eps);
  }
  return g;
}

/** Dot product, for scalar losses L = <dy, y> used to check backward passes. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Plausible running statistics of C batch-norm channels, (2, C) = [mean in [-1, 1) | var in [0.5, 1.5)]. */
export function bnRunningStart(c: number, seed: number): Float32Array {
  const r = rand(2 * c, seed, -1, 1);
  for (let k = c; k < 2 * c; k++) r[k] = 0.5 + Math.abs(r[k]);
  return r;
}
