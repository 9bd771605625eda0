/**
 * Random anatomy of the head-CT phantom: a patient's head (shared by that patient's slices) and one
 * slice's variation of it (slice level, sulci, ventricle shape, texture). Plain numbers only, no pixels:
 * every draw happens here, before rendering, so one slice looks the same at any resolution.
 *
 * Units: the image spans [-1, 1] on both axes (x right, y down = posterior, as axial CT is shown).
 * "Normalised radius" ρ is the elliptical radius in the head frame: ρ = 1 on the outer skull table.
 * @module
 */

import type { Rng } from "../util/rng.ts";

/** Fourier terms of a smooth periodic function of the angle: [cos1, sin1, cos2, sin2, ...]. */
export type Fourier = number[];

/** A synthetic patient's anatomy, shared by all of that patient's slices. */
export interface PhantomHead {
  /** Lateral semi-axis of the outer skull, image half-widths (0.62-0.76). */
  a: number;
  /** Antero-posterior semi-axis of the outer skull, image half-widths (1.12-1.3 × a, at most 0.92). */
  b: number;
  /** In-plane rotation of the head, radians (±0.2, patient positioning). */
  theta: number;
  /** Head centre x offset, image half-widths (±0.05). */
  cx: number;
  /** Head centre y offset, image half-widths (±0.05). */
  cy: number;
  /** Shape of the outer skull: relative radius = 1 + Fourier(φ) (low orders, ~2 %). */
  outer: Fourier;
  /** Mean skull thickness, normalised radius (0.06-0.09, i.e. ~5-8 mm on a 90 mm head radius). */
  skull: number;
  /** Relative skull-thickness variation around the head: thickness × (1 + Fourier(φ)). */
  skullVar: Fourier;
  /** Scalp thickness outside the skull, normalised radius. */
  scalp: number;
  /** Extra-axial CSF (subarachnoid space) between inner skull and brain, normalised radius; grows with atrophy. */
  csfGap: number;
  /** Cortical ribbon thickness, normalised radius. */
  cortex: number;
  /** Ventricle width scale (0.75 small … 1.45 enlarged). */
  ventricleScale: number;
  /** Grey matter HU (36-42). */
  huGrey: number;
  /** White matter HU (grey − 6 … grey − 10). */
  huWhite: number;
  /** CSF HU (3-10). */
  huCsf: number;
  /** Skull diploë HU (550-900). */
  huDiploe: number;
  /** Skull inner/outer table HU (1150-1600). */
  huTable: number;
  /** Scalp HU (10-40). */
  huScalp: number;
  /** Gaussian noise standard deviation, HU, added at the output resolution. */
  noiseHu: number;
}

/** One cortical sulcus: a thin CSF cleft running inwards from the brain surface. */
export interface Sulcus {
  /** Angle φ (head frame, elliptical) where it opens on the surface. */
  angle: number;
  /** How deep it reaches below the brain surface, normalised radius. */
  depth: number;
  /** Full width at the surface, normalised radius. */
  width: number;
  /** Amplitude (radians) and phase of its meander with depth. */
  wiggle: number;
  /** Meander phase. */
  phase: number;
}

/** One capsule of a ventricle outline: a segment between two points with radii (head frame, units of mean radius). */
export type Capsule = [x0: number, y0: number, r0: number, x1: number, y1: number, r1: number];

/** One slice's anatomy on top of the patient's head. */
export interface PhantomSliceAnatomy {
  /** Slice level: the head cross-section shrinks toward the vertex (0.9-1). */
  scale: number;
  /** Cortical sulci, sorted by angle, roughly evenly spaced. */
  sulci: Sulcus[];
  /** Depth of the interhemispheric fissure from the front and from the back, normalised radius. */
  fissure: [number, number];
  /** Fissure width, normalised radius. */
  fissureWidth: number;
  /** Gyral undulation of the grey/white boundary: amplitude (relative) and angular frequency. */
  gyri: [number, number, number];
  /** Lateral ventricles (both sides) and third ventricle as capsules. */
  ventricles: Capsule[];
  /** Deep grey nuclei (lentiform, thalami) as ellipses [x, y, rx, ry] in the head frame. */
  nuclei: [number, number, number, number][];
  /** Low-frequency parenchymal texture: (G × G) HU offsets over the image. */
  texture: Float32Array;
  /** Texture grid size G. */
  textureGrid: number;
}

/** Draws a patient's head. */
export function sampleHead(rng: Rng, noiseHu: readonly [number, number]): PhantomHead {
  const a = rng.uniform(0.62, 0.76);
  const b = Math.min(a * rng.uniform(1.12, 1.3), 0.92);
  const fourier = (n: number, amp: number) => {
    const f: number[] = [];
    for (let k = 1; k <= n; k++) f.push(rng.normal() * amp / k, rng.normal() * amp / k);
    return f;
  };
  const huGrey = rng.uniform(36, 42);
  return {
    a,
    b,
    theta: rng.uniform(-0.2, 0.2),
    cx: rng.uniform(-0.05, 0.05),
    cy: rng.uniform(-0.05, 0.05),
    outer: fourier(4, 0.012),
    skull: rng.uniform(0.06, 0.09),
    skullVar: fourier(5, 0.15),
    scalp: rng.uniform(0.025, 0.045),
    csfGap: rng.uniform(0.008, 0.025),
    cortex: rng.uniform(0.06, 0.09),
    ventricleScale: rng.uniform(0.75, 1.45),
    huGrey,
    huWhite: huGrey - rng.uniform(6, 10),
    huCsf: rng.uniform(3, 10),
    huDiploe: rng.uniform(550, 900),
    huTable: rng.uniform(1150, 1600),
    huScalp: rng.uniform(10, 40),
    noiseHu: rng.uniform(noiseHu[0], noiseHu[1]),
  };
}

