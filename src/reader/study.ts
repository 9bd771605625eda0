/**
 * Reader study design, as plain data: which label-matched real/synthetic images go into which
 * resolution block, the manifest that maps random image ids to the truth (kept by the server, never
 * served), each reader's balanced and seeded order, and validation of submitted answers.
 * File and network I/O live in the CLI (src/cli/reader.ts); this file runs anywhere.
 * @module
 */

import { Rng } from "../util/rng.ts";

/** Single: one image, "real" or "synthetic"? Pair: a real and a synthetic image, which is synthetic? */
export type StudyMode = "single" | "pair";

/** What an image really is. */
export type Truth = "real" | "synthetic";

/** One image of the study (server-side only: `truth` and `source` must never reach a reader). */
export interface StudyImage {
  /** Random id, also the file name `images/<id>.png`. */
  id: string;
  /** Real or synthetic. */
  truth: Truth;
  /** The block's resolution (the image's height in pixels). */
  resolution: number;
  /** Image size as written. */
  height: number;
  /** Image size as written. */
  width: number;
  /** Where it came from (path relative to its dataset). */
  source: string;
  /** Label combination as a 0/1 string in `labelNames` order ("" without labels). */
  labels: string;
  /** True when the source was smaller than the block's resolution and had to be enlarged. */
  upscaled: boolean;
}

/** One question: a single image, or a label-matched pair (real first, synthetic second). */
export interface StudyItem {
  /** Random id (single mode: the image id). */
  id: string;
  /** Image ids; pair mode lists the real image first (display sides are per reader). */
  images: string[];
}

/** The items shown at one resolution. */
export interface StudyBlock {
  /** Image height in pixels. */
  resolution: number;
  /** The block's items in manifest order (readers see their own shuffled order). */
  items: StudyItem[];
}

/** The study manifest (`manifest.json` in the study folder; never served). */
export interface StudyManifest {
  /** Format version. */
  version: 1;
  /** Creation time (ISO 8601). */
  created: string;
  /** Single or pair mode. */
  mode: StudyMode;
  /** Study seed: with the reader id it fixes each reader's order. */
  seed: number;
  /** Random token a reader's link must carry when the server listens beyond loopback. */
  token: string;
  /** Label names of the matched label vectors ([] for plain image folders). */
  labelNames: string[];
  /** Where the real and synthetic images came from (as given on the command line). */
  sources: { real: string; synthetic: string };
  /** How images were resized (the same filter for real and synthetic). */
  resize: string;
  /** Blocks in presentation order. */
  blocks: StudyBlock[];
  /** Every image by id. */
  images: Record<string, StudyImage>;
}

/** A pair of label-matched indices into the real and the synthetic set. */
export interface MatchedPair {
  /** Index into the real set. */
  real: number;
  /** Index into the synthetic set. */
  synthetic: number;
  /** Their shared label combination. */
  labels: string;
}

/**
 * Picks `count` label-matched (real, synthetic) pairs without reusing an image: synthetic images in a
 * seeded random order, each paired with an unused real image of the same label combination, so the
 * pairs follow the synthetic label distribution. Throws when there are fewer matches than needed.
 */
export function matchPairs(
  realLabels: readonly string[],
  syntheticLabels: readonly string[],
  count: number,
  seed: number,
): MatchedPair[] {
  if (!(Number.isInteger(count) && count >= 1)) {
    throw new Error(`need a positive number of pairs, got ${count}`);
  }
  const rng = new Rng(seed);
  const pool = new Map<string, number[]>();
  const realOrder = rng.shuffle(realLabels.map((_, i) => i)) as number[];
  for (const i of realOrder) {
    const list = pool.get(realLabels[i]);
    if (list) list.push(i);
    else pool.set(realLabels[i], [i]);
  }
  const out: MatchedPair[] = [];
  for (const s of rng.shuffle(syntheticLabels.map((_, i) => i)) as number[]) {
    const r = pool.get(syntheticLabels[s])?.pop();
    if (r === undefined) continue;
    out.push({ real: r, synthetic: s, labels: syntheticLabels[s] });
    if (out.length === count) return out;
  }
  throw new Error(
    `only ${out.length} label-matched real/synthetic pairs (each image used once), need ${count} ` +
      `(--per-block x number of resolutions); lower --per-block, use fewer resolutions or add images`,
  );
}

/** Hex string of `bytes` random bytes from `crypto.getRandomValues` (ids that reveal nothing). */
export function randomId(bytes = 16): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
}

/** Image ids are 32 lowercase hex digits; anything else is refused before touching the disk. */
export const ID_PATTERN: RegExp = /^[0-9a-f]{32}$/;

/** Reader ids: 1-64 letters, digits, `.`, `_`, `-` (they appear in file contents and URLs). */
export const READER_PATTERN: RegExp = /^[A-Za-z0-9._-]{1,64}$/;

/** Experience levels offered on the reader page. */
export const EXPERIENCE_LEVELS: readonly string[] = [
  "none",
  "student",
  "resident",
  "radiologist <5 years",
  "radiologist >=5 years",
  "other clinician",
];

