/**
 * Elementwise sums of same-size tensors, forward on the GPU and as CPU references: `out = a + b` and
 * `acc += x`. Their use is backward passes, where a tensor read by two consumers gets the sum of both
 * gradients (a dense block's input, the discriminator's features feeding two heads). Being linear, their
 * own backward is the identity on each input, so there is no backward kernel.
 * @module
 */
import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import { grid1d, type Kernel } from "../gpu/kernel.ts";
import type { Tensor } from "../gpu/tensor.ts";

const WG = 256;

const addKernel: Kernel = { name: "add", code: WGSL.add, constants: { WG }, workgroupSize: [WG, 1, 1] };
const addIntoKernel: Kernel = {
  name: "add_into",
  code: WGSL.add_into,
  constants: { WG },
  workgroupSize: [WG, 1, 1],
};

function sameSize(fn: string, ref: Tensor, others: Record<string, Tensor>): void {
  for (const [name, t] of Object.entries(others)) {
    if (t.size !== ref.size) {
      throw new Error(`${fn}: ${name} has shape (${t.shape}), expected (${ref.shape})`);
    }
  }
}

/** Records out = a + b (any shape, same size); out must be another buffer than a and b. */
export function addForward(rec: Recorder, a: Tensor, b: Tensor, out: Tensor): void {
  sameSize("addForward", a, { b, out });
  rec.dispatch(addKernel, [a, b, out, rec.gpu.uniform([a.size])], grid1d(Math.ceil(a.size / WG)));
}

/** Records acc += x (same size, different buffers). */
export function addInto(rec: Recorder, acc: Tensor, x: Tensor): void {
  sameSize("addInto", acc, { x });
  rec.dispatch(addIntoKernel, [x, acc, rec.gpu.uniform([acc.size])], grid1d(Math.ceil(acc.size / WG)));
}

/** CPU reference of {@linkcode addForward}: a + b in float64. */
export function addForwardCpu(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) throw new Error(`addForwardCpu: lengths differ (${a.length} vs ${b.length})`);
  return Float64Array.from(a, (v, i) => v + b[i]);
}
