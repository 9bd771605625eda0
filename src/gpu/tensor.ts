/**
 * GPU tensors: f32 storage buffers (or a 256-byte aligned slice of one) with a shape.
 * Layout everywhere in medsynth is row-major NCHW for images and (N, F) for features.
 * @module
 */

let nextId = 1;

/** A view of `size` f32 values starting `offset` bytes into `buffer`. */
export class Tensor {
  /** Unique id, used to cache bind groups. */
  readonly id: number = nextId++;
  /** Number of f32 elements (product of the shape). */
  readonly size: number;
  constructor(
    /** The buffer that holds the values. */
    readonly buffer: GPUBuffer,
    /** Shape, e.g. (N, C, H, W). */
    readonly shape: readonly number[],
    /** Byte offset into `buffer`; a multiple of 256 so it can be bound on any device. */
    readonly offset = 0,
    /** Called by {@linkcode Tensor.dispose}: returns the buffer to its pool. */
    private readonly onDispose?: (t: Tensor) => void,
  ) {
    this.size = shape.reduce((a, b) => a * b, 1);
  }
  /** Size in bytes. */
  get byteLength(): number {
    return this.size * 4;
  }
  /** The binding resource for a bind group entry. */
  binding(): GPUBufferBinding {
    return { buffer: this.buffer, offset: this.offset, size: Math.max(4, this.byteLength) };
  }
  /** A tensor sharing the same storage with another shape of the same size. */
  reshape(shape: readonly number[]): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== this.size) {
      throw new Error(`reshape: ${this.shape} has ${this.size} values, ${shape} has ${size}`);
    }
    return new Tensor(this.buffer, shape, this.offset);
  }
  /** Returns the storage to its pool (no-op for arena slices and views). */
  dispose(): void {
    this.onDispose?.(this);
  }
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Throws when an output shares a buffer with an input (`fn` names the caller in the message). WebGPU
 * refuses such bind groups anyway; checking when the layer is recorded names the layer instead of a bind
 * group. Outputs may share one buffer (a weight and a bias gradient are views of one gradient arena);
 * `distinctOutputs` also refuses that. Null inputs (an absent bias) are skipped.
 */
export function assertDistinct(
  fn: string,
  outputs: readonly Tensor[],
  inputs: readonly (Tensor | null)[],
  distinctOutputs = false,
): void {
  for (let i = 0; i < outputs.length; i++) {
    const others = distinctOutputs ? [...inputs, ...outputs.slice(i + 1)] : inputs;
    for (const t of others) {
      if (t && t.buffer === outputs[i].buffer) {
        throw new Error(
          `${fn}: outputs must live in other buffers than the inputs${
            distinctOutputs ? " and each other" : ""
          }`,
        );
      }
    }
  }
}
