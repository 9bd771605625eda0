/**
 * 2-D convolution (cross-correlation, as in PyTorch/TensorFlow) on (N, C, H, W) images with square
 * kernels, any stride and zero padding: forward, input gradient (written, =), weight and bias gradients
 * (accumulated, +=), on the GPU and as CPU references.
 *
 * Two GPU variants: "naive" (one output per invocation; obviously correct, kept for debugging) and
 * "blocked" (register-blocked kernels tuned for llvmpipe, see the shaders' headers): forward and input
 * gradient run the implicit-GEMM kernel of _conv2d_gemm.ts (16 channels x 16 pixels an invocation, padded
 * image texture, weight texture), the weight gradient the transposed conv's weight-gradient kernel where
 * both sides have >= 16 channels (see `transposedWeightGrad`), else the split-K kernel of _conv2d_blocked.ts.
 * A 1x1 conv of 1x1 images (DenseNet-121's last block at 32 px) is a plain matrix product, and the gemm
 * kernel, which parallelises over pixels, would run it on a handful of invocations: its forward and input
 * gradient run as matmuls; so do 1x1 convs of images up to 8x8 (`pointwiseOptions`), as one product over
 * every (image, pixel) row that reads and writes NCHW directly. "auto" picks blocked.
 * @module
 */

import { channelSumAccumulate } from "./activation.ts";
import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import { assertDistinct, type Tensor } from "../gpu/tensor.ts";
import {
  blockedSupports,
  conv2dBackwardInputBlocked,
  conv2dBackwardWeightBlocked,
  conv2dForwardBlocked,
} from "./_conv2d_blocked.ts";
import { conv2dBackwardInputGemm, conv2dForwardGemm, gemmSupports } from "./_conv2d_gemm.ts";
import { conv2dBackwardInputTiled, conv2dBackwardWeightTiled, conv2dForwardTiled } from "./_conv2d_tiled.ts";
import { matmul, matmulBias, matmulPlanes, matmulPlanesFits, preferTiled } from "./matmul.ts";
import {
  convT2dBackwardWeight,
  convT2dBlockedFits,
  convT2dForward,
  type ConvT2dShape,
} from "./conv_transpose2d.ts";

/** Real GPUs want workgroup shared-memory tiling; llvmpipe and SwiftShader want register blocking. */
function useTiled(rec: Recorder, variant: ConvVariant): boolean {
  return variant === "tiled" || (variant === "auto" && preferTiled(rec.gpu));
}

/** Shape of a convolution: input (n, cin, h, w), weights (cout, cin, k, k), stride, zero padding. */
export interface Conv2dShape {
  /** Batch size. */
  n: number;
  /** Input channels. */
  cin: number;
  /** Input height. */
  h: number;
  /** Input width. */
  w: number;
  /** Output channels. */
  cout: number;
  /** Kernel size (square). */
  k: number;
  /** Stride (both directions). */
  stride: number;
  /** Zero padding on every side. */
  pad: number;
}

/**
 * Which GPU kernels to use: "naive" (debugging), "blocked" (fast), "auto" (= blocked). Shapes the blocked
 * kernels don't cover (stride > 2, kernel > 5, tensors beyond the texture limits) run the naive ones.
 */
export type ConvVariant = "naive" | "blocked" | "tiled" | "auto";

/** Output size [Ho, Wo] = floor((h + 2 pad - k) / stride) + 1. */
export function conv2dOutputSize(s: Conv2dShape): [number, number] {
  return [
    Math.floor((s.h + 2 * s.pad - s.k) / s.stride) + 1,
    Math.floor((s.w + 2 * s.pad - s.k) / s.stride) + 1,
  ];
}

