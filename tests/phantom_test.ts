/**
 * The head-CT phantom: determinism, exact label statistics, plausible HU, findings where they belong
 * (from the generator's ground-truth masks), detectability of every subtype, and the DICOM + CSV export.
 */
import dicomParser from "dicom-parser";
import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { Rng } from "../src/util/rng.ts";
import { comboKey } from "../src/data/dataset.ts";
import { dicomToHu } from "../src/data/dicom.ts";
import { writeDicomCt } from "../src/data/dicom_write.ts";
import {
  combosUpTo,
  DEFAULT_PHANTOM_CONFIG,
  makePhantom,
  PHANTOM_LABELS,
  PHANTOM_SUBTYPES,
  type PhantomMasks,
  phantomSliceHu,
  type PhantomSubtype,
  phantomToDicomSeries,
  planPhantom,
  planSliceHu,
  RSNA_PREVALENCE,
} from "../src/data/phantom.ts";

const L = PHANTOM_LABELS.length;
const DEMO_COMBOS = combosUpTo(2).map((f) => ({
  findings: f,
  weight: f.length === 0 ? 0.2 : f.length === 1 ? 0.08 : 0.04,
}));

/** Number of slices of each combination key ("010010" …). */
function comboCounts(labels: Uint8Array, n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = comboKey({ labels, labelNames: [...PHANTOM_LABELS] }, i);
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

function positives(labels: Uint8Array, n: number): number[] {
  const c = new Array(L).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < L; j++) c[j] += labels[i * L + j];
  return c;
}

function assertNoFindingConsistent(labels: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) {
    let any = 0;
    for (let j = 0; j < L - 1; j++) any |= labels[i * L + j];
    assert(labels[i * L + L - 1] === 1 - any, `row ${i}: no_finding must be 1 exactly when no subtype is`);
  }
}

Deno.test("phantom: same seed gives the identical dataset, another seed a different one", () => {
  const cfg = {
    resolution: 24,
    seed: 5,
    labels: { kind: "combos" as const, count: 12, combos: DEMO_COMBOS },
  };
  const a = makePhantom(cfg), b = makePhantom(cfg), c = makePhantom({ ...cfg, seed: 6 });
  assertEquals(a.images, b.images);
  assertEquals(a.labels, b.labels);
  assertEquals(a.patientIds, b.patientIds);
  assertEquals(a.sources, b.sources);
  let diff = 0;
  for (let i = 0; i < a.images.length; i++) diff += Math.abs(a.images[i] - c.images[i]);
  assert(
    diff / a.images.length > 0.05,
    `seed 6 should differ from seed 5 (mean |diff| ${diff / a.images.length})`,
  );
  assert(a.sources.join() !== c.sources.join(), "ids should depend on the seed");
  assertEquals([a.n, a.channels, a.height, a.width, a.format], [12, 1, 24, 24, "phantom"]);
  assertEquals(a.labelNames, [...PHANTOM_LABELS]);
  assertEquals(a.labels, planPhantom(cfg).labels);
  let lo = Infinity, hi = -Infinity;
  for (const v of a.images) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  assert(lo === -1 && hi === 1, `brain-window images must span [-1, 1], got [${lo}, ${hi}]`);
  const three = makePhantom({ ...cfg, channels: 3 });
  assertEquals(three.channels, 3);
  const sz = 24 * 24;
  assertEquals(three.images.subarray(0, sz), a.images.subarray(0, sz)); // channel 0 is the brain window
});

Deno.test("phantom labels: the default demo plan has exactly the requested combination counts", () => {
  const plan = planPhantom(DEFAULT_PHANTOM_CONFIG);
  const n = plan.findings.length;
  assertEquals(n, 4000);
  const counts = comboCounts(plan.labels, n);
  assertEquals(counts.size, 16);
  for (const [key, c] of counts) {
    const k = [...key.slice(0, 5)].filter((b) => b === "1").length;
    assertEquals(c, k === 0 ? 800 : k === 1 ? 320 : 160, `combination ${key}`);
  }
  assertEquals(positives(plan.labels, n), [960, 960, 960, 960, 960, 800]);
  assertNoFindingConsistent(plan.labels, n);
  // shuffled: the first 100 slices are not all one combination
  assert(comboCounts(plan.labels.subarray(0, 100 * L), 100).size > 5, "labels should be shuffled");
});

