/**
 * Random hemorrhages of the head-CT phantom, placed and sized as they appear on real acute CT
 * (all sizes in normalised head radius, so they scale with the head):
 * - epidural: biconvex lens against the inner table; sutures stop it, so it is short (40-60°) and thick;
 * - subdural: thin crescent along the inner table, long (70-150°), crosses sutures;
 * - subarachnoid: blood replacing the CSF of a few neighbouring sulci and the thin subarachnoid space
 *   (sometimes the interhemispheric fissure);
 * - intraparenchymal: an irregular round clot in the parenchyma (deep grey nuclei or lobar), with a thin
 *   rim of oedema;
 * - intraventricular: blood layering in the dependent (posterior, supine patient) part of the lateral
 *   ventricles, with a horizontal fluid level; sometimes a cast filling one ventricle.
 * @module
 */

import type { Rng } from "../util/rng.ts";
import { capsuleDistance, type Fourier, type PhantomSliceAnatomy } from "./_phantom_anatomy.ts";

/** The five hemorrhage subtypes, in the RSNA study's label order. */
export const PHANTOM_SUBTYPES = [
  "epidural",
  "intraparenchymal",
  "intraventricular",
  "subarachnoid",
  "subdural",
] as const;

/** One hemorrhage subtype. */
export type PhantomSubtype = typeof PHANTOM_SUBTYPES[number];

/** An extra-axial collection against the inner skull (epidural or subdural). */
export interface ExtraAxial {
  /** Centre angle φ (head frame). */
  angle: number;
  /** Half of its angular extent, radians. */
  halfWidth: number;
  /** Greatest thickness, normalised radius. */
  thickness: number;
  /** Profile exponent: thickness × (1 − u²)^p along u ∈ (−1, 1); lens ~0.6, flat crescent ~0.3. */
  profile: number;
  /** Attenuation of the blood, HU. */
  hu: number;
}

/** Subarachnoid blood. */
export interface Subarachnoid {
  /** Centre angle φ of the affected convexity. */
  angle: number;
  /** Half of the angular range whose sulci and subarachnoid space fill with blood. */
  halfWidth: number;
  /** Fraction of each sulcus' depth filled (from the surface). */
  depthFraction: number;
  /** Whether the interhemispheric fissure is filled too (anterior, posterior or neither: 0). */
  fissure: -1 | 0 | 1;
  /** Attenuation, HU (diluted by CSF: a little lower than a clot). */
  hu: number;
}

/** An intraparenchymal clot. */
export interface Intraparenchymal {
  /** Centre in the head frame (units of the mean head radius). */
  x: number;
  /** Centre y (positive = posterior). */
  y: number;
  /** Mean radius, units of the mean head radius. */
  radius: number;
  /** Irregular outline: radius × (1 + Fourier(ψ)). */
  shape: Fourier;
  /** Oedema rim: outer radius factor (> 1) and HU drop of the parenchyma there. */
  edema: [number, number];
  /** Attenuation, HU. */
  hu: number;
}

/** Intraventricular blood. */
export interface Intraventricular {
  /** Fraction of the ventricle area (of the chosen side) below the fluid level. */
  fill: number;
  /** Which side: −1 left of image, 1 right, 0 both. */
  side: -1 | 0 | 1;
  /** Attenuation, HU. */
  hu: number;
}

/** The hemorrhages of one slice (absent = not present). */
export interface PhantomLesions {
  /** Epidural hematoma. */
  epidural?: ExtraAxial;
  /** Intraparenchymal hemorrhage. */
  intraparenchymal?: Intraparenchymal;
  /** Intraventricular hemorrhage. */
  intraventricular?: Intraventricular;
  /** Subarachnoid hemorrhage. */
  subarachnoid?: Subarachnoid;
  /** Subdural hematoma. */
  subdural?: ExtraAxial;
}

const TAU = 2 * Math.PI;

function wrap(a: number): number {
  a = (a + Math.PI) % TAU;
  if (a < 0) a += TAU;
  return a - Math.PI;
}

