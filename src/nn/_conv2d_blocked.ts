/**
 * The register-blocked conv2d kernels (variant "blocked"), tuned for llvmpipe: see the headers of
 * shaders/conv2d_*_blocked.wgsl. Called by conv2d.ts after it has checked the shapes.
 *
 * On llvmpipe a storage-buffer load is a per-lane scalar loop (~8x slower than a vector gather), while
 * `textureLoad` is one gather. So the kernels read their operands from textures: activations are copied
 * as they are (flat, 4096 floats a texture row: `copyBufferToTexture` wants rows of a multiple of 256
 * bytes) and weights are packed, 4 channels a texel, by a small kernel.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { ceilDiv, grid1d, type Kernel } from "../gpu/kernel.ts";
import { scratchTexture } from "../gpu/scratch.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { Conv2dShape } from "./conv2d.ts";

const WG = 64;
/** Floats a row of a flat r32float texture holds (16 KiB rows). */
const ROW = 4096;

const kernels = new Map<string, Kernel>();
/**
 * The kernel descriptor of shader `name` with override `constants` (workgroup `size`), made once per
 * (name, constants) and shared by the blocked and gemm conv2d kernels.
 */
export function convKernel(
  name: keyof typeof WGSL,
  constants: Record<string, number>,
  size: [number, number] | [number, number, number] = [WG, 1],
): Kernel {
  const key = name + JSON.stringify(constants);
  let k = kernels.get(key);
  if (!k) {
    const tag = Object.entries(constants).map(([c, v]) => `${c}${v}`).join(".");
    k = {
      name: `${name}.${tag}`,
      code: WGSL[name],
      constants,
      workgroupSize: [size[0], size[1], size[2] ?? 1],
    };
    kernels.set(key, k);
  }
  return k;
}

/** Largest number of floats a flat r32float scratch texture holds on this device. */
function maxFlat(gpu: Gpu): number {
  return ROW * Number(gpu.device.limits.maxTextureDimension2D);
}

/**
 * Copies `count` floats of `t` from element `start` into a flat texture, 4096 floats a row: r32float, texel
 * (i % 4096, i / 4096) = value i; or rgba32float (count and start multiples of 4), texel (i % 1024, i / 1024) =
 * values 4i .. 4i+3.
 */
function uploadFlat(
  rec: Recorder,
  t: Tensor,
  start: number,
  count: number,
  slot: string,
  format: "r32float" | "rgba32float" = "r32float",
): GPUTextureView {
  const per = format === "r32float" ? 1 : 4; // floats a texel
  const rows = ceilDiv(count, ROW);
  // round the height up to a power of two so a handful of textures serve every layer
  const height = Math.min(
    Number(rec.gpu.device.limits.maxTextureDimension2D),
    2 ** Math.ceil(Math.log2(rows)),
  );
  const { texture, view } = scratchTexture(rec.gpu, `conv2d.${slot}`, format, ROW / per, height);
  const full = Math.floor(count / ROW), rem = count - full * ROW;
  const offset = t.offset + start * 4;
  rec.encode((enc) => {
    if (full > 0) {
      enc.copyBufferToTexture({ buffer: t.buffer, offset, bytesPerRow: ROW * 4 }, { texture }, [
        ROW / per,
        full,
        1,
      ]);
    }
    if (rem > 0) {
      enc.copyBufferToTexture(
        { buffer: t.buffer, offset: offset + full * ROW * 4 },
        { texture, origin: [0, full, 0] },
        [rem / per, 1, 1],
      );
    }
  });
  return view;
}

/** Where {@linkcode packWeights} starts, folds its rows, and whether it keeps the packed texture. */
export interface PackOptions {
  /** Rows beyond this continue in the next block of texW texel columns (0: no fold). */
  fold?: number;
  /** First element of `w` read. */
  base?: number;
  /** Keep the texture and pack again only after `w`'s buffer is written (weights, not activations). */
  reuse?: boolean;
}

/**
 * Packs conv weights into an rgba32float texture (conv2d_pack_w.wgsl): texel (c4, r) holds
 * v(r, 4c4..4c4+3), v(r, c) = w[(r / rd) * outer + (r % rd) * inner + c * cs], zero outside rows x cols.
 * With `reuse`, the packed texture is kept per (tensor, layout) and packed again only after the tensor's
 * buffer was written ({@linkcode Gpu.version}): the discriminator's weights are read by its real and its
 * fake pass of a step (and the classifier's by evaluation batches) between two updates.
 */