/** Throws a clear error for an impossible shape or tensors that don't match it; returns [Ho, Wo]. */
export function checkConv2d(
  fn: string,
  s: Conv2dShape,
  tensors: Record<string, Tensor | null>,
): [number, number] {
  for (const key of ["n", "cin", "h", "w", "cout", "k", "stride"] as const) {
    if (!Number.isInteger(s[key]) || s[key] < 1) {
      throw new Error(`${fn}: shape.${key} must be a positive integer, got ${s[key]}`);
    }
  }
  if (!Number.isInteger(s.pad) || s.pad < 0) throw new Error(`${fn}: shape.pad must be >= 0, got ${s.pad}`);
  const [ho, wo] = conv2dOutputSize(s);
  if (ho < 1 || wo < 1) {
    throw new Error(`${fn}: kernel ${s.k} with pad ${s.pad} does not fit a ${s.h}x${s.w} image`);
  }
  const want: Record<string, number[]> = {
    x: [s.n, s.cin, s.h, s.w],
    dx: [s.n, s.cin, s.h, s.w],
    w: [s.cout, s.cin, s.k, s.k],
    dw: [s.cout, s.cin, s.k, s.k],
    b: [s.cout],
    db: [s.cout],
    y: [s.n, s.cout, ho, wo],
    dy: [s.n, s.cout, ho, wo],
  };
  for (const [name, t] of Object.entries(tensors)) {
    if (!t) continue;
    const shape = want[name];
    if (t.size !== shape.reduce((a, b) => a * b, 1)) {
      throw new Error(
        `${fn}: ${name} must have shape (${shape}) (${shape.join("*")} values), got (${t.shape})`,
      );
    }
  }
  return [ho, wo];
}

/** The uniform words every conv2d shader reads: Params { n, cin, h, w, cout, ho, wo, k, s, pad, total }. */
export function convParams(s: Conv2dShape, ho: number, wo: number, total: number): number[] {
  return [s.n, s.cin, s.h, s.w, s.cout, ho, wo, s.k, s.stride, s.pad, total];
}

const WG = 64;

const naiveFwd = (hasBias: boolean): Kernel => ({
  name: `conv2d_fwd_naive${hasBias ? "" : ".nobias"}`,
  code: WGSL.conv2d_fwd_naive,
  constants: { WG, HAS_BIAS: hasBias ? 1 : 0 },
  workgroupSize: [WG, 1, 1],
});
const naiveBwdInput: Kernel = {
  name: "conv2d_bwd_input_naive",
  code: WGSL.conv2d_bwd_input_naive,
  constants: { WG },
  workgroupSize: [WG, 1, 1],
};
const naiveBwdWeight: Kernel = {
  name: "conv2d_bwd_weight_naive",
  code: WGSL.conv2d_bwd_weight_naive,
  constants: { WG },
  workgroupSize: [WG, 1, 1],
};

/** A 1x1 conv (stride 1, no padding) of 1x1 images: a matrix product (N, Cin) x (Cin, Cout). */
function pointwiseOnPixels(s: Conv2dShape): boolean {
  return s.k === 1 && s.stride === 1 && s.pad === 0 && s.h === 1 && s.w === 1;
}

/**
 * Largest image (pixels) whose 1x1 convs (stride 1, no padding) run as one matrix product over all
 * (image, pixel) rows ({@linkcode matmulPlanes}) instead of the gemm conv kernel, which parallelises over
 * pixel quads and ran 2x2-8x8 images of a batch of 32 on a few workgroups (DenseNet-121's bottlenecks at
 * 32 px). 1 keeps them on the gemm kernel (A/B timing).
 */
export const pointwiseOptions = { maxPixels: 64 };

/**
 * Smallest dy (values) whose stride-2 input gradient runs as the transposed conv's forward
 * (see transposedInputGrad); Infinity keeps every one on conv2d_bwd_input_blocked (A/B timing).
 */
export const inputGradOptions = { transposedFrom: 65536 };

/** Pixels an image when this conv runs through {@linkcode matmulPlanes}, else 0. */
function pointwisePlanes(gpu: Gpu, s: Conv2dShape, n: number, k: number): number {
  const p = s.h * s.w;
  if (s.k !== 1 || s.stride !== 1 || s.pad !== 0 || p < 2 || p > pointwiseOptions.maxPixels) return 0;
  return matmulPlanesFits(gpu, s.n * p, n, k) ? p : 0;
}

/**
 * Whether {@linkcode conv2dForward} can apply a leaky ReLU in its output pass (`leaky: true`): on the gemm
 * kernel, which CPU adapters run for convs other than 1x1 convs of small images. Elsewhere the caller applies
 * it in a pass of its own (biasActForward).
 */
