/**
 * The reader study server: serves the reader page, the study's images by random id, and a JSON API;
 * appends every reader and every answer durably (append, write, fsync) before acknowledging it, so a
 * restart loses nothing. Only `images/<id>.png` of ids in the manifest can be read; the manifest and
 * answer files are never served. Writes need the study token (embedded in the page this server serves;
 * another site can neither read it nor send it) and a reader's own key, which the page keeps; a reader
 * id alone reads and writes nothing.
 * @module
 */
import { join } from "node:path";
import {
  EXPERIENCE_LEVELS,
  ID_PATTERN,
  READER_PATTERN,
  readerOrder,
  validateAnswer,
} from "../reader/study.ts";
import type { AnswerRecord, StudyManifest } from "../reader/study.ts";
import { readerPageHtml } from "../reader/page.ts";
import {
  appendLineDurable,
  html,
  httpError,
  json,
  Mutex,
  readJson,
  readJsonLines,
  type Route,
  router,
  safeEqual,
  serveFile,
} from "./_http.ts";

/** One line of readers.jsonl. */
export interface ReaderRecord {
  reader: string;
  experience: string;
  t: string;
  /**
   * SHA-256 (hex) of the reader's key: the key is handed to the reader's page once and must come with
   * every later request for that reader, so a reader id alone reads or writes nothing. Absent in studies
   * from before keys; such a reader is bound to the key of the next registration under the id.
   */
  keyHash?: string;
}

/** What a reader key may look like (the page sends 32 hex digits). */
const KEY_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/** A fresh reader key: 128 random bits, hex. */
function newKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

