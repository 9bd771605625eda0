/**
 * General matrix product C = op(A) op(B) (+= C when accumulating), row-major, on the GPU and as a CPU
 * reference: the building block of the linear layer.
 *
 * Two kernels: "naive" (one output per invocation, storage-buffer loads; kept for debugging) and
 * "blocked" (each invocation keeps an 8 x 8 block of C in registers and reads its operands with
 * `textureLoad` from rgba32float textures). On llvmpipe a storage-buffer load runs as a per-lane loop
 * while a texel fetch is one vector gather, so packing both operands into textures first (one cheap
 * pass over each, which also resolves transposes) makes the product several times faster.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { ceilDiv, type Kernel } from "../gpu/kernel.ts";
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

/** Which kernel runs: "naive" (one output per invocation), "blocked" (register tiles), "auto" (fastest). */
export type MatmulVariant = "naive" | "blocked" | "auto";

// ---------------------------------------------------------------- texture packing (shared with conv)

const TEX_STORAGE_BINDING = 0x08;
const TEX_TEXTURE_BINDING = 0x04;
const scratchTextures = new WeakMap<Gpu, Map<string, GPUTextureView>>();

/** Largest 2-D texture side the device allows (8192 unless more was requested). */
export function maxTextureSide(gpu: Gpu): number {
  return Number(gpu.device.limits.maxTextureDimension2D);
}

/**
 * A scratch rgba32float texture of (width, height) texels for slot `slot`, created once per
 * (gpu, slot, size) and reused: dispatches run in order, so a later pack may overwrite it after
 * the kernel that read it.
 */
function scratchTexture(gpu: Gpu, slot: string, width: number, height: number): GPUTextureView {
  let map = scratchTextures.get(gpu);
  if (!map) scratchTextures.set(gpu, map = new Map());
  const key = `${slot}:${width}x${height}`;
  let view = map.get(key);
  if (!view) {
    const tex = gpu.device.createTexture({
      label: `scratch ${key}`,
      size: [width, height],
      format: "rgba32float",
      usage: TEX_STORAGE_BINDING | TEX_TEXTURE_BINDING,
    });
    view = tex.createView();
    map.set(key, view);
  }
  return view;
}

const packKernel: Kernel = {
  name: "matmul_pack",
  code: WGSL.matmul_pack,
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
  const tex = scratchTexture(rec.gpu, slot, texW, texH);
  // the shader computes (r / rd) * outer + (r % rd) * inner
  const rd = view.rd ?? 0x7fffffff;
  const u = rec.gpu.uniform([view.rows, view.cols, view.rs2 ?? 0, view.cs, view.base ?? 0, rd, view.rs]);
  rec.dispatch(packKernel, [src, tex, u], [ceilDiv(texW, 8), ceilDiv(texH, 8), 1]);
  return tex;
}

// ---------------------------------------------------------------- kernels

const NAIVE_WG: [number, number] = [16, 4];
/** Rows of C an invocation of the blocked kernel computes (const TM in matmul_blocked.wgsl). */
const TM = 8;
/** Columns of C an invocation of the blocked kernel computes (4 * const TN4 in matmul_blocked.wgsl). */
const TN = 8;
const BLOCK_WG: [number, number] = [8, 8];

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

function blockedKernel(accumulate: boolean, hasBias: boolean): Kernel {
  return {
    name: `matmul_blocked.${accumulate ? 1 : 0}${hasBias ? 1 : 0}`,
    code: WGSL.matmul_blocked,
    constants: {
      WG_X: BLOCK_WG[0],
      WG_Y: BLOCK_WG[1],
      ACCUMULATE: accumulate ? 1 : 0,
      HAS_BIAS: hasBias ? 1 : 0,
    },
    workgroupSize: [BLOCK_WG[0], BLOCK_WG[1], 1],
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
  const k4 = ceilDiv(k, 4);
  const ta = packToTexture(
    rec,
    a,
    s.transA ? { rows: m, cols: k, rs: 1, cs: m } : { rows: m, cols: k, rs: k, cs: 1 },
    k4,
    m,
    "mm.a",
  );
  const tb = packToTexture(
    rec,
    b,
    s.transB ? { rows: k, cols: n, rs: 1, cs: k } : { rows: k, cols: n, rs: n, cs: 1 },
    ceilDiv(n, 4),
    4 * k4,
    "mm.b",
  );
  rec.dispatch(
    blockedKernel(s.accumulate ?? false, bias !== null),
    [ta, tb, bias ?? a, c, rec.gpu.uniform([m, n, k4])],
    [ceilDiv(n, TN * BLOCK_WG[0]), ceilDiv(m, TM * BLOCK_WG[1]), 1],
  );
}

/**
 * C = op(A) op(B), or C += op(A) op(B) when `s.accumulate`; row-major. C must be another buffer than A
 * and B. `variant` "auto" picks the blocked kernel where its packed textures fit the device.
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
