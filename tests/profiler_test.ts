/** The per-kernel profiler: what it times, that it leaves results unchanged, and its limits. */
import "../src/cli/_xdg.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { KernelProfiler } from "../src/gpu/profiler.ts";
import { profileStep, profileTable } from "../src/bench/profile.ts";
import { upsample2Forward } from "../src/nn/pool.ts";
import { rand } from "./_util.ts";

Deno.test("profiler times every dispatch per kernel and leaves the results unchanged", async () => {
  const gpu = await Gpu.create({ timestamps: true });
  try {
    const big = gpu.tensor([8, 16, 64, 64], rand(8 * 16 * 64 * 64, 1));
    const bigOut = gpu.tensor([8, 16, 128, 128]);
    const small = gpu.tensor([1, 1, 2, 2], rand(4, 2));
    const smallOut = gpu.tensor([1, 1, 4, 4]);
    gpu.run((rec) => upsample2Forward(rec, big, bigOut));
    const plain = await gpu.read(bigOut);
    const prof = new KernelProfiler(gpu.device);
    gpu.profiler = prof;
    const rec = gpu.recorder();
    for (let i = 0; i < 3; i++) upsample2Forward(rec, big, bigOut);
    rec.clear(smallOut); // a non-dispatch command between profiled passes
    for (let i = 0; i < 2; i++) upsample2Forward(rec, small, smallOut);
    gpu.submit(rec);
    gpu.profiler = null;
    const times = await prof.collect();
    gpu.checkErrors();
    assertEquals(times.length, 1, "one kernel, upsample2_fwd");
    assertEquals(times[0].name, "upsample2_fwd");
    assertEquals(times[0].dispatches, 5);
    assertEquals(times[0].share, 1);
    assertEquals(prof.lastDispatches.length, 5);
    // 2 Mi outputs against 16: the big dispatches take longer than the small ones
    const [b0, b1, b2, s0, s1] = prof.lastDispatches.map((d) => d.ms);
    assert(Math.min(b0, b1, b2) > Math.max(s0, s1), `big ${b0} ${b1} ${b2} vs small ${s0} ${s1}`);
    assertEquals(await gpu.read(bigOut), plain, "profiling changes no result");
    assertEquals(await prof.collect(), [], "collect starts afresh");
    prof.destroy();
  } finally {
    gpu.destroy();
  }
});

Deno.test("profiler drops dispatches beyond its capacity and says how many", async () => {
  const gpu = await Gpu.create({ timestamps: true });
  try {
    const x = gpu.tensor([1, 1, 2, 2], rand(4, 3)), y = gpu.tensor([1, 1, 4, 4]);
    const prof = new KernelProfiler(gpu.device, 2);
    assertEquals(new KernelProfiler(gpu.device, 1e6).capacity, 2048, "WebGPU's 4096 queries, two a dispatch");
    gpu.profiler = prof;
    gpu.run((rec) => {
      for (let i = 0; i < 5; i++) upsample2Forward(rec, x, y);
    });
    gpu.profiler = null;
    const times = await prof.collect();
    assertEquals(times[0].dispatches, 2);
    assertEquals(prof.dropped, 3);
    // the untimed dispatches still ran: the output is the upsampled input
    const out = await gpu.read(y), inp = await gpu.read(x);
    assertEquals(out[0], inp[0]);
    assertEquals(out[15], inp[3]);
  } finally {
    gpu.destroy();
  }
});

Deno.test("profiler needs the timestamp-query feature and says so", async () => {
  const gpu = await Gpu.create();
  try {
    assertThrows(() => new KernelProfiler(gpu.device), Error, /timestamps: true/);
  } finally {
    gpu.destroy();
  }
});

Deno.test("profileStep sums per step and its table names the slowest kernel first", async () => {
  const gpu = await Gpu.create({ timestamps: true });
  try {
    const big = gpu.tensor([4, 16, 64, 64], rand(4 * 16 * 64 * 64, 4)),
      bigOut = gpu.tensor([4, 16, 128, 128]);
    const small = gpu.tensor([1, 1, 2, 2], rand(4, 5)), smallOut = gpu.tensor([1, 1, 4, 4]);
    const flip = gpu.tensor([1, 1, 4, 4]);
    const step = () =>
      gpu.run((rec) => {
        upsample2Forward(rec, big, bigOut);
        upsample2Forward(rec, big, bigOut);
        rec.copy(smallOut, flip);
        upsample2Forward(rec, small, smallOut);
      });
    const p = await profileStep(gpu, "toy", "shape", step, 2, 1);
    assertEquals(p.steps, 2);
    assertEquals(p.dispatches, 3, "dispatches per step");
    assertEquals(p.kernels[0].dispatches, 3);
    assert(p.gpuMs > 0 && Math.abs(p.kernels[0].ms - p.gpuMs) < 1e-9);
    const table = profileTable(p);
    assert(table.startsWith("toy (shape):"), table);
    assert(table.includes("upsample2_fwd"), table);
    assertEquals(gpu.profiler, null, "detached afterwards");
    // a step with more dispatches than the query set holds fails with a message, not silently
    const many = () =>
      gpu.run((rec) => {
        for (let i = 0; i < 2049; i++) upsample2Forward(rec, small, smallOut);
      });
    await assertRejects(
      () => profileStep(gpu, "many", "shape", many, 1, 0),
      Error,
      /more than 2048 dispatches/,
    );
  } finally {
    gpu.destroy();
  }
});
