/**
 * Instance noise: Gaussian noise added in place to the discriminator's inputs (real and generated alike),
 * drawn from a counter-based hash of (seed, element) so that a seed names the noise exactly: the GPU kernel
 * (shaders/add_noise.wgsl) and the CPU reference here agree up to float rounding of log and cos. Its
 * backward is the identity (the noise does not depend on the input).
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";

const WG = 256;
const kernel: Kernel = {
  name: "add_noise",
  code: WGSL.add_noise,
  constants: { WG },
  workgroupSize: [WG, 1, 1],
};

/** The uniform words of {@linkcode addNoise}: (total, seed, sigma as f32 bits). */
export function noiseParams(total: number, seed: number, sigma: number): Uint32Array {
  const u = new Uint32Array(3);
  u[0] = total;
  u[1] = seed >>> 0;
  new Float32Array(u.buffer, 8, 1)[0] = sigma;
  return u;
}

/**
 * v += sigma * N(0, 1) noise named by the seed in `params` (a uniform buffer holding
 * {@linkcode noiseParams}; the caller rewrites it per step, so steps create no buffers).
 */
export function addNoise(rec: Recorder, v: Tensor, params: GPUBuffer): void {
  rec.dispatch(kernel, [v, params], grid1d(Math.ceil(v.size / WG)));
}

function pcg(x: number): number {
  const s = (Math.imul(x >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** CPU reference: the noise value of element i for `seed` (standard normal). */
export function noiseRef(seed: number, i: number): number {
  const a = pcg((seed ^ pcg(2 * i)) >>> 0);
  const b = pcg((seed ^ pcg(2 * i + 1)) >>> 0);
  const u1 = ((a >>> 8) + 1) / 16777216;
  const u2 = (b >>> 8) / 16777216;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