Deno.test("phantom labels: k combinations x n samples are exactly the k most likely combinations", () => {
  const k = 7, per = 13;
  const plan = planPhantom({ labels: { kind: "topCombos", combos: k, perCombo: per }, seed: 3 });
  const counts = comboCounts(plan.labels, plan.findings.length);
  assertEquals(plan.findings.length, k * per);
  assertEquals(counts.size, k);
  for (const c of counts.values()) assertEquals(c, per);
  // brute force: probability of every combination under independent RSNA prevalences
  const prob: [string, number][] = [];
  for (let m = 0; m < 32; m++) {
    let p = 1, key = "";
    PHANTOM_SUBTYPES.forEach((s, j) => {
      const on = (m >> j) & 1;
      p *= on ? RSNA_PREVALENCE[s] : 1 - RSNA_PREVALENCE[s];
      key += on;
    });
    prob.push([key + (m === 0 ? "1" : "0"), p]);
  }
  prob.sort((a, b) => b[1] - a[1]);
  assertEquals([...counts.keys()].sort(), prob.slice(0, k).map((x) => x[0]).sort());
  assertNoFindingConsistent(plan.labels, plan.findings.length);
  // at most one finding: k = 6 is "normal" plus the five singles
  const singles = planPhantom({ labels: { kind: "topCombos", combos: 6, perCombo: 2, maxFindings: 1 } });
  assertEquals(positives(singles.labels, 12), [2, 2, 2, 2, 2, 2]);
});

Deno.test("phantom labels: prevalences give exact per-subtype counts; weights round by largest remainder", () => {
  const prevalence = {
    epidural: 0.013,
    intraparenchymal: 0.2,
    intraventricular: 0.0,
    subarachnoid: 0.5,
    subdural: 1,
  };
  const plan = planPhantom({ labels: { kind: "prevalence", count: 1000, prevalence }, seed: 9 });
  const pos = positives(plan.labels, 1000);
  assertEquals(pos.slice(0, 5), [13, 200, 0, 500, 1000]);
  assertNoFindingConsistent(plan.labels, 1000);
  const w = planPhantom({
    labels: {
      kind: "combos",
      count: 10,
      combos: [{ findings: [], weight: 1 }, { findings: ["subdural"], weight: 1 }, {
        findings: ["epidural"],
        weight: 1,
      }],
    },
  });
  assertEquals(positives(w.labels, 10), [3, 0, 0, 0, 3, 4]);
  const explicit: PhantomSubtype[][] = [["subdural", "epidural"], [], ["intraventricular"]];
  const e = planPhantom({ labels: { kind: "explicit", findings: explicit } });
  assertEquals(Array.from(e.labels), [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0]);
  assertThrows(
    () => planPhantom({ labels: { kind: "explicit", findings: [["bleed" as PhantomSubtype]] } }),
    Error,
    /unknown subtype "bleed"/,
  );
  assertThrows(
    () =>
      planPhantom({
        labels: {
          kind: "combos",
          count: 5,
          combos: [{ findings: ["subdural"], weight: 1 }, { findings: ["subdural"], weight: 2 }],
        },
      }),
    Error,
    /repeats/,
  );
  assertThrows(
    () =>
      planPhantom({ labels: { kind: "prevalence", count: 5, prevalence: { ...prevalence, subdural: 1.5 } } }),
    Error,
    /subdural/,
  );
  assertThrows(
    () => planPhantom({ labels: { kind: "topCombos", combos: 40, perCombo: 1 } }),
    Error,
    /combos/,
  );
});

Deno.test("phantom patients: 1-4 consecutive slices each, unique ids", () => {
  const plan = planPhantom({
    labels: { kind: "combos", count: 300, combos: DEMO_COMBOS },
    slicesPerPatient: [1, 4],
  });
  const sizes = new Map<number, number>();
  plan.patient.forEach((p, i) => {
    if (i > 0) {
      assert(p === plan.patient[i - 1] || p === plan.patient[i - 1] + 1, "patients must be consecutive");
    }
    sizes.set(p, (sizes.get(p) ?? 0) + 1);
  });
  const s = [...sizes.values()];
  assert(s.slice(0, -1).every((k) => k >= 1 && k <= 4), "1-4 slices per patient");
  assert(new Set(s).size >= 3, "patient sizes should vary");
  const ids = new Set([...plan.ids, ...plan.patientIds]);
  assertEquals(ids.size, plan.ids.length + plan.patientIds.length);
  assert(plan.ids.every((id) => /^ID_[0-9a-f]{9}$/.test(id)), "image ids look like RSNA ids");
  // a patient's slices share the head: same noise level and skull shape
  const p0 = plan.patient.indexOf(plan.patient.find((p) => sizes.get(p)! >= 2)!);
  const d = makePhantom({ labels: { kind: "combos", count: 300, combos: DEMO_COMBOS }, resolution: 16 });
  assertEquals(d.patientIds[p0], d.patientIds[p0 + 1]);
});

