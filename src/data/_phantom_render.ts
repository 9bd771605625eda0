/**
 * Rasterises one phantom slice at the drawing (supersampled) resolution: anatomy first, then the
 * hemorrhages painted over it. Deterministic: all randomness was drawn beforehand.
 * @module
 */

import { fourierAt, type PhantomHead, type PhantomSliceAnatomy } from "./_phantom_anatomy.ts";
import { type ExtraAxial, PHANTOM_SUBTYPES, type PhantomLesions } from "./_phantom_lesions.ts";

/** Tissue classes of the anatomy (before hemorrhages). */
export const TISSUE = {
  air: 0,
  scalp: 1,
  skull: 2,
  /** Extra-axial CSF between inner skull and brain. */
  gap: 3,
  sulcus: 4,
  fissure: 5,
  grey: 6,
  white: 7,
  /** Deep grey nuclei. */
  deep: 8,
  ventricle: 9,
} as const;

/** A slice at the drawing resolution. */
export interface RenderedSlice {
  /** Drawing resolution S (square). */
  size: number;
  /** Hounsfield units without noise, (S, S). */
  hu: Float32Array;
  /** Tissue class of the anatomy (TISSUE), (S, S). */
  tissue: Uint8Array;
  /** Which hemorrhage is visible: 0 none, 1 + index in PHANTOM_SUBTYPES, (S, S). */
  owner: Uint8Array;
}

const NA = 720; // angular table resolution (half a degree)
const TAU = 2 * Math.PI;

/** An angle difference mapped to [-π, π) (inputs within a few turns: no modulo needed). */
function wrap(a: number): number {
  while (a >= Math.PI) a -= TAU;
  while (a < -Math.PI) a += TAU;
  return a;
}