/** SHA-256 of a key, hex (only the hash is stored, so a copied study folder holds no usable key). */
async function keyHash(key: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads and checks a study folder's manifest. */
export async function readManifest(studyDir: string): Promise<StudyManifest> {
  const path = join(studyDir, "manifest.json");
  let m: StudyManifest;
  try {
    m = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(
      `${path}: cannot read the study manifest (${(e as Error).message}); is this a study folder?`,
    );
  }
  if (m.version !== 1 || !Array.isArray(m.blocks) || typeof m.images !== "object") {
    throw new Error(`${path}: not a version 1 study manifest`);
  }
  return m;
}

/** Options of {@linkcode readerHandler}. */
export interface ReaderServerOptions {
  /** Host names besides loopback that this server answers as (its --host), for the cross-site check. */
  hosts?: readonly string[];
  /**
   * Require the manifest's token on every request (when listening beyond loopback). Without it the token
   * is still required on every write; the reader page gets it embedded by this server.
   */
  requireToken: boolean;
}

const NOT_YOURS = "this reader id is already taken: continue in the browser where you started it, or " +
  "choose another reader id";

/** Builds the request handler of a study folder (loads readers and answers given so far). */
export async function readerHandler(
  studyDir: string,
  opts: ReaderServerOptions,
): Promise<(req: Request) => Promise<Response>> {
  const manifest = await readManifest(studyDir);
  const readersPath = join(studyDir, "readers.jsonl"), answersPath = join(studyDir, "answers.jsonl");
  const readers = new Map<string, string>();
  const keys = new Map<string, string>(); // reader -> key hash
  for (const r of await readJsonLines<ReaderRecord>(readersPath, true)) {
    if (!readers.has(r.reader)) readers.set(r.reader, r.experience);
    if (r.keyHash && !keys.has(r.reader)) keys.set(r.reader, r.keyHash);
  }
  /** Whether `key` is the reader's key. */
  const owns = async (reader: string, key: string | null): Promise<boolean> => {
    const want = keys.get(reader);
    return want !== undefined && key !== null && safeEqual(await keyHash(key), want);
  };
  const answers = new Map<string, Map<string, AnswerRecord>>();
  for (const a of await readJsonLines<AnswerRecord>(answersPath, true)) {
    if (!answers.has(a.reader)) answers.set(a.reader, new Map());
    answers.get(a.reader)!.set(a.item, a);
  }
  const lock = new Mutex(); // check-then-append must not interleave between requests
  const total = manifest.blocks.reduce((s, b) => s + b.items.length, 0);

  const stateOf = (reader: string) => {
    const given: Record<string, { answer: string; confidence: number | null }> = {};
    for (const [item, a] of answers.get(reader) ?? []) {
      given[item] = { answer: a.answer, confidence: a.confidence };
    }
    return {
      reader,
      experience: readers.get(reader),
      mode: manifest.mode,
      trials: readerOrder(manifest, reader),
      answers: given,
    };
  };

  const routes: Route[] = [
    { method: "GET", path: "/", handler: () => html(readerPageHtml(manifest.token)) },
    {
      method: "GET",
      path: "/api/study",
      handler: () =>
        json({
          title: "Real or synthetic? A reader study",
          mode: manifest.mode,
          blocks: manifest.blocks.map((b) => ({ resolution: b.resolution, items: b.items.length })),
          total,
          experienceLevels: EXPERIENCE_LEVELS,
        }),
    },
    {
      method: "POST",
      path: "/api/reader",
      handler: async (req) => {
        const b = await readJson(req) as { reader?: unknown; experience?: unknown; key?: unknown } | null;
        if (!b || typeof b.reader !== "string" || !READER_PATTERN.test(b.reader)) {
          return httpError(400, "reader must be 1-64 letters, digits, '.', '_' or '-'");
        }
        if (typeof b.experience !== "string" || !EXPERIENCE_LEVELS.includes(b.experience)) {
          return httpError(400, `experience must be one of: ${EXPERIENCE_LEVELS.join("; ")}`);
        }
        const reader = b.reader, experience = b.experience;
        // the page makes its key before the first request, so a retry after a lost reply is the same request
        if (b.key !== undefined && (typeof b.key !== "string" || !KEY_PATTERN.test(b.key))) {
          return httpError(400, "key must be 16-128 letters, digits, '_' or '-'");
        }
        const given = typeof b.key === "string" ? b.key : null;
        return await lock.run(async () => {
          if (keys.has(reader)) {
            // a returning reader keeps the level given first, and must prove the id is theirs
            if (!(await owns(reader, given))) return httpError(403, NOT_YOURS);
            return json({ ...stateOf(reader), key: given });
          }
          const key = given ?? newKey();
          const rec: ReaderRecord = {
            reader,
            experience: readers.get(reader) ?? experience,
            t: new Date().toISOString(),
            keyHash: await keyHash(key),
          };
          await appendLineDurable(readersPath, JSON.stringify(rec));
          if (!readers.has(reader)) readers.set(reader, experience);
          keys.set(reader, rec.keyHash!);
          return json({ ...stateOf(reader), key });
        });
      },
    },
    {
      method: "GET",
      path: "/api/state",
      handler: async (req, url) => {
        const reader = url.searchParams.get("reader") ?? "";
        if (!readers.has(reader)) return httpError(404, "unknown reader");
        if (!(await owns(reader, req.headers.get("x-reader-key")))) {
          return httpError(403, "missing or wrong reader key (header x-reader-key)");
        }
        return json(stateOf(reader));
      },
    },
    {
      method: "POST",
      path: "/api/answer",
      handler: async (req) => {
        const v = validateAnswer(manifest, await readJson(req));
        if (!v.ok) return httpError(400, v.error);
        const rec = v.record;
        const key = req.headers.get("x-reader-key");
        return await lock.run(async () => {
          if (!readers.has(rec.reader)) return httpError(403, "unknown reader: start from the study page");
          if (!(await owns(rec.reader, key))) {
            return httpError(403, "missing or wrong reader key: answer from the page where you started");
          }
          const prev = answers.get(rec.reader)?.get(rec.item);
          if (prev) {
            // a retried request (reply lost) is acknowledged without a second line
            if (prev.answer === rec.answer && prev.confidence === rec.confidence) {
              return json({ ok: true, duplicate: true });
            }
            if (!rec.change) {
              return json({
                error: "already answered; send change: true to replace the answer",
                answer: { answer: prev.answer, confidence: prev.confidence },
              }, 409);
            }
          } else rec.change = false;
          await appendLineDurable(answersPath, JSON.stringify(rec));
          if (!answers.has(rec.reader)) answers.set(rec.reader, new Map());
          answers.get(rec.reader)!.set(rec.item, rec);
          return json({ ok: true });
        });
      },
    },
    {
      method: "GET",
      path: /^\/img\/(?<id>[^/]*)\.png$/,
      handler: (_req, _url, p) => {
        if (!ID_PATTERN.test(p.id) || !Object.hasOwn(manifest.images, p.id)) {
          return httpError(404, "not found");
        }
        return serveFile(join(studyDir, "images"), `${p.id}.png`, "image/png");
      },
    },
  ];
  return router(routes, {
    token: opts.requireToken ? manifest.token : null,
    writeToken: manifest.token,
    sameOrigin: { hosts: opts.hosts ?? [] },
  });
}
