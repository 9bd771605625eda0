/**
 * General matrix product C = op(A) op(B) (+= C when accumulating), row-major, on the GPU and as a CPU
 * reference: the building block of the linear layer.
 *
 * Three kernels: "naive" (one output per invocation, storage-buffer loads; kept for debugging),
 * "blocked" (each invocation keeps a 16 x 16 block of C in registers and reads its operands with
 * `textureLoad` from rgba32float textures) and "tiled" (classic shared-memory tiling for real GPUs).
 * On llvmpipe a storage-buffer load runs as a per-lane loop while a texel fetch is one vector gather,
 * so packing both operands into textures first (one cheap pass over each, which also resolves
 * transposes) makes the product several times faster there; workgroup memory and barriers only cost.
 * The blocked kernels bind those textures as read-only storage textures rather than sampled ones:
 * llvmpipe's storage-texture fetch skips the sampler path, and the same kernels ran 1.2-2.3x faster
 * (interleaved A/B on this repository's bench shapes, weight gradients gaining most).
 * Real GPUs read storage buffers fast and want workgroup tiles staged through shared memory, so
 * "auto" picks "blocked" on a fallback (software) adapter and "tiled" on any other.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { ceilDiv, type Kernel, MAX_GROUPS_PER_DIM } from "../gpu/kernel.ts";
import { scratchTexture } from "../gpu/scratch.ts";
import type { Tensor } from "../gpu/tensor.ts";

/** Shape of C (m, n) = op(A) (m, k) op(B) (k, n). */
export interface MatmulShape {
  /** Rows of C and of op(A). */
  m: number;
  /** Columns of C and of op(B). */
  n: number;
  /** Inner dimension. */
  k: number;
  /** A is stored (k, m) and used transposed. */
  transA?: boolean;
  /** B is stored (n, k) and used transposed. */
  transB?: boolean;
  /** C += op(A) op(B) instead of C = op(A) op(B). */
  accumulate?: boolean;
}

/**
 * Which kernel runs: "naive" (one output per invocation), "blocked" (register tiles from textures, for
 * llvmpipe), "tiled" (shared-memory tiles, for real GPUs), "auto" (by adapter, see {@linkcode preferTiled}).
 */
export type MatmulVariant = "naive" | "blocked" | "tiled" | "auto";

/**
 * Whether "auto" should run the shared-memory "tiled" kernels on this device: true on real GPUs, false
 * on fallback (software) adapters such as llvmpipe or SwiftShader, where barriers and workgroup memory
 * make kernels slower and the texture-fed "blocked" kernels win (also true where WGSL lacks read-only
 * storage textures, see {@linkcode readOnlyStorageTextures}).
 */
export function preferTiled(gpu: Gpu): boolean {
  return !gpu.adapter.isFallbackAdapter || !readOnlyStorageTextures();
}

/**
 * Whether WGSL may declare read-only storage textures here (the language feature
 * `readonly_and_readwrite_storage_textures`), which the blocked kernels bind their packed operands as.
 * Without it "auto" runs the tiled kernels, which need only storage buffers.
 */
export function readOnlyStorageTextures(): boolean {
  const features = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu?.wgslLanguageFeatures;
  return features?.has("readonly_and_readwrite_storage_textures") ?? false;
}

/** Workgroups a tiled dispatch should have at least to fill a big GPU (about 2 per SM on an H100). */
const TILED_MIN_GROUPS = 256;

/**
 * Workgroup (x, y) for the tiled kernels, whose workgroup owns a (4y) x (4x) tile of a (rows, cols)
 * output: as large as 16 x 16 (64 x 64 outputs), but no larger than the output needs (a transposed conv
 * with 8 output channels gets 8-row tiles, widened to 32 x 2 invocations to keep 64 lanes busy), and
 * shrunk while that leaves fewer than `TILED_MIN_GROUPS` workgroups (times `extra` for grids with a third
 * dimension), down to 64 invocations. Powers of two only, so few pipelines exist.
 */
export function tiledWorkgroup(rows: number, cols: number, extra = 1): [number, number] {
  let y = 1, x = 1;
  while (y < 16 && 4 * y < rows) y *= 2;
  while (x < 16 && 4 * x < cols) x *= 2;
  while (x * y < 64 && x < 32 && 4 * x < cols) x *= 2;
  while (x * y < 64 && y < 32 && 4 * y < rows) y *= 2;
  const groups = () => ceilDiv(rows, 4 * y) * ceilDiv(cols, 4 * x) * extra;
  while (groups() < TILED_MIN_GROUPS && x * y > 64) {
    if (x >= y) x /= 2;
    else y /= 2;
  }
  return [x, y];
}

/** Reduction step of the tiled kernels (values of k staged per barrier pair). */
export const TILED_BK = 16;

