/**
 * Spectral normalisation of a weight W viewed as (Out, In) (a conv weight (Cout, Cin, K, K) is
 * (Cout, Cin*K*K)): W_sn = W / sigma, sigma ~ the largest singular value, estimated by one power-iteration
 * step per training step with a persistent vector u (Out), as in Miyato et al. and PyTorch's
 * `spectral_norm`:
 *   v = normalize(W^T u),  u = normalize(W v),  sigma = u^T W v.
 * W_sn goes into a separate tensor that the layer (conv / linear) uses in place of W. The backward treats
 * u and v as constants (as PyTorch does): dW += (dW_sn - (sum dW_sn * W_sn) u v^T) / sigma.
 *
 * u is the layer's only persistent state: save {@linkcode SpectralNormState.u} in checkpoints.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel, loopsFit } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { Rng } from "../util/rng.ts";
import { type NormVariant, reduceWorkgroup } from "./batch_norm.ts";

/** GPU state of one spectrally normalised weight. */
export interface SpectralNormState {
  /** (Out) left singular vector estimate; persistent across steps (checkpoint it). */
  u: Tensor;
  /** (In) right singular vector of the last forward (used by the backward). */
  v: Tensor;
  /** (max(Out, In)) scratch for the unnormalised power-iteration vectors. */
  tmp: Tensor;
  /** (2) [sigma, k]: sigma of the last forward, k = sum dW_sn * W_sn of the last backward. */
  scal: Tensor;
}

/** Options of {@linkcode spectralNormForward}. */
export interface SpectralNormOptions {
  /**
   * true (training, default): one power-iteration step updates u. false (evaluation): u is kept,
   * v = normalize(W^T u) and sigma = u^T W v.
   */
  update?: boolean;
  /** Kernel variant of the reductions (default "auto"). */
  variant?: NormVariant;
}

/** (Out, In) of a weight shape: Out = shape[0], In = the product of the rest. */
export function snDims(shape: readonly number[]): [number, number] {
  return [shape[0], shape.slice(1).reduce((a, b) => a * b, 1)];
}

/** A random unit vector of length `out` (seeded): the initial u. */
export function spectralNormInitU(out: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const u = new Float64Array(out);
  for (let i = 0; i < out; i++) u[i] = rng.normal();
  const nrm = Math.hypot(...u);
  return Float32Array.from(u, (x) => x / nrm);
}

/** Allocates the state for a weight of `shape`, u a seeded random unit vector (or `u` when given). */
export function spectralNormState(
  gpu: Gpu,
  shape: readonly number[],
  seed = 1,
  u?: ArrayLike<number>,
): SpectralNormState {
  const [out, inn] = snDims(shape);
  if (u && u.length !== out) {
    throw new Error(`spectralNormState: u has ${u.length} values, weight needs ${out}`);
  }
  return {
    u: gpu.tensor([out], u ?? spectralNormInitU(out, seed)),
    v: gpu.tensor([inn]),
    tmp: gpu.tensor([Math.max(out, inn)]),
    scal: gpu.tensor([2], [1, 0]),
  };
}

const EW = 256, MV = 64;

function matvecKernel(transpose: boolean): Kernel {
  return {
    name: `spectral_norm_matvec${transpose ? ".t" : ""}`,
    code: WGSL.spectral_norm_matvec,
    constants: { WG: MV, TRANSPOSE: transpose ? 1 : 0 },
    workgroupSize: [MV, 1, 1],
  };
}
function normalizeKernel(wg: number, dot: boolean): Kernel {
  return {
    name: `spectral_norm_normalize.wg${wg}${dot ? ".dot" : ""}`,
    code: WGSL.spectral_norm_normalize,
    constants: { WG: wg, DOT: dot ? 1 : 0 },
    workgroupSize: [wg, 1, 1],
  };
}
function gdotKernel(wg: number): Kernel {
  return {
    name: `spectral_norm_gdot.wg${wg}`,
    code: WGSL.spectral_norm_gdot,
    constants: { WG: wg },
    workgroupSize: [wg, 1, 1],
  };
}
const scaleKernel: Kernel = {
  name: "spectral_norm_scale",
  code: WGSL.spectral_norm_scale,
  constants: { WG: EW },
  workgroupSize: [EW, 1, 1],
};
const bwdKernel: Kernel = {
  name: "spectral_norm_bwd",
  code: WGSL.spectral_norm_bwd,
  constants: { WG: EW },
  workgroupSize: [EW, 1, 1],
};

