import {
  blendBackward,
  blendBackwardRef,
  blendForward,
  blendRef,
  type ProgressiveConfig,
  progressiveGrowthImages,
  type ProgressivePhase,
  progressivePhase,
} from "../src/nn/blend.ts";
import type { ElementwiseVariant } from "../src/nn/adam.ts";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

const SHAPES = [[1, 1, 7, 7], [3, 3, 9, 9], [5, 1, 32, 32], [3, 1, 1, 1], [5, 3, 9, 7]];
const VARIANTS: ElementwiseVariant[] = ["naive", "blocked", "auto"];

Deno.test("blend GPU forward and backward equal the CPU reference; alpha changes without new buffers", async () => {
  const gpu = await testGpu();
  for (const shape of SHAPES) {
    const size = shape.reduce((p, q) => p * q, 1);
    const ah = rand(size, 1), bh = rand(size, 2), dyh = rand(size, 3);
    const a = gpu.tensor(shape, ah), b = gpu.tensor(shape, bh), dy = gpu.tensor(shape, dyh);
    const alpha = gpu.tensor([1]);
    const y = gpu.tensor(shape), da = gpu.tensor(shape), db = gpu.tensor(shape);
    for (const variant of VARIANTS) {
      let buffers = -1, pipelines = -1;
      for (const al of [0, 0.3, 0.875, 1]) {
        gpu.write(alpha, [al]);
        gpu.run((rec) => {
          blendForward(rec, a, b, alpha, y, { variant });
          blendBackward(rec, dy, alpha, da, db, { variant });
        });
        const al32 = Math.fround(al);
        const tag = `${variant} ${shape} alpha ${al}`;
        assertClose(await gpu.read(y), blendRef(ah, bh, al32), { atol: 1e-6, rtol: 1e-6 }, `fwd ${tag}`);
        const ref = blendBackwardRef(dyh, al32);
        assertClose(await gpu.read(da), ref.da, { atol: 1e-7, rtol: 1e-6 }, `da ${tag}`);
        assertClose(await gpu.read(db), ref.db, { atol: 1e-7, rtol: 1e-6 }, `db ${tag}`);
        // after the first alpha, a new alpha value must not compile or allocate anything
        if (buffers >= 0) {
          assertEquals(gpu.buffersCreated, buffers, `${tag}: buffers created`);
          assertEquals(gpu.pipelinesCreated, pipelines, `${tag}: pipelines created`);
        }
        buffers = gpu.buffersCreated;
        pipelines = gpu.pipelinesCreated;
      }
    }
    for (const t of [a, b, dy, alpha, y, da, db]) t.dispose();
  }
});

Deno.test("blend: alpha 0 and 1 select a and b exactly on the GPU", async () => {
  const gpu = await testGpu();
  const shape = [3, 3, 9, 9], size = 729;
  const ah = rand(size, 5), bh = rand(size, 6);
  const a = gpu.tensor(shape, ah),
    b = gpu.tensor(shape, bh),
    alpha = gpu.tensor([1], [0]),
    y = gpu.tensor(shape);
  gpu.run((rec) => blendForward(rec, a, b, alpha, y));
  assertEquals(Array.from(await gpu.read(y)), Array.from(ah));
  gpu.write(alpha, [1]);
  gpu.run((rec) => blendForward(rec, a, b, alpha, y));
  assertEquals(Array.from(await gpu.read(y)), Array.from(bh));
  for (const t of [a, b, alpha, y]) t.dispose();
});

Deno.test("blend CPU backward equals finite differences; bad arguments throw", async () => {
  const n = 30, alpha = 0.37;
  const a = Float64Array.from(rand(n, 7)),
    b = Float64Array.from(rand(n, 8)),
    dy = Float64Array.from(rand(n, 9));
  const { da, db } = blendBackwardRef(dy, alpha);
  assertClose(
    da,
    finiteDiff((aa) => dot(dy, blendRef(aa, b, alpha)), a.slice()),
    { atol: 1e-8, rtol: 1e-6 },
    "da",
  );
  assertClose(
    db,
    finiteDiff((bb) => dot(dy, blendRef(a, bb, alpha)), b.slice()),
    { atol: 1e-8, rtol: 1e-6 },
    "db",
  );
  const gpu = await testGpu();
  const t1 = gpu.tensor([2, 3]), t2 = gpu.tensor([2, 3]), t3 = gpu.tensor([2, 4]), al = gpu.tensor([1]);
  assertThrows(() => gpu.run((rec) => blendForward(rec, t1, t3, al, t2)), Error, /b has shape/);
  assertThrows(() => gpu.run((rec) => blendForward(rec, t1, t2, t3, t2)), Error, /alpha must be a 1-element/);
  assertThrows(() => gpu.run((rec) => blendBackward(rec, t1, al, t2, t2)), Error, /distinct buffers/);
  for (const t of [t1, t2, t3, al]) t.dispose();
});

