import { assert } from "./_assert.ts";
import { addNoise, noiseParams, noiseRef } from "../src/nn/noise.ts";
import { assertClose, rand, testGpu } from "./_util.ts";

Deno.test("instance noise: GPU equals the CPU reference, standard normal, named by its seed", async () => {
  const gpu = await testGpu();
  const n = 70_000;
  const base = rand(n, 1);
  const v = gpu.tensor([n], base);
  const u = gpu.mutableUniform(12);
  gpu.device.queue.writeBuffer(u, 0, noiseParams(n, 1234, 0.5));
  gpu.run((rec) => addNoise(rec, v, u));
  const got = await gpu.read(v);
  const ref = Float64Array.from(base, (b, i) => b + 0.5 * noiseRef(1234, i));
  assertClose(got, ref, { atol: 1e-5, rtol: 1e-5 }, "noise vs CPU reference");
  let m = 0, s = 0;
  for (let i = 0; i < n; i++) m += noiseRef(1234, i) / n;
  for (let i = 0; i < n; i++) s += (noiseRef(1234, i) - m) ** 2 / n;
  assert(Math.abs(m) < 0.02 && Math.abs(Math.sqrt(s) - 1) < 0.02, `mean ${m}, std ${Math.sqrt(s)}`);
  let same = 0;
  for (let i = 0; i < 1000; i++) if (noiseRef(1234, i) === noiseRef(1235, i)) same++;
  assert(same < 5, "another seed draws other noise");
});
