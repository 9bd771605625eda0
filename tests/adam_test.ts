import { Adam, type AdamOptions, adamStepRef, type ElementwiseVariant } from "../src/nn/adam.ts";
import type { Gpu } from "../src/gpu/gpu.ts";
import { ParamStore } from "../src/gpu/params.ts";
import { assertClose, rand, testGpu } from "./_util.ts";

const SHAPES = [[3, 5], [7], [1], [2, 3, 11], [65], [64]];

function makeStore(gpu: Gpu, seed: number): ParamStore {
  const store = new ParamStore(`adam_test${seed}`);
  SHAPES.forEach((s, i) => store.add(`p${i}`, s, rand(s.reduce((a, b) => a * b, 1), seed + i, -1, 1)));
  store.build(gpu);
  return store;
}

/** Random gradients for step k, written into each parameter's slice (padding untouched, so zero). */
function writeGrads(gpu: Gpu, store: ParamStore, k: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  store.params.forEach((p, i) => {
    const g = rand(p.init.length, 1000 * k + i, -1, 1);
    if (i === 2) g[0] = 0; // a zero gradient: update must be 0/(0+eps) = 0
    gpu.write(p.grad, g);
    out.set(p.name, g);
  });
  return out;
}

function assertPaddingZero(flat: Float32Array, store: ParamStore, label: string): void {
  const real = new Uint8Array(flat.length);
  for (const p of store.params) real.fill(1, p.offset / 4, p.offset / 4 + p.init.length);
  for (let i = 0; i < flat.length; i++) {
    if (!real[i] && flat[i] !== 0) throw new Error(`${label}: padding [${i}] = ${flat[i]}, must stay 0`);
  }
}

async function checkAgainstRef(variant: ElementwiseVariant, opts: AdamOptions, lrs: number[]): Promise<void> {
  const gpu = await testGpu();
  const store = makeStore(gpu, 7);
  const adam = new Adam(gpu, store, { ...opts, variant });
  const ref = new Map(store.params.map((p) => [p.name, {
    w: Float64Array.from(p.init),
    m: new Float64Array(p.init.length),
    v: new Float64Array(p.init.length),
  }]));
  for (let k = 1; k <= lrs.length; k++) {
    const grads = writeGrads(gpu, store, k);
    adam.lr = lrs[k - 1];
    gpu.run((rec) => adam.step(rec));
    for (const [name, r] of ref) {
      adamStepRef(r.w, grads.get(name)!, r.m, r.v, k, { ...opts, lr: lrs[k - 1] });
    }
  }
  const label = `adam ${variant} b1=${opts.beta1} wd=${opts.weightDecay ?? 0} gs=${opts.gradScale ?? 1}`;
  if (adam.t !== lrs.length) throw new Error(`${label}: t = ${adam.t}, want ${lrs.length}`);
  const vals = await store.readValues(gpu);
  const ms = await store.readValues(gpu, adam.m), vs = await store.readValues(gpu, adam.v);
  for (const [name, r] of ref) {
    assertClose(vals.get(name)!, r.w, { atol: 2e-6, rtol: 1e-5 }, `${label} ${name} w`);
    assertClose(ms.get(name)!, r.m, { atol: 1e-7, rtol: 1e-5 }, `${label} ${name} m`);
    assertClose(vs.get(name)!, r.v, { atol: 1e-8, rtol: 1e-5 }, `${label} ${name} v`);
  }
  for (const [arena, what] of [[store.values, "w"], [adam.m, "m"], [adam.v, "v"]] as const) {
    assertPaddingZero(await gpu.read(arena), store, `${label} ${what}`);
  }
  // the update must actually move the weights (a no-op kernel would fail the reference check anyway)
  const moved = store.params.some((p) => vals.get(p.name)!.some((x, i) => x !== p.init[i]));
  if (!moved) throw new Error(`${label}: weights did not change`);
}

const LRS = [0.01, 0.02, 0.005, 0.01, 0.03];

Deno.test("Adam GPU equals the CPU reference over 5 steps (beta1 0 and 0.9, both variants)", async () => {
  for (const variant of ["naive", "blocked"] as const) {
    await checkAgainstRef(variant, { lr: 0, beta1: 0, beta2: 0.99 }, LRS);
    await checkAgainstRef(variant, { lr: 0, beta1: 0.9, beta2: 0.999 }, LRS);
  }
});