/** `fused: false` keeps every weight on the five-dispatch path (A/B timing and the equality test). */
export const snOptions = { fused: true };

function fusedKernel(update: boolean): Kernel {
  return {
    name: `spectral_norm_fused${update ? "" : ".keep"}`,
    code: WGSL.spectral_norm_fused,
    constants: { WG: MV, UPDATE: update ? 1 : 0 },
    workgroupSize: [MV, 1, 1],
  };
}

/**
 * Whether the forward of a weight (out, inn) runs as spectral_norm_fused (one workgroup, one dispatch): for
 * weights up to 65,536 values whose one lane's loops stay under llvmpipe's cap, unless `variant` is
 * "naive". The discriminator's weights of the presets at 32-64 px all do; DenseNet-sized ones do not.
 */
export function snFused(variant: NormVariant | undefined, out: number, inn: number): boolean {
  if (!snOptions.fused || variant === "naive" || out * inn > 65536) return false;
  const per = (len: number) => Math.ceil(len / MV);
  const loops = per(inn) * (1 + out) + 2 * per(inn) + per(out) * (1 + inn) + 2 * per(out) + per(out * inn) +
    2 * Math.log2(MV);
  return loopsFit(loops);
}

function checkState(fn: string, w: Tensor, other: Tensor, st: SpectralNormState): [number, number] {
  const [out, inn] = snDims(w.shape);
  if (other.size !== w.size) throw new Error(`${fn}: ${other.shape} must have the weight's shape ${w.shape}`);
  if (st.u.size !== out || st.v.size !== inn || st.tmp.size < Math.max(out, inn) || st.scal.size !== 2) {
    throw new Error(
      `${fn}: state does not fit a weight of shape ${w.shape} (make it with spectralNormState)`,
    );
  }
  return [out, inn];
}

/** One power-iteration step (with `update`) and W_sn = W / sigma into `wsn` (another buffer than w). */
export function spectralNormForward(
  rec: Recorder,
  w: Tensor, // (Out, In...) the raw weight
  wsn: Tensor, // same shape: W / sigma
  st: SpectralNormState,
  opts: SpectralNormOptions = {},
): void {
  const [out, inn] = checkState("spectralNormForward", w, wsn, st);
  const wg = reduceWorkgroup(opts.variant);
  const dims = rec.gpu.uniform([out, inn]);
  if (snFused(opts.variant, out, inn)) {
    rec.dispatch(fusedKernel(opts.update ?? true), [w, st.u, st.v, st.tmp, st.scal, wsn, dims], [1, 1, 1]);
    return;
  }
  rec.dispatch(matvecKernel(true), [w, st.u, st.tmp, dims], grid1d(Math.ceil(inn / MV)));
  rec.dispatch(normalizeKernel(wg, false), [st.tmp, st.tmp, st.v, st.scal, rec.gpu.uniform([inn])], [
    1,
    1,
    1,
  ]);
  rec.dispatch(matvecKernel(false), [w, st.v, st.tmp, dims], grid1d(Math.ceil(out / MV)));
  const lenOut = rec.gpu.uniform([out]);
  if (opts.update ?? true) {
    rec.dispatch(normalizeKernel(wg, false), [st.tmp, st.tmp, st.u, st.scal, lenOut], [1, 1, 1]);
  } else {
    // sigma = u . (W v); v fills the unused output binding
    rec.dispatch(normalizeKernel(wg, true), [st.tmp, st.u, st.v, st.scal, lenOut], [1, 1, 1]);
  }
  rec.dispatch(scaleKernel, [w, st.scal, wsn, rec.gpu.uniform([w.size])], grid1d(Math.ceil(w.size / EW)));
}

