/**
 * Loop-iteration audit: how many loop iterations one invocation of each kernel runs, so that no kernel
 * passes llvmpipe's silent cap (`LOOP_ITERATION_CAP`, src/gpu/kernel.ts) at the shapes the product uses.
 *
 * While a {@linkcode LoopAudit} is attached to a {@linkcode Gpu}, pipelines are compiled from instrumented
 * source: every loop body first counts one iteration in a per-invocation counter and raises the kernel's
 * maximum in an audit buffer (bound at group 1). Results are unchanged; kernels run slower. Every loop
 * counts, also those with constant bounds that the compiler would unroll (and llvmpipe would then not
 * count), so the figures are upper bounds. On llvmpipe the instrumented loops are themselves capped, so a
 * kernel at the cap reads as about 65535: treat anything near it as over.
 * @module
 */

import { loopsFit } from "./kernel.ts";

const USAGE_AUDIT = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST
const USAGE_READBACK = 0x1 | 0x8; // MAP_READ | COPY_DST

const PRELUDE = "@group(1) @binding(0) var<storage, read_write> loop_audit_max: array<atomic<u32>>;\n" +
  "var<private> loop_audit_n: u32;\n" +
  "override LOOP_AUDIT_SLOT: u32 = 0u;\n";
const COUNT = " loop_audit_n += 1u; atomicMax(&loop_audit_max[LOOP_AUDIT_SLOT], loop_audit_n);";

/**
 * WGSL `code` with every `for`, `while` and `loop` body counting its iterations (comments are dropped), or
 * null when it has no loop. The slot of the kernel in the audit buffer is the override constant
 * `LOOP_AUDIT_SLOT`.
 */
export function instrumentLoops(code: string): string | null {
  const src = code.replace(/\/\/[^\n]*/g, "");
  let out = "", i = 0;
  const head = /\b(for|while)\s*\(|\bloop\s*\{/g;
  for (let m = head.exec(src); m; m = head.exec(src)) {
    let j = m.index + m[0].length; // after "(" or "{"
    if (m[1]) {
      for (let depth = 1; depth > 0; j++) {
        if (j >= src.length) throw new Error(`instrumentLoops: unbalanced parentheses after "${m[0]}"`);
        if (src[j] === "(") depth++;
        else if (src[j] === ")") depth--;
      }
      while (/\s/.test(src[j])) j++;
      if (src[j] !== "{") throw new Error(`instrumentLoops: no body after "${src.slice(m.index, j)}"`);
      j++;
    }
    out += src.slice(i, j) + COUNT;
    i = j;
    head.lastIndex = j;
  }
  return i === 0 ? null : PRELUDE + out + src.slice(i);
}

/** The largest loop count one invocation of a kernel ran. */
export interface KernelLoops {
  /** The kernel's name. */
  name: string;
  /** Most loop iterations of one invocation, over every dispatch since the audit started. */
  maxIterations: number;
  /** Whether it reaches llvmpipe's cap (on llvmpipe the count itself stops there). */
  overCap: boolean;
}

/** Collects per-kernel loop maxima; attach with `gpu.loopAudit = new LoopAudit(gpu.device)`. */
export class LoopAudit {
  private readonly buffer: GPUBuffer;
  private readonly readback: GPUBuffer;
  private readonly slots = new Map<string, { slot: number; name: string }>();
  private readonly groups = new WeakMap<GPUComputePipeline, GPUBindGroup>();
  private readonly counting = new WeakSet<GPUComputePipeline>();

  constructor(private readonly device: GPUDevice, readonly capacity = 1024) {
    this.buffer = device.createBuffer({ size: 4 * capacity, usage: USAGE_AUDIT });
    this.readback = device.createBuffer({ size: 4 * capacity, usage: USAGE_READBACK });
  }

  /** The audit slot of a pipeline (its cache key), given on first use. */
  slot(key: string, name: string): number {
    let s = this.slots.get(key);
    if (!s) {
      if (this.slots.size >= this.capacity) {
        throw new Error(`LoopAudit: more than ${this.capacity} pipelines`);
      }
      s = { slot: this.slots.size, name };
      this.slots.set(key, s);
    }
    return s.slot;
  }

  /** Records whether a pipeline was compiled with counting loops (only those get the audit buffer). */
  compiled(pipeline: GPUComputePipeline, instrumented: boolean): void {
    if (instrumented) this.counting.add(pipeline);
  }

  /** The group-1 bind group of an instrumented pipeline, null for a pipeline without loops. */
  bindGroup(pipeline: GPUComputePipeline): GPUBindGroup | null {
    if (!this.counting.has(pipeline)) return null;
    let g = this.groups.get(pipeline);
    if (!g) {
      g = this.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(1),
        entries: [{ binding: 0, resource: { buffer: this.buffer } }],
      });
      this.groups.set(pipeline, g);
    }
    return g;
  }

  /** Per kernel name (the maximum over its pipelines), most iterations first. */
  async read(): Promise<KernelLoops[]> {
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(this.buffer, 0, this.readback, 0, 4 * this.capacity);
    this.device.queue.submit([enc.finish()]);
    await this.readback.mapAsync(1 /* GPUMapMode.READ */);
    const counts = new Uint32Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    const byName = new Map<string, number>();
    for (const { slot, name } of this.slots.values()) {
      byName.set(name, Math.max(byName.get(name) ?? 0, counts[slot]));
    }
    return [...byName.entries()]
      .map(([name, maxIterations]) => ({
        name,
        maxIterations,
        overCap: !loopsFit(maxIterations),
      }))
      .sort((a, b) => b.maxIterations - a.maxIterations);
  }

  /** Frees the audit buffers. */
  destroy(): void {
    this.buffer.destroy();
    this.readback.destroy();
  }
}
