/**
 * Transposed 2-D convolution (the generator's up-convolution), NCHW, weight (Cin, Cout, K, K) as in
 * PyTorch; output size Ho = (H - 1) * stride - 2 * pad + K. GPU forward, backward (input gradient
 * written, weight and bias gradients accumulated) and a plain-TypeScript reference of both.
 *
 * Variants: "naive" (one output per invocation, storage-buffer loads; kept for debugging) and "blocked"
 * (register tiles over pixels x channels, inputs packed into channel-last rgba32float textures that
 * llvmpipe gathers quickly). The blocked forward runs one dispatch per output parity class, so each
 * output only visits the taps that reach it (k4 s2: 2 x 2 taps a channel instead of 4 x 4). "tiled"
 * (implicit GEMMs staged through workgroup shared memory, see _conv_tiled.ts) is for real GPUs, whose
 * storage-buffer loads are fast; "auto" picks it on a non-fallback adapter and "blocked" on a fallback
 * (software) adapter such as llvmpipe, where shared memory and barriers only cost.
 * @module
 */

import { channelSumAccumulate } from "./activation.ts";
import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { ceilDiv, grid1d, type Kernel, MAX_GROUPS_PER_DIM } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { maxTextureSide, packToTexture, preferTiled, tileWorkgroup } from "./matmul.ts";
import { scratchTexture } from "../gpu/scratch.ts";
import {
  convTBackwardInputTiled,
  convTBackwardWeightTiled,
  convTForwardTiled,
  type TiledConvTShape,
} from "./_conv_tiled.ts";

/** Sizes of a transposed convolution: input (N, Cin, H, W), Cout output channels, K x K kernel. */
export interface ConvT2dShape {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
}

/**
 * Which kernels run: "naive" (one output per invocation), "blocked" (register tiles from textures, for
 * llvmpipe), "tiled" (shared-memory tiles, for real GPUs), "auto" ("tiled" on a real GPU, "blocked" on a
 * fallback adapter; "naive" where the chosen kernels do not fit the device).
 */
export type ConvVariant = "naive" | "blocked" | "tiled" | "auto";

/** Output (Ho, Wo) of a transposed convolution: (H - 1) * stride - 2 * pad + K. */
export function convT2dOutputSize(s: ConvT2dShape): [number, number] {
  return [(s.h - 1) * s.stride - 2 * s.pad + s.k, (s.w - 1) * s.stride - 2 * s.pad + s.k];
}

function checkShape(s: ConvT2dShape, fn: string): [number, number] {
  for (const f of ["n", "cin", "h", "w", "cout", "k", "stride"] as const) {
    if (!Number.isInteger(s[f]) || s[f] < 1) {
      throw new Error(`${fn}: ${f} = ${s[f]} must be a positive integer`);
    }
  }
  if (!Number.isInteger(s.pad) || s.pad < 0) throw new Error(`${fn}: pad = ${s.pad} must be an integer >= 0`);
  const [ho, wo] = convT2dOutputSize(s);
  if (ho < 1 || wo < 1) {
    throw new Error(
      `${fn}: output ${ho}x${wo} is empty for H=${s.h} W=${s.w} k=${s.k} stride=${s.stride} pad=${s.pad}`,
    );
  }
  return [ho, wo];
}

function expectSize(t: Tensor, shape: number[], what: string, fn: string): void {
  const size = shape.reduce((a, b) => a * b, 1);
  if (t.size !== size) throw new Error(`${fn}: ${what} has ${t.size} values, expected (${shape.join(", ")})`);
}

function uniformParams(s: ConvT2dShape, ho: number, wo: number): number[] {
  return [s.n, s.cin, s.h, s.w, s.cout, s.k, s.stride, s.pad, ho, wo];
}

// ---------------------------------------------------------------- kernels

const WG = 64;
const naive = (name: string, code: string, extra: Record<string, number> = {}): Kernel => ({
  name: `${name}${Object.entries(extra).map(([k, v]) => `.${k}${v}`).join("")}`,
  code,
  constants: { WG, ...extra },
  workgroupSize: [WG, 1, 1],
});

