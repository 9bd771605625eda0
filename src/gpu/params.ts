/**
 * Parameters of a model, packed in arenas: one buffer for the values, one with the
 * same layout for the gradients (and, for the optimiser and the EMA, more of the
 * same layout). Every parameter is 256-byte aligned, so Adam, the EMA and the
 * gradient reset each run over all parameters of a model in a single dispatch.
 * @module
 */

import { ALIGN, type Gpu } from "./gpu.ts";
import { numel, Tensor } from "./tensor.ts";

/** One parameter: its value and gradient tensors exist once the store is built. */
export class Param {
  /** Value tensor, e.g. (Cout, Cin, K, K) for a conv weight. */
  value!: Tensor;
  /** Gradient tensor, same shape; parameter gradients accumulate (+=). */
  grad!: Tensor;
  constructor(
    /** Unique name within the store, e.g. "g.block1.conv.w" (checkpoint key). */
    readonly name: string,
    readonly shape: readonly number[],
    /** Initial values (length = numel(shape)). */
    readonly init: Float32Array,
    /** Byte offset inside each arena. */
    readonly offset: number,
  ) {}
}

/** A set of parameters sharing arenas. Add all parameters, then {@linkcode ParamStore.build}. */
export class ParamStore {
  readonly params: Param[] = [];
  private bytes = 0;
  /** All values as one flat tensor (padding stays zero). */
  values!: Tensor;
  /** All gradients as one flat tensor. */
  grads!: Tensor;
  private built = false;

  constructor(readonly label: string) {}

  /** Declares a parameter with its initial values. */
  add(name: string, shape: readonly number[], init: Float32Array): Param {
    if (this.built) throw new Error(`ParamStore ${this.label}: add(${name}) after build()`);
    if (init.length !== numel(shape)) {
      throw new Error(`param ${name}: init has ${init.length} values, shape ${shape} needs ${numel(shape)}`);
    }
    if (this.params.some((p) => p.name === name)) throw new Error(`param ${name} declared twice`);
    const p = new Param(name, shape, init, this.bytes);
    this.bytes += Math.ceil((init.length * 4) / ALIGN) * ALIGN;
    this.params.push(p);
    return p;
  }

  /** Number of floats in one arena (padding included). */
  get floats(): number {
    return Math.max(ALIGN, this.bytes) / 4;
  }

  /** Number of real parameter values (no padding). */
  get count(): number {
    return this.params.reduce((a, p) => a + p.init.length, 0);
  }

  /** Allocates a new zeroed arena with this store's layout (for Adam moments, EMA copies). */
  arena(gpu: Gpu, label: string): Tensor {
    return new Tensor(gpu.rawBuffer(this.floats * 4, `${this.label}.${label}`), [this.floats]);
  }

  /** A parameter's slice of another arena with this layout. */
  slice(arena: Tensor, p: Param): Tensor {
    return new Tensor(arena.buffer, p.shape, arena.offset + p.offset);
  }

  /** Allocates the value and gradient arenas and uploads the initial values. */
  build(gpu: Gpu): void {
    if (this.built) return;
    this.values = this.arena(gpu, "values");
    this.grads = this.arena(gpu, "grads");
    const host = new Float32Array(this.floats);
    for (const p of this.params) {
      host.set(p.init, p.offset / 4);
      p.value = this.slice(this.values, p);
      p.grad = this.slice(this.grads, p);
    }
    gpu.write(this.values, host);
    this.built = true;
  }

  /** Reads all values into a name → array map (checkpoints, tests). */
  async readValues(gpu: Gpu, arena: Tensor = this.values): Promise<Map<string, Float32Array>> {
    const flat = await gpu.read(arena);
    const out = new Map<string, Float32Array>();
    for (const p of this.params) out.set(p.name, flat.slice(p.offset / 4, p.offset / 4 + p.init.length));
    return out;
  }

  /** Writes values from a name → array map into an arena (checkpoint restore). Every parameter must be present. */
  writeValues(gpu: Gpu, values: Map<string, Float32Array>, arena: Tensor = this.values): void {
    const host = new Float32Array(this.floats);
    for (const p of this.params) {
      const v = values.get(p.name);
      if (!v) throw new Error(`checkpoint has no parameter "${p.name}" (${this.label})`);
      if (v.length !== p.init.length) {
        throw new Error(
          `checkpoint parameter "${p.name}" has ${v.length} values, model needs ${p.init.length}`,
        );
      }
      host.set(v, p.offset / 4);
    }
    gpu.write(arena, host);
  }
}
