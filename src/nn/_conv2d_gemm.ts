/**
 * The implicit-GEMM conv2d kernel (variant "blocked"), tuned for llvmpipe: see the header of
 * shaders/conv2d_fwd_gemm.wgsl. Called by conv2d.ts after it has checked the shapes.
 *
 * On llvmpipe a storage-buffer load is a per-lane scalar loop while `textureLoad` is one vector gather,
 * so the kernel reads its operands from rgba32float textures (bound as read-only storage textures):
 * images are copied with their zero padding (and, for the input gradient, zero dilation) built in
 * (conv2d_pack_x.wgsl), weights are packed 4 output channels a texel (conv2d_pack_w.wgsl). The input
 * gradient is the forward kernel run on the dilated, padded dy with flipped weights, so one tuned kernel
 * serves both.
 * @module
 */

import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { ceilDiv, grid1d, MAX_GROUPS_PER_DIM } from "../gpu/kernel.ts";
import { scratchTexture } from "../gpu/scratch.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { convKernel, packWeights } from "./_conv2d_blocked.ts";
import { LEAKY_SLOPE } from "./activation.ts";
import type { Conv2dShape } from "./conv2d.ts";

const WG = 64;
/** Logical rows of a packed image texture before they fold into the next column block (a power of 2). */
const FOLD = 8192;

const side = (gpu: Gpu) => Number(gpu.device.limits.maxTextureDimension2D);

/** Texels a padded row needs for `wq` quads of output pixels at stride `stride` (segments of 2 or 3 texels). */
const paddedTexels = (wq: number, stride: number) => stride * (wq - 1) + (stride === 1 ? 2 : 3);

/** Images of `planesPer` planes of `hp` rows that fit one packed texture of `wp4` texels a row. */
function imagesPerTexture(gpu: Gpu, planesPer: number, hp: number, wp4: number): number {
  return Math.floor((FOLD * Math.floor(side(gpu) / wp4)) / (planesPer * hp));
}

/**
 * The pack kernel's workgroup shape. `fitted` (the default) sizes it to the padded plane (below); false
 * keeps the former 8 x 8 group a plane, for interleaved A/B timing and tests of both forms.
 */
export const packOptions = { fitted: true };

/**
 * Workgroup (texel columns, rows, planes) of the pack kernel for planes of hp rows x wp4 texels: at most 64
 * invocations, as many whole planes as fit. At 1x1-4x4 images a plane is 2 texels x 1-8 rows, and one
 * 8 x 8 group a plane left 50-97 % of its lanes idle (at 1x1: 19 of a 24 ms conv in DenseNet-121's last
 * block at 32 px).
 */
export function packWorkgroup(hp: number, wp4: number): [number, number, number] {
  if (!packOptions.fitted) return [8, 8, 1];
  const tx = Math.min(8, wp4);
  const ty = Math.min(Math.floor(64 / tx), hp);
  return [tx, ty, Math.floor(64 / (tx * ty))];
}

/**
 * Packs `planes` planes (hs x ws, from element `base` of `t`) into a padded texture (conv2d_pack_x.wgsl):
 * hp rows x wp4 texels a plane, value (yy, xx) = plane[(yy - pad) / d, (xx - pad) / d] or 0.
 */
function packImage(
  rec: Recorder,
  t: Tensor,
  slot: string,
  planes: number,
  hs: number,
  ws: number,
  hp: number,
  wp4: number,
  pad: number,
  d: number,
  base: number,
): GPUTextureView {
  const rows = planes * hp;
  const { view } = scratchTexture(
    rec.gpu,
    `gemm.${slot}`,
    "rgba32float",
    wp4 * ceilDiv(rows, FOLD),
    Math.min(rows, FOLD),
  );
  const [tx, ty, tz] = packWorkgroup(hp, wp4);
  const kern = convKernel("conv2d_pack_x", { D: d, TX: tx, TY: ty, TZ: tz }, [tx, ty, tz]);
  const step = MAX_GROUPS_PER_DIM * tz;
  for (let p0 = 0; p0 < planes; p0 += step) {
    const p1 = Math.min(planes, p0 + step);
    rec.dispatch(
      kern,
      [t, view, rec.gpu.uniform([hs, ws, hp, wp4, pad, base, p0, p1])],
      [ceilDiv(wp4, tx), ceilDiv(hp, ty), ceilDiv(p1 - p0, tz)],
    );
  }
  return view;
}

/**
 * Output channels an invocation of conv2d_fwd_gemm computes: 16, or 4 / 8 when the conv has no more (one
 * block; the weights stay packed in blocks of 16, of which it reads the first 1-2 texels).
 */
export function gemmChannels(cout: number): number {
  if (!gemmOptions.narrow) return 16;
  return cout <= 4 ? 4 : cout <= 8 ? 8 : 16;
}

