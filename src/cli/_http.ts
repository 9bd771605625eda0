/**
 * Small HTTP helpers shared by the CLI servers (`deno task serve`, `deno task reader`): a route table,
 * JSON/HTML responses with safe default headers, an optional access token, static files that cannot
 * leave their folder, and durable line appends.
 * @module
 */
import { isAbsolute, join, normalize, resolve, sep } from "node:path";
import { writeSynced } from "./_atomic.ts";

/** A request handler; `params` holds the route pattern's named groups. */
export type Handler = (
  req: Request,
  url: URL,
  params: Record<string, string>,
) => Response | Promise<Response>;

/** One route: an exact path or a RegExp (anchored by the caller) with named groups. */
export interface Route {
  /** HTTP method. */
  method: "GET" | "POST";
  /** Exact path ("/bench") or pattern (`/^\/img\/(?<id>[0-9a-f]{32})\.png$/`). */
  path: string | RegExp;
  /** The handler. */
  handler: Handler;
}

/** Options of {@linkcode router}. */
export interface RouterOptions {
  /** When set, every request must carry `?token=<token>` (or header `x-study-token`); else 403. */
  token?: string | null;
  /**
   * When set, every state-changing request (anything but GET/HEAD) must carry this token (header
   * `x-study-token` or `?token=`); else 403. A page served by the same server embeds it, and another site
   * can neither read that page nor set the header, so only the server's own pages can write.
   */
  writeToken?: string | null;
  /** Called with each error a handler throws (default: console.error). */
  onError?: (e: unknown) => void;
  /**
   * Refuse (403) requests from another site: any request whose `Host` is neither loopback nor one of
   * `hosts` (DNS rebinding: a foreign name resolving to 127.0.0.1 must not even read the pages, which carry
   * the write token), and state-changing requests (anything but GET/HEAD) whose `Origin` is not the
   * request's `Host`. Any web page open in the operator's browser could otherwise post to 127.0.0.1.
   */
  sameOrigin?: { hosts?: readonly string[] };
}

/** A handler's way to answer with an HTTP error (e.g. 413 from {@linkcode readJson}). */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "HttpError";
  }
}

/** Why a request is refused under {@linkcode RouterOptions.sameOrigin}, or null. */
export function crossSiteReason(req: Request, hosts: readonly string[] = []): string | null {
  const host = req.headers.get("host") ?? "";
  const name = host.replace(/:\d+$/, "");
  // listening on every interface, any name may reach it (the study token guards that case)
  const anyHost = hosts.includes("0.0.0.0") || hosts.includes("::");
  if (!anyHost && !isLoopback(name) && !hosts.includes(name)) return `Host "${host}" is not this server`;
  if (!isStateChanging(req)) return null;
  const origin = req.headers.get("origin");
  if (origin !== null) {
    let o: string;
    try {
      o = new URL(origin).host;
    } catch {
      return `Origin "${origin}" is not a URL`;
    }
    if (o !== host) return `Origin "${origin}" is another site`;
  }
  return null;
}

/** Anything but GET and HEAD may change state. */
function isStateChanging(req: Request): boolean {
  return req.method !== "GET" && req.method !== "HEAD";
}

/** The token a request carries (query parameter or header), "" when none. */
function tokenOf(req: Request, url: URL): string {
  return url.searchParams.get("token") ?? req.headers.get("x-study-token") ?? "";
}

const BASE_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "cross-origin-opener-policy": "same-origin",
};

/** A response with the base security headers. */
export function respond(
  body: BodyInit | null,
  status: number,
  contentType: string,
  extra: Record<string, string> = {},
): Response {
  return new Response(body, { status, headers: { ...BASE_HEADERS, "content-type": contentType, ...extra } });
}

/** A JSON response. */
export function json(data: unknown, status = 200): Response {
  return respond(JSON.stringify(data), status, "application/json; charset=utf-8");
}

/** An HTML response (inline scripts and styles allowed, nothing from other origins). */
export function html(text: string, status = 200): Response {
  return respond(text, status, "text/html; charset=utf-8", {
    "content-security-policy":
      "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; connect-src 'self'",
  });
}

/** A JSON error `{error}`. */
export function httpError(status: number, message: string): Response {
  return json({ error: message }, status);
}

/** Compares two strings in time independent of where they differ. */
export function safeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  let d = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) d |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return d === 0;
}

