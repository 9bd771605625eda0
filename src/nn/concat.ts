/**
 * Concatenation along axis 1: channels of two (N, C, H, W) tensors, or features of two (N, F) tensors
 * (any trailing dimensions, which must match). The backward splits the gradient. GPU and CPU reference.
 *
 * The concat-free form: {@linkcode writeChannels} / {@linkcode readChannels} copy a tensor into / out of a
 * channel range of a wider one, so a dense block can keep all its features in one buffer and copy only each
 * layer's new channels (a concat copies all of them again at every layer).
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { ncs } from "./activation.ts";

const WG = 256;
const fwdKernel: Kernel = {
  name: "concat_fwd",
  code: WGSL.concat_fwd,
  constants: { WG },
  workgroupSize: [WG, 1, 1],
};
const bwdKernel: Kernel = {
  name: "concat_bwd",
  code: WGSL.concat_bwd,
  constants: { WG },
  workgroupSize: [WG, 1, 1],
};

function sliceKernel(toSlice: boolean, vec4: boolean): Kernel {
  const name = vec4 ? "channel_slice_vec4" : "channel_slice";
  return {
    name: `${name}${toSlice ? "" : ".read"}`,
    code: WGSL[name],
    constants: { WG, TO_SLICE: toSlice ? 1 : 0 },
    workgroupSize: [WG, 1, 1],
  };
}

/** Shape of concat(a, b) along axis 1; throws when the other dimensions differ. */
export function concatShape(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length || a.length < 2 || a.some((d, i) => i !== 1 && d !== b[i])) {
    throw new Error(`concat: shapes ${a} and ${b} must agree on every axis but axis 1`);
  }
  return [a[0], a[1] + b[1], ...a.slice(2)];
}

function blocks(fn: string, a: Tensor, b: Tensor, y: Tensor): [number, number, number] {
  const shape = concatShape(a.shape, b.shape);
  const [n, ca, s] = ncs(a.shape);
  const size = shape.reduce((p, d) => p * d, 1);
  if (y.size !== size) throw new Error(`${fn}: output has shape ${y.shape}, needs (${shape})`);
  return [n * (ca + b.shape[1]) * s, ca * s, b.shape[1] * s];
}

/** y = concat(a, b) along axis 1. */
export function concatForward(
  rec: Recorder,
  a: Tensor, // (N, CA, H, W) or (N, FA)
  b: Tensor, // (N, CB, H, W) or (N, FB)
  y: Tensor, // (N, CA+CB, H, W) or (N, FA+FB)
): void {
  const [total, ca, cb] = blocks("concatForward", a, b, y);
  rec.dispatch(fwdKernel, [a, b, y, rec.gpu.uniform([total, ca, cb])], grid1d(Math.ceil(total / WG)));
}

/** Backward of {@linkcode concatForward}: da = dy[:, :CA], db = dy[:, CA:], both written (=). */
export function concatBackward(
  rec: Recorder,
  dy: Tensor, // (N, CA+CB, ...)
  da: Tensor, // (N, CA, ...)
  db: Tensor, // (N, CB, ...)
): void {
  const [total, ca, cb] = blocks("concatBackward", da, db, dy);
  rec.dispatch(bwdKernel, [dy, da, db, rec.gpu.uniform([total, ca, cb])], grid1d(Math.ceil(total / WG)));
}

/**
 * Records a channel-slice copy (TO_SLICE: a into b's channels [c0, c0 + C), else out of them); throws unless
 * a fits there.
 */
function slice(rec: Recorder, fn: string, a: Tensor, b: Tensor, c0: number, toSlice: boolean): void {
  const [n, c, s] = ncs(a.shape), [bn, bc, bs] = ncs(b.shape);
  if (bn !== n || bs !== s || !Number.isInteger(c0) || c0 < 0 || c0 + c > bc) {
    throw new Error(`${fn}: (${a.shape}) does not fit channels ${c0}..${c0 + c} of (${b.shape})`);
  }
  if (a.buffer === b.buffer) throw new Error(`${fn}: the two tensors must be different buffers`);
  const q = s % 4 === 0 ? 4 : 1; // values a lane
  const cs = (c * s) / q;
  rec.dispatch(
    sliceKernel(toSlice, q === 4),
    toSlice
      ? [a, b, rec.gpu.uniform([cs, (bc * s) / q, (c0 * s) / q])]
      : [b, a, rec.gpu.uniform([cs, (bc * s) / q, (c0 * s) / q])],
    [Math.ceil(cs / WG), n, 1],
  );
}

/** b[:, c0 : c0 + C] = a: a (N, C, ...) into channels [c0, c0 + C) of b (N, C', ...). */
export function writeChannels(rec: Recorder, a: Tensor, b: Tensor, c0: number): void {
  slice(rec, "writeChannels", a, b, c0, true);
}

/** a = b[:, c0 : c0 + C]: channels [c0, c0 + C) of b (N, C', ...) into a (N, C, ...). */
export function readChannels(rec: Recorder, b: Tensor, c0: number, a: Tensor): void {
  slice(rec, "readChannels", a, b, c0, false);
}

// ---------------------------------------------------------------- CPU reference

type Arr = ArrayLike<number>;

/** CPU reference of {@linkcode concatForward}. */
export function concatForwardRef(
  a: Arr,
  b: Arr,
  shapeA: readonly number[],
  shapeB: readonly number[],
): Float64Array {
  concatShape(shapeA, shapeB);
  const n = shapeA[0], pa = a.length / n, pb = b.length / n;
  const y = new Float64Array(a.length + b.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < pa; j++) y[i * (pa + pb) + j] = a[i * pa + j];
    for (let j = 0; j < pb; j++) y[i * (pa + pb) + pa + j] = b[i * pb + j];
  }
  return y;
}

/** CPU reference of {@linkcode concatBackward}. */
export function concatBackwardRef(
  dy: Arr,
  shapeA: readonly number[],
  shapeB: readonly number[],
): { da: Float64Array; db: Float64Array } {
  concatShape(shapeA, shapeB);
  const n = shapeA[0];
  const pa = shapeA.slice(1).reduce((p, d) => p * d, 1), pb = shapeB.slice(1).reduce((p, d) => p * d, 1);
  const da = new Float64Array(n * pa), db = new Float64Array(n * pb);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < pa; j++) da[i * pa + j] = dy[i * (pa + pb) + j];
    for (let j = 0; j < pb; j++) db[i * pb + j] = dy[i * (pa + pb) + pa + j];
  }
  return { da, db };
}

/** CPU reference of {@linkcode readChannels}: channels [c0, c0 + c) of b (N, C', S) as (N, c, S). */
export function readChannelsRef(b: Arr, shapeB: readonly number[], c0: number, c: number): Float64Array {
  const [n, bc, s] = ncs(shapeB);
  const a = new Float64Array(n * c * s);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c * s; j++) a[(i * c) * s + j] = b[(i * bc + c0) * s + j];
  }
  return a;
}