Deno.test("Adam GPU equals the CPU reference with weight decay and gradient scale", async () => {
  for (const variant of ["naive", "auto"] as const) {
    await checkAgainstRef(variant, {
      lr: 0,
      beta1: 0.5,
      beta2: 0.9,
      eps: 1e-6,
      weightDecay: 0.1,
      gradScale: 0.25,
    }, [
      0.05,
      0.1,
      0.02,
    ]);
  }
});

Deno.test("Adam zeroGrads clears the gradient arena in the update", async () => {
  const gpu = await testGpu();
  for (const variant of ["naive", "blocked"] as const) {
    const store = makeStore(gpu, 3);
    const adam = new Adam(gpu, store, { lr: 0.01, zeroGrads: true, variant });
    writeGrads(gpu, store, 1);
    gpu.run((rec) => adam.step(rec));
    const g = await gpu.read(store.grads);
    if (g.some((x) => x !== 0)) throw new Error(`${variant}: gradients not cleared`);
    const m = await gpu.read(adam.m);
    if (!m.some((x) => x !== 0)) throw new Error(`${variant}: moments did not move`);
  }
});

Deno.test("Adam state round-trip resumes bitwise", async () => {
  const gpu = await testGpu();
  const opts: AdamOptions = { lr: 0.01, beta1: 0.9, beta2: 0.99, weightDecay: 0.01 };
  const store = makeStore(gpu, 11);
  const adam = new Adam(gpu, store, opts);
  for (let k = 1; k <= 3; k++) {
    writeGrads(gpu, store, k);
    gpu.run((rec) => adam.step(rec));
  }
  adam.lr = 0.004;
  const saved = await adam.state();
  const savedValues = await store.readValues(gpu);
  const savedFlat = await gpu.read(store.values);
  for (let k = 4; k <= 5; k++) {
    writeGrads(gpu, store, k);
    gpu.run((rec) => adam.step(rec));
  }
  const want = await gpu.read(store.values), wantM = await gpu.read(adam.m), wantV = await gpu.read(adam.v);

  // a fresh store and optimiser, restored from the checkpoint
  const store2 = makeStore(gpu, 99);
  store2.writeValues(gpu, savedValues);
  const adam2 = new Adam(gpu, store2, { ...opts, lr: 123 });
  adam2.setState(saved);
  if (adam2.t !== 3 || adam2.lr !== 0.004) throw new Error(`restored t=${adam2.t} lr=${adam2.lr}`);
  for (let k = 4; k <= 5; k++) {
    writeGrads(gpu, store2, k);
    gpu.run((rec) => adam2.step(rec));
  }
  const exact = { atol: 0, rtol: 0 };
  assertClose(await gpu.read(store2.values), want, exact, "resumed values");
  assertClose(await gpu.read(adam2.m), wantM, exact, "resumed m");
  assertClose(await gpu.read(adam2.v), wantV, exact, "resumed v");
  if (want.every((x, i) => x === savedFlat[i])) throw new Error("steps 4-5 changed nothing");
});

Deno.test("Adam refuses two steps on one recorder, bad hyperparameters and foreign checkpoints", async () => {
  const gpu = await testGpu();
  const store = makeStore(gpu, 5);
  const adam = new Adam(gpu, store, { lr: 0.01 });
  const rec = gpu.recorder();
  adam.step(rec);
  let threw = false;
  try {
    adam.step(rec);
  } catch (e) {
    threw = String(e).includes("Submit between");
  }
  gpu.submit(rec);
  if (!threw) throw new Error("second step on one recorder must throw");
  const throws = (f: () => void, what: string) => {
    try {
      f();
    } catch (e) {
      if (String(e).includes(what)) return;
      throw e;
    }
    throw new Error(`expected an error mentioning "${what}"`);
  };
  throws(() => new Adam(gpu, store, { lr: 0.01, beta1: 1 }), "beta1");
  throws(() => new Adam(gpu, new ParamStore("unbuilt"), { lr: 0.01 }), "build ParamStore");
  throws(
    () => adam.setState({ t: 1, lr: 0.1, m: new Float32Array(3), v: new Float32Array(3) }),
    "another model",
  );
  await gpu.sync();
});
