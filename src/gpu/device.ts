/**
 * Getting a WebGPU adapter and device, the same way in Deno and in browsers.
 *
 * We ask for the limits the engine needs explicitly (as plain numbers: some
 * implementations hand out BigInt-like values), and never reuse an adapter after
 * `requestDevice`, as the spec forbids it.
 * @module
 */

/** What we know about the adapter, for benchmark reports and error messages. */
export interface AdapterReport {
  /** Human readable adapter name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
  description: string;
  /** PCI vendor id or vendor name as the implementation reports it. */
  vendor: string;
  /** GPU architecture string ("" where the implementation hides it). */
  architecture: string;
  /** Device id string. */
  device: string;
  /** True for software / fallback adapters such as llvmpipe or SwiftShader. */
  isFallbackAdapter: boolean;
  /** Optional features the adapter offers. */
  features: string[];
  /** Where the engine runs: "deno", "browser" or "other". */
  runtime: string;
}

/** Options for {@linkcode requestDevice}. */
export interface DeviceOptions {
  /** Passed to `requestAdapter`; "high-performance" picks a discrete GPU where there are several. */
  powerPreference?: GPUPowerPreference;
  /** "compatibility" for browsers that only give an adapter in compatibility mode (ANGLE/GL). */
  featureLevel?: "core" | "compatibility";
  /** Ask for the `timestamp-query` feature (for {@linkcode KernelProfiler}); an error names it when absent. */
  timestamps?: boolean;
}

/** Thrown when no WebGPU adapter can be had; the message says what to do. */
export class NoWebGpuError extends Error {
  constructor(detail: string) {
    super(
      `No WebGPU adapter found (${detail}). medsynth needs WebGPU. ` +
        `On Linux without a GPU install Mesa's software Vulkan driver ` +
        `(Debian/Ubuntu: \`sudo apt-get install mesa-vulkan-drivers\`), then run again. ` +
        `In a browser use a recent Chrome/Edge/Firefox/Safari with WebGPU enabled ` +
        `(chrome://flags/#enable-unsafe-webgpu on Linux).`,
    );
    this.name = "NoWebGpuError";
  }
}

/** The limits the engine asks for, capped at what the adapter offers. */
const WANTED_LIMITS: Record<string, number> = {
  maxStorageBufferBindingSize: 1 << 30,
  maxBufferSize: 1 << 30,
  maxStorageBuffersPerShaderStage: 10,
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupSizeX: 1024,
  maxComputeWorkgroupSizeY: 1024,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupsPerDimension: 65535,
  maxUniformBufferBindingSize: 65536,
  maxBindGroups: 4,
};

function runtimeName(): string {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (typeof g.Deno?.version?.deno === "string") return "deno";
  if (typeof g.document !== "undefined") return "browser";
  return "other";
}

/** Requests an adapter and a device with the engine's limits. Throws {@linkcode NoWebGpuError}. */
export async function requestDevice(
  opts: DeviceOptions = {},
): Promise<{ device: GPUDevice; report: AdapterReport }> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new NoWebGpuError("navigator.gpu is undefined");
  // deno-lint-ignore no-explicit-any
  const adapterOpts: any = { powerPreference: opts.powerPreference ?? "high-performance" };
  if (opts.featureLevel) adapterOpts.featureLevel = opts.featureLevel;
  const adapter = await gpu.requestAdapter(adapterOpts);
  if (!adapter) throw new NoWebGpuError("navigator.gpu.requestAdapter() returned null");
  const requiredLimits: Record<string, number> = {};
  for (const [name, want] of Object.entries(WANTED_LIMITS)) {
    // deno-lint-ignore no-explicit-any
    const have = Number((adapter.limits as any)[name]);
    if (Number.isFinite(have)) requiredLimits[name] = Math.min(want, have);
  }
  // deno-lint-ignore no-explicit-any
  const info: any = adapter.info ?? {};
  const report: AdapterReport = {
    description: String(info.description || info.device || "unknown adapter"),
    vendor: String(info.vendor ?? ""),
    architecture: String(info.architecture ?? ""),
    device: String(info.device ?? ""),
    // deno-lint-ignore no-explicit-any
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? (adapter as any).isFallbackAdapter ?? false),
    features: [...adapter.features].map(String).sort(),
    runtime: runtimeName(),
  };
  const requiredFeatures: GPUFeatureName[] = [];
  if (opts.timestamps) {
    if (!adapter.features.has("timestamp-query")) {
      throw new Error(
        `the adapter ${report.description} has no 'timestamp-query' feature, which per-kernel profiling needs; ` +
          `profile on another adapter, or leave profiling off`,
      );
    }
    requiredFeatures.push("timestamp-query");
  }
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  return { device, report };
}
