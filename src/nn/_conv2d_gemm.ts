/**
 * The implicit-GEMM conv2d kernels (variant "blocked"), tuned for llvmpipe: see the headers of
 * shaders/conv2d_fwd_gemm.wgsl and conv2d_bwd_weight_gemm.wgsl. Called by conv2d.ts after it has checked
 * the shapes.
 *
 * On llvmpipe a storage-buffer load is a per-lane scalar loop while `textureLoad` is one vector gather,
 * so the kernels read their operands from rgba32float textures: images are copied with their zero padding
 * (and, for the input gradient, zero dilation) built in (conv2d_pack_x.wgsl), weights are packed 4 output
 * channels a texel (conv2d_pack_w.wgsl). The input gradient is the forward kernel run on the dilated,
 * padded dy with flipped weights, so one tuned kernel serves both.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { ceilDiv, grid1d, type Kernel, MAX_GROUPS_PER_DIM } from "../gpu/kernel.ts";
import { Tensor } from "../gpu/tensor.ts";
import type { Conv2dShape } from "./conv2d.ts";

const WG = 64;
/** Logical rows of a packed image texture before they fold into the next column block (a power of 2). */
const FOLD = 8192;
const TEX_TEXTURE_BINDING = 0x04;
const TEX_STORAGE_BINDING = 0x08;

const kernels = new Map<string, Kernel>();
function kernel(
  name: keyof typeof WGSL,
  constants: Record<string, number>,
  size: [number, number] = [WG, 1],
): Kernel {
  const key = name + JSON.stringify(constants);
  let k = kernels.get(key);
  if (!k) {
    const tag = Object.entries(constants).map(([c, v]) => `${c}${v}`).join(".");
    k = { name: `${name}.${tag}`, code: WGSL[name], constants, workgroupSize: [size[0], size[1], 1] };
    kernels.set(key, k);
  }
  return k;
}

const textures = new WeakMap<Gpu, Map<string, { texture: GPUTexture; view: GPUTextureView }>>();
/**
 * A scratch rgba32float texture for operand `slot`, created once per (gpu, slot, size) and reused:
 * commands run in recording order, so a later pack may overwrite it after the dispatch that read it.
 */
function scratch(
  gpu: Gpu,
  slot: string,
  width: number,
  height: number,
): { texture: GPUTexture; view: GPUTextureView } {
  let map = textures.get(gpu);
  if (!map) textures.set(gpu, map = new Map());
  const key = `${slot}:${width}x${height}`;
  let entry = map.get(key);
  if (!entry) {
    const texture = gpu.device.createTexture({
      label: `conv2d ${key}`,
      size: [width, height],
      format: "rgba32float",
      usage: TEX_TEXTURE_BINDING | TEX_STORAGE_BINDING,
    });
    entry = { texture, view: texture.createView() };
    map.set(key, entry);
  }
  return entry;
}

const side = (gpu: Gpu) => Number(gpu.device.limits.maxTextureDimension2D);

/** Texels a padded row needs for `wq` quads of output pixels at stride `stride` (segments of 2 or 3 texels). */
const paddedTexels = (wq: number, stride: number) => stride * (wq - 1) + (stride === 1 ? 2 : 3);

/** Images of `planesPer` planes of `hp` rows that fit one packed texture of `wp4` texels a row. */
function imagesPerTexture(gpu: Gpu, planesPer: number, hp: number, wp4: number): number {
  return Math.floor((FOLD * Math.floor(side(gpu) / wp4)) / (planesPer * hp));
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
  const { view } = scratch(rec.gpu, slot, wp4 * ceilDiv(rows, FOLD), Math.min(rows, FOLD));
  const kern = kernel("conv2d_pack_x", { D: d }, [8, 8]);
  for (let p0 = 0; p0 < planes; p0 += MAX_GROUPS_PER_DIM) {
    rec.dispatch(
      kern,
      [t, view, rec.gpu.uniform([hs, ws, hp, wp4, pad, base, p0])],
      [ceilDiv(wp4, 8), ceilDiv(hp, 8), Math.min(MAX_GROUPS_PER_DIM, planes - p0)],
    );
  }
  return view;
}

const packWKernel: Kernel = { name: "conv2d_pack_wu", code: WGSL.conv2d_pack_wu, workgroupSize: [16, 4, 1] };

/** Floats of the forward kernel's uniform weight window (64 KiB: 1024 rows of 16 channels). */
const WINDOW = 16384;
const BUF_UNIFORM = 0x40;
const BUF_STORAGE = 0x80;

