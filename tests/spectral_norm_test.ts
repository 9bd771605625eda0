import type { NormVariant } from "../src/nn/batch_norm.ts";
import {
  snFused,
  snOptions,
  spectralNormBackward,
  spectralNormBackwardRef,
  spectralNormForward,
  spectralNormForwardRef,
  spectralNormInitU,
  spectralNormState,
} from "../src/nn/spectral_norm.ts";
import { assert, assertEquals } from "./_assert.ts";
import { Rng } from "../src/util/rng.ts";
import { assertClose, dot, finiteDiff, rand, testGpu } from "./_util.ts";

// weight shapes (Out, In...): a conv weight, square, odd, tall, wide
const SHAPES = [[8, 3, 3, 3], [16, 16], [5, 7], [33, 6], [32, 16, 3, 3]];
const VARIANTS: NormVariant[] = ["naive", "blocked"];
const STEPS = 3;

Deno.test("spectral norm GPU forward (power iteration, W/sigma) and backward equal the CPU reference", async () => {
  const gpu = await testGpu();
  for (const shape of SHAPES) {
    for (const variant of VARIANTS) {
      const out = shape[0], n = shape.reduce((a, b) => a * b, 1), inn = n / out;
      const wh = rand(n, 101), dh = rand(n, 102);
      const u0 = spectralNormInitU(out, 103);
      const w = gpu.tensor(shape, wh), wsn = gpu.tensor(shape), d = gpu.tensor(shape, dh);
      const dw = gpu.tensor(shape, new Float32Array(n).fill(0.25));
      const st = spectralNormState(gpu, shape, 0, u0);
      gpu.run((rec) => {
        for (let i = 0; i < STEPS; i++) spectralNormForward(rec, w, wsn, st, { variant });
        spectralNormBackward(rec, d, wsn, st, dw, { variant });
      });
      let ref = spectralNormForwardRef(wh, out, inn, u0);
      for (let i = 1; i < STEPS; i++) ref = spectralNormForwardRef(wh, out, inn, ref.u);
      const label = `${shape} ${variant}`;
      const tol = { atol: 2e-5, rtol: 1e-4 };
      assertClose(await gpu.read(st.u), ref.u, tol, `u ${label}`);
      assertClose(await gpu.read(st.v), ref.v, tol, `v ${label}`);
      assertClose((await gpu.read(st.scal)).subarray(0, 1), [ref.sigma], tol, `sigma ${label}`);
      assertClose(await gpu.read(wsn), ref.wsn, tol, `wsn ${label}`);
      const dwRef = spectralNormBackwardRef(dh, wh, out, inn, ref.u, ref.v);
      assertClose(await gpu.read(dw), dwRef.map((v) => v + 0.25), { atol: 1e-4, rtol: 1e-4 }, `dw ${label}`);

      // evaluation: u stays, sigma = u^T W v
      const uBefore = await gpu.read(st.u);
      gpu.run((rec) => spectralNormForward(rec, w, wsn, st, { update: false, variant }));
      const evalRef = spectralNormForwardRef(wh, out, inn, uBefore, { update: false });
      assertClose(await gpu.read(st.u), uBefore, { atol: 0, rtol: 0 }, `eval keeps u ${label}`);
      assertClose((await gpu.read(st.scal)).subarray(0, 1), [evalRef.sigma], tol, `eval sigma ${label}`);
      assertClose(await gpu.read(wsn), evalRef.wsn, tol, `eval wsn ${label}`);
      for (const t of [w, wsn, d, dw, st.u, st.v, st.tmp, st.scal]) t.dispose();
    }
  }
});

