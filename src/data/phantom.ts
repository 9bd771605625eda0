/**
 * The built-in default dataset: a seeded procedural head-CT phantom. Axial slices in Hounsfield units
 * (air, scalp, skull with diploë, extra-axial CSF, cortex and white matter with texture, deep grey nuclei,
 * sulci, the interhemispheric fissure and falx, butterfly-shaped lateral ventricles) with the five
 * intracranial hemorrhage subtypes painted as they look on acute CT (see `_phantom_lesions.ts`), in any
 * combination. Label statistics are exact (see {@linkcode PhantomLabelSpec}); the ground truth includes
 * per-subtype pixel masks. Slices go through the same windowing and resizing path as real DICOM, and can
 * be written out as a DICOM series with an RSNA-style label CSV.
 *
 * Drawing: each slice is drawn at `resolution × supersample` (default: at least 128 px and at least 2×),
 * area-averaged down to `resolution` with {@linkcode resizeImage} (partial-volume effect, no aliasing),
 * then Gaussian noise (per patient, 3-8 HU by default) is added at the output resolution, as CT noise
 * lives at the reconstructed pixel size.
 *
 * Determinism: the seed fixes the label plan, the patients, and through per-patient and per-slice seeds
 * every slice; a slice's anatomy and findings do not depend on the resolution (only its noise does).
 * @module
 */

import { Rng } from "../util/rng.ts";
import type { Dataset } from "./dataset.ts";
import { randomUid, writeDicomCt } from "./dicom_write.ts";
import { writeLabels } from "./labels.ts";
import { resizeImage } from "./resize.ts";
import { applyWindow, type CtWindow, WINDOWS } from "./window.ts";
import { type PhantomHead, sampleHead, sampleSliceAnatomy } from "./_phantom_anatomy.ts";
import {
  PHANTOM_SUBTYPES,
  type PhantomLesions,
  type PhantomSubtype,
  sampleLesions,
} from "./_phantom_lesions.ts";
import { combosUpTo, type PhantomLabelSpec, planLabels } from "./_phantom_labels.ts";
import { renderSlice, TISSUE } from "./_phantom_render.ts";

export { PHANTOM_SUBTYPES, type PhantomSubtype } from "./_phantom_lesions.ts";
export type { PhantomHead } from "./_phantom_anatomy.ts";
export type { PhantomLesions } from "./_phantom_lesions.ts";
export {
  combosUpTo,
  largestRemainder,
  type PhantomLabelSpec,
  rankCombos,
  RSNA_PREVALENCE,
  type WeightedCombo,
} from "./_phantom_labels.ts";

/** Label columns of phantom datasets: the RSNA study's five subtypes, then "no_finding" (1 iff none). */
export const PHANTOM_LABELS: readonly string[] = [...PHANTOM_SUBTYPES, "no_finding"];

/** What one slice shows. */
export interface PhantomSliceParams {
  /** Output height = width in pixels. */
  size: number;
  /** Hemorrhages on this slice ([] = normal). */
  findings: readonly PhantomSubtype[];
  /** The patient's head; drawn from the rng when absent. */
  head?: PhantomHead;
  /** Drawing resolution factor (integer >= 1); default {@linkcode defaultSupersample}(size). */
  supersample?: number;
  /** Noise standard-deviation range in HU when the head is drawn here; default [3, 8]. */
  noiseHu?: readonly [number, number];
  /** Add the Gaussian noise (default true). */
  noise?: boolean;
}

/**
 * Ground-truth masks at the output resolution, (size, size), 1 where the structure covers any part of
 * the pixel (so subset relations of the drawing survive downsampling).
 */
export interface PhantomMasks {
  /** Visible blood of each subtype (a later-painted finding hides an earlier one where they overlap). */
  epidural: Uint8Array;
  /** Intraparenchymal blood. */
  intraparenchymal: Uint8Array;
  /** Intraventricular blood. */
  intraventricular: Uint8Array;
  /** Subarachnoid blood. */
  subarachnoid: Uint8Array;
  /** Subdural blood. */
  subdural: Uint8Array;
  /** Bone of the skull (anatomy before hemorrhages, as for all masks below). */
  skull: Uint8Array;
  /** Everything inside the inner table (brain, CSF spaces). */
  intracranial: Uint8Array;
  /** Lateral and third ventricles. */
  ventricles: Uint8Array;
  /** Subarachnoid space: extra-axial CSF, sulci and the interhemispheric fissure. */
  subarachnoidSpace: Uint8Array;
  /** Brain parenchyma: cortex, white matter, deep grey nuclei. */
  parenchyma: Uint8Array;
}

