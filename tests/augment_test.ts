import {
  adaUpdate,
  AUGMENT_DRAWS_PER_SAMPLE,
  AUGMENT_PAD,
  AUGMENT_PARAMS,
  augmentBackward,
  augmentBackwardRef,
  type AugmentConfig,
  augmentConfig,
  Augmenter,
  augmentForward,
  augmentRef,
  drawAugmentParams,
} from "../src/nn/augment.ts";
import type { NormVariant } from "../src/nn/batch_norm.ts";
import { Rng } from "../src/util/rng.ts";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

const SHAPES: [number, number, number, number][] = [
  [1, 1, 7, 7],
  [3, 3, 9, 9],
  [5, 1, 32, 32],
  [3, 1, 9, 7],
];
const ALL_ON: Partial<AugmentConfig> = { flip: true };
const NONE: Partial<AugmentConfig> = { pTranslate: 0, pCutout: 0, pColor: 0 };
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const TOL = { atol: 2e-6, rtol: 1e-5 };

Deno.test("augment GPU forward and backward equal the CPU reference", async () => {
  const gpu = await testGpu();
  for (const shape of SHAPES) {
    const [n] = shape, size = numel(shape);
    const xh = rand(size, 1), dyh = rand(size, 2);
    const x = gpu.tensor(shape, xh), dy = gpu.tensor(shape, dyh);
    const y = gpu.tensor(shape), dx = gpu.tensor(shape), stat = gpu.tensor([n]);
    const params = gpu.tensor([n, AUGMENT_PARAMS]);
    const rng = new Rng(shape[2] * 100 + n);
    for (
      const [label, cfg, p] of [["all ops", ALL_ON, 1], ["half", ALL_ON, 0.5], ["none", NONE, 1]] as const
    ) {
      for (let rep = 0; rep < 3; rep++) {
        const prm = drawAugmentParams(rng, augmentConfig(cfg), shape, p);
        gpu.write(params, prm);
        for (const variant of ["naive", "blocked"] as NormVariant[]) {
          gpu.run((rec) => {
            augmentForward(rec, x, params, stat, y, { variant });
            augmentBackward(rec, dy, params, stat, dx, { variant });
          });
          const tag = `${label} ${variant} ${shape} rep ${rep}`;
          assertClose(await gpu.read(y), augmentRef(xh, prm, shape), TOL, `fwd ${tag}`);
          assertClose(await gpu.read(dx), augmentBackwardRef(dyh, prm, shape), TOL, `bwd ${tag}`);
        }
      }
    }
    for (const t of [x, dy, y, dx, stat, params]) t.dispose();
  }
});

/** Hand-picked params for one sample: every op on, including the mirror. */
function fixedParams(rows: number[][]): Float64Array {
  return Float64Array.from(rows.flat());
}

Deno.test("augment CPU backward equals finite differences (incl. the contrast mean's gradient)", () => {
  const shape = [3, 2, 6, 5];
  const prm = fixedParams([
    // tx, ty, flip, cutX0, cutY0, cutX1, cutY1, k, b
    [1, -2, 1, -1, 2, 2, 5, 1.37, -0.21],
    [-1, 0, 0, 0, 0, 0, 0, 0.62, 0.4],
    [0, 1, 0, 3, -1, 6, 2, 1, 0],
  ]);
  const x = Float64Array.from(rand(numel(shape), 31));
  const dy = Float64Array.from(rand(numel(shape), 32));
  const fd = finiteDiff((xx) => dot(dy, augmentRef(xx, prm, shape)), x);
  const dx = augmentBackwardRef(dy, prm, shape);
  assertClose(dx, fd, { atol: 1e-8, rtol: 1e-6 }, "fd dx");
  // the mean term is there: with contrast != 1 every input pixel gets a gradient, even shifted-out ones
  assert(dx.slice(0, 60).every((v) => v !== 0), "sample 0 (contrast 1.37) must have no zero input gradient");
  // and the forward really translates: sample 2 shifts down by one row, its first row is background
  const y = augmentRef(x, prm, shape);
  const base = 2 * 60;
  for (let j = 0; j < 5; j++) assertEquals(y[base + j], AUGMENT_PAD);
  assertEquals(y[base + 2 * 5 + 0], x[base + 1 * 5 + 0]);
});