/** Largest singular value of W (out, inn) in float64: cyclic Jacobi eigenvalues of the Gram matrix W W^T. */
function largestSingularValue(w: ArrayLike<number>, out: number, inn: number): number {
  const a: number[][] = [];
  for (let i = 0; i < out; i++) {
    a.push([]);
    for (let j = 0; j < out; j++) {
      let s = 0;
      for (let k = 0; k < inn; k++) s += w[i * inn + k] * w[j * inn + k];
      a[i].push(s);
    }
  }
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < out; p++) for (let q = p + 1; q < out; q++) off += a[p][q] ** 2;
    if (off < 1e-24) break;
    for (let p = 0; p < out; p++) {
      for (let q = p + 1; q < out; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < out; k++) { // rotate columns p, q
          const akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < out; k++) { // rotate rows p, q
          const apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Math.sqrt(Math.max(...a.map((row, i) => row[i])));
}

/** W = Q1 diag(s) Q2^T with seeded random orthonormal Q1 (out, r), Q2 (inn, r): known singular values s. */
function knownSpectrum(out: number, inn: number, s: number[], seed: number): Float64Array {
  const rng = new Rng(seed);
  const orth = (m: number): number[][] => {
    const qs: number[][] = [];
    while (qs.length < s.length) {
      const v = Array.from({ length: m }, () => rng.normal());
      for (const q of qs) {
        const d = dot(q, v);
        for (let i = 0; i < m; i++) v[i] -= d * q[i];
      }
      const nrm = Math.hypot(...v);
      qs.push(v.map((x) => x / nrm));
    }
    return qs;
  };
  const q1 = orth(out), q2 = orth(inn);
  const w = new Float64Array(out * inn);
  for (let r = 0; r < s.length; r++) {
    for (let i = 0; i < out; i++) for (let j = 0; j < inn; j++) w[i * inn + j] += s[r] * q1[r][i] * q2[r][j];
  }
  return w;
}

Deno.test("spectral norm sigma converges to the largest singular value", async () => {
  const gpu = await testGpu();
  // a matrix with known singular values, and a random one checked against a float64 Jacobi SVD
  const out = 12, inn = 20;
  const known = knownSpectrum(out, inn, [3, 2.4, 1.5, 1, 0.5, 0.1], 111);
  assertClose(
    [largestSingularValue(known, out, inn)],
    [3],
    { atol: 1e-9, rtol: 1e-9 },
    "Jacobi SVD on known W",
  );
  const random = Float64Array.from(new Rng(112).normals(out * inn));
  const sigma1 = largestSingularValue(random, out, inn);
  for (const [name, wh, want] of [["known", known, 3], ["random", random, sigma1]] as const) {
    const w = gpu.tensor([out, inn], wh), wsn = gpu.tensor([out, inn]);
    const st = spectralNormState(gpu, [out, inn], 113);
    const sigmas: number[] = [];
    for (const steps of [1, 200]) {
      gpu.run((rec) => {
        for (let i = 0; i < steps; i++) spectralNormForward(rec, w, wsn, st);
      });
      sigmas.push((await gpu.read(st.scal))[0]);
    }
    // one step from a random u is a poor estimate; 201 steps converge
    if (!(Math.abs(sigmas[0] - want) > 1e-3)) {
      throw new Error(`${name}: first-step sigma ${sigmas[0]} already ${want}?`);
    }
    assertClose([sigmas[1]], [want], { atol: 0, rtol: 2e-5 }, `${name} sigma after 201 steps`);
    // W_sn has spectral norm 1
    assertClose(
      [largestSingularValue(await gpu.read(wsn), out, inn)],
      [1],
      { atol: 0, rtol: 1e-4 },
      `${name} |W_sn|`,
    );
    for (const t of [w, wsn, st.u, st.v, st.tmp, st.scal]) t.dispose();
  }
});

Deno.test("spectral norm CPU backward equals finite differences (u, v fixed)", () => {
  for (const [out, inn] of [[4, 6], [7, 3]]) {
    const w = Float64Array.from(rand(out * inn, 121)), d = Float64Array.from(rand(out * inn, 122));
    const { u, v } = spectralNormForwardRef(w, out, inn, spectralNormInitU(out, 123));
    // W_sn = W / (u^T W v) with u, v held fixed
    const f = (ww: Float64Array) => {
      let sigma = 0;
      for (let i = 0; i < out; i++) for (let j = 0; j < inn; j++) sigma += u[i] * ww[i * inn + j] * v[j];
      return dot(d, ww.map((x) => x / sigma));
    };
    const fd = finiteDiff(f, w.slice());
    assertClose(
      spectralNormBackwardRef(d, w, out, inn, u, v),
      fd,
      { atol: 1e-6, rtol: 1e-5 },
      `fd ${out}x${inn}`,
    );
  }
});

Deno.test("spectral norm's one-dispatch forward gives the five-dispatch path's bits; big weights keep five", async () => {
  const gpu = await testGpu();
  assert(snFused("auto", 64, 576) && snFused("blocked", 8, 72), "the GAN discriminators' weights are fused");
  assert(!snFused("naive", 64, 576), "naive keeps the separate kernels");
  assert(!snFused("auto", 512, 4608), "a DenseNet-sized weight is too big for one workgroup");
  for (const shape of [[8, 1, 3, 3], [64, 64, 3, 3], [33, 6], [5, 7]]) {
    const [out, inn] = [shape[0], shape.slice(1).reduce((a, b) => a * b, 1)];
    const wh = rand(out * inn, 131, -1, 1);
    const run = async (fused: boolean) => {
      snOptions.fused = fused;
      try {
        const w = gpu.tensor(shape, wh), wsn = gpu.tensor(shape), st = spectralNormState(gpu, shape, 9);
        gpu.run((rec) => {
          for (let i = 0; i < STEPS; i++) spectralNormForward(rec, w, wsn, st, { variant: "blocked" });
        });
        const trained = [
          await gpu.read(wsn),
          await gpu.read(st.u),
          await gpu.read(st.v),
          await gpu.read(st.scal),
        ];
        gpu.run((rec) => spectralNormForward(rec, w, wsn, st, { update: false, variant: "blocked" }));
        const kept = [await gpu.read(wsn), await gpu.read(st.scal)];
        for (const t of [w, wsn, st.u, st.v, st.tmp, st.scal]) t.dispose();
        return [...trained, ...kept];
      } finally {
        snOptions.fused = true;
      }
    };
    const [a, b] = [await run(true), await run(false)];
    a.forEach((t, k) => assertEquals([...t], [...b[k]], `${shape}: tensor ${k}`));
  }
});
