/**
 * Minibatch standard deviation (StyleGAN, one statistic channel): the batch is split into groups of G
 * samples, the std over each group is taken at every (c, h, w), averaged over (c, h, w) to one scalar per
 * group, and appended to every member as an extra channel: (N, C, H, W) -> (N, C+1, H, W).
 *
 * Grouping follows StyleGAN's reshape(G, M, ...): with M = N / G groups, group m holds samples
 * n = i*M + m (i < G), i.e. n % M = m. The variance is biased (mean over the group) and
 * std = sqrt(var + 1e-8). Forward and backward on the GPU and as a CPU reference.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { ncs } from "./activation.ts";
import { type NormVariant, reduceWorkgroup } from "./batch_norm.ts";

/** Epsilon inside the group std's square root (StyleGAN's). */
export const MBSTD_EPS = 1e-8;

/** Options of the minibatch-std layer. */
export interface MinibatchStdOptions {
  /** Group size G; must divide N (default min(4, N)). */
  groupSize?: number;
  /** Kernel variant of the two reductions (default "auto"). */
  variant?: NormVariant;
}

/** The group size for a batch of n: `group` (checked to divide n) or min(4, n). */
export function mbstdGroupSize(n: number, group?: number): number {
  const g = group ?? Math.min(4, n);
  if (!(Number.isInteger(g) && g >= 1 && n % g === 0)) {
    throw new Error(`minibatch std: group size ${g} must be a positive integer dividing the batch size ${n}`);
  }
  return g;
}

/** Shape of the tensor the layer keeps between forward and backward: (2, M) = [stat | dstat], M = N / G. */
export function mbstdSavedShape(n: number, group?: number): [number, number] {
  return [2, n / mbstdGroupSize(n, group)];
}

const EW = 64;

function statKernel(wg: number, g: number): Kernel {
  return {
    name: `mbstd_stat.wg${wg}.g${g}`,
    code: WGSL.mbstd_stat,
    constants: { WG: wg, G: g, EPS: MBSTD_EPS },
    workgroupSize: [wg, 1, 1],
  };
}
function dstatKernel(wg: number): Kernel {
  return {
    name: `mbstd_dstat.wg${wg}`,
    code: WGSL.mbstd_dstat,
    constants: { WG: wg },
    workgroupSize: [wg, 1, 1],
  };
}
const fwdKernel: Kernel = {
  name: "mbstd_fwd",
  code: WGSL.mbstd_fwd,
  constants: { WG: 256 },
  workgroupSize: [256, 1, 1],
};
const bwdKernel: Kernel = {
  name: "mbstd_bwd",
  code: WGSL.mbstd_bwd,
  constants: { WG: EW, EPS: MBSTD_EPS },
  workgroupSize: [EW, 1, 1],
};

function checkShapes(fn: string, x: Tensor, y: Tensor, saved: Tensor, g: number): void {
  const [n, c, s] = ncs(x.shape);
  if (y.size !== n * (c + 1) * s) {
    throw new Error(`${fn}: output has shape ${y.shape}, needs (${n}, ${c + 1}, ...) for input ${x.shape}`);
  }
  if (saved.size !== 2 * (n / g)) throw new Error(`${fn}: saved has ${saved.size} values, needs 2 * N / G`);
}

/**
 * y = concat(x, stat) along channels: y (N, C+1, H, W). Writes saved[0..M) = the group statistics.
 */
export function minibatchStdForward(
  rec: Recorder,
  x: Tensor, // (N, C, H, W)
  y: Tensor, // (N, C+1, H, W)
  saved: Tensor, // (2, M): [stat | dstat]
  opts: MinibatchStdOptions = {},
): void {
  const [n, c, s] = ncs(x.shape);
  const g = mbstdGroupSize(n, opts.groupSize), m = n / g;
  checkShapes("minibatchStdForward", x, y, saved, g);
  rec.dispatch(
    statKernel(reduceWorkgroup(opts.variant), g),
    [x, saved, rec.gpu.uniform([m, c * s])],
    grid1d(m),
  );
  const total = y.size;
  rec.dispatch(fwdKernel, [x, saved, y, rec.gpu.uniform([total, c, s, m])], grid1d(Math.ceil(total / 256)));
}