Deno.test("phantom HU: air, bone, brain, CSF and blood are in plausible ranges", () => {
  for (let seed = 0; seed < 6; seed++) {
    const findings = [...PHANTOM_SUBTYPES].filter((_, j) => (seed + j) % 2 === 0);
    const sl = phantomSliceHu({ size: 96, findings, supersample: 1, noise: false }, new Rng(seed), {
      masks: true,
    });
    const m = sl.masks!, hu = sl.hu;
    assertEquals(hu[0], -1000, "corner is air");
    const inMask = (mask: Uint8Array) => hu.filter((_, i) => mask[i] && !anyBlood(m, i));
    const bone = inMask(m.skull);
    assert(
      Math.max(...bone) >= 1150 && Math.min(...bone) >= 550,
      `bone HU ${Math.min(...bone)}..${Math.max(...bone)}`,
    );
    const par = [...inMask(m.parenchyma)].sort((a, b) => a - b);
    const med = par[par.length >> 1];
    assert(med > 22 && med < 45, `brain median HU ${med}`);
    const csf = inMask(m.ventricles);
    assert(
      Math.max(...csf) <= 12 && Math.min(...csf) >= 0,
      `ventricle CSF HU ${Math.min(...csf)}..${Math.max(...csf)}`,
    );
    for (const s of findings) {
      const blood = hu.filter((_, i) => m[s][i]);
      assert(blood.length > 0, `${s}: blood visible`);
      assert(
        Math.min(...blood) >= 50 && Math.max(...blood) <= 90,
        `${s}: blood HU ${Math.min(...blood)}..${Math.max(...blood)}`,
      );
    }
  }
  // noise: the standard deviation in air is the head's noise level
  const sl = phantomSliceHu({ size: 64, findings: [] }, new Rng(1));
  const air = [...sl.hu.subarray(0, 64 * 4)];
  const mean = air.reduce((a, b) => a + b, 0) / air.length;
  const sd = Math.sqrt(air.reduce((a, b) => a + (b - mean) ** 2, 0) / air.length);
  assert(
    Math.abs(mean + 1000) < 2 && Math.abs(sd - sl.head.noiseHu) < 0.25 * sl.head.noiseHu + 0.3,
    `air ${mean} ± ${sd}`,
  );
  assert(sl.head.noiseHu >= 3 && sl.head.noiseHu <= 8, "default noise 3-8 HU");
});

function anyBlood(m: PhantomMasks, i: number): boolean {
  return PHANTOM_SUBTYPES.some((s) => m[s][i] === 1);
}

/** 4-neighbour distance (in pixels) from the skull, inside the intracranial mask (large elsewhere). */
function skullDistance(m: PhantomMasks, size: number): Int32Array {
  const n = size * size, dist = new Int32Array(n).fill(1 << 20);
  let q: number[] = [];
  for (let i = 0; i < n; i++) {
    if (m.skull[i]) {
      dist[i] = 0;
      q.push(i);
    }
  }
  while (q.length) {
    const next: number[] = [];
    for (const i of q) {
      const x = i % size, y = (i / size) | 0;
      for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
        const xx = x + dx, yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= size || yy >= size) continue;
        const j = yy * size + xx;
        if (m.intracranial[j] && dist[j] > dist[i] + 1) {
          dist[j] = dist[i] + 1;
          next.push(j);
        }
      }
    }
    q = next;
  }
  return dist;
}