const buffers = new WeakMap<Gpu, Map<string, GPUBuffer>>();
function scratchBuffer(gpu: Gpu, slot: string, bytes: number): GPUBuffer {
  let map = buffers.get(gpu);
  if (!map) buffers.set(gpu, map = new Map());
  const key = `${slot}:${bytes}`;
  let buf = map.get(key);
  if (!buf) {
    buf = gpu.device.createBuffer({ label: `conv2d ${key}`, size: bytes, usage: BUF_UNIFORM | BUF_STORAGE });
    map.set(key, buf);
  }
  return buf;
}

/** Packed weights: blocks of 16 output channels, `rowsPad` rows of 16 floats each (conv2d_pack_wu.wgsl). */
interface PackedWeights {
  buffer: GPUBuffer;
  rowsPad: number;
}

/**
 * Packs weights for the uniform operand (conv2d_pack_wu.wgsl): block cb, row r, channel j holds
 * v(r, 16cb + j), v(r, c) = w[base + (r / rd) * outer + (r % rd) * inner + c * cs] (u32 arithmetic,
 * wrapping), zero outside rows x cols. A 64 KiB window past the last block keeps every binding in range.
 */
function packWeights(
  rec: Recorder,
  w: Tensor,
  slot: string,
  rows: number,
  cols: number,
  rd: number,
  outer: number,
  inner: number,
  cs: number,
  base: number,
): PackedWeights {
  const rowsPad = ceilDiv(rows, 4) * 4;
  const blocks = ceilDiv(cols, 16);
  const buffer = scratchBuffer(rec.gpu, slot, (blocks * rowsPad * 16 + WINDOW) * 4);
  const dst = new Tensor(buffer, [blocks * rowsPad * 16]);
  rec.dispatch(
    packWKernel,
    [w, dst, rec.gpu.uniform([rows, cols, rd, outer, inner >>> 0, cs, rowsPad, base])],
    [blocks, rowsPad / 4, 1],
  );
  return { buffer, rowsPad };
}

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
  wt: PackedWeights,
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
): void {
  const hp = (ho - 1) * stride + k;
  const wq = ceilDiv(wo, 4);
  const wp4 = paddedTexels(wq, stride);
  const chunk = Math.min(n, imagesPerTexture(rec.gpu, cin, hp, wp4));
  const plane = hs * ws;
  const kk = k * k;
  // input channels a pass: rows (ci, kh, kw) fit the 1024-row window and start 256-byte aligned
  const cpp = Math.min(cin, Math.floor(1024 / kk / 4) * 4);
  for (let n0 = 0; n0 < n; n0 += chunk) {
    const nb = Math.min(chunk, n - n0);
    const xt = packImage(rec, src, "x", nb * cin, hs, ws, hp, wp4, pad, d, n0 * cin * plane);
    const total = nb * ho * wq;
    const [gx, gy] = grid1d(ceilDiv(total, 4 * WG));
    for (let cb = 0; cb < ceilDiv(cout, 16); cb++) {
      for (let ci0 = 0; ci0 < cin; ci0 += cpp) {
        const first = ci0 === 0;
        const kern = kernel("conv2d_fwd_gemm", {
          WG,
          K: k,
          S: stride,
          HAS_BIAS: b && first ? 1 : 0,
          ACC: first ? 0 : 1,
        });
        const win = new Tensor(wt.buffer, [WINDOW], (cb * wt.rowsPad + ci0 * kk) * 64);
        const u = [Math.min(cpp, cin - ci0), cout, ho, wo, wq, hp, wp4, total, n0, cin, ci0, cb];
        rec.dispatch(kern, [xt, win, b ?? src, y, rec.gpu.uniform(u)], [gx, gy, 1]);
      }
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
): void {
  const kk = s.k * s.k;
  // row (ci, kh, kw), column co
  const wt = packWeights(
    rec,
    w,
    "fwd_w",
    s.cin * kk,
    s.cout,
    0x7fffffff,
    0,
    1,
    s.cin * kk,
    0,
  );
  gemm(rec, x, wt, b, y, s.n, s.cin, s.h, s.w, s.cout, ho, wo, s.k, s.stride, s.pad, 1);
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
  const wt = packWeights(
    rec,
    w,
    "bwd_w",
    s.cout * kk,
    s.cin,
    kk,
    s.cin * kk,
    -1,
    kk,
    kk - 1,
  );
  gemm(rec, dy, wt, null, dx, s.n, s.cout, ho, wo, s.cin, s.h, s.w, s.k, 1, s.k - 1 - s.pad, s.stride);
}