/** Draws one slice's anatomy for `head`. */
export function sampleSliceAnatomy(rng: Rng, head: PhantomHead): PhantomSliceAnatomy {
  const nSulci = 30 + rng.int(16);
  const sulci: Sulcus[] = [];
  const step = (2 * Math.PI) / nSulci;
  for (let k = 0; k < nSulci; k++) {
    sulci.push({
      angle: -Math.PI + (k + 0.5 + rng.uniform(-0.25, 0.25)) * step,
      depth: rng.uniform(0.05, 0.15),
      width: rng.uniform(0.016, 0.03),
      wiggle: rng.uniform(0, 0.25) * step,
      phase: rng.uniform(0, 2 * Math.PI),
    });
  }
  const vs = head.ventricleScale;
  const vl = rng.uniform(0.9, 1.1); // ventricle length
  const asym = rng.uniform(-0.015, 0.015);
  // Which part of the lateral ventricles the slice cuts: bodies (one continuous "banana" each side)
  // or the level of the foramen of Monro (butterfly frontal horns + atria/occipital horns + third ventricle).
  const bodies = rng.next() < 0.4;
  const ventricles: Capsule[] = [];
  for (const side of [-1, 1]) {
    const s = side, dx = side * asym;
    const w = vs * rng.uniform(0.92, 1.08);
    const p = [
      [s * 0.17 + dx, -0.36 * vl, 0.026 * w], // frontal horn tip
      [s * 0.1 + dx, -0.24 * vl, 0.052 * w], // frontal horn
      [s * 0.065 + dx, -0.08 * vl, 0.04 * w], // body near the septum
      [s * 0.1 + dx, 0.1 * vl, 0.045 * w],
      [s * 0.17 + dx, 0.22 * vl, 0.062 * w], // atrium
      [s * 0.2 + dx, 0.38 * vl, 0.024 * w], // occipital horn tip
    ] as const;
    const segs = bodies ? [0, 1, 2, 3, 4] : [0, 1, 3, 4];
    for (const i of segs) ventricles.push([p[i][0], p[i][1], p[i][2], p[i + 1][0], p[i + 1][1], p[i + 1][2]]);
  }
  if (!bodies) ventricles.push([0, -0.04 * vl, 0.012 * vs, 0, 0.1 * vl, 0.012 * vs]); // third ventricle (slit)
  const nuclei: [number, number, number, number][] = [];
  for (const side of [-1, 1]) {
    nuclei.push([side * rng.uniform(0.24, 0.3), rng.uniform(-0.12, -0.02), 0.06, 0.14]); // lentiform
    if (!bodies) nuclei.push([side * 0.1, rng.uniform(0.06, 0.1), 0.07, 0.09]); // thalamus
  }
  const G = 8;
  const texAmp = rng.uniform(1, 2.5);
  const texture = new Float32Array(G * G);
  for (let i = 0; i < G * G; i++) texture[i] = rng.normal() * texAmp;
  return {
    scale: rng.uniform(0.9, 1),
    sulci,
    fissure: [rng.uniform(0.25, 0.45), rng.uniform(0.2, 0.4)],
    fissureWidth: rng.uniform(0.014, 0.026),
    gyri: [rng.uniform(0.15, 0.35), nSulci, rng.uniform(0, 2 * Math.PI)],
    ventricles,
    nuclei,
    texture,
    textureGrid: G,
  };
}

/** Evaluates 1 + Fourier(φ)-style sums: Σ cos(kφ)·c_k + sin(kφ)·s_k. */
export function fourierAt(f: Fourier, phi: number): number {
  let v = 0;
  for (let k = 0; k < f.length / 2; k++) {
    v += f[2 * k] * Math.cos((k + 1) * phi) + f[2 * k + 1] * Math.sin((k + 1) * phi);
  }
  return v;
}

/** Signed distance from (x, y) to the surface of a capsule (negative inside). */
export function capsuleDistance(c: Capsule, x: number, y: number): number {
  const [x0, y0, r0, x1, y1, r1] = c;
  const ex = x1 - x0, ey = y1 - y0;
  const len2 = ex * ex + ey * ey;
  let t = len2 > 0 ? ((x - x0) * ex + (y - y0) * ey) / len2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const dx = x - x0 - t * ex, dy = y - y0 - t * ey;
  return Math.sqrt(dx * dx + dy * dy) - (r0 + t * (r1 - r0));
}