/** Reference schedule by walking it image by image: a list of (length, res, fading) segments. */
function walkSchedule(cfg: Required<ProgressiveConfig>, upTo: number): ProgressivePhase[] {
  const segs: { len: number; res: number; fading: boolean; index: number }[] = [];
  segs.push({ len: cfg.stableImages, res: cfg.startRes, fading: false, index: 0 });
  let res = cfg.startRes, k = 0;
  while (res < cfg.targetRes) {
    res *= 2;
    k++;
    segs.push({ len: cfg.fadeImages, res, fading: true, index: 2 * k - 1 });
    segs.push({ len: cfg.stableImages, res, fading: false, index: 2 * k });
  }
  segs[segs.length - 1].len = Infinity;
  const out: ProgressivePhase[] = [];
  let seg = 0, into = 0, start = 0;
  for (let i = 0; i <= upTo; i++) {
    while (into >= segs[seg].len) {
      start += segs[seg].len;
      seg++;
      into = 0;
    }
    const s = segs[seg];
    out.push({
      res: s.res,
      alpha: s.fading ? into / s.len : 1,
      phaseIndex: s.index,
      fading: s.fading,
      phaseStart: start,
    });
    into++;
  }
  return out;
}

Deno.test("progressive schedule equals an image-by-image walk, at every image", () => {
  const cfgs: Required<ProgressiveConfig>[] = [
    { startRes: 8, targetRes: 64, fadeImages: 10, stableImages: 25 },
    { startRes: 8, targetRes: 32, fadeImages: 7, stableImages: 0 },
    { startRes: 8, targetRes: 32, fadeImages: 0, stableImages: 9 },
    { startRes: 4, targetRes: 4, fadeImages: 5, stableImages: 5 },
    { startRes: 8, targetRes: 16, fadeImages: 1, stableImages: 1 },
  ];
  for (const cfg of cfgs) {
    const total = progressiveGrowthImages(cfg);
    const ref = walkSchedule(cfg, total + 20);
    for (let i = 0; i < ref.length; i++) {
      assertEquals(progressivePhase(i, cfg), ref[i], `cfg ${JSON.stringify(cfg)} at ${i} images`);
    }
    const last = progressivePhase(1e12, cfg);
    assertEquals([last.res, last.alpha, last.fading], [cfg.targetRes, 1, false]);
  }
});

Deno.test("progressive schedule boundaries are exact", () => {
  const cfg = { targetRes: 64, fadeImages: 600_000, stableImages: 600_000 }; // startRes defaults to 8
  const at = (i: number) => progressivePhase(i, cfg);
  assertEquals(at(0), { res: 8, alpha: 1, phaseIndex: 0, fading: false, phaseStart: 0 });
  assertEquals(at(599_999), { res: 8, alpha: 1, phaseIndex: 0, fading: false, phaseStart: 0 });
  assertEquals(at(600_000), { res: 16, alpha: 0, phaseIndex: 1, fading: true, phaseStart: 600_000 });
  assertEquals(at(900_000).alpha, 0.5);
  assertEquals(at(1_199_999).alpha, 599_999 / 600_000);
  assertEquals(at(1_200_000), { res: 16, alpha: 1, phaseIndex: 2, fading: false, phaseStart: 1_200_000 });
  assertEquals(at(1_800_000), { res: 32, alpha: 0, phaseIndex: 3, fading: true, phaseStart: 1_800_000 });
  assertEquals(at(3_000_000), { res: 64, alpha: 0, phaseIndex: 5, fading: true, phaseStart: 3_000_000 });
  assertEquals(at(3_599_999).fading, true);
  assertEquals(at(3_600_000), { res: 64, alpha: 1, phaseIndex: 6, fading: false, phaseStart: 3_600_000 });
  assertEquals(progressiveGrowthImages(cfg), 3_600_000);
  // monotone: alpha never decreases within a phase and res never decreases
  let prev = at(0);
  for (let i = 1000; i < 4_000_000; i += 1000) {
    const cur = at(i);
    assert(cur.res >= prev.res && cur.phaseIndex >= prev.phaseIndex, `not monotone at ${i}`);
    if (cur.phaseIndex === prev.phaseIndex) assert(cur.alpha >= prev.alpha, `alpha fell at ${i}`);
    prev = cur;
  }
  assertThrows(
    () => progressivePhase(0, { startRes: 6, targetRes: 64, fadeImages: 1, stableImages: 1 }),
    Error,
    /power of two/,
  );
  assertThrows(
    () => progressivePhase(0, { targetRes: 4, fadeImages: 1, stableImages: 1 }),
    Error,
    /targetRes/,
  );
  assertThrows(() => progressivePhase(-1, cfg), Error, /imagesSeen/);
  assertThrows(
    () => progressivePhase(0, { targetRes: 16, fadeImages: -1, stableImages: 1 }),
    Error,
    /fadeImages/,
  );
});
