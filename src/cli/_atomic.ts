/** Durable file writes for CLI code: whole writes followed by fsync; atomic replacement via temp + rename. */
import { dirname } from "node:path";

/** Writes `data` to `path` so a reader sees either the old or the new file, never half of one. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  await writeSynced(tmp, bytes, { write: true, create: true, truncate: true });
  await Deno.rename(tmp, path);
}

/** Opens `path` with `mode`, writes all of `bytes`, fsyncs and closes (also on error). */
export async function writeSynced(path: string, bytes: Uint8Array, mode: Deno.OpenOptions): Promise<void> {
  const f = await Deno.open(path, mode);
  try {
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
    await f.sync();
  } finally {
    f.close();
  }
}
