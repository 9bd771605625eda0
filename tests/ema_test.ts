import { Ema, emaUpdateRef } from "../src/nn/ema.ts";
import type { Gpu } from "../src/gpu/gpu.ts";
import { ParamStore } from "../src/gpu/params.ts";
import { assertClose, rand, testGpu } from "./_util.ts";

const SHAPES = [[3, 5], [7], [1], [2, 3, 11], [65]];

function makeStore(gpu: Gpu, seed: number): ParamStore {
  const store = new ParamStore(`ema_test${seed}`);
  SHAPES.forEach((s, i) => store.add(`p${i}`, s, rand(s.reduce((a, b) => a * b, 1), seed + i, -1, 1)));
  store.build(gpu);
  return store;
}

/** New random live weights for step k (a stand-in for an optimiser step), written into the value slices. */
function perturb(gpu: Gpu, store: ParamStore, k: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  store.params.forEach((p, i) => {
    const v = rand(p.init.length, 500 * k + i, -2, 2);
    gpu.write(p.value, v);
    out.set(p.name, v);
  });
  return out;
}

Deno.test("EMA GPU equals the CPU reference after several updates (both variants), padding stays 0", async () => {
  const gpu = await testGpu();
  for (const variant of ["naive", "blocked"] as const) {
    const store = makeStore(gpu, 3);
    const decay = 0.9;
    const ema = new Ema(gpu, store, decay, { variant });
    const init = await gpu.read(ema.values);
    assertClose(
      init,
      await gpu.read(store.values),
      { atol: 0, rtol: 0 },
      `${variant} EMA starts at the values`,
    );
    const ref = new Map(store.params.map((p) => [p.name, Float64Array.from(p.init)]));
    for (let k = 1; k <= 6; k++) {
      const vals = perturb(gpu, store, k);
      if (k === 6) {
        // two updates in one submit are fine (fixed decay, no per-step uniform)
        gpu.run((rec) => {
          ema.update(rec);
          ema.update(rec);
        });
        for (const [n, r] of ref) {
          emaUpdateRef(r, vals.get(n)!, decay);
          emaUpdateRef(r, vals.get(n)!, decay);
        }
      } else {
        gpu.run((rec) => ema.update(rec));
        for (const [n, r] of ref) emaUpdateRef(r, vals.get(n)!, decay);
      }
    }
    const got = await store.readValues(gpu, ema.values);
    for (const [n, r] of ref) assertClose(got.get(n)!, r, { atol: 1e-6, rtol: 1e-5 }, `${variant} ema ${n}`);
    const flat = await gpu.read(ema.values);
    const real = new Uint8Array(flat.length);
    for (const p of store.params) real.fill(1, p.offset / 4, p.offset / 4 + p.init.length);
    flat.forEach((x, i) => {
      if (!real[i] && x !== 0) throw new Error(`${variant}: padding [${i}] = ${x}`);
    });
  }
});

Deno.test("EMA swapIn/swapOut exchanges live and averaged weights; state round-trips", async () => {
  const gpu = await testGpu();
  const store = makeStore(gpu, 20);
  const ema = new Ema(gpu, store, 0.5);
  perturb(gpu, store, 1);
  gpu.run((rec) => ema.update(rec));
  const live = await gpu.read(store.values), avg = await gpu.read(ema.values);
  if (live.every((x, i) => x === avg[i])) {
    throw new Error("EMA equals the live weights: the test proves nothing");
  }
  const exact = { atol: 0, rtol: 0 };
  gpu.run((rec) => ema.swapIn(rec));
  assertClose(await gpu.read(store.values), avg, exact, "swapped-in values are the EMA");
  if (!ema.isSwappedIn) throw new Error("isSwappedIn must be true");
  let threw = false;
  try {
    gpu.run((rec) => ema.update(rec));
  } catch {
    threw = true;
  }
  if (!threw) throw new Error("update while swapped in must throw");
  gpu.run((rec) => ema.swapOut(rec));
  assertClose(await gpu.read(store.values), live, exact, "swapOut restores the live values");

  // checkpoint: save, update twice more; restore into a fresh EMA, update twice: bitwise equal
  const saved = await ema.state();
  for (let k = 2; k <= 3; k++) {
    perturb(gpu, store, k);
    gpu.run((rec) => ema.update(rec));
  }
  const want = await gpu.read(ema.values);
  const store2 = makeStore(gpu, 77);
  const ema2 = new Ema(gpu, store2, 0.5);
  ema2.setState(saved);
  for (let k = 2; k <= 3; k++) {
    perturb(gpu, store2, k);
    gpu.run((rec) => ema2.update(rec));
  }
  assertClose(await gpu.read(ema2.values), want, exact, "resumed EMA");
  let threw2 = false;
  try {
    ema2.setState({ decay: 0.5, values: new Float32Array(5) });
  } catch (e) {
    threw2 = String(e).includes("another model");
  }
  if (!threw2) throw new Error("a foreign checkpoint must be refused");
});

Deno.test("EMA setDecay: later updates use the new decay (a ramp-up), earlier ones kept theirs", async () => {
  const gpu = await testGpu();
  const store = makeStore(gpu, 31);
  const ema = new Ema(gpu, store, 0.9);
  const ref = new Map(store.params.map((p) => [p.name, Float64Array.from(p.init)]));
  const decays = [0.9, 0.5, 0.5, 0.99, 0];
  decays.forEach((d, k) => {
    ema.setDecay(d);
    const vals = perturb(gpu, store, k + 1);
    gpu.run((rec) => ema.update(rec));
    for (const [n, r] of ref) emaUpdateRef(r, vals.get(n)!, d);
  });
  if (ema.currentDecay !== 0) throw new Error(`currentDecay ${ema.currentDecay}, want 0`);
  const got = await store.readValues(gpu, ema.values);
  for (const [n, r] of ref) assertClose(got.get(n)!, r, { atol: 1e-6, rtol: 1e-5 }, `ramped ema ${n}`);
  let threw = false;
  try {
    ema.setDecay(1.5);
  } catch (e) {
    threw = String(e).includes("[0, 1]");
  }
  if (!threw) throw new Error("a decay outside [0, 1] must be refused");
});