export function conv2dFusesLeaky(gpu: Gpu, s: Conv2dShape, variant: ConvVariant = "auto"): boolean {
  if (variant === "naive" || variant === "tiled" || (variant === "auto" && preferTiled(gpu))) return false;
  // the forward's own routing: 1x1 convs of small images run as matmuls
  if (pointwiseOnPixels(s) || pointwisePlanes(gpu, s, s.cout, s.cin)) return false;
  const [ho, wo] = conv2dOutputSize(s);
  return gemmSupports(gpu, s, ho, wo);
}

/**
 * y = conv2d(x, w) + b, with `leaky` then a leaky ReLU (only where {@linkcode conv2dFusesLeaky}; throws
 * elsewhere). x (N, Cin, H, W), w (Cout, Cin, K, K), b (Cout) or null, y (N, Cout, Ho, Wo).
 */
export function conv2dForward(
  rec: Recorder,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  y: Tensor,
  s: Conv2dShape,
  variant: ConvVariant = "auto",
  leaky = false,
): void {
  const [ho, wo] = checkConv2d("conv2dForward", s, { x, w, b, y });
  assertDistinct("conv2dForward", [y], [x, w, b]);
  if (leaky) {
    if (!conv2dFusesLeaky(rec.gpu, s, variant)) {
      throw new Error("conv2dForward: this conv's kernel cannot apply the leaky ReLU (see conv2dFusesLeaky)");
    }
    return conv2dForwardGemm(rec, x, w, b, y, s, ho, wo, true);
  }
  if (useTiled(rec, variant) && conv2dForwardTiled(rec, x, w, b, y, s)) return;
  if (variant !== "naive" && pointwiseOnPixels(s)) {
    // y (N, Cout) = x (N, Cin) w^T (w stored (Cout, Cin))
    return matmulBias(rec, x, w, b, y, { m: s.n, n: s.cout, k: s.cin, transB: true }, variant);
  }
  const planes = variant === "naive" ? 0 : pointwisePlanes(rec.gpu, s, s.cout, s.cin);
  if (planes) {
    // y (N, Cout, P) = rows (n, p) of x times w^T
    return matmulPlanes(rec, x, w, b, y, { m: s.n * planes, n: s.cout, k: s.cin, transB: true }, planes);
  }
  if (variant !== "naive" && gemmSupports(rec.gpu, s, ho, wo)) {
    return conv2dForwardGemm(rec, x, w, b, y, s, ho, wo);
  }
  if (variant !== "naive" && blockedSupports(rec.gpu, s)) {
    return conv2dForwardBlocked(rec, x, w, b, y, s, ho, wo);
  }
  const total = s.n * s.cout * ho * wo;
  rec.dispatch(
    naiveFwd(b !== null),
    [x, w, b ?? w, y, rec.gpu.uniform(convParams(s, ho, wo, total))],
    grid1d(Math.ceil(total / WG)),
  );
}

/** dx = gradient of {@linkcode conv2dForward} with respect to x (written, =). dy (N, Cout, Ho, Wo). */
export function conv2dBackwardInput(
  rec: Recorder,
  dy: Tensor,
  w: Tensor,
  dx: Tensor,
  s: Conv2dShape,
  variant: ConvVariant = "auto",
): void {
  const [ho, wo] = checkConv2d("conv2dBackwardInput", s, { dy, w, dx });
  assertDistinct("conv2dBackwardInput", [dx], [dy, w]);
  if (useTiled(rec, variant) && conv2dBackwardInputTiled(rec, dy, w, dx, s)) return;
  if (variant !== "naive" && pointwiseOnPixels(s)) {
    return matmul(rec, dy, w, dx, { m: s.n, n: s.cin, k: s.cout }, variant); // dx (N, Cin) = dy w
  }
  const planes = variant === "naive" ? 0 : pointwisePlanes(rec.gpu, s, s.cin, s.cout);
  if (planes) {
    // dx (N, Cin, P) = rows (n, p) of dy times w
    return matmulPlanes(rec, dy, w, null, dx, { m: s.n * planes, n: s.cin, k: s.cout }, planes);
  }
  // at stride 2 the input gradient is the transposed conv of dy with the same weights, whose blocked kernel
  // skips the taps the stride zeroes; on larger tensors it beat conv2d_bwd_input_blocked
  const t = variant === "naive" ? null : transposedInputGrad(rec, s, ho, wo);
  if (t) return convT2dForward(rec, dy, w, null, dx, t, "blocked");
  // at stride 2 the gemm kernel multiplies the zero-dilated dy (3/4 zeros): the blocked one is ~1.8x faster
  const blocked = blockedSupports(rec.gpu, s);
  if (variant !== "naive" && gemmSupports(rec.gpu, s, ho, wo) && (s.stride === 1 || !blocked)) {
    return conv2dBackwardInputGemm(rec, dy, w, dx, s, ho, wo);
  }
  if (variant !== "naive" && blocked) {
    return conv2dBackwardInputBlocked(rec, dy, w, dx, s, ho, wo);
  }
  const total = s.n * s.cin * s.h * s.w;
  rec.dispatch(
    naiveBwdInput,
    [dy, w, dx, rec.gpu.uniform(convParams(s, ho, wo, total))],
    grid1d(Math.ceil(total / WG)),
  );
}

