/**
 * Kernel descriptors: a compute shader entry point plus its `override` constants.
 * Pipelines are cached by {@linkcode kernelKey}, which covers the source text and
 * every constant, so two layers asking for the same kernel share one pipeline.
 * @module
 */

/** A compute kernel: one WGSL entry point with its override constants. */
export interface Kernel {
  /** Readable name (the shader file's name plus a variant), shown in errors and benchmarks. */
  name: string;
  /** The WGSL source text (from the generated shader module). */
  code: string;
  /** Entry point; shaders in `shaders/` all use "main". */
  entryPoint?: string;
  /** Values for the shader's `override` constants, e.g. workgroup size or tile sizes. */
  constants?: Record<string, number>;
  /** Workgroup size the constants give, so callers can compute the dispatch grid. */
  workgroupSize: readonly [number, number, number];
}

/** FNV-1a hash of a string, hex. Cheap and stable; used for cache keys only. */
export function hashString(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

const codeHashes = new Map<string, string>();

/** Cache key covering the source text, entry point and override constants. */
export function kernelKey(k: Kernel): string {
  let h = codeHashes.get(k.code);
  if (h === undefined) {
    h = hashString(k.code) + ":" + k.code.length;
    codeHashes.set(k.code, h);
  }
  const consts = k.constants
    ? Object.keys(k.constants).sort().map((c) => `${c}=${k.constants![c]}`).join(",")
    : "";
  return `${k.name}|${h}|${k.entryPoint ?? "main"}|${consts}`;
}

/** Ceiling division, for dispatch grids. */
export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/** Largest number of workgroups in one dispatch dimension that every WebGPU device allows. */
export const MAX_GROUPS_PER_DIM = 65535;

/**
 * A 2-D dispatch grid covering `groups` workgroups, for 1-D kernels whose work can
 * exceed 65535 groups. The shader recovers the flat group index as
 * `wid.x + wid.y * nwg.x` (`@builtin(num_workgroups) nwg`), and must bound-check.
 */
export function grid1d(groups: number): [number, number, number] {
  if (groups <= MAX_GROUPS_PER_DIM) return [Math.max(1, groups), 1, 1];
  const y = ceilDiv(groups, MAX_GROUPS_PER_DIM);
  return [ceilDiv(groups, y), y, 1];
}

/**
 * Loop iterations one invocation may run on Mesa's llvmpipe: every loop counts against one limiter per
 * invocation (gallivm's LP_MAX_TGSI_LOOP_ITERATIONS, 65535), and a loop that reaches it stops silently, with
 * no error, leaving the rest of the invocation's work undone (measured: a 70,000-iteration loop ran 65,535
 * times; two nested loops of 2 x 40,000 ran 65,533). Real GPUs have no such cap, so a kernel that exceeds it
 * is right on a GPU and wrong on the CPU adapter. Kernels whose per-invocation loops grow with the batch
 * split the work (e.g. bn_relu_fwd_lanes) once {@linkcode loopsFit} says they would not fit.
 */
export const LOOP_ITERATION_CAP = 65535;

/** Whether `iterations` loop iterations of one invocation stay under {@linkcode LOOP_ITERATION_CAP}, with a margin. */
export function loopsFit(iterations: number): boolean {
  return iterations <= LOOP_ITERATION_CAP - 1024;
}
