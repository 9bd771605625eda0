/**
 * Shared-memory tiled (implicit GEMM) kernels of conv2d, for real GPUs (variant "tiled"). They reuse the
 * transposed convolution's tiled kernels (_conv_tiled.ts), as the two operations are each other's
 * adjoints: with the transposed shape T = (N, Cin' = Cout, H' = Ho, W' = Wo, Cout' = Cin, same K, stride,
 * pad, Ho' = H, Wo' = W) and the conv weight (Cout, Cin, K, K) read as T's (Cin', Cout', K, K),
 * - conv2d forward y = x * w is T's input gradient of dy' = x (plus bias),
 * - conv2d input gradient dx is T's forward of x' = dy,
 * - conv2d weight gradient dw is T's weight gradient with x' = dy and dy' = x.
 * Each function returns false (recording nothing) when its grid exceeds the 65535 workgroups a side every
 * device allows, so the caller can fall back to another variant.
 * @module
 */

import { channelSumAccumulate } from "./activation.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { assertDistinct, type Tensor } from "../gpu/tensor.ts";
import { checkConv2d, type Conv2dShape } from "./conv2d.ts";
import {
  convTBackwardInputTiled,
  convTBackwardWeightTiled,
  convTForwardTiled,
  type TiledConvTShape,
} from "./_conv_tiled.ts";

function transposed(s: Conv2dShape, ho: number, wo: number): TiledConvTShape {
  return {
    n: s.n,
    cin: s.cout,
    h: ho,
    w: wo,
    cout: s.cin,
    k: s.k,
    stride: s.stride,
    pad: s.pad,
    ho: s.h,
    wo: s.w,
  };
}

/**
 * y = conv2d(x, w) + b (`b` null: no bias), written, with the tiled kernel. x (N, Cin, H, W),
 * w (Cout, Cin, K, K), y (N, Cout, Ho, Wo). Returns false when the grid is too large for the device.
 */
export function conv2dForwardTiled(
  rec: Recorder,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  y: Tensor,
  s: Conv2dShape,
): boolean {
  const [ho, wo] = checkConv2d("conv2dForwardTiled", s, { x, w, b, y });
  assertDistinct("conv2dForwardTiled", [y], b ? [x, w, b] : [x, w]);
  return convTBackwardInputTiled(rec, x, w, b, y, transposed(s, ho, wo));
}

/**
 * dx = gradient of conv2d wrt its input (written), with the tiled kernel. dy (N, Cout, Ho, Wo),
 * w (Cout, Cin, K, K), dx (N, Cin, H, W). Returns false when the grid is too large for the device.
 */
export function conv2dBackwardInputTiled(
  rec: Recorder,
  dy: Tensor,
  w: Tensor,
  dx: Tensor,
  s: Conv2dShape,
): boolean {
  const [ho, wo] = checkConv2d("conv2dBackwardInputTiled", s, { dy, w, dx });
  assertDistinct("conv2dBackwardInputTiled", [dx], [dy, w]);
  return convTForwardTiled(rec, dy, w, null, dx, transposed(s, ho, wo));
}

/**
 * dw += gradient of conv2d wrt w and db += its gradient wrt b (`db` null: none), with the tiled kernel
 * (split over the pixels when the weight gives too few workgroups). x (N, Cin, H, W), dy (N, Cout, Ho, Wo).
 * Returns false (recording nothing) when the grid is too large for the device.
 */
export function conv2dBackwardWeightTiled(
  rec: Recorder,
  x: Tensor,
  dy: Tensor,
  dw: Tensor,
  db: Tensor | null,
  s: Conv2dShape,
): boolean {
  const [ho, wo] = checkConv2d("conv2dBackwardWeightTiled", s, { x, dy, dw, db });
  assertDistinct("conv2dBackwardWeightTiled", db ? [dw, db] : [dw], [x, dy]);
  if (!convTBackwardWeightTiled(rec, dy, x, dw, transposed(s, ho, wo))) return false;
  if (db) channelSumAccumulate(rec, dy, db, s.n, s.cout, ho * wo);
  return true;
}