// ---------------------------------------------------------------- texture packing (shared with conv)

/** Largest 2-D texture side the device allows (8192 unless more was requested). */
export function maxTextureSide(gpu: Gpu): number {
  return Number(gpu.device.limits.maxTextureDimension2D);
}

const packKernel: Kernel = {
  name: "matmul_pack",
  code: WGSL.matmul_pack,
  constants: { WG_X: 8, WG_Y: 8 },
  workgroupSize: [8, 8, 1],
};
const packVec4Kernel: Kernel = {
  name: "matmul_pack_vec4",
  code: WGSL.matmul_pack_vec4,
  constants: { WG_X: 8, WG_Y: 8 },
  workgroupSize: [8, 8, 1],
};

/**
 * A strided 2-D view of a tensor, rows optionally split in two levels:
 * v(r, c) = src[base + floor(r / rd) * rs2 + (r % rd) * rs + c * cs] for r < rows, c < cols
 * (rd absent: v(r, c) = src[base + r * rs + c * cs]).
 */
export interface PackView {
  rows: number;
  cols: number;
  rs: number;
  cs: number;
  base?: number;
  rd?: number;
  rs2?: number;
}

/**
 * Packs a 2-D view of `src` into a scratch rgba32float texture of `texW` x `texH` texels
 * (texel (c4, r) holds v(r, 4c4 .. 4c4+3), zero outside the view) and returns its view, for the
 * blocked kernels' `textureLoad` inputs. `slot` names the operand so two inputs of one dispatch
 * never share a texture.
 */
export function packToTexture(
  rec: Recorder,
  src: Tensor,
  view: PackView,
  texW: number,
  texH: number,
  slot: string,
): GPUTextureView {
  const { texture, view: tex } = scratchTexture(rec.gpu, `matmul.${slot}`, "rgba32float", texW, texH);
  // Whole rows, contiguous, exactly filling the texture, 256-byte row pitch: a plain copy (a memcpy in
  // llvmpipe, some 20x cheaper than a packing dispatch, which pays for a texture store a texel).
  if (
    view.rd === undefined && view.cs === 1 && (view.base ?? 0) === 0 && view.rs === view.cols &&
    view.cols === texW * 4 && view.rows === texH && (view.cols * 4) % 256 === 0
  ) {
    rec.encode((enc) =>
      enc.copyBufferToTexture({ buffer: src.buffer, offset: src.offset, bytesPerRow: view.cols * 4 }, {
        texture,
      }, [
        texW,
        texH,
      ])
    );
    return tex;
  }
  // the shader computes (r / rd) * outer + (r % rd) * inner
  const rd = view.rd ?? 0x7fffffff;
  const u = rec.gpu.uniform([view.rows, view.cols, view.rs2 ?? 0, view.cs, view.base ?? 0, rd, view.rs]);
  // rows contiguous and 16-byte aligned: one vec4 load a texel
  const vec4 = view.cs === 1 && view.rs % 4 === 0 && (view.rs2 ?? 0) % 4 === 0 &&
    (view.base ?? 0) % 4 === 0 &&
    src.size % 4 === 0;
  rec.dispatch(vec4 ? packVec4Kernel : packKernel, [src, tex, u], [ceilDiv(texW, 8), ceilDiv(texH, 8), 1]);
  return tex;
}

// ---------------------------------------------------------------- kernels

const NAIVE_WG: [number, number] = [16, 4];
/** Rows of C an invocation of the blocked kernel computes (16 row variables in matmul_blocked.wgsl). */
const TM = 16;
/** Columns of C an invocation of the blocked kernel computes (4 vec4s a row in matmul_blocked.wgsl). */
const TN = 16;

/**
 * Workgroup (x, y) of 64 invocations for a 2-D grid of tiles: y = 8, 4 or 1 as the grid is at least 8, 4
 * or fewer tiles tall (a batch of 32 rows, 16 channels), so few lanes sit idle past the last row of tiles.
 * Only three shapes: each is a separate pipeline, and the unrolled kernels take a while to compile.
 */
export function tileWorkgroup(rowTiles: number): [number, number] {
  const y = rowTiles >= 8 ? 8 : rowTiles >= 4 ? 4 : 1;
  return [64 / y, y];
}

function naiveKernel(s: MatmulShape, hasBias: boolean): Kernel {
  const flags = `${s.transA ? 1 : 0}${s.transB ? 1 : 0}${s.accumulate ? 1 : 0}${hasBias ? 1 : 0}`;
  return {
    name: `matmul_naive.${flags}`,
    code: WGSL.matmul_naive,
    constants: {
      WG_X: NAIVE_WG[0],
      WG_Y: NAIVE_WG[1],
      TRANS_A: s.transA ? 1 : 0,
      TRANS_B: s.transB ? 1 : 0,
      ACCUMULATE: s.accumulate ? 1 : 0,
      HAS_BIAS: hasBias ? 1 : 0,
    },
    workgroupSize: [NAIVE_WG[0], NAIVE_WG[1], 1],
  };
}