/**
 * dw += gradient of {@linkcode conv2dForward} with respect to w, and db += its gradient with respect
 * to b (when `db` is given). x (N, Cin, H, W), dy (N, Cout, Ho, Wo).
 */
export function conv2dBackwardWeight(
  rec: Recorder,
  x: Tensor,
  dy: Tensor,
  dw: Tensor,
  db: Tensor | null,
  s: Conv2dShape,
  variant: ConvVariant = "auto",
): void {
  const [ho, wo] = checkConv2d("conv2dBackwardWeight", s, { x, dy, dw, db });
  assertDistinct("conv2dBackwardWeight", db ? [dw, db] : [dw], [x, dy]);
  if (useTiled(rec, variant) && conv2dBackwardWeightTiled(rec, x, dy, dw, db, s)) return;
  const t = variant === "naive" ? null : transposedWeightGrad(rec, s, ho, wo);
  if (t) {
    convT2dBackwardWeight(rec, dy, x, dw, null, t, "blocked");
  } else if (variant !== "naive" && blockedSupports(rec.gpu, s)) {
    conv2dBackwardWeightBlocked(rec, x, dy, dw, s, ho, wo);
  } else {
    const total = s.cout * s.cin * s.k * s.k;
    rec.dispatch(
      naiveBwdWeight,
      [x, dy, dw, rec.gpu.uniform(convParams(s, ho, wo, total))],
      grid1d(Math.ceil(total / WG)),
    );
  }
  if (db) channelSumAccumulate(rec, dy, db, s.n, s.cout, ho * wo);
}

/**
 * The transposed conv whose weight gradient is this conv's dw, where the blocked path should run it.
 * dw[co, ci, kh, kw] = sum dy[n, co, oy, ox] x[n, ci, oy S + kh - P, ox S + kw - P] is the weight gradient
 * of the transposed conv from dy (Cout channels, Ho x Wo) onto x (Cin channels, H x W), x in the role of
 * its output gradient. Its kernel (16 x 16 channel tiles, 8 texel fetches per 256 FMAs) ran 1.1-2x faster
 * than conv2d_bwd_weight_blocked (8 channels x K taps, load-bound) on the benchmark's layers with at least
 * 16 channels on both sides, and slower on thinner ones. It needs the transposed conv's output to be
 * exactly H x W: (H + 2P - K) divisible by S.
 */
function transposedWeightGrad(rec: Recorder, s: Conv2dShape, ho: number, wo: number): ConvT2dShape | null {
  if (Math.min(s.cin, s.cout) < 16) return null;
  if ((ho - 1) * s.stride - 2 * s.pad + s.k !== s.h || (wo - 1) * s.stride - 2 * s.pad + s.k !== s.w) {
    return null;
  }
  const t = { n: s.n, cin: s.cout, h: ho, w: wo, cout: s.cin, k: s.k, stride: s.stride, pad: s.pad };
  return convT2dBlockedFits(rec, t, s.h, s.w) ? t : null;
}