export function packWeights(
  rec: Recorder,
  w: Tensor,
  slot: string,
  rows: number,
  cols: number,
  texW: number, // texels a row: ceil(cols / 4) or more
  rd: number,
  outer: number,
  inner: number,
  cs: number,
  { fold = 0, base = 0, reuse = false }: PackOptions = {},
): GPUTextureView {
  const rh = fold > 0 ? Math.min(fold, rows) : rows;
  const blocks = ceilDiv(rows, rh);
  const u = [rows, cols, rd, outer, inner, cs, texW, rh, base];
  const gpu = rec.gpu;
  let view: GPUTextureView;
  const kept = reuse && weightPackOptions.reuse ? keptTexture(gpu, w, slot, u, texW * blocks, rh) : null;
  if (kept) {
    const version = gpu.version(w.buffer);
    if (kept.version === version) return kept.view;
    kept.version = version;
    view = kept.view;
  } else {
    view = scratchTexture(gpu, `conv2d.${slot}`, "rgba32float", texW * blocks, rh).view;
  }
  rec.dispatch(packKernel, [w, view, gpu.uniform(u)], [ceilDiv(texW * blocks, 8), ceilDiv(rh, 8), 1]);
  return view;
}

/**
 * `reuse: false` packs weights again at every use (A/B timing, and the test that compares the two). Kept
 * textures are never freed, so at most `maxBytes` of them per device: past that, weights are packed at
 * every use into the shared scratch texture.
 */
export const weightPackOptions = { reuse: true, maxBytes: 64 << 20 };

interface Kept {
  view: GPUTextureView;
  /** The weight buffer's version it was packed from (-1: not yet). */
  version: number;
}

/** Per device: the kept packed-weight textures by (tensor, layout), and their bytes. */
const keptTextures = new WeakMap<Gpu, { bytes: number; map: Map<string, Kept> }>();

/** The kept texture of weights `w` in layout (`slot`, `u`), or null when the budget is spent. */
function keptTexture(
  gpu: Gpu,
  w: Tensor,
  slot: string,
  u: number[],
  width: number,
  height: number,
): Kept | null {
  let all = keptTextures.get(gpu);
  if (!all) keptTextures.set(gpu, all = { bytes: 0, map: new Map() });
  const key = `${slot}.${gpu.bufferId(w.buffer)}@${w.offset}+${w.byteLength}.${u.join(",")}`;
  let kept = all.map.get(key);
  if (!kept) {
    const bytes = width * height * 16;
    if (all.bytes + bytes > weightPackOptions.maxBytes) return null;
    all.bytes += bytes;
    kept = {
      view: scratchTexture(gpu, `conv2d.kept.${key}`, "rgba32float", width, height).view,
      version: -1,
    };
    all.map.set(key, kept);
  }
  return kept;
}

const packKernel: Kernel = {
  name: "conv2d_pack_w",
  code: WGSL.conv2d_pack_w,
  workgroupSize: [8, 8, 1],
};

/** Params words shared by the blocked shaders: the 11 of convParams plus `extra`. */
function params(s: Conv2dShape, ho: number, wo: number, total: number, ...extra: number[]): number[] {
  return [s.n, s.cin, s.h, s.w, s.cout, ho, wo, s.k, s.stride, s.pad, total, ...extra];
}

/** Whether the blocked kernels handle this shape (stride and kernel fit their unrolled segments). */
export function blockedSupports(gpu: Gpu, s: Conv2dShape): boolean {
  const side = Number(gpu.device.limits.maxTextureDimension2D);
  return s.stride <= 2 && s.k <= 5 && s.cin * s.h * s.w <= maxFlat(gpu) &&
    s.cout * s.h * s.w <= maxFlat(gpu) &&
    s.cin * s.k * s.k <= side && s.cout * s.k * s.k <= side && Math.ceil(s.cout / 8) * 2 <= side &&
    Math.ceil(s.cin / 8) * 2 <= side;
}