Deno.test("each augmentation op is the exact identity at p = 0 and changes the images at p = 1", async () => {
  const gpu = await testGpu();
  const shape: [number, number, number, number] = [5, 3, 9, 9];
  const xh = rand(numel(shape), 41, -0.9, 0.9);
  const x = gpu.tensor(shape, xh), y = gpu.tensor(shape);
  const ops: Record<string, Partial<AugmentConfig>> = {
    translate: { pTranslate: 1 },
    cutout: { pCutout: 1 },
    color: { pColor: 1 },
    flip: { pTranslate: 1, translateFrac: 0, flip: true },
  };
  const rng = new Rng(42);
  for (const [name, on] of Object.entries(ops)) {
    for (const p of [0, 1]) {
      const aug = new Augmenter(gpu, shape, { ...NONE, ...on });
      aug.p = p;
      const params = aug.paramsTensor();
      const prm = aug.draw(rng, params).slice();
      gpu.run((rec) => aug.forward(rec, x, params, y));
      const got = await gpu.read(y);
      if (p === 0) {
        assertEquals(Array.from(got), Array.from(xh), `${name} at p = 0 must be the identity`);
        for (let i = 0; i < shape[0]; i++) {
          assertEquals(
            Array.from(prm.slice(i * 9, i * 9 + 9)),
            [0, 0, 0, 0, 0, 0, 0, 1, 0],
            `${name} params`,
          );
        }
      } else {
        const changed = got.some((v, i) => v !== xh[i]);
        assert(changed, `${name} at p = 1 must change the batch`);
        assertClose(got, augmentRef(xh, prm, shape), TOL, `${name} p = 1`);
      }
      params.dispose();
      aug.dispose();
    }
  }
  x.dispose();
  y.dispose();
});

Deno.test("augment params: ranges, application rates, fixed draw count, reproducible from the seed", () => {
  const shape = [2000, 1, 64, 64];
  const cfg = augmentConfig({ flip: true });
  const prm = drawAugmentParams(new Rng(7), cfg, shape, 0.5);
  let nT = 0, nF = 0, nC = 0, nK = 0, nB = 0;
  for (let i = 0; i < 2000; i++) {
    const [tx, ty, flip, x0, y0, x1, y1, k, b] = prm.slice(i * 9, i * 9 + 9);
    assert(Number.isInteger(tx) && Math.abs(tx) <= 8 && Math.abs(ty) <= 8, `translation ${tx},${ty}`);
    if (tx !== 0 || ty !== 0) nT++;
    if (flip) nF++;
    if (x1 > x0) {
      nC++;
      assertEquals([x1 - x0, y1 - y0], [32, 32]);
      assert(x0 + 16 >= 0 && x0 + 16 < 64 && y0 + 16 >= 0 && y0 + 16 < 64, "cutout centre inside");
    }
    if (k !== 1) {
      nK++;
      assert(k >= 0.5 && k < 1.5, `contrast ${k}`);
    }
    if (b !== 0) {
      nB++;
      assert(b >= -0.5 && b < 0.5, `brightness ${b}`);
    }
  }
  // p = 0.5: half the samples (translation: minus those that drew (0, 0), 1/289); mirror p/2 = 0.25
  const near = (v: number, e: number, what: string) =>
    assert(Math.abs(v / 2000 - e) < 0.04, `${what}: ${v}/2000`);
  near(nT, 0.5, "translated");
  near(nF, 0.25, "mirrored");
  near(nC, 0.5, "cut out");
  near(nK, 0.5, "contrast");
  near(nB, 0.5, "brightness");
  // same seed, same params; another seed, other params
  assertEquals(Array.from(drawAugmentParams(new Rng(7), cfg, shape, 0.5)), Array.from(prm));
  assert(drawAugmentParams(new Rng(8), cfg, shape, 0.5).some((v, i) => v !== prm[i]), "seed 8 must differ");
  // the Rng advances by the same number of draws whatever p and the config
  const states = [[cfg, 0.5], [augmentConfig(NONE), 1], [augmentConfig({ flip: false, cutoutFrac: 0 }), 0]]
    .map(
      ([c, p]) => {
        const r = new Rng(3);
        drawAugmentParams(r, c as AugmentConfig, [5, 1, 9, 9], p as number);
        return r.getState();
      },
    );
  const ref = new Rng(3);
  for (let i = 0; i < 5 * AUGMENT_DRAWS_PER_SAMPLE; i++) ref.next();
  for (const s of states) assertEquals(s, ref.getState());
});

