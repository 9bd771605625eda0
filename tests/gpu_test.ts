import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { NoWebGpuError, requestDevice } from "../src/gpu/device.ts";
import { grid1d } from "../src/gpu/kernel.ts";
import { ParamStore } from "../src/gpu/params.ts";
import { assertDistinct, Tensor } from "../src/gpu/tensor.ts";
import { testGpu } from "./_util.ts";

Deno.test("a WebGPU adapter is present (the suite fails, never skips, without one)", async () => {
  const gpu = await testGpu();
  assert(gpu.adapter.description.length > 0, "adapter has a description");
  console.log(`adapter: ${gpu.adapter.description} fallback=${gpu.adapter.isFallbackAdapter}`);
});

Deno.test("no navigator.gpu gives NoWebGpuError with advice", async () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis.navigator, "gpu");
  Object.defineProperty(globalThis.navigator, "gpu", { value: undefined, configurable: true });
  try {
    const err = await assertRejects(() => requestDevice(), NoWebGpuError);
    assert(/mesa-vulkan-drivers/.test(err.message) && /browser/.test(err.message), err.message);
  } finally {
    if (saved) Object.defineProperty(globalThis.navigator, "gpu", saved);
    else delete (globalThis.navigator as { gpu?: unknown }).gpu;
  }
});

Deno.test("grid1d folds large 1-D grids under the 65535 limit and covers every group", () => {
  for (const g of [1, 65535, 65536, 200000, 1 << 22]) {
    const [x, y, z] = grid1d(g);
    assert(x <= 65535 && y <= 65535 && z === 1, `grid for ${g}: ${x},${y}`);
    assert(x * y >= g, `grid for ${g} covers ${x * y}`);
  }
});

Deno.test("param store packs params 256-byte aligned and round-trips values", async () => {
  const gpu = await testGpu();
  const store = new ParamStore("t");
  const a = store.add("a", [3, 5], Float32Array.from({ length: 15 }, (_, i) => i));
  const b = store.add("b", [7], Float32Array.from({ length: 7 }, (_, i) => -i));
  store.build(gpu);
  assertEquals(a.offset % 256, 0);
  assertEquals(b.offset % 256, 0);
  assert(b.offset >= 15 * 4);
  const vals = await store.readValues(gpu);
  assertEquals(Array.from(vals.get("a")!), Array.from(a.init));
  assertEquals(Array.from(vals.get("b")!), Array.from(b.init));
  const flat = await gpu.read(store.values);
  assertEquals(flat[15], 0, "padding stays zero");
});

Deno.test("buffers are pooled: disposing and re-requesting a tensor allocates nothing new", async () => {
  const gpu = await testGpu();
  const t = gpu.tensor([17, 3]);
  t.dispose();
  const before = gpu.buffersCreated;
  const u = gpu.tensor([17, 3]);
  assertEquals(gpu.buffersCreated, before);
  u.dispose();
});

Deno.test("binding a written tensor over another binding of the same buffer throws a clear error", async () => {
  const { biasActForward } = await import("../src/nn/activation.ts");
  const gpu = await testGpu();
  const x = gpu.tensor([2, 3, 4]);
  const b = gpu.tensor([3]);
  let msg = "";
  try {
    gpu.run((rec) => biasActForward(rec, x, b, x.reshape([2, 3, 4]), "relu"));
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(/must not share a buffer|forbids/.test(msg), `got: ${msg}`);
  // the generic guard, below the layer's own check
  const { WGSL } = await import("../src/gpu/_shaders.generated.ts");
  const k = {
    name: "bias_act_fwd",
    code: WGSL.bias_act_fwd,
    constants: { WG: 256 },
    workgroupSize: [256, 1, 1] as const,
  };
  msg = "";
  try {
    gpu.run((rec) => rec.dispatch(k, [x, b, x, gpu.uniform([24, 3, 4])], [1, 1, 1]));
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(/binding 2 is written and overlaps binding 0/.test(msg), `got: ${msg}`);
});

Deno.test("assertDistinct: outputs may not alias inputs; outputs may share an arena unless told not to", async () => {
  const gpu = await testGpu();
  const x = gpu.tensor([8]), y = gpu.tensor([8]);
  const arena = gpu.tensor([16]);
  const dw = new Tensor(arena.buffer, [8], arena.offset),
    db = new Tensor(arena.buffer, [8], arena.offset + 32);
  assertDistinct("ok", [y], [x, null]);
  assertDistinct("arena views", [dw, db], [x]);
  assertThrows(() => assertDistinct("conv", [y], [x, y]), Error, /conv: outputs must live in other buffers/);
  assertThrows(() => assertDistinct("loss", [dw, db], [x], true), Error, /loss: .* and each other/);
});