/** Blocked forward: see shaders/conv2d_fwd_blocked.wgsl. */
export function conv2dForwardBlocked(
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
  const cq = ceilDiv(s.cout, 8) * 2;
  const wt = packWeights(rec, w, "fwd_w", s.cin * kk, s.cout, cq, 0x7fffffff, 0, 1, s.cin * kk, {
    reuse: true,
  });
  const chw = s.cin * s.h * s.w;
  const chunk = Math.max(1, Math.floor(maxFlat(rec.gpu) / chw));
  const wb = ceilDiv(wo, 4);
  const k = convKernel("conv2d_fwd_blocked", { WG, K: s.k, S: s.stride, HAS_BIAS: b ? 1 : 0 });
  for (let n0 = 0; n0 < s.n; n0 += chunk) {
    const nb = Math.min(chunk, s.n - n0);
    const xt = uploadFlat(rec, x, n0 * chw, nb * chw, "x");
    const total = nb * ho * wb;
    const [gx, gy] = grid1d(ceilDiv(total, WG));
    rec.dispatch(k, [xt, wt, b ?? w, y, rec.gpu.uniform(params(s, ho, wo, total, wb, n0))], [gx, gy, cq / 2]);
  }
}

/** Blocked input gradient: see shaders/conv2d_bwd_input_blocked.wgsl. */
export function conv2dBackwardInputBlocked(
  rec: Recorder,
  dy: Tensor,
  w: Tensor,
  dx: Tensor,
  s: Conv2dShape,
  ho: number,
  wo: number,
): void {
  const kk = s.k * s.k;
  const cq = ceilDiv(s.cin, 8) * 2;
  const wt = packWeights(rec, w, "bwd_w", s.cout * kk, s.cin, cq, kk, s.cin * kk, 1, kk, { reuse: true });
  const chw = s.cout * ho * wo;
  const chunk = Math.max(1, Math.floor(maxFlat(rec.gpu) / chw));
  const wq = s.stride * ceilDiv(ceilDiv(s.w, s.stride), 4);
  const k = convKernel("conv2d_bwd_input_blocked", { WG, K: s.k, S: s.stride });
  for (let n0 = 0; n0 < s.n; n0 += chunk) {
    const nb = Math.min(chunk, s.n - n0);
    const dyt = uploadFlat(rec, dy, n0 * chw, nb * chw, "dy");
    const total = nb * s.h * wq;
    const [gx, gy] = grid1d(ceilDiv(total, WG));
    rec.dispatch(k, [dyt, wt, dx, rec.gpu.uniform(params(s, ho, wo, total, wq, n0))], [gx, gy, cq / 2]);
  }
}

/** Rows of a packed dy texture before they fold into the next column block (conv2d_bwd_weight_blocked). */
const DY_FOLD = 8192;
/** Invocations the weight gradient aims for before it stops splitting the batch (split-K). */
const DW_TARGET_INVOCATIONS = 2048;

/**
 * How the weight gradient gets dy into a texture. Above `maxValues` values (N x Ho x Wo x Cout) with rows of
 * whole vec4s (Wo % 4 == 0), `flat`: copied as it lies (copyBufferToTexture) for conv2d_bwd_weight_flat.wgsl,
 * no pack kernel. Else packed 4 channels a texel for conv2d_bwd_weight_blocked.wgsl, 4 pixels an invocation
 * (`vec4`, conv2d_pack_dy_vec4.wgsl) where the planes allow and dy has at most `maxValues` values, else one
 * texel an invocation (conv2d_pack_w.wgsl). All three give the same bits. Timed on llvmpipe: the vec4 pack
 * is 10-30 % faster than the texel-wise one up to 16,384 x 8 values (the 32 px GAN's discriminator; whole GAN
 * step 1.05x) and 15-20 % slower from 16,384 x 16 on, where its texel-scattered stores cost more than the
 * weight gradient (1.9 ms vs 0.5 ms for the tiny classifier's stem at batch 32); copying that dy flat made the
 * classifier step 1.05x, while the GAN's smaller dy were 1 % slower flat than packed. The flags are for A/B
 * timing and the test that compares the three.
 */
export const dyPackOptions = { flat: true, vec4: true, maxValues: 131072 };

/**
 * Packs `rows` = (n, oy, ox) pixels of dy, from element `base`, into the texture layout of
 * conv2d_bwd_weight_blocked: texel (c4 + cq * (P / DY_FOLD), P % DY_FOLD) = 4 channels of pixel P.
 */