/** Draws the slice at S × S. */
export function renderSlice(
  head: PhantomHead,
  anat: PhantomSliceAnatomy,
  lesions: PhantomLesions,
  S: number,
): RenderedSlice {
  // Radial boundaries as functions of the elliptical angle φ, tabulated.
  const rOut = new Float32Array(NA), rIn = new Float32Array(NA), rBrain = new Float32Array(NA);
  const rWhite = new Float32Array(NA);
  const [gAmp, gFreq, gPhase] = anat.gyri;
  for (let i = 0; i < NA; i++) {
    const phi = -Math.PI + (i + 0.5) * TAU / NA;
    const ro = 1 + fourierAt(head.outer, phi);
    const th = Math.max(0.03, head.skull * (1 + fourierAt(head.skullVar, phi)));
    rOut[i] = ro;
    rIn[i] = ro - th;
    rBrain[i] = ro - th - head.csfGap;
    rWhite[i] = rBrain[i] - head.cortex * (1 + gAmp * Math.sin(gFreq * phi + gPhase));
  }
  const s = anat.scale;
  const A = head.a * s, B = head.b * s, rm = (head.a + head.b) / 2 * s;
  const ct = Math.cos(head.theta), st = Math.sin(head.theta);
  const sulci = anat.sulci, K = sulci.length;
  let maxDepth = 0;
  for (const sc of sulci) maxDepth = Math.max(maxDepth, sc.depth);
  const fw = anat.fissureWidth / 2, falx = anat.fissureWidth / 10;
  const G = anat.textureGrid, tex = anat.texture;
  let rMax = 0;
  for (let i = 0; i < NA; i++) rMax = Math.max(rMax, rOut[i]);
  rMax += head.scalp;
  // Flat copies of the small shape lists: the per-pixel loops read plain typed arrays.
  const nuc = Float64Array.from(anat.nuclei.flat());
  const caps = Float64Array.from(anat.ventricles.flat());
  const nCaps = anat.ventricles.length;
  let vx = 0, vy = 0; // ventricle bounding box half-extents
  for (const c of anat.ventricles) {
    vx = Math.max(vx, Math.abs(c[0]) + c[2], Math.abs(c[3]) + c[5]);
    vy = Math.max(vy, Math.abs(c[1]) + c[2], Math.abs(c[4]) + c[5]);
  }

  const n = S * S;
  const hu = new Float32Array(n), tissue = new Uint8Array(n), owner = new Uint8Array(n);
  const rhoA = new Float32Array(n), phiA = new Float32Array(n), depA = new Float32Array(n);
  const xA = new Float32Array(n), yA = new Float32Array(n), sid = new Int16Array(n).fill(-1);

  for (let iy = 0; iy < S; iy++) {
    const v = (iy + 0.5) / S * 2 - 1;
    for (let ix = 0; ix < S; ix++) {
      const i = iy * S + ix;
      const u = (ix + 0.5) / S * 2 - 1;
      const dx = u - head.cx, dy = v - head.cy;
      const xh = ct * dx + st * dy, yh = -st * dx + ct * dy;
      const p = xh / A, q = yh / B;
      const rho = Math.sqrt(p * p + q * q);
      if (rho > rMax) {
        hu[i] = -1000;
        continue;
      }
      const phi = Math.atan2(q, p);
      let bin = ((phi + Math.PI) / TAU * NA) | 0;
      if (bin >= NA) bin = NA - 1;
      const ro = rOut[bin];
      if (rho > ro + head.scalp) {
        hu[i] = -1000;
        continue; // air: no head-frame data needed
      }
      rhoA[i] = rho;
      phiA[i] = phi;
      depA[i] = rIn[bin] - rho;
      const X = xh / rm, Y = yh / rm;
      xA[i] = X;
      yA[i] = Y;
      if (rho > ro) {
        tissue[i] = TISSUE.scalp;
        hu[i] = head.huScalp;
        continue;
      }
      const ri = rIn[bin];
      if (rho > ri) {
        tissue[i] = TISSUE.skull;
        const f = (ro - rho) / (ro - ri);
        hu[i] = f < 0.28 || f > 0.72 ? head.huTable : head.huDiploe;
        continue;
      }
      const rb = rBrain[bin];
      if (rho > rb) {
        tissue[i] = TISSUE.gap;
        hu[i] = head.huCsf;
        continue;
      }
      // brain
      const gx = (u + 1) / 2 * (G - 1), gy = (v + 1) / 2 * (G - 1);
      const gx0 = Math.min(G - 2, gx | 0), gy0 = Math.min(G - 2, gy | 0);
      const fx = gx - gx0, fy = gy - gy0, t0 = gy0 * G + gx0;
      const texture = (1 - fy) * ((1 - fx) * tex[t0] + fx * tex[t0 + 1]) +
        fy * ((1 - fx) * tex[t0 + G] + fx * tex[t0 + G + 1]);
      let cls: number = rho > rWhite[bin] ? TISSUE.grey : TISSUE.white;
      let h = (cls === TISSUE.grey ? head.huGrey : head.huWhite) + texture;
      if (cls === TISSUE.white) {
        for (let k = 0; k < nuc.length; k += 4) {
          const ux = (X - nuc[k]) / nuc[k + 2], uy = (Y - nuc[k + 1]) / nuc[k + 3];
          if (ux * ux + uy * uy < 1) {
            cls = TISSUE.deep;
            h = head.huGrey - 2 + texture;
            break;
          }
        }
      }
      const dd = rb - rho; // depth below the brain surface
      if (dd < maxDepth) {
        const k0 = Math.floor((phi + Math.PI) / TAU * K);
        for (let dk = -1; dk <= 1; dk++) {
          const k = (k0 + dk + K) % K, sc = sulci[k];
          if (dd >= sc.depth) continue;
          const ang = sc.angle + sc.wiggle * Math.sin(dd / sc.depth * 4.7 + sc.phase);
          const half = sc.width / 2 * (1 - 0.6 * dd / sc.depth);
          if (Math.abs(wrap(phi - ang)) * rho < half) {
            cls = TISSUE.sulcus;
            h = head.huCsf;
            sid[i] = k;
            break;
          }
        }
      }
      const ax = Math.abs(X);
      if (ax < fw && dd < (Y < 0 ? anat.fissure[0] : anat.fissure[1])) {
        cls = TISSUE.fissure;
        h = ax < falx ? head.huGrey + 6 : head.huCsf;
      }
      if (ax < vx && Y > -vy && Y < vy) {
        for (let k = 0; k < nCaps; k++) {
          if (capsuleInside(caps, 6 * k, X, Y)) {
            cls = TISSUE.ventricle;
            h = head.huCsf;
            break;
          }
        }
      }
      tissue[i] = cls;
      hu[i] = h;
    }
  }

  const paint = (i: number, value: number, sub: number) => {
    hu[i] = value;
    owner[i] = sub + 1;
  };
  const sub = (name: typeof PHANTOM_SUBTYPES[number]) => PHANTOM_SUBTYPES.indexOf(name);

  const iph = lesions.intraparenchymal;
  if (iph) {
    let maxShape = 0;
    for (let k = 0; k < iph.shape.length; k++) maxShape += Math.abs(iph.shape[k]);
    const reach = iph.radius * (1 + maxShape) * iph.edema[0];
    const id = sub("intraparenchymal");
    for (let i = 0; i < n; i++) {
      const t = tissue[i];
      if (t !== TISSUE.grey && t !== TISSUE.white && t !== TISSUE.deep) continue;
      const dx = xA[i] - iph.x, dy = yA[i] - iph.y;
      if (Math.abs(dx) > reach || Math.abs(dy) > reach) continue;
      const r = Math.sqrt(dx * dx + dy * dy);
      const R = iph.radius * (1 + fourierAt(iph.shape, Math.atan2(dy, dx)));
      if (r < R) paint(i, iph.hu, id);
      else if (r < R * iph.edema[0]) hu[i] -= iph.edema[1];
    }
  }

  const ivh = lesions.intraventricular;
  if (ivh) {
    // Fluid level: horizontal in the image (gravity), at the (1 - fill) quantile of the chosen side's rows.
    const idx: number[] = [];
    for (let i = 0; i < n; i++) {
      if (tissue[i] === TISSUE.ventricle && (ivh.side === 0 || Math.sign(xA[i]) === ivh.side)) idx.push(i);
    }
    const rows = idx.map((i) => Math.floor(i / S)).sort((a, b) => a - b);
    const level = rows.length ? rows[Math.min(rows.length - 1, Math.floor((1 - ivh.fill) * rows.length))] : S;
    const id = sub("intraventricular");
    for (const i of idx) if (Math.floor(i / S) >= level) paint(i, ivh.hu, id);
  }

  const sah = lesions.subarachnoid;
  if (sah) {
    const id = sub("subarachnoid");
    for (let i = 0; i < n; i++) {
      const t = tissue[i];
      if (t === TISSUE.sulcus) {
        const sc = sulci[sid[i]];
        if (
          Math.abs(wrap(sc.angle - sah.angle)) < sah.halfWidth &&
          rBrainAt(rBrain, phiA[i]) - rhoA[i] < sc.depth * sah.depthFraction
        ) {
          paint(i, sah.hu, id);
        }
      } else if (t === TISSUE.gap) {
        if (Math.abs(wrap(phiA[i] - sah.angle)) < sah.halfWidth) paint(i, sah.hu, id);
      } else if (t === TISSUE.fissure && sah.fissure !== 0 && Math.sign(yA[i]) === sah.fissure) {
        const depthMax = sah.fissure < 0 ? anat.fissure[0] : anat.fissure[1];
        if (rBrainAt(rBrain, phiA[i]) - rhoA[i] < depthMax * sah.depthFraction) paint(i, sah.hu, id);
      }
    }
  }

  const extraAxial = (e: ExtraAxial, id: number) => {
    for (let i = 0; i < n; i++) {
      if (tissue[i] < TISSUE.gap) continue;
      const du = wrap(phiA[i] - e.angle) / e.halfWidth;
      if (du <= -1 || du >= 1) continue;
      const d = depA[i];
      if (d >= 0 && d < e.thickness * Math.pow(1 - du * du, e.profile)) paint(i, e.hu, id);
    }
  };
  if (lesions.subdural) extraAxial(lesions.subdural, sub("subdural"));
  if (lesions.epidural) extraAxial(lesions.epidural, sub("epidural"));

  return { size: S, hu, tissue, owner };
}

/** Whether (x, y) lies inside the capsule stored at caps[o .. o + 6]. */
function capsuleInside(caps: Float64Array, o: number, x: number, y: number): boolean {
  const x0 = caps[o], y0 = caps[o + 1], r0 = caps[o + 2], ex = caps[o + 3] - x0, ey = caps[o + 4] - y0;
  const r1 = caps[o + 5];
  const px = x - x0, py = y - y0;
  const len2 = ex * ex + ey * ey;
  let t = len2 > 0 ? (px * ex + py * ey) / len2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const dx = px - t * ex, dy = py - t * ey, r = r0 + t * (r1 - r0);
  return dx * dx + dy * dy < r * r;
}

function rBrainAt(table: Float32Array, phi: number): number {
  let bin = ((phi + Math.PI) / TAU * NA) | 0;
  if (bin >= NA) bin = NA - 1;
  return table[bin];
}
