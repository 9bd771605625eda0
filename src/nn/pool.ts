/**
 * Resolution changes for (N, C, H, W) images: 2x2 average pooling (downsampling, stride 2; an odd last
 * row/column is dropped, as in `valid` pooling) and 2x nearest-neighbour upsampling, forward and backward,
 * on the GPU and as CPU references. Input gradients are written (=).
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";

const WG = 256;

function kernel(name: "avgpool2_fwd" | "avgpool2_bwd" | "upsample2_fwd" | "upsample2_bwd"): Kernel {
  return { name, code: WGSL[name], constants: { WG }, workgroupSize: [WG, 1, 1] };
}
const KERNELS = {
  avgpool2_fwd: kernel("avgpool2_fwd"),
  avgpool2_bwd: kernel("avgpool2_bwd"),
  upsample2_fwd: kernel("upsample2_fwd"),
  upsample2_bwd: kernel("upsample2_bwd"),
};

/** Throws unless `t` is 4-D; returns its (N, C, H, W). */
function nchw(fn: string, name: string, t: Tensor): [number, number, number, number] {
  if (t.shape.length !== 4) throw new Error(`${fn}: ${name} must be (N, C, H, W), got (${t.shape})`);
  return t.shape as [number, number, number, number];
}

/** Throws unless `t` has exactly `shape`. */
function expectShape(fn: string, name: string, t: Tensor, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
    throw new Error(`${fn}: ${name} must be (${shape}), got (${t.shape})`);
  }
}

/** Records one 1-D dispatch over `total` values (default: `dst`'s); (h, w) are the full-resolution and (ho, wo) the half sizes. */
function dispatch(
  rec: Recorder,
  k: Kernel,
  src: Tensor,
  dst: Tensor,
  h: number,
  w: number,
  ho: number,
  wo: number,
  total = dst.size, // invocations: one per output, or per input (upsample2_fwd)
) {
  if (src.buffer === dst.buffer) throw new Error(`${k.name}: output must not share a buffer with the input`);
  rec.dispatch(k, [src, dst, rec.gpu.uniform([total, h, w, ho, wo])], grid1d(Math.ceil(total / WG)));
}

/** y = 2x2 average pooling of x: y (N, C, floor(H/2), floor(W/2)). */
export function avgPool2Forward(rec: Recorder, x: Tensor, /* (N, C, H, W) */ y: Tensor): void {
  const [n, c, h, w] = nchw("avgPool2Forward", "x", x);
  const ho = Math.floor(h / 2), wo = Math.floor(w / 2);
  expectShape("avgPool2Forward", "y", y, [n, c, ho, wo]);
  dispatch(rec, KERNELS.avgpool2_fwd, x, y, h, w, ho, wo);
}

/** dx (N, C, H, W) = gradient of {@linkcode avgPool2Forward} for dy (N, C, floor(H/2), floor(W/2)) (written). */
export function avgPool2Backward(rec: Recorder, dy: Tensor, dx: Tensor /* (N, C, H, W) */): void {
  const [n, c, h, w] = nchw("avgPool2Backward", "dx", dx);
  const ho = Math.floor(h / 2), wo = Math.floor(w / 2);
  expectShape("avgPool2Backward", "dy", dy, [n, c, ho, wo]);
  dispatch(rec, KERNELS.avgpool2_bwd, dy, dx, h, w, ho, wo);
}

/** y (N, C, 2H, 2W) = 2x nearest-neighbour upsampling of x (N, C, H, W). */
export function upsample2Forward(rec: Recorder, x: Tensor, y: Tensor): void {
  const [n, c, h, w] = nchw("upsample2Forward", "x", x);
  expectShape("upsample2Forward", "y", y, [n, c, 2 * h, 2 * w]);
  dispatch(rec, KERNELS.upsample2_fwd, x, y, h, w, 2 * h, 2 * w, x.size);
}

/** dx (N, C, H, W) = gradient of {@linkcode upsample2Forward} for dy (N, C, 2H, 2W) (written). */
export function upsample2Backward(rec: Recorder, dy: Tensor, dx: Tensor): void {
  const [n, c, h, w] = nchw("upsample2Backward", "dx", dx);
  expectShape("upsample2Backward", "dy", dy, [n, c, 2 * h, 2 * w]);
  dispatch(rec, KERNELS.upsample2_bwd, dy, dx, h, w, 2 * h, 2 * w);
}

// ---------------------------------------------------------------- CPU reference

type Arr = Float32Array | Float64Array;

/** CPU reference of {@linkcode avgPool2Forward}; `shape` is x's (N, C, H, W). */
export function avgPool2Ref(x: Arr, shape: readonly number[]): Float64Array {
  const [n, c, h, w] = shape;
  const ho = Math.floor(h / 2), wo = Math.floor(w / 2);
  const y = new Float64Array(n * c * ho * wo);
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const b = (p * h + 2 * i) * w + 2 * j;
        y[(p * ho + i) * wo + j] = 0.25 * (x[b] + x[b + 1] + x[b + w] + x[b + w + 1]);
      }
    }
  }
  return y;
}

/** CPU reference of {@linkcode avgPool2Backward}; `shape` is dx's (N, C, H, W). */
export function avgPool2BackwardRef(dy: Arr, shape: readonly number[]): Float64Array {
  const [n, c, h, w] = shape;
  const ho = Math.floor(h / 2), wo = Math.floor(w / 2);
  const dx = new Float64Array(n * c * h * w);
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < 2 * ho; i++) {
      for (let j = 0; j < 2 * wo; j++) {
        dx[(p * h + i) * w + j] = 0.25 * dy[(p * ho + (i >> 1)) * wo + (j >> 1)];
      }
    }
  }
  return dx;
}

/** CPU reference of {@linkcode upsample2Forward}; `shape` is x's (N, C, H, W). */
export function upsample2Ref(x: Arr, shape: readonly number[]): Float64Array {
  const [n, c, h, w] = shape;
  const y = new Float64Array(n * c * 4 * h * w);
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < 2 * h; i++) {
      for (let j = 0; j < 2 * w; j++) y[(p * 2 * h + i) * 2 * w + j] = x[(p * h + (i >> 1)) * w + (j >> 1)];
    }
  }
  return y;
}

/** CPU reference of {@linkcode upsample2Backward}; `shape` is dx's (N, C, H, W). */
export function upsample2BackwardRef(dy: Arr, shape: readonly number[]): Float64Array {
  const [n, c, h, w] = shape;
  const dx = new Float64Array(n * c * h * w);
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < 2 * h; i++) {
      for (let j = 0; j < 2 * w; j++) {
        dx[(p * h + (i >> 1)) * w + (j >> 1)] += dy[(p * 2 * h + i) * 2 * w + j];
      }
    }
  }
  return dx;
}
