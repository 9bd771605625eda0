/**
 * {@linkcode RunStore} in the browser's origin-private file system (OPFS): the run folder is a directory
 * of `navigator.storage.getDirectory()`, so checkpoints survive a reload or a crashed tab and never leave
 * the machine. Atomic writes go through a temporary file that is then moved over the target (where
 * `move()` is missing, the file is written in place; a half-written checkpoint then fails to decode and
 * the resume takes the previous one, as with a crash during the CLI's write).
 * @module
 */
import type { RunStore } from "./run_store.ts";

type Dir = FileSystemDirectoryHandle;
type Movable = FileSystemFileHandle & { move?(dir: Dir, name: string): Promise<void> };

function parts(path: string): { dirs: string[]; name: string } {
  const p = path.split("/").filter(Boolean);
  if (p.some((s) => s === "." || s === "..")) {
    throw new Error(`run store: path "${path}" leaves the run folder`);
  }
  return { dirs: p.slice(0, -1), name: p[p.length - 1] ?? "" };
}

function isNotFound(e: unknown): boolean {
  return (e as DOMException)?.name === "NotFoundError";
}

/** A run folder in OPFS. */
export class OpfsStore implements RunStore {
  private constructor(private readonly root: Dir) {}

  /** Opens (creates) the run folder `name` under the origin's private root. */
  static async open(name: string): Promise<OpfsStore> {
    const nav = globalThis.navigator as Navigator | undefined;
    if (!nav?.storage?.getDirectory) {
      throw new Error("this browser has no origin-private file system (navigator.storage.getDirectory)");
    }
    const top = await nav.storage.getDirectory();
    return new OpfsStore(await top.getDirectoryHandle(name, { create: true }));
  }

  /** Deletes the run folder `name` and everything in it. */
  static async clear(name: string): Promise<void> {
    const top = await navigator.storage.getDirectory();
    await top.removeEntry(name, { recursive: true }).catch(() => {});
  }

  private async dir(dirs: string[], create: boolean): Promise<Dir | null> {
    let d = this.root;
    for (const s of dirs) {
      try {
        d = await d.getDirectoryHandle(s, { create });
      } catch (e) {
        if (!create && isNotFound(e)) return null;
        throw e;
      }
    }
    return d;
  }

  async read(path: string): Promise<Uint8Array | null> {
    const { dirs, name } = parts(path);
    const d = await this.dir(dirs, false);
    if (!d) return null;
    try {
      const f = await (await d.getFileHandle(name)).getFile();
      return new Uint8Array(await f.arrayBuffer());
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async write(path: string, data: Uint8Array | string): Promise<void> {
    const { dirs, name } = parts(path);
    const d = (await this.dir(dirs, true))!;
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const tmpName = `${name}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    const tmp = await d.getFileHandle(tmpName, { create: true }) as Movable;
    if (typeof tmp.move !== "function") {
      await d.removeEntry(tmpName).catch(() => {});
      await writeHandle(await d.getFileHandle(name, { create: true }), bytes);
      return;
    }
    await writeHandle(tmp, bytes);
    await d.removeEntry(name).catch(() => {});
    await tmp.move(d, name);
  }

  async append(path: string, text: string): Promise<void> {
    const { dirs, name } = parts(path);
    const d = (await this.dir(dirs, true))!;
    const h = await d.getFileHandle(name, { create: true });
    const w = await h.createWritable({ keepExistingData: true });
    try {
      await w.seek((await h.getFile()).size);
      await w.write(new TextEncoder().encode(text));
    } finally {
      await w.close();
    }
  }

  private async entries(dir: string, kind: "file" | "directory"): Promise<string[]> {
    const d = await this.dir(dir ? parts(dir + "/x").dirs : [], false);
    if (!d) return [];
    const out: string[] = [];
    // deno-lint-ignore no-explicit-any
    for await (const [n, h] of (d as any).entries() as AsyncIterable<[string, FileSystemHandle]>) {
      if (h.kind === kind && !n.endsWith(".tmp")) out.push(n);
    }
    return out.sort();
  }

  list(dir: string): Promise<string[]> {
    return this.entries(dir, "file");
  }

  dirs(dir: string): Promise<string[]> {
    return this.entries(dir, "directory");
  }

  async remove(path: string): Promise<void> {
    const { dirs, name } = parts(path);
    const d = await this.dir(dirs, false);
    await d?.removeEntry(name).catch(() => {});
  }
}

async function writeHandle(h: FileSystemFileHandle, bytes: Uint8Array): Promise<void> {
  const w = await h.createWritable();
  try {
    await w.write(bytes as Uint8Array<ArrayBuffer>);
  } finally {
    await w.close();
  }
}