/** Pixels and channels an invocation of the blocked forward / backward-input kernels computes (16 x 16 in the shaders). */
const TP = 16, TC = 16;
/** Input and output channels an invocation of the blocked backward-weight kernel computes (16 x 16). */
const WCI = 16, WCO = 16;
const BWW_WG = 8;

/** A blocked kernel over (pixel tiles, channel tiles) with a workgroup shaped by the channel tiles. */
function tiled(name: string, code: string, channelTiles: number, extra: Record<string, number> = {}): Kernel {
  const [wx, wy] = tileWorkgroup(channelTiles);
  return {
    name: `${name}${Object.entries(extra).map(([k, v]) => `.${k}${v}`).join("")}.${wx}x${wy}`,
    code,
    constants: { WG_X: wx, WG_Y: wy, ...extra },
    workgroupSize: [wx, wy, 1],
  };
}

const convPackKernel: Kernel = {
  name: "conv_t2d_pack",
  code: WGSL.conv_t2d_pack,
  constants: { WG_X: 8, WG_Y: 8 },
  workgroupSize: [8, 8, 1],
};
const convPackVec4Kernel: Kernel = {
  name: "conv_t2d_pack_vec4",
  code: WGSL.conv_t2d_pack_vec4,
  constants: { WG_X: 8, WG_Y: 8 },
  workgroupSize: [8, 8, 1],
};

/** Texture size of an (N, C, H, W) tensor packed channel-last with a zero border. */
function packedSize(n: number, c: number, h: number, w: number, border: number): [number, number] {
  return [(w + 2 * border) * ceilDiv(c, 4), n * (h + 2 * border)];
}

/** Packs an (N, C, H, W) tensor into a channel-last texture with a zero border (conv_t2d_pack). */
function packImage(
  rec: Recorder,
  t: Tensor,
  dims: [number, number, number, number],
  border: number,
  slot: string,
): GPUTextureView {
  const [n, c, h, w] = dims;
  const [tw, th] = packedSize(n, c, h, w, border);
  // One layout per texture (the vec4 pack leaves the border untouched, relying on it staying zero).
  const tex =
    scratchTexture(rec.gpu, `convT.${slot}.${dims.join("x")}b${border}`, "rgba32float", tw, th).view;
  const u = rec.gpu.uniform([n, c, h, w, ceilDiv(c, 4), border]);
  if (w % 4 === 0) {
    rec.dispatch(convPackVec4Kernel, [t, tex, u], [
      ceilDiv((w / 4) * ceilDiv(c, 4), 8),
      ceilDiv(n * h, 8),
      1,
    ]);
  } else {
    rec.dispatch(convPackKernel, [t, tex, u], [ceilDiv(tw, 8), ceilDiv(th, 8), 1]);
  }
  return tex;
}

/** Zero border the forward's input texture needs: the farthest any parity class's taps reach outside x. */
function forwardBorder(s: ConvT2dShape, ho: number, wo: number): number {
  let b = 0;
  for (const [size, out] of [[s.h, ho], [s.w, wo]]) {
    for (let o = 0; o < out; o++) {
      for (let k = 0; k < s.k; k++) {
        const t = o + s.pad - k;
        if (t % s.stride !== 0) continue;
        const i = t / s.stride;
        b = Math.max(b, -i, i - (size - 1));
      }
    }
  }
  return b;
}

interface Plan {
  blocked: boolean;
  /** Try the tiled kernels first (they fall back to `blocked` when their grid is too large). */
  tiled: boolean;
}

/**
 * Whether the blocked kernels' packed textures and dispatch grids fit the device for this shape (else
 * "auto" runs the naive ones).
 */