Deno.test("Augmenter: real and fake batches with their own params tensors in one submit", async () => {
  const gpu = await testGpu();
  const shape: [number, number, number, number] = [3, 1, 32, 32];
  const aug = new Augmenter(gpu, shape, { flip: true });
  const pReal = aug.paramsTensor(), pFake = aug.paramsTensor();
  const rh = rand(numel(shape), 51), fh = rand(numel(shape), 52), dyh = rand(numel(shape), 53);
  const real = gpu.tensor(shape, rh), fake = gpu.tensor(shape, fh), dy = gpu.tensor(shape, dyh);
  const yr = gpu.tensor(shape), yf = gpu.tensor(shape), dfake = gpu.tensor(shape);
  const rng = new Rng(99);
  for (let step = 0; step < 2; step++) {
    const prmR = aug.draw(rng, pReal).slice();
    const prmF = aug.draw(rng, pFake).slice();
    const before = gpu.buffersCreated;
    gpu.run((rec) => {
      aug.forward(rec, real, pReal, yr);
      aug.forward(rec, fake, pFake, yf);
      aug.backward(rec, dy, pFake, dfake);
    });
    if (step > 0) assertEquals(gpu.buffersCreated, before, "a second step allocates nothing");
    assertClose(await gpu.read(yr), augmentRef(rh, prmR, shape), TOL, `real step ${step}`);
    assertClose(await gpu.read(yf), augmentRef(fh, prmF, shape), TOL, `fake step ${step}`);
    assertClose(await gpu.read(dfake), augmentBackwardRef(dyh, prmF, shape), TOL, `dfake step ${step}`);
  }
  // resuming from a saved Rng state redraws the same augmentations
  const saved = rng.getState();
  const next = aug.draw(rng, pReal).slice();
  const resumed = new Rng(0);
  resumed.setState(saved);
  assertEquals(Array.from(aug.draw(resumed, pReal)), Array.from(next));
  assertThrows(
    () => gpu.run((rec) => aug.forward(rec, gpu.tensor([2, 1, 32, 32]), pReal, yr)),
    Error,
    /built for/,
  );
  assertThrows(() => gpu.run((rec) => aug.forward(rec, real, pReal, real)), Error, /distinct buffers/);
  assertThrows(() => augmentConfig({ pCutout: 1.5 }), Error, /pCutout/);
  for (const t of [pReal, pFake, real, fake, dy, yr, yf, dfake]) t.dispose();
  aug.dispose();
});

Deno.test("adaUpdate moves p by images / speed towards the target and clamps to [0, pMax]", () => {
  assertEquals(adaUpdate(0.2, 0.9, 4 * 64), 0.2 + 256 / 500_000);
  assertEquals(adaUpdate(0.2, 0.1, 4 * 64), 0.2 - 256 / 500_000);
  assertEquals(adaUpdate(0.2, 0.6, 4 * 64), 0.2);
  assertEquals(adaUpdate(0, -1, 1000), 0);
  assertEquals(adaUpdate(0.9999, 1, 1000), 1);
  assertEquals(adaUpdate(0.5, 1, 1000, { pMax: 0.5 }), 0.5);
  assertEquals(adaUpdate(0.5, 0.7, 1000, { target: 0.8, speedImages: 10_000 }), 0.4);
  assertThrows(() => adaUpdate(0.5, NaN, 10), Error, /adaUpdate/);
});