function blockedKernel(accumulate: boolean, hasBias: boolean, wg: [number, number], plane = 0): Kernel {
  return {
    name: `matmul_blocked.${accumulate ? 1 : 0}${hasBias ? 1 : 0}.${wg[0]}x${wg[1]}${
      plane ? `.p${plane}` : ""
    }`,
    code: WGSL.matmul_blocked,
    constants: {
      WG_X: wg[0],
      WG_Y: wg[1],
      ACCUMULATE: accumulate ? 1 : 0,
      HAS_BIAS: hasBias ? 1 : 0,
      PLANE: plane,
    },
    workgroupSize: [wg[0], wg[1], 1],
  };
}

function tiledKernel(s: MatmulShape, hasBias: boolean, wg: [number, number]): Kernel {
  const flags = `${s.transA ? 1 : 0}${s.transB ? 1 : 0}${s.accumulate ? 1 : 0}${hasBias ? 1 : 0}`;
  return {
    name: `matmul_tiled.${flags}.${wg[0]}x${wg[1]}`,
    code: WGSL.matmul_tiled,
    constants: {
      WG_X: wg[0],
      WG_Y: wg[1],
      BK: TILED_BK,
      TRANS_A: s.transA ? 1 : 0,
      TRANS_B: s.transB ? 1 : 0,
      ACCUMULATE: s.accumulate ? 1 : 0,
      HAS_BIAS: hasBias ? 1 : 0,
    },
    workgroupSize: [wg[0], wg[1], 1],
  };
}

function checkShape(a: Tensor, b: Tensor, c: Tensor, bias: Tensor | null, s: MatmulShape): void {
  const { m, n, k } = s;
  for (const [name, v] of [["m", m], ["n", n], ["k", k]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`matmul: ${name} = ${v} must be a positive integer`);
  }
  if (a.size !== m * k) throw new Error(`matmul: A has ${a.size} values, expected m*k = ${m}*${k}`);
  if (b.size !== k * n) throw new Error(`matmul: B has ${b.size} values, expected k*n = ${k}*${n}`);
  if (c.size !== m * n) throw new Error(`matmul: C has ${c.size} values, expected m*n = ${m}*${n}`);
  if (bias && bias.size !== n) throw new Error(`matmul: bias has ${bias.size} values, expected n = ${n}`);
  if (c.buffer === a.buffer || c.buffer === b.buffer || (bias && c.buffer === bias.buffer)) {
    throw new Error("matmul: C must not share a buffer with A, B or bias (WebGPU forbids the alias)");
  }
}

/** Whether the blocked kernel can run this shape (its packed textures fit the device). */
function blockedFits(gpu: Gpu, s: MatmulShape): boolean {
  const max = maxTextureSide(gpu);
  const k4 = ceilDiv(s.k, 4);
  return k4 <= max && s.m <= max && ceilDiv(s.n, 4) <= max && 4 * k4 <= max;
}

/**
 * C = op(A) op(B) + bias (broadcast over rows), or C += ... when `s.accumulate`. Internal form of
 * {@linkcode matmul} with the linear layer's fused bias.
 */
export function matmulBias(
  rec: Recorder,
  a: Tensor, // (m, k), or (k, m) when transA
  b: Tensor, // (k, n), or (n, k) when transB
  bias: Tensor | null, // (n)
  c: Tensor, // (m, n)
  s: MatmulShape,
  variant: MatmulVariant = "auto",
): void {
  checkShape(a, b, c, bias, s);
  const { m, n, k } = s;
  const tiled = variant === "tiled" || (variant === "auto" && preferTiled(rec.gpu));
  if (tiled) {
    const wg = tiledWorkgroup(m, n);
    const grid: [number, number, number] = [ceilDiv(n, 4 * wg[0]), ceilDiv(m, 4 * wg[1]), 1];
    if (grid[0] <= MAX_GROUPS_PER_DIM && grid[1] <= MAX_GROUPS_PER_DIM) {
      rec.dispatch(tiledKernel(s, bias !== null, wg), [a, b, bias ?? a, c, rec.gpu.uniform([m, n, k])], grid);
      return;
    }
    if (variant === "tiled") {
      throw new Error(
        `matmul: shape m=${m} n=${n} k=${k} needs over ${MAX_GROUPS_PER_DIM} workgroups a side`,
      );
    }
  }
  const useBlocked = variant === "blocked" || (variant === "auto" && blockedFits(rec.gpu, s));
  if (!useBlocked) {
    rec.dispatch(
      naiveKernel(s, bias !== null),
      [a, b, bias ?? a, c, rec.gpu.uniform([m, n, k])],
      [ceilDiv(n, NAIVE_WG[0]), ceilDiv(m, NAIVE_WG[1]), 1],
    );
    return;
  }
  if (!blockedFits(rec.gpu, s)) {
    throw new Error(
      `matmul: shape m=${m} n=${n} k=${k} needs textures over the device's ` +
        `maxTextureDimension2D ${maxTextureSide(rec.gpu)}; use variant "auto" or "naive"`,
    );
  }
  blockedProduct(
    rec,
    a,
    s.transA ? { rows: m, cols: k, rs: 1, cs: m } : { rows: m, cols: k, rs: k, cs: 1 },
    b,
    bias,
    c,
    s,
    0,
  );
}