export function convT2dBlockedFits(rec: Recorder, s: ConvT2dShape, ho: number, wo: number): boolean {
  const max = maxTextureSide(rec.gpu);
  const kk = s.k * s.k;
  const fb = forwardBorder(s, ho, wo);
  const sizes = [
    packedSize(s.n, s.cin, s.h, s.w, fb),
    packedSize(s.n, s.cin, s.h, s.w, 0),
    packedSize(s.n, s.cout, ho, wo, s.pad),
    [ceilDiv(s.cout, 4), ceilDiv(s.cin, 4) * 4 * kk],
    [ceilDiv(s.cin, 4), ceilDiv(s.cout, 4) * 4 * kk],
  ];
  const groups = Math.max(ceilDiv(s.n * s.h * s.w, TP * 8), ceilDiv(s.n * ho * wo, TP * 8));
  return sizes.every(([a, b]) => a <= max && b <= max) && groups <= MAX_GROUPS_PER_DIM;
}

function plan(
  rec: Recorder,
  s: ConvT2dShape,
  ho: number,
  wo: number,
  variant: ConvVariant,
  fn: string,
): Plan {
  if (variant === "naive") return { blocked: false, tiled: false };
  if (variant === "tiled") return { blocked: false, tiled: true };
  const fits = convT2dBlockedFits(rec, s, ho, wo);
  if (variant === "auto" && preferTiled(rec.gpu)) return { blocked: fits, tiled: true };
  if (variant === "blocked" && !fits) {
    throw new Error(
      `${fn}: shape ${JSON.stringify(s)} is too large for the blocked kernels' textures ` +
        `(maxTextureDimension2D ${maxTextureSide(rec.gpu)}); use variant "auto" or "naive"`,
    );
  }
  return { blocked: fits, tiled: false };
}

function tiledShape(s: ConvT2dShape, ho: number, wo: number): TiledConvTShape {
  return { ...s, ho, wo };
}

function tiledTooLarge(fn: string, s: ConvT2dShape): Error {
  return new Error(
    `${fn}: shape ${JSON.stringify(s)} needs over 65535 workgroups a side for the tiled kernels; ` +
      `use variant "auto" or "naive"`,
  );
}

/**
 * y = conv_transpose2d(x, w) + b (`b` null: no bias), written. y must be another buffer than the inputs.
 */
export function convT2dForward(
  rec: Recorder,
  x: Tensor, // (N, Cin, H, W)
  w: Tensor, // (Cin, Cout, K, K)
  b: Tensor | null, // (Cout)
  y: Tensor, // (N, Cout, Ho, Wo)
  s: ConvT2dShape,
  variant: ConvVariant = "auto",
): void {
  const fn = "convT2dForward";
  const [ho, wo] = checkShape(s, fn);
  expectSize(x, [s.n, s.cin, s.h, s.w], "x", fn);
  expectSize(w, [s.cin, s.cout, s.k, s.k], "w", fn);
  if (b) expectSize(b, [s.cout], "b", fn);
  expectSize(y, [s.n, s.cout, ho, wo], "y", fn);
  if (y.buffer === x.buffer || y.buffer === w.buffer || (b && y.buffer === b.buffer)) {
    throw new Error(`${fn}: y must not share a buffer with x, w or b (WebGPU forbids the alias)`);
  }
  const hasBias = b ? 1 : 0;
  const pl = plan(rec, s, ho, wo, variant, fn);
  if (pl.tiled) {
    if (convTForwardTiled(rec, x, w, b, y, tiledShape(s, ho, wo))) return;
    if (variant === "tiled") throw tiledTooLarge(fn, s);
  }
  if (!pl.blocked) {
    rec.dispatch(
      naive("conv_t2d_fwd_naive", WGSL.conv_t2d_fwd_naive, { HAS_BIAS: hasBias }),
      [x, w, b ?? x, y, rec.gpu.uniform(uniformParams(s, ho, wo))],
      grid1d(ceilDiv(s.n * s.cout * ho * wo, WG)),
    );
    return;
  }
  const kk = s.k * s.k;
  const cin4 = ceilDiv(s.cin, 4);
  const border = forwardBorder(s, ho, wo);
  const xt = packImage(rec, x, [s.n, s.cin, s.h, s.w], border, "ct.x");
  // texel (co4, ci * K*K + tap) = w[ci, 4co4 .. 4co4+3, tap]
  const wt = packToTexture(
    rec,
    w,
    { rows: s.cin * kk, rd: kk, rs2: s.cout * kk, rs: 1, cols: s.cout, cs: kk },
    ceilDiv(s.cout, 4),
    cin4 * 4 * kk,
    "ct.wf",
  );
  const kernel = tiled("conv_t2d_fwd_blocked", WGSL.conv_t2d_fwd_blocked, ceilDiv(s.cout, TC), {
    HAS_BIAS: hasBias,
  });
  const [wx, wy] = kernel.workgroupSize;
  for (let py = 0; py < s.stride; py++) {
    for (let px = 0; px < s.stride; px++) {
      const hq = ceilDiv(ho - py, s.stride), wq = ceilDiv(wo - px, s.stride);
      if (hq <= 0 || wq <= 0) continue;
      const u = rec.gpu.uniform([
        s.n,
        cin4,
        s.h,
        s.w,
        s.cout,
        s.k,
        s.stride,
        s.pad,
        ho,
        wo,
        hq,
        wq,
        py,
        px,
        border,
      ]);
      rec.dispatch(kernel, [xt, wt, b ?? x, y, u], [
        ceilDiv(s.n * hq * wq, TP * wx),
        ceilDiv(s.cout, TC * wy),
        1,
      ]);
    }
  }
}

