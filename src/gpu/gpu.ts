/**
 * The GPU runtime: device, pipeline cache, bind-group cache, buffer pool, parameter
 * arenas, uniform cache, command recording and readback.
 *
 * A training step records all its dispatches into one {@linkcode Recorder} and is
 * submitted once, with no readback: on Deno every `mapAsync` or
 * `onSubmittedWorkDone` costs at least ~11 ms whatever the work. Buffers, uniform
 * buffers and bind groups are created on first use and reused afterwards, so a
 * step after the first allocates nothing on the GPU.
 *
 * One rule shapes the memory layout: WebGPU forbids a dispatch to bind one buffer
 * both read-only and writable. So parameter values, parameter gradients and each
 * activation live in separate buffers (activations come from the pool, one buffer
 * each), and kernels never run "in place" on a read-only binding.
 * @module
 */

import { type AdapterReport, type DeviceOptions, requestDevice } from "./device.ts";
import { ceilDiv, type Kernel, kernelKey } from "./kernel.ts";
import { instrumentLoops, type LoopAudit } from "./loop_audit.ts";
import type { KernelProfiler } from "./profiler.ts";
import { numel, Tensor } from "./tensor.ts";

const USAGE_STORAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST
const USAGE_UNIFORM = 0x40 | 0x8; // UNIFORM | COPY_DST
const USAGE_READBACK = 0x1 | 0x8; // MAP_READ | COPY_DST
/** Byte alignment of every tensor: minStorageBufferOffsetAlignment on most real GPUs. */
export const ALIGN = 256;

/** A bind-group entry: a tensor, a raw buffer (uniforms), or a texture view (packed inputs). */
export type Binding = Tensor | GPUBuffer | GPUTextureView;

/** Records dispatches and copies into one command buffer; submit with {@linkcode Gpu.submit}. */
export class Recorder {
  readonly encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | null = null;
  /** Number of dispatches recorded (for benchmarks and tests). */
  dispatches = 0;
  constructor(
    /** The runtime recording into this encoder (for uniforms and pipelines). */
    readonly gpu: Gpu,
  ) {
    this.encoder = gpu.device.createCommandEncoder();
  }
  private computePass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    return this.pass;
  }
  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }
  /** Records one dispatch of `kernel` with `bindings` at group 0, bindings 0..n-1. */
  dispatch(kernel: Kernel, bindings: readonly Binding[], grid: readonly [number, number, number]): void {
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return;
    const { pipeline, key } = this.gpu.pipeline(kernel);
    const bg = this.gpu.bindGroup(pipeline, key, bindings, kernel);
    const slot = this.gpu.profiler?.slot(kernel.name);
    if (slot) this.endPass();
    const p = slot ? this.encoder.beginComputePass({ timestampWrites: slot }) : this.computePass();
    p.setPipeline(pipeline);
    p.setBindGroup(0, bg);
    const audited = this.gpu.loopAudit?.bindGroup(pipeline);
    if (audited) p.setBindGroup(1, audited);
    p.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    if (slot) p.end();
    this.dispatches++;
    this.gpu.recordWrites(kernel, bindings);
  }
  /** Sets a tensor to zero (a cheap command-encoder clear, outside the compute pass). */
  clear(t: Tensor): void {
    this.endPass();
    this.encoder.clearBuffer(t.buffer, t.offset, Math.ceil(t.byteLength / 4) * 4);
    this.gpu.wrote(t.buffer);
  }
  /** Copies `src` into `dst` (same size). */
  copy(src: Tensor, dst: Tensor): void {
    if (src.size !== dst.size) throw new Error(`copy: ${src.shape} -> ${dst.shape} sizes differ`);
    this.endPass();
    this.encoder.copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, src.byteLength);
    this.gpu.wrote(dst.buffer);
  }
  /**
   * Runs `fn` on the command encoder outside any compute pass (e.g. buffer-to-texture uploads). Commands
   * that write a buffer must report it with `rec.gpu.wrote(buffer)` (see {@linkcode Gpu.version}).
   */
  encode(fn: (encoder: GPUCommandEncoder) => void): void {
    this.endPass();
    fn(this.encoder);
  }
  /** Ends recording. */
  finish(): GPUCommandBuffer {
    this.endPass();
    return this.encoder.finish();
  }
}