Deno.test("phantom masks: every finding lies where it belongs", () => {
  const size = 96;
  const depth = { epidural: [] as number[], subdural: [] as number[] };
  const rim = { epidural: [] as number[], subdural: [] as number[] };
  const rng = new Rng(77);
  for (let t = 0; t < 24; t++) {
    const findings = PHANTOM_SUBTYPES.filter(() => rng.next() < 0.45);
    const sl = phantomSliceHu({ size, findings, supersample: 1 }, new Rng(500 + t), { masks: true });
    const m = sl.masks!;
    const dist = skullDistance(m, size);
    const px = (mask: Uint8Array) => [...mask.keys()].filter((i) => mask[i]);
    for (const s of PHANTOM_SUBTYPES) {
      const k = px(m[s]).length;
      if (findings.includes(s)) assert(k >= 3, `slice ${t}: ${s} is positive but shows ${k} pixels`);
      else assertEquals(k, 0, `slice ${t}: ${s} is negative but has pixels`);
    }
    for (const s of ["epidural", "subdural"] as const) {
      if (!findings.includes(s)) continue;
      const p = px(m[s]);
      assert(p.every((i) => m.intracranial[i] && !m.skull[i]), `${s} inside the skull`);
      assert(p.some((i) => dist[i] === 1), `${s} touches the inner skull`);
      depth[s].push(Math.max(...p.map((i) => dist[i])));
      rim[s].push(p.filter((i) => dist[i] === 1).length);
    }
    for (const i of px(m.intraventricular)) {
      assert(m.ventricles[i], "intraventricular blood inside a ventricle");
    }
    if (findings.includes("intraventricular") && sl.lesions.intraventricular!.fill < 1) {
      // dependent layering: the blood sits in the lower (posterior) part of the ventricles it fills
      const rows = (mask: Uint8Array) => px(mask).map((i) => (i / size) | 0);
      const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
      assert(mean(rows(m.intraventricular)) > mean(rows(m.ventricles)), "blood layers posteriorly");
    }
    for (const i of px(m.intraparenchymal)) {
      assert(
        m.parenchyma[i] && !m.ventricles[i] && !m.skull[i],
        "intraparenchymal blood in brain, not ventricles",
      );
    }
    for (const i of px(m.subarachnoid)) {
      assert(m.subarachnoidSpace[i], "subarachnoid blood in sulci/CSF spaces");
    }
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  assert(depth.epidural.length >= 4 && depth.subdural.length >= 4, "enough extra-axial cases");
  assert(
    mean(depth.epidural) > 1.5 * mean(depth.subdural),
    `epidural thicker (${mean(depth.epidural)} vs ${mean(depth.subdural)})`,
  );
  assert(
    mean(rim.subdural) > 1.3 * mean(rim.epidural),
    `subdural longer (${mean(rim.subdural)} vs ${mean(rim.epidural)})`,
  );
});

/** AUROC by ranks (ties get the mean rank). */
function auroc(score: number[], y: number[]): number {
  const idx = score.map((s, i) => [s, i]).sort((a, b) => a[0] - b[0]);
  let sumPos = 0, nPos = 0;
  for (let k = 0; k < idx.length;) {
    let e = k;
    while (e < idx.length && idx[e][0] === idx[k][0]) e++;
    for (let t = k; t < e; t++) {
      if (y[idx[t][1]]) {
        sumPos += (k + e + 1) / 2;
        nPos++;
      }
    }
    k = e;
  }
  return (sumPos - nPos * (nPos + 1) / 2) / (nPos * (y.length - nPos));
}

/** Logistic regression by gradient descent on standardised features; returns the decision function. */
function logistic(X: number[][], y: number[], iters = 300): (x: number[]) => number {
  const d = X[0].length, n = X.length;
  const mu = new Array(d).fill(0), sd = new Array(d).fill(0);
  for (const x of X) x.forEach((v, j) => mu[j] += v / n);
  for (const x of X) x.forEach((v, j) => sd[j] += (v - mu[j]) ** 2 / n);
  const s = sd.map((v) => Math.sqrt(v) || 1);
  const Z = X.map((x) => x.map((v, j) => (v - mu[j]) / s[j]));
  const w = new Array(d + 1).fill(0);
  for (let it = 0; it < iters; it++) {
    const g = new Array(d + 1).fill(0);
    Z.forEach((z, i) => {
      let a = w[d];
      z.forEach((v, j) => a += w[j] * v);
      const e = 1 / (1 + Math.exp(-a)) - y[i];
      z.forEach((v, j) => g[j] += e * v / n);
      g[d] += e / n;
    });
    for (let j = 0; j <= d; j++) w[j] -= g[j];
  }
  return (x: number[]) => x.reduce((a, v, j) => a + w[j] * (v - mu[j]) / s[j], w[d]);
}

/** Hand-made features: excess HU near the skull at depths 1, 2, 3-4, 5-7 px, thick collections against the skull, in ventricles, deep parenchyma, CSF spaces. */
function features(hu: Float32Array, m: PhantomMasks, size: number): number[] {
  const dist = skullDistance(m, size);
  const f = new Array(7).fill(0), cnt = new Array(7).fill(1e-9);
  const ex = (v: number, t: number) => Math.max(0, v - t);
  for (let i = 0; i < size * size; i++) {
    if (!m.intracranial[i] || m.skull[i]) continue;
    const d = dist[i], h = hu[i];
    if (d === 1) f[0] += ex(h, 45);
    else if (d === 2) f[1] += ex(h, 45);
    else if (d <= 4) f[2] += ex(h, 48);
    else if (d <= 7) f[6] += ex(h, 50);
    if (m.ventricles[i]) {
      f[3] += ex(h, 25);
      cnt[3]++;
    } else if (d > 4 && m.parenchyma[i]) f[4] += ex(h, 50);
    if (m.subarachnoidSpace[i] && d >= 2) {
      f[5] += ex(h, 40);
      cnt[5]++;
    }
  }
  // thickness of hyperdense collections against the skull: flood fill from the first layer
  const seen = new Uint8Array(size * size);
  let q = [...dist.keys()].filter((i) => dist[i] === 1 && hu[i] > 52);
  q.forEach((i) => seen[i] = 1);
  let deep = 0;
  while (q.length) {
    const next: number[] = [];
    for (const i of q) {
      if (dist[i] >= 3) deep++;
      for (const j of [i - 1, i + 1, i - size, i + size]) {
        if (j >= 0 && j < size * size && !seen[j] && m.intracranial[j] && hu[j] > 52) {
          seen[j] = 1;
          next.push(j);
        }
      }
    }
    q = next;
  }
  return [f[0], f[1], f[2], f[6], f[3] / cnt[3], f[4], f[5] / cnt[5], f[5], deep];
}

Deno.test("phantom detectability: simple features find every subtype (AUROC > 0.8 at 64 px)", () => {
  const size = 64, N = 400;
  const plan = planPhantom({ labels: { kind: "combos", count: N, combos: DEMO_COMBOS }, seed: 21 });
  const X: number[][] = [];
  plan.findings.forEach((f, i) => {
    // anatomy masks only (label-independent), so the features use no ground truth about the findings
    const sl = phantomSliceHu({ size, findings: f }, new Rng(plan.sliceSeeds[i]), { masks: true });
    X.push(features(sl.hu, sl.masks!, size));
  });
  const h = N / 2, res: string[] = [];
  let worst = 1;
  PHANTOM_SUBTYPES.forEach((s, j) => {
    const y = plan.findings.map((_, i) => plan.labels[i * L + j]);
    const model = logistic(X.slice(0, h), y.slice(0, h));
    const a = auroc(X.slice(h).map(model), y.slice(h));
    res.push(`${s} ${a.toFixed(3)}`);
    worst = Math.min(worst, a);
  });
  console.log(`held-out AUROC: ${res.join(", ")}`);
  assert(worst > 0.8, `every subtype should be detectable: ${res.join(", ")}`);
});

function parse(bytes: Uint8Array) {
  const ds = dicomParser.parseDicom(bytes);
  const el = ds.elements.x7fe00010;
  const raw = new Uint16Array(bytes.slice(el.dataOffset, el.dataOffset + el.length).buffer);
  return { ds, raw };
}

Deno.test("dicom_write: dicom-parser reads back the same HU and header", () => {
  const rows = 5, columns = 7;
  const hu = Float32Array.from(
    { length: rows * columns },
    (_, i) => [-1000, -3.4, 0, 37.6, 1500, 2000][i % 6] + i,
  );
  const bytes = writeDicomCt({
    hu,
    rows,
    columns,
    sopInstanceUid: "2.25.1",
    studyInstanceUid: "2.25.2",
    seriesInstanceUid: "2.25.3",
    patientId: "ID_test",
    instanceNumber: 4,
    pixelSpacing: [0.5, 0.25],
  });
  const { ds, raw } = parse(bytes);
  assertEquals(ds.string("x00020010"), "1.2.840.10008.1.2.1");
  assertEquals(ds.string("x00080060"), "CT");
  assertEquals(ds.string("x00080018"), "2.25.1");
  assertEquals(ds.string("x00100020"), "ID_test");
  assertEquals([
    ds.uint16("x00280010"),
    ds.uint16("x00280011"),
    ds.uint16("x00280100"),
    ds.uint16("x00280103"),
  ], [5, 7, 16, 0]);
  assertEquals([ds.floatString("x00281053"), ds.floatString("x00281052")], [1, -1024]);
  assertEquals([ds.floatString("x00281050"), ds.floatString("x00281051")], [40, 80]);
  assertEquals([ds.floatString("x00280030", 0), ds.floatString("x00280030", 1)], [0.5, 0.25]);
  assertEquals(ds.intString("x00200013"), 4);
  const back = Array.from(raw, (v) => v - 1024);
  assertEquals(back, Array.from(hu, (v) => Math.min(3071, Math.round(v))));
  assertThrows(
    () => writeDicomCt({ ...baseSlice(), hu: new Float32Array(3) }),
    Error,
    /expected rows\*columns/,
  );
});

function baseSlice() {
  return {
    hu: new Float32Array(4),
    rows: 2,
    columns: 2,
    sopInstanceUid: "2.25.1",
    studyInstanceUid: "2.25.2",
    seriesInstanceUid: "2.25.3",
    patientId: "p",
    instanceNumber: 1,
  };
}

Deno.test("phantom DICOM series: files decode to the phantom's HU; RSNA CSV matches the labels", async () => {
  const cfg = {
    labels: { kind: "combos" as const, count: 7, combos: DEMO_COMBOS },
    seed: 4,
    slicesPerPatient: [2, 3] as [number, number],
  };
  const out = phantomToDicomSeries(cfg, { size: 48 });
  const again = phantomToDicomSeries(cfg, { size: 48 });
  assertEquals(out.files.map((f) => f.bytes), again.files.map((f) => f.bytes), "deterministic");
  const plan = planPhantom(cfg);
  assertEquals(out.files.map((f) => f.name), plan.ids.map((id) => `${id}.dcm`));
  const uids = new Set<string>(), studies = new Map<string, string>();
  const heads = new Map();
  out.files.forEach((f, i) => {
    const { ds, raw } = parse(f.bytes);
    assertEquals([ds.uint16("x00280010"), ds.uint16("x00280011")], [48, 48]);
    assertEquals([ds.floatString("x00281053"), ds.floatString("x00281052")], [1, -1024]);
    assertEquals(ds.string("x00080060"), "CT");
    const pid = ds.string("x00100020")!;
    assertEquals(pid, plan.patientIds[plan.patient[i]]);
    const sop = ds.string("x00080018")!;
    assert(/^2\.25\.[1-9][0-9]*$/.test(sop) && sop.length <= 64, `UID ${sop}`);
    assert(!uids.has(sop), "SOP instance UIDs are unique");
    uids.add(sop);
    const study = ds.string("x0020000d")!;
    if (studies.has(pid)) assertEquals(studies.get(pid), study, "one study per patient");
    studies.set(pid, study);
    const hu = planSliceHu(plan, i, 48, cfg, heads);
    assertEquals(Array.from(raw, (v) => v - 1024), Array.from(hu, (v) => Math.round(v) || 0));
  });
  const lines = out.csv.trim().split(/\r?\n/);
  assertEquals(lines[0], "ID,Label");
  assertEquals(lines.length, 1 + 7 * 6);
  plan.ids.forEach((id, i) => {
    [...PHANTOM_SUBTYPES, "any"].forEach((s, j) => {
      const want = j < 5 ? plan.labels[i * L + j] : 1 - plan.labels[i * L + 5];
      assertEquals(lines[1 + i * 6 + j], `${id}_${s},${want}`);
    });
  });
  // and through the project's own DICOM loader
  for (const [i, f] of out.files.slice(0, 3).entries()) {
    const { header, frames } = await dicomToHu(f.bytes, f.name);
    assertEquals([header.rows, header.columns, header.modality, header.slope, header.intercept], [
      48,
      48,
      "CT",
      1,
      -1024,
    ]);
    assertEquals(header.windows, [{ center: 40, width: 80 }]);
    const hu = planSliceHu(plan, i, 48, cfg);
    assertEquals(Array.from(frames[0]), Array.from(hu, (v) => Math.round(v) || 0));
  }
  assert(
    out.patientsCsv.includes(`${plan.ids[0]},${plan.patientIds[plan.patient[0]]}`),
    "patients.csv maps images to patients",
  );
});