/**
 * The blocked kernel on A read through `aView` (m x k); C row-major, or, with `plane` > 0, C (m / plane,
 * n, plane): rows of the product are (image, pixel) pairs of an NCHW batch.
 */
function blockedProduct(
  rec: Recorder,
  a: Tensor,
  aView: PackView,
  b: Tensor,
  bias: Tensor | null,
  c: Tensor,
  s: MatmulShape,
  plane: number,
): void {
  const { m, n, k } = s;
  const k4 = ceilDiv(k, 4);
  const ta = packToTexture(rec, a, aView, k4, m, "mm.a");
  const tb = packToTexture(
    rec,
    b,
    s.transB ? { rows: k, cols: n, rs: 1, cs: k } : { rows: k, cols: n, rs: n, cs: 1 },
    ceilDiv(n, 4),
    4 * k4,
    "mm.b",
  );
  const wg = tileWorkgroup(ceilDiv(m, TM));
  rec.dispatch(
    blockedKernel(s.accumulate ?? false, bias !== null, wg, plane),
    [ta, tb, bias ?? a, c, rec.gpu.uniform([m, n, k4])],
    [ceilDiv(n, TN * wg[0]), ceilDiv(m, TM * wg[1]), 1],
  );
}

/** Whether {@linkcode matmulPlanes} runs a product of `rows` (image, pixel) pairs on this device. */
export function matmulPlanesFits(gpu: Gpu, rows: number, n: number, k: number): boolean {
  return blockedFits(gpu, { m: rows, n, k });
}

/**
 * C (N, n, P) = A (N, k, P) op(B) (+ bias[j]): the product over every pixel of a batch of NCHW images,
 * e.g. a 1x1 conv (A the image, B the weights) without transposing the images to NHWC and back. A is
 * packed as an (N P) x k view, C written through the blocked kernel's PLANE store; s.m must be N P,
 * s.transA unset. Blocked kernel only: check {@linkcode matmulPlanesFits} first.
 */
export function matmulPlanes(
  rec: Recorder,
  a: Tensor, // (N, k, P)
  b: Tensor, // (k, n), or (n, k) when transB
  bias: Tensor | null, // (n)
  c: Tensor, // (N, n, P)
  s: MatmulShape,
  plane: number,
): void {
  checkShape(a, b, c, bias, s);
  const { m, k } = s;
  if (s.transA || m % plane !== 0 || !blockedFits(rec.gpu, s)) {
    throw new Error(
      `matmulPlanes: m=${m} must be images x ${plane} pixels, A untransposed, textures fitting`,
    );
  }
  blockedProduct(
    rec,
    a,
    { rows: m, cols: k, rs: 1, cs: plane, rd: plane, rs2: k * plane },
    b,
    bias,
    c,
    s,
    plane,
  );
}

/**
 * C = op(A) op(B), or C += op(A) op(B) when `s.accumulate`; row-major. C must be another buffer than A
 * and B. `variant` "auto" picks the tiled kernel on real GPUs and, on fallback adapters, the blocked
 * kernel where its packed textures fit the device.
 */
export function matmul(
  rec: Recorder,
  a: Tensor, // (m, k), or (k, m) when transA
  b: Tensor, // (k, n), or (n, k) when transB
  c: Tensor, // (m, n)
  s: MatmulShape,
  variant: MatmulVariant = "auto",
): void {
  matmulBias(rec, a, b, null, c, s, variant);
}

// ---------------------------------------------------------------- CPU reference

type Arr = ArrayLike<number>;

/** CPU reference of {@linkcode matmul} (without accumulation): returns op(A) op(B), (m, n). */
export function matmulRef(a: Arr, b: Arr, s: MatmulShape): Float64Array {
  const { m, n, k } = s;
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < k; l++) {
      const av = s.transA ? a[l * m + i] : a[i * k + l];
      if (av === 0) continue;
      for (let j = 0; j < n; j++) {
        c[i * n + j] += av * (s.transB ? b[j * k + l] : b[l * n + j]);
      }
    }
  }
  return c;
}