/**
 * Backward of {@linkcode spectralNormForward} with u, v constant: dW += (dW_sn - k u v^T) / sigma,
 * k = sum dW_sn * W_sn. Call after the forward of the same step (it uses that step's u, v, sigma).
 */
export function spectralNormBackward(
  rec: Recorder,
  dwsn: Tensor, // (Out, In...) gradient wrt W_sn
  wsn: Tensor, // (Out, In...) the forward's W_sn
  st: SpectralNormState,
  dw: Tensor, // (Out, In...) accumulated (+=)
  opts: { variant?: NormVariant } = {},
): void {
  const [, inn] = checkState("spectralNormBackward", dwsn, wsn, st);
  if (dw.size !== dwsn.size) throw new Error(`spectralNormBackward: dw ${dw.shape} must match ${dwsn.shape}`);
  rec.dispatch(gdotKernel(reduceWorkgroup(opts.variant, 256)), [
    dwsn,
    wsn,
    st.scal,
    rec.gpu.uniform([dw.size]),
  ], [1, 1, 1]);
  rec.dispatch(
    bwdKernel,
    [dwsn, st.u, st.v, st.scal, dw, rec.gpu.uniform([dw.size, inn])],
    grid1d(Math.ceil(dw.size / EW)),
  );
}

// ---------------------------------------------------------------- CPU reference

type Arr = ArrayLike<number>;

/** Result of {@linkcode spectralNormForwardRef}. */
export interface SpectralNormRefResult {
  /** W / sigma, (Out * In). */
  wsn: Float64Array;
  /** u after the step (Out). */
  u: Float64Array;
  /** v of the step (In). */
  v: Float64Array;
  /** sigma = u^T W v. */
  sigma: number;
}

function normalize(a: Float64Array): Float64Array {
  let s = 0;
  for (const x of a) s += x * x;
  const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
  return a.map((x) => x * inv);
}

/** CPU reference of {@linkcode spectralNormForward} for W (out, inn) row-major, from the vector u. */
export function spectralNormForwardRef(
  w: Arr,
  out: number,
  inn: number,
  u: Arr,
  opts: { update?: boolean } = {},
): SpectralNormRefResult {
  const wtu = new Float64Array(inn);
  for (let i = 0; i < out; i++) for (let j = 0; j < inn; j++) wtu[j] += w[i * inn + j] * u[i];
  const v = normalize(wtu);
  const wv = new Float64Array(out);
  for (let i = 0; i < out; i++) for (let j = 0; j < inn; j++) wv[i] += w[i * inn + j] * v[j];
  const uNew = opts.update ?? true ? normalize(wv) : Float64Array.from(u);
  let sigma = 0;
  for (let i = 0; i < out; i++) sigma += uNew[i] * wv[i];
  const wsn = Float64Array.from(w, (x) => x / sigma);
  return { wsn, u: uNew, v, sigma };
}

/** CPU reference of {@linkcode spectralNormBackward}: dW (not accumulated) for W_sn = W / (u^T W v), u, v fixed. */
export function spectralNormBackwardRef(
  dwsn: Arr, // (out * inn)
  w: Arr, // (out * inn)
  out: number,
  inn: number,
  u: Arr, // (out)
  v: Arr, // (inn)
): Float64Array {
  let sigma = 0;
  for (let i = 0; i < out; i++) for (let j = 0; j < inn; j++) sigma += u[i] * w[i * inn + j] * v[j];
  let k = 0;
  for (let t = 0; t < out * inn; t++) k += dwsn[t] * w[t] / sigma;
  const dw = new Float64Array(out * inn);
  for (let i = 0; i < out; i++) {
    for (let j = 0; j < inn; j++) dw[i * inn + j] = (dwsn[i * inn + j] - k * u[i] * v[j]) / sigma;
  }
  return dw;
}