/** `narrow: false` computes 16 channels an invocation whatever the conv's width (A/B timing). */
export const gemmOptions = { narrow: true };

/** Whether the gemm kernels handle this shape (stride 1-2, kernel up to 5, packed textures fit the device). */
export function gemmSupports(gpu: Gpu, s: Conv2dShape, ho: number, wo: number): boolean {
  if (s.stride > 2 || s.k > 5) return false;
  const kk = s.k * s.k, max = side(gpu);
  if (s.cin * kk > max || s.cout * kk > max) return false;
  // forward (and weight gradient): x padded; input gradient: dy dilated and padded, run at stride 1
  const fwdW = paddedTexels(ceilDiv(wo, 4), s.stride);
  const bwdW = paddedTexels(ceilDiv(s.w, 4), 1);
  const dyW = ceilDiv(wo, 4);
  return fwdW <= max && bwdW <= max &&
    imagesPerTexture(gpu, s.cin, (ho - 1) * s.stride + s.k, fwdW) >= 1 &&
    imagesPerTexture(gpu, s.cout, s.h - 1 + s.k, bwdW) >= 1 &&
    imagesPerTexture(gpu, s.cout, ho, dyW) >= 1;
}

/**
 * The shared forward kernel: y (N, cout, ho, wo) = conv of the image planes `src` (N, cin, hs, ws) at
 * `stride` with the packed weights `wt`, the image padded by `pad` and dilated by `d` while packing.
 */
function gemm(
  rec: Recorder,
  src: Tensor,
  wt: GPUTextureView,
  b: Tensor | null,
  y: Tensor,
  n: number,
  cin: number,
  hs: number,
  ws: number,
  cout: number,
  ho: number,
  wo: number,
  k: number,
  stride: number,
  pad: number,
  d: number,
  leaky = false,
): void {
  const hp = (ho - 1) * stride + k;
  const wq = ceilDiv(wo, 4);
  const ch = gemmChannels(cout);
  const wp4 = paddedTexels(wq, stride);
  const chunk = Math.min(n, imagesPerTexture(rec.gpu, cin, hp, wp4));
  const plane = hs * ws;
  for (let n0 = 0; n0 < n; n0 += chunk) {
    const nb = Math.min(chunk, n - n0);
    const xt = packImage(rec, src, "x", nb * cin, hs, ws, hp, wp4, pad, d, n0 * cin * plane);
    const total = nb * ho * wq;
    const [gx, gy] = grid1d(ceilDiv(total, 4 * WG));
    const consts = { WG, K: k, S: stride, HAS_BIAS: b ? 1 : 0, CH: ch };
    const kern = convKernel("conv2d_fwd_gemm", leaky ? { ...consts, LEAKY: 1, SLOPE: LEAKY_SLOPE } : consts);
    for (let cb = 0; cb < ceilDiv(cout, ch); cb++) {
      const u = [cin, cout, ho, wo, wq, hp, wp4, total, n0, cb];
      rec.dispatch(kern, [xt, wt, b ?? src, y, rec.gpu.uniform(u)], [gx, gy, 1]);
    }
  }
}

/** Forward: see shaders/conv2d_fwd_gemm.wgsl. */
export function conv2dForwardGemm(
  rec: Recorder,
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  y: Tensor,
  s: Conv2dShape,
  ho: number,
  wo: number,
  leaky = false,
): void {
  const kk = s.k * s.k;
  // row (ci, kh, kw), column co; whole blocks of 16 channels, zero padded
  const texW = ceilDiv(s.cout, 16) * 4;
  const wt = packWeights(rec, w, "gemm_fwd_w", s.cin * kk, s.cout, texW, 0x7fffffff, 0, 1, s.cin * kk, {
    reuse: true,
  });
  gemm(rec, x, wt, b, y, s.n, s.cin, s.h, s.w, s.cout, ho, wo, s.k, s.stride, s.pad, 1, leaky);
}

/**
 * Input gradient: dx = stride-1 conv of dy, dilated by the stride and padded by K - 1 - pad, with the
 * weights flipped in both spatial axes and their channel axes swapped.
 */
export function conv2dBackwardInputGemm(
  rec: Recorder,
  dy: Tensor,
  w: Tensor,
  dx: Tensor,
  s: Conv2dShape,
  ho: number,
  wo: number,
): void {
  const kk = s.k * s.k;
  // row (co, kh', kw') = w[co, c, K-1-kh', K-1-kw'], column c = ci
  const texW = ceilDiv(s.cin, 16) * 4;
  const wt = packWeights(rec, w, "gemm_bwd_w", s.cout * kk, s.cin, texW, kk, s.cin * kk, -1, kk, {
    base: kk - 1,
    reuse: true,
  });
  gemm(rec, dy, wt, null, dx, s.n, s.cout, ho, wo, s.cin, s.h, s.w, s.k, 1, s.k - 1 - s.pad, s.stride);
}