/** One rendered slice. */
export interface PhantomSlice {
  /** Hounsfield units, (size, size) row-major. */
  hu: Float32Array;
  /** Height = width. */
  size: number;
  /** The head it was drawn with. */
  head: PhantomHead;
  /** The hemorrhages' parameters. */
  lesions: PhantomLesions;
  /** Ground-truth masks, when asked for. */
  masks?: PhantomMasks;
}

/** Default drawing factor: the slice is drawn at max(2 × size, 128) px, rounded up to a multiple of size. */
export function defaultSupersample(size: number): number {
  return Math.max(2, Math.ceil(128 / size));
}

/**
 * Draws one slice in HU. Random draws, in order: the head (when `params.head` is absent), the slice's
 * anatomy, its hemorrhages, then the noise.
 */
export function phantomSliceHu(
  params: PhantomSliceParams,
  rng: Rng,
  options: { masks?: boolean } = {},
): PhantomSlice {
  const size = params.size;
  if (!Number.isInteger(size) || size < 8 || size > 4096) {
    throw new Error(`phantom: size must be an integer in [8, 4096], got ${size}`);
  }
  const ss = params.supersample ?? defaultSupersample(size);
  if (!Number.isInteger(ss) || ss < 1 || ss > 16) {
    throw new Error(`phantom: supersample must be an integer in [1, 16], got ${ss}`);
  }
  const head = params.head ?? sampleHead(rng, params.noiseHu ?? [3, 8]);
  const anatomy = sampleSliceAnatomy(rng, head);
  const lesions = sampleLesions(rng, anatomy, params.findings);
  const S = size * ss;
  const r = renderSlice(head, anatomy, lesions, S);
  const hu = resizeImage(r.hu, 1, S, S, size, size);
  if (params.noise ?? true) {
    for (let i = 0; i < hu.length; i++) hu[i] += rng.normal() * head.noiseHu;
  }
  for (let i = 0; i < hu.length; i++) hu[i] = Math.max(-1024, Math.min(3071, hu[i]));
  const out: PhantomSlice = { hu, size, head, lesions };
  if (options.masks) {
    const any = (test: (i: number) => boolean) => {
      const m = new Uint8Array(size * size);
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) if (test(y * S + x)) m[((y / ss) | 0) * size + ((x / ss) | 0)] = 1;
      }
      return m;
    };
    const owner = (k: number) => any((i) => r.owner[i] === k + 1);
    const t = r.tissue;
    out.masks = {
      epidural: owner(0),
      intraparenchymal: owner(1),
      intraventricular: owner(2),
      subarachnoid: owner(3),
      subdural: owner(4),
      skull: any((i) => t[i] === TISSUE.skull),
      intracranial: any((i) => t[i] >= TISSUE.gap),
      ventricles: any((i) => t[i] === TISSUE.ventricle),
      subarachnoidSpace: any((i) => t[i] === TISSUE.gap || t[i] === TISSUE.sulcus || t[i] === TISSUE.fissure),
      parenchyma: any((i) => t[i] === TISSUE.grey || t[i] === TISSUE.white || t[i] === TISSUE.deep),
    };
  }
  return out;
}

/** Settings of a phantom dataset. */
export interface PhantomConfig {
  /** Output height = width in pixels (e.g. 32, 64, 128, 256). */
  resolution: number;
  /** How many slices and which findings each has; the counts come out exactly as asked. */
  labels: PhantomLabelSpec;
  /** Seed of everything: label order, patients, anatomy, findings, noise, ids and DICOM UIDs. */
  seed: number;
  /** 1: the brain window (40/80); 3: brain, subdural (80/200) and bone (600/2800) windows, as RSNA practice. */
  channels: 1 | 3;
  /** Slices per synthetic patient, inclusive [min, max]; a patient's slices share the head (shape, tissue HU, noise). */
  slicesPerPatient: readonly [number, number];
  /** Range of the per-patient Gaussian noise standard deviation, HU. */
  noiseHu: readonly [number, number];
  /** Drawing resolution factor; default {@linkcode defaultSupersample}(resolution). */
  supersample?: number;
}

/**
 * The demo's default: 4000 slices at 32 px, brain window; 20 % normal, each single finding 8 %, each of the
 * 10 pairs 4 % (so every subtype has prevalence 24 %), 1-4 slices per patient.
 */
export const DEFAULT_PHANTOM_CONFIG: Readonly<PhantomConfig> = {
  resolution: 32,
  labels: {
    kind: "combos",
    count: 4000,
    combos: combosUpTo(2).map((f) => ({
      findings: f,
      weight: f.length === 0 ? 0.2 : f.length === 1 ? 0.08 : 0.04,
    })),
  },
  seed: 1,
  channels: 1,
  slicesPerPatient: [1, 4],
  noiseHu: [3, 8],
};

