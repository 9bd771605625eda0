/**
 * Hostile image folders (issue 14 item 5), each failing on the code before the fix:
 * - a PNG whose header says height 0 is an error naming the file (it decoded "successfully" before, and
 *   the cache step later failed in resizeImage naming no file);
 * - a CSV row whose image path leaves the dataset folder (`../../../../etc/passwd`) is an error naming the
 *   CSV line (the loader opened /etc/passwd before);
 * - `deno task data stats DIR --check` exits non-zero when an image is missing or bad (it exited 0).
 */
import { join } from "node:path";
import { decodePng, encodePng } from "../src/data/png.ts";
import { loadDataset } from "../src/cli/_fs_dataset.ts";
import { writePhantomFolder } from "./_phantom_folder.ts";
import { assert, assertEquals } from "./_assert.ts";

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A valid 2x2 PNG with the IHDR height set to `h` and its CRC fixed (so only the value is wrong). */
function pngWithHeight(h: number): Uint8Array {
  const png = encodePng(new Float32Array(4).fill(0.5), 1, 2, 2).slice();
  const dv = new DataView(png.buffer);
  dv.setUint32(8 + 8 + 4, h); // signature, IHDR length + type, width: height follows
  dv.setUint32(8 + 8 + 13, crc32(png.subarray(12, 12 + 4 + 13)));
  return png;
}

Deno.test("PNG: a header with height 0 is an error naming the file", () => {
  assertEquals(
    decodePng(pngWithHeight(2), { name: "ok.png" }).height,
    2,
    "the CRC fix-up keeps a valid file",
  );
  let err: unknown = null;
  try {
    decodePng(pngWithHeight(0), { name: "scan_07.png" });
  } catch (e) {
    err = e;
  }
  assert(err instanceof Error && /scan_07\.png.*2x0 pixels/.test(err.message), String(err));
});

Deno.test("label CSV: an image path outside the dataset folder is an error naming the line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "medsynth_traversal_" });
  try {
    await writePhantomFolder(dir, 6, 8);
    const csv = join(dir, "labels.csv");
    const lines = (await Deno.readTextFile(csv)).trimEnd().split("\n");
    lines[2] = lines[2].replace(/^[^,]*/, "../../../../../../etc/passwd");
    await Deno.writeTextFile(csv, lines.join("\n") + "\n");
    let err: unknown = null;
    try {
      await loadDataset(dir, { size: 8, cache: false });
    } catch (e) {
      err = e;
    }
    assert(err instanceof Error, "must fail");
    const msg = (err as Error).message;
    assert(msg.includes("line 3") && msg.includes("outside the dataset folder"), msg);
    // with --skip-bad the row is listed, never read
    const r = await loadDataset(dir, { size: 8, cache: false, skipBad: true });
    assertEquals(r.skipped.map((s) => [s.line, /outside/.test(s.reason)]), [[3, true]]);
    assertEquals(r.dataset.n, 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data stats --check exits 1 when an image is missing or bad, 0 when all decode", async () => {
  const dir = await Deno.makeTempDir({ prefix: "medsynth_check_" });
  const run = async () => {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../src/cli/data.ts", import.meta.url).pathname, "stats", dir, "--check"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: r.code, text: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr) };
  };
  try {
    await writePhantomFolder(dir, 6, 8);
    assertEquals((await run()).code, 0, "a clean folder passes");
    await Deno.writeFile(join(dir, "images", "slice_0001.png"), pngWithHeight(0));
    await Deno.remove(join(dir, "images", "slice_0004.png"));
    const bad = await run();
    assertEquals(bad.code, 1, bad.text);
    assert(bad.text.includes("slice_0001.png") && bad.text.includes("slice_0004.png"), bad.text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