/** dx = gradient of the transposed convolution wrt its input (written, =): a strided convolution of dy. */
export function convT2dBackwardInput(
  rec: Recorder,
  dy: Tensor, // (N, Cout, Ho, Wo)
  w: Tensor, // (Cin, Cout, K, K)
  dx: Tensor, // (N, Cin, H, W)
  s: ConvT2dShape,
  variant: ConvVariant = "auto",
): void {
  const fn = "convT2dBackwardInput";
  const [ho, wo] = checkShape(s, fn);
  expectSize(dy, [s.n, s.cout, ho, wo], "dy", fn);
  expectSize(w, [s.cin, s.cout, s.k, s.k], "w", fn);
  expectSize(dx, [s.n, s.cin, s.h, s.w], "dx", fn);
  if (dx.buffer === dy.buffer || dx.buffer === w.buffer) {
    throw new Error(`${fn}: dx must not share a buffer with dy or w (WebGPU forbids the alias)`);
  }
  const pl = plan(rec, s, ho, wo, variant, fn);
  if (pl.tiled) {
    if (convTBackwardInputTiled(rec, dy, w, null, dx, tiledShape(s, ho, wo))) return;
    if (variant === "tiled") throw tiledTooLarge(fn, s);
  }
  if (!pl.blocked) {
    rec.dispatch(
      naive("conv_t2d_bwd_input_naive", WGSL.conv_t2d_bwd_input_naive),
      [dy, w, dx, rec.gpu.uniform(uniformParams(s, ho, wo))],
      grid1d(ceilDiv(s.n * s.cin * s.h * s.w, WG)),
    );
    return;
  }
  const kk = s.k * s.k;
  const cout4 = ceilDiv(s.cout, 4);
  const dyt = packImage(rec, dy, [s.n, s.cout, ho, wo], s.pad, "ct.dy");
  // texel (ci4, co * K*K + tap) = w[4ci4 .. 4ci4+3, co, tap]
  const wt = packToTexture(
    rec,
    w,
    { rows: s.cout * kk, rs: 1, cols: s.cin, cs: s.cout * kk },
    ceilDiv(s.cin, 4),
    cout4 * 4 * kk,
    "ct.wb",
  );
  const u = rec.gpu.uniform([s.n, cout4, s.h, s.w, s.cin, s.k, s.stride, s.pad, ho, wo, s.pad]);
  const kernel = tiled("conv_t2d_bwd_input_blocked", WGSL.conv_t2d_bwd_input_blocked, ceilDiv(s.cin, TC));
  const [wx, wy] = kernel.workgroupSize;
  rec.dispatch(kernel, [dyt, wt, dx, u], [ceilDiv(s.n * s.h * s.w, TP * wx), ceilDiv(s.cin, TC * wy), 1]);
}

