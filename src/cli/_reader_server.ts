/**
 * The reader study server: serves the reader page, the study's images by random id, and a JSON API;
 * appends every reader and every answer durably (append, write, fsync) before acknowledging it, so a
 * restart loses nothing. Only `images/<id>.png` of ids in the manifest can be read; the manifest and
 * answer files are never served.
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
  serveFile,
} from "./_http.ts";

/** One line of readers.jsonl. */
export interface ReaderRecord {
  reader: string;
  experience: string;
  t: string;
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
  /** Require the manifest's token on every request (when listening beyond loopback). */
  requireToken: boolean;
}

/** Builds the request handler of a study folder (loads readers and answers given so far). */
export async function readerHandler(
  studyDir: string,
  opts: ReaderServerOptions,
): Promise<(req: Request) => Promise<Response>> {
  const manifest = await readManifest(studyDir);
  const readersPath = join(studyDir, "readers.jsonl"), answersPath = join(studyDir, "answers.jsonl");
  const readers = new Map<string, string>();
  for (const r of await readJsonLines<ReaderRecord>(readersPath, true)) {
    if (!readers.has(r.reader)) readers.set(r.reader, r.experience);
  }
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
    { method: "GET", path: "/", handler: () => html(readerPageHtml()) },
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
        const b = await readJson(req) as { reader?: unknown; experience?: unknown } | null;
        if (!b || typeof b.reader !== "string" || !READER_PATTERN.test(b.reader)) {
          return httpError(400, "reader must be 1-64 letters, digits, '.', '_' or '-'");
        }
        if (typeof b.experience !== "string" || !EXPERIENCE_LEVELS.includes(b.experience)) {
          return httpError(400, `experience must be one of: ${EXPERIENCE_LEVELS.join("; ")}`);
        }
        const reader = b.reader, experience = b.experience;
        await lock.run(async () => {
          if (readers.has(reader)) return; // a returning reader keeps the level given first
          await appendLineDurable(
            readersPath,
            JSON.stringify({ reader, experience, t: new Date().toISOString() }),
          );
          readers.set(reader, experience);
        });
        return json(stateOf(reader));
      },
    },
    {
      method: "GET",
      path: "/api/state",
      handler: (_req, url) => {
        const reader = url.searchParams.get("reader") ?? "";
        if (!readers.has(reader)) return httpError(404, "unknown reader");
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
        return await lock.run(async () => {
          if (!readers.has(rec.reader)) return httpError(403, "unknown reader: start from the study page");
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
    sameOrigin: { hosts: opts.hosts ?? [] },
  });
}
