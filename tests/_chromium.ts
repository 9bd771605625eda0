/**
 * Shared pieces of the browser tests: Debian's Chromium through playwright-core (never a browser
 * download) and `deno task serve` as a subprocess.
 * @module
 */
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
/** The project root. */
export const ROOT: string = new URL("../", import.meta.url).pathname;
const BASE_FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Launches Chromium with or without WebGPU (playwright gives each launch a fresh profile directory). */
export async function launchChromium(webgpu: boolean): Promise<Browser> {
  if (!(await Deno.stat(CHROMIUM).catch(() => null))) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  }
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [...BASE_FLAGS, ...(webgpu ? ["--enable-unsafe-webgpu"] : [])],
    timeout: 60_000,
  });
}

/** A running `deno task serve`. */
export interface Served {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  base: string;
  /** Stops the server and waits for it to exit. */
  stop: () => Promise<void>;
}

/** Starts `deno task serve ARGS --port 0` and waits for the URL it prints. */
export async function startServe(args: string[] = []): Promise<Served> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "src/cli/serve.ts"), ...args, "--port", "0"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const rd = child.stdout.getReader();
  let out = "";
  let m: RegExpExecArray | null = null;
  while (!(m = /Serving: (http:\/\/[^/\s]+)\//.exec(out))) {
    const r = await rd.read();
    if (r.done) throw new Error(`serve exited early: ${out}`);
    out += new TextDecoder().decode(r.value);
  }
  (async () => {
    while (!(await rd.read().catch(() => ({ done: true }))).done) { /* drain */ }
  })();
  return {
    base: m[1],
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** The page's `document.body.dataset.state` ("" when unset). */
export const bodyState = (page: Page): Promise<string> =>
  page.evaluate(() => document.body.dataset.state ?? "");