/** Invocations the backward-weight kernel should have at least, before splitting its reduction. */
const MIN_BWW_INVOCATIONS = 512;

/**
 * dw += gradient of the transposed convolution wrt its weight, and db += sum of dy over N, Ho, Wo
 * (`db` null: no bias).
 */
export function convT2dBackwardWeight(
  rec: Recorder,
  x: Tensor, // (N, Cin, H, W)
  dy: Tensor, // (N, Cout, Ho, Wo)
  dw: Tensor, // (Cin, Cout, K, K), accumulated
  db: Tensor | null, // (Cout), accumulated
  s: ConvT2dShape,
  variant: ConvVariant = "auto",
): void {
  const fn = "convT2dBackwardWeight";
  const [ho, wo] = checkShape(s, fn);
  expectSize(x, [s.n, s.cin, s.h, s.w], "x", fn);
  expectSize(dy, [s.n, s.cout, ho, wo], "dy", fn);
  expectSize(dw, [s.cin, s.cout, s.k, s.k], "dw", fn);
  if (db) expectSize(db, [s.cout], "db", fn);
  if (dw.buffer === x.buffer || dw.buffer === dy.buffer || (db && db.buffer === dy.buffer)) {
    throw new Error(`${fn}: dw and db must not share a buffer with x or dy (WebGPU forbids the alias)`);
  }
  if (db) channelSumAccumulate(rec, dy, db, s.n, s.cout, ho * wo);
  const pl = plan(rec, s, ho, wo, variant, fn);
  if (pl.tiled) {
    if (convTBackwardWeightTiled(rec, x, dy, dw, tiledShape(s, ho, wo))) return;
    if (variant === "tiled") throw tiledTooLarge(fn, s);
  }
  if (!pl.blocked) {
    rec.dispatch(
      naive("conv_t2d_bwd_weight_naive", WGSL.conv_t2d_bwd_weight_naive),
      [x, dy, dw, rec.gpu.uniform(uniformParams(s, ho, wo))],
      grid1d(ceilDiv(s.cin * s.cout * s.k * s.k, WG)),
    );
    return;
  }
  const kk = s.k * s.k;
  const cin4 = ceilDiv(s.cin, 4), cout4 = ceilDiv(s.cout, 4);
  const cells = kk * ceilDiv(s.cout, WCO);
  const cib = ceilDiv(s.cin, WCI);
  const rows = s.n * s.h;
  // split the reduction over rows (n, iy) when there are too few weight blocks to keep the cores busy
  const wanted = Math.min(rows, Math.max(1, Math.ceil(MIN_BWW_INVOCATIONS / (cells * cib))));
  const rps = ceilDiv(rows, wanted);
  const splits = ceilDiv(rows, rps);
  const xt = packImage(rec, x, [s.n, s.cin, s.h, s.w], 0, "ct.x");
  const dyt = packImage(rec, dy, [s.n, s.cout, ho, wo], s.pad, "ct.dy");
  const u = rec.gpu.uniform([
    s.n,
    cin4,
    s.h,
    s.w,
    cout4,
    s.k,
    s.stride,
    s.pad,
    ho,
    wo,
    s.pad,
    rps,
    s.cin,
    s.cout,
  ]);
  const grid: [number, number, number] = [ceilDiv(cells, BWW_WG), cib, splits];
  const kernel = (acc: number): Kernel => ({
    name: `conv_t2d_bwd_weight_blocked.${acc}`,
    code: WGSL.conv_t2d_bwd_weight_blocked,
    constants: { WG_X: BWW_WG, ACCUMULATE: acc },
    workgroupSize: [BWW_WG, 1, 1],
  });
  if (splits === 1) {
    rec.dispatch(kernel(1), [xt, dyt, dw, u], grid);
    return;
  }
  const size = s.cin * s.cout * kk;
  // the pool hands this buffer out again after dispose; later dispatches run after these, so that is safe
  const part = rec.gpu.tensor([splits, size]);
  rec.dispatch(kernel(0), [xt, dyt, part, u], grid);
  rec.dispatch(
    naive("conv_t2d_reduce", WGSL.conv_t2d_reduce),
    [part, dw, rec.gpu.uniform([size, splits])],
    grid1d(ceilDiv(size, WG)),
  );
  part.dispose();
}

