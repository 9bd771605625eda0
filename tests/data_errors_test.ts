/**
 * Bad-input paths of the data layer not covered by the format tests (labels_test, png_test,
 * dicom_test, chestxray14_test, dicom_dataset_test): each error names the file/row and what to do.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { findLabelCsv, loadDataset } from "../src/cli/_fs_dataset.ts";
import { encodePng } from "../src/data/png.ts";
import { makeSubset } from "../src/data/subset.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const tmp = await Deno.makeTempDir({ prefix: "medsynth_dataerr_" });

async function folder(name: string, files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = join(tmp, name);
  await Deno.mkdir(dir, { recursive: true });
  for (const [n, v] of Object.entries(files)) {
    if (typeof v === "string") await Deno.writeTextFile(join(dir, n), v);
    else await Deno.writeFile(join(dir, n), v);
  }
  return dir;
}

const grey = (h: number, w: number) => encodePng(new Float32Array(h * w).fill(0.25), 1, h, w);

Deno.test("label CSV lookup: missing path, folder without a CSV, several CSVs", async () => {
  await assertRejects(() => findLabelCsv(join(tmp, "nope")), Error, /nope: no such file or folder/);
  const none = await folder("none", { "a.png": grey(4, 4) });
  await assertRejects(
    () => findLabelCsv(none),
    Error,
    /none: no label CSV in this folder \(looked for .*labels\.csv/,
  );
  const two = await folder("two", { "b.csv": "path,x\n", "a.csv": "path,x\n" });
  await assertRejects(
    () => findLabelCsv(two),
    Error,
    /two: several CSVs \(a\.csv, b\.csv\); name the label CSV instead of the folder/,
  );
});

Deno.test("loading: images of another size, an unknown file type; skipped with --skip-bad", async () => {
  const dir = await folder("sizes", {
    "labels.csv": "path,cat\na.png,1\nb.png,0\nc.png,1\n",
    "a.png": grey(8, 8),
    "b.png": grey(6, 8),
    "c.png": "this is text, not an image",
  });
  await assertRejects(
    () => loadDataset(dir, { cache: false }),
    Error,
    /labels\.csv line 3: image "b\.png": .*b\.png is 6x8, the first image was 8x8; pass a size/,
  );
  const res = await loadDataset(dir, { cache: false, skipBad: true });
  assertEquals(res.dataset.n, 1);
  assertEquals(res.skipped.map((s) => [s.line, s.source]), [[3, "b.png"], [4, "c.png"]]);
  assert(
    /c\.png: not a PNG, JPEG or DICOM file .*re-export it/.test(res.skipped[1].reason),
    res.skipped[1].reason,
  );
  // with a size the odd one loads
  const sized = await loadDataset(dir, { cache: false, skipBad: true, size: 4 });
  assertEquals([sized.dataset.n, sized.skipped.length], [2, 1]);
});

Deno.test("RSNA patient map: a duplicate image row names the map file and line", async () => {
  const rows = ["epidural", "intraparenchymal", "intraventricular", "subarachnoid", "subdural", "any"]
    .map((s) => `ID_aa_${s},0`);
  const dir = await folder("pmap", {
    "labels.csv": ["ID,Label", ...rows].join("\n") + "\n",
    "patients.csv": "ID,PatientID\nID_aa,P1\nID_aa,P2\n",
  });
  await assertRejects(
    () => loadDataset(dir, { cache: false }),
    Error,
    /patients\.csv line 3: duplicate image "aa" \(first on line 2\)/,
  );
});

Deno.test("subset: a split left empty by the combination filter is an error naming the split", () => {
  const d = { labels: new Uint8Array([1, 1, 1, 0]), labelNames: ["a"], n: 4 };
  assertThrows(
    () => makeSubset(d, { train: [0, 1], valid: [2], test: [3] }, { topK: 1 }),
    Error,
    /subset: split "test" is empty after filtering combinations/,
  );
});

Deno.test("CLIs: bad options exit non-zero with the reason, never a stack trace", async () => {
  const run = async (cli: string, ...args: string[]) => {
    const o = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", cli, ...args], cwd: ROOT })
      .output();
    return { code: o.code, err: new TextDecoder().decode(o.stderr) };
  };
  const w = await run("src/cli/data.ts", "stats", tmp, "--windows", "40:80");
  assertEquals(w.code, 1);
  assert(/^error: --windows must be one of .*CENTER\/WIDTH in HU .*got "40:80"/.test(w.err), w.err);
  const u = await run("src/cli/dicom.ts", "--frobnicate");
  assertEquals(u.code, 2);
  assert(/^error: Unknown option '--frobnicate'.*\nusage: deno task dicom/s.test(u.err), u.err);
  assert(!/\n\s+at /.test(u.err), "no stack trace");
  const f = await run("src/cli/dicom.ts", tmp);
  assertEquals(f.code, 2);
  assert(/a folder with no \*\.dcm files/.test(f.err), f.err);
});

Deno.test({
  name: "data errors: clean up",
  async fn() {
    await Deno.remove(tmp, { recursive: true });
  },
});
