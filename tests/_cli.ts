/** Runs the command-line entry points from tests. */
import { join } from "node:path";

/** The repository root. */
const ROOT: string = new URL("../", import.meta.url).pathname;

/** Runs a CLI (src/cli/NAME.ts) to completion; returns its exit code and stderr. */
export async function cli(name: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, `src/cli/${name}.ts`), ...args],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: r.code, stderr: new TextDecoder().decode(r.stderr) };
}