function packDy(
  rec: Recorder,
  dy: Tensor, // (N, Cout, Ho, Wo)
  rows: number,
  cout: number,
  cq: number,
  hw: number,
  base: number,
): GPUTextureView {
  if (!dyPackOptions.vec4 || hw % 4 !== 0 || base % 4 !== 0 || rows * cout > dyPackOptions.maxValues) {
    return packWeights(rec, dy, "dy_packed", rows, cout, cq, hw, cout * hw, 1, hw, { fold: DY_FOLD, base });
  }
  const rh = Math.min(DY_FOLD, rows);
  const blocks = ceilDiv(rows, rh);
  const { view } = scratchTexture(rec.gpu, "conv2d.dy_packed", "rgba32float", cq * blocks, rh);
  const groups = rows / 4;
  const [gx, gy] = grid1d(ceilDiv(groups * cq, WG));
  rec.dispatch(packDyKernel, [dy, view, rec.gpu.uniform([groups, cout, hw, cq, base / 4])], [gx, gy, 1]);
  return view;
}

const packDyKernel: Kernel = {
  name: "conv2d_pack_dy_vec4",
  code: WGSL.conv2d_pack_dy_vec4,
  constants: { WG, FOLD: DY_FOLD },
  workgroupSize: [WG, 1, 1],
};

/** Blocked weight gradient (dw +=): see shaders/conv2d_bwd_weight_blocked.wgsl. */
export function conv2dBackwardWeightBlocked(
  rec: Recorder,
  x: Tensor,
  dy: Tensor,
  dw: Tensor,
  s: Conv2dShape,
  ho: number,
  wo: number,
): void {
  const gpu = rec.gpu;
  const kk = s.k * s.k;
  const cq = ceilDiv(s.cout, 8) * 2;
  const side = Number(gpu.device.limits.maxTextureDimension2D);
  const chw = s.cin * s.h * s.w;
  // a chunk of images must fit the flat x texture and the folded dy texture
  const flat = dyPackOptions.flat && wo % 4 === 0 && s.n * ho * wo * s.cout > dyPackOptions.maxValues;
  const dyRows = flat ? Math.floor(maxFlat(gpu) / s.cout) : Math.floor(side / cq) * DY_FOLD;
  const chunk = Math.max(1, Math.min(Math.floor(maxFlat(gpu) / chw), Math.floor(dyRows / (ho * wo))));
  const perInv = s.cin * s.k * ceilDiv(s.cout, 8);
  const want = Math.max(1, Math.ceil(DW_TARGET_INVOCATIONS / perInv));
  // split plan: per chunk, `spl` splits of `per` images
  const plan: { n0: number; nb: number; per: number; spl: number; s0: number }[] = [];
  let splits = 0;
  for (let n0 = 0; n0 < s.n; n0 += chunk) {
    const nb = Math.min(chunk, s.n - n0);
    const per = ceilDiv(nb, Math.min(nb, want));
    const spl = ceilDiv(nb, per);
    plan.push({ n0, nb, per, spl, s0: splits });
    splits += spl;
  }
  const m = s.cout * s.cin * kk;
  const direct = splits === 1;
  const part = direct ? null : gpu.tensor([splits, m]);
  const consts = { WG, K: s.k, S: s.stride, SPLIT: direct ? 0 : 1 };
  const k = convKernel(flat ? "conv2d_bwd_weight_flat" : "conv2d_bwd_weight_blocked", consts);
  for (const c of plan) {
    const xt = uploadFlat(rec, x, c.n0 * chw, c.nb * chw, "x");
    const rows = c.nb * ho * wo;
    const dyStart = c.n0 * s.cout * ho * wo;
    const dyt = flat
      ? uploadFlat(rec, dy, dyStart, c.nb * s.cout * ho * wo, "dy_flat", "rgba32float")
      : packDy(rec, dy, rows, s.cout, cq, ho * wo, dyStart);
    const total = c.spl * s.cin * s.k;
    const [gx, gy] = grid1d(ceilDiv(total, WG));
    const u = flat
      ? params(s, ho, wo, total, c.nb, c.per, c.s0)
      : params(s, ho, wo, total, c.nb, c.per, cq, c.s0);
    rec.dispatch(k, [xt, dyt, part ?? dw, gpu.uniform(u)], [gx, gy, cq / 2]);
  }
  if (part) {
    const [gx, gy] = grid1d(ceilDiv(m, WG));
    rec.dispatch(convKernel("conv2d_bwd_weight_reduce", { WG }), [part, dw, gpu.uniform([m, splits])], [
      gx,
      gy,
      1,
    ]);
    part.dispose();
  }
}