// ---------------------------------------------------------------- CPU reference

type Arr = ArrayLike<number>;

/** CPU reference of {@linkcode convT2dForward}: y (N, Cout, Ho, Wo), scattering each input pixel. */
export function convT2dForwardRef(x: Arr, w: Arr, b: Arr | null, s: ConvT2dShape): Float64Array {
  const [ho, wo] = convT2dOutputSize(s);
  const y = new Float64Array(s.n * s.cout * ho * wo);
  for (let n = 0; n < s.n; n++) {
    for (let co = 0; co < s.cout; co++) {
      const base = (n * s.cout + co) * ho * wo;
      if (b) y.fill(b[co], base, base + ho * wo);
      for (let ci = 0; ci < s.cin; ci++) {
        for (let iy = 0; iy < s.h; iy++) {
          for (let ix = 0; ix < s.w; ix++) {
            const xv = x[((n * s.cin + ci) * s.h + iy) * s.w + ix];
            for (let ky = 0; ky < s.k; ky++) {
              const oy = iy * s.stride - s.pad + ky;
              if (oy < 0 || oy >= ho) continue;
              for (let kx = 0; kx < s.k; kx++) {
                const ox = ix * s.stride - s.pad + kx;
                if (ox < 0 || ox >= wo) continue;
                y[base + oy * wo + ox] += xv * w[((ci * s.cout + co) * s.k + ky) * s.k + kx];
              }
            }
          }
        }
      }
    }
  }
  return y;
}

/** CPU reference of the backward passes: dx, dw and db (not accumulated). */
export function convT2dBackwardRef(
  x: Arr, // (N, Cin, H, W)
  w: Arr, // (Cin, Cout, K, K)
  dy: Arr, // (N, Cout, Ho, Wo)
  s: ConvT2dShape,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const [ho, wo] = convT2dOutputSize(s);
  const dx = new Float64Array(s.n * s.cin * s.h * s.w);
  const dw = new Float64Array(s.cin * s.cout * s.k * s.k);
  const db = new Float64Array(s.cout);
  for (let n = 0; n < s.n; n++) {
    for (let co = 0; co < s.cout; co++) {
      const base = (n * s.cout + co) * ho * wo;
      for (let i = 0; i < ho * wo; i++) db[co] += dy[base + i];
      for (let ci = 0; ci < s.cin; ci++) {
        for (let iy = 0; iy < s.h; iy++) {
          for (let ix = 0; ix < s.w; ix++) {
            const xi = ((n * s.cin + ci) * s.h + iy) * s.w + ix;
            let g = 0;
            for (let ky = 0; ky < s.k; ky++) {
              const oy = iy * s.stride - s.pad + ky;
              if (oy < 0 || oy >= ho) continue;
              for (let kx = 0; kx < s.k; kx++) {
                const ox = ix * s.stride - s.pad + kx;
                if (ox < 0 || ox >= wo) continue;
                const wi = ((ci * s.cout + co) * s.k + ky) * s.k + kx;
                const d = dy[base + oy * wo + ox];
                g += d * w[wi];
                dw[wi] += d * x[xi];
              }
            }
            dx[xi] += g;
          }
        }
      }
    }
  }
  return { dx, dw, db };
}
