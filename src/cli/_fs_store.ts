/**
 * {@linkcode RunStore} on disk: a run folder as `deno task train` keeps it (atomic writes through
 * writeFileAtomic), so a run the studio made can be written out and a CLI run read by the studio's code.
 * @module
 */
import { dirname, join } from "node:path";
import type { RunStore } from "../studio/run_store.ts";
import { writeFileAtomic } from "./_atomic.ts";

/** A run folder on disk. */
export class FsStore implements RunStore {
  constructor(readonly dir: string) {}

  private path(p: string): string {
    if (p.split("/").some((s) => s === "..")) throw new Error(`run store: path "${p}" leaves ${this.dir}`);
    return join(this.dir, p);
  }

  async read(path: string): Promise<Uint8Array | null> {
    try {
      return await Deno.readFile(this.path(path));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  }

  async write(path: string, data: Uint8Array | string): Promise<void> {
    await writeFileAtomic(this.path(path), data);
  }

  async append(path: string, text: string): Promise<void> {
    const p = this.path(path);
    await Deno.mkdir(dirname(p), { recursive: true });
    await Deno.writeTextFile(p, text, { append: true, create: true });
  }

  private async entries(dir: string, files: boolean): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const e of Deno.readDir(this.path(dir || "."))) {
        if (files ? e.isFile : e.isDirectory) out.push(e.name);
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    return out.filter((n) => !n.endsWith(".tmp")).sort();
  }

  list(dir: string): Promise<string[]> {
    return this.entries(dir, true);
  }

  dirs(dir: string): Promise<string[]> {
    return this.entries(dir, false);
  }

  async remove(path: string): Promise<void> {
    await Deno.remove(this.path(path)).catch(() => {});
  }
}
