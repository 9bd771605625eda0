/**
 * The reader server's request guards (issue 14 items 3 and 4), on the shared router:
 * - a state-changing request from another site (foreign Origin, or a Host that is not this server: DNS
 *   rebinding) is refused with 403 before any handler runs; same-origin writes pass, and reads pass unless
 *   the Host is foreign (a rebound name must not read a page that carries the write token);
 * - a body over the limit is refused with 413 after reading at most the limit (a 200 MB stream is not
 *   read: before, `req.text()` read all of it and the server grew by ~400 MB before answering 400).
 */
import { crossSiteReason, readJson, router } from "../src/cli/_http.ts";
import { assert, assertEquals } from "./_assert.ts";

function app() {
  let writes = 0;
  const handle = router([
    { method: "GET", path: "/api/state", handler: () => new Response("{}") },
    {
      method: "POST",
      path: "/api/answer",
      handler: async (req) => {
        const body = await readJson(req, 64 * 1024);
        writes++;
        return new Response(JSON.stringify({ ok: body !== null }));
      },
    },
  ], { sameOrigin: { hosts: ["study.example.org"] } });
  return { handle, writes: () => writes };
}

const post = (host: string, origin: string | null, body: BodyInit = "{}") =>
  new Request(`http://${host}/api/answer`, {
    method: "POST",
    body,
    headers: { host, "content-type": "text/plain", ...(origin ? { origin } : {}) },
  });

Deno.test("router: cross-site writes are refused (403), same-origin writes and all reads pass", async () => {
  const { handle, writes } = app();
  assertEquals((await handle(post("127.0.0.1:8123", "http://evil.example"))).status, 403);
  assertEquals(
    (await handle(post("evil.example:8123", "http://evil.example:8123"))).status,
    403,
    "rebinding",
  );
  assertEquals((await handle(post("127.0.0.1:8123", "null"))).status, 403, "opaque origin");
  assertEquals(writes(), 0, "no handler ran for a refused request");
  assertEquals((await handle(post("127.0.0.1:8123", "http://127.0.0.1:8123"))).status, 200);
  assertEquals((await handle(post("localhost:8123", null))).status, 200, "no Origin (curl, the CLI)");
  assertEquals((await handle(post("study.example.org:443", "http://study.example.org:443"))).status, 200);
  assertEquals(writes(), 3);
  const read = (host: string) =>
    new Request(`http://${host}/api/state`, { headers: { host, origin: "http://evil.example" } });
  assertEquals((await handle(read("127.0.0.1:8123"))).status, 200, "reads are not state-changing");
  assertEquals((await handle(read("evil.example:8123"))).status, 403, "but a rebound name reads nothing");
  assert(crossSiteReason(post("[::1]:9", "http://[::1]:9")) === null, "IPv6 loopback");
});

Deno.test("readJson: an oversized streamed body is refused with 413 after reading at most the limit", async () => {
  const { handle, writes } = app();
  const chunk = new Uint8Array(1 << 20).fill(0x20); // 1 MiB of spaces
  let pulled = 0;
  const huge = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulled >= 200 * (1 << 20)) return c.close();
      pulled += chunk.length;
      c.enqueue(chunk);
    },
  });
  const r = await handle(post("127.0.0.1:8123", null, huge));
  assertEquals(r.status, 413);
  assert((await r.text()).includes("larger than 65536 bytes"));
  assert(pulled <= 2 * (1 << 20), `read ${pulled} bytes of a 200 MiB body`);
  assertEquals(writes(), 0);
  const declared = new Request("http://127.0.0.1:8123/api/answer", {
    method: "POST",
    body: "{}",
    headers: { host: "127.0.0.1:8123", "content-length": String(500 * 1024 * 1024) },
  });
  assertEquals((await handle(declared)).status, 413, "a declared Content-Length over the limit");
  const ok = await handle(post("127.0.0.1:8123", null, JSON.stringify({ a: 1 })));
  assertEquals(await ok.json(), { ok: true });
});

Deno.test("router: with a write token every state-changing request needs it, reads do not", async () => {
  const handle = router([
    { method: "GET", path: "/", handler: () => new Response("page") },
    { method: "POST", path: "/api/answer", handler: () => new Response("{}") },
  ], { writeToken: "ab12", sameOrigin: {} });
  const req = (method: string, token?: string) =>
    new Request("http://127.0.0.1:8123/" + (method === "POST" ? "api/answer" : ""), {
      method,
      body: method === "POST" ? "{}" : undefined,
      headers: { host: "127.0.0.1:8123", ...(token ? { "x-study-token": token } : {}) },
    });
  assertEquals((await handle(req("GET"))).status, 200);
  assertEquals((await handle(req("POST"))).status, 403, "no token");
  assertEquals((await handle(req("POST", "ab13"))).status, 403, "wrong token");
  assertEquals((await handle(req("POST", "ab12"))).status, 200);
});