/**
 * The stride-2 input gradient as a transposed conv (dy (N, Cout, Ho, Wo) with w (Cout, Cin, K, K), which is
 * the transposed conv's (in, out, K, K) layout), when its output is exactly (H, W), its blocked kernel fits,
 * and dy holds at least 65,536 values: llvmpipe, D's 4x4 stride-2 convs, ms a call (conv2d_bwd_input_blocked
 * -> conv_t2d_fwd_blocked): (16, 16, 16, 16) -> (16, 8, 32, 32) 4.3 -> 2.6, (32, 32, 32, 32) -> 64 px 44 ->
 * 18, (32, 128, 8, 8) 22.5 -> 11.7; smaller dy were 15-60 % slower ((16, 64, 4, 4) 1.35 -> 2.2).
 */
function transposedInputGrad(rec: Recorder, s: Conv2dShape, ho: number, wo: number): ConvT2dShape | null {
  if (s.stride !== 2 || s.n * s.cout * ho * wo < inputGradOptions.transposedFrom) return null;
  if ((ho - 1) * s.stride - 2 * s.pad + s.k !== s.h || (wo - 1) * s.stride - 2 * s.pad + s.k !== s.w) {
    return null;
  }
  const t = { n: s.n, cin: s.cout, h: ho, w: wo, cout: s.cin, k: s.k, stride: s.stride, pad: s.pad };
  return convT2dBlockedFits(rec, t, s.h, s.w) ? t : null;
}

// ---------------------------------------------------------------- CPU reference

type Arr = Float32Array | Float64Array;

/** CPU reference of {@linkcode conv2dForward} (float64). */
export function conv2dForwardRef(x: Arr, w: Arr, b: Arr | null, s: Conv2dShape): Float64Array {
  const [ho, wo] = conv2dOutputSize(s);
  const { n, cin, h, w: wd, cout, k, stride, pad } = s;
  const y = new Float64Array(n * cout * ho * wo);
  for (let ni = 0; ni < n; ni++) {
    for (let co = 0; co < cout; co++) {
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < wo; ox++) {
          let acc = b ? b[co] : 0;
          for (let ci = 0; ci < cin; ci++) {
            for (let kh = 0; kh < k; kh++) {
              const iy = oy * stride + kh - pad;
              if (iy < 0 || iy >= h) continue;
              for (let kw = 0; kw < k; kw++) {
                const ix = ox * stride + kw - pad;
                if (ix < 0 || ix >= wd) continue;
                acc += x[((ni * cin + ci) * h + iy) * wd + ix] * w[((co * cin + ci) * k + kh) * k + kw];
              }
            }
          }
          y[((ni * cout + co) * ho + oy) * wo + ox] = acc;
        }
      }
    }
  }
  return y;
}

/** CPU reference of the backward pass: dx, dw and db for upstream gradient dy (not accumulated). */
export function conv2dBackwardRef(
  x: Arr,
  w: Arr,
  dy: Arr,
  s: Conv2dShape,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const [ho, wo] = conv2dOutputSize(s);
  const { n, cin, h, w: wd, cout, k, stride, pad } = s;
  const dx = new Float64Array(n * cin * h * wd);
  const dw = new Float64Array(cout * cin * k * k);
  const db = new Float64Array(cout);
  for (let ni = 0; ni < n; ni++) {
    for (let co = 0; co < cout; co++) {
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < wo; ox++) {
          const g = dy[((ni * cout + co) * ho + oy) * wo + ox];
          db[co] += g;
          for (let ci = 0; ci < cin; ci++) {
            for (let kh = 0; kh < k; kh++) {
              const iy = oy * stride + kh - pad;
              if (iy < 0 || iy >= h) continue;
              for (let kw = 0; kw < k; kw++) {
                const ix = ox * stride + kw - pad;
                if (ix < 0 || ix >= wd) continue;
                const xi = ((ni * cin + ci) * h + iy) * wd + ix;
                const wi = ((co * cin + ci) * k + kh) * k + kw;
                dx[xi] += g * w[wi];
                dw[wi] += g * x[xi];
              }
            }
          }
        }
      }
    }
  }
  return { dx, dw, db };
}