/** Backward of {@linkcode minibatchStdForward}: dx written (=); uses saved[M..2M) as scratch. */
export function minibatchStdBackward(
  rec: Recorder,
  x: Tensor, // (N, C, H, W): the forward input
  dy: Tensor, // (N, C+1, H, W)
  saved: Tensor, // (2, M)
  dx: Tensor, // (N, C, H, W)
  opts: MinibatchStdOptions = {},
): void {
  const [n, c, s] = ncs(x.shape);
  const g = mbstdGroupSize(n, opts.groupSize), m = n / g;
  checkShapes("minibatchStdBackward", x, dy, saved, g);
  if (dx.size !== x.size) throw new Error(`minibatchStdBackward: dx has shape ${dx.shape}, x ${x.shape}`);
  rec.dispatch(
    dstatKernel(reduceWorkgroup(opts.variant)),
    [dy, saved, rec.gpu.uniform([g, m, c, s])],
    grid1d(m),
  );
  rec.dispatch(
    bwdKernel,
    [x, dy, saved, dx, rec.gpu.uniform([g, m, c * s, s])],
    grid1d(Math.ceil((m * c * s) / EW)),
  );
}

// ---------------------------------------------------------------- CPU reference

type Arr = Float32Array | Float64Array;

/** CPU reference of {@linkcode minibatchStdForward}: the output (N, C+1, S) and the statistic per group (M). */
export function minibatchStdForwardRef(
  x: Arr, // (N, C, S)
  shape: readonly number[],
  groupSize?: number,
): { y: Float64Array; stat: Float64Array } {
  const [n, c, s] = ncs(shape);
  const g = mbstdGroupSize(n, groupSize), m = n / g, cs = c * s;
  const stat = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    let acc = 0;
    for (let j = 0; j < cs; j++) {
      let mu = 0;
      for (let i = 0; i < g; i++) mu += x[(i * m + k) * cs + j];
      mu /= g;
      let v = 0;
      for (let i = 0; i < g; i++) v += (x[(i * m + k) * cs + j] - mu) ** 2;
      acc += Math.sqrt(v / g + MBSTD_EPS);
    }
    stat[k] = acc / cs;
  }
  const y = new Float64Array(n * (cs + s));
  for (let b = 0; b < n; b++) {
    for (let j = 0; j < cs; j++) y[b * (cs + s) + j] = x[b * cs + j];
    for (let j = 0; j < s; j++) y[b * (cs + s) + cs + j] = stat[b % m];
  }
  return { y, stat };
}

/** CPU reference of {@linkcode minibatchStdBackward}: dx (N, C, S). */
export function minibatchStdBackwardRef(
  x: Arr, // (N, C, S)
  dy: Arr, // (N, C+1, S)
  shape: readonly number[],
  groupSize?: number,
): Float64Array {
  const [n, c, s] = ncs(shape);
  const g = mbstdGroupSize(n, groupSize), m = n / g, cs = c * s;
  const dx = new Float64Array(n * cs);
  for (let b = 0; b < n; b++) for (let j = 0; j < cs; j++) dx[b * cs + j] = dy[b * (cs + s) + j];
  for (let k = 0; k < m; k++) {
    let dstat = 0;
    for (let i = 0; i < g; i++) for (let j = 0; j < s; j++) dstat += dy[(i * m + k) * (cs + s) + cs + j];
    for (let j = 0; j < cs; j++) {
      let mu = 0;
      for (let i = 0; i < g; i++) mu += x[(i * m + k) * cs + j];
      mu /= g;
      let v = 0;
      for (let i = 0; i < g; i++) v += (x[(i * m + k) * cs + j] - mu) ** 2;
      const sd = Math.sqrt(v / g + MBSTD_EPS);
      // d stat / d x_i = 1/(C S) * d sd / d x_i = (x_i - mu) / (C S G sd)
      for (let i = 0; i < g; i++) {
        const idx = (i * m + k) * cs + j;
        dx[idx] += dstat * (x[idx] - mu) / (cs * g * sd);
      }
    }
  }
  return dx;
}
