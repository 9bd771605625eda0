/**
 * Packed conv weights are kept between uses and packed again only after their buffer was written
 * (src/nn/_conv2d_blocked.ts `packWeights`, `Gpu.version`): the counting of writes, a stale texture never
 * read after new weights arrive, and whole GAN runs that give the same bits with reuse on and off.
 */
import { assert, assertEquals } from "./_assert.ts";
import { weightPackOptions } from "../src/nn/_conv2d_blocked.ts";
import { biasActForward } from "../src/nn/activation.ts";
import { conv2dBackwardInput, conv2dForward, type Conv2dShape } from "../src/nn/conv2d.ts";
import { GanTrainer, topCombos } from "../src/train/gan.ts";
import type { Gpu } from "../src/gpu/gpu.ts";
import { quickSetup } from "./_gan_setup.ts";
import { rand, testGpu } from "./_util.ts";

const S: Conv2dShape = { n: 2, cin: 8, h: 8, w: 8, cout: 12, k: 3, stride: 1, pad: 1 };

Deno.test("buffer versions count dispatch writes, clears, copies and uploads, not reads", async () => {
  const gpu = await testGpu();
  const x = gpu.tensor([S.n, S.cin, S.h, S.w], rand(S.n * S.cin * S.h * S.w, 1));
  const w = gpu.tensor([S.cout, S.cin, 3, 3], rand(S.cout * S.cin * 9, 2));
  const y = gpu.tensor([S.n, S.cout, S.h, S.w]);
  const w2 = gpu.tensor(w.shape);
  const v = (t: { buffer: GPUBuffer }) => gpu.version(t.buffer);
  const [vx, vw, vy] = [v(x), v(w), v(y)];
  gpu.run((rec) => conv2dForward(rec, x, w, null, y, S, "blocked"));
  assertEquals([v(x), v(w)], [vx, vw], "read-only bindings are not writes");
  assert(v(y) > vy, "the conv's output binding is a write");
  const before = v(w2);
  gpu.run((rec) => rec.copy(w, w2));
  assertEquals(v(w2), before + 1, "a copy writes its destination");
  gpu.run((rec) => rec.clear(w2));
  assertEquals(v(w2), before + 2, "a clear writes");
  gpu.write(w2, new Float32Array(w2.size));
  assertEquals(v(w2), before + 3, "an upload writes");
});

Deno.test("kept packed weights: new weights are packed again, forward and input gradient", async () => {
  const gpu = await testGpu();
  const x = gpu.tensor([S.n, S.cin, S.h, S.w], rand(S.n * S.cin * S.h * S.w, 3));
  const dy = gpu.tensor([S.n, S.cout, S.h, S.w], rand(S.n * S.cout * S.h * S.w, 4));
  const w = gpu.tensor([S.cout, S.cin, 3, 3], rand(S.cout * S.cin * 9, 5));
  const other = rand(w.size, 6);
  const y = gpu.tensor([S.n, S.cout, S.h, S.w]), dx = gpu.tensor(x.shape);
  const pass = async () => {
    gpu.run((rec) => {
      conv2dForward(rec, x, w, null, y, S, "blocked");
      conv2dBackwardInput(rec, dy, w, dx, S, "blocked");
    });
    return { y: await gpu.read(y), dx: await gpu.read(dx) };
  };
  const first = await pass();
  gpu.write(w, other); // same tensor, new values: a kept texture of the old ones must not be read
  const kept = await pass();
  weightPackOptions.reuse = false;
  let fresh;
  try {
    fresh = await pass();
  } finally {
    weightPackOptions.reuse = true;
  }
  assertEquals(kept.y, fresh.y, "forward with the new weights");
  assertEquals(kept.dx, fresh.dx, "input gradient with the new weights");
  assert(kept.y.some((v, i) => v !== first.y[i]), "the new weights change the output");
  // weights written by a dispatch (as Adam writes them) count too
  const src = gpu.tensor(w.shape, rand(w.size, 7));
  gpu.run((rec) => biasActForward(rec, src, null, w, "identity"));
  const afterDispatch = await pass();
  weightPackOptions.reuse = false;
  try {
    assertEquals(afterDispatch.y, (await pass()).y, "forward after weights written by a dispatch");
  } finally {
    weightPackOptions.reuse = true;
  }
  assert(afterDispatch.y.some((v, i) => v !== kept.y[i]), "the dispatch changed the weights");
});

async function ganRun(gpu: Gpu) {
  const { data, cfg } = quickSetup({ augment: { adaptive: true } });
  const tr = new GanTrainer(gpu, cfg, data);
  let dispatches = 0;
  const recorder = gpu.recorder.bind(gpu);
  gpu.recorder = () => {
    const r = recorder();
    const finish = r.finish.bind(r);
    r.finish = () => {
      dispatches += r.dispatches;
      return finish();
    };
    return r;
  };
  try {
    for (let s = 0; s < 12; s++) {
      tr.trainStep();
      if (tr.logDue) await tr.readLosses();
    }
  } finally {
    gpu.recorder = recorder;
  }
  return { samples: await tr.generate(topCombos(data, 2), 99), dispatches };
}

Deno.test("a GAN run gives the same bits with packed weights kept or packed at every use, in fewer dispatches", async () => {
  const gpu = await testGpu();
  const kept = await ganRun(gpu);
  weightPackOptions.reuse = false;
  let fresh;
  try {
    fresh = await ganRun(gpu);
  } finally {
    weightPackOptions.reuse = true;
  }
  assertEquals(Array.from(kept.samples), Array.from(fresh.samples));
  assert(
    kept.dispatches < fresh.dispatches,
    `keeping packed weights should save dispatches (${kept.dispatches} vs ${fresh.dispatches})`,
  );
});