/** The engine's handle on a WebGPU device. Get one with {@linkcode Gpu.create}. */
export class Gpu {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly uniforms = new Map<string, GPUBuffer>();
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly staging = new Map<number, GPUBuffer>();
  private readonly errors: string[] = [];
  private readonly writable = new Map<string, Set<number>>();
  private bufferIds = new WeakMap<object, number>();
  private nextBufferId = 1;
  private readonly versions = new WeakMap<GPUBuffer, number>();
  /** While set, pipelines count their loop iterations (see src/gpu/loop_audit.ts); set it before recording. */
  loopAudit: LoopAudit | null = null;
  /** While set, every dispatch is timed on its own (see src/gpu/profiler.ts). */
  profiler: KernelProfiler | null = null;
  /** Number of pipelines compiled so far (a training step after the first must add none). */
  pipelinesCreated = 0;
  /** Number of storage buffers created so far (a training step after the first must add none). */
  buffersCreated = 0;

  private constructor(readonly device: GPUDevice, readonly adapter: AdapterReport) {
    device.addEventListener?.("uncapturederror", (e: Event) => {
      // deno-lint-ignore no-explicit-any
      const msg = String((e as any).error?.message ?? e);
      this.errors.push(msg);
    });
  }

  /** Requests an adapter and device. Throws `NoWebGpuError` with advice when there is none. */
  static async create(opts: DeviceOptions = {}): Promise<Gpu> {
    const { device, report } = await requestDevice(opts);
    return new Gpu(device, report);
  }

  /** Throws if the device reported validation or out-of-memory errors since the last check. */
  checkErrors(): void {
    if (this.errors.length) {
      const msgs = this.errors.splice(0);
      throw new Error(`WebGPU reported ${msgs.length} error(s):\n${msgs.slice(0, 5).join("\n")}`);
    }
  }

