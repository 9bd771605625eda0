/**
 * The mutation fuzzer in CI (issue 14): a bounded run over DICOM, PNG, JPEG and label CSV mutations must
 * end every case in a decoded image/table or the documented error naming the file, with no hang (per-case
 * time limit), no other exception type and no process death. `deno task fuzz --count N --seed S` runs
 * longer; the README reports a long run. The supervisor itself is checked with injected faults.
 */
import { fuzz } from "../tools/fuzz.ts";
import { loadCorpus, makeCase } from "./_fuzz.ts";
import { assert, assertEquals } from "./_assert.ts";

Deno.test("fuzz: cases are a pure function of (seed, index) and cover every kind and mutation family", () => {
  const corpus = loadCorpus();
  const a = makeCase(corpus, 7, 123), b = makeCase(corpus, 7, 123), c = makeCase(corpus, 8, 123);
  assertEquals([a.seed, a.mutations, a.bytes], [b.seed, b.mutations, b.bytes]);
  assert(a.seed !== c.seed || a.mutations.join() !== c.mutations.join() || a.bytes.join() !== c.bytes.join());
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const k = makeCase(corpus, 1, i);
    for (const m of k.mutations) seen.add(`${k.kind}:${m.replace(/\(.*$/, "")}`);
  }
  for (
    const want of [
      "dicom:bitflip",
      "dicom:truncate",
      "dicom:length",
      "dicom:transferSyntax",
      "dicom:dims",
      "dicom:emptyPixelData",
      "dicom:fragmentLength",
      "png:ihdrDims",
      "png:emptyIdat",
      "jpeg:sofDims",
      "jpeg:emptyScan",
      "csv:invalidUtf8",
      "csv:duplicateColumn",
    ]
  ) assert(seen.has(want) || [...seen].some((s) => s.startsWith(want)), `no ${want} in 2000 cases`);
});

Deno.test("fuzz: the supervisor reports hangs, process deaths and undocumented exceptions", async () => {
  Deno.env.set("MEDSYNTH_FUZZ_SELFTEST", "hang:2,die:4,throw:6");
  try {
    const s = await fuzz(1, 9, 3000);
    assertEquals(s.hangs.map((h) => h.index), [2]);
    assertEquals(s.deaths.map((d) => d.index), [4]);
    assertEquals(s.undocumented.map((u) => u.index), [6]);
    assertEquals(s.cases, 9, "the run continues after each failure");
  } finally {
    Deno.env.delete("MEDSYNTH_FUZZ_SELFTEST");
  }
});

Deno.test("fuzz: 16000 mutated files end decoded or in the documented error naming the file", async () => {
  const s = await fuzz(20261204, 16000, 15_000);
  const detail = JSON.stringify({ hangs: s.hangs, undocumented: s.undocumented, deaths: s.deaths }, null, 1);
  assertEquals(s.cases, 16000);
  assertEquals(s.hangs.length + s.undocumented.length + s.deaths.length, 0, detail);
  for (const kind of ["dicom", "png", "jpeg", "csv"]) {
    const k = s.byKind[kind];
    assert(k && k.decoded > 0 && k.errors > 0, `${kind}: ${JSON.stringify(k)}`);
  }
});
