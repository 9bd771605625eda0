/**
 * Per-kernel GPU time of a recorded workload (a training step), from timestamp queries.
 *
 * A whole-step benchmark says how long a step takes; this says where the time goes. While a
 * {@linkcode KernelProfiler} is attached to a {@linkcode Gpu}, every dispatch is recorded in a compute
 * pass of its own whose beginning and end write timestamps, tagged with the kernel's name. One pass per
 * dispatch adds a little time per dispatch, so profiled steps are slightly slower than real ones: read the
 * shares, not the sum, and take the step time from the benchmark.
 *
 * Needs the adapter's `timestamp-query` feature (llvmpipe has it; so do most GPUs): create the device with
 * `Gpu.create({ timestamps: true })`.
 * @module
 */

const USAGE_QUERY_RESOLVE = 0x200 | 0x4; // QUERY_RESOLVE | COPY_SRC
const USAGE_READBACK = 0x1 | 0x8; // MAP_READ | COPY_DST

/** Where one profiled dispatch writes its timestamps (a compute pass's `timestampWrites`). */
export interface ProfileSlot {
  querySet: GPUQuerySet;
  beginningOfPassWriteIndex: number;
  endOfPassWriteIndex: number;
}

/** Time spent in one kernel over the profiled workload. */
export interface KernelTime {
  /** The kernel's name (shader file plus variant). */
  name: string;
  /** Dispatches of it. */
  dispatches: number;
  /** Total GPU time, milliseconds. */
  ms: number;
  /** Share of all profiled GPU time, 0-1. */
  share: number;
}

/** Collects timestamps of up to `capacity` dispatches; {@linkcode KernelProfiler.collect} reads and resets. */
export class KernelProfiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  private readonly readback: GPUBuffer;
  private names: string[] = [];
  /** Every dispatch of the last {@linkcode KernelProfiler.collect}, in recorded order (name, milliseconds). */
  lastDispatches: { name: string; ms: number }[] = [];
  /** Dispatches recorded after the query set was full (not timed; collect sooner to time them). */
  dropped = 0;

  /** At most 2048: WebGPU caps a query set at 4096 queries, two per dispatch. */
  readonly capacity: number;

  constructor(private readonly device: GPUDevice, capacity = 2048) {
    this.capacity = Math.max(1, Math.min(2048, Math.floor(capacity)));
    if (!device.features.has("timestamp-query")) {
      throw new Error(
        "KernelProfiler: the device has no 'timestamp-query' feature; create it with " +
          "Gpu.create({ timestamps: true }) on an adapter that offers it",
      );
    }
    this.querySet = device.createQuerySet({ type: "timestamp", count: 2 * this.capacity });
    this.resolve = device.createBuffer({ size: 16 * this.capacity, usage: USAGE_QUERY_RESOLVE });
    this.readback = device.createBuffer({ size: 16 * this.capacity, usage: USAGE_READBACK });
  }

  /** The timestamp slot of the next dispatch of `name`, or null once the query set is full. */
  slot(name: string): ProfileSlot | null {
    if (this.names.length >= this.capacity) {
      this.dropped++;
      return null;
    }
    const i = this.names.length;
    this.names.push(name);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /**
   * Reads the timestamps of every dispatch recorded since the last call (their command buffers must have
   * been submitted), sums them per kernel, slowest first, and starts afresh.
   */
  async collect(): Promise<KernelTime[]> {
    const n = this.names.length;
    if (n === 0) return [];
    const enc = this.device.createCommandEncoder();
    enc.resolveQuerySet(this.querySet, 0, 2 * n, this.resolve, 0);
    enc.copyBufferToBuffer(this.resolve, 0, this.readback, 0, 16 * n);
    this.device.queue.submit([enc.finish()]);
    await this.readback.mapAsync(1, /* GPUMapMode.READ */ 0, 16 * n);
    const ticks = new BigInt64Array(this.readback.getMappedRange(0, 16 * n).slice(0));
    this.readback.unmap();
    const byName = new Map<string, { dispatches: number; ns: number }>();
    this.lastDispatches = [];
    for (let i = 0; i < n; i++) {
      const ns = Math.max(0, Number(ticks[2 * i + 1] - ticks[2 * i]));
      this.lastDispatches.push({ name: this.names[i], ms: ns / 1e6 });
      const e = byName.get(this.names[i]) ?? { dispatches: 0, ns: 0 };
      e.dispatches++;
      e.ns += ns;
      byName.set(this.names[i], e);
    }
    this.names = [];
    let total = 0;
    for (const e of byName.values()) total += e.ns;
    return [...byName.entries()]
      .map(([name, e]) => ({
        name,
        dispatches: e.dispatches,
        ms: e.ns / 1e6,
        share: total > 0 ? e.ns / total : 0,
      }))
      .sort((a, b) => b.ms - a.ms);
  }

  /** Frees the query set and buffers. */
  destroy(): void {
    this.querySet.destroy();
    this.resolve.destroy();
    this.readback.destroy();
  }
}