/** One entry of a reader's order as the page sees it (nothing about the truth). */
export interface ReaderTrial {
  /** Item id. */
  item: string;
  /** Block index (0-based, presentation order). */
  block: number;
  /** The block's resolution. */
  resolution: number;
  /** Image ids in display order (pair mode: left, right). */
  images: string[];
}

/** FNV-1a 32-bit hash (reader seeds). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A reader's trials: blocks in manifest order, items shuffled within each block by a generator seeded
 * with the study seed and the reader id (the same reader always gets the same order, so a resumed session
 * continues where it stopped). Pair mode puts the synthetic image on the left in exactly half of each
 * block's trials (one more on a random side when odd), in a random arrangement.
 */
export function readerOrder(
  manifest: Pick<StudyManifest, "blocks" | "seed" | "mode">,
  reader: string,
): ReaderTrial[] {
  const rng = new Rng(fnv1a(`${manifest.seed}:${reader}`));
  const out: ReaderTrial[] = [];
  manifest.blocks.forEach((block, b) => {
    const items = rng.shuffle([...block.items]) as StudyItem[];
    let syntheticLeft: boolean[] = [];
    if (manifest.mode === "pair") {
      const n = items.length, half = Math.floor(n / 2);
      syntheticLeft = Array.from({ length: n }, (_, i) => i < half);
      if (n % 2 === 1) syntheticLeft[n - 1] = rng.next() < 0.5;
      syntheticLeft = rng.shuffle(syntheticLeft) as boolean[];
    }
    items.forEach((it, i) => {
      const images = manifest.mode === "pair" && syntheticLeft[i]
        ? [it.images[1], it.images[0]]
        : [...it.images];
      out.push({ item: it.id, block: b, resolution: block.resolution, images });
    });
  });
  return out;
}

/** One recorded answer (one line of `answers.jsonl`). */
export interface AnswerRecord {
  /** Reader id. */
  reader: string;
  /** Item id. */
  item: string;
  /** Single mode: "real" or "synthetic"; pair mode: the id of the image chosen as synthetic. */
  answer: string;
  /** Optional confidence 1 (guess) .. 5 (sure). */
  confidence: number | null;
  /** True when this replaces the reader's earlier answer to the item. */
  change: boolean;
  /** Server time the answer was recorded (ISO 8601). */
  t: string;
  /** Milliseconds the image was on screen before answering, as the page measured it (or null). */
  ms: number | null;
}

/** Finds an item by id across blocks. */
export function findItem(manifest: StudyManifest, item: string): { block: number; item: StudyItem } | null {
  for (let b = 0; b < manifest.blocks.length; b++) {
    const it = manifest.blocks[b].items.find((x) => x.id === item);
    if (it) return { block: b, item: it };
  }
  return null;
}

/**
 * Checks a submitted answer body against the manifest; returns the record to store or an error message.
 * (Whether the reader is known and already answered is the server's state, checked there.)
 */
export function validateAnswer(
  manifest: StudyManifest,
  body: unknown,
  now: Date = new Date(),
): { ok: true; record: AnswerRecord } | { ok: false; error: string } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, error: "answer must be a JSON object {reader, item, answer, confidence?, change?}" };
  }
  const b = body as Record<string, unknown>;
  if (typeof b.reader !== "string" || !READER_PATTERN.test(b.reader)) {
    return { ok: false, error: "reader must be 1-64 letters, digits, '.', '_' or '-'" };
  }
  if (typeof b.item !== "string" || !findItem(manifest, b.item)) return { ok: false, error: "unknown item" };
  const found = findItem(manifest, b.item)!;
  if (typeof b.answer !== "string") return { ok: false, error: "answer must be a string" };
  if (manifest.mode === "single" && b.answer !== "real" && b.answer !== "synthetic") {
    return { ok: false, error: 'answer must be "real" or "synthetic"' };
  }
  if (manifest.mode === "pair" && !found.item.images.includes(b.answer)) {
    return { ok: false, error: "answer must be the id of one of the item's two images" };
  }
  let confidence: number | null = null;
  if (b.confidence !== undefined && b.confidence !== null) {
    if (
      !(typeof b.confidence === "number" && Number.isInteger(b.confidence) && b.confidence >= 1 &&
        b.confidence <= 5)
    ) {
      return { ok: false, error: "confidence must be an integer 1-5 or absent" };
    }
    confidence = b.confidence;
  }
  if (b.change !== undefined && typeof b.change !== "boolean") {
    return { ok: false, error: "change must be true or false" };
  }
  let ms: number | null = null;
  if (typeof b.ms === "number" && Number.isFinite(b.ms) && b.ms >= 0) ms = Math.round(b.ms);
  return {
    ok: true,
    record: {
      reader: b.reader,
      item: b.item,
      answer: b.answer,
      confidence,
      change: b.change === true,
      t: now.toISOString(),
      ms,
    },
  };
}

/** True when the answer to `item` is correct. */
export function isCorrect(manifest: StudyManifest, item: StudyItem, answer: string): boolean {
  if (manifest.mode === "single") return manifest.images[item.images[0]].truth === answer;
  return manifest.images[answer]?.truth === "synthetic";
}