/** The dataset-level plan: findings, patients, ids and per-slice seeds (no pixels). */
export interface PhantomPlan {
  /** Findings of each slice. */
  findings: PhantomSubtype[][];
  /** Multi-hot labels in {@linkcode PHANTOM_LABELS} order, (N, 6). */
  labels: Uint8Array;
  /** Image id of each slice, "ID_" + 9 hex digits (RSNA style). */
  ids: string[];
  /** Patient index of each slice (slices of a patient are consecutive). */
  patient: number[];
  /** Patient id of each patient, "ID_" + 8 hex digits. */
  patientIds: string[];
  /** Seed of each patient's head. */
  patientSeeds: number[];
  /** Seed of each slice. */
  sliceSeeds: number[];
}

function checkConfig(cfg: PhantomConfig): void {
  const [lo, hi] = cfg.slicesPerPatient;
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && hi >= lo)) {
    throw new Error(`phantom: slicesPerPatient must be integers 1 <= min <= max, got [${lo}, ${hi}]`);
  }
  if (cfg.channels !== 1 && cfg.channels !== 3) {
    throw new Error(`phantom: channels must be 1 or 3, got ${cfg.channels}`);
  }
  const [n0, n1] = cfg.noiseHu;
  if (!(n0 >= 0 && n1 >= n0)) throw new Error(`phantom: noiseHu must be 0 <= lo <= hi, got [${n0}, ${n1}]`);
  if (!Number.isFinite(cfg.seed)) throw new Error(`phantom: seed must be a number, got ${cfg.seed}`);
}

function hexId(rng: Rng, digits: number, taken: Set<string>): string {
  for (;;) {
    let s = "";
    while (s.length < digits) s += rng.nextU32().toString(16).padStart(8, "0");
    const id = "ID_" + s.slice(0, digits);
    if (!taken.has(id)) {
      taken.add(id);
      return id;
    }
  }
}

/** The plan of a phantom dataset: exact labels (shuffled), patient grouping, ids and seeds. */
export function planPhantom(config: Partial<PhantomConfig> = {}): PhantomPlan {
  const cfg = { ...DEFAULT_PHANTOM_CONFIG, ...config };
  checkConfig(cfg);
  const rng = new Rng(cfg.seed);
  const findings = planLabels(cfg.labels, rng);
  const N = findings.length, L = PHANTOM_LABELS.length;
  const labels = new Uint8Array(N * L);
  findings.forEach((f, i) => {
    for (const s of f) labels[i * L + PHANTOM_SUBTYPES.indexOf(s)] = 1;
    labels[i * L + L - 1] = f.length === 0 ? 1 : 0;
  });
  const patient: number[] = [];
  const [lo, hi] = cfg.slicesPerPatient;
  for (let p = 0; patient.length < N; p++) {
    const k = lo + rng.int(hi - lo + 1);
    for (let j = 0; j < k && patient.length < N; j++) patient.push(p);
  }
  const nPatients = N ? patient[N - 1] + 1 : 0;
  const taken = new Set<string>();
  const ids = findings.map(() => hexId(rng, 9, taken));
  const patientIds = Array.from({ length: nPatients }, () => hexId(rng, 8, taken));
  const patientSeeds = Array.from({ length: nPatients }, () => rng.nextU32());
  const sliceSeeds = findings.map(() => rng.nextU32());
  return { findings, labels, ids, patient, patientIds, patientSeeds, sliceSeeds };
}

/**
 * Slice i of a plan in HU at `size`, exactly as {@linkcode makePhantom} (before windowing) and
 * {@linkcode phantomToDicomSeries} draw it. `heads` caches the current patient's head across calls.
 */
export function planSliceHu(
  plan: PhantomPlan,
  i: number,
  size: number,
  config: Partial<PhantomConfig> = {},
  heads: Map<number, PhantomHead> = new Map(),
): Float32Array {
  const cfg = { ...DEFAULT_PHANTOM_CONFIG, ...config };
  return renderPlanned(plan, i, size, cfg, heads, cfg.supersample);
}

function renderPlanned(
  plan: PhantomPlan,
  i: number,
  size: number,
  cfg: PhantomConfig,
  heads: Map<number, PhantomHead>,
  supersample?: number,
): Float32Array {
  const p = plan.patient[i];
  let head = heads.get(p);
  if (!head) {
    head = sampleHead(new Rng(plan.patientSeeds[p]), cfg.noiseHu);
    heads.clear(); // slices of a patient are consecutive: one cached head is enough
    heads.set(p, head);
  }
  const rng = new Rng(plan.sliceSeeds[i]);
  return phantomSliceHu({ size, findings: plan.findings[i], head, supersample }, rng).hu;
}

/**
 * Generates a phantom dataset (format "phantom"): (N, C, H, W) images in [-1, 1] (window → [0, 1] → ×2 − 1),
 * multi-hot labels in {@linkcode PHANTOM_LABELS} order, patient ids, and image ids as sources.
 */