/** Draws the requested hemorrhages; extra-axial ones get non-overlapping angular ranges. */
export function sampleLesions(
  rng: Rng,
  anatomy: PhantomSliceAnatomy,
  findings: readonly PhantomSubtype[],
): PhantomLesions {
  const has = (s: PhantomSubtype) => findings.includes(s);
  const taken: [number, number][] = []; // [centre, half width] of placed extra-axial ranges
  const place = (draw: () => number, half: number): [number, number] => {
    let h = half;
    for (let attempt = 0; attempt < 200; attempt++) {
      if (attempt > 0 && attempt % 40 === 0) h *= 0.8;
      const c = wrap(draw());
      if (taken.every(([c2, h2]) => Math.abs(wrap(c - c2)) > h + h2 + 0.1)) {
        taken.push([c, h]);
        return [c, h];
      }
    }
    const c = wrap(draw());
    taken.push([c, h]);
    return [c, h];
  };
  const lateral = (spread: number) => () => (rng.next() < 0.5 ? 0 : Math.PI) + rng.uniform(-spread, spread);
  const out: PhantomLesions = {};
  // Sizes and densities of the extra-axial and subarachnoid blood are drawn whatever the findings, so
  // the random stream (and the look of the other findings) shifts less when a finding is added.
  const sdh = { half: rng.uniform(0.6, 1.3), thick: rng.uniform(0.03, 0.08), hu: rng.uniform(50, 85) };
  const edh = { half: rng.uniform(0.33, 0.52), thick: rng.uniform(0.07, 0.16), hu: rng.uniform(55, 90) };
  const sah = {
    half: rng.uniform(0.45, 1.0),
    depth: rng.uniform(0.7, 1),
    fissure: (rng.next() < 0.3 ? (rng.next() < 0.5 ? -1 : 1) : 0) as -1 | 0 | 1,
    hu: rng.uniform(50, 75),
  };
  if (has("subdural")) {
    const [angle, halfWidth] = place(lateral(1.0), sdh.half);
    out.subdural = { angle, halfWidth, thickness: sdh.thick, profile: 0.3, hu: sdh.hu };
  }
  if (has("epidural")) {
    const [angle, halfWidth] = place(lateral(1.2), edh.half);
    out.epidural = { angle, halfWidth, thickness: edh.thick, profile: 0.6, hu: edh.hu };
  }
  if (has("subarachnoid")) {
    const [angle, halfWidth] = place(() => rng.uniform(-Math.PI, Math.PI), sah.half);
    out.subarachnoid = { angle, halfWidth, depthFraction: sah.depth, fissure: sah.fissure, hu: sah.hu };
  }
  if (has("intraparenchymal")) {
    const radius = rng.uniform(0.05, 0.15);
    const shape: number[] = [];
    for (let k = 1; k <= 4; k++) shape.push(rng.normal() * 0.12 / k, rng.normal() * 0.12 / k);
    let x = 0, y = 0;
    for (let attempt = 0; attempt < 100; attempt++) {
      if (rng.next() < 0.5) { // deep: basal ganglia / thalamus
        x = (rng.next() < 0.5 ? -1 : 1) * rng.uniform(0.18, 0.32);
        y = rng.uniform(-0.15, 0.15);
      } else { // lobar
        const r = rng.uniform(0.3, 0.58), t = rng.uniform(-Math.PI, Math.PI);
        x = r * Math.cos(t);
        y = r * Math.sin(t);
      }
      if (anatomy.ventricles.every((c) => capsuleDistance(c, x, y) > radius * 0.8)) break;
    }
    out.intraparenchymal = {
      x,
      y,
      radius,
      shape,
      edema: [rng.uniform(1.1, 1.4), rng.uniform(4, 10)],
      hu: rng.uniform(55, 90),
    };
  }
  if (has("intraventricular")) {
    const cast = rng.next() < 0.15;
    const side = (rng.next() < 0.5 ? 0 : rng.next() < 0.5 ? -1 : 1) as -1 | 0 | 1;
    out.intraventricular = { fill: cast ? 1 : rng.uniform(0.2, 0.6), side, hu: rng.uniform(50, 80) };
  }
  return out;
}
