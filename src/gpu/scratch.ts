/**
 * Scratch textures for the packed operands of the blocked kernels: one texture per (device, slot, format,
 * size), created on first use and reused by every later dispatch, so a training step creates none. Reuse is
 * safe because commands run in recording order: a later pack can only overwrite a texture after the
 * dispatches that read it. Callers namespace their slots ("matmul.a", "conv2d.x", ...).
 * @module
 */
import type { Gpu } from "./gpu.ts";

/** A scratch texture and its default view. */
export interface ScratchTexture {
  texture: GPUTexture;
  view: GPUTextureView;
}

// GPUTextureUsage bits, spelled out because the constant is not in every runtime's globals.
const COPY_DST = 0x02;
const TEXTURE_BINDING = 0x04;
const STORAGE_BINDING = 0x08;

const cache = new WeakMap<Gpu, Map<string, ScratchTexture>>();

/**
 * The scratch texture of `format` and (width, height) texels for `slot` on `gpu`. It can be written by
 * copies and storage writes and read as a storage or sampled texture.
 */
export function scratchTexture(
  gpu: Gpu,
  slot: string,
  format: GPUTextureFormat,
  width: number,
  height: number,
): ScratchTexture {
  let map = cache.get(gpu);
  if (!map) cache.set(gpu, map = new Map());
  const key = `${slot}:${format}:${width}x${height}`;
  let entry = map.get(key);
  if (!entry) {
    const texture = gpu.device.createTexture({
      label: `scratch ${key}`,
      size: [width, height],
      format,
      usage: COPY_DST | TEXTURE_BINDING | STORAGE_BINDING,
    });
    entry = { texture, view: texture.createView() };
    map.set(key, entry);
  }
  return entry;
}