export function makePhantom(config: Partial<PhantomConfig> = {}): Dataset {
  const cfg: PhantomConfig = { ...DEFAULT_PHANTOM_CONFIG, ...config };
  const plan = planPhantom(cfg);
  const R = cfg.resolution, C = cfg.channels, N = plan.findings.length;
  const windows: CtWindow[] = C === 1 ? [WINDOWS.brain] : [WINDOWS.brain, WINDOWS.subdural, WINDOWS.bone];
  const images = new Float32Array(N * C * R * R); // (N, C, H, W)
  const heads = new Map<number, PhantomHead>();
  for (let i = 0; i < N; i++) {
    const hu = renderPlanned(plan, i, R, cfg, heads, cfg.supersample);
    windows.forEach((w, c) => {
      const dst = images.subarray((i * C + c) * R * R, (i * C + c + 1) * R * R);
      applyWindow(hu, w, dst);
      for (let k = 0; k < dst.length; k++) dst[k] = dst[k] * 2 - 1;
    });
  }
  return {
    images,
    n: N,
    channels: C,
    height: R,
    width: R,
    labels: plan.labels,
    labelNames: [...PHANTOM_LABELS],
    patientIds: plan.patient.map((p) => plan.patientIds[p]),
    sources: plan.ids,
    format: "phantom",
  };
}

/** A file to write: name relative to the output folder, and its bytes. */
export interface NamedFile {
  /** File name, e.g. "ID_0a1b2c3d4.dcm". */
  name: string;
  /** Contents. */
  bytes: Uint8Array;
}

/** Options of {@linkcode phantomToDicomSeries}. */
export interface PhantomDicomOptions {
  /** Rows = columns of the DICOM images; default 512 (as clinical head CT). */
  size?: number;
  /** Write only the first `limit` slices of the plan (and their CSV rows). */
  limit?: number;
  /** Drawing factor; default {@linkcode defaultSupersample}(size). */
  supersample?: number;
}

/**
 * Writes the phantom dataset `config` describes as DICOM CT files (one per slice, named `<id>.dcm`; one
 * study and series per synthetic patient; UIDs drawn from the seed; no real patient data) plus RSNA-style
 * label CSVs: `labels.csv` (`ID,Label` rows `ID_<img>_<subtype>` for the five subtypes and `any`) and
 * `patients.csv` (image → patient). Pixel values: stored = round(HU) + 1024 (uint16, 12 bits stored),
 * RescaleSlope 1, RescaleIntercept −1024, window 40/80.
 */
export function phantomToDicomSeries(
  config: Partial<PhantomConfig> = {},
  options: PhantomDicomOptions = {},
): { files: NamedFile[]; csv: string; patientsCsv: string } {
  const cfg: PhantomConfig = { ...DEFAULT_PHANTOM_CONFIG, ...config };
  const plan = planPhantom(cfg);
  const size = options.size ?? 512;
  const N = Math.min(plan.findings.length, options.limit ?? Infinity);
  const uidRng = new Rng((cfg.seed ^ 0x5eed_d1c0) >>> 0);
  const heads = new Map<number, PhantomHead>();
  const series = new Map<number, { study: string; series: string; frame: string; next: number }>();
  const fov = 230; // mm: the image spans about a 23 cm field of view, as head CT
  const files: NamedFile[] = [];
  for (let i = 0; i < N; i++) {
    const p = plan.patient[i];
    let s = series.get(p);
    if (!s) {
      s = { study: randomUid(uidRng), series: randomUid(uidRng), frame: randomUid(uidRng), next: 1 };
      series.set(p, s);
    }
    const hu = renderPlanned(plan, i, size, cfg, heads, options.supersample);
    const bytes = writeDicomCt({
      hu,
      rows: size,
      columns: size,
      sopInstanceUid: randomUid(uidRng),
      studyInstanceUid: s.study,
      seriesInstanceUid: s.series,
      frameOfReferenceUid: s.frame,
      patientId: plan.patientIds[p],
      instanceNumber: s.next++,
      pixelSpacing: [fov / size, fov / size],
      window: WINDOWS.brain,
    });
    files.push({ name: `${plan.ids[i]}.dcm`, bytes });
  }
  const L = PHANTOM_LABELS.length;
  const rows = Array.from({ length: N }, (_, i) => ({
    source: plan.ids[i],
    patientId: plan.patientIds[plan.patient[i]],
    labels: plan.labels.subarray(i * L, (i + 1) * L),
  }));
  const [labelsCsv, patientsCsv] = writeLabels("rsna", PHANTOM_LABELS, rows);
  return { files, csv: labelsCsv.text, patientsCsv: patientsCsv.text };
}