  /** The compute pipeline for a kernel, compiled once per cache key. */
  pipeline(kernel: Kernel): { pipeline: GPUComputePipeline; key: string } {
    const audit = this.loopAudit;
    const key = (audit ? "loop-audit|" : "") + kernelKey(kernel);
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const counted = audit ? instrumentLoops(kernel.code) : null;
      const code = counted ?? kernel.code;
      const constants = counted
        ? { ...kernel.constants, LOOP_AUDIT_SLOT: audit!.slot(key, kernel.name) }
        : kernel.constants;
      const module = this.device.createShaderModule({ label: kernel.name, code });
      pipeline = this.device.createComputePipeline({
        label: kernel.name,
        layout: "auto",
        compute: { module, entryPoint: kernel.entryPoint ?? "main", constants },
      });
      audit?.compiled(pipeline, counted !== null);
      this.pipelines.set(key, pipeline);
      this.pipelinesCreated++;
    }
    return { pipeline, key };
  }

  /**
   * How many writes to `buffer` have been recorded (dispatches with it at a read_write binding, clears,
   * copies into it) or queued (`write`): a cache of something computed from the buffer (packed weights) is
   * current while this is unchanged. Writes made any other way must be reported with {@linkcode Gpu.wrote}.
   */
  version(buffer: GPUBuffer): number {
    return this.versions.get(buffer) ?? 0;
  }

  /** Reports a write to `buffer` (see {@linkcode Gpu.version}). */
  wrote(buffer: GPUBuffer): void {
    this.versions.set(buffer, this.version(buffer) + 1);
  }

  /** Counts the writes of one dispatch: its read_write bindings. */
  recordWrites(kernel: Kernel, bindings: readonly Binding[]): void {
    for (const i of this.writableBindings(kernel.code)) {
      const b = bindings[i];
      if (b instanceof Tensor) this.wrote(b.buffer);
      else if (b && !isTextureView(b)) this.wrote(b);
    }
  }

  /** A number naming `b` for cache keys (stable for the object's lifetime). */
  bufferId(b: GPUBuffer | GPUTextureView): number {
    let id = this.bufferIds.get(b);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(b, id);
    }
    return id;
  }

  /** Binding indices a shader declares `read_write` (cached by source), for the aliasing check. */
  private writableBindings(code: string): Set<number> {
    let set = this.writable.get(code);
    if (!set) {
      set = new Set<number>();
      for (const m of code.matchAll(/@binding\((\d+)\)\s*var\s*<\s*storage\s*,\s*read_write\s*>/g)) {
        set.add(Number(m[1]));
      }
      this.writable.set(code, set);
    }
    return set;
  }

  /**
   * Throws when a writable binding overlaps another binding of the same buffer: WebGPU forbids it,
   * and while Deno's wgpu lets some cases through, browsers reject the dispatch.
   */
  private checkAliasing(kernel: Kernel, bindings: readonly Binding[]): void {
    const writable = this.writableBindings(kernel.code);
    const range = (b: Binding): [object, number, number] =>
      b instanceof Tensor
        ? [b.buffer, b.offset, b.offset + Math.max(4, b.byteLength)]
        : isTextureView(b)
        ? [b, 0, 1]
        : [b, 0, b.size];
    for (const i of writable) {
      if (i >= bindings.length) continue;
      const [bi, lo, hi] = range(bindings[i]);
      bindings.forEach((other, j) => {
        if (j === i) return;
        const [bj, lo2, hi2] = range(other);
        if (bj === bi && lo < hi2 && lo2 < hi) {
          throw new Error(
            `${kernel.name}: binding ${i} is written and overlaps binding ${j} in the same buffer; ` +
              `WebGPU forbids this. Use a separate output tensor.`,
          );
        }
      });
    }
  }

  /** Bind group for `bindings` on `pipeline`, created once per (pipeline, resources). */
  bindGroup(
    pipeline: GPUComputePipeline,
    pipelineKey: string,
    bindings: readonly Binding[],
    kernel?: Kernel,
  ): GPUBindGroup {
    let key = pipelineKey;
    for (const b of bindings) {
      key += b instanceof Tensor
        ? `|${this.bufferId(b.buffer)}@${b.offset}+${b.byteLength}`
        : `|${this.bufferId(b)}`;
    }
    let bg = this.bindGroups.get(key);
    if (!bg) {
      if (kernel) this.checkAliasing(kernel, bindings);
      bg = this.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: bindings.map((b, i) => ({
          binding: i,
          resource: b instanceof Tensor ? b.binding() : isTextureView(b) ? b : { buffer: b },
        })),
      });
      this.bindGroups.set(key, bg);
    }
    return bg;
  }

  /**
   * A uniform buffer holding `values` (u32 by default; pass a Float32Array or Int32Array
   * for other types), cached by content so repeated layers share it and steps allocate none.
   */
  uniform(values: readonly number[] | Uint32Array | Int32Array | Float32Array): GPUBuffer {
    const arr = Array.isArray(values) ? new Uint32Array(values) : values as Uint32Array;
    const kind = arr instanceof Float32Array ? "f" : arr instanceof Int32Array ? "i" : "u";
    const key = kind + Array.from(arr).join(",");
    let buf = this.uniforms.get(key);
    if (!buf) {
      const size = Math.max(16, Math.ceil(arr.byteLength / 16) * 16);
      buf = this.device.createBuffer({ size, usage: USAGE_UNIFORM });
      const padded = new Uint8Array(size);
      padded.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
      this.device.queue.writeBuffer(buf, 0, padded);
      this.uniforms.set(key, buf);
    }
    return buf;
  }

  /**
   * A uniform buffer that the caller rewrites between submits (e.g. Adam's step count).
   * Not cached: each call creates one, so call it at build time only.
   */
  mutableUniform(byteLength: number): GPUBuffer {
    return this.device.createBuffer({
      size: Math.max(16, Math.ceil(byteLength / 16) * 16),
      usage: USAGE_UNIFORM,
    });
  }

  /** A tensor from the pool (storage reused after `dispose`); contents are undefined unless `data` is given. */
  tensor(shape: readonly number[], data?: ArrayLike<number>): Tensor {
    const bytes = Math.max(ALIGN, Math.ceil((numel(shape) * 4) / ALIGN) * ALIGN);
    const list = this.free.get(bytes);
    let buffer = list?.pop();
    if (!buffer) {
      buffer = this.device.createBuffer({ size: bytes, usage: USAGE_STORAGE });
      this.buffersCreated++;
    }
    const t = new Tensor(buffer, shape, 0, (x) => this.release(x, bytes));
    if (data) this.write(t, data);
    return t;
  }

  private release(t: Tensor, bytes: number): void {
    let list = this.free.get(bytes);
    if (!list) this.free.set(bytes, list = []);
    if (!list.includes(t.buffer)) list.push(t.buffer);
  }

  /** A storage buffer of `bytes` bytes outside the pool (parameter arenas). */
  rawBuffer(bytes: number, label?: string): GPUBuffer {
    this.buffersCreated++;
    return this.device.createBuffer({
      label,
      size: Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN),
      usage: USAGE_STORAGE,
    });
  }

  /** Uploads values into a tensor (queued before the next submit). */
  write(t: Tensor, data: ArrayLike<number>, elementOffset = 0): void {
    if (data.length + elementOffset > t.size) {
      throw new Error(`write: ${data.length} values do not fit tensor ${t.shape}`);
    }
    const f = data instanceof Float32Array ? data : Float32Array.from(data);
    this.wrote(t.buffer);
    this.device.queue.writeBuffer(
      t.buffer,
      t.offset + elementOffset * 4,
      f.buffer,
      f.byteOffset,
      f.byteLength,
    );
  }

  /** Starts recording commands. */
  recorder(): Recorder {
    return new Recorder(this);
  }

  /** Submits recorded commands (no waiting). */
  submit(rec: Recorder): void {
    this.device.queue.submit([rec.finish()]);
  }

  /** Records and submits in one go. */
  run(fn: (rec: Recorder) => void): void {
    const rec = this.recorder();
    fn(rec);
    this.submit(rec);
  }

  /** Waits until the GPU has finished all submitted work (costs ~11 ms on Deno; benchmarks only). */
  async sync(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.checkErrors();
  }

  /**
   * Reads a tensor back. Pass `out` to reuse an array (reading 16 MiB into a fresh
   * array costs ~50 ms on Deno). Waits for all submitted work.
   */
  async read(t: Tensor, out?: Float32Array): Promise<Float32Array> {
    const bytes = Math.max(4, t.byteLength);
    const size = Math.ceil(bytes / ALIGN) * ALIGN;
    let staging = this.staging.get(size);
    if (!staging) {
      staging = this.device.createBuffer({ size, usage: USAGE_READBACK });
      this.staging.set(size, staging);
    }
    // The staging buffer is shared per size: take it out while mapped so concurrent reads don't collide.
    this.staging.delete(size);
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(t.buffer, t.offset, staging, 0, Math.ceil(t.byteLength / 4) * 4);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(1, /* GPUMapMode.READ */ 0, size);
    const result = out ?? new Float32Array(t.size);
    result.set(new Float32Array(staging.getMappedRange(0, size), 0, t.size));
    staging.unmap();
    if (!this.staging.has(size)) this.staging.set(size, staging);
    else staging.destroy();
    this.checkErrors();
    return result;
  }

  /** Releases the device. */
  destroy(): void {
    this.device.destroy();
  }
}

function isTextureView(b: GPUBuffer | GPUTextureView): b is GPUTextureView {
  return !("mapState" in b) && !("size" in b);
}

export { ceilDiv };