/** Dispatches requests to the first matching route; 404 when none, 405 for a known path with another method. */
export function router(
  routes: readonly Route[],
  opts: RouterOptions = {},
): (req: Request) => Promise<Response> {
  const onError = opts.onError ?? ((e) => console.error(e));
  return async (req: Request): Promise<Response> => {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return httpError(400, "bad URL");
    }
    if (opts.sameOrigin) {
      const why = crossSiteReason(req, opts.sameOrigin.hosts);
      if (why) return httpError(403, `cross-site request refused: ${why}`);
    }
    if (opts.token && !safeEqual(tokenOf(req, url), opts.token)) {
      return httpError(403, "missing or wrong token: use the link you were given");
    }
    if (opts.writeToken && isStateChanging(req) && !safeEqual(tokenOf(req, url), opts.writeToken)) {
      return httpError(403, "missing or wrong study token: answer from the study page this server serves");
    }
    let pathMatched = false;
    for (const r of routes) {
      let params: Record<string, string> | null = null;
      if (typeof r.path === "string") {
        if (url.pathname === r.path) params = {};
      } else {
        const m = r.path.exec(url.pathname);
        if (m) params = { ...(m.groups ?? {}) };
      }
      if (!params) continue;
      pathMatched = true;
      if (r.method !== req.method && !(r.method === "GET" && req.method === "HEAD")) continue;
      try {
        return await r.handler(req, url, params);
      } catch (e) {
        if (e instanceof HttpError) return httpError(e.status, e.message);
        onError(e);
        return httpError(500, "internal error");
      }
    }
    return pathMatched ? httpError(405, "method not allowed") : httpError(404, "not found");
  };
}

/**
 * Reads a JSON request body; null when it is not valid JSON. Stops reading at `maxBytes` and throws
 * {@linkcode HttpError} 413 (the router answers it), so an oversized body costs no more memory than the limit.
 */
export async function readJson(req: Request, maxBytes = 64 * 1024): Promise<unknown | null> {
  const tooLarge = () => new HttpError(413, `request body larger than ${maxBytes} bytes`);
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) bytes.set(c, o), o += c.length;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".png": "image/png",
  ".json": "application/json; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".wasm": "application/wasm",
};

/**
 * Serves `rel` from inside `root`: refuses absolute paths, `..` segments, NUL bytes and anything whose
 * resolved path (symlinks included) is outside `root`. 404 when missing.
 */
export async function serveFile(root: string, rel: string, contentType?: string): Promise<Response> {
  if (rel.includes("\0") || isAbsolute(rel) || rel.split(/[\\/]/).includes("..")) {
    return httpError(400, "bad path");
  }
  const base = await Deno.realPath(resolve(root)).catch(() => resolve(root));
  const p = normalize(join(base, rel));
  let real: string;
  try {
    real = await Deno.realPath(p);
  } catch {
    return httpError(404, "not found");
  }
  if (real !== base && !real.startsWith(base + sep)) return httpError(400, "bad path");
  let bytes: Uint8Array;
  try {
    const st = await Deno.stat(real);
    if (!st.isFile) return httpError(404, "not found");
    bytes = await Deno.readFile(real);
  } catch {
    return httpError(404, "not found");
  }
  const ext = real.slice(real.lastIndexOf("."));
  return respond(
    bytes as Uint8Array<ArrayBuffer>,
    200,
    contentType ?? TYPES[ext] ?? "application/octet-stream",
  );
}

/**
 * Appends one line to `path` durably: opened in append mode, written whole, fsynced before returning,
 * so an acknowledged line survives a crash or power loss.
 */
export async function appendLineDurable(path: string, line: string): Promise<void> {
  if (line.includes("\n")) throw new Error("appendLineDurable: the line must not contain a newline");
  const bytes = new TextEncoder().encode(line + "\n");
  await writeSynced(path, bytes, { append: true, create: true });
}

/**
 * Reads a JSON-lines file written by {@linkcode appendLineDurable}. A last line without its newline is an
 * append cut short by a crash (never acknowledged): it is ignored, and with `repair` cut off the file so
 * later appends start on a fresh line. Any other unparsable line is an error naming the file and line.
 */
export async function readJsonLines<T>(path: string, repair = false): Promise<T[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  if (text.length && !text.endsWith("\n")) {
    const keep = text.lastIndexOf("\n") + 1;
    if (repair) await Deno.truncate(path, new TextEncoder().encode(text.slice(0, keep)).length);
    text = text.slice(0, keep);
  }
  const out: T[] = [];
  text.split("\n").forEach((l, i) => {
    if (!l.trim()) return;
    try {
      out.push(JSON.parse(l));
    } catch {
      throw new Error(`${path} line ${i + 1}: not valid JSON; fix or remove that line`);
    }
  });
  return out;
}

/** A serialising lock: tasks run one after another in call order. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  /** Runs `fn` after every task queued before it. */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const p = this.tail.then(fn, fn);
    this.tail = p.catch(() => {});
    return p;
  }
}

/** True for loopback host names/addresses. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}

/** The URL to print for a server listening on `addr` (brackets IPv6, maps 0.0.0.0 to a reachable name). */
export function serverUrl(addr: Deno.NetAddr): string {
  const h = addr.hostname === "0.0.0.0"
    ? "localhost"
    : addr.hostname.includes(":")
    ? `[${addr.hostname}]`
    : addr.hostname;
  return `http://${h}:${addr.port}`;
}
